//! Lowering of expressions that are not control flow or calls: literals,
//! names, struct and array literals, and the dispatch to operators
//! (`ops.rs`) and places (`place.rs`).

use syn::spanned::Spanned;

use super::body::{Binding, FnLowerer, Val};
use super::consts::associated_const;
use super::error::{FrontError, FrontErrorKind, Result};
use super::infer::{Ty, VarClass};
use crate::arena::Handle;
use crate::ir::{Expression, FloatKind, IntKind, Literal, Scalar, Statement, Type};

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

    pub(super) fn lower_literal(&mut self, lit: &syn::Lit, negative: bool) -> Result<Val> {
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
