//! Actor systems on the CPU backend (CI): handlers sending to each other
//! through K2K inboxes. The same suite runs on the GPU in `gpu_k2k_actors.rs`.

#[path = "k2k_actors/suite.rs"]
mod suite;

use ringkernel_runtime::Runtime;

#[test]
fn fan_in_delivers_every_payload_exactly_once_through_a_small_inbox() {
    // 16 producers x 64 items = 1,024 through a 4-slot inbox (backpressure).
    suite::fan_in(&Runtime::cpu(), 16, 64, 4);
}

#[test]
fn fan_in_128_producers_x_8_exactly_once() {
    // The shape: 128 producer actors (threads here) x 8 messages
    // into one 8-slot inbox.
    suite::fan_in(&Runtime::cpu(), 128, 8, 8);
}

#[test]
fn stop_drains_every_stage() {
    suite::stop_drains(&Runtime::cpu());
}

#[test]
fn a_send_on_an_unwired_port_faults_at_its_line() {
    suite::unrouted_send_faults(&Runtime::cpu());
}

#[test]
fn wiring_mistakes_are_errors() {
    suite::wiring_errors(&Runtime::cpu());
}

#[test]
fn try_send_floods_a_small_inbox_and_only_what_it_took_arrives() {
    // 4 producers x 4 bursts x 64 offers into a 4-slot inbox drained slowly.
    suite::try_send_flood(&Runtime::cpu(), 4, 4, 4);
}

#[test]
fn try_send_to_a_stopped_actor_faults_undeliverable_at_its_line() {
    suite::try_send_to_a_stopped_actor_faults(&Runtime::cpu());
}
