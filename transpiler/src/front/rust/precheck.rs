//! Macro-time validation: the front end run on one function alone, before
//! the layouts of its types and its callees are known.
//!
//! A proc macro sees one item. The structs a kernel names and the
//! `#[device_fn]`s it calls are other items, known only when `kernel()`
//! runs. So [`precheck`] lowers the function with every struct it names
//! standing in as an empty placeholder struct, and:
//!
//! - when the function names no struct and calls no function, nothing was
//!   missing: every error is the one `kernel()` would report, and all are
//!   returned (and the whole pipeline runs, so `debug` can show the CUDA);
//! - otherwise only the errors that cannot depend on the missing pieces are
//!   returned: unsupported syntax, `break` outside a loop, assignment to a
//!   non-`mut` binding, recursion, and signature and attribute errors. Type
//!   errors, unknown names and unknown fields may be artefacts of the
//!   placeholders, so they are left to `kernel()` (rustc reports the real
//!   ones on the type-checked copy of the function anyway).
//!
//! So every error reported at macro time is one the transpiler would
//! report, and most mistakes surface in the editor.

use std::collections::{BTreeMap, BTreeSet};

use syn::visit::Visit;

use super::error::{Diagnostics, FrontErrorKind};
use super::signature::is_scalar;
use crate::back::cuda;
use crate::pipeline;

/// What the front end made of a function at macro time.
#[derive(Debug)]
pub struct Precheck {
    /// The errors the transpiler is sure to report (see the module docs).
    pub errors: Diagnostics,
    /// Whether the function was complete on its own (no structs, no
    /// calls): then `errors` are all its errors.
    pub complete: bool,
    /// The CUDA of a complete, valid function.
    pub cuda: Option<String>,
    /// What was missing, for `debug`: the placeholder structs and the
    /// functions called.
    pub missing: Vec<String>,
}

/// Validates `item` (which carries its RingKernel attribute) on its own.
pub fn precheck(item: &syn::ItemFn, overflow_checks: bool) -> Precheck {
    let names = referenced_names(item);
    let mut items: Vec<syn::Item> = names
        .types
        .keys()
        .map(|name| {
            let ident = syn::Ident::new(name, proc_macro2::Span::call_site());
            syn::parse_quote! {
                #[derive(GpuType)]
                #[repr(C)]
                struct #ident {}
            }
        })
        .collect();
    items.push(syn::Item::Fn(item.clone()));
    let complete = names.types.is_empty() && names.calls.is_empty();
    let options = super::Options {
        overflow_checks,
        ..super::Options::default()
    };
    let mut missing: Vec<String> = names
        .types
        .keys()
        .map(|t| format!("struct `{t}`"))
        .collect();
    missing.extend(names.calls.keys().map(|c| format!("fn `{c}`")));
    if complete {
        return match pipeline::transpile_items(&items, &options, &cuda::Options::default()) {
            Ok(out) => Precheck {
                errors: Diagnostics::default(),
                complete,
                cuda: Some(out.cuda.source),
                missing,
            },
            Err(pipeline::Error::Front(errors)) => Precheck {
                errors: without_cascades(errors, &names.locals),
                complete,
                cuda: None,
                missing,
            },
            // An invalid module or a back-end failure is the transpiler's
            // fault, not the user's: `kernel()` reports it with context.
            Err(_) => Precheck {
                errors: Diagnostics::default(),
                complete,
                cuda: None,
                missing,
            },
        };
    }
    let errors = match super::lower_items(&items, &options) {
        Ok(_) => Diagnostics::default(),
        Err(d) => Diagnostics {
            errors: d
                .errors
                .into_iter()
                .filter(|e| independent_of_types(&e.kind))
                .collect(),
        },
    };
    Precheck {
        errors,
        complete,
        cuda: None,
        missing,
    }
}

/// `errors` without the consequences of earlier ones. An unknown name the
/// function binds itself means a `let` failed to lower (and was reported):
/// rustc sees the binding, and so will the front end once the `let` is
/// fixed. After such a loss the types downstream are unreliable too, so only
/// the type-independent errors are kept.
fn without_cascades(errors: Diagnostics, locals: &BTreeSet<String>) -> Diagnostics {
    let cascade = |kind: &FrontErrorKind| matches!(kind, FrontErrorKind::NotFound { name, .. } if locals.contains(name));
    let lost_a_binding = errors.errors.iter().any(|e| cascade(&e.kind));
    Diagnostics {
        errors: errors
            .errors
            .into_iter()
            .filter(|e| !cascade(&e.kind) && (!lost_a_binding || independent_of_types(&e.kind)))
            .collect(),
    }
}

/// Errors that do not depend on the layouts of structs or on the callees.
fn independent_of_types(kind: &FrontErrorKind) -> bool {
    matches!(
        kind,
        FrontErrorKind::Unsupported { .. }
            | FrontErrorKind::OutsideLoop { .. }
            | FrontErrorKind::NotMutable { .. }
            | FrontErrorKind::Recursion { .. }
            | FrontErrorKind::Signature { .. }
            | FrontErrorKind::Attribute { .. }
            | FrontErrorKind::Send { .. }
            | FrontErrorKind::NotInWarpActor { .. }
    )
}

