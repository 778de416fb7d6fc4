//! The differential semantics suite (issue 3): every function of
//! `semantics/fns.rs` — plain Rust, one semantic corner each — compiled by
//! rustc (the reference) and by the transpiler, run on the same inputs, and
//! compared element by element.
//!
//! - (a) `fns.rs` is `include!`d by `ringkernel-semantics-reference`, so
//!   rustc compiles the reference; that crate alone is built without
//!   overflow checks (rustc's release semantics), the runtime keeps them.
//! - (b) the same file, as text, is parsed with syn; each function gets
//!   `#[device_fn]` (inserted in place, so line numbers stay the file's)
//!   and a `#[gpu_kernel]` wrapper `k_<name>` that maps thread `i` over the
//!   input slices to `out[i]`. One `KernelSource` holds them all (one
//!   transpilation, one NVRTC compile), transpiled with overflow checks
//!   off, like the reference.
//! - (c) each kernel runs over ≥ 100 000 random inputs plus the cross
//!   product of edge values (MIN, MAX, 0, -1, NaN, ±inf, ±0.0, subnormals,
//!   values near 2^31/2^32/2^63/2^64, halves for rounding), on the CPU
//!   backend (CI) and on the GPU (`#[ignore]`d; the GPU machine runs it).
//!
//! Comparison (see `semantics/values.rs`): integers and bools exactly;
//! floats bit for bit except that NaN equals NaN (arithmetic NaN payloads
//! are unspecified in Rust), `raw_` functions (sign and bit operations)
//! bit for bit including payloads, and `ulp_` functions (transcendental:
//! CUDA's libdevice and the host's libm are both not correctly rounded)
//! within the bound of [`ulp_bound`]; `f32::min`/`max` results may differ
//! in the sign of a zero (Rust leaves it unspecified). Any other difference is a miscompile
//! and is reported with the function, the inputs, the expected and the
//! actual value.

mod common;
mod semantics {
    pub mod values;
}

use std::collections::BTreeMap;

use ringkernel_runtime::{Grid, KernelArg, KernelSource, Runtime, SourceKind, SourceText};
use semantics::values::{Policy, Val};
use syn::spanned::Spanned;

/// The reference: the functions compiled by rustc (`include!`d by that
/// crate, which is built without overflow checks).
use ringkernel_semantics_reference as reference;

const FNS: &str = include_str!("semantics/fns.rs");
const FNS_FILE: &str = "runtime/tests/semantics/fns.rs";
/// Random inputs per function, on top of the edge-value cross product.
const RANDOM: usize = 100_000;
/// The most elements the edge cross product may take.
const MAX_CROSS: usize = 40_000;

/// The documented maximum error of CUDA's implementation (CUDA C
/// Programming Guide, "Mathematical Functions", full range) plus 2 ULP for
/// the host's libm, which is not correctly rounded either (glibc's
/// documented errors for these functions are at most 2 ULP on x86-64).
fn ulp_bound(function: &str, ty: &str) -> u64 {
    let cuda = match (function, ty) {
        ("exp" | "exp2" | "log10" | "sin" | "cos" | "atan" | "cosh" | "tanh", "f32") => 2,
        ("ln" | "log2" | "cbrt", "f32") => 1,
        ("acos" | "sinh" | "atan2" | "hypot", "f32") => 3,
        ("tan" | "asin" | "powf", "f32") => 4,
        ("exp" | "exp2" | "ln" | "log2" | "log10" | "cosh" | "tanh" | "cbrt", "f64") => 1,
        (
            "sin" | "cos" | "tan" | "asin" | "acos" | "atan" | "sinh" | "powf" | "atan2" | "hypot",
            "f64",
        ) => 2,
        _ => panic!("no ULP bound for {function} on {ty}: add it to ulp_bound"),
    };
    cuda + 2
}

fn policy(name: &str) -> Policy {
    if name.starts_with("raw_") {
        Policy::Raw
    } else if let Some(rest) = name.strip_prefix("ulp_") {
        let (function, ty) = rest.rsplit_once('_').expect("ulp_<function>_<type>");
        Policy::Ulp(ulp_bound(function, ty))
    } else if name.starts_with("min_f") || name.starts_with("max_f") {
        Policy::SignlessZero
    } else {
        Policy::Exact
    }
}

/// One function of the table: its name and signature, and how to run it.
struct Entry {
    name: &'static str,
    params: Vec<&'static str>,
    ret: &'static str,
    run: fn(&Cx, &str) -> Outcome,
}

/// What one function's comparison found.
#[derive(Default)]
struct Outcome {
    cases: usize,
    divergences: Vec<String>,
    divergent: usize,
    max_ulps: u64,
}

/// The runtime and the kernels' shared source.
struct Cx {
    rt: Runtime,
    items: Vec<SourceText>,
}

