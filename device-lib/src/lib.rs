//! The RingKernel device library.
//!
//! It owns the protocol between host and device: the CUDA headers in
//! `cuda/` (envelope, host↔device rings, control block, HLC, K2K inboxes) and
//! the `#[repr(C)]` Rust mirrors of every struct they share, pinned to each
//! other by `static_assert`s on the CUDA side and const assertions here. It
//! also defines the DSL surface a handler is written against
//! (`ThreadContext`, `RingContext`): real Rust signatures so rustc type-checks
//! handler bodies, lowered by the transpiler to the headers' functions.
//!
//! Why one crate for both sides: a protocol whose two halves live apart
//! drifts. Here every shared struct has one CUDA definition and one Rust
//! mirror next to each other, `tests/layout.rs` compiles the CUDA side with
//! NVRTC against offsets generated from the Rust side, and the host half of
//! the ring ([`ring::Producer`], [`ring::Consumer`]) is model-checked with
//! loom (`tests/loom_ring.rs`) using the same orderings as the device half.
//!
//! | module | header | what |
//! |---|---|---|
//! | [`headers`] | all | the header texts, for NVRTC |
//! | [`envelope`] | `rk_envelope.cuh` | the 64-byte envelope header |
//! | [`ring`] | `rk_ring.cuh` | host↔device SPSC rings; the host's half |
//! | [`control`] | `rk_control.cuh` | per-actor control block |
//! | [`hlc`] | `rk_hlc.cuh` | hybrid logical clock rules |
//! | [`k2k`] | `rk_k2k.cuh`, `rk_k2k_ll.cuh` | K2K multi-producer inboxes, and their host protocol (the CPU backend's K2K); the low-latency (LL, flagged-word) inboxes' layout ([`k2k::K2kLlLayout`]) |
//! | [`layout`] | (generated) | host layouts of user types (`GpuType`, `RingMessage`) |
//!
//! `rk_sync.cuh` (inline-PTX acquire/release, `%globaltimer`, `nanosleep`)
//! and `rk_types.cuh` have no shared structs and so no mirror.

#[cfg(not(target_endian = "little"))]
compile_error!("the device protocol is little-endian, like every CUDA host");

pub mod context;
pub mod control;
pub mod envelope;
pub mod headers;
pub mod hlc;
pub mod k2k;
pub mod layout;
pub mod ring;
