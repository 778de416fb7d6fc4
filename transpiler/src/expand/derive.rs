//! `#[derive(GpuType)]` and `#[derive(RingMessage)]`.
//!
//! For a struct that passes [`check_struct`], the derive implements:
//! - `DeviceRepr` (the struct as a field type of other structs) and
//!   `GpuType`, whose `LAYOUT` is built from rustc's own `size_of`,
//!   `align_of` and `offset_of!`, with each field's type from its
//!   `DeviceRepr` (so a field of a type that is not plain data fails there,
//!   at the field, with that trait's message);
//! - `RingMessage` (for `RingMessage`), its `TYPE_ID` the FNV-1a hash of
//!   `module_path!()::Name` or `#[ring_message(type_id = N)]`;
//! - the runtime's `DeviceCopy` (elements of device buffers, copied byte
//!   for byte) when the struct has no padding and its fields are
//!   `DeviceCopy`; see `PaddingCheck` in `ringkernel_device::layout`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

use super::{paths, with_errors};
use crate::front::rust::gpu_type::{check_struct, Derive, GpuStruct};

/// `#[derive(GpuType)]`.
pub fn derive_gpu_type(input: TokenStream) -> TokenStream {
    derive(input, Derive::GpuType)
}

/// `#[derive(RingMessage)]`.
pub fn derive_ring_message(input: TokenStream) -> TokenStream {
    derive(input, Derive::RingMessage)
}

fn derive(input: TokenStream, derive: Derive) -> TokenStream {
    let parsed: syn::DeriveInput = match syn::parse2(input) {
        Ok(parsed) => parsed,
        Err(e) => return e.to_compile_error(),
    };
    match check_struct(&parsed, derive) {
        // A derive's input stays in the crate on its own: only the errors.
        Err(errors) => with_errors(TokenStream::new(), &errors),
        Ok(s) => implement(&s, derive),
    }
}

fn implement(s: &GpuStruct, derive: Derive) -> TokenStream {
    let p = paths::private();
    let ident = &s.ident;
    let name = ident.to_string();
    let at = ident.span().start();
    let (line, column) = (at.line as u32, at.column as u32);
    let fields = s.fields.iter().map(|(field, ty)| {
        let field_name = field.to_string();
        let field_type = quote_spanned!(ty.span()=> <#ty as #p::DeviceRepr>::FIELD_TYPE);
        quote! {
            #p::FieldLayout {
                name: #field_name,
                offset: ::core::mem::offset_of!(#ident, #field),
                size: ::core::mem::size_of::<#ty>(),
                ty: #field_type,
            }
        }
    });
    let field_sizes = s
        .fields
        .iter()
        .map(|(_, ty)| quote!(::core::mem::size_of::<#ty>()));
    let copy_bounds = s
        .fields
        .iter()
        .map(|(_, ty)| quote_spanned!(ty.span()=> for<'__rk> #ty: #p::DeviceCopy));
    let ring_message = match derive {
        Derive::GpuType => TokenStream::new(),
        Derive::RingMessage => {
            let type_id = match s.type_id {
                Some(id) => id.into_token_stream(),
                None => {
                    quote!(#p::type_id_of(::core::concat!(::core::module_path!(), "::", #name)))
                }
            };
            quote! {
                // SAFETY: as for `GpuType` above.
                unsafe impl #p::RingMessage for #ident {
                    const TYPE_ID: u32 = #type_id;
                }
            }
        }
    };
    quote! {
        // SAFETY: `check_struct` accepted a `#[repr(C)]` struct with named
        // fields, no generics and no `packed`/`align`; every field type is
        // `DeviceRepr` (plain data, checked by the `FIELD_TYPE` uses below),
        // and the layout is rustc's own.
        unsafe impl #p::DeviceRepr for #ident {
            const FIELD_TYPE: #p::FieldType = #p::FieldType::Struct(<Self as #p::GpuType>::LAYOUT);
        }

        // SAFETY: see `DeviceRepr` above.
        unsafe impl #p::GpuType for #ident {
            const LAYOUT: &'static #p::TypeLayout = &#p::TypeLayout {
                name: #name,
                path: ::core::concat!(::core::module_path!(), "::", #name),
                file: ::core::file!(),
                line: #line,
                column: #column,
                size: ::core::mem::size_of::<#ident>(),
                align: ::core::mem::align_of::<#ident>(),
                fields: &[#(#fields),*],
            };
        }

        #ring_message

        // SAFETY: plain data (see above) whose size is the sum of its
        // fields' (no padding, so every byte is initialised) and whose
        // fields are `DeviceCopy` themselves; only then do the bounds hold.
        unsafe impl #p::DeviceCopy for #ident
        where
            for<'__rk> #p::PaddingCheck<'__rk, { ::core::mem::size_of::<#ident>() == 0 #(+ #field_sizes)* }>: #p::PaddingFree,
            #(#copy_bounds,)*
        {
        }
    }
}
