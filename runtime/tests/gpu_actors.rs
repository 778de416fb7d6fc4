//! The actor suite of `actors.rs` on a real GPU: the persistent kernel the
//! CUDA back end writes, launched with one block per actor, fed through
//! mapped pinned memory. `#[ignore]`d here (no GPU in CI); run on the GPU
//! machine with `--include-ignored` and `RINGKERNEL_REQUIRE_GPU=1`.

#[path = "actors/suite.rs"]
mod suite;

use std::time::Duration;

use ringkernel_runtime::testing::gpu_runtime;
use ringkernel_runtime::Runtime;
use suite::Spawn;

fn gpu(test: &str) -> Option<Runtime> {
    gpu_runtime(test)
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

#[test]
#[ignore = "needs a GPU"]
fn gpu_the_supervisor_restarts_faulted_actors_by_policy() {
    let Some(gpu) = gpu("gpu_supervised") else {
        return;
    };
    suite::supervised(&gpu);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_streamed_batches_are_answered_exactly_once_in_order() {
    let Some(gpu) = gpu("gpu_stream") else { return };
    let mut options = suite::options();
    options.inbox_capacity = 1024;
    options.outbox_capacity = 1024;
    let actor = gpu.spawn_echo(1, &options).remove(0);
    suite::stream(&actor, 200_000);
    actor.stop().unwrap();
    for name in suite::STATELESS {
        let actor = suite::spawn_stateless(&gpu, name, &options);
        suite::stream(&actor, 200_000);
        actor.stop().unwrap();
    }
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_a_fault_in_a_batch_stops_it_there_and_a_restart_resumes_it() {
    let Some(gpu) = gpu("gpu_stream_fault") else {
        return;
    };
    suite::stream_fault(&gpu.spawn_echo(1, &suite::options()).remove(0));
    for name in suite::STATELESS {
        suite::stream_fault(&suite::spawn_stateless(&gpu, name, &suite::options()));
    }
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_calls_one_at_a_time_are_answered_and_a_faulting_one_is_dead_lettered_once() {
    let Some(gpu) = gpu("gpu_calls_one_at_a_time") else {
        return;
    };
    suite::calls_one_at_a_time(&gpu.spawn_echo(1, &suite::options()).remove(0), 2_000);
    for name in suite::STATELESS {
        suite::calls_one_at_a_time(
            &suite::spawn_stateless(&gpu, name, &suite::options()),
            2_000,
        );
    }
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_foreign_envelopes_are_rejected_in_order_and_the_actor_goes_on() {
    let Some(gpu) = gpu("gpu_foreign_envelopes") else {
        return;
    };
    suite::rejects_foreign_envelopes(&gpu.spawn_echo(1, &suite::options()).remove(0));
    for name in suite::STATELESS {
        suite::rejects_foreign_envelopes(&suite::spawn_stateless(&gpu, name, &suite::options()));
    }
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_stamps_carry_over_when_the_logical_counter_runs_out() {
    let Some(gpu) = gpu("gpu_logical_limit") else {
        return;
    };
    suite::clock_runs_into_the_logical_limit(
        &gpu.spawn_echo(1, &suite::options()).remove(0),
        8,
        200,
    );
    for name in suite::STATELESS {
        suite::clock_runs_into_the_logical_limit(
            &suite::spawn_stateless(&gpu, name, &suite::options()),
            8,
            200,
        );
    }
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_stopping_a_failed_actor_dead_letters_its_queue() {
    let Some(gpu) = gpu("gpu_stop_while_failed") else {
        return;
    };
    suite::stop_while_failed(&gpu);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_packed_warp_actors_answer_their_own_messages_and_survive_a_neighbours_fault() {
    let Some(gpu) = gpu("gpu_packed_warps") else {
        return;
    };
    // Eight warp actors in one block of 256 threads.
    suite::packed_warps(&gpu, 8, 8);
    // Twenty in blocks of eight: the last block holds four.
    suite::packed_warps(&gpu, 20, 8);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_only_warp_actors_share_a_block() {
    let Some(gpu) = gpu("gpu_packing") else {
        return;
    };
    suite::packing_is_checked(&gpu);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_warp_actors_pass_the_suite() {
    let Some(gpu) = gpu("gpu_warp_suite") else {
        return;
    };
    suite::warp_suite(&suite::WarpEcho(&gpu), 200_000);
}
