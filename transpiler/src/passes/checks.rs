//! Insertion of Rust's runtime checks as `Check` statements.
//!
//! Assumes: the IR evaluation contract (every expression a statement refers
//! to is evaluated unconditionally when the statement runs), so a check for
//! any sub-expression can sit directly before its statement.
//!
//! Guarantees: before each statement, in evaluation order (operands first,
//! left to right) and once per expression handle:
//! * always (Rust panics on these in release builds too): index in bounds
//!   (`IndexOutOfBounds`), integer divisor not zero (`DivisionByZero`), and
//!   not signed `MIN / -1` or `MIN % -1` (`Overflow`);
//! * with the function's `overflow_checks`: `+ - *` and unary `-` on
//!   integers, shift amounts (`<<`, `>>` by at least the bit width),
//!   `pow` and `abs` of `MIN` (`Overflow`).
//!
//! Each check carries the span of the expression that can fail, so a fault
//! points at `a[i]` rather than at the whole statement.
//!
//! Invalidates: nothing (it only appends expressions and inserts statements).

use std::collections::HashSet;

use super::typeof_::{int_kind, type_of};
use crate::arena::Handle;
use crate::ir::{
    BinaryOp, Block, CheckKind, Expression, Function, IntKind, Literal, MathFunction, Module,
    OverflowOp, Statement, Type, UnaryOp,
};

pub fn insert_checks(module: &mut Module, function: &mut Function) {
    let body = std::mem::take(&mut function.body);
    function.body = check_block(module, function, body);
}

fn check_block(module: &mut Module, function: &mut Function, block: Block) -> Block {
    let mut out = Block::new();
    for (statement, span) in block.statements.into_iter().zip(block.spans) {
        let mut seen = HashSet::new();
        let roots: Vec<Handle<Expression>> = match &statement {
            Statement::Store { place, value } => vec![*value, *place],
            Statement::If { condition, .. } => vec![*condition],
            Statement::Return(Some(e)) => vec![*e],
            Statement::Call { arguments, .. } | Statement::Intrinsic { arguments, .. } => {
                arguments.clone()
            }
            Statement::Check { condition, .. } => vec![*condition],
            _ => vec![],
        };
        for root in roots {
            visit(module, function, root, &mut seen, &mut out);
        }
        let statement = match statement {
            Statement::If {
                condition,
                accept,
                reject,
            } => Statement::If {
                condition,
                accept: check_block(module, function, accept),
                reject: check_block(module, function, reject),
            },
            Statement::Loop { id, body } => Statement::Loop {
                id,
                body: check_block(module, function, body),
            },
            Statement::Block(b) => Statement::Block(check_block(module, function, b)),
            other => other,
        };
        out.push(statement, span);
    }
    out
}

