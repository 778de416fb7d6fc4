//! `#[gpu_kernel]`, `#[ring_kernel]` and `#[device_fn]`.
//!
//! Each keeps the user's function as written (rustc type-checks the body
//! against the context types, whose values cannot exist on the host, and
//! rust-analyzer works on it) and adds a module of the same name (modules
//! and functions live in different namespaces):
//!
//! ```text
//! pub mod NAME {
//!     use super::*;                      // the user's types, as the function sees them
//!     pub static SOURCE: ItemSource;     // text + position, callees' SOURCEs, layouts
//!     pub fn kernel() -> &'static KernelSource;        // kernels only
//!     pub fn cuda_source() -> String;                  // kernels only
//!     pub fn launch(&Runtime, Grid, args…) -> Result<()>;   // #[gpu_kernel]
//!     pub type Message, Reply, State;                   // #[ring_kernel]
//!     pub fn spawn(&Runtime, SpawnOptions) -> Result<Actor<M, R, S>>;
//!     pub fn spawn_many(&Runtime, count, SpawnOptions) -> Result<Vec<Actor<M, R, S>>>;
//!     pub fn spawn_with_state(&Runtime, S, SpawnOptions) -> …;   // with state
//! }
//! ```
//!
//! `SOURCE` names the `SOURCE` of every function the body calls by a bare
//! name (`helper::SOURCE`, so calling something that is not a
//! `#[device_fn]` fails to resolve at the call) and the `GpuType::LAYOUT` of
//! every struct it names (so naming a struct that is not a `GpuType` fails
//! with that trait's message at the name).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

use super::{paths, with_errors};
use crate::front::rust::attrs::{
    fn_kind, parse_kernel_args, reserved_name, KernelAttrs, KernelKind,
};
use crate::front::rust::error::{Diagnostics, FrontError, FrontErrorKind};
use crate::front::rust::precheck::{precheck, referenced_names, Precheck};
use crate::front::rust::signature::{
    device_fn_signature, handler_signature, kernel_signature, HandlerSignature, KernelParam,
    KernelSignature,
};
use crate::source::item_text;

/// `#[gpu_kernel(args)] item`.
pub fn gpu_kernel(args: TokenStream, item: TokenStream) -> TokenStream {
    kernel(KernelKind::Gpu, args, item)
}

/// `#[ring_kernel(args)] item`.
pub fn ring_kernel(args: TokenStream, item: TokenStream) -> TokenStream {
    kernel(KernelKind::Ring, args, item)
}

