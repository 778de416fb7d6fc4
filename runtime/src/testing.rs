//! Helpers for tests that need a GPU.
//!
//! GPU tests are `#[ignore]`d (CI has no GPU) and run on a GPU machine with
//! `--include-ignored`. There, `RINGKERNEL_REQUIRE_GPU=1` turns a missing
//! device into a failure, so a broken driver cannot pass as a skipped test.

use crate::runtime::Runtime;

/// The variable that makes [`gpu_runtime`] panic instead of skipping.
pub const REQUIRE_GPU_ENV: &str = "RINGKERNEL_REQUIRE_GPU";

/// A runtime on CUDA device 0, or `None` (after printing why) when there is
/// no usable device and `RINGKERNEL_REQUIRE_GPU` is not set.
///
/// # Panics
/// When no device is usable and `RINGKERNEL_REQUIRE_GPU` is set (not `0`).
pub fn gpu_runtime(test: &str) -> Option<Runtime> {
    match Runtime::cuda(0) {
        Ok(rt) => {
            eprintln!("{test}: running on {}", rt.backend());
            Some(rt)
        }
        Err(error) => {
            let required = std::env::var(REQUIRE_GPU_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
            if required {
                panic!("{test}: no usable CUDA device ({error}), and {REQUIRE_GPU_ENV} is set");
            }
            eprintln!("SKIPPED {test}: no usable CUDA device: {error}");
            None
        }
    }
}
