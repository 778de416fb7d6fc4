//! RingKernel's proc macros: token plumbing and nothing more.
//!
//! `#[ring_kernel]`, `#[gpu_kernel]`, `#[device_fn]` and the `GpuType` /
//! `RingMessage` derives parse their input with syn, hand it to the
//! transpiler's front end (which owns validation, the IR and code generation,
//! so it is unit-testable without a compiler in the loop) and turn its
//! results or its spanned errors back into tokens. This crate never decides
//! what a Rust construct means.
