//! Rust types (syn) to IR types, and the `#[repr(C)]` layouts of structs.
//!
//! Struct layouts follow the `repr(C)` algorithm rustc uses: members in
//! declaration order, each at the next offset aligned to its alignment; the
//! struct's alignment is the largest member alignment and its size is
//! rounded up to it. The macro path additionally pins these numbers against
//! rustc's own (`size_of`, `offset_of!`) and the back end pins the CUDA
//! struct against them with `static_assert`s, so the three can never
//! disagree silently.

use std::collections::HashMap;

use syn::spanned::Spanned;

use super::consts::ConstEnv;
use super::error::{FrontError, FrontErrorKind, Result};
use crate::arena::Handle;
use crate::ir::{Module, Scalar, StructMember, StructType, Type};

/// Structs known to the front end, by Rust name.
#[derive(Debug, Default, Clone)]
pub struct TypeEnv {
    structs: HashMap<String, Handle<Type>>,
}

impl TypeEnv {
    pub fn struct_named(&self, name: &str) -> Option<Handle<Type>> {
        self.structs.get(name).copied()
    }

    /// Registers a struct type under `name` (see `host.rs`); returns the
    /// type registered under it before, if any.
    pub(super) fn register(&mut self, name: String, ty: Handle<Type>) -> Option<Handle<Type>> {
        self.structs.insert(name, ty)
    }

    /// Lays out `item` (which must be `#[repr(C)]` plain data) and registers it.
    pub fn add_struct(
        &mut self,
        module: &mut Module,
        item: &syn::ItemStruct,
    ) -> Result<Handle<Type>> {
        let name = item.ident.to_string();
        let layout_error = |problem: String, span| {
            FrontError::new(
                FrontErrorKind::Layout {
                    name: name.clone(),
                    problem,
                },
                span,
            )
        };
        if !item.generics.params.is_empty() {
            return Err(layout_error(
                "generic structs cannot be shared with the device".into(),
                item.generics.span(),
            ));
        }
        if !has_repr_c(&item.attrs) {
            return Err(layout_error(
                "add `#[repr(C)]`: the device must see the exact host layout".into(),
                item.ident.span(),
            ));
        }
        let syn::Fields::Named(fields) = &item.fields else {
            return Err(layout_error(
                "use named fields (tuple and unit structs are not supported)".into(),
                item.fields.span(),
            ));
        };
        let mut members = Vec::new();
        let (mut offset, mut align) = (0u64, 1u64);
        for field in &fields.named {
            let ty = self.resolve(module, &field.ty, &ConstEnv::default())?;
            if !is_plain_data(module, ty) {
                return Err(layout_error(
                    format!("field `{}` is not plain data (integers, floats, bool, arrays and #[repr(C)] structs)", field.ident.as_ref().map(|i| i.to_string()).unwrap_or_default()),
                    field.ty.span(),
                ));
            }
            let (size, field_align) = size_align(module, ty);
            offset = offset.div_ceil(field_align) * field_align;
            members.push(StructMember {
                name: field
                    .ident
                    .as_ref()
                    .map(|i| i.to_string())
                    .unwrap_or_default(),
                ty,
                offset,
            });
            offset += size;
            align = align.max(field_align);
        }
        let size = offset.div_ceil(align) * align;
        let handle = module.ty(Type::Struct(StructType {
            name: name.clone(),
            size,
            align,
            members,
        }));
        self.structs.insert(name, handle);
        Ok(handle)
    }

