//! The Rust front end: syn items → typed IR.
//!
//! Entry points: [`lower_file`] for a whole Rust file (CLI, build helper,
//! tests) and [`lower_items`] for already-parsed items (the proc macros).
//! Both lower the same way: `#[repr(C)]` structs deriving `GpuType` or
//! `RingMessage` become IR struct types with their `repr(C)` layout;
//! `#[device_fn]`s are lowered callees-first (recursion is rejected); then
//! `#[gpu_kernel]`s become entry points. All errors of all items are
//! collected before returning.
//!
//! Modules: [`body`] holds the per-function lowering state and statements,
//! `expr` operators and places, `control` control flow, `range` `for` loops,
//! `calls` intrinsics, methods, calls and macros, [`infer`] type inference,
//! [`types`] struct layouts and type resolution, [`host`] struct types from
//! host layouts ([`Options::layouts`]), [`consts`] constant evaluation,
//! [`error`] the spanned errors. For the proc macros: [`attrs`] (the
//! attribute parser both use), [`signature`] (accepted signature shapes),
//! [`gpu_type`] (what the derives accept), [`precheck`] (macro-time
//! validation).

pub mod attrs;
mod body;
mod calls;
pub mod consts;
mod control;
pub mod error;
mod expr;
pub mod gpu_type;
pub mod host;
pub mod infer;
mod intrinsics;
mod loops;
mod ops;
mod place;
pub mod precheck;
mod range;
mod send;
pub mod signature;
mod stmt;
pub mod types;
mod uniform;

use std::collections::HashMap;

use syn::spanned::Spanned;

pub use attrs::{fn_kind, parse_kernel_args, FnKind, KernelAttrs, KernelKind};
pub use error::{Diagnostics, FrontError, FrontErrorKind};

use crate::arena::Handle;
use crate::ir::{ActorEntry, EntryKind, EntryPoint, Function, Module, Statement, Type};
use body::{Binding, FnLowerer};
use infer::Ty;
use types::TypeEnv;

/// How to lower.
#[derive(Debug, Clone)]
pub struct Options {
    /// Overflow checks (Rust's `overflow-checks`): arithmetic overflow, shift
    /// overflow and `debug_assert!` fault instead of wrapping. Bounds and
    /// division checks are part of Rust's semantics and always on.
    pub overflow_checks: bool,
    /// The file the source came from, for `#line` and fault locations.
    pub source_file: Option<String>,
    /// Structs known by their host layout (from the `GpuType` derives)
    /// rather than by an item in the input; see [`host`].
    pub layouts: Vec<&'static ringkernel_device::layout::TypeLayout>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            overflow_checks: true,
            source_file: None,
            layouts: Vec::new(),
        }
    }
}

/// The signature of a lowered device function, for its callers.
#[derive(Debug, Clone)]
pub struct Signature {
    pub function: Handle<Function>,
    pub params: Vec<Handle<Type>>,
    pub result: Handle<Type>,
}

/// Parses and lowers a Rust file.
pub fn lower_file(source: &str, options: &Options) -> Result<Module, Diagnostics> {
    let file = syn::parse_file(source).map_err(|e| {
        Diagnostics::from(FrontError::unsupported(
            "syntax that does not parse as Rust",
            "fix the syntax error",
            e.span(),
        ))
    })?;
    lower_items(&file.items, options)
}

