//! The K2K suites' actor systems are checked here, in CI, where their GPU
//! twins (`gpu_k2k_actors.rs`) never run: every system the suite
//! (`k2k_actors/suite.rs`, run by `k2k_actors.rs` on the CPU backend and by
//! `gpu_k2k_actors.rs` on a GPU) starts, under each placement it starts it
//! in, has its system kernel taken from `SystemBuilder::cuda_source` (what
//! `SystemBuilder::start` compiles on a GPU), compiled with NVRTC and
//! assembled for sm_90 with ptxas without spills, and checked to be the
//! system asked for (its entry symbol) at the placement's tier (the scope
//! of its K2K claims and handovers: `k2k_sources/check.rs`).
//!
//! Only the handlers a system combines, their order and the placement
//! decide its kernel (`compose_system_tiered` takes one role per distinct
//! handler; the number of actors, the inbox capacity and the spawn options
//! are launch parameters), so each combination is compiled once per
//! placement however many scenarios start it. The scenarios whose systems
//! `start` refuses (`wiring_errors`, `placement_errors`,
//! `block_placement_errors`) compose no kernel, and the unrouted-send ones
//! spawn lone actors (actor modules, not system kernels), so neither is
//! here. The one spill ptxas reports today (the block tier's drain + flood)
//! is recorded in `KNOWN_SPILLS` and held to exactly its bytes.

#[path = "k2k_sources/check.rs"]
mod check;
#[path = "k2k_actors/suite.rs"]
mod suite;

use std::time::Instant;

use ringkernel_runtime::actor::{ActorError, Placement, PlacementError, SystemBuilder};
use ringkernel_runtime::{Error, Runtime};
use ringkernel_toolchain::require_nvrtc;

use check::KnownSpill;
use suite::{
    add_collector, add_drain, add_flooder, add_forwarder, add_picky, add_relay_chain, add_splitter,
    forward_options, kernel, Work,
};

/// Every placement the suite starts each of its systems in (`k2k_actors.rs`
/// and `gpu_k2k_actors.rs` run every scenario under all three).
const PLACEMENTS: [Placement; 3] = [Placement::Gpu, Placement::Cluster, Placement::Block];

/// One combination of handlers the suite starts as a system.
struct SuiteSystem {
    /// The suite's scenarios (`k2k_actors/suite/*.rs`) that start it.
    scenarios: &'static [&'static str],
    /// Its roles: the handlers in order of first appearance (each scenario
    /// adds the receiver first, then its senders).
    roles: &'static [&'static str],
    /// Adds the receiver and its senders wired to it (two, or a chain),
    /// with the handlers of `kernel_in(placement, ..)`, the types and the
    /// options the scenarios use.
    add: fn(&mut SystemBuilder<'_>, Placement),
}

/// The one list of the suite's systems.
const SYSTEMS: [SuiteSystem; 5] = [
    SuiteSystem {
        scenarios: &[
            "fan_in",
            "stop_drains",
            "send_to_a_stopped_actor_is_undeliverable",
            "stop_while_senders_wait",
            "(k2k_actors.rs) the_cpu_backend_holds_clusters_to_the_portable_size",
        ],
        roles: &["collect", "forward"],
        add: collect_and_forwarders,
    },
    SuiteSystem {
        scenarios: &["try_send_flood", "try_send_to_a_stopped_actor_faults"],
        roles: &["drain", "flood"],
        add: drain_and_flooders,
    },
    SuiteSystem {
        scenarios: &["failed_actor_dead_letters_its_k2k_queue"],
        roles: &["picky", "forward"],
        add: picky_and_forwarders,
    },
    SuiteSystem {
        scenarios: &["split_by_port"],
        roles: &["collect", "split"],
        add: collectors_and_splitter,
    },
    SuiteSystem {
        scenarios: &["relay_chain", "relay_fault_dead_letters"],
        roles: &["collect", "relay", "forward"],
        add: collector_relay_and_forwarder,
    },
];

/// The spills ptxas reports in the suite's system kernels today (see
/// `check::KnownSpill`: held to exactly these bytes; delete an entry once
/// its spill is fixed, and the check is strict again).
// (None since ctx.send reads the leader's state and the descriptor as
// shared memory, RK_ACTOR_SEND_SHARED_STATE: the flood role of
// `rk_block_system_drain_flood` had spilled 4 bytes stored, 8 loaded.)
const KNOWN_SPILLS: &[KnownSpill] = &[];

fn collect_and_forwarders(b: &mut SystemBuilder<'_>, placement: Placement) {
    let collector = add_collector(b, placement);
    for _ in 0..2 {
        let f = add_forwarder(b, placement);
        b.connect(f, 0, collector).expect("wire");
    }
}