/// The names a function uses that are other items: the structs it names
/// (bare identifiers that are not scalars or contexts) and the functions it
/// calls by a bare identifier (which the front end accepts only as
/// `#[device_fn]`s), each with its first occurrence, for error spans. Calls
/// of the function's own bindings (parameters, `let`s) and of the prelude's
/// enum variants (`Some`, `Ok`, `Err`) are not other items.
#[derive(Debug, Default)]
pub struct Names {
    pub types: BTreeMap<String, syn::Ident>,
    pub calls: BTreeMap<String, syn::Ident>,
    /// Names the function binds (parameters and `let` patterns).
    pub locals: BTreeSet<String>,
}

/// The [`Names`] of `item`.
pub fn referenced_names(item: &syn::ItemFn) -> Names {
    let mut names = Names::default();
    names.visit_item_fn(item);
    let locals = names.locals.clone();
    names.calls.retain(|name, _| {
        !locals.contains(name) && !matches!(name.as_str(), "Some" | "Ok" | "Err")
    });
    names
}

impl Names {
    fn type_name(&mut self, path: &syn::Path) {
        if let Some(ident) = path.get_ident() {
            let name = ident.to_string();
            let ty: syn::Type = syn::parse_quote!(#ident);
            if !is_scalar(&ty) && !matches!(name.as_str(), "ThreadContext" | "RingContext" | "Self")
            {
                self.types.entry(name).or_insert_with(|| ident.clone());
            }
        }
    }
}

impl<'ast> Visit<'ast> for Names {
    fn visit_type_path(&mut self, ty: &'ast syn::TypePath) {
        if ty.qself.is_none() {
            self.type_name(&ty.path);
        }
        syn::visit::visit_type_path(self, ty);
    }

    fn visit_expr_struct(&mut self, expr: &'ast syn::ExprStruct) {
        self.type_name(&expr.path);
        syn::visit::visit_expr_struct(self, expr);
    }

    fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
        self.locals.insert(pat.ident.to_string());
        syn::visit::visit_pat_ident(self, pat);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(path) = &*call.func {
            if let Some(ident) = path.path.get_ident() {
                self.calls
                    .entry(ident.to_string())
                    .or_insert_with(|| ident.clone());
            }
        }
        syn::visit::visit_expr_call(self, call);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(item: syn::ItemFn) -> Precheck {
        precheck(&item, true)
    }

    fn messages(p: &Precheck) -> Vec<String> {
        p.errors.errors.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn complete_kernels_are_fully_checked_and_transpiled() {
        let p = check(syn::parse_quote! {
            #[gpu_kernel(block_size = 64)]
            fn k(ctx: &ThreadContext, x: &mut [f32]) {
                let i = ctx.global_id() as usize;
                x[i] = x[i] * 2.0;
            }
        });
        assert!(p.complete && p.errors.is_empty(), "{:?}", messages(&p));
        assert!(p.cuda.unwrap().contains("__launch_bounds__(64)"));
        // A type error is reported when nothing is missing.
        let p = check(syn::parse_quote! {
            #[gpu_kernel]
            fn k(ctx: &ThreadContext, x: &mut [f32]) { x[0] = true; }
        });
        assert_eq!(
            messages(&p),
            ["mismatched types: expected `f32`, found `bool`"]
        );
    }

    #[test]
    fn missing_structs_and_callees_keep_only_type_independent_errors() {
        let p = check(syn::parse_quote! {
            #[ring_kernel]
            fn h(ctx: &RingContext, state: &mut Stats, msg: &Request) -> Response {
                let f = |x: f32| x;
                state.count += 1;
                let s = helper(msg.values[0]);
                Response { id: msg.id, sum: s }
            }
        });
        assert!(!p.complete);
        assert_eq!(
            messages(&p),
            ["closures cannot be used in RingKernel kernels; write a `#[device_fn]` and call it"]
        );
        assert_eq!(
            p.missing,
            [
                "struct `Request`",
                "struct `Response`",
                "struct `Stats`",
                "fn `helper`"
            ]
        );
    }

    #[test]
    fn consequences_of_reported_errors_are_dropped() {
        // The failed `let` leaves `f` unbound: neither the unknown `f` nor
        // the type of the call is reported, only the trait object.
        let p = check(syn::parse_quote! {
            #[device_fn]
            fn norm(x: f32) -> f32 {
                let f: &dyn Fn(f32) -> f32 = &|v| v * v;
                f(x)
            }
        });
        assert_eq!(messages(&p).len(), 1, "{:?}", messages(&p));
        assert!(
            messages(&p)[0].starts_with("trait objects"),
            "{:?}",
            messages(&p)
        );
    }

    #[test]
    fn self_recursion_is_found_alone() {
        let p = check(syn::parse_quote! {
            #[device_fn]
            fn f(n: u32) -> u32 { if n == 0 { 0 } else { f(n - 1) } }
        });
        assert!(
            messages(&p)[0].contains("calls itself"),
            "{:?}",
            messages(&p)
        );
    }
}