/// Lowers parsed items (structs, `#[device_fn]`s, `#[gpu_kernel]`s; other
/// items are ignored).
pub fn lower_items(items: &[syn::Item], options: &Options) -> Result<Module, Diagnostics> {
    let mut module = Module {
        source_file: options.source_file.clone(),
        ..Module::default()
    };
    let mut diagnostics = Diagnostics::default();
    let mut env = TypeEnv::default();
    diagnostics
        .errors
        .extend(host::add_host_layouts(&mut env, &mut module, &options.layouts).errors);
    for item in items {
        if let syn::Item::Struct(s) = item {
            if derives_gpu_type(&s.attrs) {
                let host = env.struct_named(&s.ident.to_string());
                match env.add_struct(&mut module, s) {
                    Ok(handle) if host.is_some_and(|h| h != handle) => {
                        diagnostics.push(FrontError::new(
                            FrontErrorKind::Layout {
                                name: s.ident.to_string(),
                                problem:
                                    "its host layout (from the derive) differs from this definition"
                                        .into(),
                            },
                            s.ident.span(),
                        ))
                    }
                    Ok(_) => {}
                    Err(e) => diagnostics.push(e),
                }
            }
        }
    }
    let mut functions: Vec<(&syn::ItemFn, FnKind)> = Vec::new();
    for item in items {
        if let syn::Item::Fn(f) = item {
            match fn_kind(&f.attrs) {
                Ok(Some(kind)) => functions.push((f, kind)),
                Ok(None) => {}
                Err(e) => diagnostics.push(e),
            }
        }
    }
    let order = match call_order(&functions) {
        Ok(order) => order,
        Err(e) => {
            diagnostics.push(e);
            return Err(diagnostics);
        }
    };
    let mut signatures: HashMap<String, Signature> = HashMap::new();
    for index in order {
        let (item, kind) = &functions[index];
        match lower_fn(&mut module, &env, &signatures, item, kind, options) {
            Ok((function, signature, actor)) => match kind {
                FnKind::GpuKernel(attrs) => module.entry_points.push(EntryPoint {
                    name: attrs
                        .name
                        .clone()
                        .unwrap_or_else(|| item.sig.ident.to_string()),
                    function,
                    kind: EntryKind::Kernel { block: attrs.block },
                }),
                FnKind::RingKernel(attrs) => module.entry_points.push(EntryPoint {
                    name: attrs
                        .name
                        .clone()
                        .unwrap_or_else(|| item.sig.ident.to_string()),
                    function,
                    kind: EntryKind::Actor(
                        actor.clone().expect("handlers lower to an actor signature"),
                    ),
                }),
                FnKind::DeviceFn => {
                    signatures.insert(item.sig.ident.to_string(), signature);
                }
            },
            Err(errors) => diagnostics.errors.extend(errors.errors),
        }
    }
    if diagnostics.is_empty() {
        Ok(module)
    } else {
        diagnostics.errors.sort_by_key(|e| {
            let at = e.location();
            (at.start.line, at.start.column)
        });
        Err(diagnostics)
    }
}

fn derives_gpu_type(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let mut found = false;
        if attr.path().is_ident("derive") {
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("GpuType") || meta.path.is_ident("RingMessage") {
                    found = true;
                }
                Ok(())
            });
        }
        found
    })
}

/// Orders functions callees-first; a cycle among device functions is an error.
fn call_order(functions: &[(&syn::ItemFn, FnKind)]) -> Result<Vec<usize>, FrontError> {
    let index: HashMap<String, usize> = functions
        .iter()
        .enumerate()
        .filter(|(_, (_, k))| *k == FnKind::DeviceFn)
        .map(|(i, (f, _))| (f.sig.ident.to_string(), i))
        .collect();
    let callees: Vec<Vec<usize>> = functions
        .iter()
        .map(|(f, _)| {
            let mut finder = CallFinder { names: Vec::new() };
            syn::visit::Visit::visit_block(&mut finder, &f.block);
            finder
                .names
                .iter()
                .filter_map(|n| index.get(n).copied())
                .collect()
        })
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(
        i: usize,
        callees: &[Vec<usize>],
        marks: &mut [Mark],
        order: &mut Vec<usize>,
        functions: &[(&syn::ItemFn, FnKind)],
    ) -> Result<(), FrontError> {
        match marks[i] {
            Mark::Done => return Ok(()),
            Mark::Active => {
                let f = functions[i].0;
                return Err(FrontError::new(
                    FrontErrorKind::Recursion {
                        name: f.sig.ident.to_string(),
                    },
                    f.sig.ident.span(),
                ));
            }
            Mark::New => {}
        }
        marks[i] = Mark::Active;
        for &c in &callees[i] {
            visit(c, callees, marks, order, functions)?;
        }
        marks[i] = Mark::Done;
        order.push(i);
        Ok(())
    }
    let mut marks = vec![Mark::New; functions.len()];
    let mut order = Vec::new();
    for i in 0..functions.len() {
        visit(i, &callees, &mut marks, &mut order, functions)?;
    }
    Ok(order)
}

struct CallFinder {
    names: Vec<String>,
}

impl<'ast> syn::visit::Visit<'ast> for CallFinder {
    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(path) = &*call.func {
            if let Some(ident) = path.path.get_ident() {
                self.names.push(ident.to_string());
            }
        }
        syn::visit::visit_expr_call(self, call);
    }
}

/// The context type a parameter declares, if it is one.
fn context_param(ty: &syn::Type) -> Option<bool> {
    let syn::Type::Reference(reference) = ty else {
        return None;
    };
    let syn::Type::Path(path) = &*reference.elem else {
        return None;
    };
    match path.path.segments.last()?.ident.to_string().as_str() {
        "ThreadContext" => Some(false),
        "RingContext" => Some(true),
        _ => None,
    }
}