impl Cx {
    fn kernel(&self, name: &str) -> KernelSource {
        KernelSource {
            name: format!("k_{name}"),
            kind: SourceKind::GpuKernel,
            items: self.items.clone(),
            layouts: Vec::new(),
            overflow_checks: false,
        }
    }
}

/// Element `i` of input column `index` of a function whose parameters have
/// `counts` edge values each: the edge cross product first, then random.
fn column<T: Val>(index: usize, counts: &[usize], n_cross: usize, seed: u64) -> Vec<T> {
    let edges = T::edges();
    let stride: usize = counts[..index].iter().product();
    let mut rng = common::Rng(seed ^ (index as u64).wrapping_mul(0x9e37_79b9));
    (0..n_cross + RANDOM)
        .map(|i| {
            if i < n_cross {
                edges[(i / stride) % edges.len()]
            } else {
                T::random(&mut rng)
            }
        })
        .collect()
}

fn compare<R: Val>(name: &str, want: &[R], got: &[R], show: &dyn Fn(usize) -> String) -> Outcome {
    let policy = policy(name);
    let mut out = Outcome {
        cases: want.len(),
        ..Outcome::default()
    };
    for (i, (&w, &g)) in want.iter().zip(got).enumerate() {
        if let Some(d) = R::ulps(w, g) {
            if R::same(w, g, policy) {
                out.max_ulps = out.max_ulps.max(d);
            }
        }
        if !R::same(w, g, policy) {
            out.divergent += 1;
            if out.divergences.len() < 8 {
                out.divergences.push(format!(
                    "{name}({}) = {} (rustc), got {}{}",
                    show(i),
                    w.show(),
                    g.show(),
                    R::ulps(w, g).map_or(String::new(), |d| format!(" ({d} ULP)"))
                ));
            }
        }
    }
    out
}

macro_rules! semantics_table {
    ($($name:ident($($p:ident: $t:ty),*) -> $r:ty;)*) => {
        fn table() -> Vec<Entry> {
            vec![$(Entry {
                name: stringify!($name),
                params: vec![$(stringify!($t)),*],
                ret: stringify!($r),
                run: |cx: &Cx, name: &str| {
                    let counts = [$(<$t as Val>::edges().len()),*];
                    let n_cross = counts.iter().product::<usize>().min(MAX_CROSS);
                    let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
                    let mut index = 0;
                    $(
                        let $p: Vec<$t> = column::<$t>(index, &counts, n_cross, seed);
                        index += 1;
                    )*
                    let _ = index;
                    let n = n_cross + RANDOM;
                    let want: Vec<$r> = (0..n).map(|i| reference::$name($($p[i]),*)).collect();
                    let show = |i: usize| -> String {
                        let parts: Vec<String> = vec![$(Val::show($p[i])),*];
                        parts.join(", ")
                    };
                    $( let $p = cx.rt.upload(&$p).unwrap(); )*
                    let mut out = cx.rt.upload(&vec![<$r as Val>::poison(); n]).unwrap();
                    let mut args: Vec<KernelArg> = vec![$(KernelArg::slice(&$p)),*];
                    args.push(KernelArg::slice_mut(&mut out));
                    cx.rt
                        .launch(&cx.kernel(name), Grid::for_elements(n), &mut args)
                        .unwrap_or_else(|e| panic!("launching k_{name}: {e}"));
                    drop(args);
                    let got = out.to_vec().unwrap();
                    compare(name, &want, &got, &show)
                },
            }),*]
        }
    };
}
include!("semantics/table.rs");

/// The functions of `fns.rs` as syn sees them: name, parameter types, result.
fn parsed() -> Vec<(String, Vec<String>, String)> {
    let file = syn::parse_file(FNS).expect("fns.rs parses");
    let ty = |t: &syn::Type| match t {
        syn::Type::Path(p) => p.path.segments.last().unwrap().ident.to_string(),
        _ => panic!("fns.rs: only scalar types"),
    };
    file.items
        .iter()
        .map(|item| match item {
            syn::Item::Fn(f) => {
                assert!(f.attrs.is_empty(), "fns.rs has no attributes");
                let params = f
                    .sig
                    .inputs
                    .iter()
                    .map(|a| match a {
                        syn::FnArg::Typed(p) => ty(&p.ty),
                        _ => panic!("fns.rs: no methods"),
                    })
                    .collect();
                let ret = match &f.sig.output {
                    syn::ReturnType::Type(_, t) => ty(t),
                    _ => panic!("{}: every function returns a value", f.sig.ident),
                };
                (f.sig.ident.to_string(), params, ret)
            }
            _ => panic!("fns.rs holds only functions"),
        })
        .collect()
}

