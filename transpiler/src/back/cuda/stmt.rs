//! Statements.
//!
//! - `Store` → `place = value;` (locals are declared at the function top).
//! - `Loop` → `for (;;)`; `break`/`continue` of the innermost loop are C's,
//!   of an outer loop `goto rk_break_N` (label after the loop) and
//!   `goto rk_continue_N` (label at the end of its body).
//! - `Check` → `if (!(c)) { rk_fault(__rk_f, KIND, line, column); return; }`
//!   and `Fault` the same without the condition; after a call that can
//!   fault, `if (__rk_f->faulted) return;`, so a fault unwinds to the
//!   kernel. (`return {};` in functions with a result.)
//! - Intrinsics: barriers and fences by their CUDA names; atomics, warp
//!   collectives and reductions through `rk_rust.cuh` (full warp mask).

use std::fmt::{self, Write as _};

use crate::arena::Handle;
use crate::ir::{
    AtomicOp, Block, Expression, IntKind, IntrinsicOp, Local, ReduceOp, Scalar, ShuffleMode,
    Statement, UnaryOp,
};
use crate::span::Span;

use super::abi::FaultKind;
use super::function::FunctionCtx;
use super::types::suffix;
use super::writer::Writer;

impl<W: fmt::Write> Writer<'_, W> {
    pub(super) fn write_block(
        &mut self,
        ctx: &mut FunctionCtx,
        block: &Block,
        level: usize,
    ) -> fmt::Result {
        for (statement, span) in block.iter() {
            self.write_statement(ctx, statement, span, level)?;
        }
        Ok(())
    }

    fn write_statement(
        &mut self,
        ctx: &mut FunctionCtx,
        statement: &Statement,
        span: Span,
        level: usize,
    ) -> fmt::Result {
        // A bare block has no code of its own on its `{` line.
        if !matches!(statement, Statement::Block(_)) {
            self.write_line_directive(span)?;
        }
        self.indent(level)?;
        match statement {
            Statement::Store { place, value } => {
                self.write_expr(ctx, *place)?;
                self.out.write_str(" = ")?;
                self.write_top_expr(ctx, *value)?;
                self.out.write_str(";\n")
            }
            Statement::If {
                condition,
                accept,
                reject,
            } => {
                self.out.write_str("if (")?;
                self.write_top_expr(ctx, *condition)?;
                self.out.write_str(") {\n")?;
                self.write_block(ctx, accept, level + 1)?;
                self.indent(level)?;
                if reject.is_empty() {
                    return self.out.write_str("}\n");
                }
                self.out.write_str("} else {\n")?;
                self.write_block(ctx, reject, level + 1)?;
                self.indent(level)?;
                self.out.write_str("}\n")
            }
            Statement::Loop { id, body } => {
                self.out.write_str("for (;;) {\n")?;
                ctx.loops.push(*id);
                self.write_block(ctx, body, level + 1)?;
                ctx.loops.pop();
                if ctx.continue_labels.contains(id) {
                    self.indent(level)?;
                    writeln!(self.out, "rk_continue_{}:;", id.0)?;
                }
                self.indent(level)?;
                self.out.write_str("}\n")?;
                if ctx.break_labels.contains(id) {
                    self.indent(level)?;
                    writeln!(self.out, "rk_break_{}:;", id.0)?;
                }
                Ok(())
            }
            Statement::Break(id) => {
                if ctx.loops.last() == Some(id) {
                    self.out.write_str("break;\n")
                } else {
                    writeln!(self.out, "goto rk_break_{};", id.0)
                }
            }
            Statement::Continue(id) => {
                if ctx.loops.last() == Some(id) {
                    self.out.write_str("continue;\n")
                } else {
                    writeln!(self.out, "goto rk_continue_{};", id.0)
                }
            }
            Statement::Return(value) => match value {
                Some(value) => {
                    self.out.write_str("return ")?;
                    self.write_top_expr(ctx, *value)?;
                    self.out.write_str(";\n")
                }
                None => self.out.write_str("return;\n"),
            },
            Statement::Call {
                function,
                arguments,
                result,
            } => {
                if let Some(local) = result {
                    write!(self.out, "{} = ", ctx.names.locals[local.index()])?;
                }
                write!(
                    self.out,
                    "{}(__rk_f",
                    self.names.functions[function.index()]
                )?;
                for &arg in arguments {
                    self.out.write_str(", ")?;
                    self.write_expr(ctx, arg)?;
                    if let Some(Expression::Local(local)) = Some(&ctx.function.expressions[arg]) {
                        if let Some(len) = &ctx.names.slice_lens[local.index()] {
                            write!(self.out, ", {len}")?;
                        }
                    }
                }
                self.out.write_str(");\n")?;
                if self.info.function(*function).may_fault {
                    self.indent(level)?;
                    writeln!(self.out, "if (__rk_f->faulted) {}", ctx.fault_return())?;
                }
                Ok(())
            }
            Statement::Intrinsic {
                op: IntrinsicOp::Send { port },
                arguments,
                ..
            } => self.write_send(ctx, *port, arguments[0], None, span),
            Statement::Intrinsic {
                op: IntrinsicOp::TrySend { port },
                arguments,
                result,
            } => self.write_send(ctx, *port, arguments[0], Some(*result), span),
            Statement::Intrinsic {
                op,
                arguments,
                result,
            } => self.write_intrinsic(ctx, *op, arguments, *result),
            Statement::Check { kind, condition } => {
                // `check(!p)` (the check pass's `!overflows(..)`) reads
                // better as `if (p) fault`.
                match ctx.function.expressions[*condition] {
                    Expression::Unary {
                        op: UnaryOp::Not,
                        expr,
                    } if self.scalar_of(ctx, expr) == Scalar::Bool => {
                        self.out.write_str("if (")?;
                        self.write_top_expr(ctx, expr)?;
                    }
                    _ => {
                        self.out.write_str("if (!(")?;
                        self.write_top_expr(ctx, *condition)?;
                        self.out.write_str(")")?;
                    }
                }
                self.out.write_str(") { ")?;
                self.write_fault(ctx, FaultKind::from(*kind), span)?;
                self.out.write_str(" }\n")
            }
            Statement::Fault(kind) => {
                self.write_fault(ctx, FaultKind::from(*kind), span)?;
                self.out.write_str("\n")
            }
            Statement::Block(block) => {
                self.out.write_str("{\n")?;
                self.write_block(ctx, block, level + 1)?;
                self.indent(level)?;
                self.out.write_str("}\n")
            }
        }
    }

    /// An expression in a position that needs no parentheses around it
    /// (`x = …;`, `if (…)`, `return …;`): written without its outer pair.
    fn write_top_expr(&mut self, ctx: &FunctionCtx, expr: Handle<Expression>) -> fmt::Result {
        let text = self.capture(|w| w.write_expr(ctx, expr))?;
        self.out.write_str(strip_outer_parens(&text))
    }

    fn write_fault(&mut self, ctx: &FunctionCtx, kind: FaultKind, span: Span) -> fmt::Result {
        let (line, column) = if span.is_known() {
            (span.start.line, span.start.column + 1)
        } else {
            (0, 0)
        };
        write!(
            self.out,
            "rk_fault(__rk_f, {}, {line}u, {column}u); {}",
            kind.macro_name(),
            ctx.fault_return()
        )
    }

    /// `ctx.send(port, &msg)`: the message is copied to a named temporary
    /// (the loop copies it from memory), `rk_actor_send` (`rk_actor.cuh`)
    /// delivers it from the leader thread, or records the fault at the
    /// send's position, and the function unwinds like any fault.
    /// `ctx.try_send` (`try_result` is `Some(result local)`) goes through
    /// `rk_actor_try_send`, a block-wide call that gives every thread the
    /// leader's outcome; only the thread that recorded a fault (the leader)
    /// unwinds.
    fn write_send(
        &mut self,
        ctx: &FunctionCtx,
        port: u32,
        message: Handle<Expression>,
        try_result: Option<Option<Handle<Local>>>,
        span: Span,
    ) -> fmt::Result {
        let crate::valid::TypeResolution::Handle(ty) = ctx.info.expression_type(message) else {
            return Err(fmt::Error);
        };
        let c_type = self.type_name(ty).to_string();
        let (line, column) = if span.is_known() {
            (span.start.line, span.start.column + 1)
        } else {
            (0, 0)
        };
        write!(self.out, "{{ const {c_type} rk_sent = ")?;
        self.write_top_expr(ctx, message)?;
        let args =
            format!("__rk_f, {port}u, &rk_sent, (rk_u32)sizeof({c_type}), {line}u, {column}u");
        // A warp actor's sends are its warp's (lane 0 sends, try_send's
        // answer by a warp vote): `rk_actor_send_warp`/`rk_actor_try_send_warp`.
        let unit = if ctx.warp_actor { "_warp" } else { "" };
        match try_result {
            None => writeln!(
                self.out,
                "; if (!rk_actor_send{unit}({args})) {} }}",
                ctx.fault_return()
            ),
            Some(result) => {
                self.out.write_str("; ")?;
                if let Some(local) = result {
                    write!(self.out, "{} = ", ctx.names.locals[local.index()])?;
                }
                writeln!(
                    self.out,
                    "rk_actor_try_send{unit}({args}); if (__rk_f->faulted) {} }}",
                    ctx.fault_return()
                )
            }
        }
    }

    fn write_intrinsic(
        &mut self,
        ctx: &FunctionCtx,
        op: IntrinsicOp,
        args: &[Handle<Expression>],
        result: Option<Handle<Local>>,
    ) -> fmt::Result {
        let fixed = match op {
            // A warp actor's block is its warp (the other warps of the
            // block are other actors, which never wait for each other).
            IntrinsicOp::SyncThreads if ctx.warp_actor => Some("__syncwarp();"),
            IntrinsicOp::SyncThreads => Some("__syncthreads();"),
            IntrinsicOp::SyncWarp => Some("__syncwarp();"),
            IntrinsicOp::ThreadFence => Some("__threadfence();"),
            IntrinsicOp::ThreadFenceBlock => Some("__threadfence_block();"),
            IntrinsicOp::ThreadFenceSystem => Some("__threadfence_system();"),
            _ => None,
        };
        if let Some(text) = fixed {
            return writeln!(self.out, "{text}");
        }
        if let Some(local) = result {
            write!(self.out, "{} = ", ctx.names.locals[local.index()])?;
        }
        let first = args.first().map(|&a| self.scalar_of(ctx, a));
        let s = first.map(suffix).unwrap_or("");
        match op {
            IntrinsicOp::ClockNs => self.out.write_str("rk_clock_ns()")?,
            IntrinsicOp::Atomic(atomic) => {
                let name = match atomic {
                    AtomicOp::Add => "add",
                    AtomicOp::Sub => "sub",
                    AtomicOp::Min => "min",
                    AtomicOp::Max => "max",
                    AtomicOp::And => "and",
                    AtomicOp::Or => "or",
                    AtomicOp::Xor => "xor",
                    AtomicOp::Exchange => "exch",
                    AtomicOp::CompareExchange => "cas",
                };
                write!(self.out, "rk_atomic_{name}_{s}(&")?;
                self.write_expr(ctx, args[0])?;
                for &arg in &args[1..] {
                    self.out.write_str(", ")?;
                    self.write_expr(ctx, arg)?;
                }
                self.out.write_str(")")?;
            }
            IntrinsicOp::WarpShuffle(mode) => {
                let (name, lane_ty) = match mode {
                    ShuffleMode::Index => ("shfl", IntKind::I32),
                    ShuffleMode::Up => ("shfl_up", IntKind::U32),
                    ShuffleMode::Down => ("shfl_down", IntKind::U32),
                    ShuffleMode::Xor => ("shfl_xor", IntKind::I32),
                };
                write!(self.out, "rk_{name}_{s}(")?;
                self.write_expr(ctx, args[0])?;
                self.out.write_str(", ")?;
                if self.scalar_of(ctx, args[1]) != Scalar::Int(lane_ty) {
                    write!(
                        self.out,
                        "({})",
                        super::types::c_scalar(Scalar::Int(lane_ty))
                    )?;
                }
                self.write_expr(ctx, args[1])?;
                self.out.write_str(")")?;
            }
            IntrinsicOp::WarpBallot => {
                self.out.write_str("__ballot_sync(0xffffffffu, ")?;
                self.write_expr(ctx, args[0])?;
                self.out.write_str(")")?;
            }
            IntrinsicOp::WarpAll | IntrinsicOp::WarpAny => {
                let name = if op == IntrinsicOp::WarpAll {
                    "__all_sync"
                } else {
                    "__any_sync"
                };
                write!(self.out, "({name}(0xffffffffu, ")?;
                self.write_expr(ctx, args[0])?;
                self.out.write_str(") != 0)")?;
            }
            IntrinsicOp::WarpReduce(reduce) | IntrinsicOp::BlockReduce(reduce) => {
                let scope = if matches!(op, IntrinsicOp::WarpReduce(_)) || ctx.warp_actor {
                    "warp"
                } else {
                    "block"
                };
                let name = match reduce {
                    ReduceOp::Sum => "sum",
                    ReduceOp::Min => "min",
                    ReduceOp::Max => "max",
                };
                write!(self.out, "rk_{scope}_reduce_{name}_{s}(")?;
                self.write_expr(ctx, args[0])?;
                self.out.write_str(")")?;
            }
            _ => return Err(fmt::Error),
        }
        self.out.write_str(";\n")
    }
}

/// `text` without one pair of parentheses that encloses all of it.
fn strip_outer_parens(text: &str) -> &str {
    let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) else {
        return text;
    };
    let mut depth = 0i32;
    for c in inner.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return text;
                }
            }
            _ => {}
        }
    }
    if depth == 0 {
        inner
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::strip_outer_parens;

    #[test]
    fn strips_only_an_enclosing_pair() {
        assert_eq!(strip_outer_parens("(a < b)"), "a < b");
        assert_eq!(strip_outer_parens("(a) + (b)"), "(a) + (b)");
        assert_eq!(strip_outer_parens("((rk_i8)x)"), "(rk_i8)x");
        assert_eq!(strip_outer_parens("f(x)"), "f(x)");
        assert_eq!(strip_outer_parens("x"), "x");
    }
}
