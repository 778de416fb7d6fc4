//! Every path the generated code names, in one place. They all go through
//! the facade's hidden `__private` module, so a user's crate needs the
//! `ringkernel` dependency alone, and what the generated code relies on is
//! listed in one module of the facade (`src/private.rs`).

use proc_macro2::TokenStream;
use quote::quote;

/// `::ringkernel::__private`.
pub fn private() -> TokenStream {
    quote!(::ringkernel::__private)
}

/// A path under `::ringkernel::__private`.
pub fn item(name: &str) -> TokenStream {
    let private = private();
    let ident = syn::Ident::new(name, proc_macro2::Span::call_site());
    quote!(#private::#ident)
}
