//! The typed intermediate representation.
//!
//! A [`Module`] holds interned [`Type`]s, [`Function`]s and the
//! [`EntryPoint`]s that make some functions kernels. Each function owns its
//! arenas of [`Local`]s and [`Expression`]s and a body of [`Statement`]s.
//! Every node has a span beside it in its arena (statements in their
//! [`Block`]).
//!
//! # Expressions are pure; statements have the effects
//!
//! An expression reads locals, parameters, shared memory and message data,
//! and computes; it never writes, synchronises, faults or calls. Everything
//! else is a statement: stores, control flow, calls to device functions,
//! intrinsics with effects (barriers, fences, atomics, warp and block
//! collectives, clock reads) and [`Statement::Check`], which faults when its
//! condition is false.
//!
//! # When an expression is evaluated
//!
//! An expression tree is evaluated, completely and unconditionally, when the
//! statement that refers to it executes, operands before operators and left
//! before right. Nothing inside an expression evaluates conditionally: the
//! front end lowers Rust's conditional evaluation (`&&`/`||` with a fallible
//! right side, `if`/`match` expressions, block expressions) to statements
//! over temporaries. This is what lets the check pass put a check for a
//! sub-expression directly before the statement that uses it, and it is the
//! contract the back ends and the interpreter rely on.
//!
//! # Arithmetic
//!
//! [`BinaryOp`] arithmetic on integers wraps (Rust's release semantics);
//! overflow detection is a separate pure predicate
//! ([`Expression::Overflows`]) that checks are built from. Shift amounts are
//! masked to the bit width, as `wrapping_shl` does. Division and remainder
//! truncate toward zero; their operands are only valid when the divisor is
//! not zero and not (`MIN`, `-1`) for signed types, which is what checks (or
//! the user, with checks off) guarantee. Float arithmetic is IEEE 754 with
//! no contraction (no FMA unless the user calls `mul_add`).

mod expr;
mod stmt;
mod types;

pub use expr::*;
pub use stmt::*;
pub use types::*;

use crate::arena::{Arena, Handle, UniqueArena};
use crate::span::Span;

/// A translation unit: what one `#[gpu_kernel]`, `#[ring_kernel]` or a
/// whole file given to the CLI lowers to.
#[derive(Debug, Clone, Default)]
pub struct Module {
    pub types: UniqueArena<Type>,
    /// Device functions and kernel bodies, callees before callers.
    pub functions: Arena<Function>,
    pub entry_points: Vec<EntryPoint>,
    /// The Rust file the spans refer to, for `#line` directives and fault
    /// locations; `None` when unknown.
    pub source_file: Option<String>,
}

impl Module {
    /// The interned handle of a type, inserting it if needed.
    pub fn ty(&mut self, ty: Type) -> Handle<Type> {
        self.types.insert(ty, Span::UNKNOWN)
    }

    pub fn function_by_name(&self, name: &str) -> Option<Handle<Function>> {
        self.functions
            .iter()
            .find(|(_, f)| f.name == name)
            .map(|(h, _)| h)
    }
}

/// A function body: a `#[device_fn]`, a kernel or a handler.
#[derive(Debug, Clone, Default)]
pub struct Function {
    /// The Rust name; the back end's namer derives the emitted name.
    pub name: String,
    /// Parameters in order; each is a local initialised by the caller.
    pub params: Vec<Handle<Local>>,
    pub result: Option<Handle<Type>>,
    pub locals: Arena<Local>,
    /// Block-shared arrays this function declares (`ctx.shared_array()`).
    pub shared: Arena<SharedArray>,
    pub expressions: Arena<Expression>,
    pub body: Block,
    /// Whether the check pass inserts overflow checks (bounds and division
    /// checks are always inserted: Rust panics on those in release too).
    pub overflow_checks: bool,
}

/// A local variable or parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Local {
    /// The Rust name, if the user gave one (temporaries have none).
    pub name: Option<String>,
    pub ty: Handle<Type>,
    pub mutable: bool,
}

/// A `__shared__` array of the block.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedArray {
    pub name: Option<String>,
    /// An array type.
    pub ty: Handle<Type>,
}

/// A function that the host launches.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryPoint {
    pub name: String,
    pub function: Handle<Function>,
    pub kind: EntryKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    /// A data-parallel `#[gpu_kernel]` with this block shape.
    Kernel { block: [u32; 3] },
    /// A `#[ring_kernel]` handler, run by the persistent actor loop once per
    /// message on every thread of the actor's block.
    Actor(ActorEntry),
}

impl EntryKind {
    /// The block shape the entry point runs with.
    pub fn block(&self) -> [u32; 3] {
        match self {
            EntryKind::Kernel { block } => *block,
            EntryKind::Actor(actor) => actor.block,
        }
    }
}

/// The shape of a `#[ring_kernel]` handler. Its function's parameters are
/// `state: &mut S` (when [`ActorEntry::state`] is some) and `msg: &M`; its
/// result is the reply (`()` for actors that do not reply). The leader's
/// (thread 0's) result is the one published.
#[derive(Debug, Clone, PartialEq)]
pub struct ActorEntry {
    /// The actor's threads: a block of this shape, or one warp (`[32, 1, 1]`)
    /// when [`ActorEntry::warp`] is set.
    pub block: [u32; 3],
    /// `#[ring_kernel(warps = 1)]`: the actor is one warp, packed with other
    /// actors of the launch into one block (`rk_actor.cuh`); its thread
    /// index, block size, `sync_threads` and block reductions mean its warp.
    pub warp: bool,
    /// `S`, the actor's device-resident state.
    pub state: Option<Handle<Type>>,
    /// `M`, the message type.
    pub message: Handle<Type>,
    /// `R`, the reply type (`Type::Unit` when the handler returns nothing).
    pub reply: Handle<Type>,
}
