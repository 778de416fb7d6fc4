//! The reference side of the differential semantics test
//! (`runtime/tests/semantics.rs`): the plain Rust functions of
//! `runtime/tests/semantics/fns.rs`, compiled by rustc.
//!
//! They live in a crate of their own so that the workspace can build just
//! them without overflow checks in every profile (see the root
//! `Cargo.toml`): the transpiled kernels are compared with rustc's release
//! semantics, where `+` wraps, while the runtime itself keeps its overflow
//! checks in debug builds.

#![allow(clippy::all, unused_parens, unused_comparisons)]

include!("../../tests/semantics/fns.rs");

/// Whether this crate was built with overflow checks (it must not be).
pub fn overflow_checks_on() -> bool {
    std::panic::catch_unwind(|| std::hint::black_box(i32::MAX) + 1).is_err()
}
