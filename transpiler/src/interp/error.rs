//! What a run reports: soft faults (the user's Rust panicked, as it would on
//! the device) and typed errors (the program is wrong in a way the GPU would
//! hide, or the IR/arguments cannot be run).
//!
//! Every location is a Rust source position ([`Location`]) built from the IR
//! spans and [`crate::ir::Module::source_file`], and every thread is named
//! by its block and thread coordinates, so a report reads like a panic
//! message plus the SIMT context the panic happened in.

use std::fmt;

use crate::ir::{CheckKind, Scalar};
use crate::span::Span;

/// A position in the user's Rust source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: Option<String>,
    /// 1-based; 0 when the IR node had no span.
    pub line: u32,
    /// 1-based (the IR's 0-based column plus one), as rustc prints it.
    pub column: u32,
}

impl Location {
    pub(crate) fn new(file: Option<&str>, span: Span) -> Location {
        Location {
            file: file.map(str::to_owned),
            line: span.start.line,
            column: if span.is_known() {
                span.start.column + 1
            } else {
                0
            },
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.as_deref().unwrap_or("<unknown>");
        write!(f, "{file}:{}:{}", self.line, self.column)
    }
}

/// A thread of a launch: block and thread coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadRef {
    pub block: [u32; 3],
    pub thread: [u32; 3],
}

impl fmt::Display for ThreadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [bx, by, bz] = self.block;
        let [tx, ty, tz] = self.thread;
        write!(f, "block ({bx},{by},{bz}) thread ({tx},{ty},{tz})")
    }
}

/// A soft fault: a failed check or an explicit panic in one thread. The
/// thread stops; the others run on, as on the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: CheckKind,
    pub location: Location,
    pub thread: ThreadRef,
}

/// Where a thread stood when a barrier could not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BarrierParty {
    /// Waiting at a barrier (`sync_threads`, `block_reduce_*`) or warp
    /// collective at this location.
    Waiting(Location),
    /// Returned from the kernel at this location.
    Finished(Location),
}

impl fmt::Display for BarrierParty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BarrierParty::Waiting(l) => write!(f, "waits at {l}"),
            BarrierParty::Finished(l) => write!(f, "returned at {l}"),
        }
    }
}

/// Which memory a data race is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RaceSpace {
    /// A block-shared array (by its Rust name, when it has one).
    Shared { array: Option<String> },
    /// The memory behind a `&mut T` parameter (actor state), by parameter
    /// position and name.
    Param { index: usize, name: Option<String> },
}

impl fmt::Display for RaceSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RaceSpace::Shared { array } => {
                write!(f, "shared array `{}`", array.as_deref().unwrap_or("_"))
            }
            RaceSpace::Param { index, name } => {
                write!(f, "parameter {index} `{}`", name.as_deref().unwrap_or("_"))
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKind {
    Read,
    Write,
}

/// One side of a data race.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub kind: AccessKind,
    pub thread: [u32; 3],
    pub location: Location,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [x, y, z] = self.thread;
        let what = match self.kind {
            AccessKind::Read => "read",
            AccessKind::Write => "write",
        };
        write!(f, "{what} by thread ({x},{y},{z}) at {}", self.location)
    }
}

/// Why a run could not complete (as opposed to a [`Fault`], which is a
/// result).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InterpError {
    #[error("no kernel entry point or function named `{0}`")]
    UnknownEntry(String),
    #[error("invalid launch: {reason}")]
    InvalidLaunch { reason: &'static str },
    #[error("`{function}` takes {expected} arguments, {found} given")]
    ArgumentCount {
        function: String,
        expected: usize,
        found: usize,
    },
    #[error("argument {index} of `{function}`: expected {expected}, found {found}")]
    ArgumentMismatch {
        function: String,
        index: usize,
        expected: String,
        found: String,
    },
    /// The IR uses something the interpreter cannot run (malformed or
    /// ill-typed IR; the validator rejects it before it gets here).
    #[error("unsupported IR in `{function}` at {location}: {what}")]
    Unsupported {
        function: String,
        location: Location,
        what: String,
    },
    #[error(transparent)]
    DivergentBarrier(Box<DivergentBarrier>),
    #[error(transparent)]
    DivergentWarp(Box<DivergentWarp>),
    #[error(transparent)]
    DataRace(Box<DataRace>),
    /// An index or division the IR did not guard with a check (the check
    /// pass always inserts one; hand-built IR may not).
    #[error("{thread}: unchecked {what} at {location}")]
    Unchecked {
        thread: ThreadRef,
        location: Location,
        what: UncheckedOp,
    },
    #[error("{thread}: call depth exceeds {limit} at {location}")]
    StackOverflow {
        thread: ThreadRef,
        location: Location,
        limit: usize,
    },
}

/// A barrier (`sync_threads`, `block_reduce_*`) that not every thread of
/// the block reaches: one waits at it while another returned or waits at a
/// different one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "divergent barrier in block {block:?}: thread {first_thread:?} {first}, \
     but thread {second_thread:?} {second}"
)]
pub struct DivergentBarrier {
    pub block: [u32; 3],
    pub first_thread: [u32; 3],
    pub first: BarrierParty,
    pub second_thread: [u32; 3],
    pub second: BarrierParty,
}

/// Lanes of one warp at different warp collectives (or one at a warp
/// collective while another waits at a block barrier).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "divergent warp collective in block {block:?} warp {warp}: lane {first_lane} {first}, \
     but lane {second_lane} {second}"
)]
pub struct DivergentWarp {
    pub block: [u32; 3],
    pub warp: u32,
    pub first_lane: u32,
    pub first: BarrierParty,
    pub second_lane: u32,
    pub second: BarrierParty,
}

/// Two threads of a block accessed the same byte, at least one writing, with
/// no barrier between them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "data race on {space} (byte {offset}) in block {block:?}: {first}, then {second}, \
     with no barrier between them"
)]
pub struct DataRace {
    pub block: [u32; 3],
    pub space: RaceSpace,
    /// Byte offset within the shared array or parameter.
    pub offset: u64,
    pub first: Access,
    pub second: Access,
}

/// The unguarded operation behind [`InterpError::Unchecked`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UncheckedOp {
    IndexOutOfBounds {
        index: u64,
        len: u64,
    },
    DivisionByZero,
    /// Memory beyond a buffer's end (a buffer shorter than its type).
    BufferOverrun,
}

impl fmt::Display for UncheckedOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UncheckedOp::IndexOutOfBounds { index, len } => {
                write!(
                    f,
                    "index out of bounds: the len is {len} but the index is {index}"
                )
            }
            UncheckedOp::DivisionByZero => write!(f, "division by zero"),
            UncheckedOp::BufferOverrun => write!(f, "access past the end of a buffer"),
        }
    }
}

/// A fault-free description of a scalar type for argument errors.
pub(crate) fn scalar_name(s: Scalar) -> String {
    s.rust_name().to_owned()
}
