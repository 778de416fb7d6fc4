//! The RingKernel transpiler: from a Rust subset to CUDA C.
//!
//! Pipeline (each stage its own module, see `ARCHITECTURE.md`):
//! Rust items (syn) → front-end AST with spans → typed IR (arenas and
//! handles) → passes (validation, constant folding, dead-code elimination,
//! check insertion) → CUDA C through one `fmt::Write` back end. The same IR
//! feeds the interpreter that powers the CPU backend.
//!
//! [`source::KernelSource`] is what the proc macros hand to every consumer,
//! and [`expand`] is what they expand to.
//!
//! The crate knows nothing of CUDA drivers or NVRTC: its output is text and
//! metadata, so it is tested without a GPU and shared by the proc macros,
//! the build helper, the CLI and the runtime.

pub mod arena;
pub mod back;
pub mod expand;
pub mod front;
pub mod interp;
pub mod ir;
pub mod passes;
pub mod pipeline;
pub mod source;
pub mod span;
pub mod valid;
