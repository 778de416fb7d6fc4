//! What `#[derive(GpuType)]` and `#[derive(RingMessage)]` accept: a
//! `#[repr(C)]` struct with named fields of plain data, no generics.
//!
//! The checks here are the syntactic ones, each pinned to the offending
//! tokens with what to write instead. The rest is rustc's job, through the
//! code the derive emits: every field type must implement `DeviceRepr`
//! (scalars, arrays, other `GpuType`s; a struct that does not derive
//! `GpuType` fails there, with the trait's own message), and the layout
//! itself is computed by rustc (`size_of`, `offset_of!`).

use quote::ToTokens;
use syn::spanned::Spanned;

use super::error::{Diagnostics, FrontError, FrontErrorKind};
use super::signature::not_plain_data;

/// Which derive is checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derive {
    GpuType,
    RingMessage,
}

/// A struct the derives accept.
#[derive(Debug, Clone)]
pub struct GpuStruct {
    pub ident: syn::Ident,
    /// The named fields, in declaration order.
    pub fields: Vec<(syn::Ident, syn::Type)>,
    /// `#[ring_message(type_id = N)]`, if given.
    pub type_id: Option<u32>,
}

/// Checks `input` for `derive`, collecting every error.
pub fn check_struct(input: &syn::DeriveInput, derive: Derive) -> Result<GpuStruct, Diagnostics> {
    let mut errors = Diagnostics::default();
    let name = input.ident.to_string();
    let item = match &input.data {
        syn::Data::Struct(_) => "struct",
        syn::Data::Enum(_) => "enum",
        syn::Data::Union(_) => "union",
    };
    let error = |problem: String, tokens: &dyn ToTokens| {
        FrontError::spanning(
            FrontErrorKind::Derive {
                item,
                name: name.clone(),
                problem,
            },
            tokens,
        )
    };
    let repr = read_repr(&input.attrs);
    let fields = match &input.data {
        syn::Data::Enum(_) => {
            errors.push(error(
                if repr.any {
                    "enums cannot be shared with the device yet; use an integer field (e.g. `pub kind: u32`) and constants for its values".into()
                } else {
                    "an enum without `#[repr]` has no defined layout, and enums cannot be shared with the device; use a `#[repr(C)]` struct with an integer field (e.g. `pub kind: u32`) and constants".into()
                },
                &input.ident,
            ));
            return Err(errors);
        }
        syn::Data::Union(_) => {
            errors.push(error(
                "unions cannot be shared with the device; use a `#[repr(C)]` struct".into(),
                &input.ident,
            ));
            return Err(errors);
        }
        syn::Data::Struct(s) => &s.fields,
    };
    let only_lifetimes = input
        .generics
        .params
        .iter()
        .all(|p| matches!(p, syn::GenericParam::Lifetime(_)));
    let has_reference = matches!(fields, syn::Fields::Named(n) if n.named.iter().any(|f| matches!(f.ty, syn::Type::Reference(_))));
    // Lifetimes that only serve reference fields: the field error says it.
    let reported_by_fields = only_lifetimes && has_reference;
    if !input.generics.params.is_empty() && !reported_by_fields {
        errors.push(error(
            if only_lifetimes {
                "lifetime parameters: a struct the device holds has no references; remove them".into()
            } else {
                "generic structs cannot be shared with the device: the device needs one concrete layout; write the struct for the concrete types".into()
            },
            &input.generics,
        ));
    }
    for (problem, span) in &repr.problems {
        errors.push(FrontError::new(
            FrontErrorKind::Derive {
                item,
                name: name.clone(),
                problem: problem.clone(),
            },
            *span,
        ));
    }
    if !repr.c && repr.problems.is_empty() {
        errors.push(error(
            "add `#[repr(C)]`: Rust may reorder the fields of other structs, and the device must see the exact host layout".into(),
            &input.ident,
        ));
    }
    let mut out = Vec::new();
    match fields {
        syn::Fields::Named(named) if !named.named.is_empty() => {
            for field in &named.named {
                let ident = field.ident.clone().expect("named field");
                if let Some(problem) = not_plain_data(&field.ty) {
                    errors.push(error(format!("field `{ident}`: {problem}"), &field.ty));
                    continue;
                }
                out.push((ident, field.ty.clone()));
            }
        }
        syn::Fields::Named(_) => errors.push(error(
            "a struct without fields has size 0 in Rust but 1 in CUDA C++; give it a field".into(),
            &input.ident,
        )),
        syn::Fields::Unnamed(unnamed) => errors.push(error(
            "tuple structs are not supported: the device code names fields; use named fields (`struct S { pub x: f32 }`)".into(),
            unnamed,
        )),
        syn::Fields::Unit => errors.push(error(
            "a unit struct has size 0 in Rust but 1 in CUDA C++; give it a field".into(),
            &input.ident,
        )),
    }
    let type_id = read_type_id(&input.attrs, derive, &mut errors);
    if errors.is_empty() {
        Ok(GpuStruct {
            ident: input.ident.clone(),
            fields: out,
            type_id,
        })
    } else {
        Err(errors)
    }
}

struct Repr {
    c: bool,
    any: bool,
    problems: Vec<(String, proc_macro2::Span)>,
}

