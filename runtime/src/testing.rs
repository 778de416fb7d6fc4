//! Helpers for tests that need a GPU.
//!
//! GPU tests are `#[ignore]`d (CI has no GPU) and run on a GPU machine with
//! `--include-ignored`. There, `RINGKERNEL_REQUIRE_GPU=1` turns a missing
//! device into a failure, so a broken driver cannot pass as a skipped test.

use std::time::Duration;

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

/// The variable that scales [`patience`].
pub const TEST_PATIENCE_ENV: &str = "RINGKERNEL_TEST_PATIENCE";

/// `secs` seconds of waiting, times `RINGKERNEL_TEST_PATIENCE` (a whole
/// number; 1 when unset or unreadable): a test's deadlines for what must
/// happen (a receipt, a stop, a whole stream) are generous for a normal
/// run, and `tools/gpu-racecheck.sh` raises them under the sanitizer, which
/// slows kernels 10-100x (a block fan-in's stop missed its 10 s there, and
/// a 200 000-message stream its 60 s, both with 0 hazards).
pub fn patience(secs: u64) -> Duration {
    let scale = std::env::var(TEST_PATIENCE_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1);
    Duration::from_secs(secs * scale)
}
