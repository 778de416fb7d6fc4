//! The RingKernel attributes on functions: `#[device_fn]`,
//! `#[gpu_kernel(...)]` and `#[ring_kernel(...)]`.
//!
//! One parser for both readers: the proc macros (which get the arguments as
//! a token stream) and the front end (which finds the attributes on items of
//! a parsed file, [`fn_kind`]). The arguments go through darling
//! (`RawArgs`); the values have `FromMeta` types of their own so that every
//! error says what to write instead, and unknown keys are reported with the
//! list of the keys that kernel kind takes.
//!
//! | key | kernels | meaning |
//! |---|---|---|
//! | `block_size = N` | both | a 1-D block of `N` threads (1 to 1024) |
//! | `block = (x, y, z)` | both | a 1- to 3-D block (at most 1024 threads) |
//! | `warps = N` | `ring_kernel` | the actor is `N` warps (`warps = 1`: one warp, packable into a shared block) |
//! | `checks = bool` | both | overflow checks on or off (default: the crate's `debug_assertions`) |
//! | `name = "sym"` | both | the entry point's name (CUDA symbol, actor name); default: the function's |
//! | `debug` | both | the macro prints what the front end made of the item |

use darling::ast::NestedMeta;
use darling::FromMeta;
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;

use super::error::{Diagnostics, FrontError, FrontErrorKind};

/// What an attribute made of a function.
#[derive(Debug, Clone, PartialEq)]
pub enum FnKind {
    DeviceFn,
    GpuKernel(KernelAttrs),
    RingKernel(KernelAttrs),
}

impl FnKind {
    /// The kernel's arguments, for the two kernel kinds.
    pub fn kernel_attrs(&self) -> Option<&KernelAttrs> {
        match self {
            FnKind::DeviceFn => None,
            FnKind::GpuKernel(a) | FnKind::RingKernel(a) => Some(a),
        }
    }
}

/// The two kernel attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KernelKind {
    /// `#[gpu_kernel]`: a data-parallel kernel.
    Gpu,
    /// `#[ring_kernel]`: a persistent actor's handler.
    Ring,
}

impl KernelKind {
    /// The attribute's name.
    pub fn attr_name(self) -> &'static str {
        match self {
            KernelKind::Gpu => "gpu_kernel",
            KernelKind::Ring => "ring_kernel",
        }
    }

    /// Threads per block when the attribute does not say.
    pub fn default_threads(self) -> u32 {
        match self {
            KernelKind::Gpu => 256,
            KernelKind::Ring => 128,
        }
    }

    /// The argument keys the attribute takes.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            KernelKind::Gpu => &["block_size", "block", "checks", "name", "debug"],
            KernelKind::Ring => &["block_size", "block", "warps", "checks", "name", "debug"],
        }
    }

    fn make(self, attrs: KernelAttrs) -> FnKind {
        match self {
            KernelKind::Gpu => FnKind::GpuKernel(attrs),
            KernelKind::Ring => FnKind::RingKernel(attrs),
        }
    }
}

/// The arguments of `#[gpu_kernel(...)]` and `#[ring_kernel(...)]`.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelAttrs {
    /// The block shape (`block_size = N`, `block = (x, y, z)`, or
    /// `warps = N` as `[32 * N, 1, 1]`).
    pub block: [u32; 3],
    /// `checks = true|false`; `None` takes [`super::Options::overflow_checks`].
    pub overflow_checks: Option<bool>,
    /// `warps = N` (`#[ring_kernel]` only): the actor is `N` warps.
    pub warps: Option<u32>,
    /// `name = "..."`: the entry point's name, if not the function's.
    pub name: Option<String>,
    /// `debug`: the macro prints the front end's result.
    pub debug: bool,
}

impl KernelAttrs {
    /// The arguments an attribute without any has.
    pub fn defaults(kind: KernelKind) -> KernelAttrs {
        KernelAttrs {
            block: [kind.default_threads(), 1, 1],
            overflow_checks: None,
            warps: None,
            name: None,
            debug: false,
        }
    }

    /// Threads per block.
    pub fn threads(&self) -> u32 {
        self.block.iter().product()
    }
}

