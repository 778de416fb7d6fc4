//! The PTX fallback on a real GPU, forced (`Compiler::ptx_only`, or
//! `RINGKERNEL_FORCE_PTX=1` for any runtime): modules load from PTX through
//! the driver's JIT, and the same kernels and actors give the same results.
//! `#[ignore]`d here (no GPU in CI).

#[path = "actors/suite.rs"]
mod suite;

use ringkernel_runtime::testing::gpu_runtime;
use ringkernel_runtime::{Compiler, Runtime};
use ringkernel_toolchain::Target;

#[test]
#[ignore = "needs a GPU"]
fn gpu_forced_ptx_loads_ptx_and_runs_the_actor_suite() {
    if gpu_runtime("gpu_forced_ptx").is_none() {
        return;
    }
    let rt = Runtime::cuda_with(0, Compiler::without_cache().ptx_only(true)).expect("device 0");
    let (module, report) = rt.load_kernel_module(&suite::kernel()).expect("PTX load");
    assert!(
        matches!(module.target(), Target::Ptx(_)),
        "{:?}",
        module.target()
    );
    assert!(matches!(report.target, Target::Ptx(_)));
    println!("PTX load (NVRTC + JIT): {:?}", report.elapsed);
    let gpu = rt;
    suite::bursts(&gpu, 10_000);
    suite::fault(&gpu);

    // The default runtime still loads the cubin.
    let rt = Runtime::cuda_with(0, Compiler::without_cache()).expect("device 0");
    let (module, _) = rt.load_kernel_module(&suite::kernel()).unwrap();
    assert!(matches!(module.target(), Target::Cubin(_)));
}
