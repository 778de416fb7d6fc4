//! Actor systems on the CPU backend (CI): handlers sending to each other
//! through K2K inboxes, under each placement (the CPU runs the same
//! protocol whatever the tier; under `Placement::Block` the handlers are
//! the same ones as warp actors). The same suite runs on the GPU in
//! `gpu_k2k_actors.rs`.

#[path = "k2k_actors/suite.rs"]
mod suite;

use ringkernel_runtime::actor::{ActorError, ClusterLimit, Placement, PlacementError};
use ringkernel_runtime::{Error, Runtime};

const PLACEMENTS: [Placement; 3] = [Placement::Gpu, Placement::Cluster, Placement::Block];

#[test]
fn fan_in_delivers_every_payload_exactly_once_through_a_small_inbox() {
    // 16 producers x 64 items = 1,024 through a 4-slot inbox (backpressure).
    suite::fan_in(&Runtime::cpu(), Placement::Gpu, 16, 64, 4);
}

#[test]
fn fan_in_128_producers_x_8_exactly_once() {
    // The shape: 128 producer actors (threads here) x 8 messages
    // into one 8-slot inbox.
    suite::fan_in(&Runtime::cpu(), Placement::Gpu, 128, 8, 8);
}

#[test]
fn a_sender_switching_ports_reaches_each_destination_with_its_own_items() {
    for placement in PLACEMENTS {
        suite::split_by_port(&Runtime::cpu(), placement, 301);
    }
}

#[test]
fn cluster_fan_in_7_producers_exactly_once_through_a_full_inbox() {
    // The largest fan-in a portable cluster holds: 7 producers + 1
    // collector, 256 items each (1,792) through 8 slots (backpressure).
    suite::fan_in(&Runtime::cpu(), Placement::Cluster, 7, 256, 8);
}

#[test]
fn block_fan_in_7_warp_producers_exactly_once_through_a_full_inbox() {
    // The largest fan-in one block of warp actors holds: 7 producers + 1
    // collector, 256 items each (1,792) through 8 slots (backpressure).
    suite::fan_in(&Runtime::cpu(), Placement::Block, 7, 256, 8);
}

#[test]
fn block_placement_mistakes_are_errors() {
    suite::block_placement_errors(&Runtime::cpu());
}

#[test]
fn a_warp_actors_send_on_an_unwired_port_faults_at_its_line() {
    suite::warp_unrouted_send_faults(&Runtime::cpu());
}

#[test]
fn warp_actors_that_faulted_stop_every_time() {
    for explicit in [false, true] {
        let rt = Runtime::cpu();
        suite::stop_while_senders_wait(&rt, Placement::Gpu);
        suite::warp_faults_then_stops(&rt, explicit);
    }
}

#[test]
fn stop_drains_every_stage() {
    for placement in PLACEMENTS {
        suite::stop_drains(&Runtime::cpu(), placement);
    }
}

#[test]
fn a_send_to_a_stopped_actor_is_undeliverable() {
    for placement in PLACEMENTS {
        suite::send_to_a_stopped_actor_is_undeliverable(&Runtime::cpu(), placement);
    }
}

#[test]
fn a_stop_racing_waiting_senders_strands_nothing() {
    for placement in PLACEMENTS {
        suite::stop_while_senders_wait(&Runtime::cpu(), placement);
    }
}

#[test]
fn a_send_on_an_unwired_port_faults_at_its_line() {
    suite::unrouted_send_faults(&Runtime::cpu());
}

#[test]
fn wiring_mistakes_are_errors() {
    for placement in PLACEMENTS {
        suite::wiring_errors(&Runtime::cpu(), placement);
    }
}

#[test]
fn placement_mistakes_are_errors() {
    suite::placement_errors(&Runtime::cpu());
}

/// The CPU backend has no device to ask, so it holds a cluster-placed
/// system to the portable 8 blocks (what every cluster-capable GPU runs):
/// 9 actors are refused, 8 start.
#[test]
fn the_cpu_backend_holds_clusters_to_the_portable_size() {
    let rt = Runtime::cpu();
    let build = |actors: u32| {
        let mut b = rt.system();
        b.placement(Placement::Cluster);
        let c = b
            .actor::<suite::Stamped, suite::Receipt, suite::Tally>(
                &suite::kernel("collect"),
                suite::Tally::default(),
                &suite::collect_options(),
            )
            .unwrap();
        for _ in 1..actors {
            let f = b
                .actor::<suite::Work, (), ()>(
                    &suite::kernel("forward"),
                    (),
                    &suite::forward_options(),
                )
                .unwrap();
            b.connect(f, 0, c).unwrap();
        }
        b.start()
    };
    match build(9).map(|_| ()).unwrap_err() {
        Error::Actor(ActorError::Placement(e)) => assert_eq!(
            e,
            PlacementError::TooManyActors {
                actors: 9,
                limit: 8,
                why: ClusterLimit::Portable
            }
        ),
        other => panic!("expected a placement error, got {other}"),
    }
    let system = build(8).expect("8 actors fit a portable cluster");
    system
        .stop(std::time::Duration::from_secs(10))
        .expect("stop");
}

#[test]
fn try_send_floods_a_small_inbox_and_only_what_it_took_arrives() {
    // 4 producers x 4 bursts x 64 offers into a 4-slot inbox drained slowly.
    for placement in PLACEMENTS {
        suite::try_send_flood(&Runtime::cpu(), placement, 4, 4, 4);
    }
}

#[test]
fn try_send_to_a_stopped_actor_faults_undeliverable_at_its_line() {
    for placement in PLACEMENTS {
        suite::try_send_to_a_stopped_actor_faults(&Runtime::cpu(), placement);
    }
}

#[test]
fn a_failed_actor_dead_letters_its_k2k_queue_when_stopped() {
    for placement in PLACEMENTS {
        suite::failed_actor_dead_letters_its_k2k_queue(&Runtime::cpu(), placement);
    }
}

#[test]
fn a_chain_through_a_relay_delivers_every_item_once_in_causal_order() {
    for placement in PLACEMENTS {
        suite::relay_chain(&Runtime::cpu(), placement, 3000);
    }
}

#[test]
fn a_relay_that_faults_dead_letters_the_item_and_its_queue() {
    for placement in PLACEMENTS {
        suite::relay_fault_dead_letters(&Runtime::cpu(), placement);
    }
}
