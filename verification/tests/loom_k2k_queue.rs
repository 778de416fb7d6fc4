//! Model check of the CPU backend's K2K queue with loom
//! (`runtime/src/actor/k2k_queue.rs`, the lock-free inbox with the
//! device's reserve/commit/consume/free and close; the models are in
//! `runtime/src/actor/k2k_queue/loom_models.rs`).
//!
//! The queue needs nothing but std (and loom under `--cfg loom`), so this
//! crate includes its source by path: the runtime's own test build cannot
//! take `--cfg loom` (tokio, one of its dev-dependencies, does not build
//! with it), while this crate's graph is loom alone.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p ringkernel-verification
//! --test loom_k2k_queue --release` (what `cargo xtask test` does, in
//! target/loom).
#![cfg(loom)]

// Only the parts the models use are used here.
#[allow(dead_code)]
#[path = "../../runtime/src/actor/k2k_queue.rs"]
mod k2k_queue;
