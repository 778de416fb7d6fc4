//! The PTX path's compatibility check against real NVRTC output (no GPU):
//! the PTX the pinned NVRTC writes declares the ISA the check expects, a
//! driver of the same CUDA version accepts it, an older one is refused
//! with `DriverTooOld`; and the PTX-only switch of the compiler.

mod common;

use ringkernel_runtime::cuda::compat::{
    check_ptx_driver, cuda_for_ptx_isa, force_ptx_requested, ptx_isa_version, FORCE_PTX_ENV,
};
use ringkernel_runtime::{Compiler, CudaSource, DriverVersion, Error};
use ringkernel_toolchain::{require_nvrtc, Arch, Target};

#[test]
fn nvrtc_ptx_declares_the_isa_of_its_cuda_version() {
    let Some(tools) = require_nvrtc("nvrtc_ptx_declares_the_isa_of_its_cuda_version") else {
        return;
    };
    let nvrtc = tools.nvrtc_version();
    let k = common::kernel("saxpy", "tests/saxpy.rs", common::SAXPY);
    let src = CudaSource::from_output("saxpy", &k.transpile().unwrap().cuda);
    let ptx = Compiler::without_cache()
        .compile(&src, Target::Ptx(Arch::SM_90))
        .unwrap();
    let isa = ptx_isa_version(&ptx.image).expect("a .version directive");
    let same = DriverVersion(nvrtc.0 * 1000 + nvrtc.1 * 10);
    assert_eq!(
        cuda_for_ptx_isa(isa),
        Some(same),
        "NVRTC {nvrtc:?} wrote ISA {isa:?}"
    );
    check_ptx_driver(same, nvrtc, Some(isa)).expect("the matching driver reads it");
    let older = DriverVersion(same.0 - 10);
    match check_ptx_driver(older, nvrtc, Some(isa)) {
        Err(Error::DriverTooOld { driver, nvrtc: n }) => {
            assert_eq!((driver, n), (older, nvrtc));
        }
        other => panic!("expected DriverTooOld, got {other:?}"),
    }
}

#[test]
fn the_compiler_forces_ptx_only_when_asked() {
    assert!(!Compiler::without_cache().forces_ptx());
    assert!(Compiler::without_cache().ptx_only(true).forces_ptx());
    assert!(!Compiler::with_cache_dir("/tmp/x").forces_ptx());
    let env = std::env::var(FORCE_PTX_ENV).ok();
    assert_eq!(
        Compiler::from_env().forces_ptx(),
        force_ptx_requested(env.as_deref())
    );
}