/// Parses the arguments of a kernel attribute, as the proc macro receives
/// them (the tokens between the parentheses; empty for a bare attribute).
pub fn parse_kernel_args(kind: KernelKind, args: TokenStream) -> Result<KernelAttrs, Diagnostics> {
    let items = NestedMeta::parse_meta_list(args).map_err(|e| {
        Diagnostics::from(attr_error(
            kind,
            format!("{e}; write `key = value` pairs separated by commas"),
            e.span(),
        ))
    })?;
    parse_items(kind, &items)
}

/// Reads `#[device_fn]`, `#[gpu_kernel(...)]` or `#[ring_kernel(...)]` from a
/// function's attributes (by the attribute's last path segment, so
/// `#[ringkernel::gpu_kernel]` counts). Two of them on one function is an
/// error.
pub fn fn_kind(attrs: &[syn::Attribute]) -> Result<Option<FnKind>, FrontError> {
    let mut found: Option<(FnKind, &syn::Attribute)> = None;
    for attr in attrs {
        let Some(name) = attr.path().segments.last().map(|s| s.ident.to_string()) else {
            continue;
        };
        let kind = match name.as_str() {
            "device_fn" => {
                if !matches!(attr.meta, syn::Meta::Path(_)) {
                    return Err(FrontError::new(
                        FrontErrorKind::Attribute {
                            attr: "device_fn",
                            problem: "`#[device_fn]` takes no arguments".into(),
                        },
                        attr.meta.span(),
                    ));
                }
                FnKind::DeviceFn
            }
            "gpu_kernel" => kernel_attr(KernelKind::Gpu, attr)?,
            "ring_kernel" => kernel_attr(KernelKind::Ring, attr)?,
            _ => continue,
        };
        if let Some((_, first)) = found {
            return Err(FrontError::new(
                FrontErrorKind::Attribute {
                    attr: attr_name_of(&kind),
                    problem: format!(
                        "a function takes one RingKernel attribute, and this one already has `#[{}]`; remove one of them",
                        first
                            .path()
                            .segments
                            .last()
                            .map(|s| s.ident.to_string())
                            .unwrap_or_default()
                    ),
                },
                attr.span(),
            ));
        }
        found = Some((kind, attr));
    }
    Ok(found.map(|(kind, _)| kind))
}

fn attr_name_of(kind: &FnKind) -> &'static str {
    match kind {
        FnKind::DeviceFn => "device_fn",
        FnKind::GpuKernel(_) => "gpu_kernel",
        FnKind::RingKernel(_) => "ring_kernel",
    }
}

fn kernel_attr(kind: KernelKind, attr: &syn::Attribute) -> Result<FnKind, FrontError> {
    let attrs = match &attr.meta {
        syn::Meta::Path(_) => KernelAttrs::defaults(kind),
        syn::Meta::List(list) => parse_kernel_args(kind, list.tokens.clone())
            .map_err(|d| d.errors.into_iter().next().expect("an error"))?,
        syn::Meta::NameValue(nv) => {
            return Err(attr_error(
                kind,
                format!(
                    "write `#[{0}(block_size = 256)]` or `#[{0}]`",
                    kind.attr_name()
                ),
                nv.span(),
            ))
        }
    };
    Ok(kind.make(attrs))
}

fn attr_error(kind: KernelKind, problem: String, span: Span) -> FrontError {
    FrontError::new(
        FrontErrorKind::Attribute {
            attr: kind.attr_name(),
            problem,
        },
        span,
    )
}

/// The darling view of the arguments: every key optional, values checked by
/// their own types.
#[derive(FromMeta)]
struct RawArgs {
    block_size: Option<Threads>,
    block: Option<Block>,
    warps: Option<Warps>,
    checks: Option<Checks>,
    name: Option<Name>,
    debug: darling::util::Flag,
}

