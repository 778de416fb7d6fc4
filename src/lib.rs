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

pub use ringkernel_device as device;
pub use ringkernel_macros as macros;
pub use ringkernel_runtime as runtime;
pub use ringkernel_transpiler as transpiler;
