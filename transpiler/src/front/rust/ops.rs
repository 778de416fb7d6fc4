//! Lowering of operators: unary and binary operators (Rust's integer,
//! float and boolean rules, checked arithmetic) and `as` casts.

use syn::spanned::Spanned;

use super::body::{Binding, FnLowerer, Val};
use super::error::{FrontError, FrontErrorKind, Result};
use super::expr::not_a_value;
use super::infer::Ty;
use crate::arena::Handle;
use crate::ir::{BinaryOp, Expression, Scalar, Statement, Type, UnaryOp};

impl FnLowerer<'_> {
    pub(super) fn lower_unary(&mut self, unary: &syn::ExprUnary) -> Result<Val> {
        let span = unary.span();
        match unary.op {
            syn::UnOp::Neg(_) => {
                // `-128i8` is a literal, not the negation of an out-of-range one.
                if let syn::Expr::Lit(lit) = &*unary.expr {
                    return self.lower_literal(&lit.lit, true);
                }
                let operand = self.lower_expr(&unary.expr)?;
                match self.scalar_of(operand.ty) {
                    Some(Scalar::Int(k)) if !k.signed() => {
                        return Err(FrontError::new(
                            FrontErrorKind::InvalidOperand {
                                op: "-",
                                ty: k.rust_name().into(),
                            },
                            span,
                        ))
                    }
                    Some(Scalar::Int(_) | Scalar::Float(_)) => {}
                    None if self.is_int(operand.ty) => self.deferred_neg.push((operand.ty, span)),
                    None if self.is_float(operand.ty) => {}
                    _ => return Err(self.invalid_operand("-", operand.ty, span)),
                }
                let e = operand.expr.ok_or_else(|| not_a_value(&unary.expr))?;
                Ok(Val {
                    expr: Some(self.expr(
                        Expression::Unary {
                            op: UnaryOp::Neg,
                            expr: e,
                        },
                        operand.ty,
                        span,
                    )),
                    ty: operand.ty,
                })
            }
            syn::UnOp::Not(_) => {
                let operand = self.lower_expr(&unary.expr)?;
                let ok =
                    self.is_int(operand.ty) || self.scalar_of(operand.ty) == Some(Scalar::Bool);
                if !ok {
                    return Err(self.invalid_operand("!", operand.ty, span));
                }
                let e = operand.expr.ok_or_else(|| not_a_value(&unary.expr))?;
                Ok(Val {
                    expr: Some(self.expr(
                        Expression::Unary {
                            op: UnaryOp::Not,
                            expr: e,
                        },
                        operand.ty,
                        span,
                    )),
                    ty: operand.ty,
                })
            }
            syn::UnOp::Deref(_) => {
                let operand = self.lower_expr(&unary.expr)?;
                self.deref(operand, span)
            }
            _ => Err(FrontError::unsupported(
                "this unary operator",
                "use `-`, `!` or `*`",
                span,
            )),
        }
    }

    /// `*x`: through a reference parameter, or a no-op on an alias of a place.
    pub fn deref(&mut self, operand: Val, span: proc_macro2::Span) -> Result<Val> {
        let e = operand
            .expr
            .ok_or_else(|| FrontError::unsupported("dereferencing `()`", "remove the `*`", span))?;
        match self.type_of(operand.ty).cloned() {
            Some(Type::Ref { target, .. }) => {
                let ty = Ty::Known(target);
                Ok(Val {
                    expr: Some(self.expr(Expression::Deref(e), ty, span)),
                    ty,
                })
            }
            // An alias already denotes the place (`let r = &mut a[i]; *r`).
            _ if self.is_alias_place(e) => Ok(operand),
            _ => Err(self.invalid_operand("*", operand.ty, span)),
        }
    }

    pub(super) fn is_alias_place(&self, e: Handle<crate::ir::Expression>) -> bool {
        self.scopes
            .iter()
            .flat_map(|s| s.values())
            .any(|b| matches!(b, Binding::Alias { place, .. } if *place == e))
    }

    pub fn invalid_operand(&self, op: &'static str, ty: Ty, span: proc_macro2::Span) -> FrontError {
        FrontError::new(
            FrontErrorKind::InvalidOperand {
                op,
                ty: self.describe(ty),
            },
            span,
        )
    }

    pub(super) fn lower_binary(&mut self, binary: &syn::ExprBinary) -> Result<Val> {
        let span = binary.span();
        use syn::BinOp as B;
        let (op, compound) = match binary.op {
            B::Add(_) => (BinaryOp::Add, false),
            B::Sub(_) => (BinaryOp::Sub, false),
            B::Mul(_) => (BinaryOp::Mul, false),
            B::Div(_) => (BinaryOp::Div, false),
            B::Rem(_) => (BinaryOp::Rem, false),
            B::BitAnd(_) => (BinaryOp::BitAnd, false),
            B::BitOr(_) => (BinaryOp::BitOr, false),
            B::BitXor(_) => (BinaryOp::BitXor, false),
            B::Shl(_) => (BinaryOp::Shl, false),
            B::Shr(_) => (BinaryOp::Shr, false),
            B::Eq(_) => (BinaryOp::Eq, false),
            B::Ne(_) => (BinaryOp::Ne, false),
            B::Lt(_) => (BinaryOp::Lt, false),
            B::Le(_) => (BinaryOp::Le, false),
            B::Gt(_) => (BinaryOp::Gt, false),
            B::Ge(_) => (BinaryOp::Ge, false),
            B::And(_) | B::Or(_) => return self.lower_short_circuit(binary),
            B::AddAssign(_) => (BinaryOp::Add, true),
            B::SubAssign(_) => (BinaryOp::Sub, true),
            B::MulAssign(_) => (BinaryOp::Mul, true),
            B::DivAssign(_) => (BinaryOp::Div, true),
            B::RemAssign(_) => (BinaryOp::Rem, true),
            B::BitAndAssign(_) => (BinaryOp::BitAnd, true),
            B::BitOrAssign(_) => (BinaryOp::BitOr, true),
            B::BitXorAssign(_) => (BinaryOp::BitXor, true),
            B::ShlAssign(_) => (BinaryOp::Shl, true),
            B::ShrAssign(_) => (BinaryOp::Shr, true),
            _ => {
                return Err(FrontError::unsupported(
                    "this operator",
                    "use the arithmetic, bit and comparison operators",
                    span,
                ))
            }
        };
        if compound {
            // Rust evaluates the right operand first for primitive compound
            // assignment, then the place.
            let right = self.lower_expr(&binary.right)?;
            let right = if self.emits_statements_for(&binary.left) {
                self.spill(right, span)
            } else {
                right
            };
            let (place, ty, mutable) = self.lower_place(&binary.left, true)?;
            self.require_mutable(mutable, &binary.left)?;
            let place = self.stabilise_place(place, span);
            let value = self.binary_value(
                op,
                Val {
                    expr: Some(place),
                    ty,
                },
                right,
                span,
                binary.right.span(),
            )?;
            self.unify(ty, value.ty, span)?;
            if let Some(value) = value.expr {
                self.emit(Statement::Store { place, value }, span);
            }
            return Ok(self.unit_val());
        }
        let left = self.lower_expr(&binary.left)?;
        let left = if self.emits_statements_for(&binary.right) {
            self.spill(left, binary.left.span())
        } else {
            left
        };
        let right = self.lower_expr(&binary.right)?;
        self.binary_value(op, left, right, span, binary.right.span())
    }

    /// Type-checks and builds `left op right`.
    pub fn binary_value(
        &mut self,
        op: BinaryOp,
        left: Val,
        right: Val,
        span: proc_macro2::Span,
        right_span: proc_macro2::Span,
    ) -> Result<Val> {
        if left.ty == Ty::Never || right.ty == Ty::Never {
            return Ok(Val {
                expr: None,
                ty: Ty::Never,
            });
        }
        let (Some(l), Some(r)) = (left.expr, right.expr) else {
            return Err(FrontError::new(
                FrontErrorKind::InvalidOperand {
                    op: op.symbol(),
                    ty: "()".into(),
                },
                span,
            ));
        };
        let result_ty = match op {
            BinaryOp::Shl | BinaryOp::Shr => {
                if !self.is_int(left.ty) {
                    return Err(self.invalid_operand(op.symbol(), left.ty, span));
                }
                if !self.is_int(right.ty) {
                    return Err(self.invalid_operand(op.symbol(), right.ty, right_span));
                }
                left.ty
            }
            _ => {
                let ty = self.unify(left.ty, right.ty, right_span)?;
                let is_bool = self.scalar_of(ty) == Some(Scalar::Bool);
                let numeric = self.is_int(ty) || self.is_float(ty);
                let ok = match op {
                    BinaryOp::Add
                    | BinaryOp::Sub
                    | BinaryOp::Mul
                    | BinaryOp::Div
                    | BinaryOp::Rem => numeric,
                    BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor => {
                        self.is_int(ty) || is_bool
                    }
                    _ => numeric || is_bool,
                };
                if !ok {
                    return Err(self.invalid_operand(op.symbol(), ty, span));
                }
                if op.is_comparison() {
                    self.bool_ty()
                } else {
                    ty
                }
            }
        };
        Ok(Val {
            expr: Some(self.expr(
                Expression::Binary {
                    op,
                    left: l,
                    right: r,
                },
                result_ty,
                span,
            )),
            ty: result_ty,
        })
    }

    /// Whether lowering `expr` may emit statements (calls, control flow,
    /// blocks): then operands lowered before it must be spilled to keep
    /// Rust's left-to-right evaluation order.
    pub fn emits_statements_for(&self, expr: &syn::Expr) -> bool {
        struct Finder(bool);
        impl<'ast> syn::visit::Visit<'ast> for Finder {
            fn visit_expr(&mut self, e: &'ast syn::Expr) {
                match e {
                    syn::Expr::Call(_)
                    | syn::Expr::MethodCall(_)
                    | syn::Expr::Block(_)
                    | syn::Expr::If(_)
                    | syn::Expr::Match(_)
                    | syn::Expr::Loop(_)
                    | syn::Expr::While(_)
                    | syn::Expr::ForLoop(_)
                    | syn::Expr::Assign(_)
                    | syn::Expr::Macro(_) => self.0 = true,
                    syn::Expr::Binary(b)
                        if matches!(b.op, syn::BinOp::And(_) | syn::BinOp::Or(_)) =>
                    {
                        self.0 = true
                    }
                    _ => syn::visit::visit_expr(self, e),
                }
            }
        }
        let mut finder = Finder(false);
        syn::visit::Visit::visit_expr(&mut finder, expr);
        finder.0
    }

    pub(super) fn lower_cast(&mut self, cast: &syn::ExprCast) -> Result<Val> {
        let span = cast.span();
        let target = self.resolve_type(&cast.ty)?;
        let Type::Scalar(to) = self.module.types[target] else {
            return Err(FrontError::new(
                FrontErrorKind::InvalidCast {
                    from: "_".into(),
                    to: super::types::type_name(self.module, target),
                },
                cast.ty.span(),
            ));
        };
        // rustc types an unsuffixed integer literal operand by the cast's
        // target when that is an integer type (`300 as u8` is an error).
        let operand = match (&*cast.expr, to) {
            (
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(i),
                    ..
                }),
                Scalar::Int(_),
            ) if i.suffix().is_empty() => {
                let v = self.lower_expr(&cast.expr)?;
                self.unify(Ty::Known(target), v.ty, cast.expr.span())?;
                v
            }
            _ => self.lower_expr(&cast.expr)?,
        };
        if operand.ty == Ty::Never {
            return Ok(operand);
        }
        let from_ok = match (self.scalar_of(operand.ty), to) {
            (Some(Scalar::Bool), Scalar::Int(_)) => true,
            (Some(Scalar::Bool), Scalar::Bool) => true,
            (Some(Scalar::Int(_) | Scalar::Float(_)), Scalar::Int(_) | Scalar::Float(_)) => true,
            (None, Scalar::Int(_) | Scalar::Float(_)) => {
                self.is_int(operand.ty) || self.is_float(operand.ty)
            }
            _ => false,
        };
        if !from_ok {
            return Err(FrontError::new(
                FrontErrorKind::InvalidCast {
                    from: self.describe(operand.ty),
                    to: to.rust_name().into(),
                },
                span,
            ));
        }
        let e = operand.expr.ok_or_else(|| not_a_value(&cast.expr))?;
        let ty = Ty::Known(target);
        Ok(Val {
            expr: Some(self.expr(Expression::Cast { expr: e, to }, ty, span)),
            ty,
        })
    }
}