fn parse_items(kind: KernelKind, items: &[NestedMeta]) -> Result<KernelAttrs, Diagnostics> {
    let mut diagnostics = Diagnostics::default();
    // Unknown keys first, with the list of the keys this kind takes (darling
    // alone would only say "Unknown field").
    let mut known = Vec::new();
    for item in items {
        let NestedMeta::Meta(meta) = item else {
            diagnostics.push(attr_error(
                kind,
                "expected `key = value`, found a bare literal".into(),
                item.span(),
            ));
            continue;
        };
        let key = meta
            .path()
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        if kind.keys().contains(&key.as_str()) {
            known.push(item.clone());
        } else if key == "warps" {
            diagnostics.push(attr_error(
                kind,
                "`warps` sizes `#[ring_kernel]` actors; a `#[gpu_kernel]` sets its block with `block_size = N` or `block = (x, y, z)`".into(),
                meta.path().span(),
            ));
        } else {
            diagnostics.push(attr_error(
                kind,
                format!(
                    "unknown argument `{}`; expected {}",
                    meta.path().to_token_stream(),
                    list_keys(kind.keys())
                ),
                meta.path().span(),
            ));
        }
    }
    let raw = match RawArgs::from_list(&known) {
        Ok(raw) => raw,
        Err(e) => {
            for e in e.flatten() {
                diagnostics.push(from_darling(kind, e));
            }
            return Err(diagnostics);
        }
    };
    let mut attrs = KernelAttrs::defaults(kind);
    let shapes: Vec<(&str, Span)> = [
        raw.block_size.as_ref().map(|t| ("block_size", t.span)),
        raw.block.as_ref().map(|b| ("block", b.span)),
        raw.warps.as_ref().map(|w| ("warps", w.span)),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let [(first, _), (second, span), ..] = shapes.as_slice() {
        diagnostics.push(attr_error(
            kind,
            format!("`{second}` and `{first}` both set the block shape; keep one"),
            *span,
        ));
    }
    if let Some(t) = &raw.block_size {
        attrs.block = [t.value, 1, 1];
    }
    if let Some(b) = &raw.block {
        attrs.block = b.dims;
        let threads: u64 = b.dims.iter().map(|&d| u64::from(d)).product();
        if threads > 1024 {
            diagnostics.push(attr_error(
                kind,
                format!(
                    "a block of {} x {} x {} = {threads} threads is too large: CUDA allows at most 1024 threads per block",
                    b.dims[0], b.dims[1], b.dims[2]
                ),
                b.span,
            ));
        }
    }
    if let Some(w) = &raw.warps {
        attrs.warps = Some(w.value);
        attrs.block = [32 * w.value, 1, 1];
    }
    attrs.overflow_checks = raw.checks.map(|c| c.0);
    attrs.name = raw.name.map(|n| n.0);
    attrs.debug = raw.debug.is_present();
    if diagnostics.is_empty() {
        Ok(attrs)
    } else {
        Err(diagnostics)
    }
}

fn list_keys(keys: &[&str]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("one of {} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// A darling error as a front-end error, without darling's " at key"
/// suffix (every message here names its key already).
fn from_darling(kind: KernelKind, error: darling::Error) -> FrontError {
    let span = error.span();
    let mut message = error.to_string();
    for key in kind.keys() {
        if let Some(stripped) = message.strip_suffix(&format!(" at {key}")) {
            message = stripped.to_string();
            break;
        }
    }
    if let Some(key) = message
        .strip_prefix("Duplicate field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        message = format!("`{key}` is given twice; keep one");
    }
    attr_error(kind, message, span)
}

fn int_literal(expr: &syn::Expr) -> Option<&syn::LitInt> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => Some(i),
        syn::Expr::Group(g) => int_literal(&g.expr),
        _ => None,
    }
}

fn custom(message: impl std::fmt::Display, span: Span) -> darling::Error {
    darling::Error::custom(message).with_span(&span)
}

/// `block_size = N`: 1 to 1024 threads.
struct Threads {
    value: u32,
    span: Span,
}

impl FromMeta for Threads {
    fn from_expr(expr: &syn::Expr) -> darling::Result<Self> {
        let span = expr.span();
        let value = int_literal(expr)
            .and_then(|i| i.base10_parse::<u64>().ok())
            .ok_or_else(|| {
                custom(
                    "`block_size` is a number of threads: write `block_size = 256`",
                    span,
                )
            })?;
        if !(1..=1024).contains(&value) {
            return Err(custom(
                format!(
                    "a block of {value} threads is invalid: CUDA blocks have 1 to 1024 threads"
                ),
                span,
            ));
        }
        Ok(Threads {
            value: value as u32,
            span,
        })
    }

    fn from_word() -> darling::Result<Self> {
        Err(darling::Error::custom(
            "`block_size` needs a value: write `block_size = 256`",
        ))
    }
}

/// `block = (x, y, z)`: one to three dimensions, each at least 1.
struct Block {
    dims: [u32; 3],
    span: Span,
}

impl FromMeta for Block {
    fn from_expr(expr: &syn::Expr) -> darling::Result<Self> {
        let span = expr.span();
        let usage =
            "write the block shape as a tuple of one to three thread counts: `block = (16, 16)`";
        let elems: Vec<&syn::Expr> = match expr {
            syn::Expr::Tuple(t) => t.elems.iter().collect(),
            syn::Expr::Paren(p) => vec![&*p.expr],
            syn::Expr::Group(g) => return Block::from_expr(&g.expr),
            _ => return Err(custom(usage, span)),
        };
        if elems.is_empty() || elems.len() > 3 {
            return Err(custom(usage, span));
        }
        let mut dims = [1u32; 3];
        for (dim, elem) in dims.iter_mut().zip(elems) {
            let value = int_literal(elem)
                .and_then(|i| i.base10_parse::<u32>().ok())
                .ok_or_else(|| custom(usage, elem.span()))?;
            if value == 0 {
                return Err(custom(
                    "a block dimension of 0 threads is invalid: each dimension is at least 1",
                    elem.span(),
                ));
            }
            *dim = value;
        }
        Ok(Block { dims, span })
    }
}

/// `warps = N`: 1 to 32 warps.
struct Warps {
    value: u32,
    span: Span,
}

impl FromMeta for Warps {
    fn from_expr(expr: &syn::Expr) -> darling::Result<Self> {
        let span = expr.span();
        let value = int_literal(expr)
            .and_then(|i| i.base10_parse::<u64>().ok())
            .ok_or_else(|| custom("`warps` is a number of warps: write `warps = 1`", span))?;
        if !(1..=32).contains(&value) {
            return Err(custom(
                format!("an actor of {value} warps is invalid: 1 to 32 warps (32 to 1024 threads)"),
                span,
            ));
        }
        Ok(Warps {
            value: value as u32,
            span,
        })
    }
}

/// `checks`, `checks = true` or `checks = false`.
struct Checks(bool);

impl FromMeta for Checks {
    fn from_word() -> darling::Result<Self> {
        Ok(Checks(true))
    }

    fn from_expr(expr: &syn::Expr) -> darling::Result<Self> {
        match expr {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Bool(b),
                ..
            }) => Ok(Checks(b.value)),
            syn::Expr::Group(g) => Checks::from_expr(&g.expr),
            _ => Err(custom(
                "`checks` turns overflow checks on or off: write `checks = true` or `checks = false`",
                expr.span(),
            )),
        }
    }
}