fn lower_fn(
    module: &mut Module,
    env: &TypeEnv,
    signatures: &HashMap<String, Signature>,
    item: &syn::ItemFn,
    kind: &FnKind,
    options: &Options,
) -> Result<(Handle<Function>, Signature, Option<ActorEntry>), Diagnostics> {
    let sig = &item.sig;
    let mut errors = Diagnostics::default();
    let reject = |construct, suggestion, span| FrontError::unsupported(construct, suggestion, span);
    if let Some(a) = &sig.asyncness {
        errors.push(reject(
            "`async fn`",
            "kernels and handlers are synchronous; remove `async`",
            a.span(),
        ));
    }
    if !sig.generics.params.is_empty() {
        errors.push(reject(
            "generic functions",
            "write one function per concrete type",
            sig.generics.span(),
        ));
    }
    if let Some(u) = &sig.unsafety {
        errors.push(reject(
            "`unsafe fn`",
            "kernels are safe code; remove `unsafe`",
            u.span(),
        ));
    }
    if let Some(v) = &sig.variadic {
        errors.push(reject(
            "variadic functions",
            "list the parameters",
            v.span(),
        ));
    }
    let is_kernel = matches!(kind, FnKind::GpuKernel(_));
    let is_handler = matches!(kind, FnKind::RingKernel(_));
    let mut lowerer = FnLowerer::new(module, env, signatures, sig.ident.to_string());
    lowerer.func.overflow_checks = kind
        .kernel_attrs()
        .and_then(|a| a.overflow_checks)
        .unwrap_or(options.overflow_checks);
    lowerer.warp_actor = matches!(kind, FnKind::RingKernel(attrs) if attrs.warps == Some(1));
    if is_handler {
        let count = sig.inputs.len();
        if !(2..=3).contains(&count) {
            errors.push(FrontError::new(
                FrontErrorKind::Signature {
                    problem: format!(
                        "a `#[ring_kernel]` handler takes `(ctx: &RingContext, msg: &M)` or \
                         `(ctx: &RingContext, state: &mut S, msg: &M)`, not {count} parameter(s)"
                    ),
                },
                sig.inputs.span(),
            ));
        }
    }
    let mut param_types = Vec::new();
    let (mut handler_state, mut handler_message) = (None, None);
    for (position, input) in sig.inputs.iter().enumerate() {
        let syn::FnArg::Typed(param) = input else {
            errors.push(reject(
                "`self` parameters",
                "write a free function",
                input.span(),
            ));
            continue;
        };
        if let Some(ring) = context_param(&param.ty) {
            let problem = if position != 0 {
                Some("the context must be the first parameter")
            } else if ring && is_kernel {
                Some("`&RingContext` belongs to `#[ring_kernel]` handlers; a `#[gpu_kernel]` takes `&ThreadContext`")
            } else if !ring && is_handler {
                Some("a `#[ring_kernel]` handler takes `&RingContext`; `&ThreadContext` belongs to `#[gpu_kernel]`s")
            } else {
                None
            };
            if let Some(problem) = problem {
                errors.push(FrontError::new(
                    FrontErrorKind::Signature {
                        problem: problem.into(),
                    },
                    param.ty.span(),
                ));
                continue;
            }
            if !is_kernel && !is_handler {
                errors.push(FrontError::new(
                    FrontErrorKind::Signature {
                        problem:
                            "a `#[device_fn]` cannot take the context; pass the values it needs"
                                .into(),
                    },
                    param.ty.span(),
                ));
                continue;
            }
            if let syn::Pat::Ident(ident) = &*param.pat {
                lowerer.bind(ident.ident.to_string(), Binding::Context { ring });
            }
            continue;
        }
        let (name, mutable) = match &*param.pat {
            syn::Pat::Ident(ident) if ident.subpat.is_none() && ident.by_ref.is_none() => {
                (ident.ident.to_string(), ident.mutability.is_some())
            }
            other => {
                errors.push(reject(
                    "patterns in parameters",
                    "name the parameter: `x: T`",
                    other.span(),
                ));
                continue;
            }
        };
        let ty = match env.resolve(lowerer.module, &param.ty, &consts::ConstEnv::default()) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if is_handler {
            if position == 0 {
                errors.push(FrontError::new(
                    FrontErrorKind::Signature {
                        problem:
                            "a `#[ring_kernel]` handler's first parameter is `ctx: &RingContext`"
                                .into(),
                    },
                    param.ty.span(),
                ));
                continue;
            }
            let is_message = position + 1 == sig.inputs.len();
            let target = match &lowerer.module.types[ty] {
                Type::Ref { target, mutable } if *mutable != is_message => Some(*target),
                _ => None,
            };
            match target {
                Some(target) if types::is_plain_data(lowerer.module, target) => {
                    if is_message {
                        handler_message = Some(target);
                    } else {
                        handler_state = Some(target);
                    }
                }
                _ => {
                    errors.push(FrontError::new(
                        FrontErrorKind::Signature {
                            problem: if is_message {
                                format!("parameter `{name}`: the message is the last parameter, `&M` where `M` is a `#[derive(RingMessage)]` struct")
                            } else {
                                format!("parameter `{name}`: the state is `&mut S` where `S` is a `#[derive(GpuType)]` struct")
                            },
                        },
                        param.ty.span(),
                    ));
                    continue;
                }
            }
        }
        let allowed = match (&lowerer.module.types[ty], is_kernel) {
            (Type::Scalar(_), _) => !is_handler,
            (Type::Slice { elem, .. }, true) => types::is_plain_data(lowerer.module, *elem),
            (Type::Struct(_) | Type::Array { .. }, false) => !is_handler,
            (Type::Ref { .. }, false) => is_handler,
            _ => false,
        };
        if !allowed {
            errors.push(FrontError::new(
                FrontErrorKind::Signature {
                    problem: if is_kernel {
                        format!("parameter `{name}`: a `#[gpu_kernel]` takes scalars and slices (`&[T]`, `&mut [T]`)")
                    } else {
                        format!("parameter `{name}`: a `#[device_fn]` takes plain data by value (scalars, arrays, structs)")
                    },
                },
                param.ty.span(),
            ));
            continue;
        }
        let local = lowerer.new_local(Some(name.clone()), Ty::Known(ty), mutable, param.pat.span());
        lowerer.func.params.push(local);
        lowerer.bind(
            name,
            Binding::Local {
                local,
                ty: Ty::Known(ty),
            },
        );
        param_types.push(ty);
    }
    let result = match &sig.output {
        syn::ReturnType::Default => lowerer.module.ty(Type::Unit),
        syn::ReturnType::Type(_, ty) => {
            match env.resolve(lowerer.module, ty, &consts::ConstEnv::default()) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(e);
                    lowerer.module.ty(Type::Unit)
                }
            }
        }
    };
    if is_kernel && lowerer.module.types[result] != Type::Unit {
        errors.push(FrontError::new(
            FrontErrorKind::Signature {
                problem:
                    "a `#[gpu_kernel]` returns nothing: write results to a `&mut [T]` parameter"
                        .into(),
            },
            sig.output.span(),
        ));
    }
    if !matches!(
        lowerer.module.types[result],
        Type::Unit | Type::Scalar(_) | Type::Struct(_) | Type::Array { .. }
    ) {
        errors.push(FrontError::new(
            FrontErrorKind::Signature {
                problem: "return plain data (scalars, arrays, structs) by value".into(),
            },
            sig.output.span(),
        ));
    }
    let actor = match (kind, handler_message) {
        (FnKind::RingKernel(attrs), Some(message)) => Some(ActorEntry {
            block: attrs.block,
            warp: attrs.warps == Some(1),
            state: handler_state,
            message,
            reply: result,
        }),
        (FnKind::RingKernel(_), None) => {
            if errors.is_empty() {
                errors.push(FrontError::new(
                    FrontErrorKind::Signature {
                        problem: "a `#[ring_kernel]` handler takes the message as its last parameter, `msg: &M`".into(),
                    },
                    sig.inputs.span(),
                ));
            }
            None
        }
        _ => None,
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    lowerer.func.result = Some(result);
    lowerer.result_ty = Ty::Known(result);
    let tail = lowerer.lower_block_contents_expecting(&item.block, Some(Ty::Known(result)));
    let unit = lowerer.module.ty(Type::Unit);
    if tail.ty != Ty::Never {
        let tail_span = item
            .block
            .stmts
            .last()
            .map(|s| s.span())
            .unwrap_or_else(|| item.block.span());
        match lowerer.unify(Ty::Known(result), tail.ty, tail_span) {
            Ok(_) => {
                if result != unit {
                    if let Some(e) = tail.expr {
                        lowerer.emit(Statement::Return(Some(e)), tail_span);
                    }
                }
            }
            Err(e) => lowerer.errors.push(e),
        }
    }
    let function = lowerer.finish()?;
    let handle = module.functions.append(
        function,
        crate::span::Span::from_proc_macro2(sig.ident.span()),
    );
    Ok((
        handle,
        Signature {
            function: handle,
            params: param_types,
            result,
        },
        actor,
    ))
}
