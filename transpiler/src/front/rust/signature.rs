//! The signature shapes the three function attributes accept, read from
//! syn alone (no type layouts), so the macros can check them, and type the
//! generated `launch`/`spawn`, before anything else is known.
//!
//! - `#[gpu_kernel]`: `(ctx: &ThreadContext, a: T, x: &[T], y: &mut [T], …)`,
//!   returning nothing; scalars by value, buffers as slices.
//! - `#[ring_kernel]`: `(ctx: &RingContext, msg: &M) -> R` or
//!   `(ctx: &RingContext, state: &mut S, msg: &M) -> R`, `R` possibly `()`.
//! - `#[device_fn]`: plain data by value in and out, no context.
//!
//! Every function is also checked for what no kernel can be: `async`,
//! `unsafe`, `const`, an ABI, generics, `self`, variadics, patterns.
//! Errors are collected, one per offending piece of the signature, each
//! saying what to write instead. The front end's `lower_fn` applies the same
//! rules (with resolved types) when it lowers the function.

use quote::ToTokens;

use super::attrs::KernelKind;
use super::error::{Diagnostics, FrontError, FrontErrorKind};

/// A `#[gpu_kernel]` parameter after the context.
#[derive(Debug, Clone)]
pub enum KernelParam {
    /// A scalar by value (`a: f32`).
    Scalar { name: syn::Ident, ty: syn::Type },
    /// `x: &[T]` or `y: &mut [T]`.
    Slice {
        name: syn::Ident,
        elem: syn::Type,
        mutable: bool,
    },
}

/// A checked `#[gpu_kernel]` signature.
#[derive(Debug, Clone)]
pub struct KernelSignature {
    /// The parameters after the context, in order.
    pub params: Vec<KernelParam>,
}

/// A checked `#[ring_kernel]` handler signature.
#[derive(Debug, Clone)]
pub struct HandlerSignature {
    /// `S` of `state: &mut S`, if the actor has state.
    pub state: Option<syn::Type>,
    /// `M` of `msg: &M`.
    pub message: syn::Type,
    /// `R` of `-> R`, if the handler replies.
    pub reply: Option<syn::Type>,
}

fn signature_error(problem: impl Into<String>, tokens: &dyn ToTokens) -> FrontError {
    FrontError::spanning(
        FrontErrorKind::Signature {
            problem: problem.into(),
        },
        tokens,
    )
}

fn unsupported(
    construct: &'static str,
    suggestion: &'static str,
    tokens: &dyn ToTokens,
) -> FrontError {
    FrontError::spanning(
        FrontErrorKind::Unsupported {
            construct,
            suggestion,
        },
        tokens,
    )
}

const SCALARS: &[&str] = &[
    "bool", "i8", "i16", "i32", "i64", "isize", "u8", "u16", "u32", "u64", "usize", "f32", "f64",
];

/// Whether `ty` names a primitive scalar.
pub fn is_scalar(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => p
            .path
            .get_ident()
            .is_some_and(|i| SCALARS.contains(&i.to_string().as_str())),
        syn::Type::Paren(p) => is_scalar(&p.elem),
        syn::Type::Group(g) => is_scalar(&g.elem),
        _ => false,
    }
}

/// The context type `ty` names (`&ThreadContext` → `Gpu`, `&RingContext` →
/// `Ring`), if any.
pub fn context_kind(ty: &syn::Type) -> Option<KernelKind> {
    let syn::Type::Reference(r) = ty else {
        return None;
    };
    let syn::Type::Path(p) = &*r.elem else {
        return None;
    };
    match p.path.segments.last()?.ident.to_string().as_str() {
        "ThreadContext" => Some(KernelKind::Gpu),
        "RingContext" => Some(KernelKind::Ring),
        _ => None,
    }
}

