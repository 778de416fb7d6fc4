//! Back-end tests: hand-built IR modules, their CUDA pinned by insta
//! snapshots, and every module compiled by NVRTC (compute_90, with the
//! Output's options and headers) and assembled by ptxas for sm_90 without
//! spills.

mod builder;
mod features;
mod semantics;

use std::path::PathBuf;
use std::sync::OnceLock;

use ringkernel_toolchain::{assemble, compile, require_nvrtc, Arch, CompileOptions, Target};

use crate::ir::Module;

use super::{write_module, Options, Output};

/// Validates and writes a module, panicking with the error.
pub fn emit(module: &Module) -> Output {
    let info = crate::valid::validate(module).unwrap_or_else(|e| panic!("invalid IR: {e}"));
    write_module(module, &info, &Options::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// A per-process folder holding the Output's headers, for `--include-path`.
fn header_dir(output: &Output) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!(
            "ringkernel-transpiler-headers-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        for header in &output.headers {
            std::fs::write(dir.join(header.name), header.contents).unwrap();
        }
        dir
    })
    .clone()
}

/// Compiles the output with NVRTC and assembles it with ptxas; asserts
/// every kernel is there without spills and that NVRTC had no warnings.
/// Returns the PTX, or `None` when the toolchain is absent (and not
/// required).
pub fn compile_output(name: &str, output: &Output) -> Option<String> {
    let tools = require_nvrtc(name)?;
    let mut options = CompileOptions::new(Target::Ptx(Arch::SM_90));
    options
        .include_dirs
        .push(header_dir(output).display().to_string());
    options.extra = output.nvrtc_options.clone();
    let compiled = compile(&format!("{name}.cu"), &output.source, &options)
        .unwrap_or_else(|e| panic!("{e}\n--- source ---\n{}", output.source));
    assert!(
        !compiled.log.contains("warning"),
        "NVRTC warnings for {name}:\n{}\n--- source ---\n{}",
        compiled.log,
        output.source
    );
    let ptx = compiled.ptx().expect("PTX is text").to_string();
    let report = assemble(tools.ptxas().expect("ptxas"), &ptx, Arch::SM_90)
        .unwrap_or_else(|e| panic!("{e}"));
    for kernel in &output.kernels {
        let resources = report
            .function(&kernel.symbol)
            .unwrap_or_else(|| panic!("no ptxas report for {}:\n{}", kernel.symbol, report.raw));
        assert!(resources.entry, "{resources:?}");
        assert!(
            !resources.spills(),
            "{} spills: {resources:?}",
            kernel.symbol
        );
        assert!(
            u64::from(resources.shared_bytes) >= kernel.static_shared_bytes,
            "{}: ptxas reports {} shared bytes, metadata says {}",
            kernel.symbol,
            resources.shared_bytes,
            kernel.static_shared_bytes
        );
    }
    Some(ptx)
}

/// The header compiles on its own, with every helper family
/// (`RK_RUST_ALL`) instantiated by a kernel that uses nothing else.
#[test]
fn rust_header_compiles_alone() {
    let output = Output {
        source: "#define RK_RUST_ALL 1\n#include \"rk_rust.cuh\"\nextern \"C\" __global__ void k(rk_fault_record* r) {\n    rk_fault_ctx c = rk_fault_ctx_new(r);\n    rk_fault(&c, RK_FAULT_EXPLICIT, 1u, 1u);\n}\n".into(),
        headers: vec![super::RUST_HEADER],
        nvrtc_options: super::NVRTC_OPTIONS.iter().map(|s| s.to_string()).collect(),
        kernels: Vec::new(),
    };
    compile_output("rk_rust_header", &output);
}

