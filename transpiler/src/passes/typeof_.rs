//! The type of an expression, computed bottom-up from the IR (literals carry
//! their kinds, locals their types, casts their targets). Used by the passes
//! that need operand types; assumes the IR is well typed (the front end's
//! output or validated IR).

use crate::arena::Handle;
use crate::ir::{
    Builtin, Expression, Function, IntKind, Literal, MathFunction, Module, Scalar, Type,
};

pub(crate) fn type_of(
    module: &mut Module,
    function: &Function,
    e: Handle<Expression>,
) -> Handle<Type> {
    let scalar = |module: &mut Module, s| module.ty(Type::Scalar(s));
    match &function.expressions[e] {
        Expression::Literal(l) => scalar(module, literal_scalar(*l)),
        Expression::Local(l) => function.locals[*l].ty,
        Expression::Shared(s) => function.shared[*s].ty,
        Expression::Field { base, index } => {
            let base_ty = type_of(module, function, *base);
            match &module.types[base_ty] {
                Type::Struct(st) => st.members[*index as usize].ty,
                _ => base_ty,
            }
        }
        Expression::Index { base, .. } => {
            let base_ty = type_of(module, function, *base);
            match &module.types[base_ty] {
                Type::Array { elem, .. } | Type::Slice { elem, .. } => *elem,
                _ => base_ty,
            }
        }
        Expression::Deref(inner) => {
            let inner_ty = type_of(module, function, *inner);
            match &module.types[inner_ty] {
                Type::Ref { target, .. } => *target,
                _ => inner_ty,
            }
        }
        Expression::Len(_) => scalar(module, Scalar::Int(IntKind::Usize)),
        Expression::Unary { expr, .. } => type_of(module, function, *expr),
        Expression::Binary { op, left, .. } => {
            if op.is_comparison() {
                scalar(module, Scalar::Bool)
            } else {
                type_of(module, function, *left)
            }
        }
        Expression::Cast { to, .. } => scalar(module, *to),
        Expression::Math { fun, args } => match fun {
            MathFunction::IsNan | MathFunction::IsInfinite | MathFunction::IsFinite => {
                scalar(module, Scalar::Bool)
            }
            MathFunction::CountOnes | MathFunction::LeadingZeros | MathFunction::TrailingZeros => {
                scalar(module, Scalar::Int(IntKind::U32))
            }
            MathFunction::ToBits => {
                let arg = type_of(module, function, args[0]);
                let bits = if module.types[arg]
                    == Type::Scalar(Scalar::Float(crate::ir::FloatKind::F32))
                {
                    IntKind::U32
                } else {
                    IntKind::U64
                };
                scalar(module, Scalar::Int(bits))
            }
            _ => type_of(module, function, args[0]),
        },
        Expression::Builtin(b) => {
            let kind = if matches!(
                b,
                Builtin::GlobalId | Builtin::GlobalX | Builtin::GlobalY | Builtin::GlobalZ
            ) {
                IntKind::U64
            } else {
                IntKind::U32
            };
            scalar(module, Scalar::Int(kind))
        }
        Expression::Overflows { .. } => scalar(module, Scalar::Bool),
        Expression::Compose { ty, .. } | Expression::Splat { ty, .. } => *ty,
    }
}

pub(crate) fn literal_scalar(l: Literal) -> Scalar {
    l.scalar()
}

/// The integer kind of an expression's type, if it is an integer.
pub(crate) fn int_kind(
    module: &mut Module,
    function: &Function,
    e: Handle<Expression>,
) -> Option<IntKind> {
    let ty = type_of(module, function, e);
    match module.types[ty] {
        Type::Scalar(Scalar::Int(k)) => Some(k),
        _ => None,
    }
}
