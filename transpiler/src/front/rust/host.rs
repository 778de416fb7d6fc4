//! Struct types from host layouts: the `TypeLayout`s the `GpuType` /
//! `RingMessage` derives record with rustc's `size_of`, `align_of` and
//! `offset_of!`.
//!
//! A kernel built by the macros does not carry the text of the structs it
//! uses (they are separate items, possibly in other crates); it carries
//! their host layouts instead ([`super::Options::layouts`]). Each layout
//! becomes the IR struct type the same struct item would have become, after
//! a cross-check: the front end recomputes the `repr(C)` layout from the
//! field types and refuses a layout that disagrees with rustc's, rather
//! than generate device code against the wrong offsets. With the derives
//! that can only happen to a hand-written `unsafe impl GpuType`, or if the
//! derive's checks missed a representation that changes the layout.

use ringkernel_device::layout::{FieldType, ScalarKind, TypeLayout};

use super::error::{Diagnostics, FrontError, FrontErrorKind, Result};
use super::types::{size_align, TypeEnv};
use crate::arena::Handle;
use crate::ir::{FloatKind, IntKind, Module, Scalar, StructMember, StructType, Type};

/// Registers `layouts` and the structs nested in them (nested first), each
/// once. Two different structs of one name are an error: kernels name
/// structs by their bare name.
pub fn add_host_layouts(
    env: &mut TypeEnv,
    module: &mut Module,
    layouts: &[&'static TypeLayout],
) -> Diagnostics {
    let mut diagnostics = Diagnostics::default();
    let mut all: Vec<&'static TypeLayout> = Vec::new();
    for layout in layouts {
        for nested in layout.with_nested() {
            if !all.contains(&nested) {
                all.push(nested);
            }
        }
    }
    for (i, layout) in all.iter().enumerate() {
        if let Some(other) = all[..i].iter().find(|l| l.name == layout.name) {
            diagnostics.push(layout_error(
                layout,
                format!(
                    "two different structs are named `{}` (`{}` at {}:{} and `{}` at {}:{}); the device names structs by their bare name, so rename one",
                    layout.name, other.path, other.file, other.line, layout.path, layout.file, layout.line
                ),
            ));
            continue;
        }
        if let Err(e) = add_host_layout(env, module, layout) {
            diagnostics.push(e);
        }
    }
    diagnostics
}

/// Registers one layout whose nested structs are registered already.
pub fn add_host_layout(
    env: &mut TypeEnv,
    module: &mut Module,
    layout: &TypeLayout,
) -> Result<Handle<Type>> {
    if layout.fields.is_empty() {
        return Err(layout_error(
            layout,
            "a struct without fields has size 0 in Rust but 1 in CUDA C++; give it a field".into(),
        ));
    }
    let mut members = Vec::new();
    let (mut offset, mut align) = (0u64, 1u64);
    for field in layout.fields {
        let ty = field_type(env, module, &field.ty)?;
        let (size, field_align) = size_align(module, ty);
        offset = offset.div_ceil(field_align) * field_align;
        if (offset, size) != (field.offset as u64, field.size as u64) {
            return Err(layout_error(
                layout,
                format!(
                    "rustc places field `{}` at offset {} with size {}, but the repr(C) layout the device uses has offset {offset} and size {size}; use plain `#[repr(C)]` and `#[derive(GpuType)]` instead of a hand-written layout",
                    field.name, field.offset, field.size
                ),
            ));
        }
        members.push(StructMember {
            name: field.name.to_string(),
            ty,
            offset,
        });
        offset += size;
        align = align.max(field_align);
    }
    let size = offset.div_ceil(align) * align;
    if (size, align) != (layout.size as u64, layout.align as u64) {
        return Err(layout_error(
            layout,
            format!(
                "rustc gives it size {} and alignment {}, but the repr(C) layout the device uses has size {size} and alignment {align}; remove `packed`/`align` representations",
                layout.size, layout.align
            ),
        ));
    }
    let handle = module.ty(Type::Struct(StructType {
        name: layout.name.to_string(),
        size,
        align,
        members,
    }));
    if let Some(previous) = env.register(layout.name.to_string(), handle) {
        if previous != handle {
            return Err(layout_error(
                layout,
                format!(
                    "another struct named `{}` with a different layout is already known; rename one",
                    layout.name
                ),
            ));
        }
    }
    Ok(handle)
}

fn field_type(env: &mut TypeEnv, module: &mut Module, ty: &FieldType) -> Result<Handle<Type>> {
    Ok(match ty {
        FieldType::Scalar(s) => module.ty(Type::Scalar(scalar(*s))),
        FieldType::Array { elem, len } => {
            let elem = field_type(env, module, elem)?;
            module.ty(Type::Array {
                elem,
                len: *len as u64,
            })
        }
        FieldType::Struct(nested) => match env.struct_named(nested.name) {
            Some(handle) => handle,
            None => add_host_layout(env, module, nested)?,
        },
    })
}

/// The IR scalar of a host scalar.
pub fn scalar(kind: ScalarKind) -> Scalar {
    match kind {
        ScalarKind::Bool => Scalar::Bool,
        ScalarKind::I8 => Scalar::Int(IntKind::I8),
        ScalarKind::I16 => Scalar::Int(IntKind::I16),
        ScalarKind::I32 => Scalar::Int(IntKind::I32),
        ScalarKind::I64 => Scalar::Int(IntKind::I64),
        ScalarKind::Isize => Scalar::Int(IntKind::Isize),
        ScalarKind::U8 => Scalar::Int(IntKind::U8),
        ScalarKind::U16 => Scalar::Int(IntKind::U16),
        ScalarKind::U32 => Scalar::Int(IntKind::U32),
        ScalarKind::U64 => Scalar::Int(IntKind::U64),
        ScalarKind::Usize => Scalar::Int(IntKind::Usize),
        ScalarKind::F32 => Scalar::Float(FloatKind::F32),
        ScalarKind::F64 => Scalar::Float(FloatKind::F64),
    }
}

/// A layout error about a host layout. It has no tokens of its own (the
/// struct is another item), so the message carries the declaration site.
fn layout_error(layout: &TypeLayout, problem: String) -> FrontError {
    FrontError::new(
        FrontErrorKind::HostLayout {
            name: layout.name.to_string(),
            declared: format!("{}:{}:{}", layout.file, layout.line, layout.column + 1),
            problem,
        },
        proc_macro2::Span::call_site(),
    )
}
