//! Back ends: one folder per target, each a `fmt::Write` writer over validated IR.

pub mod cuda;