/// What to write instead of a type that is not plain data, if `ty` is one
/// of the common mistakes (heap types, references, pointers, tuples,
/// trait objects, `char`/`str`); `None` for anything else.
pub fn not_plain_data(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            let name = last.ident.to_string();
            Some(match name.as_str() {
                "Vec" | "VecDeque" | "Box" | "Rc" | "Arc" | "HashMap" | "BTreeMap" | "HashSet" => {
                    format!("`{name}` owns heap memory the device cannot see; use a fixed-size array `[T; N]`")
                }
                "String" | "str" => {
                    format!("`{name}` is heap text the device cannot see; use a fixed-size byte array `[u8; N]`")
                }
                "Option" | "Result" => {
                    format!("`{name}` is an enum with no fixed device layout; use a plain field and a flag (`pub has_x: bool`)")
                }
                "char" => "`char` is not a device scalar; use `u32`".into(),
                "u128" | "i128" => format!("`{name}` is not a device scalar; use two `u64` fields"),
                _ => return None,
            })
        }
        syn::Type::Reference(_) => Some(
            "references cannot cross to the device; store the value itself (a field of type `T` or `[T; N]`)".into(),
        ),
        syn::Type::Ptr(_) => Some(
            "raw pointers cannot cross to the device; store the value itself or pass a slice to a `#[gpu_kernel]`".into(),
        ),
        syn::Type::Tuple(t) if !t.elems.is_empty() => {
            Some("tuples have no fixed device layout; use a `#[repr(C)]` struct with named fields".into())
        }
        syn::Type::TraitObject(_) | syn::Type::ImplTrait(_) => Some(
            "trait objects and `impl Trait` have no device layout (no dynamic dispatch on the device); use a concrete type".into(),
        ),
        syn::Type::BareFn(_) => Some("function pointers cannot cross to the device; call a `#[device_fn]` by name".into()),
        syn::Type::Slice(_) => Some("unsized slices have no fixed size; use a fixed-size array `[T; N]`".into()),
        syn::Type::Array(a) => not_plain_data(&a.elem),
        syn::Type::Paren(p) => not_plain_data(&p.elem),
        syn::Type::Group(g) => not_plain_data(&g.elem),
        _ => None,
    }
}

