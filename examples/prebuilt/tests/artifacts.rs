//! What `cargo build` left for this crate (CI, no GPU): every kernel has
//! its CUDA, PTX and sm_90 cubin; the build-time CUDA is byte-identical to
//! the macros' `cuda_source()`; the PTX assembles with ptxas for sm_90
//! without spills.

use std::path::Path;

use ringkernel::embedded::{EmbeddedKind, EmbeddedPolicy};
use ringkernel_example_prebuilt::{accumulate, transform_points, KERNELS};
use ringkernel_toolchain::{assemble, require_nvrtc, Arch};

/// The crate's kernels: entry name, kind, `cuda_source()`.
fn kernels() -> Vec<(&'static str, EmbeddedKind, String)> {
    vec![
        (
            "transform_points",
            EmbeddedKind::GpuKernel,
            transform_points::cuda_source(),
        ),
        (
            "accumulate",
            EmbeddedKind::RingKernel,
            accumulate::cuda_source(),
        ),
    ]
}

#[test]
fn every_kernel_was_built_once() {
    let mut names: Vec<&str> = KERNELS.kernels.iter().map(|k| k.name).collect();
    names.sort();
    assert_eq!(names, ["accumulate", "transform_points"]);
    assert_eq!(KERNELS.crate_name, "ringkernel_example_prebuilt");
}

#[test]
fn build_time_cuda_is_the_macros_cuda() {
    let out = Path::new(env!("OUT_DIR")).join("ringkernel");
    for (name, kind, cuda) in kernels() {
        let embedded = KERNELS.get(name).unwrap();
        assert_eq!(embedded.kind, kind);
        assert_eq!(embedded.cuda, cuda, "{name}: build-time CUDA differs");
        let file = std::fs::read_to_string(out.join(format!("{name}.cu"))).unwrap();
        assert_eq!(file, cuda, "{name}.cu differs from cuda_source()");
        // The positions are the user's: `#line` directives name this file.
        assert!(
            cuda.contains("\"examples/prebuilt/src/kernels.rs\""),
            "{name}: {cuda}"
        );
    }
}

#[test]
fn ptx_and_cubins_exist_and_the_ptx_assembles_for_sm_90() {
    let Some(tools) = require_nvrtc("prebuilt artifacts") else {
        return;
    };
    let out = Path::new(env!("OUT_DIR")).join("ringkernel");
    for (name, _, _) in kernels() {
        let embedded = KERNELS.get(name).unwrap();
        let ptx = embedded
            .ptx
            .unwrap_or_else(|| panic!("{name}: built without PTX (no NVRTC at build time?)"));
        assert_eq!(ptx.arch, 90);
        assert_eq!(
            std::fs::read_to_string(out.join(format!("{name}.ptx"))).unwrap(),
            ptx.text
        );
        assert!(
            ptx.text.contains(&format!(".entry {}", embedded.symbol)),
            "{name}"
        );
        let cubin = embedded.cubins.iter().find(|c| c.arch == 90).unwrap();
        assert_eq!(&cubin.image[..4], b"\x7fELF", "{name}: not an ELF cubin");
        assert_eq!(
            std::fs::read(out.join(format!("{name}.sm_90.cubin"))).unwrap(),
            cubin.image
        );
        let ptxas = tools.ptxas().expect("ptxas");
        let report =
            assemble(ptxas, ptx.text, Arch::SM_90).unwrap_or_else(|e| panic!("{name}: ptxas: {e}"));
        let entry = report.function(embedded.symbol).unwrap();
        assert!(!entry.spills(), "{name} spills: {entry:?}");
        // The manifest recorded the same report.
        let recorded = embedded.resources.iter().find(|r| r.arch == 90).unwrap();
        assert_eq!(recorded.registers, entry.registers, "{name}");
        assert_eq!(recorded.spill_store_bytes, 0);
    }
    let manifest = std::fs::read_to_string(out.join("manifest.txt")).unwrap();
    assert!(manifest.contains("[accumulate]") && manifest.contains("resources.sm_90 = "));
}

#[test]
fn embedded_images_need_a_cuda_runtime_and_the_cpu_backend_ignores_them() {
    // On the CPU backend the IR runs and images are not used: the example
    // still produces Rust's results.
    let rt = ringkernel::prelude::Runtime::cpu();
    rt.use_embedded(KERNELS, EmbeddedPolicy::Only);
    let outcome = ringkernel_example_prebuilt::run(&rt).unwrap();
    assert_eq!(outcome.replies, 64);
}