/// Every helper `rk_rust.cuh` defines, by family, as the header's macros
/// instantiate them (written from the header, not from `needs.rs`).
fn rust_header_helpers() -> Vec<String> {
    let ints = ["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"];
    let int_ops = [
        "min",
        "max",
        "clamp",
        "wrapping_mul",
        "pow",
        "rotate_left",
        "rotate_right",
        "overflows_pow",
        "count_ones",
        "leading_zeros",
        "trailing_zeros",
        "overflows_add",
        "overflows_sub",
        "overflows_mul",
        "overflows_neg",
        "overflows_abs",
        "overflows_divrem",
        "saturating_add",
        "saturating_sub",
        "saturating_mul",
        "abs",
        "shift_overflows",
    ];
    let float_ops = [
        "is_nan",
        "is_infinite",
        "is_finite",
        "fract",
        "neg",
        "abs",
        "copysign",
        "signum",
        "clamp",
        "powi",
        "min",
        "max",
    ];
    let warp_ops = [
        "shfl",
        "shfl_up",
        "shfl_down",
        "shfl_xor",
        "sum",
        "warp_reduce_sum",
        "warp_reduce_min",
        "warp_reduce_max",
        "block_reduce_sum",
        "block_reduce_min",
        "block_reduce_max",
    ];
    let atomic_ops = [
        "add", "sub", "min", "max", "and", "or", "xor", "exch", "cas",
    ];
    let mut names = Vec::new();
    for t in ints {
        names.extend(int_ops.iter().map(|op| format!("rk_{op}_{t}")));
        names.extend(warp_ops.iter().map(|op| format!("rk_{op}_{t}")));
    }
    for f in ["f32", "f64"] {
        names.extend(float_ops.iter().map(|op| format!("rk_{op}_{f}")));
        names.extend(ints.iter().map(|t| format!("rk_cast_{f}_{t}")));
        names.extend(warp_ops.iter().map(|op| format!("rk_{op}_{f}")));
        names.extend(
            ["add", "sub", "exch", "cas", "min", "max"].map(|op| format!("rk_atomic_{op}_{f}")),
        );
    }
    names.extend(["shfl", "shfl_up", "shfl_down", "shfl_xor"].map(|op| format!("rk_{op}_bool")));
    for t in ["i32", "u32", "i64", "u64"] {
        names.extend(atomic_ops.iter().map(|op| format!("rk_atomic_{op}_{t}")));
    }
    names
}

/// A kernel that names each of `helpers` (its address, so no call
/// signature is needed), with the `RK_RUST_NEED_*` defines of `needs`.
fn naming_source(helpers: &[String], needs: &[String]) -> String {
    let mut source: String = needs.iter().map(|n| format!("#define {n} 1\n")).collect();
    source.push_str(
        "#include \"rk_rust.cuh\"\nextern \"C\" __global__ void k(unsigned long long* out) {\n",
    );
    for h in helpers {
        source.push_str(&format!("    *out += (unsigned long long)&{h};\n"));
    }
    source.push_str("}\n");
    source
}

/// Each helper is declared under exactly the defines `rust_header_needs`
/// derives from its name (its family and the families it depends on are
/// resolved by the header), and under none: the guards take it away.
#[test]
fn rust_header_families_declare_their_helpers() {
    let Some(_tools) = require_nvrtc("rust_header_families") else {
        return;
    };
    let helpers = rust_header_helpers();
    let mut by_needs: std::collections::BTreeMap<Vec<String>, Vec<String>> = Default::default();
    for h in &helpers {
        let needs = super::rust_header_needs(h);
        assert_eq!(needs.len(), 1, "{h}: {needs:?}");
        by_needs.entry(needs).or_default().push(h.clone());
    }
    let header_dir = std::env::temp_dir().join(format!(
        "ringkernel-transpiler-rk-rust-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&header_dir).unwrap();
    std::fs::write(
        header_dir.join(super::RUST_HEADER.name),
        super::RUST_HEADER.contents,
    )
    .unwrap();
    let mut options = CompileOptions::new(Target::Ptx(Arch::SM_90));
    options.include_dirs.push(header_dir.display().to_string());
    options.extra = super::NVRTC_OPTIONS.iter().map(|s| s.to_string()).collect();
    for (needs, names) in &by_needs {
        let source = naming_source(names, needs);
        if let Err(e) = compile("family.cu", &source, &options) {
            panic!("{needs:?} does not declare its helpers: {e}\n{source}");
        }
    }
    // Without a define no helper of any family is declared.
    for names in by_needs.values() {
        let source = naming_source(&names[..1], &[]);
        assert!(
            compile("none.cu", &source, &options).is_err(),
            "{} is declared without its family's define",
            names[0]
        );
    }
}
