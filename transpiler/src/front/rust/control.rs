//! Lowering of control flow: `if`/`match` (as statements and expressions)
//! and short-circuit `&&`/`||` (loops and jumps: `loops.rs`).
//!
//! Value-producing control flow stores into a temporary in each branch and
//! yields the temporary, so no expression ever evaluates conditionally (the
//! IR's evaluation contract).

use syn::spanned::Spanned;

use super::body::{Binding, FnLowerer, Val};
use super::error::{FrontError, Result};
use super::expr::not_a_value;
use super::infer::Ty;
use crate::arena::Handle;
use crate::ir::{
    BinaryOp, Block, CheckKind, Expression, Literal, Local, Scalar, Statement, UnaryOp,
};

impl FnLowerer<'_> {
    /// Lowers a condition that must be `bool`.
    pub(super) fn lower_condition(&mut self, cond: &syn::Expr) -> Result<Handle<Expression>> {
        if let syn::Expr::Let(_) = cond {
            return Err(FrontError::unsupported(
                "`if let` / `while let`",
                "compare values with `if`/`match`",
                cond.span(),
            ));
        }
        let value = self.lower_expr(cond)?;
        let bool_ty = self.bool_ty();
        self.unify(bool_ty, value.ty, cond.span())?;
        value.expr.ok_or_else(|| not_a_value(cond))
    }

    /// Stores a branch's value into the result temporary, creating it on
    /// first use; unifies branch types.
    pub(super) fn store_branch(
        &mut self,
        result: &mut Option<(Handle<Local>, Ty)>,
        value: Val,
        span: proc_macro2::Span,
    ) -> Result<()> {
        if value.ty == Ty::Never {
            return Ok(());
        }
        if value.expr.is_none() {
            // `()` needs no temporary; it must agree with other branches.
            if let Some((_, ty)) = result {
                self.unify(*ty, value.ty, span)?;
            }
            return Ok(());
        }
        match result {
            Some((local, ty)) => {
                let ty = self.unify(*ty, value.ty, span)?;
                if let Some(e) = value.expr {
                    let place = self.expr(Expression::Local(*local), ty, span);
                    self.emit(Statement::Store { place, value: e }, span);
                }
            }
            None => {
                let local = self.new_local(None, value.ty, true, span);
                if let Some(e) = value.expr {
                    let place = self.expr(Expression::Local(local), value.ty, span);
                    self.emit(Statement::Store { place, value: e }, span);
                }
                *result = Some((local, value.ty));
            }
        }
        Ok(())
    }

    fn branch_result(
        &mut self,
        result: Option<(Handle<Local>, Ty)>,
        all_diverge: bool,
        span: proc_macro2::Span,
    ) -> Val {
        match result {
            _ if all_diverge => Val {
                expr: None,
                ty: Ty::Never,
            },
            Some((local, ty)) if !self.is_unit(ty) => Val {
                expr: Some(self.expr(Expression::Local(local), ty, span)),
                ty,
            },
            _ => self.unit_val(),
        }
    }

    pub fn lower_if(&mut self, e: &syn::ExprIf) -> Result<Val> {
        let span = e.span();
        let condition = self.lower_condition(&e.cond)?;
        let mut result = None;
        let (accept, then_value) = self.in_block(|this| this.lower_block_contents(&e.then_branch));
        let mut accept = accept;
        self.with_block(&mut accept, |this| {
            this.store_branch(&mut result, then_value, e.then_branch.span())
        })?;
        let (reject, else_diverges) = match &e.else_branch {
            Some((_, else_expr)) => {
                let (mut reject, value) = self.in_block(|this| this.lower_expr(else_expr));
                let value = value?;
                self.with_block(&mut reject, |this| {
                    this.store_branch(&mut result, value, else_expr.span())
                })?;
                (reject, value.ty == Ty::Never)
            }
            None => {
                // `if` without `else` is `()`.
                if then_value.ty != Ty::Never {
                    let unit = self.unit();
                    self.unify(unit, then_value.ty, e.then_branch.span())?;
                }
                (Block::new(), false)
            }
        };
        self.emit(
            Statement::If {
                condition,
                accept,
                reject,
            },
            span,
        );
        Ok(self.branch_result(result, then_value.ty == Ty::Never && else_diverges, span))
    }

    /// Runs `f` with `block` as the innermost open block (appending to it).
    fn with_block<T>(&mut self, block: &mut Block, f: impl FnOnce(&mut Self) -> T) -> T {
        self.blocks.push(std::mem::take(block));
        let value = f(self);
        *block = self.blocks.pop().expect("pushed above");
        value
    }

    /// `match` lowers to a chain of `if`s over the arms' patterns (integer,
    /// bool and range literals, or-patterns, bindings, `_`) and guards.
    pub fn lower_match(&mut self, m: &syn::ExprMatch) -> Result<Val> {
        let span = m.span();
        let scrutinee = self.lower_expr(&m.expr)?;
        let scrutinee = self.spill(scrutinee, m.expr.span());
        let Some(subject) = scrutinee.expr else {
            return Err(not_a_value(&m.expr));
        };
        match self.scalar_of(scrutinee.ty) {
            Some(Scalar::Int(_) | Scalar::Bool) => {}
            None if self.is_int(scrutinee.ty) => {}
            _ => {
                return Err(FrontError::unsupported(
                    "`match` on this type",
                    "match on integers or bools; compare floats with `if`",
                    m.expr.span(),
                ))
            }
        }
        let mut result = None;
        let mut all_diverge = true;
        let chain = self.lower_arms(
            &m.arms,
            subject,
            scrutinee.ty,
            &mut result,
            &mut all_diverge,
        )?;
        for (statement, s) in chain.statements.into_iter().zip(chain.spans) {
            self.blocks.last_mut().expect("open").push(statement, s);
        }
        Ok(self.branch_result(result, all_diverge, span))
    }

    fn lower_arms(
        &mut self,
        arms: &[syn::Arm],
        subject: Handle<Expression>,
        ty: Ty,
        result: &mut Option<(Handle<Local>, Ty)>,
        all_diverge: &mut bool,
    ) -> Result<Block> {
        let Some((arm, rest)) = arms.split_first() else {
            // No arm matched: rustc proved this unreachable for exhaustive
            // matches; keep it a fault rather than fall through silently.
            let mut block = Block::new();
            block.push(
                Statement::Fault(CheckKind::Explicit),
                crate::span::Span::UNKNOWN,
            );
            return Ok(block);
        };
        let (block, outcome) = self.in_block(|this| -> Result<()> {
            let condition = this.pattern_condition(&arm.pat, subject, ty)?;
            let (matched, lowered) = this.in_block(|this| -> Result<()> {
                this.bind_pattern(&arm.pat, subject, ty);
                match &arm.guard {
                    None => {
                        let value = this.lower_expr(&arm.body)?;
                        if value.ty != Ty::Never {
                            *all_diverge = false;
                        }
                        this.store_branch(result, value, arm.body.span())
                    }
                    Some((_, guard)) => {
                        let guard_holds = this.lower_condition(guard)?;
                        let (taken, lowered) = this.in_block(|this| -> Result<()> {
                            let value = this.lower_expr(&arm.body)?;
                            if value.ty != Ty::Never {
                                *all_diverge = false;
                            }
                            this.store_branch(result, value, arm.body.span())
                        });
                        lowered?;
                        // A failed guard falls through to the remaining arms.
                        let fallthrough =
                            this.lower_arms(rest, subject, ty, result, all_diverge)?;
                        this.emit(
                            Statement::If {
                                condition: guard_holds,
                                accept: taken,
                                reject: fallthrough,
                            },
                            arm.span(),
                        );
                        Ok(())
                    }
                }
            });
            lowered?;
            match condition {
                // Irrefutable: the remaining arms are unreachable.
                None => this.emit(Statement::Block(matched), arm.span()),
                Some(condition) => {
                    let otherwise = this.lower_arms(rest, subject, ty, result, all_diverge)?;
                    this.emit(
                        Statement::If {
                            condition,
                            accept: matched,
                            reject: otherwise,
                        },
                        arm.span(),
                    );
                }
            }
            Ok(())
        });
        outcome?;
        Ok(block)
    }

    /// The condition under which `pat` matches `subject`; `None` if it always does.
    fn pattern_condition(
        &mut self,
        pat: &syn::Pat,
        subject: Handle<Expression>,
        ty: Ty,
    ) -> Result<Option<Handle<Expression>>> {
        let span = pat.span();
        match pat {
            syn::Pat::Wild(_) => Ok(None),
            syn::Pat::Ident(ident) if ident.subpat.is_none() => Ok(None),
            syn::Pat::Lit(lit) => {
                let value = self.lower_expr(&syn::Expr::Lit(lit.clone()))?;
                Ok(Some(self.compare(
                    BinaryOp::Eq,
                    subject,
                    value,
                    ty,
                    span,
                )?))
            }
            syn::Pat::Paren(p) => self.pattern_condition(&p.pat, subject, ty),
            syn::Pat::Or(or) => {
                let mut acc: Option<Handle<Expression>> = None;
                for case in &or.cases {
                    let Some(c) = self.pattern_condition(case, subject, ty)? else {
                        return Ok(None);
                    };
                    acc = Some(match acc {
                        None => c,
                        Some(a) => {
                            let b = self.bool_ty();
                            self.expr(
                                Expression::Binary {
                                    op: BinaryOp::LogicalOr,
                                    left: a,
                                    right: c,
                                },
                                b,
                                span,
                            )
                        }
                    });
                }
                Ok(acc)
            }
            syn::Pat::Range(range) => {
                let mut acc = None;
                if let Some(start) = &range.start {
                    let v = self.lower_expr(start)?;
                    acc = Some(self.compare(BinaryOp::Ge, subject, v, ty, span)?);
                }
                if let Some(end) = &range.end {
                    let v = self.lower_expr(end)?;
                    let op = match range.limits {
                        syn::RangeLimits::Closed(_) => BinaryOp::Le,
                        syn::RangeLimits::HalfOpen(_) => BinaryOp::Lt,
                    };
                    let c = self.compare(op, subject, v, ty, span)?;
                    acc = Some(match acc {
                        None => c,
                        Some(a) => {
                            let b = self.bool_ty();
                            self.expr(
                                Expression::Binary {
                                    op: BinaryOp::LogicalAnd,
                                    left: a,
                                    right: c,
                                },
                                b,
                                span,
                            )
                        }
                    });
                }
                Ok(acc)
            }
            _ => Err(FrontError::unsupported(
                "this pattern",
                "use literals, ranges (`1..=5`), or-patterns (`1 | 2`), a binding or `_`",
                span,
            )),
        }
    }

    fn compare(
        &mut self,
        op: BinaryOp,
        subject: Handle<Expression>,
        value: Val,
        ty: Ty,
        span: proc_macro2::Span,
    ) -> Result<Handle<Expression>> {
        self.unify(ty, value.ty, span)?;
        let right = value.expr.expect("a pattern literal");
        let b = self.bool_ty();
        Ok(self.expr(
            Expression::Binary {
                op,
                left: subject,
                right,
            },
            b,
            span,
        ))
    }

    /// Binds the names a pattern introduces (`x` or `x @ …` is not supported;
    /// a plain identifier binds the scrutinee).
    fn bind_pattern(&mut self, pat: &syn::Pat, subject: Handle<Expression>, ty: Ty) {
        if let syn::Pat::Ident(ident) = pat {
            if ident.subpat.is_none() {
                if let Expression::Local(local) = self.func.expressions[subject] {
                    self.bind(ident.ident.to_string(), Binding::Local { local, ty });
                }
            }
        }
    }

    /// `a && b` / `a || b`. When `b` is pure and cannot fault it stays one
    /// expression; otherwise `b` is evaluated only when needed, through a
    /// temporary and an `if`, as Rust short-circuits.
    pub fn lower_short_circuit(&mut self, binary: &syn::ExprBinary) -> Result<Val> {
        let span = binary.span();
        let is_and = matches!(binary.op, syn::BinOp::And(_));
        let left = self.lower_condition(&binary.left)?;
        let (right_block, right) = self.in_block(|this| this.lower_condition(&binary.right));
        let right = right?;
        let b = self.bool_ty();
        if right_block.is_empty() && !self.may_fault(right) {
            let op = if is_and {
                BinaryOp::LogicalAnd
            } else {
                BinaryOp::LogicalOr
            };
            return Ok(Val {
                expr: Some(self.expr(Expression::Binary { op, left, right }, b, span)),
                ty: b,
            });
        }
        let temp = self.new_local(None, b, true, span);
        let place = self.expr(Expression::Local(temp), b, span);
        self.emit(Statement::Store { place, value: left }, binary.left.span());
        let mut evaluate_right = right_block;
        let place_again = self.expr(Expression::Local(temp), b, span);
        evaluate_right.push(
            Statement::Store {
                place: place_again,
                value: right,
            },
            crate::span::Span::from_proc_macro2(binary.right.span()),
        );
        let condition = if is_and {
            place
        } else {
            self.expr(
                Expression::Unary {
                    op: UnaryOp::Not,
                    expr: place,
                },
                b,
                span,
            )
        };
        self.emit(
            Statement::If {
                condition,
                accept: evaluate_right,
                reject: Block::new(),
            },
            span,
        );
        Ok(Val {
            expr: Some(self.expr(Expression::Local(temp), b, span)),
            ty: b,
        })
    }

    /// Whether evaluating `e` could need a check (index, division, integer
    /// arithmetic that may overflow, shifts, checked math).
    pub fn may_fault(&self, e: Handle<Expression>) -> bool {
        match &self.func.expressions[e] {
            Expression::Literal(_)
            | Expression::Local(_)
            | Expression::Shared(_)
            | Expression::Builtin(_) => false,
            Expression::Index { .. } => true,
            Expression::Field { base, .. } | Expression::Deref(base) | Expression::Len(base) => {
                self.may_fault(*base)
            }
            Expression::Unary { op, expr } => {
                (*op == UnaryOp::Neg && self.is_int(self.ty_of_expr(*expr)))
                    || self.may_fault(*expr)
            }
            Expression::Binary { op, left, right } => {
                let int = self.is_int(self.ty_of_expr(*left));
                let risky = int
                    && matches!(
                        op,
                        BinaryOp::Add
                            | BinaryOp::Sub
                            | BinaryOp::Mul
                            | BinaryOp::Div
                            | BinaryOp::Rem
                            | BinaryOp::Shl
                            | BinaryOp::Shr
                    );
                risky || self.may_fault(*left) || self.may_fault(*right)
            }
            Expression::Cast { expr, .. } => self.may_fault(*expr),
            Expression::Math { .. } => true,
            Expression::Overflows { left, right, .. } => {
                self.may_fault(*left) || self.may_fault(*right)
            }
            Expression::Compose { components, .. } => components.iter().any(|c| self.may_fault(*c)),
            Expression::Splat { value, .. } => self.may_fault(*value),
        }
    }

    /// A `bool` literal expression.
    pub fn bool_literal(&mut self, value: bool, span: proc_macro2::Span) -> Handle<Expression> {
        let b = self.bool_ty();
        self.expr(Expression::Literal(Literal::Bool(value)), b, span)
    }
}
