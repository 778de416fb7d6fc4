//! The persistent actor, end to end through the typed handle: bursts with
//! FIFO and exact counts, idle actors, stop, correlation ids, HLC order,
//! several actors per launch, and a soft fault with its Rust location.
//! Every check runs on the CPU backend here (CI) and on the GPU in
//! `gpu_actors.rs`, through the same suite.

#[path = "actors/suite.rs"]
mod suite;

use ringkernel_runtime::actor::SpawnOptions;
use ringkernel_runtime::Runtime;
use suite::{Counter, Ping, Pong, Spawn};

struct Cpu;

impl Spawn for Cpu {
    fn spawn(
        &self,
        count: u32,
        options: &SpawnOptions,
    ) -> Vec<ringkernel_runtime::actor::Actor<Ping, Pong, Counter>> {
        Runtime::cpu()
            .spawn(&suite::kernel(), count, Counter::default(), options)
            .expect("spawn on the CPU backend")
    }
}

#[test]
fn bursts_are_answered_exactly_once_in_order() {
    suite::bursts(&Cpu, 10_000);
}

#[test]
fn an_idle_actor_processes_nothing() {
    suite::idle(&Cpu);
}

#[test]
fn stop_drains_the_inbox_then_terminates() {
    suite::stop_drains(&Cpu, None);
}

#[test]
fn eight_actors_in_one_launch_keep_their_own_state() {
    suite::many(&Cpu, 8);
}

#[test]
fn a_fault_dead_letters_the_message_and_spares_the_others() {
    suite::fault(&Cpu);
}
