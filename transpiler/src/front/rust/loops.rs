//! Lowering of loops and the jumps out of them: `while`, `loop` (with its
//! `break` value), `for` over ranges, `break`/`continue` (labels resolved
//! through the enclosing loop frames) and `return`.

use syn::spanned::Spanned;

use super::body::{FnLowerer, LoopFrame, Val};
use super::error::{FrontError, FrontErrorKind, Result};
use super::infer::Ty;
use crate::ir::{BinaryOp, Block, CheckKind, Expression, Statement, UnaryOp};

impl FnLowerer<'_> {
    pub fn lower_while(&mut self, w: &syn::ExprWhile) -> Result<Val> {
        let span = w.span();
        let id = self.fresh_loop();
        let label = w.label.as_ref().map(|l| l.name.ident.to_string());
        self.loops.push(LoopFrame {
            id,
            label,
            result: None,
        });
        let (body, outcome) = self.in_block(|this| -> Result<()> {
            let condition = this.lower_condition(&w.cond)?;
            let b = this.bool_ty();
            let negated = this.expr(
                Expression::Unary {
                    op: UnaryOp::Not,
                    expr: condition,
                },
                b,
                w.cond.span(),
            );
            let mut exit = Block::new();
            exit.push(
                Statement::Break(id),
                crate::span::Span::from_proc_macro2(w.cond.span()),
            );
            this.emit(
                Statement::If {
                    condition: negated,
                    accept: exit,
                    reject: Block::new(),
                },
                w.cond.span(),
            );
            let value = this.lower_block_expr(&w.body);
            if value.ty != Ty::Never && !this.is_unit(value.ty) {
                let unit = this.unit();
                this.unify(unit, value.ty, w.body.span())?;
            }
            Ok(())
        });
        self.loops.pop();
        outcome?;
        self.emit(Statement::Loop { id, body }, span);
        Ok(self.unit_val())
    }

    pub fn lower_loop(&mut self, l: &syn::ExprLoop) -> Result<Val> {
        let span = l.span();
        let id = self.fresh_loop();
        let label = l.label.as_ref().map(|l| l.name.ident.to_string());
        self.loops.push(LoopFrame {
            id,
            label,
            result: None,
        });
        let (body, _) = self.in_block(|this| this.lower_block_expr(&l.body));
        let frame = self.loops.pop().expect("pushed above");
        self.emit(Statement::Loop { id, body }, span);
        let has_break = block_breaks(
            &self.blocks.last().expect("open").statements.last().cloned(),
            id,
        );
        match frame.result {
            Some((local, ty)) if !self.is_unit(ty) => Ok(Val {
                expr: Some(self.expr(Expression::Local(local), ty, span)),
                ty,
            }),
            _ if has_break => Ok(self.unit_val()),
            _ => Ok(Val {
                expr: None,
                ty: Ty::Never,
            }),
        }
    }

    /// `for x in a..b`, `a..=b`, with `.rev()` and/or `.step_by(s)`.
    pub fn lower_for(&mut self, f: &syn::ExprForLoop) -> Result<Val> {
        let span = f.span();
        let (name, mutable) = match &*f.pat {
            syn::Pat::Ident(ident) if ident.subpat.is_none() && ident.by_ref.is_none() => {
                (Some(ident.ident.to_string()), ident.mutability.is_some())
            }
            syn::Pat::Wild(_) => (None, false),
            other => {
                return Err(FrontError::unsupported(
                    "this loop pattern",
                    "use a plain name: `for i in 0..n`",
                    other.span(),
                ))
            }
        };
        let iter = super::range::parse_range(&f.expr)?;
        let id = self.fresh_loop();
        let label = f.label.as_ref().map(|l| l.name.ident.to_string());
        // Bounds and step are evaluated once, before the loop, left to right.
        let start = self.lower_expr(iter.start)?;
        let start = self.spill(start, iter.start.span());
        let end = self.lower_expr(iter.end)?;
        let ty = self.unify(start.ty, end.ty, iter.end.span())?;
        if !self.is_int(ty) {
            return Err(FrontError::unsupported(
                "ranges over this type",
                "iterate over integer ranges",
                iter.end.span(),
            ));
        }
        // The range's type may still be a variable (`0..16`): uses of the
        // loop variable in the body can bind it, as in rustc; it defaults to
        // `i32` only when nothing does.
        let end = self.spill(end, iter.end.span());
        let step = match iter.step {
            Some(step_expr) => {
                let s = self.lower_expr(step_expr)?;
                let usize_ty = self.usize_ty();
                self.unify(usize_ty, s.ty, step_expr.span())?;
                let s = self.spill(s, step_expr.span());
                // `step_by(0)` panics in Rust.
                let zero = self.int_literal(0, usize_ty, step_expr.span())?;
                let b = self.bool_ty();
                let nonzero = self.expr(
                    Expression::Binary {
                        op: BinaryOp::Ne,
                        left: s.expr.expect("value"),
                        right: zero.expr.expect("value"),
                    },
                    b,
                    step_expr.span(),
                );
                self.emit(
                    Statement::Check {
                        kind: CheckKind::InvalidArgument,
                        condition: nonzero,
                    },
                    step_expr.span(),
                );
                Some(s)
            }
            None => None,
        };
        super::range::emit_range_loop(
            self,
            super::range::RangeLoop {
                id,
                label,
                var_name: name,
                var_mutable: mutable,
                ty,
                start: start.expr.expect("value"),
                end: end.expr.expect("value"),
                inclusive: iter.inclusive,
                reverse: iter.reverse,
                step: step.map(|s| s.expr.expect("value")),
                body: &f.body,
                span,
            },
        )?;
        Ok(self.unit_val())
    }

    pub fn find_loop(
        &self,
        label: Option<&syn::Lifetime>,
        keyword: &'static str,
        span: proc_macro2::Span,
    ) -> Result<usize> {
        let found = match label {
            Some(l) => self
                .loops
                .iter()
                .rposition(|f| f.label.as_deref() == Some(&l.ident.to_string())),
            None => self.loops.len().checked_sub(1),
        };
        found.ok_or_else(|| {
            FrontError::new(
                FrontErrorKind::OutsideLoop {
                    keyword,
                    label: label
                        .map(|l| format!(" labelled `{l}`"))
                        .unwrap_or_default(),
                },
                span,
            )
        })
    }

    pub fn lower_break(&mut self, b: &syn::ExprBreak) -> Result<Val> {
        let span = b.span();
        let index = self.find_loop(b.label.as_ref(), "break", span)?;
        if let Some(value_expr) = &b.expr {
            let value = self.lower_expr(value_expr)?;
            let mut result = self.loops[index].result;
            self.store_branch(&mut result, value, value_expr.span())?;
            self.loops[index].result = result;
        }
        let id = self.loops[index].id;
        self.emit(Statement::Break(id), span);
        Ok(Val {
            expr: None,
            ty: Ty::Never,
        })
    }

    pub fn lower_continue(&mut self, c: &syn::ExprContinue) -> Result<Val> {
        let span = c.span();
        let index = self.find_loop(c.label.as_ref(), "continue", span)?;
        let id = self.loops[index].id;
        self.emit(Statement::Continue(id), span);
        Ok(Val {
            expr: None,
            ty: Ty::Never,
        })
    }

    pub fn lower_return(
        &mut self,
        value: Option<&syn::Expr>,
        span: proc_macro2::Span,
    ) -> Result<Val> {
        let returned = match value {
            Some(e) => {
                let v = self.lower_expr_expecting(e, self.result_ty)?;
                self.unify(self.result_ty, v.ty, e.span())?;
                v.expr
            }
            None => {
                let unit = self.unit();
                self.unify(self.result_ty, unit, span)?;
                None
            }
        };
        self.emit(Statement::Return(returned), span);
        Ok(Val {
            expr: None,
            ty: Ty::Never,
        })
    }
}

/// Whether the loop statement `last` (just emitted) contains a `break` of `id`.
fn block_breaks(last: &Option<Statement>, id: crate::ir::LoopId) -> bool {
    fn in_block(block: &Block, id: crate::ir::LoopId) -> bool {
        block.statements.iter().any(|s| in_stmt(s, id))
    }
    fn in_stmt(s: &Statement, id: crate::ir::LoopId) -> bool {
        match s {
            Statement::Break(b) => *b == id,
            Statement::If { accept, reject, .. } => in_block(accept, id) || in_block(reject, id),
            Statement::Loop { body, .. } | Statement::Block(body) => in_block(body, id),
            _ => false,
        }
    }
    matches!(last, Some(s) if in_stmt(s, id))
}
