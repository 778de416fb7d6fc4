//! The RingKernel runtime: runs kernels and actors on a GPU through cudarc,
//! or on the CPU through the transpiler's IR interpreter.
//!
//! It owns load-time compilation (NVRTC with a disk cache, via
//! `ringkernel-toolchain`), persistent launches, the host halves of the
//! rings in mapped pinned memory, typed actor handles and supervision. It
//! builds launches from the back end's metadata and never parses CUDA.
pub mod actor;
