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

/// The header compiles on its own, with every helper instantiated by a
/// kernel that uses nothing else.
#[test]
fn rust_header_compiles_alone() {
    let output = Output {
        source: "#include \"rk_rust.cuh\"\nextern \"C\" __global__ void k(rk_fault_record* r) {\n    rk_fault_ctx c = rk_fault_ctx_new(r);\n    rk_fault(&c, RK_FAULT_EXPLICIT, 1u, 1u);\n}\n".into(),
        headers: vec![super::RUST_HEADER],
        nvrtc_options: super::NVRTC_OPTIONS.iter().map(|s| s.to_string()).collect(),
        kernels: Vec::new(),
    };
    compile_output("rk_rust_header", &output);
}