/// Post-order: operands' checks first.
fn visit(
    module: &mut Module,
    function: &mut Function,
    e: Handle<Expression>,
    seen: &mut HashSet<Handle<Expression>>,
    out: &mut Block,
) {
    if !seen.insert(e) {
        return;
    }
    let node = function.expressions[e].clone();
    match &node {
        Expression::Field { base, .. } | Expression::Deref(base) | Expression::Len(base) => {
            visit(module, function, *base, seen, out)
        }
        Expression::Index { base, index } => {
            visit(module, function, *base, seen, out);
            visit(module, function, *index, seen, out);
        }
        Expression::Unary { expr, .. } | Expression::Cast { expr, .. } => {
            visit(module, function, *expr, seen, out)
        }
        Expression::Binary { left, right, .. } | Expression::Overflows { left, right, .. } => {
            visit(module, function, *left, seen, out);
            visit(module, function, *right, seen, out);
        }
        Expression::Math { args, .. }
        | Expression::Compose {
            components: args, ..
        } => {
            for a in args {
                visit(module, function, *a, seen, out);
            }
        }
        Expression::Splat { value, .. } => visit(module, function, *value, seen, out),
        Expression::Literal(_)
        | Expression::Local(_)
        | Expression::Shared(_)
        | Expression::Builtin(_) => {}
    }
    let span = function.expressions.span(e);
    let mut check = |function: &mut Function, kind: CheckKind, condition: Expression| {
        let condition = function.expressions.append(condition, span);
        out.push(Statement::Check { kind, condition }, span);
    };
    match node {
        Expression::Index { base, index } => {
            let base_ty = type_of(module, function, base);
            let len = match module.types[base_ty] {
                Type::Array { len, .. } => function.expressions.append(
                    Expression::Literal(Literal::Int(i128::from(len), IntKind::Usize)),
                    span,
                ),
                _ => function.expressions.append(Expression::Len(base), span),
            };
            check(
                function,
                CheckKind::IndexOutOfBounds,
                Expression::Binary {
                    op: BinaryOp::Lt,
                    left: index,
                    right: len,
                },
            );
        }
        Expression::Binary {
            op: BinaryOp::Div | BinaryOp::Rem,
            left,
            right,
        } => {
            if let Some(kind) = int_kind(module, function, left) {
                let zero = function
                    .expressions
                    .append(Expression::Literal(Literal::Int(0, kind)), span);
                check(
                    function,
                    CheckKind::DivisionByZero,
                    Expression::Binary {
                        op: BinaryOp::Ne,
                        left: right,
                        right: zero,
                    },
                );
                if kind.signed() {
                    let overflow = function.expressions.append(
                        Expression::Overflows {
                            op: OverflowOp::DivRem,
                            left,
                            right,
                        },
                        span,
                    );
                    check(
                        function,
                        CheckKind::Overflow,
                        Expression::Unary {
                            op: UnaryOp::Not,
                            expr: overflow,
                        },
                    );
                }
            }
        }
        Expression::Binary { op, left, right } if function.overflow_checks => {
            let overflow_op = match op {
                BinaryOp::Add => Some(OverflowOp::Add),
                BinaryOp::Sub => Some(OverflowOp::Sub),
                BinaryOp::Mul => Some(OverflowOp::Mul),
                BinaryOp::Shl => Some(OverflowOp::Shl),
                BinaryOp::Shr => Some(OverflowOp::Shr),
                _ => None,
            };
            if let (Some(op), Some(_)) = (overflow_op, int_kind(module, function, left)) {
                let overflow = function
                    .expressions
                    .append(Expression::Overflows { op, left, right }, span);
                check(
                    function,
                    CheckKind::Overflow,
                    Expression::Unary {
                        op: UnaryOp::Not,
                        expr: overflow,
                    },
                );
            }
        }
        Expression::Unary {
            op: UnaryOp::Neg,
            expr,
        } if function.overflow_checks
            && int_kind(module, function, expr).is_some_and(IntKind::signed) =>
        {
            let overflow = function.expressions.append(
                Expression::Overflows {
                    op: OverflowOp::Neg,
                    left: expr,
                    right: expr,
                },
                span,
            );
            check(
                function,
                CheckKind::Overflow,
                Expression::Unary {
                    op: UnaryOp::Not,
                    expr: overflow,
                },
            );
        }
        Expression::Math {
            fun: fun @ (MathFunction::Pow | MathFunction::Abs),
            args,
        } if function.overflow_checks => {
            if let Some(kind) = int_kind(module, function, args[0]) {
                let (op, right) = if fun == MathFunction::Pow {
                    (OverflowOp::Pow, args[1])
                } else {
                    (OverflowOp::Abs, args[0])
                };
                if op == OverflowOp::Pow || kind.signed() {
                    let overflow = function.expressions.append(
                        Expression::Overflows {
                            op,
                            left: args[0],
                            right,
                        },
                        span,
                    );
                    check(
                        function,
                        CheckKind::Overflow,
                        Expression::Unary {
                            op: UnaryOp::Not,
                            expr: overflow,
                        },
                    );
                }
            }
        }
        _ => {}
    }
}
