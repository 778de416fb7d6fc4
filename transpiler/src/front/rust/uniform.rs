//! Which `ctx.try_send` calls only some threads of the block reach.
//!
//! `try_send` is block-wide (`IntrinsicOp::TrySend`): on the device it is a
//! barrier (`__syncthreads_or` hands the leader's answer to every thread),
//! so a call that only some threads reach hangs the block or pairs with
//! another barrier and corrupts both. The front end rejects the calls it
//! can prove are reached that way, on the IR of the handler it just
//! lowered:
//! - values that differ between the threads of a block are those computed
//!   from the thread's position (`thread_id`, `thread_x/y/z`, `lane_id`,
//!   `warp_id`, `global_*`, and so `is_leader`), from per-thread results
//!   (atomics' old values, warp collectives, which differ between warps,
//!   `clock_ns`), from memory read at such an index, and locals stored in
//!   code that only some threads run;
//! - code runs on only some threads under an `if`/`match`/loop condition
//!   of such a value, after a `return`, `break` or `continue` that only
//!   some threads take (for the rest of the block; a loop that only some
//!   threads leave early runs a different number of times per thread, so
//!   its whole body is divergent), and everywhere inside such code.
//!
//! What it assumes: memory read at a uniform address (the message, the
//! state, `shared_array` element 0) holds the same value for every thread.
//! That fails only under a data race (one thread writes what another reads
//! with no barrier between), which the interpreter reports. Soft faults
//! (a failed bounds check, `panic!`) stop only the faulting thread: they are
//! runtime events, not rejected here (an `assert!` on `thread_id` would
//! otherwise reject every later `try_send`). So a divergent `try_send` the
//! analysis misses is one behind a data race or a fault, and the CPU
//! backend reports it as a divergent barrier when it happens.
//!
//! The same analysis would apply to `sync_threads` and `block_reduce_*`;
//! they are not checked (the interpreter's divergent-barrier report is
//! their only guard, and its tests rely on the front end accepting them).

use crate::arena::Handle;
use crate::ir::{Block, Builtin, Expression, Function, IntrinsicOp, Local, LoopId, Statement};
use crate::span::Span;

/// Why code runs on only some threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cause {
    /// A condition on a value that differs between threads (its span).
    Condition(Span),
    /// After a `return` some threads take.
    Return(Span),
    /// After (or in a loop around) a `break` some threads take.
    Break(Span),
    /// After a `continue` some threads take.
    Continue(Span),
}

impl Cause {
    /// A phrase for the error message: what makes the call divergent, with
    /// its line and column when known.
    pub(super) fn describe(self) -> String {
        let (what, span) = match self {
            Cause::Condition(s) => ("under a condition that differs between threads", s),
            Cause::Return(s) => ("after a `return` that only some threads take", s),
            Cause::Break(s) => (
                "after (or in a loop left by) a `break` that only some threads take",
                s,
            ),
            Cause::Continue(s) => ("after a `continue` that only some threads take", s),
        };
        if span.is_known() {
            format!(
                "{what} (line {}, column {})",
                span.start.line,
                span.start.column + 1
            )
        } else {
            what.to_string()
        }
    }
}

/// The `try_send`s of `body` (named by their result locals) that only some
/// threads reach, each with the first reason found.
pub(super) fn divergent_try_sends(func: &Function, body: &Block) -> Vec<(Handle<Local>, Cause)> {
    let mut a = Analysis {
        func,
        varies: vec![false; func.locals.len()],
        exprs: Vec::new(),
        changed: false,
        found: Vec::new(),
    };
    // The set of varying locals only grows: walk until it stops growing;
    // the last walk's findings are the answer.
    loop {
        a.changed = false;
        a.found.clear();
        a.exprs = a.expression_facts();
        a.block(body, None);
        if !a.changed {
            return a.found;
        }
    }
}

/// Divergent exits a statement contains (taken by only some threads).
#[derive(Default)]
struct Exits {
    ret: Option<Cause>,
    /// `break`s and `continue`s by loop.
    jumps: Vec<(LoopId, Cause)>,
}

impl Exits {
    fn first(&self) -> Option<Cause> {
        self.ret.or_else(|| self.jumps.first().map(|&(_, c)| c))
    }

    fn merge(&mut self, other: Exits) {
        self.ret = self.ret.or(other.ret);
        self.jumps.extend(other.jumps);
    }
}

struct Analysis<'f> {
    func: &'f Function,
    /// Per local: its value may differ between threads.
    varies: Vec<bool>,
    /// Per expression, under `varies`: its value may differ between threads.
    exprs: Vec<bool>,
    changed: bool,
    found: Vec<(Handle<Local>, Cause)>,
}

