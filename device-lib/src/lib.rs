//! The RingKernel device library.
//!
//! It owns the protocol between host and device: the CUDA headers in
//! `cuda/` (envelope, host↔device rings, control block, HLC, K2K inboxes) and
//! the `#[repr(C)]` Rust mirrors of every struct they share, pinned to each
//! other by `static_assert`s on the CUDA side and const assertions here. It
//! also defines the DSL surface a handler is written against
//! (`ThreadContext`, `RingContext`): real Rust signatures so rustc type-checks
//! handler bodies, lowered by the transpiler to the headers' functions.
