//! Type well-formedness and struct layouts (invariants 1–3).

use crate::arena::Handle;
use crate::ir::{Module, Type};
use crate::span::Span;

use super::{display_type, HandleKind, TypeContext, ValidationError, WithSpan};

/// Size in bytes of a sized value type (scalar, array, struct); 0 otherwise.
/// Only meaningful for types that passed [`check_types`].
pub fn type_size(module: &Module, ty: Handle<Type>) -> u64 {
    match &module.types[ty] {
        Type::Scalar(s) => s.size(),
        Type::Array { elem, len } => type_size(module, *elem).saturating_mul(*len),
        Type::Struct(s) => s.size,
        Type::Unit | Type::Slice { .. } | Type::Ref { .. } => 0,
    }
}

/// Alignment in bytes of a sized value type; 1 otherwise.
pub fn type_align(module: &Module, ty: Handle<Type>) -> u64 {
    match &module.types[ty] {
        Type::Scalar(s) => s.size(),
        Type::Array { elem, .. } => type_align(module, *elem),
        Type::Struct(s) => s.align,
        Type::Unit | Type::Slice { .. } | Type::Ref { .. } => 1,
    }
}

/// Whether `ty` is a value that can live in memory (scalar, array, struct).
pub(super) fn is_sized_value(module: &Module, ty: Handle<Type>) -> bool {
    matches!(
        module.types[ty],
        Type::Scalar(_) | Type::Array { .. } | Type::Struct(_)
    )
}

pub(super) fn check_handle(
    module: &Module,
    ty: Handle<Type>,
    span: Span,
) -> Result<(), WithSpan<ValidationError>> {
    if ty.index() < module.types.len() {
        Ok(())
    } else {
        Err(WithSpan::new(
            ValidationError::InvalidHandle {
                kind: HandleKind::Type,
                index: ty.index(),
            },
            span,
        ))
    }
}

fn require_sized(
    module: &Module,
    ty: Handle<Type>,
    context: TypeContext,
    span: Span,
) -> Result<(), WithSpan<ValidationError>> {
    check_handle(module, ty, span)?;
    if is_sized_value(module, ty) {
        Ok(())
    } else {
        Err(WithSpan::new(
            ValidationError::InvalidTypeUse {
                ty: display_type(module, ty),
                context,
            },
            span,
        ))
    }
}

/// Invariants 1–3 over the type arena. Types refer only to types inserted
/// before them (a handle must exist to be stored), so one pass in order
/// suffices and sizes can be computed recursively.
pub(super) fn check_types(module: &Module) -> Result<(), WithSpan<ValidationError>> {
    for (handle, ty) in module.types.iter() {
        let span = module.types.span(handle);
        let err = |e| Err(WithSpan::new(e, span));
        let earlier = |h: Handle<Type>| {
            if h.index() < handle.index() {
                Ok(())
            } else {
                Err(WithSpan::new(
                    ValidationError::InvalidHandle {
                        kind: HandleKind::Type,
                        index: h.index(),
                    },
                    span,
                ))
            }
        };
        match ty {
            Type::Unit | Type::Scalar(_) => {}
            Type::Array { elem, len } => {
                earlier(*elem)?;
                require_sized(module, *elem, TypeContext::ArrayElement, span)?;
                if *len == 0 {
                    return err(ValidationError::ZeroLengthArray);
                }
            }
            Type::Slice { elem, .. } => {
                earlier(*elem)?;
                require_sized(module, *elem, TypeContext::SliceElement, span)?;
            }
            Type::Ref { target, .. } => {
                earlier(*target)?;
                require_sized(module, *target, TypeContext::ReferenceTarget, span)?;
            }
            Type::Struct(s) => {
                if !s.align.is_power_of_two() {
                    return err(ValidationError::BadAlignment {
                        name: s.name.clone(),
                        align: s.align,
                    });
                }
                if s.size % s.align != 0 {
                    return err(ValidationError::SizeNotMultipleOfAlign {
                        name: s.name.clone(),
                        size: s.size,
                        align: s.align,
                    });
                }
                let mut end = 0u64;
                for member in &s.members {
                    earlier(member.ty)?;
                    require_sized(module, member.ty, TypeContext::StructMember, span)?;
                    let size = type_size(module, member.ty);
                    let align = type_align(module, member.ty);
                    if member.offset % align != 0 {
                        return err(ValidationError::MisalignedMember {
                            name: s.name.clone(),
                            member: member.name.clone(),
                            offset: member.offset,
                            align,
                        });
                    }
                    if align > s.align {
                        return err(ValidationError::UnderalignedStruct {
                            name: s.name.clone(),
                            align: s.align,
                            member: member.name.clone(),
                            member_align: align,
                        });
                    }
                    let member_end = member.offset.checked_add(size);
                    if member.offset < end || member_end.is_none_or(|e| e > s.size) {
                        return err(ValidationError::OverlappingMember {
                            name: s.name.clone(),
                            member: member.name.clone(),
                        });
                    }
                    end = member_end.unwrap_or(u64::MAX);
                }
            }
        }
    }
    Ok(())
}
