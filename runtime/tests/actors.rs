//! The persistent actor, end to end through the typed handle: bursts with
//! FIFO and exact counts, idle actors, stop, correlation ids, HLC order,
//! several actors per launch, and a soft fault with its Rust location.
//! Every check runs on the CPU backend here (CI) and on the GPU in
//! `gpu_actors.rs`, through the same suite.

#[path = "actors/suite.rs"]
mod suite;

use ringkernel_runtime::Runtime;
use suite::Spawn;

fn cpu() -> Runtime {
    Runtime::cpu()
}

#[test]
fn bursts_are_answered_exactly_once_in_order() {
    suite::bursts(&cpu(), 10_000);
}

#[test]
fn an_idle_actor_processes_nothing() {
    suite::idle(&cpu());
}

#[test]
fn stop_drains_the_inbox_then_terminates() {
    suite::stop_drains(&cpu(), None);
}

#[test]
fn eight_actors_in_one_launch_keep_their_own_state() {
    suite::many(&cpu(), 8);
}

#[test]
fn a_fault_dead_letters_the_message_and_spares_the_others() {
    suite::fault(&cpu());
}

#[test]
fn streamed_batches_are_answered_exactly_once_in_order() {
    let mut options = suite::options();
    options.inbox_capacity = 1024;
    options.outbox_capacity = 1024;
    let cpu = cpu();
    let actor = cpu.spawn_echo(1, &options).remove(0);
    suite::stream(&actor, 3_000);
    actor.stop().unwrap();
    for name in suite::STATELESS {
        let actor = suite::spawn_stateless(&cpu, name, &options);
        suite::stream(&actor, 3_000);
        actor.stop().unwrap();
    }
}

#[test]
fn a_fault_in_a_batch_stops_it_there_and_a_restart_resumes_it() {
    let cpu = cpu();
    suite::stream_fault(&cpu.spawn_echo(1, &suite::options()).remove(0));
    for name in suite::STATELESS {
        suite::stream_fault(&suite::spawn_stateless(&cpu, name, &suite::options()));
    }
}

#[test]
fn foreign_envelopes_are_rejected_in_order_and_the_actor_goes_on() {
    let cpu = cpu();
    suite::rejects_foreign_envelopes(&cpu.spawn_echo(1, &suite::options()).remove(0));
    for name in suite::STATELESS {
        suite::rejects_foreign_envelopes(&suite::spawn_stateless(&cpu, name, &suite::options()));
    }
}

#[test]
fn stamps_carry_over_when_the_logical_counter_runs_out() {
    let cpu = cpu();
    suite::clock_runs_into_the_logical_limit(
        &cpu.spawn_echo(1, &suite::options()).remove(0),
        4,
        64,
    );
    for name in suite::STATELESS {
        suite::clock_runs_into_the_logical_limit(
            &suite::spawn_stateless(&cpu, name, &suite::options()),
            4,
            64,
        );
    }
}

#[test]
fn calls_one_at_a_time_are_answered_and_a_faulting_one_is_dead_lettered_once() {
    let cpu = cpu();
    suite::calls_one_at_a_time(&cpu.spawn_echo(1, &suite::options()).remove(0), 200);
    for name in suite::STATELESS {
        suite::calls_one_at_a_time(&suite::spawn_stateless(&cpu, name, &suite::options()), 200);
    }
}

#[test]
fn the_supervisor_restarts_faulted_actors_by_policy() {
    suite::supervised(&cpu());
}

#[test]
fn a_handler_that_never_returns_is_reported_hung() {
    suite::hang(&cpu());
}

#[test]
fn stopping_a_failed_actor_dead_letters_its_queue() {
    suite::stop_while_failed(&cpu());
}

#[test]
fn packed_warp_actors_answer_their_own_messages_and_survive_a_neighbours_fault() {
    suite::packed_warps(&cpu(), 8, 8);
}

#[test]
fn only_warp_actors_share_a_block() {
    suite::packing_is_checked(&cpu());
}

#[test]
fn warp_actors_pass_the_suite() {
    let cpu = cpu();
    suite::warp_suite(&suite::WarpEcho(&cpu), 3_000);
}