fn drain_and_flooders(b: &mut SystemBuilder<'_>, placement: Placement) {
    let drain = add_drain(b, placement, Some(4096));
    for _ in 0..2 {
        let f = add_flooder(b, placement);
        b.connect(f, 0, drain).expect("wire");
    }
}

fn collectors_and_splitter(b: &mut SystemBuilder<'_>, placement: Placement) {
    let collectors: Vec<_> = (0..2).map(|_| add_collector(b, placement)).collect();
    let s = add_splitter(b, placement);
    for (port, c) in collectors.into_iter().enumerate() {
        b.connect(s, port as u32, c).expect("wire");
    }
}

fn collector_relay_and_forwarder(b: &mut SystemBuilder<'_>, placement: Placement) {
    add_relay_chain(b, placement);
}

fn picky_and_forwarders(b: &mut SystemBuilder<'_>, placement: Placement) {
    let picky = add_picky(b, placement);
    for _ in 0..2 {
        let f = add_forwarder(b, placement);
        b.connect(f, 0, picky).expect("wire");
    }
}

/// Every system of the suite, under every placement: the kernel `start`
/// would compile compiles, assembles for sm_90 without spills, and is that
/// system's at that placement's tier. Prints ptxas' registers per system.
#[test]
fn the_k2k_suites_systems_compile_and_assemble_per_placement() {
    let Some(tools) = require_nvrtc("k2k_sources") else {
        return;
    };
    let rt = Runtime::cpu();
    let mut failed = Vec::new();
    let mut checked = 0;
    for system in &SYSTEMS {
        for placement in PLACEMENTS {
            let mut b = rt.system();
            b.placement(placement);
            (system.add)(&mut b, placement);
            let src = b
                .cuda_source()
                .unwrap_or_else(|e| panic!("{:?} ({placement:?}): {e}", system.roles));
            let symbol = check::system_symbol(placement, system.roles);
            let started = Instant::now();
            // Every system is checked, and every failure reported, before
            // the test fails.
            let result = std::panic::catch_unwind(|| {
                check::check_system_kernel(&tools, &src, &symbol, placement, KNOWN_SPILLS)
            });
            checked += 1;
            match result {
                Ok(entry) => eprintln!(
                    "{symbol}: {} registers, {} bytes stack, {} barriers; {:.1} s (scenarios: {})",
                    entry.registers,
                    entry.stack_frame_bytes,
                    entry.barriers,
                    started.elapsed().as_secs_f64(),
                    system.scenarios.join(", ")
                ),
                Err(_) => failed.push(symbol),
            }
        }
    }
    assert_eq!(checked, SYSTEMS.len() * PLACEMENTS.len());
    assert!(
        failed.is_empty(),
        "{} of {checked} system kernels failed (their panics are above): {failed:?}",
        failed.len()
    );
}

/// `cuda_source` refuses what `start` refuses before composing (so a
/// system it hands a kernel for is one `start` would compile): a port left
/// unwired, a warp actor outside a block, a block actor in one.
#[test]
fn cuda_source_refuses_what_start_refuses() {
    let rt = Runtime::cpu();
    let mut b = rt.system();
    b.actor::<Work, (), ()>(&kernel("forward"), (), &forward_options())
        .expect("forwarder");
    match b.cuda_source() {
        Err(Error::Actor(ActorError::Wiring { problem })) => {
            assert!(problem.contains("not wired"), "{problem}")
        }
        other => panic!("expected a wiring error, got {other:?}"),
    }
    for (placement, warp_handlers, expected) in [
        (
            Placement::Gpu,
            Placement::Block,
            PlacementError::WarpActorNeedsBlock {
                actor: 0,
                kernel: "collect".into(),
            },
        ),
        (
            Placement::Block,
            Placement::Gpu,
            PlacementError::NotWarpActor {
                actor: 0,
                kernel: "collect".into(),
            },
        ),
    ] {
        let mut b = rt.system();
        b.placement(placement);
        // The handlers of the other placement: warp actors in a block-per-actor system, block actors in a block.
        collect_and_forwarders(&mut b, warp_handlers);
        match b.cuda_source() {
            Err(Error::Actor(ActorError::Placement(e))) => assert_eq!(e, expected),
            other => panic!("{placement:?}: expected a placement error, got {other:?}"),
        }
    }
    let mut b = rt.system();
    collect_and_forwarders(&mut b, Placement::Gpu);
    assert_eq!(
        b.cuda_source().expect("a wired system").name,
        "rk_system_collect_forward"
    );
}