/// `fns.rs` with `#[device_fn]` on every function (inserted on the
/// function's first line, so lines keep their numbers) and the wrappers.
fn kernel_module(fns: &[(String, Vec<String>, String)]) -> String {
    let file = syn::parse_file(FNS).unwrap();
    let mut lines: Vec<String> = FNS.lines().map(str::to_string).collect();
    // Insert from the last function up, so earlier positions stay valid.
    for item in file.items.iter().rev() {
        let start = item.span().start();
        let line = &mut lines[start.line - 1];
        let at = line
            .char_indices()
            .nth(start.column)
            .map_or(line.len(), |(b, _)| b);
        line.insert_str(at, "#[device_fn] ");
    }
    let mut text = lines.join("\n");
    text.push('\n');
    for (name, params, ret) in fns {
        let slices: String = params
            .iter()
            .enumerate()
            .map(|(i, t)| format!("p{i}: &[{t}], "))
            .collect();
        let call: Vec<String> = (0..params.len()).map(|i| format!("p{i}[i]")).collect();
        text.push_str(&format!(
            "\n#[gpu_kernel(block_size = 128)]\n\
             pub fn k_{name}(ctx: &ThreadContext, {slices}out: &mut [{ret}]) {{\n    \
                 let i = ctx.global_id() as usize;\n    \
                 if i >= out.len() {{\n        return;\n    }}\n    \
                 out[i] = {name}({});\n}}\n",
            call.join(", ")
        ));
    }
    text
}

fn check_release_semantics() {
    assert!(
        !reference::overflow_checks_on(),
        "the reference must be compiled without overflow checks (rustc's release \
         semantics): keep `[profile.dev.package.ringkernel-semantics-reference] \
         overflow-checks = false` in the workspace Cargo.toml"
    );
}

fn run_suite(rt: Runtime) {
    check_release_semantics();
    let table = table();
    let fns = parsed();
    let listed: Vec<(String, Vec<String>, String)> = table
        .iter()
        .map(|e| {
            let params = e.params.iter().map(|s| s.to_string()).collect();
            (e.name.to_string(), params, e.ret.to_string())
        })
        .collect();
    assert_eq!(
        fns, listed,
        "semantics/table.rs must list fns.rs's functions, in order"
    );

    let cx = Cx {
        rt,
        items: vec![SourceText::whole_file(FNS_FILE, kernel_module(&fns))],
    };
    let start = std::time::Instant::now();
    if let Some(report) = cx.rt.prepare(&cx.kernel(table[0].name)).unwrap() {
        eprintln!(
            "semantics: module of {} kernels loaded: {report:?}",
            table.len()
        );
    }
    let mut cases = 0;
    let mut failures = Vec::new();
    let mut ulps: BTreeMap<&str, u64> = BTreeMap::new();
    for entry in &table {
        let outcome = (entry.run)(&cx, entry.name);
        cases += outcome.cases;
        if entry.name.starts_with("ulp_") {
            ulps.insert(entry.name, outcome.max_ulps);
        }
        if outcome.divergent > 0 {
            failures.push(format!(
                "MISCOMPILE {}: {} of {} results differ from rustc's:\n    {}",
                entry.name,
                outcome.divergent,
                outcome.cases,
                outcome.divergences.join("\n    ")
            ));
        }
    }
    eprintln!(
        "semantics on {}: {} functions, {cases} cases, {} divergent functions, {:.1} s",
        cx.rt.backend(),
        table.len(),
        failures.len(),
        start.elapsed().as_secs_f64()
    );
    eprintln!(
        "semantics: largest ULP distance within bounds per transcendental function: {ulps:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn semantics_match_rustc_on_the_cpu_backend() {
    run_suite(Runtime::cpu());
}

#[test]
#[ignore = "needs a CUDA GPU; run with --include-ignored on the GPU machine"]
fn semantics_match_rustc_on_the_gpu() {
    if let Some(rt) = ringkernel_runtime::testing::gpu_runtime("semantics_match_rustc_on_the_gpu") {
        run_suite(rt);
    }
}

/// The suite's CUDA compiles with NVRTC and assembles for sm_90 (CI has
/// NVRTC but no GPU), so the GPU run cannot fail on the compile.
#[test]
fn semantics_module_compiles_for_sm_90() {
    if ringkernel_toolchain::require_nvrtc("semantics_module_compiles_for_sm_90").is_none() {
        return;
    }
    let fns = parsed();
    let source = KernelSource {
        name: "k_semantics".into(),
        kind: SourceKind::GpuKernel,
        items: vec![SourceText::whole_file(FNS_FILE, kernel_module(&fns))],
        layouts: Vec::new(),
        overflow_checks: false,
    };
    let transpiled = source.transpile().unwrap();
    assert_eq!(transpiled.cuda.kernels.len(), fns.len());
    let src = ringkernel_runtime::CudaSource::from_output("semantics", &transpiled.cuda);
    let start = std::time::Instant::now();
    let image = ringkernel_runtime::Compiler::without_cache()
        .compile(
            &src,
            ringkernel_toolchain::Target::Cubin(ringkernel_toolchain::Arch::SM_90),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "semantics module: {} kernels, {} bytes of CUDA, cubin of {} bytes in {:.2} s",
        fns.len(),
        src.source.len(),
        image.image.len(),
        start.elapsed().as_secs_f64()
    );
}