fn read_repr(attrs: &[syn::Attribute]) -> Repr {
    let mut repr = Repr {
        c: false,
        any: false,
        problems: Vec::new(),
    };
    for attr in attrs.iter().filter(|a| a.path().is_ident("repr")) {
        repr.any = true;
        let _ = attr.parse_nested_meta(|meta| {
            let span = meta.path.span();
            let key = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
            match key.as_str() {
                "C" => repr.c = true,
                "packed" => {
                    if meta.input.peek(syn::token::Paren) {
                        let _ = meta.input.parse::<proc_macro2::Group>();
                    }
                    repr.problems.push((
                        "`#[repr(packed)]` misaligns fields, which the device cannot load; remove `packed` and order the fields largest first to avoid padding".into(),
                        span,
                    ));
                }
                "align" => {
                    let _ = meta.input.parse::<proc_macro2::Group>();
                    repr.problems.push((
                        "`#[repr(align(N))]` is not supported: the device struct takes its alignment from its fields; remove it (add a field of the alignment you need)".into(),
                        span,
                    ));
                }
                "transparent" | "Rust" => repr.problems.push((
                    format!("`#[repr({key})]` does not fix a C layout; use `#[repr(C)]`"),
                    span,
                )),
                _ => repr.problems.push((
                    format!("`#[repr({key})]` is not a struct representation the device supports; use `#[repr(C)]`"),
                    span,
                )),
            }
            Ok(())
        });
    }
    repr
}

fn read_type_id(attrs: &[syn::Attribute], derive: Derive, errors: &mut Diagnostics) -> Option<u32> {
    let mut type_id = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("ring_message")) {
        if derive == Derive::GpuType {
            errors.push(FrontError::spanning(
                FrontErrorKind::Attribute {
                    attr: "ring_message",
                    problem: "`#[ring_message(...)]` configures `#[derive(RingMessage)]`; derive `RingMessage` instead of `GpuType`".into(),
                },
                attr,
            ));
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("type_id") {
                let lit: syn::LitInt = meta.value()?.parse()?;
                type_id = Some(lit.base10_parse::<u32>()?);
                Ok(())
            } else {
                Err(meta.error("unknown argument; `#[ring_message]` takes `type_id = N` (a `u32`)"))
            }
        });
        if let Err(e) = result {
            errors.push(FrontError::new(
                FrontErrorKind::Attribute {
                    attr: "ring_message",
                    problem: e.to_string(),
                },
                e.span(),
            ));
        }
    }
    type_id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(input: syn::DeriveInput) -> String {
        match check_struct(&input, Derive::RingMessage) {
            Ok(s) => panic!("accepted {}", s.ident),
            Err(d) => d
                .errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    #[test]
    fn accepts_plain_data() {
        let s = check_struct(
            &syn::parse_quote! {
                #[derive(Clone, Copy)]
                #[repr(C)]
                #[ring_message(type_id = 7)]
                pub struct Request { pub id: u32, pub values: [f32; 64], pub inner: Inner }
            },
            Derive::RingMessage,
        )
        .unwrap();
        assert_eq!(s.fields.len(), 3);
        assert_eq!(s.type_id, Some(7));
    }

    #[test]
    fn rejects_what_the_device_cannot_hold() {
        for (input, message) in [
            (
                syn::parse_quote! { struct S { a: u32 } },
                "add `#[repr(C)]`",
            ),
            (
                syn::parse_quote! { #[repr(C)] struct S { a: Vec<f32> } },
                "field `a`: `Vec` owns heap memory",
            ),
            (
                syn::parse_quote! { #[repr(C)] struct S { a: String } },
                "field `a`: `String` is heap text",
            ),
            (
                syn::parse_quote! { #[repr(C)] struct S<'a> { a: &'a u32 } },
                "field `a`: references cannot cross",
            ),
            (
                syn::parse_quote! { #[repr(C)] struct S<'a> { a: [u32; 2] } },
                "lifetime parameters",
            ),
            (
                syn::parse_quote! { #[repr(C)] struct S { a: *const u32 } },
                "raw pointers",
            ),
            (
                syn::parse_quote! { #[repr(C)] struct S { a: (u32, u32) } },
                "tuples",
            ),
            (
                syn::parse_quote! { #[repr(C)] struct S { a: [char; 4] } },
                "use `u32`",
            ),
            (
                syn::parse_quote! { #[repr(C)] struct S<T> { a: T } },
                "generic structs",
            ),
            (
                syn::parse_quote! { #[repr(C)] struct S(u32); },
                "tuple structs are not supported",
            ),
            (syn::parse_quote! { #[repr(C)] struct S; }, "unit struct"),
            (
                syn::parse_quote! { #[repr(C)] struct S {} },
                "without fields",
            ),
            (
                syn::parse_quote! { enum E { A } },
                "an enum without `#[repr]`",
            ),
            (
                syn::parse_quote! { #[repr(u8)] enum E { A } },
                "enums cannot be shared with the device yet",
            ),
            (
                syn::parse_quote! { #[repr(C)] union U { a: u32 } },
                "unions",
            ),
            (
                syn::parse_quote! { #[repr(C, packed)] struct S { a: u32 } },
                "`#[repr(packed)]`",
            ),
            (
                syn::parse_quote! { #[repr(C, align(16))] struct S { a: u32 } },
                "`#[repr(align(N))]`",
            ),
            (
                syn::parse_quote! { #[repr(transparent)] struct S { a: u32 } },
                "use `#[repr(C)]`",
            ),
            (
                syn::parse_quote! { #[repr(C)] #[ring_message(id = 1)] struct S { a: u32 } },
                "takes `type_id = N`",
            ),
        ] {
            let got = errors(input);
            assert!(got.contains(message), "expected `{message}` in `{got}`");
        }
    }
}
