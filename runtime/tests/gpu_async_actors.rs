//! The async actor suite of `async_actors.rs` on a real GPU. `#[ignore]`d
//! here (no GPU in CI); run on the GPU machine with `--include-ignored` and
//! `RINGKERNEL_REQUIRE_GPU=1`.

#[path = "actors/suite.rs"]
mod suite;

#[path = "actors/async_suite.rs"]
mod async_suite;

use ringkernel_runtime::testing::gpu_runtime;
use ringkernel_runtime::Runtime;

fn gpu(test: &str) -> Option<Runtime> {
    gpu_runtime(test)
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_many_concurrent_async_calls_each_get_their_own_reply() {
    let Some(gpu) = gpu("gpu_async_concurrent") else {
        return;
    };
    async_suite::concurrent_calls(&gpu, 3, 96, 1_000);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_async_streams_are_ordered_and_a_recv_waits_for_a_message() {
    let Some(gpu) = gpu("gpu_async_stream") else {
        return;
    };
    async_suite::ordered_stream(&gpu, 100_000);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_async_faults_surface_as_errors() {
    let Some(gpu) = gpu("gpu_async_faults") else {
        return;
    };
    async_suite::faults(&gpu);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_stop_while_awaiting_resolves_to_stopped() {
    let Some(gpu) = gpu("gpu_async_stop") else {
        return;
    };
    async_suite::stop_while_awaiting(&gpu);
}

// No GPU twin of `async_actors.rs`'s hang test: its handler never returns,
// and a block spinning forever cannot be stopped without killing the
// context, so every later test of the process would run next to it (it
// made the next test hang on the H200). The sync suite keeps its hang test
// CPU-only for the same reason (`gpu_actors.rs`).
