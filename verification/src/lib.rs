//! Formal models of RingKernel's protocols.
//!
//! `specs/` holds TLA+ specifications of the host↔device ring, the K2K
//! multi-producer inbox, the HLC and the actor lifecycle under supervision;
//! the tests of this crate model-check them with TLC (installed by
//! `cargo xtask setup`), each together with a planted-bug variant that TLC
//! must reject, and check that the code names each spec cites still exist.
//! See `README.md` for the specs, how to run TLC by hand, and measurements.

pub mod models;
pub mod tlc;
