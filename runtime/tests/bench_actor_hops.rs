//! The benchmark's actor-hop ping-pong (`benches/ringkernel/hop_system.rs`,
//! handlers `hops.rs`) run through the runtime: on the CPU backend under
//! every placement (CI), and on a GPU (`#[ignore]`d here; run on the GPU
//! machine with `--include-ignored` and `RINGKERNEL_REQUIRE_GPU=1`). The
//! check the benchmark relies on to refuse a wrong run is tested against
//! tampered results.

#[allow(dead_code)]
#[path = "../benches/ringkernel/hop_system.rs"]
mod hop_system;

use hop_system::{check, expected, Hop, HopError, HopSystem, PLACEMENTS};
use ringkernel_runtime::actor::Placement;
use ringkernel_runtime::testing::{gpu_runtime, patience};
use ringkernel_runtime::Runtime;

/// Runs of odd and even length on one system: each ends on the right actor
/// with the checksum the host computes, its times increasing. Every
/// placement is tried, and every failure reported, before the test fails.
fn runs_check_out(rt: &Runtime, hops: &[u32]) {
    let mut failed = Vec::new();
    for placement in PLACEMENTS {
        if let Err(e) = std::panic::catch_unwind(|| placement_checks_out(rt, placement, hops)) {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{placement:?}: {why}"));
        }
    }
    assert!(failed.is_empty(), "failed placements: {failed:#?}");
}

fn placement_checks_out(rt: &Runtime, placement: Placement, hops: &[u32]) {
    let system =
        HopSystem::start(rt, placement).unwrap_or_else(|e| panic!("{placement:?}: start: {e}"));
    for (i, &n) in hops.iter().enumerate() {
        let seed = 0xABCD_0000 + i as u64;
        let run = system
            .run(n, seed, patience(30))
            .unwrap_or_else(|e| panic!("{placement:?}, {n} hops: {e}"));
        assert_eq!(run.hops, n);
        // Physical time may stand still over a hop or two (HLC
        // logical ticks), not over many.
        assert!(run.span_ns > 0 || n < 100, "{placement:?}: no time passed");
        eprintln!(
            "{placement:?}: {n} hops, {:.0} ns per hop ({})",
            run.ns_per_hop(),
            if rt.is_cuda() {
                "GPU"
            } else {
                "CPU backend: means nothing"
            }
        );
    }
    system
        .stop()
        .unwrap_or_else(|e| panic!("{placement:?}: stop: {e}"));
}

#[test]
fn the_ping_pong_runs_and_checks_out_on_the_cpu_backend_under_every_placement() {
    runs_check_out(&Runtime::cpu(), &[1, 2, 301]);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_the_ping_pong_runs_and_checks_out_under_every_placement() {
    let Some(rt) = gpu_runtime("gpu_actor_hops") else {
        return;
    };
    runs_check_out(&rt, &[1, 2, 10_001, 100_000]);
}

/// A correct result for `hops` hops from `seed` on actors 0 and 1.
fn good(seed: u64, hops: u32) -> Hop {
    let (checksum, last_actor) = expected(seed, hops, 0, 1);
    Hop {
        left: 0,
        hops,
        checksum,
        first_ns: 1_000,
        first_logical: 3,
        last_logical: 0,
        last_ns: 1_000 + 700 * u64::from(hops),
        last_actor,
        pad: 0,
    }
}

#[test]
fn a_wrong_run_is_refused_never_timed() {
    let (seed, hops) = (7, 1_000);
    let ok = check(&good(seed, hops), seed, hops, 0, 1).expect("the good result passes");
    assert_eq!(ok.ns_per_hop(), 700.0);
    // The handler of hop k runs on A (0) for even k: 1,000 hops end on A.
    assert_eq!(good(seed, hops).last_actor, 0);
    assert_eq!(good(seed, hops + 1).last_actor, 1);
    type Tamper = fn(&mut Hop);
    let tampered: [(&str, Tamper); 8] = [
        ("a hop lost", |h| h.hops -= 1),
        ("hops left", |h| h.left = 1),
        ("the other actor last", |h| h.last_actor ^= 1),
        ("checksum", |h| h.checksum ^= 1 << 40),
        ("no first time", |h| h.first_ns = 0),
        ("time backwards", |h| h.last_ns = h.first_ns - 1),
        ("no time", |h| h.last_ns = h.first_ns),
        ("no later clock", |h| {
            h.last_ns = h.first_ns;
            h.last_logical = h.first_logical;
        }),
    ];
    for (what, tamper) in tampered {
        let mut h = good(seed, hops);
        tamper(&mut h);
        match check(&h, seed, hops, 0, 1) {
            Err(HopError::Wrong(_)) => {}
            other => panic!("{what}: expected a wrong run, got {other:?}"),
        }
    }
    // Physical time standing still is fine while the HLC moves on.
    let mut still = good(seed, hops);
    still.last_ns = still.first_ns;
    still.last_logical = still.first_logical + 1;
    assert_eq!(
        check(&still, seed, hops, 0, 1).expect("HLC later").span_ns,
        0
    );
    // The checksum covers the order of the actors, not just the count: the
    // same hops on swapped actors, or from another seed, differ.
    assert_ne!(expected(seed, hops, 0, 1).0, expected(seed, hops, 1, 0).0);
    assert_ne!(
        expected(seed, hops, 0, 1).0,
        expected(seed + 1, hops, 0, 1).0
    );
}
