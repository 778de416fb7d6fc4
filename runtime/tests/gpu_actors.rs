//! The actor suite of `actors.rs` on a real GPU: the persistent kernel the
//! CUDA back end writes, launched with one block per actor, fed through
//! mapped pinned memory. `#[ignore]`d here (no GPU in CI); run on the GPU
//! machine with `--include-ignored` and `RINGKERNEL_REQUIRE_GPU=1`.

#[path = "actors/suite.rs"]
mod suite;

use std::time::Duration;

use ringkernel_runtime::actor::{Actor, SpawnOptions};
use ringkernel_runtime::testing::gpu_runtime;
use ringkernel_runtime::Runtime;
use suite::{Counter, Ping, Pong, Spawn};

struct Gpu(Runtime);

impl Spawn for Gpu {
    fn spawn(&self, count: u32, options: &SpawnOptions) -> Vec<Actor<Ping, Pong, Counter>> {
        self.0
            .spawn(&suite::kernel(), count, Counter::default(), options)
            .expect("spawn on the GPU")
    }
}

fn gpu(test: &str) -> Option<Gpu> {
    gpu_runtime(test).map(Gpu)
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_bursts_are_answered_exactly_once_in_order() {
    let Some(gpu) = gpu("gpu_bursts") else { return };
    suite::bursts(&gpu, 10_000);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_an_idle_actor_processes_nothing() {
    let Some(gpu) = gpu("gpu_idle") else { return };
    suite::idle(&gpu);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_stop_returns_within_a_millisecond_of_draining() {
    let Some(gpu) = gpu("gpu_stop") else { return };
    suite::stop_drains(&gpu, Some(Duration::from_millis(1)));
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_eight_actors_in_one_launch_keep_their_own_state() {
    let Some(gpu) = gpu("gpu_many") else { return };
    suite::many(&gpu, 8);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_a_fault_dead_letters_the_message_and_spares_the_others() {
    let Some(gpu) = gpu("gpu_fault") else { return };
    suite::fault(&gpu);
}
