//! `for` loops over integer ranges.
//!
//! Supported iterators: `a..b`, `a..=b`, each optionally followed by
//! `.rev()` and then `.step_by(s)`. (`.step_by(s).rev()` iterates a
//! different sequence in Rust and is rejected rather than guessed.)
//!
//! Lowering never computes a value past the range's end, so no induction
//! variable can overflow: the common `a..b` becomes
//! `cur = a; loop { if !(cur < b) break; i = cur; cur = cur + 1; body }`
//! (the increment is safe because `cur < b`), and every other form becomes
//! `loop { if done break; i = cur; if distance-left >= step { advance }
//! else { done = true }; body }` with the distance computed as an unsigned
//! number of the range's width, so it is exact even for signed ranges
//! spanning the whole type. The induction variable is advanced before the
//! body runs, so `continue` needs no special handling.

use syn::spanned::Spanned;

use super::body::{Binding, FnLowerer, LoopFrame};
use super::error::{FrontError, Result};
use super::infer::Ty;
use crate::arena::Handle;
use crate::ir::{
    BinaryOp, Block, Expression, IntKind, LoopId, MathFunction, Scalar, Statement, UnaryOp,
};
use crate::span::Span;

/// A parsed range iterator.
pub(super) struct RangeIter<'e> {
    pub start: &'e syn::Expr,
    pub end: &'e syn::Expr,
    pub inclusive: bool,
    pub reverse: bool,
    pub step: Option<&'e syn::Expr>,
}

pub(super) fn parse_range(expr: &syn::Expr) -> Result<RangeIter<'_>> {
    let unsupported = |span| {
        FrontError::unsupported(
            "this iterator",
            "loop over an integer range: `for i in a..b`, `a..=b`, with `.rev()` and/or `.step_by(s)`",
            span,
        )
    };
    match expr {
        syn::Expr::Paren(p) => parse_range(&p.expr),
        syn::Expr::Range(range) => {
            let (Some(start), Some(end)) = (&range.start, &range.end) else {
                return Err(FrontError::unsupported(
                    "open-ended ranges",
                    "give both bounds: `a..b`",
                    range.span(),
                ));
            };
            Ok(RangeIter {
                start,
                end,
                inclusive: matches!(range.limits, syn::RangeLimits::Closed(_)),
                reverse: false,
                step: None,
            })
        }
        syn::Expr::MethodCall(call) if call.method == "rev" && call.args.is_empty() => {
            let mut inner = parse_range(&call.receiver)?;
            if inner.step.is_some() {
                return Err(FrontError::unsupported(
                    "`.step_by(s).rev()`",
                    "write `.rev().step_by(s)` (it starts from the end) or compute the indices explicitly",
                    call.span(),
                ));
            }
            if inner.reverse {
                return Err(unsupported(call.span()));
            }
            inner.reverse = true;
            Ok(inner)
        }
        syn::Expr::MethodCall(call) if call.method == "step_by" && call.args.len() == 1 => {
            let mut inner = parse_range(&call.receiver)?;
            if inner.step.is_some() {
                return Err(unsupported(call.span()));
            }
            inner.step = Some(&call.args[0]);
            Ok(inner)
        }
        _ => Err(unsupported(expr.span())),
    }
}

pub(super) struct RangeLoop<'b> {
    pub id: LoopId,
    pub label: Option<String>,
    pub var_name: Option<String>,
    pub var_mutable: bool,
    /// The integer type of the range: known, or an integer variable that
    /// uses of the loop variable in the body may still bind (rustc infers
    /// `for i in 0..4 { a[i] }` as a `usize` range).
    pub ty: Ty,
    pub start: Handle<Expression>,
    pub end: Handle<Expression>,
    pub inclusive: bool,
    pub reverse: bool,
    pub step: Option<Handle<Expression>>,
    pub body: &'b syn::Block,
    pub span: proc_macro2::Span,
}