    /// Resolves a syn type. Reference and slice types are resolved too; the
    /// callers decide where they are allowed.
    pub fn resolve(
        &self,
        module: &mut Module,
        ty: &syn::Type,
        consts: &ConstEnv,
    ) -> Result<Handle<Type>> {
        match ty {
            syn::Type::Path(path) if path.qself.is_none() => {
                let Some(ident) = path.path.get_ident() else {
                    return Err(FrontError::unsupported(
                        "this type path",
                        "use a primitive type or a #[repr(C)] struct defined beside the kernel",
                        ty.span(),
                    ));
                };
                let name = ident.to_string();
                if let Some(scalar) = Scalar::from_rust_name(&name) {
                    return Ok(module.ty(Type::Scalar(scalar)));
                }
                self.struct_named(&name).ok_or_else(|| {
                    FrontError::new(
                        FrontErrorKind::NotFound {
                            what: "type",
                            name: name.clone(),
                        },
                        ident.span(),
                    )
                })
            }
            syn::Type::Tuple(tuple) if tuple.elems.is_empty() => Ok(module.ty(Type::Unit)),
            syn::Type::Paren(inner) => self.resolve(module, &inner.elem, consts),
            syn::Type::Array(array) => {
                let elem = self.resolve(module, &array.elem, consts)?;
                let len = consts.eval_usize(&array.len)?;
                Ok(module.ty(Type::Array { elem, len }))
            }
            syn::Type::Reference(reference) => {
                if reference.lifetime.is_some() {
                    // Lifetimes are irrelevant on the device; accept them.
                }
                let mutable = reference.mutability.is_some();
                if let syn::Type::Slice(slice) = &*reference.elem {
                    let elem = self.resolve(module, &slice.elem, consts)?;
                    return Ok(module.ty(Type::Slice { elem, mutable }));
                }
                let target = self.resolve(module, &reference.elem, consts)?;
                Ok(module.ty(Type::Ref { target, mutable }))
            }
            syn::Type::Tuple(_) => Err(FrontError::unsupported(
                "tuple types",
                "use a #[repr(C)] struct with named fields",
                ty.span(),
            )),
            syn::Type::Ptr(_) => Err(FrontError::unsupported(
                "raw pointers",
                "use a slice parameter (`&[T]` / `&mut [T]`)",
                ty.span(),
            )),
            syn::Type::TraitObject(_) | syn::Type::ImplTrait(_) => Err(FrontError::unsupported(
                "trait objects and `impl Trait`",
                "use concrete types: there is no dynamic dispatch on the device",
                ty.span(),
            )),
            syn::Type::Slice(_) => Err(FrontError::unsupported(
                "unsized slice types",
                "take a slice by reference: `&[T]` or `&mut [T]`",
                ty.span(),
            )),
            syn::Type::Never(_) => Err(FrontError::unsupported(
                "the never type",
                "return a value or `()`",
                ty.span(),
            )),
            _ => Err(FrontError::unsupported(
                "this type",
                "use primitives, arrays, slices or #[repr(C)] structs",
                ty.span(),
            )),
        }
    }
}

fn has_repr_c(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        if !attr.path().is_ident("repr") {
            return false;
        }
        let mut c = false;
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("C") {
                c = true;
            }
            Ok(())
        });
        c
    })
}

/// Whether a type may live in a message, a state or a struct.
pub fn is_plain_data(module: &Module, ty: Handle<Type>) -> bool {
    match &module.types[ty] {
        Type::Scalar(_) | Type::Struct(_) => true,
        Type::Array { elem, .. } => is_plain_data(module, *elem),
        Type::Unit | Type::Slice { .. } | Type::Ref { .. } => false,
    }
}

/// Size and alignment in bytes of a plain-data type.
pub fn size_align(module: &Module, ty: Handle<Type>) -> (u64, u64) {
    match &module.types[ty] {
        Type::Scalar(s) => (s.size(), s.size()),
        Type::Array { elem, len } => {
            let (size, align) = size_align(module, *elem);
            (size * len, align)
        }
        Type::Struct(s) => (s.size, s.align),
        Type::Unit => (0, 1),
        Type::Slice { .. } => (16, 8),
        Type::Ref { .. } => (8, 8),
    }
}

/// The Rust spelling of an IR type, for error messages.
pub fn type_name(module: &Module, ty: Handle<Type>) -> String {
    match &module.types[ty] {
        Type::Unit => "()".into(),
        Type::Scalar(s) => s.rust_name().into(),
        Type::Array { elem, len } => format!("[{}; {}]", type_name(module, *elem), len),
        Type::Struct(s) => s.name.clone(),
        Type::Slice { elem, mutable } => format!(
            "&{}[{}]",
            if *mutable { "mut " } else { "" },
            type_name(module, *elem)
        ),
        Type::Ref { target, mutable } => format!(
            "&{}{}",
            if *mutable { "mut " } else { "" },
            type_name(module, *target)
        ),
    }
}