/// The checks every RingKernel function gets, whatever its attribute.
fn check_common(sig: &syn::Signature, what: &str, errors: &mut Diagnostics) {
    if let Some(c) = &sig.constness {
        errors.push(unsupported(
            "`const fn`",
            "remove `const`: device code runs at run time",
            c,
        ));
    }
    if let Some(a) = &sig.asyncness {
        errors.push(unsupported(
            "`async fn`",
            "kernels and handlers are synchronous: each message runs to completion; remove `async`",
            a,
        ));
    }
    if let Some(u) = &sig.unsafety {
        errors.push(unsupported(
            "`unsafe fn`",
            "kernels are safe code; remove `unsafe`",
            u,
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(unsupported(
            "an `extern` ABI",
            "remove it: the transpiler chooses the device ABI",
            abi,
        ));
    }
    if !sig.generics.params.is_empty() {
        let only_lifetimes = sig
            .generics
            .params
            .iter()
            .all(|p| matches!(p, syn::GenericParam::Lifetime(_)));
        errors.push(unsupported(
            "generic functions",
            if only_lifetimes {
                "remove the lifetime parameters: elided lifetimes (`&[f32]`) are all a kernel needs"
            } else {
                "write one function per concrete type"
            },
            &sig.generics,
        ));
    } else if let Some(w) = &sig.generics.where_clause {
        errors.push(unsupported(
            "`where` clauses",
            "remove it: kernels are not generic",
            w,
        ));
    }
    if let Some(v) = &sig.variadic {
        errors.push(unsupported("variadic functions", "list the parameters", v));
    }
    for input in &sig.inputs {
        match input {
            syn::FnArg::Receiver(r) => {
                errors.push(unsupported("`self` parameters", "write a free function", r))
            }
            syn::FnArg::Typed(p) => {
                if !matches!(&*p.pat, syn::Pat::Ident(i) if i.subpat.is_none() && i.by_ref.is_none())
                {
                    errors.push(unsupported(
                        "patterns in parameters",
                        "name the parameter: `x: T`",
                        &p.pat,
                    ));
                } else if let syn::Type::ImplTrait(_) = &*p.ty {
                    errors.push(unsupported(
                        "`impl Trait` parameters",
                        "use a concrete type: a kernel is not generic",
                        &p.ty,
                    ));
                }
            }
        }
    }
    if let syn::ReturnType::Type(_, ty) = &sig.output {
        if let Some(problem) = not_plain_data(ty) {
            errors.push(signature_error(
                format!("a {what} returns plain data by value: {problem}"),
                ty,
            ));
        }
    }
}

/// The typed parameters (skipping receivers and patterns, which
/// `check_common` reports).
fn typed_params(sig: &syn::Signature) -> Vec<(&syn::Ident, &syn::Type)> {
    sig.inputs
        .iter()
        .filter_map(|input| match input {
            syn::FnArg::Typed(p) => match &*p.pat {
                syn::Pat::Ident(i) => Some((&i.ident, &*p.ty)),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect()
}

/// Checks a `#[gpu_kernel]` signature.
pub fn kernel_signature(sig: &syn::Signature) -> Result<KernelSignature, Diagnostics> {
    let mut errors = Diagnostics::default();
    check_common(sig, "`#[gpu_kernel]`", &mut errors);
    let mut params = Vec::new();
    for (position, (name, ty)) in typed_params(sig).into_iter().enumerate() {
        match context_kind(ty) {
            Some(KernelKind::Ring) => {
                errors.push(signature_error(
                    "`&RingContext` belongs to `#[ring_kernel]` handlers; a `#[gpu_kernel]` takes `ctx: &ThreadContext`",
                    ty,
                ));
                continue;
            }
            Some(KernelKind::Gpu) if position == 0 => continue,
            Some(KernelKind::Gpu) => {
                errors.push(signature_error(
                    "the context must be the first parameter: `fn k(ctx: &ThreadContext, …)`",
                    ty,
                ));
                continue;
            }
            None => {}
        }
        if is_scalar(ty) {
            params.push(KernelParam::Scalar {
                name: name.clone(),
                ty: ty.clone(),
            });
            continue;
        }
        if let syn::Type::Reference(r) = ty {
            if let syn::Type::Slice(s) = &*r.elem {
                if let Some(problem) = not_plain_data(&s.elem) {
                    errors.push(signature_error(
                        format!("parameter `{name}`: the elements of a kernel buffer are plain data: {problem}"),
                        &s.elem,
                    ));
                    continue;
                }
                params.push(KernelParam::Slice {
                    name: name.clone(),
                    elem: (*s.elem).clone(),
                    mutable: r.mutability.is_some(),
                });
                continue;
            }
        }
        let hint = match ty {
            syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Vec") => {
                "a `Vec<T>` on the host is a `DeviceBuffer<T>` uploaded with `rt.upload(&v)`, and the kernel takes it as `&[T]` or `&mut [T]`".to_string()
            }
            syn::Type::Reference(r) if is_scalar(&r.elem) => format!(
                "pass scalars by value: `{name}: {}`",
                r.elem.to_token_stream()
            ),
            syn::Type::Reference(r) => not_plain_data(&r.elem).unwrap_or_else(|| {
                "pass structs in a buffer (`&[T]`) or send them to a `#[ring_kernel]` actor".into()
            }),
            other => not_plain_data(other).unwrap_or_else(|| {
                "pass structs and arrays in a buffer (`&[T]`) or send them to a `#[ring_kernel]` actor".into()
            }),
        };
        errors.push(signature_error(
            format!("parameter `{name}`: a `#[gpu_kernel]` takes scalars by value and buffers as slices (`&[T]`, `&mut [T]`); {hint}"),
            ty,
        ));
    }
    if let syn::ReturnType::Type(_, ty) = &sig.output {
        errors.push(signature_error(
            "a `#[gpu_kernel]` returns nothing: write results to a `&mut [T]` parameter",
            ty,
        ));
    }
    if errors.is_empty() {
        Ok(KernelSignature { params })
    } else {
        Err(errors)
    }
}

const HANDLER_SHAPES: &str =
    "`(ctx: &RingContext, msg: &M) -> R` or `(ctx: &RingContext, state: &mut S, msg: &M) -> R` (`R` may be `()`)";

/// Checks a `#[ring_kernel]` handler signature.
pub fn handler_signature(sig: &syn::Signature) -> Result<HandlerSignature, Diagnostics> {
    let mut errors = Diagnostics::default();
    check_common(sig, "`#[ring_kernel]` handler", &mut errors);
    let params = typed_params(sig);
    let all_typed = params.len() == sig.inputs.len();
    if all_typed && !(2..=3).contains(&params.len()) {
        let problem = format!(
            "a `#[ring_kernel]` handler takes {HANDLER_SHAPES}, not {} parameter(s)",
            params.len()
        );
        errors.push(if sig.inputs.is_empty() {
            FrontError::new(
                FrontErrorKind::Signature { problem },
                sig.paren_token.span.join(),
            )
        } else {
            signature_error(problem, &sig.inputs)
        });
        return Err(errors);
    }
    let mut state = None;
    let mut message = None;
    for (position, &(name, ty)) in params.iter().enumerate() {
        let is_message = position + 1 == params.len();
        match (position, context_kind(ty)) {
            (0, Some(KernelKind::Ring)) => continue,
            (0, Some(KernelKind::Gpu)) => {
                errors.push(signature_error(
                    "a `#[ring_kernel]` handler takes `ctx: &RingContext` (`&ThreadContext` is for `#[gpu_kernel]`s)",
                    ty,
                ));
                continue;
            }
            (0, None) => {
                errors.push(signature_error(
                    if params.iter().any(|(_, t)| context_kind(t).is_some()) {
                        "the context must be the first parameter: `fn h(ctx: &RingContext, …)`".to_string()
                    } else {
                        format!("a `#[ring_kernel]` handler's first parameter is the context, `ctx: &RingContext`; the handler takes {HANDLER_SHAPES}")
                    },
                    ty,
                ));
                continue;
            }
            (_, Some(_)) => {
                if context_kind(params[0].1).is_some() {
                    errors.push(signature_error(
                        "the context is passed once, as the first parameter",
                        ty,
                    ));
                }
                continue;
            }
            _ => {}
        }
        let role = if is_message { "message" } else { "state" };
        let syn::Type::Reference(r) = ty else {
            errors.push(signature_error(
                if is_message {
                    format!("parameter `{name}`: take the message by reference: `{name}: &{}`", quote::ToTokens::to_token_stream(ty))
                } else {
                    format!("parameter `{name}`: take the state by mutable reference: `{name}: &mut {}`", quote::ToTokens::to_token_stream(ty))
                },
                ty,
            ));
            continue;
        };
        match (is_message, r.mutability.is_some()) {
            (true, true) => {
                errors.push(signature_error(
                    format!("parameter `{name}`: messages are read-only; take `&{}` (state the actor keeps goes in `state: &mut S`)", quote::ToTokens::to_token_stream(&r.elem)),
                    ty,
                ));
                continue;
            }
            (false, false) => {
                errors.push(signature_error(
                    format!(
                        "parameter `{name}`: the state is `&mut {}`, which the handler may update",
                        quote::ToTokens::to_token_stream(&r.elem)
                    ),
                    ty,
                ));
                continue;
            }
            _ => {}
        }
        if let Some(problem) = not_plain_data(&r.elem) {
            errors.push(signature_error(
                format!("parameter `{name}`: the {role} is a `#[repr(C)]` struct: {problem}"),
                &r.elem,
            ));
            continue;
        }
        if is_message {
            message = Some((*r.elem).clone());
        } else {
            state = Some((*r.elem).clone());
        }
    }
    let reply = match &sig.output {
        syn::ReturnType::Default => None,
        syn::ReturnType::Type(_, ty) => match &**ty {
            syn::Type::Tuple(t) if t.elems.is_empty() => None,
            ty => Some(ty.clone()),
        },
    };
    match (errors.is_empty(), message) {
        (true, Some(message)) => Ok(HandlerSignature {
            state,
            message,
            reply,
        }),
        _ => Err(errors),
    }
}

/// Checks a `#[device_fn]` signature.
pub fn device_fn_signature(sig: &syn::Signature) -> Result<(), Diagnostics> {
    let mut errors = Diagnostics::default();
    check_common(sig, "`#[device_fn]`", &mut errors);
    for (name, ty) in typed_params(sig) {
        if context_kind(ty).is_some() {
            errors.push(signature_error(
                "a `#[device_fn]` cannot take the context; pass the values it needs (`ctx.thread_id()`, …) as parameters",
                ty,
            ));
        } else if let Some(problem) = not_plain_data(ty) {
            errors.push(signature_error(
                format!("parameter `{name}`: a `#[device_fn]` takes plain data by value (scalars, arrays, structs): {problem}"),
                ty,
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(item: syn::ItemFn) -> syn::Signature {
        item.sig
    }

    fn errors(result: Result<impl std::fmt::Debug, Diagnostics>) -> String {
        match result {
            Ok(v) => panic!("accepted: {v:?}"),
            Err(d) => d
                .errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    #[test]
    fn kernel_shapes() {
        let k = kernel_signature(&sig(syn::parse_quote! {
            fn saxpy(ctx: &ThreadContext, a: f32, x: &[f32], y: &mut [f32]) {}
        }))
        .unwrap();
        assert_eq!(k.params.len(), 3);
        assert!(matches!(
            &k.params[2],
            KernelParam::Slice { mutable: true, .. }
        ));
        for (item, message) in [
            (
                syn::parse_quote! { fn k(x: Vec<f32>) {} },
                "a `Vec<T>` on the host is a `DeviceBuffer<T>`",
            ),
            (
                syn::parse_quote! { fn k(ctx: &RingContext) {} },
                "a `#[gpu_kernel]` takes `ctx: &ThreadContext`",
            ),
            (
                syn::parse_quote! { fn k(a: u32, ctx: &ThreadContext) {} },
                "the context must be the first parameter",
            ),
            (
                syn::parse_quote! { fn k(x: &mut [f32]) -> f32 {} },
                "returns nothing",
            ),
            (
                syn::parse_quote! { fn k(x: &[String]) {} },
                "use a fixed-size byte array",
            ),
            (
                syn::parse_quote! { fn k(x: &f32) {} },
                "pass scalars by value: `x: f32`",
            ),
            (
                syn::parse_quote! { fn k(f: &dyn Fn(f32) -> f32) {} },
                "no dynamic dispatch",
            ),
            (
                syn::parse_quote! { fn k(p: Params) {} },
                "pass structs and arrays in a buffer",
            ),
            (
                syn::parse_quote! { fn k<T>(x: &[T]) {} },
                "write one function per concrete type",
            ),
            (
                syn::parse_quote! { fn k<'a>(x: &'a [f32]) {} },
                "remove the lifetime parameters",
            ),
            (
                syn::parse_quote! { async fn k() {} },
                "`async fn` cannot be used",
            ),
            (syn::parse_quote! { unsafe fn k() {} }, "`unsafe fn`"),
            (
                syn::parse_quote! { extern "C" fn k() {} },
                "an `extern` ABI",
            ),
            (
                syn::parse_quote! { fn k((a, b): (u32, u32)) {} },
                "patterns in parameters",
            ),
            (
                syn::parse_quote! { fn k(x: impl Copy) {} },
                "`impl Trait` parameters",
            ),
        ] {
            let got = errors(kernel_signature(&sig(item)));
            assert!(got.contains(message), "expected `{message}` in `{got}`");
        }
    }

    #[test]
    fn handler_shapes() {
        let h = handler_signature(&sig(syn::parse_quote! {
            fn summer(ctx: &RingContext, state: &mut Stats, msg: &Request) -> Response {}
        }))
        .unwrap();
        assert!(h.state.is_some() && h.reply.is_some());
        let h = handler_signature(&sig(syn::parse_quote! {
            fn fwd(ctx: &RingContext, msg: &Request) -> () {}
        }))
        .unwrap();
        assert!(h.state.is_none() && h.reply.is_none());
        for (item, message) in [
            (
                syn::parse_quote! { fn h(ctx: &RingContext) {} },
                "not 1 parameter(s)",
            ),
            (syn::parse_quote! { fn h() {} }, "not 0 parameter(s)"),
            (
                syn::parse_quote! { fn h(ctx: &RingContext, a: &mut S, b: &M, c: &M) {} },
                "not 4 parameter(s)",
            ),
            (
                syn::parse_quote! { fn h(ctx: &ThreadContext, msg: &M) {} },
                "`&ThreadContext` is for `#[gpu_kernel]`s",
            ),
            (
                syn::parse_quote! { fn h(msg: &M, ctx: &RingContext) {} },
                "the context must be the first parameter",
            ),
            (
                syn::parse_quote! { fn h(msg: &M, n: &N) {} },
                "first parameter is the context",
            ),
            (
                syn::parse_quote! { fn h(ctx: &RingContext, msg: M) {} },
                "take the message by reference: `msg: &M`",
            ),
            (
                syn::parse_quote! { fn h(ctx: &RingContext, msg: &mut M) {} },
                "messages are read-only; take `&M`",
            ),
            (
                syn::parse_quote! { fn h(ctx: &RingContext, s: S, msg: &M) {} },
                "take the state by mutable reference: `s: &mut S`",
            ),
            (
                syn::parse_quote! { fn h(ctx: &RingContext, s: &S, msg: &M) {} },
                "the state is `&mut S`",
            ),
            (
                syn::parse_quote! { fn h(ctx: &RingContext, msg: &Vec<u8>) {} },
                "owns heap memory",
            ),
            (
                syn::parse_quote! { fn h(ctx: &RingContext, msg: &M) -> &R {} },
                "references cannot cross",
            ),
        ] {
            let got = errors(handler_signature(&sig(item)));
            assert!(got.contains(message), "expected `{message}` in `{got}`");
        }
    }

    #[test]
    fn device_fn_shapes() {
        device_fn_signature(&sig(
            syn::parse_quote! { fn f(p: Particle, k: [f32; 4]) -> f32 {} },
        ))
        .unwrap();
        let got = errors(device_fn_signature(&sig(
            syn::parse_quote! { fn f(ctx: &ThreadContext) {} },
        )));
        assert!(got.contains("cannot take the context"), "{got}");
        let got = errors(device_fn_signature(&sig(
            syn::parse_quote! { fn f(x: &[f32]) {} },
        )));
        assert!(got.contains("references cannot cross"), "{got}");
    }
}
