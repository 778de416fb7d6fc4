//! The expansions, pretty-printed and pinned (insta), plus the shape of the
//! error fallback. Whether the expansions compile and work is the root
//! crate's job (`tests/trybuild.rs`, `tests/macros.rs`).

use proc_macro2::TokenStream;
use quote::quote;

use super::*;

/// Tokens with positions (as the compiler gives a macro), from text.
fn positioned(text: &str) -> TokenStream {
    text.parse().unwrap()
}

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens.clone()).unwrap_or_else(|e| panic!("{e}\n{tokens}"));
    prettyplease::unparse(&file)
}

#[test]
fn gpu_kernel_expansion() {
    let out = gpu_kernel(
        quote!(block_size = 256),
        positioned(
            "
/// y = a x + y.
pub fn saxpy(ctx: &ThreadContext, a: f32, x: &[f32], y: &mut [f32]) {
    let i = ctx.global_id() as usize;
    if i >= y.len() { return; } // the tail
    y[i] = clamp01(a * x[i] + y[i]);
}",
        ),
    );
    insta::assert_snapshot!(pretty(out));
}

#[test]
fn ring_kernel_expansion() {
    let out = ring_kernel(
        quote!(block_size = 64),
        positioned(
            "pub fn summer(ctx: &RingContext, state: &mut Stats, msg: &Request) -> Response {
    let sum = ctx.block_reduce_sum(msg.values[ctx.thread_id() as usize]);
    if ctx.is_leader() { state.count += 1; }
    Response { id: msg.id, sum }
}",
        ),
    );
    insta::assert_snapshot!(pretty(out));
    let stateless = pretty(ring_kernel(
        TokenStream::new(),
        quote! { fn sink(ctx: &RingContext, msg: &Ping) {} },
    ));
    assert!(stateless.contains("pub type State = ();"), "{stateless}");
    assert!(stateless.contains("reply_type_id: 0"), "{stateless}");
    assert!(!stateless.contains("spawn_with_state"), "{stateless}");
}

#[test]
fn device_fn_expansion() {
    let out = device_fn(
        TokenStream::new(),
        positioned(
            "#[cfg(feature = \"fast\")]
    pub(crate) fn clamp01(x: f32) -> f32 { if x < 0.0 { 0.0 } else { x.min(1.0) } }",
        ),
    );
    insta::assert_snapshot!(pretty(out));
}

#[test]
fn derive_expansion() {
    let out = derive_ring_message(positioned(
        "#[derive(Clone, Copy)]
#[repr(C)]
pub struct Request { pub id: u32, pub values: [f32; 64] }",
    ));
    insta::assert_snapshot!(pretty(out));
    let id = pretty(derive_ring_message(quote! {
        #[repr(C)]
        #[ring_message(type_id = 42)]
        pub struct Ping { pub seq: u64 }
    }));
    assert!(id.contains("const TYPE_ID: u32 = 42u32;"), "{id}");
}

#[test]
fn errors_keep_the_item_and_add_compile_errors() {
    let item = quote! { pub fn k(ctx: &ThreadContext, v: Vec<f32>) {} };
    let out = gpu_kernel(quote!(block_size = 4096), item.clone()).to_string();
    assert!(out.starts_with(&item.to_string()), "{out}");
    assert_eq!(out.matches("compile_error").count(), 2, "{out}");
    assert!(!out.contains("mod k"), "{out}");
    // A body error keeps the module, so uses of `k::launch` add no errors.
    let out = gpu_kernel(
        TokenStream::new(),
        quote! { pub fn k(ctx: &ThreadContext, v: &mut [f32]) { let f = || 1.0; } },
    )
    .to_string();
    assert!(out.contains("mod k"), "{out}");
    assert_eq!(out.matches("compile_error").count(), 1, "{out}");
    // A derive error emits nothing but the error (the struct stays).
    let out = derive_gpu_type(quote! { struct S { a: u32 } }).to_string();
    assert!(out.starts_with(":: core :: compile_error !"), "{out}");
}

#[test]
fn debug_prints_the_cuda_or_what_is_missing() {
    use crate::front::rust::attrs::{parse_kernel_args, KernelKind};
    use crate::front::rust::precheck::precheck;
    let attrs = parse_kernel_args(KernelKind::Gpu, quote!(block_size = 32, debug)).unwrap();
    let f: syn::ItemFn = syn::parse_quote! {
        #[gpu_kernel(block_size = 32, debug)]
        fn k(ctx: &ThreadContext, y: &mut [f32]) { y[0] = 1.0; }
    };
    let report = function::debug_report(KernelKind::Gpu, &f, &attrs, &precheck(&f, true));
    assert!(
        report.starts_with("ringkernel debug: `k`: #[gpu_kernel], block 32x1x1\n"),
        "{report}"
    );
    assert!(report.contains("__launch_bounds__(32)"), "{report}");
    let f: syn::ItemFn = syn::parse_quote! {
        #[gpu_kernel(debug)]
        fn k(ctx: &ThreadContext, y: &mut [Particle]) { y[0] = step(y[0]); }
    };
    let report = function::debug_report(KernelKind::Gpu, &f, &attrs, &precheck(&f, true));
    assert!(
        report.contains("uses struct `Particle`, fn `step` (known when `k::kernel()` runs)"),
        "{report}"
    );
}
