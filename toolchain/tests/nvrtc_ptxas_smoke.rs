//! End-to-end proof of the GPU-less CUDA toolchain: a small kernel through
//! NVRTC (PTX for compute_90, cubin for sm_90) and ptxas `-v` for sm_90, with
//! the resource report parsed. A kernel with a syntax error must be rejected,
//! so this test would notice a toolchain that accepts anything.

use ringkernel_toolchain::{
    assemble, compile, require_nvrtc, Arch, CompileError, CompileOptions, Target,
};

const SAXPY: &str = r#"
extern "C" __global__ void saxpy(float a, const float* x, float* y, unsigned long long n) {
    unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) { y[i] = a * x[i] + y[i]; }
}
"#;

#[test]
fn saxpy_compiles_to_ptx_and_cubin_and_assembles_without_spills() {
    let Some(tools) = require_nvrtc("saxpy smoke test") else {
        return;
    };
    let (major, minor) = tools.nvrtc_version();
    assert_eq!(
        major, 13,
        "NVRTC must be CUDA 13.x to match the GPU driver, found {major}.{minor}"
    );

    let ptx = compile(
        "saxpy.cu",
        SAXPY,
        &CompileOptions::new(Target::Ptx(Arch::SM_90)),
    )
    .unwrap();
    let text = ptx.ptx().expect("PTX output is text");
    assert!(
        text.contains(".target sm_90"),
        "PTX targets compute_90:\n{text}"
    );
    assert!(
        text.contains(".entry saxpy"),
        "the extern \"C\" entry keeps its name:\n{text}"
    );

    let cubin = compile(
        "saxpy.cu",
        SAXPY,
        &CompileOptions::new(Target::Cubin(Arch::SM_90)),
    )
    .unwrap();
    assert_eq!(&cubin.image[..4], b"\x7fELF", "a cubin is an ELF image");

    let ptxas = tools.ptxas().expect("ptxas is part of the toolchain");
    let report = assemble(ptxas, text, Arch::SM_90).unwrap();
    let saxpy = report
        .function("saxpy")
        .unwrap_or_else(|| panic!("no report for saxpy:\n{}", report.raw));
    assert!(saxpy.entry);
    assert!(saxpy.registers > 0 && saxpy.registers <= 255, "{saxpy:?}");
    assert!(!saxpy.spills(), "{saxpy:?}");
}

#[test]
fn a_syntax_error_is_rejected_with_the_nvrtc_log() {
    if require_nvrtc("syntax error test").is_none() {
        return;
    }
    let broken = SAXPY.replace("y[i] = a * x[i] + y[i];", "y[i] = a * x[i] + ;");
    let error = compile(
        "broken.cu",
        &broken,
        &CompileOptions::new(Target::Ptx(Arch::SM_90)),
    )
    .unwrap_err();
    match error {
        CompileError::Rejected { name, log } => {
            assert_eq!(name, "broken.cu");
            assert!(
                log.contains("broken.cu(4)"),
                "the log names the file and line:\n{log}"
            );
            assert!(log.contains("expected an expression"), "{log}");
        }
        other => panic!("expected a rejected compilation, got {other:?}"),
    }
}

#[test]
fn ptxas_rejects_malformed_ptx() {
    let Some(tools) = require_nvrtc("ptxas negative test") else {
        return;
    };
    let ptx = compile(
        "saxpy.cu",
        SAXPY,
        &CompileOptions::new(Target::Ptx(Arch::SM_90)),
    )
    .unwrap();
    let broken = ptx
        .ptx()
        .unwrap()
        .replace("ret;", "ret_not_an_instruction;");
    let error = assemble(tools.ptxas().unwrap(), &broken, Arch::SM_90).unwrap_err();
    assert!(error.to_string().contains("ptxas rejected"), "{error}");
}
