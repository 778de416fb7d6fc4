//! Statements: effects and control flow.

use crate::arena::Handle;
use crate::span::Span;

use super::{Expression, Function, Local};

/// A sequence of statements, each with its span.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Block {
    pub statements: Vec<Statement>,
    pub spans: Vec<Span>,
}

impl Block {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, statement: Statement, span: Span) {
        self.statements.push(statement);
        self.spans.push(span);
    }

    pub fn len(&self) -> usize {
        self.statements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Statement, Span)> {
        self.statements.iter().zip(self.spans.iter().copied())
    }
}

/// Identifies a loop for `break`/`continue` (labelled or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LoopId(pub u32);

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// Writes `value` to `place`. The first store to a local is its
    /// initialisation (`let`).
    Store {
        place: Handle<Expression>,
        value: Handle<Expression>,
    },
    If {
        condition: Handle<Expression>,
        accept: Block,
        reject: Block,
    },
    /// Repeats `body` until a `Break` of this loop (or a `Return`).
    Loop {
        id: LoopId,
        body: Block,
    },
    Break(LoopId),
    /// Jumps to the next iteration of the loop.
    Continue(LoopId),
    Return(Option<Handle<Expression>>),
    /// A call of a device function; its result, if any, goes to `result`.
    Call {
        function: Handle<Function>,
        arguments: Vec<Handle<Expression>>,
        result: Option<Handle<Local>>,
    },
    /// An intrinsic with effects.
    Intrinsic {
        op: IntrinsicOp,
        arguments: Vec<Handle<Expression>>,
        result: Option<Handle<Local>>,
    },
    /// Faults (a Rust panic, recorded as a soft fault with this statement's
    /// span) unless `condition` is true.
    Check {
        kind: CheckKind,
        condition: Handle<Expression>,
    },
    /// An unconditional fault: `panic!`, `unreachable!`, a failed `assert!`.
    Fault(CheckKind),
    Block(Block),
}

/// Why a check exists; the fault record carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckKind {
    IndexOutOfBounds,
    DivisionByZero,
    /// Arithmetic overflow (with overflow checks on), `MIN / -1`, shift
    /// amount too large.
    Overflow,
    /// `clamp` with `min > max` or NaN bounds, `step_by(0)`, … : a precondition
    /// of a library function.
    InvalidArgument,
    /// `panic!`, `assert!`, `unreachable!` in user code.
    Explicit,
    /// `ctx.send`/`ctx.try_send` on a port the host wired to no actor
    /// (never a `Check` statement: the send itself faults).
    Unrouted,
    /// `ctx.send`/`ctx.try_send` to an actor that has terminated (its K2K
    /// inbox is closed; never a `Check` statement: the send itself faults).
    Undeliverable,
}

/// Intrinsics that are statements: they synchronise, write memory, or read
/// values other threads produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntrinsicOp {
    SyncThreads,
    SyncWarp,
    ThreadFence,
    ThreadFenceBlock,
    ThreadFenceSystem,
    /// `args[0]` is the place, `args[1]` the operand (and `args[2]` the new
    /// value for `Cas`, whose `args[1]` is the expected value). The result is
    /// the old value.
    Atomic(AtomicOp),
    /// `args`: value, lane (or delta / mask); result: the value read.
    WarpShuffle(ShuffleMode),
    /// `args`: predicate; result: `u32` mask.
    WarpBallot,
    WarpAll,
    WarpAny,
    /// `args`: value; result: the reduction over the warp, in every lane.
    WarpReduce(ReduceOp),
    /// `args`: value; result: the reduction over the block, in every thread.
    /// Every thread of the block must reach it (it contains barriers).
    BlockReduce(ReduceOp),
    /// `%globaltimer` in nanoseconds.
    ClockNs,
    /// `ctx.send(port, &msg)`: `args[0]` is the message (a struct value).
    /// Only the leader thread (thread 0) sends; the other threads' calls do
    /// nothing, as only the leader's return value is the reply. Faults when
    /// the host wired the port to no actor, or the destination has
    /// terminated; waits (backpressure) while the destination's inbox is full.
    Send {
        port: u32,
    },
    /// `ctx.try_send(port, &msg)`: `args[0]` is the message (a struct
    /// value); the result is a `bool`. A block-wide call, like
    /// `BlockReduce`: every thread of the block must reach it. The leader
    /// makes one attempt to reserve a slot of the destination's inbox: on
    /// success it writes and commits the message, and every thread gets
    /// `true`; when the inbox is full nothing is written and every thread
    /// gets `false`. Faults like `Send` (unwired port, terminated
    /// destination: the leader faults, the other threads get `false`).
    TrySend {
        port: u32,
    },
}

impl IntrinsicOp {
    /// The output port of a `Send` or `TrySend`.
    pub fn send_port(self) -> Option<u32> {
        match self {
            IntrinsicOp::Send { port } | IntrinsicOp::TrySend { port } => Some(port),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    Add,
    Sub,
    Min,
    Max,
    And,
    Or,
    Xor,
    Exchange,
    CompareExchange,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShuffleMode {
    /// From an absolute lane.
    Index,
    Up,
    Down,
    Xor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    /// Wrapping for integers; for floats the order of a tree reduction,
    /// which the interpreter reproduces.
    Sum,
    Min,
    Max,
}
