//! Lowering of expressions that are not control flow or calls: literals,
//! names, operators, casts, field and index access, struct and array
//! literals, assignments.

use syn::spanned::Spanned;

use super::body::{Binding, FnLowerer, Val};
use super::consts::associated_const;
use super::error::{FrontError, FrontErrorKind, Result};
use super::infer::{Ty, VarClass};
use crate::arena::Handle;
use crate::ir::{
    BinaryOp, Expression, FloatKind, IntKind, Literal, Scalar, Statement, Type, UnaryOp,
};

impl FnLowerer<'_> {
    pub fn lower_expr(&mut self, expr: &syn::Expr) -> Result<Val> {
        let span = expr.span();
        match expr {
            syn::Expr::Lit(lit) => self.lower_literal(&lit.lit, false),
            syn::Expr::Paren(p) => self.lower_expr(&p.expr),
            syn::Expr::Group(g) => self.lower_expr(&g.expr),
            syn::Expr::Path(path) => self.lower_path(path),
            syn::Expr::Unary(unary) => self.lower_unary(unary),
            syn::Expr::Binary(binary) => self.lower_binary(binary),
            syn::Expr::Assign(assign) => {
                let (place, ty, mutable) = self.lower_place(&assign.left, true)?;
                self.require_mutable(mutable, &assign.left)?;
                let value = self.lower_expr_expecting(&assign.right, ty)?;
                self.unify(ty, value.ty, assign.right.span())?;
                if let Some(value) = value.expr {
                    self.emit(Statement::Store { place, value }, span);
                }
                Ok(self.unit_val())
            }
            syn::Expr::Cast(cast) => self.lower_cast(cast),
            syn::Expr::Field(field) => {
                let base = self.lower_expr(&field.base)?;
                self.field_of(base, &field.member, span)
            }
            syn::Expr::Index(index) => {
                let base = self.lower_expr(&index.expr)?;
                self.index_of(base, &index.index, span)
            }
            syn::Expr::Struct(s) => self.lower_struct_literal(s),
            syn::Expr::Array(array) => self.lower_array_literal(array, None),
            syn::Expr::Repeat(repeat) => self.lower_repeat(repeat, None),
            syn::Expr::Block(block) => {
                if block.label.is_some() {
                    return Err(FrontError::unsupported("labelled blocks", "use a labelled `loop` with `break 'label`", span));
                }
                Ok(self.lower_block_expr(&block.block))
            }
            syn::Expr::If(e) => self.lower_if(e),
            syn::Expr::Match(m) => self.lower_match(m),
            syn::Expr::While(w) => self.lower_while(w),
            syn::Expr::Loop(l) => self.lower_loop(l),
            syn::Expr::ForLoop(f) => self.lower_for(f),
            syn::Expr::Break(b) => self.lower_break(b),
            syn::Expr::Continue(c) => self.lower_continue(c),
            syn::Expr::Return(r) => self.lower_return(r.expr.as_deref(), span),
            syn::Expr::MethodCall(call) => self.lower_method_call(call),
            syn::Expr::Call(call) => self.lower_call(call),
            syn::Expr::Macro(mac) => self.lower_macro(&mac.mac, span),
            syn::Expr::Reference(_) => Err(FrontError::unsupported(
                "taking a reference here",
                "references are allowed in `let r = &mut place;` and as atomic targets (`ctx.atomic_add(&mut x, 1)`)",
                span,
            )),
            syn::Expr::Closure(_) => Err(FrontError::unsupported("closures", "write a `#[device_fn]` and call it", span)),
            syn::Expr::Async(_) | syn::Expr::Await(_) => {
                Err(FrontError::unsupported("`async` and `.await`", "handlers are synchronous: each message runs to completion", span))
            }
            syn::Expr::Tuple(t) if t.elems.is_empty() => Ok(self.unit_val()),
            syn::Expr::Tuple(_) => Err(FrontError::unsupported("tuples", "use a #[repr(C)] struct with named fields", span)),
            syn::Expr::Range(_) => Err(FrontError::unsupported("ranges outside `for` loops", "use a range directly in `for i in a..b`", span)),
            syn::Expr::Try(_) => Err(FrontError::unsupported("the `?` operator", "there are no `Result`s on the device; check and `return` early", span)),
            syn::Expr::Let(_) => Err(FrontError::unsupported("`let` in conditions (`if let`, `while let`)", "compare values with `if`/`match`", span)),
            syn::Expr::Unsafe(_) => Err(FrontError::unsupported("`unsafe` blocks", "kernels are safe code; use the context's intrinsics", span)),
            syn::Expr::Yield(_) => Err(FrontError::unsupported("`yield`", "use a loop", span)),
            syn::Expr::Const(_) => Err(FrontError::unsupported("`const` blocks", "declare a `const` item", span)),
            _ => Err(FrontError::unsupported("this expression", "see the supported Rust subset in DESIGN.md §2", span)),
        }
    }

    /// Lowers `expr` where the context expects a value of type `expected`
    /// (a parameter, an annotated `let`, a field, a return value, an
    /// assigned place), as rustc's expectations do: an array literal takes
    /// its element type from it, so `f([0.0; 4])` with `f(v: [f32; 4])`
    /// builds an `[f32; 4]`. The caller still unifies the result with
    /// `expected`; anything that is not an array literal lowers as usual.
    pub fn lower_expr_expecting(&mut self, expr: &syn::Expr, expected: Ty) -> Result<Val> {
        let elem = match self.type_of(expected) {
            Some(Type::Array { elem, .. }) => Some(Ty::Known(*elem)),
            _ => None,
        };
        match (expr, elem) {
            (syn::Expr::Paren(p), _) => self.lower_expr_expecting(&p.expr, expected),
            (syn::Expr::Group(g), _) => self.lower_expr_expecting(&g.expr, expected),
            (syn::Expr::Array(array), Some(elem)) => self.lower_array_literal(array, Some(elem)),
            (syn::Expr::Repeat(repeat), Some(elem)) => self.lower_repeat(repeat, Some(elem)),
            _ => self.lower_expr(expr),
        }
    }

    /// `[value; N]`, its element type unified with `expected_elem` first.
    fn lower_repeat(&mut self, repeat: &syn::ExprRepeat, expected_elem: Option<Ty>) -> Result<Val> {
        let span = repeat.span();
        let value = match expected_elem {
            Some(e) => {
                let value = self.lower_expr_expecting(&repeat.expr, e)?;
                self.unify(e, value.ty, repeat.expr.span())?;
                value
            }
            None => self.lower_expr(&repeat.expr)?,
        };
        let len = self.const_env().eval_usize(&repeat.len)?;
        let elem = self.finish_now(value.ty, repeat.expr.span())?;
        let ty = self.module.ty(Type::Array { elem, len });
        let value = value.expr.ok_or_else(|| not_a_value(&repeat.expr))?;
        Ok(Val {
            expr: Some(self.expr(Expression::Splat { ty, value }, Ty::Known(ty), span)),
            ty: Ty::Known(ty),
        })
    }

    pub fn unit_val(&mut self) -> Val {
        let ty = self.unit();
        Val { expr: None, ty }
    }

    /// The final type of `ty` now, for places that need a concrete type
    /// (array elements): variables take their defaults, as rustc does when
    /// it must pick a type.
    pub fn finish_now(&mut self, ty: Ty, span: proc_macro2::Span) -> Result<Handle<Type>> {
        match self.infer.resolve(ty) {
            Ty::Known(t) => Ok(t),
            Ty::Never => Err(FrontError::unsupported(
                "a diverging expression here",
                "produce a value",
                span,
            )),
            var => {
                let t = self
                    .infer
                    .finish(self.module, var)
                    .expect("a variable has a default");
                self.unify(Ty::Known(t), var, span)?;
                Ok(t)
            }
        }
    }

    fn lower_literal(&mut self, lit: &syn::Lit, negative: bool) -> Result<Val> {
        let span = lit.span();
        match lit {
            syn::Lit::Float(f) => {
                let ty = match f.suffix() {
                    "f32" => self.scalar(Scalar::Float(FloatKind::F32)),
                    "f64" => self.scalar(Scalar::Float(FloatKind::F64)),
                    "" => self.infer.new_var(VarClass::Float),
                    _ => {
                        return Err(FrontError::unsupported(
                            "this literal suffix",
                            "use `f32` or `f64`",
                            span,
                        ))
                    }
                };
                Ok(self.float_literal(f.base10_digits(), negative, ty, span))
            }
            syn::Lit::Int(i) if matches!(i.suffix(), "f32" | "f64") => {
                let kind = if i.suffix() == "f32" {
                    FloatKind::F32
                } else {
                    FloatKind::F64
                };
                let ty = self.scalar(Scalar::Float(kind));
                Ok(self.float_literal(i.base10_digits(), negative, ty, span))
            }
            syn::Lit::Int(i) => {
                let value: i128 = i.base10_parse().map_err(|_| {
                    FrontError::new(
                        FrontErrorKind::LiteralOutOfRange {
                            ty: "u128",
                            literal: i.to_string(),
                        },
                        span,
                    )
                })?;
                let ty = match i.suffix() {
                    "" => self.infer.new_var(VarClass::Int),
                    s => match IntKind::from_rust_name(s) {
                        Some(kind) => self.scalar(Scalar::Int(kind)),
                        None => {
                            return Err(FrontError::unsupported(
                                "this literal suffix",
                                "use `u8`…`u64`, `usize`, `i8`…`i64`, `isize`",
                                span,
                            ))
                        }
                    },
                };
                if negative {
                    self.deferred_neg.push((ty, span));
                }
                self.int_literal(if negative { -value } else { value }, ty, span)
            }
            syn::Lit::Bool(b) => {
                let ty = self.bool_ty();
                Ok(Val {
                    expr: Some(self.expr(Expression::Literal(Literal::Bool(b.value)), ty, span)),
                    ty,
                })
            }
            _ => Err(FrontError::unsupported(
                "string, byte and char literals",
                "the device has no strings; use numbers",
                span,
            )),
        }
    }

    fn lower_path(&mut self, path: &syn::ExprPath) -> Result<Val> {
        let span = path.span();
        if path.qself.is_some() {
            return Err(FrontError::unsupported(
                "qualified paths",
                "name the value directly",
                span,
            ));
        }
        if let Some(ident) = path.path.get_ident() {
            let name = ident.to_string();
            return match self.lookup(&name).cloned() {
                Some(Binding::Local { local, ty }) => Ok(Val {
                    expr: Some(self.expr(Expression::Local(local), ty, span)),
                    ty,
                }),
                Some(Binding::Alias { place, ty, .. }) => Ok(Val {
                    expr: Some(place),
                    ty,
                }),
                Some(Binding::Const(value)) => self.const_literal(value, span),
                Some(Binding::Poisoned) => Err(FrontError::new(FrontErrorKind::Cascade, span)),
                Some(Binding::Context { .. }) => Err(FrontError::unsupported(
                    "using the context as a value",
                    "call its methods: `ctx.thread_id()`",
                    span,
                )),
                None => Err(FrontError::new(
                    FrontErrorKind::NotFound {
                        what: "value",
                        name,
                    },
                    span,
                )),
            };
        }
        let segments: Vec<String> = path
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        match associated_const(&segments) {
            Some(value) => self.const_literal(value, span),
            None => Err(FrontError::new(
                FrontErrorKind::NotFound {
                    what: "value",
                    name: segments.join("::"),
                },
                span,
            )),
        }
    }

    fn lower_unary(&mut self, unary: &syn::ExprUnary) -> Result<Val> {
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

    fn is_alias_place(&self, e: Handle<crate::ir::Expression>) -> bool {
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

    fn lower_binary(&mut self, binary: &syn::ExprBinary) -> Result<Val> {
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

    fn lower_cast(&mut self, cast: &syn::ExprCast) -> Result<Val> {
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

    /// `base.member`, auto-dereferencing references.
    pub fn field_of(
        &mut self,
        base: Val,
        member: &syn::Member,
        span: proc_macro2::Span,
    ) -> Result<Val> {
        let base = self.auto_deref(base, span)?;
        let syn::Member::Named(name) = member else {
            return Err(FrontError::unsupported(
                "tuple fields",
                "use structs with named fields",
                member.span(),
            ));
        };
        let Some(Type::Struct(st)) = self.type_of(base.ty).cloned() else {
            return Err(FrontError::new(
                FrontErrorKind::NotFound {
                    what: "field",
                    name: format!("{} on type `{}`", name, self.describe(base.ty)),
                },
                member.span(),
            ));
        };
        let Some(index) = st.members.iter().position(|m| *name == m.name) else {
            return Err(FrontError::new(
                FrontErrorKind::NotFound {
                    what: "field",
                    name: format!("{} on type `{}`", name, st.name),
                },
                member.span(),
            ));
        };
        let ty = Ty::Known(st.members[index].ty);
        let b = base.expr.expect("a struct value");
        Ok(Val {
            expr: Some(self.expr(
                Expression::Field {
                    base: b,
                    index: index as u32,
                },
                ty,
                span,
            )),
            ty,
        })
    }

    /// `base[index]` on arrays and slices; the index must be `usize`.
    pub fn index_of(
        &mut self,
        base: Val,
        index: &syn::Expr,
        span: proc_macro2::Span,
    ) -> Result<Val> {
        let base = self.auto_deref(base, span)?;
        let elem = match self.type_of(base.ty) {
            Some(Type::Array { elem, .. }) | Some(Type::Slice { elem, .. }) => *elem,
            _ => return Err(self.invalid_operand("[]", base.ty, span)),
        };
        if let syn::Expr::Range(_) = index {
            return Err(FrontError::unsupported(
                "range indexing (sub-slices)",
                "index elements one at a time",
                index.span(),
            ));
        }
        // Bases are places (locals, parameters, fields): an index operand
        // that emits statements cannot change which place they denote.
        let base_expr = base.expr.expect("an array value");
        let i = self.lower_expr(index)?;
        let usize_ty = self.usize_ty();
        self.unify(usize_ty, i.ty, index.span()).map_err(|_| {
            FrontError::new(
                FrontErrorKind::TypeMismatch {
                    expected: "usize".into(),
                    found: self.describe(i.ty),
                },
                index.span(),
            )
        })?;
        let i = i.expr.ok_or_else(|| not_a_value(index))?;
        let ty = Ty::Known(elem);
        Ok(Val {
            expr: Some(self.expr(
                Expression::Index {
                    base: base_expr,
                    index: i,
                },
                ty,
                span,
            )),
            ty,
        })
    }

    /// Follows references until a non-reference value (Rust's auto-deref for
    /// field access, indexing and method receivers).
    pub fn auto_deref(&mut self, mut value: Val, span: proc_macro2::Span) -> Result<Val> {
        while let Some(Type::Ref { target, .. }) = self.type_of(value.ty).cloned() {
            let e = value.expr.expect("a reference value");
            let ty = Ty::Known(target);
            value = Val {
                expr: Some(self.expr(Expression::Deref(e), ty, span)),
                ty,
            };
        }
        Ok(value)
    }

    /// Lowers an assignment target or borrowed place; returns the place, its
    /// type and whether it may be written.
    pub fn lower_place(
        &mut self,
        expr: &syn::Expr,
        for_write: bool,
    ) -> Result<(Handle<Expression>, Ty, bool)> {
        let span = expr.span();
        match expr {
            syn::Expr::Paren(p) => self.lower_place(&p.expr, for_write),
            syn::Expr::Path(path) if path.path.get_ident().is_some() => {
                let name = path.path.get_ident().unwrap().to_string();
                match self.lookup(&name).cloned() {
                    Some(Binding::Local { local, ty }) => {
                        let mutable = self.func.locals[local].mutable;
                        Ok((self.expr(Expression::Local(local), ty, span), ty, mutable))
                    }
                    Some(Binding::Alias { place, ty, mutable }) => Ok((place, ty, mutable)),
                    Some(Binding::Poisoned) => Err(FrontError::new(FrontErrorKind::Cascade, span)),
                    _ => Err(FrontError::new(
                        FrontErrorKind::NotAPlace {
                            action: if for_write { "assigned" } else { "borrowed" },
                        },
                        span,
                    )),
                }
            }
            syn::Expr::Field(field) => {
                let (base, ty, mutable) = self.lower_place(&field.base, for_write)?;
                let (base_ty, mutable) = self.through_refs(base, ty, mutable, span);
                let value = self.field_of(
                    Val {
                        expr: Some(base_ty.0),
                        ty: base_ty.1,
                    },
                    &field.member,
                    span,
                )?;
                Ok((value.expr.expect("a field"), value.ty, mutable))
            }
            syn::Expr::Index(index) => {
                let (base, ty, mutable) = self.lower_place(&index.expr, for_write)?;
                let (base_ty, mutable) = self.through_refs(base, ty, mutable, span);
                let slice_mutable = match self.type_of(base_ty.1) {
                    Some(Type::Slice { mutable, .. }) => *mutable,
                    _ => mutable,
                };
                let value = self.index_of(
                    Val {
                        expr: Some(base_ty.0),
                        ty: base_ty.1,
                    },
                    &index.index,
                    span,
                )?;
                Ok((value.expr.expect("an element"), value.ty, slice_mutable))
            }
            syn::Expr::Unary(syn::ExprUnary {
                op: syn::UnOp::Deref(_),
                expr: inner,
                ..
            }) => {
                let value = self.lower_expr(inner)?;
                let mutable = match self.type_of(value.ty) {
                    Some(Type::Ref { mutable, .. }) => *mutable,
                    _ => match value.expr.map(|e| self.alias_mutability(e)) {
                        Some(Some(m)) => m,
                        _ => false,
                    },
                };
                let place = self.deref(value, span)?;
                Ok((place.expr.expect("a place"), place.ty, mutable))
            }
            _ => Err(FrontError::new(
                FrontErrorKind::NotAPlace {
                    action: if for_write { "assigned" } else { "borrowed" },
                },
                span,
            )),
        }
    }

    fn alias_mutability(&self, e: Handle<Expression>) -> Option<bool> {
        self.scopes
            .iter()
            .flat_map(|s| s.values())
            .find_map(|b| match b {
                Binding::Alias { place, mutable, .. } if *place == e => Some(*mutable),
                _ => None,
            })
    }

    /// Dereferences reference-typed places; the mutability becomes the
    /// reference's (`state: &mut S` makes `state.x` writable).
    fn through_refs(
        &mut self,
        mut place: Handle<Expression>,
        mut ty: Ty,
        mut mutable: bool,
        span: proc_macro2::Span,
    ) -> ((Handle<Expression>, Ty), bool) {
        while let Some(Type::Ref { target, mutable: m }) = self.type_of(ty).cloned() {
            mutable = m;
            ty = Ty::Known(target);
            place = self.expr(Expression::Deref(place), ty, span);
        }
        ((place, ty), mutable)
    }

    pub fn require_mutable(&self, mutable: bool, target: &syn::Expr) -> Result<()> {
        if mutable {
            return Ok(());
        }
        Err(FrontError::new(
            FrontErrorKind::NotMutable {
                name: quote::quote!(#target).to_string(),
            },
            target.span(),
        ))
    }

    /// Replaces non-trivial index operands inside a place by immutable
    /// temporaries holding their current values, so the place can be
    /// evaluated again later (by a compound assignment or an alias) and
    /// still denote the same location.
    pub fn stabilise_place(
        &mut self,
        place: Handle<Expression>,
        span: proc_macro2::Span,
    ) -> Handle<Expression> {
        match self.func.expressions[place].clone() {
            Expression::Index { base, index } => {
                let base = self.stabilise_place(base, span);
                let index = if self.is_stable_operand(index) {
                    index
                } else {
                    let ty = self.ty_of_expr(index);
                    self.spill(
                        Val {
                            expr: Some(index),
                            ty,
                        },
                        span,
                    )
                    .expr
                    .expect("a value")
                };
                let ty = self.ty_of_expr(place);
                self.expr(Expression::Index { base, index }, ty, span)
            }
            Expression::Field { base, index } => {
                let new_base = self.stabilise_place(base, span);
                if new_base == base {
                    return place;
                }
                let ty = self.ty_of_expr(place);
                self.expr(
                    Expression::Field {
                        base: new_base,
                        index,
                    },
                    ty,
                    span,
                )
            }
            Expression::Deref(inner) => {
                let new_inner = self.stabilise_place(inner, span);
                if new_inner == inner {
                    return place;
                }
                let ty = self.ty_of_expr(place);
                self.expr(Expression::Deref(new_inner), ty, span)
            }
            _ => place,
        }
    }

    /// Literals and immutable locals never change value.
    fn is_stable_operand(&self, e: Handle<Expression>) -> bool {
        match &self.func.expressions[e] {
            Expression::Literal(_) => true,
            Expression::Local(l) => !self.func.locals[*l].mutable,
            _ => false,
        }
    }

    fn lower_struct_literal(&mut self, s: &syn::ExprStruct) -> Result<Val> {
        let span = s.span();
        if s.rest.is_some() || s.dot2_token.is_some() {
            return Err(FrontError::unsupported(
                "struct update syntax (`..base`)",
                "list every field",
                span,
            ));
        }
        let Some(name) = s.path.get_ident().map(|i| i.to_string()) else {
            return Err(FrontError::unsupported(
                "this struct path",
                "name the struct directly",
                s.path.span(),
            ));
        };
        let Some(handle) = self.env.struct_named(&name) else {
            return Err(FrontError::new(
                FrontErrorKind::NotFound {
                    what: "struct",
                    name,
                },
                s.path.span(),
            ));
        };
        let Type::Struct(st) = self.module.types[handle].clone() else {
            unreachable!("struct_named returns structs")
        };
        let mut components: Vec<Option<Handle<Expression>>> = vec![None; st.members.len()];
        let mut values = Vec::new();
        for field in &s.fields {
            let syn::Member::Named(ident) = &field.member else {
                return Err(FrontError::unsupported(
                    "tuple fields",
                    "use named fields",
                    field.member.span(),
                ));
            };
            let Some(index) = st.members.iter().position(|m| *ident == m.name) else {
                return Err(FrontError::new(
                    FrontErrorKind::NotFound {
                        what: "field",
                        name: format!("{} in struct `{}`", ident, st.name),
                    },
                    ident.span(),
                ));
            };
            let value = self.lower_expr_expecting(&field.expr, Ty::Known(st.members[index].ty))?;
            let value = if s
                .fields
                .iter()
                .skip(values.len() + 1)
                .any(|f| self.emits_statements_for(&f.expr))
            {
                self.spill(value, field.expr.span())
            } else {
                value
            };
            self.unify(Ty::Known(st.members[index].ty), value.ty, field.expr.span())?;
            if value.ty == Ty::Never {
                return Ok(value);
            }
            components[index] = value.expr;
            values.push(index);
        }
        let missing: Vec<&str> = st
            .members
            .iter()
            .zip(&components)
            .filter(|(_, c)| c.is_none())
            .map(|(m, _)| m.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(FrontError::new(
                FrontErrorKind::NotFound {
                    what: "initializer for field(s)",
                    name: missing.join(", "),
                },
                span,
            ));
        }
        let ty = Ty::Known(handle);
        let components = components
            .into_iter()
            .map(|c| c.expect("checked above"))
            .collect();
        Ok(Val {
            expr: Some(self.expr(
                Expression::Compose {
                    ty: handle,
                    components,
                },
                ty,
                span,
            )),
            ty,
        })
    }

    fn lower_array_literal(
        &mut self,
        array: &syn::ExprArray,
        expected_elem: Option<Ty>,
    ) -> Result<Val> {
        let span = array.span();
        if array.elems.is_empty() {
            return Err(FrontError::unsupported(
                "empty arrays",
                "arrays need at least one element",
                span,
            ));
        }
        let mut elem_ty: Option<Ty> = expected_elem;
        let mut components = Vec::new();
        let count = array.elems.len();
        for (i, elem) in array.elems.iter().enumerate() {
            let value = match expected_elem {
                Some(e) => self.lower_expr_expecting(elem, e)?,
                None => self.lower_expr(elem)?,
            };
            let later_effects = array
                .elems
                .iter()
                .skip(i + 1)
                .any(|e| self.emits_statements_for(e));
            let value = if later_effects {
                self.spill(value, elem.span())
            } else {
                value
            };
            elem_ty = Some(match elem_ty {
                Some(t) => self.unify(t, value.ty, elem.span())?,
                None => value.ty,
            });
            components.push(value.expr.ok_or_else(|| not_a_value(elem))?);
        }
        let elem = self.finish_now(elem_ty.expect("non-empty"), span)?;
        let ty = self.module.ty(Type::Array {
            elem,
            len: count as u64,
        });
        Ok(Val {
            expr: Some(self.expr(Expression::Compose { ty, components }, Ty::Known(ty), span)),
            ty: Ty::Known(ty),
        })
    }
}

pub(super) fn not_a_value(expr: &syn::Expr) -> FrontError {
    FrontError::new(
        FrontErrorKind::TypeMismatch {
            expected: "a value".into(),
            found: "()".into(),
        },
        expr.span(),
    )
}
