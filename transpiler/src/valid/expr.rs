//! Expression typing (invariant 8): the type of every expression, bottom-up,
//! with the checks that make it well defined.
//!
//! The rules, per expression:
//! - `Literal`: its scalar; integer values in range, f32 bits in 32 bits.
//! - `Local`, `Shared`: the declared type.
//! - `Field`: a struct operand, a member index in range: the member's type.
//! - `Index`: an array or slice operand and a `usize` index: the element.
//! - `Deref`: a reference operand: its target. `Len`: a slice or array: `usize`.
//! - `Unary`: `Neg` on signed integers and floats, `Not` on bools and integers.
//! - `Binary`: arithmetic on equal numeric types (`%` on floats too);
//!   bit ops on equal integers or bools; shifts on an integer and any
//!   integer amount; comparisons on equal scalars (giving `bool`);
//!   `&&`/`||` on bools.
//! - `Cast`: what Rust's `as` allows between scalars (no `as bool`, no
//!   `bool as` float).
//! - `Math`: per function (see [`math_type`]).
//! - `Builtin`: `u32`, or `u64` for the global indices.
//! - `Overflows`: integers as for the operation it predicts: `bool`.
//! - `Compose`: a struct type and one component of each member's type, or
//!   an array type and one component of the element type per element.
//! - `Splat`: an array type and a value of its element type.

use crate::arena::Handle;
use crate::ir::{
    BinaryOp, Builtin, Expression, FloatKind, Function, IntKind, Literal, MathFunction, Module,
    OverflowOp, Scalar, Type, UnaryOp,
};
use crate::span::Span;

use super::layout::check_handle;
use super::{display_type, HandleKind, TypeResolution, ValidationError, WithSpan};

const USIZE: Scalar = Scalar::Int(IntKind::Usize);
const U32: Scalar = Scalar::Int(IntKind::U32);
const BOOL: Scalar = Scalar::Bool;

/// Types every expression of `function`, in arena order.
pub(super) fn resolve_expressions(
    module: &Module,
    function: &Function,
) -> Result<Vec<TypeResolution>, WithSpan<ValidationError>> {
    let mut types = Vec::with_capacity(function.expressions.len());
    for (handle, expr) in function.expressions.iter() {
        let span = function.expressions.span(handle);
        let resolver = Resolver {
            module,
            function,
            types: &types,
            current: handle,
            span,
        };
        let ty = resolver.resolve(expr)?;
        types.push(ty);
    }
    Ok(types)
}

struct Resolver<'a> {
    module: &'a Module,
    function: &'a Function,
    types: &'a [TypeResolution],
    current: Handle<Expression>,
    span: Span,
}

fn is_int(s: Scalar) -> bool {
    matches!(s, Scalar::Int(_))
}

fn is_float(s: Scalar) -> bool {
    matches!(s, Scalar::Float(_))
}

fn is_signed_int(s: Scalar) -> bool {
    matches!(s, Scalar::Int(k) if k.signed())
}