/// `name = "symbol"`: a C identifier.
struct Name(String);

impl FromMeta for Name {
    fn from_expr(expr: &syn::Expr) -> darling::Result<Self> {
        let usage = "`name` is the entry point's name: write `name = \"my_kernel\"` (letters, digits and `_`, not starting with a digit)";
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) = expr
        else {
            return Err(custom(usage, expr.span()));
        };
        let value = s.value();
        let valid = value
            .chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
            && value.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
        if !valid {
            return Err(custom(usage, s.span()));
        }
        if !crate::back::cuda::Namer::is_usable(&value) {
            return Err(custom(
                reserved_name(&value, "choose another `name`"),
                s.span(),
            ));
        }
        Ok(Name(value))
    }
}

/// Why `name` cannot be an entry point's name, and what to do (`fix`).
pub fn reserved_name(name: &str, fix: &str) -> String {
    format!(
        "`{name}` cannot name a CUDA entry point: it is a C++ keyword, a CUDA built-in or a reserved name (`rk_…`, `__…`); {fix}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(kind: KernelKind, args: TokenStream) -> Result<KernelAttrs, String> {
        parse_kernel_args(kind, args).map_err(|d| {
            d.errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    #[test]
    fn defaults_and_every_key() {
        assert_eq!(
            parse(KernelKind::Gpu, quote!()).unwrap(),
            KernelAttrs::defaults(KernelKind::Gpu)
        );
        assert_eq!(
            parse(KernelKind::Ring, quote!()).unwrap().block,
            [128, 1, 1]
        );
        let a = parse(
            KernelKind::Gpu,
            quote!(block = (16, 8), checks = false, name = "blur", debug),
        )
        .unwrap();
        assert_eq!(a.block, [16, 8, 1]);
        assert_eq!(a.overflow_checks, Some(false));
        assert_eq!(a.name.as_deref(), Some("blur"));
        assert!(a.debug);
        let a = parse(KernelKind::Ring, quote!(warps = 2, checks)).unwrap();
        assert_eq!(
            (a.block, a.warps, a.overflow_checks),
            ([64, 1, 1], Some(2), Some(true))
        );
        assert_eq!(
            parse(KernelKind::Gpu, quote!(block_size = 64))
                .unwrap()
                .block,
            [64, 1, 1]
        );
        assert_eq!(
            parse(KernelKind::Gpu, quote!(block = (4, 4, 4)))
                .unwrap()
                .threads(),
            64
        );
    }

    #[test]
    fn errors_say_what_to_write() {
        let cases: &[(KernelKind, TokenStream, &str)] = &[
            (KernelKind::Gpu, quote!(threads = 64), "unknown argument `threads`; expected one of `block_size`, `block`, `checks`, `name` or `debug`"),
            (KernelKind::Gpu, quote!(warps = 1), "`warps` sizes `#[ring_kernel]` actors"),
            (KernelKind::Gpu, quote!(block_size = 0), "a block of 0 threads is invalid"),
            (KernelKind::Gpu, quote!(block_size = 2048), "a block of 2048 threads is invalid"),
            (KernelKind::Gpu, quote!(block_size = "64"), "write `block_size = 256`"),
            (KernelKind::Gpu, quote!(block = (64, 64)), "4096 threads is too large"),
            (KernelKind::Gpu, quote!(block = (1, 2, 3, 4)), "one to three thread counts"),
            (KernelKind::Gpu, quote!(block = (0, 2)), "dimension of 0 threads"),
            (KernelKind::Gpu, quote!(block_size = 64, block = (8, 8)), "`block` and `block_size` both set the block shape"),
            (KernelKind::Gpu, quote!(checks = 1), "write `checks = true` or `checks = false`"),
            (KernelKind::Gpu, quote!(name = "1x"), "letters, digits and `_`"),
            (KernelKind::Gpu, quote!(name = "rk_x"), "`rk_x` cannot name a CUDA entry point"),
            (KernelKind::Gpu, quote!(name = "double"), "a C++ keyword"),
            (KernelKind::Gpu, quote!(block_size = 64, block_size = 32), "`block_size` is given twice"),
            (KernelKind::Ring, quote!(warps = 33), "1 to 32 warps"),
            (KernelKind::Ring, quote!(warps = 1, block_size = 32), "both set the block shape"),
            (KernelKind::Gpu, quote!(64), "found a bare literal"),
            (KernelKind::Gpu, quote!(block_size: 64), "write `key = value` pairs"),
        ];
        for (kind, args, expected) in cases {
            let err = parse(*kind, args.clone()).expect_err(&args.to_string());
            assert!(
                err.contains(expected),
                "`{args}`:\n  got      {err}\n  expected {expected}"
            );
            for key in kind.keys() {
                assert!(
                    !err.ends_with(&format!(" at {key}")),
                    "darling location leaked: {err}"
                );
            }
        }
    }

    #[test]
    fn fn_kind_reads_attributes() {
        let f: syn::ItemFn = syn::parse_quote! {
            #[inline]
            #[ringkernel::gpu_kernel(block_size = 32)]
            fn k() {}
        };
        let Some(FnKind::GpuKernel(a)) = fn_kind(&f.attrs).unwrap() else {
            panic!()
        };
        assert_eq!(a.block, [32, 1, 1]);
        let f: syn::ItemFn = syn::parse_quote! { #[ring_kernel] fn h() {} };
        assert!(matches!(fn_kind(&f.attrs), Ok(Some(FnKind::RingKernel(_)))));
        let f: syn::ItemFn = syn::parse_quote! { #[device_fn] fn d() {} };
        assert_eq!(fn_kind(&f.attrs).unwrap(), Some(FnKind::DeviceFn));
        let f: syn::ItemFn = syn::parse_quote! { fn plain() {} };
        assert_eq!(fn_kind(&f.attrs).unwrap(), None);
        let f: syn::ItemFn = syn::parse_quote! { #[device_fn] #[gpu_kernel] fn both() {} };
        assert!(fn_kind(&f.attrs)
            .unwrap_err()
            .to_string()
            .contains("already has `#[device_fn]`"));
        let f: syn::ItemFn = syn::parse_quote! { #[device_fn(x)] fn d() {} };
        assert!(fn_kind(&f.attrs)
            .unwrap_err()
            .to_string()
            .contains("takes no arguments"));
    }
}
