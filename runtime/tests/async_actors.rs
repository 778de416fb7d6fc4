//! The async actor API (feature `async`, enabled for the tests by the
//! crate's dev-dependency on itself) on the CPU backend: many concurrent
//! `call_async`s from tokio tasks, ordering and correlation, faults as
//! errors, stop and hangs while awaiting. The same suite runs on the GPU in
//! `gpu_async_actors.rs`.

#[path = "actors/suite.rs"]
mod suite;

#[path = "actors/async_suite.rs"]
mod async_suite;

use ringkernel_runtime::Runtime;

fn cpu() -> Runtime {
    Runtime::cpu()
}

#[test]
fn many_concurrent_async_calls_each_get_their_own_reply() {
    async_suite::concurrent_calls(&cpu(), 3, 48, 40);
}

#[test]
fn async_streams_are_ordered_and_a_recv_waits_for_a_message() {
    async_suite::ordered_stream(&cpu(), 2_000);
}

#[test]
fn async_faults_surface_as_errors() {
    async_suite::faults(&cpu());
}

#[test]
fn stop_while_awaiting_resolves_to_stopped() {
    async_suite::stop_while_awaiting(&cpu());
}

#[test]
fn an_async_call_behind_a_hung_message_fails_hung() {
    async_suite::hang(&cpu());
}