pub(super) fn emit_range_loop(l: &mut FnLowerer<'_>, r: RangeLoop<'_>) -> Result<()> {
    let span = r.span;
    if !l.is_int(r.ty) {
        return Err(FrontError::unsupported(
            "ranges over this type",
            "iterate over integers",
            span,
        ));
    }
    let b = l.bool_ty();
    let cur = l.new_local(None, r.ty, true, span);
    let cur_place = l.expr(Expression::Local(cur), r.ty, span);
    let simple = !r.inclusive && !r.reverse && r.step.is_none();

    if simple {
        l.emit(
            Statement::Store {
                place: cur_place,
                value: r.start,
            },
            span,
        );
        let (body, outcome) = l.in_block(|l| -> Result<()> {
            let in_range = l.expr(
                Expression::Binary {
                    op: BinaryOp::Lt,
                    left: cur_place,
                    right: r.end,
                },
                b,
                span,
            );
            emit_exit_unless(l, in_range, r.id, span);
            bind_var(l, &r, cur_place);
            let one = l.int_literal(1, r.ty, span)?.expr.expect("value");
            let next = l.expr(
                Expression::Math {
                    fun: MathFunction::WrappingAdd,
                    args: vec![cur_place, one],
                },
                r.ty,
                span,
            );
            l.emit(
                Statement::Store {
                    place: cur_place,
                    value: next,
                },
                span,
            );
            lower_body(l, &r)
        });
        outcome?;
        l.emit(Statement::Loop { id: r.id, body }, span);
        return Ok(());
    }

    // General form: `cur` is the next value to yield, `done` says there is none.
    let done = l.new_local(None, b, true, span);
    let done_place = l.expr(Expression::Local(done), b, span);
    let (first, last_bound) = if r.reverse {
        (r.end, r.start)
    } else {
        (r.start, r.end)
    };
    // Empty range: start > end (inclusive) or start >= end (exclusive).
    let empty_op = if r.inclusive {
        BinaryOp::Gt
    } else {
        BinaryOp::Ge
    };
    let empty = l.expr(
        Expression::Binary {
            op: empty_op,
            left: r.start,
            right: r.end,
        },
        b,
        span,
    );
    l.emit(
        Statement::Store {
            place: done_place,
            value: empty,
        },
        span,
    );
    let first_value = if r.inclusive || !r.reverse {
        first
    } else {
        // Exclusive reverse starts at `end - 1` (wrapping is harmless: unused when empty).
        let one = l.int_literal(1, r.ty, span)?.expr.expect("value");
        l.expr(
            Expression::Math {
                fun: MathFunction::WrappingSub,
                args: vec![r.end, one],
            },
            r.ty,
            span,
        )
    };
    l.emit(
        Statement::Store {
            place: cur_place,
            value: first_value,
        },
        span,
    );
    // The last value the loop may yield in its direction.
    let last = if r.inclusive || r.reverse {
        last_bound
    } else {
        let one = l.int_literal(1, r.ty, span)?.expr.expect("value");
        let v = l.expr(
            Expression::Math {
                fun: MathFunction::WrappingSub,
                args: vec![r.end, one],
            },
            r.ty,
            span,
        );
        l.spill(
            super::body::Val {
                expr: Some(v),
                ty: r.ty,
            },
            span,
        )
        .expr
        .expect("value")
    };
    let u64_ty = l.scalar(Scalar::Int(IntKind::U64));
    let step = match r.step {
        Some(s) => l.expr(
            Expression::Cast {
                expr: s,
                to: Scalar::Int(IntKind::U64),
            },
            u64_ty,
            span,
        ),
        None => l.int_literal(1, u64_ty, span)?.expr.expect("value"),
    };
    let (body, outcome) = l.in_block(|l| -> Result<()> {
        emit_exit_unless_not(l, done_place, r.id, span);
        bind_var(l, &r, cur_place);
        // Distance still to go, exact as an unsigned number of the range's width.
        let (from, to) = if r.reverse {
            (last, cur_place)
        } else {
            (cur_place, last)
        };
        let diff = l.expr(
            Expression::Math {
                fun: MathFunction::WrappingSub,
                args: vec![to, from],
            },
            r.ty,
            span,
        );
        let diff_u = l.int_cast(diff, r.ty, true, span);
        let dist = l.expr(
            Expression::Cast {
                expr: diff_u,
                to: Scalar::Int(IntKind::U64),
            },
            u64_ty,
            span,
        );
        let can_step = l.expr(
            Expression::Binary {
                op: BinaryOp::Ge,
                left: dist,
                right: step,
            },
            b,
            span,
        );
        let step_t = l.int_cast(step, r.ty, false, span);
        let fun = if r.reverse {
            MathFunction::WrappingSub
        } else {
            MathFunction::WrappingAdd
        };
        let advanced = l.expr(
            Expression::Math {
                fun,
                args: vec![cur_place, step_t],
            },
            r.ty,
            span,
        );
        let mut advance = Block::new();
        advance.push(
            Statement::Store {
                place: cur_place,
                value: advanced,
            },
            Span::from_proc_macro2(span),
        );
        let mut finish = Block::new();
        let t = l.bool_literal(true, span);
        finish.push(
            Statement::Store {
                place: done_place,
                value: t,
            },
            Span::from_proc_macro2(span),
        );
        l.emit(
            Statement::If {
                condition: can_step,
                accept: advance,
                reject: finish,
            },
            span,
        );
        lower_body(l, &r)
    });
    outcome?;
    l.emit(Statement::Loop { id: r.id, body }, span);
    Ok(())
}

/// `if !cond { break }`.
fn emit_exit_unless(
    l: &mut FnLowerer<'_>,
    cond: Handle<Expression>,
    id: LoopId,
    span: proc_macro2::Span,
) {
    let b = l.bool_ty();
    let negated = l.expr(
        Expression::Unary {
            op: UnaryOp::Not,
            expr: cond,
        },
        b,
        span,
    );
    emit_exit_unless_not(l, negated, id, span);
}

/// `if cond { break }`.
fn emit_exit_unless_not(
    l: &mut FnLowerer<'_>,
    cond: Handle<Expression>,
    id: LoopId,
    span: proc_macro2::Span,
) {
    let mut exit = Block::new();
    exit.push(Statement::Break(id), Span::from_proc_macro2(span));
    l.emit(
        Statement::If {
            condition: cond,
            accept: exit,
            reject: Block::new(),
        },
        span,
    );
}

/// `let i = cur;` — a fresh local per iteration, as Rust's pattern binding.
fn bind_var(l: &mut FnLowerer<'_>, r: &RangeLoop<'_>, cur_place: Handle<Expression>) {
    if let Some(name) = &r.var_name {
        let local = l.new_local(Some(name.clone()), r.ty, r.var_mutable, r.span);
        let place = l.expr(Expression::Local(local), r.ty, r.span);
        l.emit(
            Statement::Store {
                place,
                value: cur_place,
            },
            r.span,
        );
        l.bind(name.clone(), Binding::Local { local, ty: r.ty });
    }
}

fn lower_body(l: &mut FnLowerer<'_>, r: &RangeLoop<'_>) -> Result<()> {
    l.loops.push(LoopFrame {
        id: r.id,
        label: r.label.clone(),
        result: None,
    });
    let value = l.lower_block_expr(r.body);
    l.loops.pop();
    if value.ty != Ty::Never && !l.is_unit(value.ty) {
        let unit = l.unit();
        l.unify(unit, value.ty, r.body.span())?;
    }
    Ok(())
}
