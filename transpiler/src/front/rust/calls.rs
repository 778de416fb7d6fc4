//! Lowering of calls: methods of primitive types, calls of `#[device_fn]`s,
//! shared arrays, and the panicking macros; the context's methods are
//! `intrinsics.rs`.
//!
//! The context's methods are found by the receiver's declared type (a
//! parameter of type `&ThreadContext` or `&RingContext`), never by its name.

use syn::spanned::Spanned;

use super::body::{Binding, FnLowerer, Val};
use super::error::{FrontError, FrontErrorKind, Result};
use super::expr::not_a_value;
use super::infer::Ty;
use super::intrinsics::warp_actor_rejects;
use crate::arena::Handle;
use crate::ir::{
    BinaryOp, CheckKind, Expression, FloatKind, IntKind, MathFunction, Scalar, SharedArray,
    Statement, Type,
};

impl FnLowerer<'_> {
    pub fn lower_method_call(&mut self, call: &syn::ExprMethodCall) -> Result<Val> {
        let span = call.span();
        let method = call.method.to_string();
        if let syn::Expr::Path(path) = &*call.receiver {
            if let Some(ident) = path.path.get_ident() {
                if let Some(Binding::Context { ring }) = self.lookup(&ident.to_string()).cloned() {
                    if call.turbofish.is_some() && method != "shared_array" {
                        return Err(FrontError::unsupported(
                            "turbofish on this method",
                            "remove the `::<…>`",
                            span,
                        ));
                    }
                    return self.lower_intrinsic(&method, call, ring);
                }
            }
        }
        if call.turbofish.is_some() {
            return Err(FrontError::unsupported(
                "generic method calls",
                "call the method without `::<…>`",
                span,
            ));
        }
        let receiver = self.lower_expr(&call.receiver)?;
        let args: Vec<&syn::Expr> = call.args.iter().collect();
        self.lower_value_method(receiver, &method, &args, call.method.span(), span)
    }

    /// Methods of primitive values, arrays and slices.
    pub fn lower_value_method(
        &mut self,
        receiver: Val,
        method: &str,
        args: &[&syn::Expr],
        method_span: proc_macro2::Span,
        span: proc_macro2::Span,
    ) -> Result<Val> {
        let receiver = self.auto_deref(receiver, span)?;
        let recv = receiver.expr.ok_or_else(|| {
            FrontError::unsupported("methods on `()`", "call methods on values", span)
        })?;
        match self.type_of(receiver.ty).cloned() {
            Some(Type::Slice { .. }) if method == "len" => {
                self.arg_count(method, args, 0, span)?;
                let ty = self.usize_ty();
                return Ok(Val {
                    expr: Some(self.expr(Expression::Len(recv), ty, span)),
                    ty,
                });
            }
            Some(Type::Array { len, .. }) if method == "len" => {
                self.arg_count(method, args, 0, span)?;
                let ty = self.usize_ty();
                return self.int_literal(i128::from(len), ty, span);
            }
            Some(Type::Slice { .. } | Type::Array { .. }) => {
                return Err(FrontError::new(
                    FrontErrorKind::UnknownMethod {
                        method: method.into(),
                        ty: self.describe(receiver.ty),
                        note: "; only `len()` is supported: iterate with `for i in 0..x.len()`",
                    },
                    method_span,
                ))
            }
            _ => {}
        }
        let Some(scalar) = self.scalar_of(receiver.ty) else {
            if self.is_int(receiver.ty) || self.is_float(receiver.ty) {
                return Err(FrontError::new(
                    FrontErrorKind::AnnotationNeeded {
                        what: format!("the receiver of `{method}`"),
                        suggestion:
                            "add a suffix (`2u32`, `1.0f32`) or annotate the variable's type",
                    },
                    span,
                ));
            }
            return Err(FrontError::new(
                FrontErrorKind::UnknownMethod {
                    method: method.into(),
                    ty: self.describe(receiver.ty),
                    note: "",
                },
                method_span,
            ));
        };
        let unknown = || {
            FrontError::new(
                FrontErrorKind::UnknownMethod {
                    method: method.into(),
                    ty: scalar.rust_name().into(),
                    note: "",
                },
                method_span,
            )
        };
        let same = receiver.ty;
        let u32_ty = self.scalar(Scalar::Int(IntKind::U32));
        let i32_ty = self.scalar(Scalar::Int(IntKind::I32));
        let bool_ty = self.bool_ty();
        // (function, argument types after the receiver, result type)
        let (fun, arg_tys, result): (MathFunction, Vec<Ty>, Ty) = match scalar {
            Scalar::Float(_) => {
                use MathFunction as M;
                match method {
                    "sqrt" => (M::Sqrt, vec![], same),
                    "floor" => (M::Floor, vec![], same),
                    "ceil" => (M::Ceil, vec![], same),
                    "round" => (M::Round, vec![], same),
                    "trunc" => (M::Trunc, vec![], same),
                    "fract" => (M::Fract, vec![], same),
                    "exp" => (M::Exp, vec![], same),
                    "exp2" => (M::Exp2, vec![], same),
                    "ln" => (M::Ln, vec![], same),
                    "log2" => (M::Log2, vec![], same),
                    "log10" => (M::Log10, vec![], same),
                    "sin" => (M::Sin, vec![], same),
                    "cos" => (M::Cos, vec![], same),
                    "tan" => (M::Tan, vec![], same),
                    "asin" => (M::Asin, vec![], same),
                    "acos" => (M::Acos, vec![], same),
                    "atan" => (M::Atan, vec![], same),
                    "sinh" => (M::Sinh, vec![], same),
                    "cosh" => (M::Cosh, vec![], same),
                    "tanh" => (M::Tanh, vec![], same),
                    "cbrt" => (M::Cbrt, vec![], same),
                    "recip" => (M::Recip, vec![], same),
                    "signum" => (M::Signum, vec![], same),
                    "abs" => (M::Abs, vec![], same),
                    "is_nan" => (M::IsNan, vec![], bool_ty),
                    "is_infinite" => (M::IsInfinite, vec![], bool_ty),
                    "is_finite" => (M::IsFinite, vec![], bool_ty),
                    "to_bits" => {
                        let bits = if scalar == Scalar::Float(FloatKind::F32) {
                            IntKind::U32
                        } else {
                            IntKind::U64
                        };
                        (M::ToBits, vec![], self.scalar(Scalar::Int(bits)))
                    }
                    "min" => (M::Min, vec![same], same),
                    "max" => (M::Max, vec![same], same),
                    "powf" => (M::Powf, vec![same], same),
                    "atan2" => (M::Atan2, vec![same], same),
                    "hypot" => (M::Hypot, vec![same], same),
                    "copysign" => (M::Copysign, vec![same], same),
                    "powi" => (M::Powi, vec![i32_ty], same),
                    "mul_add" => (M::MulAdd, vec![same, same], same),
                    "clamp" => (M::Clamp, vec![same, same], same),
                    _ => return Err(unknown()),
                }
            }
            Scalar::Int(kind) => {
                use MathFunction as M;
                match method {
                    "min" => (M::Min, vec![same], same),
                    "max" => (M::Max, vec![same], same),
                    "clamp" => (M::Clamp, vec![same, same], same),
                    "abs" if kind.signed() => (M::Abs, vec![], same),
                    "pow" => (M::Pow, vec![u32_ty], same),
                    "wrapping_add" => (M::WrappingAdd, vec![same], same),
                    "wrapping_sub" => (M::WrappingSub, vec![same], same),
                    "wrapping_mul" => (M::WrappingMul, vec![same], same),
                    "wrapping_neg" => (M::WrappingNeg, vec![], same),
                    "wrapping_shl" => (M::WrappingShl, vec![u32_ty], same),
                    "wrapping_shr" => (M::WrappingShr, vec![u32_ty], same),
                    "saturating_add" => (M::SaturatingAdd, vec![same], same),
                    "saturating_sub" => (M::SaturatingSub, vec![same], same),
                    "saturating_mul" => (M::SaturatingMul, vec![same], same),
                    "count_ones" => (M::CountOnes, vec![], u32_ty),
                    "leading_zeros" => (M::LeadingZeros, vec![], u32_ty),
                    "trailing_zeros" => (M::TrailingZeros, vec![], u32_ty),
                    "rotate_left" => (M::RotateLeft, vec![u32_ty], same),
                    "rotate_right" => (M::RotateRight, vec![u32_ty], same),
                    m if m.starts_with("checked_") || m.starts_with("overflowing_") => {
                        return Err(FrontError::new(
                            FrontErrorKind::UnknownMethod {
                                method: method.into(),
                                ty: scalar.rust_name().into(),
                                note: "; `Option` and tuples are not supported on the device: compare before the operation, or use `wrapping_*`/`saturating_*`",
                            },
                            method_span,
                        ))
                    }
                    _ => return Err(unknown()),
                }
            }
            Scalar::Bool => return Err(unknown()),
        };
        self.arg_count(method, args, arg_tys.len(), span)?;
        let mut operands = vec![recv];
        for (arg, ty) in args.iter().zip(arg_tys) {
            let value = self.lower_expr(arg)?;
            self.unify(ty, value.ty, arg.span())?;
            operands.push(value.expr.ok_or_else(|| not_a_value(arg))?);
        }
        if fun == MathFunction::Clamp {
            self.clamp_precondition(scalar, operands[1], operands[2], span);
        }
        Ok(Val {
            expr: Some(self.expr(
                Expression::Math {
                    fun,
                    args: operands,
                },
                result,
                span,
            )),
            ty: result,
        })
    }

    /// `clamp` panics unless `min <= max` (and, for floats, neither is NaN):
    /// `min <= max` is false for NaN, so one comparison covers both.
    fn clamp_precondition(
        &mut self,
        _scalar: Scalar,
        lo: Handle<Expression>,
        hi: Handle<Expression>,
        span: proc_macro2::Span,
    ) {
        let b = self.bool_ty();
        let ok = self.expr(
            Expression::Binary {
                op: BinaryOp::Le,
                left: lo,
                right: hi,
            },
            b,
            span,
        );
        self.emit(
            Statement::Check {
                kind: CheckKind::InvalidArgument,
                condition: ok,
            },
            span,
        );
    }

    pub(super) fn arg_count(
        &self,
        name: &str,
        args: &[&syn::Expr],
        expected: usize,
        span: proc_macro2::Span,
    ) -> Result<()> {
        if args.len() != expected {
            return Err(FrontError::new(
                FrontErrorKind::ArgumentCount {
                    name: name.into(),
                    expected,
                    found: args.len(),
                },
                span,
            ));
        }
        Ok(())
    }

    /// A call of a path: a device function, `min`/`max` from `core::cmp`, or a
    /// primitive method in path form (`f32::sqrt(x)`).
    pub fn lower_call(&mut self, call: &syn::ExprCall) -> Result<Val> {
        let span = call.span();
        let syn::Expr::Path(path) = &*call.func else {
            return Err(FrontError::unsupported(
                "calling this expression",
                "call a `#[device_fn]` by name",
                call.func.span(),
            ));
        };
        let segments: Vec<String> = path
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let args: Vec<&syn::Expr> = call.args.iter().collect();
        let tail: Vec<&str> = segments
            .iter()
            .map(String::as_str)
            .skip_while(|s| matches!(*s, "std" | "core"))
            .collect();
        match tail.as_slice() {
            ["cmp", f @ ("min" | "max")] => {
                self.arg_count(f, &args, 2, span)?;
                let receiver = self.lower_expr(args[0])?;
                if !self.is_int(receiver.ty) && self.scalar_of(receiver.ty) != Some(Scalar::Bool) {
                    return Err(self.invalid_operand(
                        "cmp::min/max (floats are not `Ord`: use `a.min(b)`)",
                        receiver.ty,
                        args[0].span(),
                    ));
                }
                return self.lower_value_method(receiver, f, &args[1..], path.span(), span);
            }
            [ty, method] if Scalar::from_rust_name(ty).is_some() => {
                let Some((first, rest)) = args.split_first() else {
                    return Err(FrontError::new(
                        FrontErrorKind::ArgumentCount {
                            name: (*method).into(),
                            expected: 1,
                            found: 0,
                        },
                        span,
                    ));
                };
                let receiver = self.lower_expr(first)?;
                let scalar = Scalar::from_rust_name(ty).expect("checked");
                let scalar_ty = self.scalar(scalar);
                self.unify(scalar_ty, receiver.ty, first.span())?;
                return self.lower_value_method(receiver, method, rest, path.span(), span);
            }
            _ => {}
        }
        let [name] = segments.as_slice() else {
            return Err(FrontError::new(
                FrontErrorKind::NotFound {
                    what: "function",
                    name: segments.join("::"),
                },
                path.span(),
            ));
        };
        let Some(signature) = self.signatures.get(name).cloned() else {
            return Err(FrontError::new(
                FrontErrorKind::NotFound {
                    what: "device function (mark helpers `#[device_fn]`)",
                    name: name.clone(),
                },
                path.span(),
            ));
        };
        self.arg_count(name, &args, signature.params.len(), span)?;
        let mut arguments = Vec::new();
        for (i, (arg, &param_ty)) in args.iter().zip(&signature.params).enumerate() {
            let value = self.lower_expr_expecting(arg, Ty::Known(param_ty))?;
            let later = args[i + 1..].iter().any(|a| self.emits_statements_for(a));
            let value = if later {
                self.spill(value, arg.span())
            } else {
                value
            };
            self.unify(Ty::Known(param_ty), value.ty, arg.span())?;
            arguments.push(value.expr.ok_or_else(|| not_a_value(arg))?);
        }
        let result_ty = signature.result;
        let unit = self.module.ty(Type::Unit);
        let result = if result_ty == unit {
            None
        } else {
            Some(self.new_local(None, Ty::Known(result_ty), false, span))
        };
        self.emit(
            Statement::Call {
                function: signature.function,
                arguments,
                result,
            },
            span,
        );
        match result {
            Some(local) => {
                let ty = Ty::Known(result_ty);
                Ok(Val {
                    expr: Some(self.expr(Expression::Local(local), ty, span)),
                    ty,
                })
            }
            None => Ok(self.unit_val()),
        }
    }

    /// `let tile = ctx.shared_array::<T, N>();` — recognised in `let` only.
    pub fn try_shared_array(
        &mut self,
        init: &syn::Expr,
    ) -> Result<Option<(Handle<Expression>, Ty)>> {
        let syn::Expr::MethodCall(call) = init else {
            return Ok(None);
        };
        if call.method != "shared_array" {
            return Ok(None);
        }
        let syn::Expr::Path(path) = &*call.receiver else {
            return Ok(None);
        };
        let Some(ident) = path.path.get_ident() else {
            return Ok(None);
        };
        if !matches!(
            self.lookup(&ident.to_string()),
            Some(Binding::Context { .. })
        ) {
            return Ok(None);
        }
        let span = call.span();
        if self.warp_actor {
            return Err(warp_actor_rejects("shared_array", span).expect("rejected"));
        }
        let Some(turbofish) = &call.turbofish else {
            return Err(FrontError::unsupported(
                "`shared_array()` without its type",
                "write `ctx.shared_array::<f32, 256>()`",
                span,
            ));
        };
        let generic: Vec<&syn::GenericArgument> = turbofish.args.iter().collect();
        let (elem, len) = match generic.as_slice() {
            [syn::GenericArgument::Type(t), syn::GenericArgument::Const(n)] => {
                (t, self.const_env().eval_usize(n)?)
            }
            [syn::GenericArgument::Type(t), syn::GenericArgument::Type(syn::Type::Path(p))] => {
                let expr = syn::Expr::Path(syn::ExprPath {
                    attrs: vec![],
                    qself: None,
                    path: p.path.clone(),
                });
                (t, self.const_env().eval_usize(&expr)?)
            }
            _ => {
                return Err(FrontError::unsupported(
                    "these generic arguments",
                    "write `ctx.shared_array::<T, N>()`",
                    turbofish.span(),
                ))
            }
        };
        let elem = self.resolve_type(elem)?;
        if !matches!(
            self.module.types[elem],
            Type::Scalar(_) | Type::Struct(_) | Type::Array { .. }
        ) {
            return Err(FrontError::unsupported(
                "shared arrays of this type",
                "use plain data elements",
                span,
            ));
        }
        let ty = self.module.ty(Type::Array { elem, len });
        let shared = self.func.shared.append(
            SharedArray { name: None, ty },
            crate::span::Span::from_proc_macro2(span),
        );
        let place = self.expr(Expression::Shared(shared), Ty::Known(ty), span);
        Ok(Some((place, Ty::Known(ty))))
    }

    /// `panic!`, `assert!`, `assert_eq!`, `assert_ne!`, `unreachable!`,
    /// `debug_assert*!` (active when overflow checks are: Rust ties both to
    /// debug assertions).
    pub fn lower_macro(&mut self, mac: &syn::Macro, span: proc_macro2::Span) -> Result<Val> {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let args = || {
            mac.parse_body_with(
                syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
            )
        };
        let parse_error = |e: syn::Error| {
            FrontError::unsupported(
                "these macro arguments",
                "check the macro's syntax",
                e.span(),
            )
        };
        match name.as_str() {
            "panic" | "unreachable" | "todo" | "unimplemented" => {
                self.emit(Statement::Fault(CheckKind::Explicit), span);
                Ok(Val {
                    expr: None,
                    ty: Ty::Never,
                })
            }
            "assert" | "debug_assert" | "assert_eq" | "assert_ne" | "debug_assert_eq"
            | "debug_assert_ne" => {
                if name.starts_with("debug_") && !self.func.overflow_checks {
                    return Ok(self.unit_val());
                }
                let args = args().map_err(parse_error)?;
                let args: Vec<&syn::Expr> = args.iter().collect();
                let condition = if name.ends_with("_eq") || name.ends_with("_ne") {
                    if args.len() < 2 {
                        return Err(FrontError::new(
                            FrontErrorKind::ArgumentCount {
                                name: name.clone(),
                                expected: 2,
                                found: args.len(),
                            },
                            span,
                        ));
                    }
                    let left = self.lower_expr(args[0])?;
                    let right = self.lower_expr(args[1])?;
                    let op = if name.ends_with("_eq") {
                        BinaryOp::Eq
                    } else {
                        BinaryOp::Ne
                    };
                    self.binary_value(op, left, right, span, args[1].span())?
                        .expr
                        .expect("a comparison")
                } else {
                    let Some(first) = args.first() else {
                        return Err(FrontError::new(
                            FrontErrorKind::ArgumentCount {
                                name: name.clone(),
                                expected: 1,
                                found: 0,
                            },
                            span,
                        ));
                    };
                    let value = self.lower_expr(first)?;
                    let b = self.bool_ty();
                    self.unify(b, value.ty, first.span())?;
                    value.expr.ok_or_else(|| not_a_value(first))?
                };
                self.emit(
                    Statement::Check {
                        kind: CheckKind::Explicit,
                        condition,
                    },
                    span,
                );
                Ok(self.unit_val())
            }
            "println" | "print" | "eprintln" | "eprint" | "dbg" | "format" | "write"
            | "writeln" => Err(FrontError::unsupported(
                "printing and formatting macros",
                "there is no console on the device: return values or write them to the state",
                mac.path.span(),
            )),
            "vec" => Err(FrontError::unsupported(
                "`vec!`",
                "use a fixed-size array `[T; N]`: there is no heap on the device",
                mac.path.span(),
            )),
            _ => Err(FrontError::unsupported(
                "this macro",
                "only `panic!`, `assert!`-family and `unreachable!` are supported",
                mac.path.span(),
            )),
        }
    }
}