impl Resolver<'_> {
    fn err<T>(&self, error: ValidationError) -> Result<T, WithSpan<ValidationError>> {
        Err(WithSpan::new(error, self.span))
    }

    /// The type of an operand, which must come before the current expression.
    fn operand(&self, h: Handle<Expression>) -> Result<TypeResolution, WithSpan<ValidationError>> {
        if h.index() >= self.current.index() {
            return self.err(ValidationError::ForwardReference {
                expression: self.current.index(),
                operand: h.index(),
            });
        }
        Ok(self.types[h.index()])
    }

    fn show(&self, ty: TypeResolution) -> String {
        ty.display(self.module)
    }

    fn resolve(&self, expr: &Expression) -> Result<TypeResolution, WithSpan<ValidationError>> {
        let module = self.module;
        Ok(match *expr {
            Expression::Literal(literal) => {
                match literal {
                    Literal::Int(value, kind)
                        if value < kind.min_value() || value > kind.max_value() =>
                    {
                        return self.err(ValidationError::LiteralOutOfRange {
                            value,
                            ty: kind.rust_name().to_string(),
                        })
                    }
                    Literal::Float(bits, FloatKind::F32) if bits > u64::from(u32::MAX) => {
                        return self.err(ValidationError::BadFloatBits { bits })
                    }
                    _ => {}
                }
                TypeResolution::Scalar(literal.scalar())
            }
            Expression::Local(local) => {
                if !self.function.locals.contains(local) {
                    return self.err(ValidationError::InvalidHandle {
                        kind: HandleKind::Local,
                        index: local.index(),
                    });
                }
                TypeResolution::of(module, self.function.locals[local].ty)
            }
            Expression::Shared(shared) => {
                if !self.function.shared.contains(shared) {
                    return self.err(ValidationError::InvalidHandle {
                        kind: HandleKind::SharedArray,
                        index: shared.index(),
                    });
                }
                TypeResolution::of(module, self.function.shared[shared].ty)
            }
            Expression::Field { base, index } => {
                let base_ty = self.operand(base)?;
                match base_ty.inner(module) {
                    Some(Type::Struct(s)) => match s.members.get(index as usize) {
                        Some(member) => TypeResolution::of(module, member.ty),
                        None => {
                            return self.err(ValidationError::NoSuchMember {
                                ty: self.show(base_ty),
                                index,
                            })
                        }
                    },
                    _ => {
                        return self.err(ValidationError::NoSuchMember {
                            ty: self.show(base_ty),
                            index,
                        })
                    }
                }
            }
            Expression::Index { base, index } => {
                let base_ty = self.operand(base)?;
                let index_ty = self.operand(index)?;
                if index_ty != TypeResolution::Scalar(USIZE) {
                    return self.err(ValidationError::IndexNotUsize {
                        ty: self.show(index_ty),
                    });
                }
                match base_ty.inner(module) {
                    Some(Type::Array { elem, .. }) | Some(Type::Slice { elem, .. }) => {
                        TypeResolution::of(module, *elem)
                    }
                    _ => {
                        return self.err(ValidationError::NotIndexable {
                            ty: self.show(base_ty),
                        })
                    }
                }
            }
            Expression::Deref(reference) => {
                let ty = self.operand(reference)?;
                match ty.inner(module) {
                    Some(Type::Ref { target, .. }) => TypeResolution::of(module, *target),
                    _ => return self.err(ValidationError::NotAReference { ty: self.show(ty) }),
                }
            }
            Expression::Len(slice) => {
                let ty = self.operand(slice)?;
                match ty.inner(module) {
                    Some(Type::Slice { .. }) | Some(Type::Array { .. }) => {
                        TypeResolution::Scalar(USIZE)
                    }
                    _ => return self.err(ValidationError::NoLength { ty: self.show(ty) }),
                }
            }
            Expression::Unary { op, expr } => {
                let ty = self.operand(expr)?;
                let ok = match (op, ty.scalar()) {
                    (UnaryOp::Neg, Some(s)) => is_signed_int(s) || is_float(s),
                    (UnaryOp::Not, Some(s)) => is_int(s) || s == BOOL,
                    _ => false,
                };
                if !ok {
                    return self.err(ValidationError::UnaryOperand {
                        op,
                        ty: self.show(ty),
                    });
                }
                ty
            }
            Expression::Binary { op, left, right } => {
                let l = self.operand(left)?;
                let r = self.operand(right)?;
                self.binary(op, l, r)?
            }
            Expression::Cast { expr, to } => {
                let from = self.operand(expr)?;
                let ok = match from.scalar() {
                    Some(Scalar::Bool) => matches!(to, Scalar::Bool | Scalar::Int(_)),
                    Some(Scalar::Int(_)) | Some(Scalar::Float(_)) => to != BOOL,
                    None => false,
                };
                if !ok {
                    return self.err(ValidationError::InvalidCast {
                        from: self.show(from),
                        to: to.rust_name().to_string(),
                    });
                }
                TypeResolution::Scalar(to)
            }
            Expression::Math { fun, ref args } => {
                let mut arg_types = Vec::with_capacity(args.len());
                for &arg in args {
                    arg_types.push(self.operand(arg)?);
                }
                self.math(fun, &arg_types)?
            }
            Expression::Builtin(builtin) => TypeResolution::Scalar(builtin_type(builtin)),
            Expression::Overflows { op, left, right } => {
                let l = self.operand(left)?;
                let r = self.operand(right)?;
                let ok = match (l.scalar(), r.scalar()) {
                    (Some(Scalar::Int(_)), Some(rs)) => match op {
                        OverflowOp::Add
                        | OverflowOp::Sub
                        | OverflowOp::Mul
                        | OverflowOp::DivRem => l == r,
                        OverflowOp::Neg | OverflowOp::Abs => true,
                        OverflowOp::Shl | OverflowOp::Shr => is_int(rs),
                        OverflowOp::Pow => rs == U32,
                    },
                    _ => false,
                };
                if !ok {
                    return self.err(ValidationError::OverflowOperands {
                        op,
                        left: self.show(l),
                        right: self.show(r),
                    });
                }
                TypeResolution::Scalar(BOOL)
            }
            Expression::Compose { ty, ref components } => {
                check_handle(module, ty, self.span)?;
                if let Type::Array { elem, len } = module.types[ty] {
                    // `[a, b, c]`: one component per element, each of the
                    // element type.
                    if components.len() as u64 != len {
                        return self.err(ValidationError::ComponentCount {
                            ty: display_type(module, ty),
                            expected: len as usize,
                            found: components.len(),
                        });
                    }
                    let expected = TypeResolution::of(module, elem);
                    for (i, &component) in components.iter().enumerate() {
                        let found = self.operand(component)?;
                        if found != expected {
                            return self.err(ValidationError::ComponentType {
                                ty: display_type(module, ty),
                                index: i,
                                expected: self.show(expected),
                                found: self.show(found),
                            });
                        }
                    }
                    return Ok(TypeResolution::of(module, ty));
                }
                let Type::Struct(s) = &module.types[ty] else {
                    return self.err(ValidationError::ComponentCount {
                        ty: display_type(module, ty),
                        expected: 0,
                        found: components.len(),
                    });
                };
                if s.members.len() != components.len() {
                    return self.err(ValidationError::ComponentCount {
                        ty: display_type(module, ty),
                        expected: s.members.len(),
                        found: components.len(),
                    });
                }
                for (i, (member, &component)) in s.members.iter().zip(components).enumerate() {
                    let found = self.operand(component)?;
                    let expected = TypeResolution::of(module, member.ty);
                    if found != expected {
                        return self.err(ValidationError::ComponentType {
                            ty: display_type(module, ty),
                            index: i,
                            expected: self.show(expected),
                            found: self.show(found),
                        });
                    }
                }
                TypeResolution::Handle(ty)
            }
            Expression::Splat { ty, value } => {
                check_handle(module, ty, self.span)?;
                let found = self.operand(value)?;
                let Type::Array { elem, .. } = module.types[ty] else {
                    return self.err(ValidationError::SplatNotArray {
                        ty: display_type(module, ty),
                    });
                };
                let expected = TypeResolution::of(module, elem);
                if found != expected {
                    return self.err(ValidationError::ComponentType {
                        ty: display_type(module, ty),
                        index: 0,
                        expected: self.show(expected),
                        found: self.show(found),
                    });
                }
                TypeResolution::Handle(ty)
            }
        })
    }

    fn binary(
        &self,
        op: BinaryOp,
        l: TypeResolution,
        r: TypeResolution,
    ) -> Result<TypeResolution, WithSpan<ValidationError>> {
        let result = match (l.scalar(), r.scalar()) {
            (Some(ls), Some(rs)) => match op {
                BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem
                    if ls == rs && (is_int(ls) || is_float(ls)) =>
                {
                    Some(ls)
                }
                BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor
                    if ls == rs && (is_int(ls) || ls == BOOL) =>
                {
                    Some(ls)
                }
                BinaryOp::Shl | BinaryOp::Shr if is_int(ls) && is_int(rs) => Some(ls),
                _ if op.is_comparison() && ls == rs => Some(BOOL),
                BinaryOp::LogicalAnd | BinaryOp::LogicalOr if ls == BOOL && rs == BOOL => {
                    Some(BOOL)
                }
                _ => None,
            },
            _ => None,
        };
        match result {
            Some(s) => Ok(TypeResolution::Scalar(s)),
            None => self.err(ValidationError::BinaryOperands {
                op,
                left: self.show(l),
                right: self.show(r),
            }),
        }
    }

    fn math(
        &self,
        fun: MathFunction,
        args: &[TypeResolution],
    ) -> Result<TypeResolution, WithSpan<ValidationError>> {
        let expected = math_arity(fun);
        if args.len() != expected {
            return self.err(ValidationError::MathArity {
                fun,
                expected,
                found: args.len(),
            });
        }
        let scalars: Option<Vec<Scalar>> = args.iter().map(|a| a.scalar()).collect();
        match scalars.and_then(|s| math_type(fun, &s)) {
            Some(s) => Ok(TypeResolution::Scalar(s)),
            None => self.err(ValidationError::MathOperands {
                fun,
                args: args
                    .iter()
                    .map(|a| self.show(*a))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

pub fn builtin_type(builtin: Builtin) -> Scalar {
    match builtin {
        Builtin::GlobalId
        | Builtin::GlobalX
        | Builtin::GlobalY
        | Builtin::GlobalZ
        | Builtin::HlcPhysicalNs => Scalar::Int(IntKind::U64),
        _ => U32,
    }
}

/// The number of arguments of a math function.
pub fn math_arity(fun: MathFunction) -> usize {
    use MathFunction as M;
    match fun {
        M::Clamp | M::MulAdd => 3,
        M::Min
        | M::Max
        | M::Atan2
        | M::Powf
        | M::Powi
        | M::Hypot
        | M::Copysign
        | M::Pow
        | M::WrappingAdd
        | M::WrappingSub
        | M::WrappingMul
        | M::WrappingShl
        | M::WrappingShr
        | M::SaturatingAdd
        | M::SaturatingSub
        | M::SaturatingMul
        | M::RotateLeft
        | M::RotateRight => 2,
        _ => 1,
    }
}

/// The result type of a math function applied to `args` (arity already
/// checked), or `None` when the arguments do not fit it.
fn math_type(fun: MathFunction, args: &[Scalar]) -> Option<Scalar> {
    use MathFunction as M;
    let first = args[0];
    let all_same = args.iter().all(|&a| a == first);
    let float = is_float(first);
    let int = is_int(first);
    let ok = |cond: bool, result: Scalar| cond.then_some(result);
    match fun {
        M::Min | M::Max | M::Clamp => ok(all_same && (int || float), first),
        M::Abs => ok(float || is_signed_int(first), first),
        M::Sqrt
        | M::Floor
        | M::Ceil
        | M::Round
        | M::Trunc
        | M::Fract
        | M::Exp
        | M::Exp2
        | M::Ln
        | M::Log2
        | M::Log10
        | M::Sin
        | M::Cos
        | M::Tan
        | M::Asin
        | M::Acos
        | M::Atan
        | M::Sinh
        | M::Cosh
        | M::Tanh
        | M::Cbrt
        | M::Recip
        | M::Signum => ok(float, first),
        M::Atan2 | M::Powf | M::Hypot | M::Copysign | M::MulAdd => ok(float && all_same, first),
        M::Powi => ok(float && args[1] == Scalar::Int(IntKind::I32), first),
        M::IsNan | M::IsInfinite | M::IsFinite => ok(float, BOOL),
        M::ToBits => match first {
            Scalar::Float(FloatKind::F32) => Some(U32),
            Scalar::Float(FloatKind::F64) => Some(Scalar::Int(IntKind::U64)),
            _ => None,
        },
        M::Pow | M::RotateLeft | M::RotateRight => ok(int && args[1] == U32, first),
        M::WrappingShl | M::WrappingShr => ok(int && is_int(args[1]), first),
        M::WrappingAdd
        | M::WrappingSub
        | M::WrappingMul
        | M::SaturatingAdd
        | M::SaturatingSub
        | M::SaturatingMul => ok(int && all_same, first),
        M::WrappingNeg => ok(int, first),
        M::CountOnes | M::LeadingZeros | M::TrailingZeros => ok(int, U32),
    }
}
