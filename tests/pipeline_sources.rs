//! The pipeline example's system kernel (`examples/transactions.rs`:
//! ingest → score → alert, `Pipeline::wire`, placed one block per actor,
//! `Placement::Gpu`) is checked here, in CI, where its GPU run
//! (`tests/pipeline.rs`, ignored) never happens: the kernel
//! `SystemBuilder::start` would compile (`SystemBuilder::cuda_source`)
//! compiles with NVRTC, assembles for sm_90 with ptxas without spills, and
//! is the system's at the global tier (the runtime's
//! `tests/k2k_sources/check.rs`, shared with the K2K suites' check).

#[path = "../examples/transactions.rs"]
#[allow(dead_code)]
mod transactions;

#[path = "../runtime/tests/k2k_sources/check.rs"]
mod check;

use ringkernel::prelude::*;
use ringkernel::runtime::actor::Placement;
use ringkernel_toolchain::require_nvrtc;
use transactions::Pipeline;

#[test]
fn the_pipelines_system_kernel_compiles_and_assembles() {
    let Some(tools) = require_nvrtc("pipeline_sources") else {
        return;
    };
    let rt = Runtime::cpu();
    let mut b = rt.system();
    Pipeline::wire(&mut b).expect("the pipeline wires");
    let src = b.cuda_source().expect("the pipeline's system kernel");
    let placement = Placement::Gpu;
    let symbol = check::system_symbol(placement, &["ingest", "score", "alert"]);
    let started = std::time::Instant::now();
    let entry = check::check_system_kernel(&tools, &src, &symbol, placement, &[]);
    eprintln!(
        "{symbol}: {} registers, {} bytes stack, {} barriers; {:.1} s",
        entry.registers,
        entry.stack_frame_bytes,
        entry.barriers,
        started.elapsed().as_secs_f64()
    );
}