/// `#[device_fn(args)] item`.
pub fn device_fn(args: TokenStream, mut item: TokenStream) -> TokenStream {
    let f = match parse_fn("device_fn", &item) {
        Ok(f) => f,
        Err(errors) => return with_errors(item, &errors),
    };
    let mut errors = Diagnostics::default();
    if !args.is_empty() {
        errors.push(FrontError::spanning(
            FrontErrorKind::Attribute {
                attr: "device_fn",
                problem: "this attribute takes no arguments: write `#[device_fn]`".into(),
            },
            &args,
        ));
    }
    other_attributes("device_fn", &f, &mut item, &mut errors);
    if let Err(e) = device_fn_signature(&f.sig) {
        errors.errors.extend(e.errors);
    }
    if !errors.is_empty() {
        return with_errors(item, &errors);
    }
    let mut checked = f.clone();
    checked.attrs.insert(0, syn::parse_quote!(#[device_fn]));
    let pre = precheck(&checked, true);
    let module = module(
        &f,
        &item,
        "#[device_fn]".into(),
        quote!(#[doc(hidden)]),
        TokenStream::new(),
    );
    let out = quote! {
        #[allow(dead_code)]
        #item
        #module
    };
    with_errors(out, &pre.errors)
}

/// A checked kernel signature.
enum Shape {
    Gpu(KernelSignature),
    Ring(Box<HandlerSignature>),
}

fn kernel(kind: KernelKind, args: TokenStream, mut item: TokenStream) -> TokenStream {
    let f = match parse_fn(kind.attr_name(), &item) {
        Ok(f) => f,
        Err(errors) => return with_errors(item, &errors),
    };
    let mut errors = Diagnostics::default();
    let attrs = parse_kernel_args(kind, args.clone()).map_err(|e| errors.errors.extend(e.errors));
    other_attributes(kind.attr_name(), &f, &mut item, &mut errors);
    let shape = match kind {
        KernelKind::Gpu => kernel_signature(&f.sig).map(Shape::Gpu),
        KernelKind::Ring => handler_signature(&f.sig).map(|h| Shape::Ring(Box::new(h))),
    }
    .map_err(|e| errors.errors.extend(e.errors));
    if let Ok(KernelAttrs { name: None, .. }) = &attrs {
        let name = f.sig.ident.to_string();
        if !crate::back::cuda::Namer::is_usable(&name) {
            errors.push(FrontError::new(
                FrontErrorKind::Attribute {
                    attr: kind.attr_name(),
                    problem: reserved_name(
                        &name,
                        &format!("rename the function or give the entry point another name: `#[{}(name = \"{name}_kernel\")]`", kind.attr_name()),
                    ),
                },
                f.sig.ident.span(),
            ));
        }
    }
    let (Ok(attrs), Ok(shape), true) = (attrs, shape, errors.is_empty()) else {
        return with_errors(item, &errors);
    };
    // The attribute as the front end will see it again (`SourceText::attr`).
    let attr_name = syn::Ident::new(kind.attr_name(), Span::call_site());
    let attr_text = if args.is_empty() {
        format!("#[{attr_name}]")
    } else {
        format!("#[{attr_name}({args})]")
    };
    let mut checked = f.clone();
    checked
        .attrs
        .insert(0, syn::parse_quote!(#[#attr_name(#args)]));
    let pre = precheck(&checked, true);
    if attrs.debug {
        eprint!("{}", debug_report(kind, &f, &attrs, &pre));
    }
    let entry = attrs
        .name
        .clone()
        .unwrap_or_else(|| f.sig.ident.to_string());
    let api = match &shape {
        Shape::Gpu(sig) => gpu_api(&entry, sig),
        Shape::Ring(sig) => ring_api(&entry, sig),
    };
    let doc = format!(
        " The device side of the `{0}` {2}: its CUDA, its description for the runtime, and {1}.",
        f.sig.ident,
        match kind {
            KernelKind::Gpu => "a typed `launch`",
            KernelKind::Ring => "a typed `spawn`",
        },
        match kind {
            KernelKind::Gpu => "kernel",
            KernelKind::Ring => "actor",
        }
    );
    let module = module(&f, &item, attr_text, quote!(#[doc = #doc]), api);
    let out = quote! {
        #[allow(dead_code)]
        #item
        #module
    };
    with_errors(out, &pre.errors)
}

/// The item as a function, or an error at it (its name, if it has one).
fn parse_fn(attr: &'static str, item: &TokenStream) -> Result<syn::ItemFn, Diagnostics> {
    syn::parse2::<syn::ItemFn>(item.clone()).map_err(|_| {
        let what: &dyn ToTokens = match syn::parse2::<syn::Item>(item.clone()) {
            Ok(syn::Item::Struct(s)) => &s.ident.clone(),
            Ok(syn::Item::Enum(e)) => &e.ident.clone(),
            Ok(syn::Item::Const(c)) => &c.ident.clone(),
            Ok(syn::Item::Static(s)) => &s.ident.clone(),
            Ok(syn::Item::Mod(m)) => &m.ident.clone(),
            Ok(syn::Item::Trait(t)) => &t.ident.clone(),
            Ok(syn::Item::Type(t)) => &t.ident.clone(),
            _ => item,
        };
        Diagnostics::from(FrontError::spanning(
            FrontErrorKind::Attribute {
                attr,
                problem:
                    "this attribute applies to functions (`fn name(…) { … }`), not to this item"
                        .into(),
            },
            what,
        ))
    })
}

fn is_ringkernel_attr(attr: &syn::Attribute) -> bool {
    attr.path().segments.last().is_some_and(|s| {
        matches!(
            s.ident.to_string().as_str(),
            "device_fn" | "gpu_kernel" | "ring_kernel"
        )
    })
}

/// A second RingKernel attribute on the function: an error at it, and the
/// fallback item without it (so its own macro does not add errors about a
/// function that was not meant for it).
fn other_attributes(
    this: &'static str,
    f: &syn::ItemFn,
    item: &mut TokenStream,
    errors: &mut Diagnostics,
) {
    match fn_kind(&f.attrs) {
        Ok(None) => return,
        Ok(Some(_)) => {
            let attr = f
                .attrs
                .iter()
                .find(|a| is_ringkernel_attr(a))
                .expect("fn_kind found one");
            errors.push(FrontError::spanning(
                FrontErrorKind::Attribute {
                    attr: this,
                    problem: "a function takes one of `#[gpu_kernel]`, `#[ring_kernel]` and `#[device_fn]`; remove the others".into(),
                },
                attr,
            ));
        }
        Err(e) => errors.push(e),
    }
    let mut stripped = f.clone();
    stripped.attrs.retain(|a| !is_ringkernel_attr(a));
    *item = stripped.into_token_stream();
}

/// `mod NAME { use super::*; SOURCE; api }` with the function's
/// visibility and `cfg`s.
fn module(
    f: &syn::ItemFn,
    item: &TokenStream,
    attr_text: String,
    doc: TokenStream,
    api: TokenStream,
) -> TokenStream {
    let p = paths::private();
    let name = &f.sig.ident;
    let name_text = name.to_string();
    let vis = &f.vis;
    let cfgs = f.attrs.iter().filter(|a| a.path().is_ident("cfg"));
    // The compiler's tokens, not syn's reprint of them: a reprinted group
    // has one span for both delimiters, so its closing delimiter would lose
    // its position.
    let (text, line, column) = item_text(item);
    let names = referenced_names(f);
    let callees = names
        .calls
        .values()
        .filter(|ident| *ident != name)
        .map(|ident| quote_spanned!(ident.span()=> &#ident::SOURCE));
    let layouts = names
        .types
        .values()
        .map(|ident| quote_spanned!(ident.span()=> <#ident as #p::GpuType>::LAYOUT));
    quote! {
        #(#cfgs)*
        #doc
        #vis mod #name {
            #[allow(unused_imports)]
            use super::*;

            /// The function's source, position, callees and layouts.
            #[doc(hidden)]
            pub static SOURCE: #p::ItemSource = #p::ItemSource {
                name: #name_text,
                attr: #attr_text,
                text: #text,
                file: ::core::file!(),
                line: #line,
                column: #column,
                callees: &[#(#callees),*],
                layouts: &[#(#layouts),*],
            };

            #api
        }
    }
}

/// `kernel()` and `cuda_source()`.
fn common_api(entry: &str, kind: TokenStream) -> TokenStream {
    let p = paths::private();
    quote! {
        /// The kernel and everything needed to transpile it (its source,
        /// its `#[device_fn]` callees, the layouts of its types), built once.
        pub fn kernel() -> &'static #p::KernelSource {
            static KERNEL: #p::OnceLock<#p::KernelSource> = #p::OnceLock::new();
            KERNEL.get_or_init(|| {
                SOURCE.kernel_source(#entry, #kind, ::core::cfg!(debug_assertions))
            })
        }

        /// The generated CUDA C.
        ///
        /// # Panics
        /// If the kernel does not transpile; the message is the rendered
        /// error with its `file:line:column` (`kernel().transpile()` returns
        /// it instead).
        pub fn cuda_source() -> ::std::string::String {
            #p::cuda_source(kernel())
        }
    }
}

/// Names for the generated functions' own parameters that no user
/// parameter has.
fn fresh(base: &str, taken: &[String]) -> syn::Ident {
    let mut name = base.to_string();
    while taken.contains(&name) {
        name = format!("_{name}");
    }
    syn::Ident::new(&name, Span::call_site())
}

fn gpu_api(entry: &str, sig: &KernelSignature) -> TokenStream {
    let p = paths::private();
    let common = common_api(entry, quote!(#p::SourceKind::GpuKernel));
    let taken: Vec<String> = sig
        .params
        .iter()
        .map(|param| match param {
            KernelParam::Scalar { name, .. } | KernelParam::Slice { name, .. } => name.to_string(),
        })
        .collect();
    let runtime = fresh("runtime", &taken);
    let grid = fresh("grid", &taken);
    let mut params = Vec::new();
    let mut args = Vec::new();
    for param in &sig.params {
        match param {
            KernelParam::Scalar { name, ty } => {
                params.push(quote!(#name: #ty));
                args.push(quote!(#p::KernelArg::scalar(#name)));
            }
            KernelParam::Slice {
                name,
                elem,
                mutable: false,
            } => {
                params.push(quote_spanned!(elem.span()=> #name: &#p::DeviceBuffer<#elem>));
                args.push(quote!(#p::KernelArg::slice(#name)));
            }
            KernelParam::Slice {
                name,
                elem,
                mutable: true,
            } => {
                params.push(quote_spanned!(elem.span()=> #name: &mut #p::DeviceBuffer<#elem>));
                args.push(quote!(#p::KernelArg::slice_mut(#name)));
            }
        }
    }
    quote! {
        #common

        /// Launches the kernel over `grid` (in threads; the block is the
        /// attribute's). Slices are passed as device buffers.
        pub fn launch(
            #runtime: &#p::Runtime,
            #grid: #p::Grid,
            #(#params),*
        ) -> #p::RuntimeResult<()> {
            #runtime.launch(kernel(), #grid, &mut [#(#args),*])
        }
    }
}

fn ring_api(entry: &str, sig: &HandlerSignature) -> TokenStream {
    let p = paths::private();
    let common = common_api(entry, quote!(#p::SourceKind::RingKernel));
    let message = &sig.message;
    let unit = quote!(());
    let reply = sig
        .reply
        .as_ref()
        .map_or(unit.clone(), ToTokens::to_token_stream);
    let state = sig.state.as_ref().map_or(unit, ToTokens::to_token_stream);
    let reply_id = match &sig.reply {
        Some(r) => quote_spanned!(r.span()=> <#r as #p::RingMessage>::TYPE_ID),
        None => quote!(0),
    };
    let message_id = quote_spanned!(message.span()=> <#message as #p::RingMessage>::TYPE_ID);
    // `pub type State = State;` would be a cycle: a type already named like
    // its alias needs none (the module sees it through `use super::*`).
    let aliases = [
        (
            "Message",
            " The message type the handler takes.",
            message.to_token_stream(),
        ),
        (
            "Reply",
            " The reply type (`()` when the handler does not reply).",
            reply.clone(),
        ),
        (
            "State",
            " The actor's state type (`()` when it has none).",
            state.clone(),
        ),
    ]
    .into_iter()
    .filter(|(alias, _, ty)| ty.to_string() != *alias)
    .map(|(alias, doc, ty)| {
        let alias = syn::Ident::new(alias, Span::call_site());
        quote! {
            #[doc = #doc]
            pub type #alias = #ty;
        }
    });
    let aliases = quote!(#(#aliases)*);
    let actor = quote!(#p::Actor<#message, #reply, #state>);
    let options = quote! {
        #p::SpawnOptions {
            message_type_id: #message_id,
            reply_type_id: #reply_id,
            ..options
        }
    };
    let zero = match &sig.state {
        Some(s) => quote! {{
            #[allow(unused_imports)]
            use #p::{InitialFromDefault as _, InitialZeroed as _};
            (&&#p::InitialState::<#s>::new()).initial()
        }},
        None => quote!(()),
    };
    let with_state = sig.state.as_ref().map(|s| {
        quote! {
            /// Spawns one actor starting from `state`.
            pub fn spawn_with_state(
                runtime: &#p::Runtime,
                state: #s,
                options: #p::SpawnOptions,
            ) -> #p::RuntimeResult<#actor> {
                let mut actors = #p::spawn::<#message, #reply, #state>(runtime, kernel(), 1, state, #options)?;
                ::core::result::Result::Ok(actors.remove(0))
            }
        }
    });
    let state_doc = if sig.state.is_some() {
        " starting from the state's `Default` (all zeroes if it has none)"
    } else {
        ""
    };
    let one_doc = format!(" Spawns one actor{state_doc}.");
    let many_doc = format!(" Spawns `count` actors{state_doc} in one launch, with ids `0..count`.");
    let spawn = quote! {
        #[doc = #one_doc]
        pub fn spawn(
            runtime: &#p::Runtime,
            options: #p::SpawnOptions,
        ) -> #p::RuntimeResult<#actor> {
            let mut actors = spawn_many(runtime, 1, options)?;
            ::core::result::Result::Ok(actors.remove(0))
        }

        #[doc = #many_doc]
        pub fn spawn_many(
            runtime: &#p::Runtime,
            count: u32,
            options: #p::SpawnOptions,
        ) -> #p::RuntimeResult<::std::vec::Vec<#actor>> {
            #p::spawn::<#message, #reply, #state>(runtime, kernel(), count, #zero, #options)
        }

        #with_state

        /// Adds one actor of this handler to an actor system being built
        /// (`Runtime::system`), starting like `spawn`; wire its ports with
        /// `SystemBuilder::connect`.
        pub fn add_to(
            system: &mut #p::SystemBuilder<'_>,
            options: #p::SpawnOptions,
        ) -> #p::RuntimeResult<#p::Member<#message, #reply, #state>> {
            #p::add_to::<#message, #reply, #state>(system, kernel(), #zero, #options)
        }
    };
    quote! {
        #common

        #aliases

        #spawn
    }
}

/// What `debug` prints: the attribute, and the CUDA when the function is
/// complete on its own, otherwise what is missing until `kernel()` runs.
pub(super) fn debug_report(
    kind: KernelKind,
    f: &syn::ItemFn,
    attrs: &KernelAttrs,
    pre: &Precheck,
) -> String {
    let name = &f.sig.ident;
    let mut out = format!(
        "ringkernel debug: `{name}`: #[{}], block {}x{}x{}{}\n",
        kind.attr_name(),
        attrs.block[0],
        attrs.block[1],
        attrs.block[2],
        attrs
            .name
            .as_ref()
            .map(|n| format!(", entry `{n}`"))
            .unwrap_or_default(),
    );
    if !pre.errors.is_empty() {
        out.push_str(&format!(
            "ringkernel debug: `{name}`: the front end reports:\n{}\n",
            pre.errors
        ));
    }
    match &pre.cuda {
        Some(cuda) => out.push_str(&format!("ringkernel debug: `{name}`: CUDA:\n{cuda}")),
        None if pre.complete => {}
        None => out.push_str(&format!(
            "ringkernel debug: `{name}`: uses {} (known when `{name}::kernel()` runs); `{name}::cuda_source()` gives the CUDA\n",
            pre.missing.join(", ")
        )),
    }
    out
}
