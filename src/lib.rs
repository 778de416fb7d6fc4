//! RingKernel: persistent GPU actors written in Rust.
//!
//! A handler annotated with `#[ring_kernel]` is lowered by the transpiler
//! into a persistent CUDA kernel that stays resident on the GPU, takes
//! messages from the host or other actors, keeps its state in device memory
//! and answers with timestamped envelopes. The same handler runs on a CPU
//! backend where no GPU is present.
//!
//! This crate is the facade: it re-exports the pieces a user needs, so a
//! program depends on `ringkernel` alone. See `ARCHITECTURE.md` for the map
//! of the workspace.
//!
//! ```
//! use ringkernel::prelude::*;
//!
//! #[gpu_kernel(block_size = 256)]
//! pub fn saxpy(ctx: &ThreadContext, a: f32, x: &[f32], y: &mut [f32]) {
//!     let i = ctx.global_id() as usize;
//!     if i >= y.len() {
//!         return;
//!     }
//!     y[i] = a * x[i] + y[i];
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let rt = Runtime::cpu();
//! let x = rt.upload(&[1.0f32, 2.0, 3.0])?;
//! let mut y = rt.upload(&[10.0f32, 20.0, 30.0])?;
//! saxpy::launch(&rt, Grid::for_elements(3), 2.0, &x, &mut y)?;
//! assert_eq!(y.to_vec()?, [12.0, 24.0, 36.0]);
//! assert!(saxpy::cuda_source().contains("__global__"));
//! # Ok(())
//! # }
//! ```

// The macros' expansions name `::ringkernel::__private`; this makes those
// paths work inside this crate too (its unit tests and doc tests).
extern crate self as ringkernel;

pub use ringkernel_device as device;
pub use ringkernel_macros as macros;
pub use ringkernel_runtime as runtime;
pub use ringkernel_transpiler as transpiler;

pub mod prelude;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// Kernels compiled at `cargo build` time (by `ringkernel-build` in the
/// crate's `build.rs`) and how the runtime uses them without NVRTC.
pub use ringkernel_runtime::embedded;

/// The kernels this crate's build script compiled with `ringkernel-build`,
/// embedded in the program: an expression of type
/// `&'static ringkernel::embedded::EmbeddedKernels` (CUDA, PTX and cubins
/// included from `OUT_DIR`), for [`Runtime::use_embedded`].
///
/// ```ignore
/// static KERNELS: &ringkernel::embedded::EmbeddedKernels = ringkernel::include_kernels!();
/// rt.use_embedded(KERNELS, EmbeddedPolicy::Only);
/// ```
///
/// [`Runtime::use_embedded`]: ringkernel_runtime::Runtime::use_embedded
#[macro_export]
macro_rules! include_kernels {
    () => {
        ::core::include!(::core::concat!(
            ::core::env!("OUT_DIR"),
            "/ringkernel/kernels.rs"
        ))
    };
}
