//! Types, sizes and the types of expressions, as the interpreter sees them.
//!
//! The IR keeps no resolved type per expression (that is a side table the
//! validator may build later), so the compiler derives one here, once per
//! expression, from the rules in `ir/expr.rs`. Sizes are the host layouts:
//! scalars their width, arrays `len * size(elem)` (Rust sizes are multiples
//! of alignment, so the stride is the size), structs the `StructType`'s own
//! size and offsets. Slices and references are interpreter-internal handles
//! stored in frames: a reference is (region, offset), a slice (region,
//! offset, length), each field a little-endian `u64`.

use crate::arena::Handle;
use crate::ir::{BinaryOp, Builtin, Expression, Function, IntKind, Module, Scalar, Type};

use super::math::result_scalar;

/// Bytes of a slice handle in a frame: region, offset, length.
pub(crate) const SLICE_SIZE: u64 = 24;
/// Bytes of a reference handle in a frame: region, offset.
pub(crate) const REF_SIZE: u64 = 16;

/// A type classified for code generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Unit,
    Scalar(Scalar),
    /// A struct or array (by value, laid out in memory).
    Agg(Handle<Type>),
    Slice {
        elem: Handle<Type>,
    },
    Ref {
        target: Handle<Type>,
    },
}

pub(crate) const USIZE: Scalar = Scalar::Int(IntKind::Usize);

pub(crate) fn classify(module: &Module, h: Handle<Type>) -> Ty {
    match &module.types[h] {
        Type::Unit => Ty::Unit,
        Type::Scalar(s) => Ty::Scalar(*s),
        Type::Array { .. } | Type::Struct(_) => Ty::Agg(h),
        Type::Slice { elem, .. } => Ty::Slice { elem: *elem },
        Type::Ref { target, .. } => Ty::Ref { target: *target },
    }
}

/// Size and alignment of a type in bytes.
pub(crate) fn size_align(module: &Module, h: Handle<Type>) -> (u64, u64) {
    match &module.types[h] {
        Type::Unit => (0, 1),
        Type::Scalar(s) => (s.size(), s.size()),
        Type::Array { elem, len } => {
            let (size, align) = size_align(module, *elem);
            (size * len, align)
        }
        Type::Struct(st) => (st.size, st.align.max(1)),
        Type::Slice { .. } => (SLICE_SIZE, 8),
        Type::Ref { .. } => (REF_SIZE, 8),
    }
}

pub(crate) fn ty_size(module: &Module, ty: Ty) -> u64 {
    match ty {
        Ty::Unit => 0,
        Ty::Scalar(s) => s.size(),
        Ty::Agg(h) => size_align(module, h).0,
        Ty::Slice { .. } => SLICE_SIZE,
        Ty::Ref { .. } => REF_SIZE,
    }
}

pub(crate) fn align_up(v: u64, align: u64) -> u64 {
    v.div_ceil(align) * align
}

/// Byte offset of every local of `func` in its frame, and the frame size.
pub(crate) fn frame_layout(module: &Module, func: &Function) -> (Vec<usize>, usize) {
    let mut offsets = Vec::with_capacity(func.locals.len());
    let mut top = 0u64;
    for (_, local) in func.locals.iter() {
        let (size, align) = size_align(module, local.ty);
        top = align_up(top, align.max(1));
        offsets.push(top as usize);
        top += size;
    }
    (offsets, align_up(top, 16) as usize)
}

/// Derives (and memoises) the type of each expression of one function.
pub(crate) struct TypeOf<'m> {
    module: &'m Module,
    func: &'m Function,
    memo: Vec<Option<Ty>>,
}

impl<'m> TypeOf<'m> {
    pub(crate) fn new(module: &'m Module, func: &'m Function) -> Self {
        TypeOf {
            module,
            func,
            memo: vec![None; func.expressions.len()],
        }
    }

    /// The type of `e`, or a description of why the IR is ill-typed.
    pub(crate) fn of(&mut self, e: Handle<Expression>) -> Result<Ty, String> {
        if let Some(ty) = self.memo.get(e.index()).copied().flatten() {
            return Ok(ty);
        }
        if !self.func.expressions.contains(e) {
            return Err(format!("expression {e:?} out of range"));
        }
        let ty = self.compute(e)?;
        self.memo[e.index()] = Some(ty);
        Ok(ty)
    }

    pub(crate) fn scalar(&mut self, e: Handle<Expression>) -> Result<Scalar, String> {
        match self.of(e)? {
            Ty::Scalar(s) => Ok(s),
            other => Err(format!("expected a scalar expression, found {other:?}")),
        }
    }

    fn compute(&mut self, e: Handle<Expression>) -> Result<Ty, String> {
        let m = self.module;
        Ok(match &self.func.expressions[e] {
            Expression::Literal(l) => Ty::Scalar(l.scalar()),
            Expression::Local(l) => classify(m, self.func.locals[*l].ty),
            Expression::Shared(s) => classify(m, self.func.shared[*s].ty),
            Expression::Field { base, index } => match self.of(*base)? {
                Ty::Agg(h) => match &m.types[h] {
                    Type::Struct(st) => {
                        let member = st
                            .members
                            .get(*index as usize)
                            .ok_or_else(|| format!("field {index} of `{}`", st.name))?;
                        classify(m, member.ty)
                    }
                    other => return Err(format!("field access on {other:?}")),
                },
                other => return Err(format!("field access on {other:?}")),
            },
            Expression::Index { base, .. } => match self.of(*base)? {
                Ty::Agg(h) => match &m.types[h] {
                    Type::Array { elem, .. } => classify(m, *elem),
                    other => return Err(format!("index into {other:?}")),
                },
                Ty::Slice { elem } => classify(m, elem),
                other => return Err(format!("index into {other:?}")),
            },
            Expression::Deref(r) => match self.of(*r)? {
                Ty::Ref { target } => classify(m, target),
                other => return Err(format!("deref of {other:?}")),
            },
            Expression::Len(_) => Ty::Scalar(USIZE),
            Expression::Unary { expr, .. } => self.of(*expr)?,
            Expression::Binary { op, left, .. } => {
                if op.is_comparison() || matches!(op, BinaryOp::LogicalAnd | BinaryOp::LogicalOr) {
                    Ty::Scalar(Scalar::Bool)
                } else {
                    self.of(*left)?
                }
            }
            Expression::Cast { to, .. } => Ty::Scalar(*to),
            Expression::Math { fun, args } => {
                let first = args.first().ok_or("math function without arguments")?;
                Ty::Scalar(result_scalar(*fun, self.scalar(*first)?))
            }
            Expression::Builtin(b) => Ty::Scalar(builtin_scalar(*b)),
            Expression::Overflows { .. } => Ty::Scalar(Scalar::Bool),
            Expression::Compose { ty, .. } | Expression::Splat { ty, .. } => classify(m, *ty),
        })
    }
}

pub(crate) fn builtin_scalar(b: Builtin) -> Scalar {
    match b {
        Builtin::GlobalId
        | Builtin::GlobalX
        | Builtin::GlobalY
        | Builtin::GlobalZ
        | Builtin::HlcPhysicalNs => Scalar::Int(IntKind::U64),
        _ => Scalar::Int(IntKind::U32),
    }
}
