//! The proc macros' expansions, as functions from tokens to tokens.
//!
//! `ringkernel-macros` is only entry points; what each attribute and derive
//! expands to is written here, next to the front end whose checks it runs,
//! so it is unit-tested (and its output snapshot-tested) without a compiler
//! in the loop. Every path the generated code uses comes from [`paths`].
//!
//! | entry | checks at macro time | emits |
//! |---|---|---|
//! | [`gpu_kernel`] | attribute ([`attrs`](crate::front::rust::attrs)), signature, body ([`precheck`](crate::front::rust::precheck)) | the function, `mod NAME { SOURCE, kernel(), cuda_source(), launch() }` |
//! | [`ring_kernel`] | the same, handler shapes | the function, `mod NAME { SOURCE, kernel(), cuda_source(), Message/Reply/State, spawn(), spawn_with_state() }` |
//! | [`device_fn`] | signature, body | the function, `mod NAME { SOURCE }` |
//! | [`derive_gpu_type`], [`derive_ring_message`] | [`check_struct`](crate::front::rust::gpu_type::check_struct) | `DeviceRepr`, `GpuType` (+ `RingMessage`), `DeviceCopy` when padding-free |
//!
//! On an error the expansion is the user's item unchanged plus one
//! `compile_error!` per error at its tokens, so the rest of the crate (and
//! the IDE) keeps working. When only the body has errors, the generated
//! module is emitted too, so uses of `NAME::launch` do not add errors of
//! their own.

mod derive;
mod function;
pub mod paths;

pub use derive::{derive_gpu_type, derive_ring_message};
pub use function::{device_fn, gpu_kernel, ring_kernel};

use proc_macro2::TokenStream;
use quote::quote;

use crate::front::rust::Diagnostics;

/// `item` unchanged, with the errors as `compile_error!`s at their tokens.
fn with_errors(item: TokenStream, errors: &Diagnostics) -> TokenStream {
    let errors = errors.to_syn().map(|e| e.to_compile_error());
    quote! {
        #item
        #errors
    }
}

#[cfg(test)]
mod tests;
