//! The CUDA toolchain as RingKernel uses it, with no CUDA installation needed.
//!
//! This crate owns three things and nothing else:
//!
//! * [`locate`]: finding NVRTC, the CUDA headers and ptxas. On developer and
//!   CI machines they come from the CUDA 13.0 PyPI wheels that `cargo xtask
//!   setup` installs into `.tools/`; elsewhere from `RINGKERNEL_CUDA_ROOT` or
//!   the system loader path.
//! * [`nvrtc`]: compiling CUDA C to PTX (for `compute_XX`) or to a cubin (for
//!   `sm_XX`) through cudarc's dynamically loaded NVRTC.
//! * [`ptxas`]: assembling PTX with `ptxas -v` and parsing its resource report
//!   (registers, spills, shared memory, stack), so CI can check that every
//!   generated kernel assembles for sm_90 without spills.
//!
//! It sits below the runtime and the build helper and knows nothing of the
//! transpiler: its input is CUDA text, its output bytes and reports.
//!
//! Tests that need NVRTC call [`require_nvrtc`]: with
//! `RINGKERNEL_REQUIRE_NVRTC=1` (as CI sets it) a missing toolchain fails the
//! test; otherwise the test is skipped with a message that says how to install.

pub mod locate;
pub mod nvrtc;
pub mod ptxas;

pub use locate::{CudaTools, LocateError};
pub use nvrtc::{
    compile, supported_by, Arch, CompileError, CompileOptions, Compiled, Target, SPEED_OPTIONS,
};
pub use ptxas::{assemble, KernelResources, PtxasError, ResourceReport};

/// The environment variable that turns a missing NVRTC from a skip into a
/// test failure. CI sets it.
pub const REQUIRE_NVRTC_ENV: &str = "RINGKERNEL_REQUIRE_NVRTC";

/// Locates the toolchain for a test, or decides the test must be skipped.
///
/// Returns `None` (after printing why and how to install) when NVRTC is
/// missing and `RINGKERNEL_REQUIRE_NVRTC` is not set; panics when it is set.
pub fn require_nvrtc(test: &str) -> Option<CudaTools> {
    match CudaTools::locate() {
        Ok(tools) => Some(tools),
        Err(error) => {
            let required =
                std::env::var(REQUIRE_NVRTC_ENV).is_ok_and(|v| v != "0" && !v.is_empty());
            let message = format!(
                "{test}: CUDA toolchain not available: {error}\n  \
                 install it with `cargo xtask setup` (pinned CUDA 13.0 wheels into .tools/) \
                 or point RINGKERNEL_CUDA_ROOT at a CUDA 13.0 installation"
            );
            if required {
                panic!(
                    "{message}\n  ({REQUIRE_NVRTC_ENV} is set, so this is a failure, not a skip)"
                );
            }
            eprintln!("SKIPPED {message}");
            None
        }
    }
}