impl Analysis<'_> {
    /// One forward pass: every operand comes before its expression.
    fn expression_facts(&self) -> Vec<bool> {
        let mut v: Vec<bool> = Vec::with_capacity(self.func.expressions.len());
        for (_, e) in self.func.expressions.iter() {
            let of = |h: Handle<Expression>| v[h.index()];
            let varies = match e {
                Expression::Literal(_) | Expression::Shared(_) => false,
                Expression::Local(l) => self.varies[l.index()],
                Expression::Field { base, .. } => of(*base),
                Expression::Index { base, index } => of(*base) || of(*index),
                Expression::Deref(e) | Expression::Len(e) => of(*e),
                Expression::Unary { expr, .. } | Expression::Cast { expr, .. } => of(*expr),
                Expression::Binary { left, right, .. }
                | Expression::Overflows { left, right, .. } => of(*left) || of(*right),
                Expression::Math { args, .. } => args.iter().any(|&a| of(a)),
                Expression::Compose { components, .. } => components.iter().any(|&c| of(c)),
                Expression::Splat { value, .. } => of(*value),
                Expression::Builtin(b) => per_thread(*b),
            };
            v.push(varies);
        }
        v
    }

    fn set_varies(&mut self, local: Handle<Local>) {
        if !self.varies[local.index()] {
            self.varies[local.index()] = true;
            self.changed = true;
        }
    }

    /// The local a place is in, and whether the place's own indices vary.
    fn place_root(&self, place: Handle<Expression>) -> (Option<Handle<Local>>, bool) {
        match self.func.expressions[place] {
            Expression::Local(l) => (Some(l), false),
            Expression::Field { base, .. } => self.place_root(base),
            Expression::Index { base, index } => {
                let (root, varies) = self.place_root(base);
                (root, varies || self.exprs[index.index()])
            }
            _ => (None, false),
        }
    }

    fn block(&mut self, block: &Block, mut cause: Option<Cause>) -> Exits {
        let mut exits = Exits::default();
        for (statement, span) in block.iter() {
            let e = self.statement(statement, span, cause);
            // What follows a divergent exit runs on the threads that did not
            // take it.
            cause = cause.or(e.first());
            exits.merge(e);
        }
        exits
    }

    fn statement(&mut self, statement: &Statement, span: Span, cause: Option<Cause>) -> Exits {
        let mut exits = Exits::default();
        match statement {
            Statement::Store { place, value } => {
                let (root, index_varies) = self.place_root(*place);
                if let Some(local) = root {
                    if cause.is_some() || index_varies || self.exprs[value.index()] {
                        self.set_varies(local);
                    }
                }
            }
            Statement::If {
                condition,
                accept,
                reject,
            } => {
                let inner = cause.or_else(|| {
                    self.exprs[condition.index()]
                        .then(|| Cause::Condition(self.func.expressions.span(*condition)))
                });
                exits.merge(self.block(accept, inner));
                exits.merge(self.block(reject, inner));
            }
            Statement::Loop { id, body } => {
                let mut e = self.block(body, cause);
                if cause.is_none() {
                    // A loop some threads leave early (or return from) runs
                    // a different number of times per thread: all of it is
                    // divergent.
                    // (A jump to an outer loop leaves this one too.)
                    let early = e.ret.or_else(|| {
                        e.jumps
                            .iter()
                            .find(|(l, c)| l != id || matches!(c, Cause::Break(_)))
                            .map(|&(_, c)| c)
                    });
                    if let Some(c) = early {
                        e = self.block(body, Some(c));
                    }
                }
                e.jumps.retain(|(l, _)| l != id);
                exits.merge(e);
            }
            Statement::Break(id) => {
                if cause.is_some() {
                    exits.jumps.push((*id, Cause::Break(span)));
                }
            }
            Statement::Continue(id) => {
                if cause.is_some() {
                    exits.jumps.push((*id, Cause::Continue(span)));
                }
            }
            Statement::Return(_) => {
                if cause.is_some() {
                    exits.ret = Some(Cause::Return(span));
                }
            }
            Statement::Call {
                arguments, result, ..
            } => {
                // Device functions take no context: their result depends on
                // their arguments alone.
                if let Some(local) = *result {
                    if cause.is_some() || arguments.iter().any(|a| self.exprs[a.index()]) {
                        self.set_varies(local);
                    }
                }
            }
            Statement::Intrinsic { op, result, .. } => {
                if let (IntrinsicOp::TrySend { .. }, Some(local), Some(c)) = (op, result, cause) {
                    self.found.push((*local, c));
                }
                if let Some(local) = *result {
                    if cause.is_some() || per_thread_result(*op) {
                        self.set_varies(local);
                    }
                }
            }
            Statement::Check { .. } | Statement::Fault(_) => {}
            Statement::Block(b) => exits.merge(self.block(b, cause)),
        }
        exits
    }
}

/// Geometry registers that differ between the threads of one block.
fn per_thread(b: Builtin) -> bool {
    matches!(
        b,
        Builtin::ThreadX
            | Builtin::ThreadY
            | Builtin::ThreadZ
            | Builtin::ThreadId
            | Builtin::GlobalId
            | Builtin::GlobalX
            | Builtin::GlobalY
            | Builtin::GlobalZ
            | Builtin::LaneId
            | Builtin::WarpId
    )
}

/// Intrinsics whose result may differ between the threads that all reach
/// them: atomics (each thread gets its own old value), warp collectives
/// (the same within a warp, not across warps), the clock. A block
/// reduction and `try_send` give every thread the same value.
fn per_thread_result(op: IntrinsicOp) -> bool {
    match op {
        IntrinsicOp::Atomic(_)
        | IntrinsicOp::WarpShuffle(_)
        | IntrinsicOp::WarpBallot
        | IntrinsicOp::WarpAll
        | IntrinsicOp::WarpAny
        | IntrinsicOp::WarpReduce(_)
        | IntrinsicOp::ClockNs => true,
        IntrinsicOp::BlockReduce(_) | IntrinsicOp::TrySend { .. } => false,
        IntrinsicOp::SyncThreads
        | IntrinsicOp::SyncWarp
        | IntrinsicOp::ThreadFence
        | IntrinsicOp::ThreadFenceBlock
        | IntrinsicOp::ThreadFenceSystem
        | IntrinsicOp::Send { .. } => false,
    }
}
