//! The mbarrier K2K inboxes (`device-lib/cuda/rk_k2k_mbar.cuh`) with the
//! hand-written kernels of `k2k_mbar/k2k_mbar_tests.cu`, at the
//! shared-memory (cta) and DSMEM (cluster) tiers: 128 producer threads × 8
//! messages into one multi-producer inbox (every payload exactly once,
//! untorn, in each producer's order; with a slow consumer and a small
//! inbox, try-reserve fails instead of overwriting), the same for a single
//! producer, and a ping-pong per tier and producer kind, every word checked.
//!
//! In CI (no GPU): the kernels compile with NVRTC and assemble for sm_90
//! without spills, their PTX hands slots over with mbarriers and uses no
//! acquire/release/relaxed/volatile loads or stores anywhere. The GPU tests
//! are `#[ignore]`d; on a GPU machine:
//! `RINGKERNEL_REQUIRE_GPU=1 cargo test -p ringkernel-runtime --test k2k_mbar -- --include-ignored`,
//! and under racecheck (the bar), the test binary itself:
//! `compute-sanitizer --tool racecheck --racecheck-report all BIN --include-ignored --test-threads=1`.

use std::ffi::c_void;

use ringkernel_runtime::testing::gpu_runtime;
use ringkernel_runtime::{Compiler, CudaSource, DeviceBuffer, Runtime};
use ringkernel_toolchain::{assemble, require_nvrtc, Arch, CudaTools, Target};

mod k2k_log;
use k2k_log::{check_log, device_ptr, wait};

const KERNELS: &str = include_str!("k2k_mbar/k2k_mbar_tests.cu");
const PRODUCERS: u32 = 128;
const MSGS: u32 = 8;

fn source() -> CudaSource {
    CudaSource {
        name: "k2k_mbar_tests".into(),
        source: KERNELS.into(),
        headers: Vec::new(),
        options: Vec::new(),
    }
    .with_device_lib()
}

const KERNEL_NAMES: [&str; 6] = [
    "k2k_mbar_mp_cta",
    "k2k_mbar_mp_cluster",
    "k2k_mbar_sp_cta",
    "k2k_mbar_sp_cluster",
    "k2k_mbar_pp_cta",
    "k2k_mbar_pp_cluster",
];

#[test]
fn the_test_kernels_hand_over_with_mbarriers_and_assemble_for_sm_90_without_spills() {
    let Some(_) = require_nvrtc("k2k mbarrier test kernels") else {
        return;
    };
    let image = Compiler::without_cache()
        .compile(&source(), Target::Ptx(Arch::SM_90))
        .unwrap_or_else(|e| panic!("{e}"));
    let ptx = String::from_utf8(image.image).expect("PTX is text");
    for instruction in [
        "mbarrier.init.shared::cta.b64",
        "fence.mbarrier_init.release.cluster",
        "mbarrier.arrive.release.cta.shared::cta.b64",
        "mbarrier.arrive.release.cluster.shared::cluster.b64",
        "mapa.shared::cluster.u32",
        "mbarrier.try_wait.parity.acquire.cta.shared::cta.b64",
        "mbarrier.try_wait.parity.acquire.cluster.shared::cta.b64",
        "mbarrier.test_wait.parity.acquire.cta.shared::cta.b64",
        "mbarrier.test_wait.parity.acquire.cluster.shared::cta.b64",
        "atom.relaxed.cta.cas.b64",
        "atom.relaxed.cluster.cas.b64",
        "atom.acquire.cta.add.u64",
        "atom.acquire.cluster.add.u64",
        "red.release.cta.add.u64",
        "red.release.cluster.add.u64",
    ] {
        assert!(ptx.contains(instruction), "the PTX lacks `{instruction}`");
    }
    // Racecheck flags every shared-memory handoff built from these (see
    // RACE1_RESULT.txt): none may appear, on the slots or anywhere else.
    for forbidden in [
        "ld.acquire",
        "st.release",
        "ld.relaxed",
        "st.relaxed",
        "ld.volatile",
        "st.volatile",
        "fence.acq_rel",
        "fence.sc",
    ] {
        assert!(
            !ptx.contains(forbidden),
            "the PTX has `{forbidden}`: a handoff racecheck cannot see"
        );
    }
    let tools = CudaTools::locate().expect("located by require_nvrtc");
    let report = assemble(tools.ptxas().expect("ptxas"), &ptx, Arch::SM_90)
        .unwrap_or_else(|e| panic!("{e}"));
    for kernel in KERNEL_NAMES {
        let f = report
            .function(kernel)
            .unwrap_or_else(|| panic!("no report for {kernel}:\n{}", report.raw));
        assert!(f.entry, "{kernel}");
        assert!(!f.spills(), "{kernel} spills: {f:?}\n{}", report.raw);
        eprintln!("{kernel}: {f:?}");
    }
}

#[test]
fn the_log_check_rejects_loss_duplicates_tears_and_reordering() {
    k2k_log::check_rejects_loss_duplicates_tears_and_reordering();
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tier {
    Cta,
    Cluster,
}

/// How a fan-in run sends and consumes (the kernels' parameters).
#[derive(Clone, Copy, Debug)]
struct Run {
    capacity: u32,
    /// 0: blocking reserve; 1: try-reserve retried, failures counted.
    mode: u32,
    delay_ns: u32,
    /// Many producers (`k2k_mbar_mp_*`) or one (`k2k_mbar_sp_*`).
    multi_producer: bool,
}

/// One fan-in run: (log, counters). Many producers: 128 threads × `MSGS`;
/// one producer: `PRODUCERS * MSGS` messages.
fn fan_in(rt: &Runtime, tier: Tier, r: Run) -> (Vec<u32>, Vec<u32>) {
    let (module, _) = rt.load_module(&source()).unwrap();
    let stream = rt.new_stream().unwrap();
    let log: DeviceBuffer<u32> = rt.alloc_zeroed((PRODUCERS * MSGS) as usize).unwrap();
    let counters: DeviceBuffer<u32> = rt.alloc_zeroed(4).unwrap();
    let (mut log_p, mut counters_p) = (device_ptr(&log), device_ptr(&counters));
    let msgs = if r.multi_producer {
        MSGS
    } else {
        PRODUCERS * MSGS
    };
    let (mut capacity, mut msgs, mut mode, mut delay) = (r.capacity, msgs, r.mode, r.delay_ns);
    let mut params: Vec<*mut c_void> = vec![
        (&raw mut capacity).cast(),
        (&raw mut msgs).cast(),
        (&raw mut mode).cast(),
        (&raw mut delay).cast(),
        (&raw mut log_p).cast(),
        (&raw mut counters_p).cast(),
    ];
    let what = format!("{tier:?} {r:?}");
    let kind = if r.multi_producer { "mp" } else { "sp" };
    // SAFETY: the parameters match each kernel's C signature; every buffer
    // lives until the kernel has finished (waited on below).
    let handle = unsafe {
        match tier {
            Tier::Cta => {
                let f = module.function(&format!("k2k_mbar_{kind}_cta")).unwrap();
                let threads = if r.multi_producer { 32 + PRODUCERS } else { 64 };
                rt.launch_raw(&f, [1, 1, 1], [threads, 1, 1], 0, &stream, &mut params)
            }
            Tier::Cluster => {
                let f = module
                    .function(&format!("k2k_mbar_{kind}_cluster"))
                    .unwrap();
                let blocks = if r.multi_producer { 5 } else { 2 };
                rt.launch_raw_cluster(
                    &f,
                    [blocks, 1, 1],
                    [32, 1, 1],
                    [blocks, 1, 1],
                    0,
                    &stream,
                    &mut params,
                )
            }
        }
    }
    .unwrap_or_else(|e| panic!("{what}: {e}"));
    wait(&handle, &what);
    (log.to_vec().unwrap(), counters.to_vec().unwrap())
}

fn check(tier: Tier, r: Run, log: &[u32], c: &[u32]) {
    let (producers, msgs) = if r.multi_producer {
        (PRODUCERS, MSGS)
    } else {
        (1, PRODUCERS * MSGS)
    };
    assert_eq!(c[2], producers, "{tier:?} {r:?}: producers finished");
    assert_eq!(c[0], PRODUCERS * MSGS, "{tier:?} {r:?}: received");
    check_log(log, producers, msgs).unwrap_or_else(|e| panic!("{tier:?} {r:?}: {e}"));
}

fn exactly_once(tier: Tier) {
    let Some(rt) = gpu_runtime(&format!("k2k mbarrier exactly once, {tier:?}")) else {
        return;
    };
    for multi_producer in [true, false] {
        for mode in [0, 1] {
            let r = Run {
                capacity: 16,
                mode,
                delay_ns: 0,
                multi_producer,
            };
            let (log, c) = fan_in(&rt, tier, r);
            check(tier, r, &log, &c);
            eprintln!(
                "{tier:?} {r:?}: 1024 messages exactly once, untorn ({} full try-reserves)",
                c[1]
            );
        }
    }
}

fn full_never_overwrites(tier: Tier) {
    let Some(rt) = gpu_runtime(&format!("k2k mbarrier full inbox, {tier:?}")) else {
        return;
    };
    // Four slots, producers racing with try-reserve, a consumer that sleeps
    // 2 µs after each message: the inbox is full most of the time.
    for multi_producer in [true, false] {
        let r = Run {
            capacity: 4,
            mode: 1,
            delay_ns: 2_000,
            multi_producer,
        };
        let (log, c) = fan_in(&rt, tier, r);
        check(tier, r, &log, &c);
        assert!(
            c[1] > 0,
            "{tier:?} {r:?}: no try-reserve found the inbox full"
        );
        eprintln!(
            "{tier:?} {r:?}: {} try-reserve failures (full), nothing lost or overwritten",
            c[1]
        );
    }
}

/// A ping-pong of `n` round trips: (bad messages, received messages).
fn ping_pong(rt: &Runtime, tier: Tier, capacity: u32, n: u32, mp: bool) -> (u32, u32) {
    let (module, _) = rt.load_module(&source()).unwrap();
    let stream = rt.new_stream().unwrap();
    let counters: DeviceBuffer<u32> = rt.alloc_zeroed(4).unwrap();
    let mut counters_p = device_ptr(&counters);
    let (mut capacity, mut n, mut mp) = (capacity, n, u32::from(mp));
    let mut params: Vec<*mut c_void> = vec![
        (&raw mut capacity).cast(),
        (&raw mut n).cast(),
        (&raw mut mp).cast(),
        (&raw mut counters_p).cast(),
    ];
    let what = format!("ping-pong {tier:?} capacity {capacity} mp {mp}");
    // SAFETY: as in `fan_in`.
    let handle = unsafe {
        match tier {
            Tier::Cta => {
                let f = module.function("k2k_mbar_pp_cta").unwrap();
                rt.launch_raw(&f, [1, 1, 1], [64, 1, 1], 0, &stream, &mut params)
            }
            Tier::Cluster => {
                let f = module.function("k2k_mbar_pp_cluster").unwrap();
                rt.launch_raw_cluster(
                    &f,
                    [2, 1, 1],
                    [32, 1, 1],
                    [2, 1, 1],
                    0,
                    &stream,
                    &mut params,
                )
            }
        }
    }
    .unwrap_or_else(|e| panic!("{what}: {e}"));
    wait(&handle, &what);
    let c = counters.to_vec().unwrap();
    (c[0], c[1])
}

#[test]
#[ignore = "needs a CUDA GPU"]
fn cta_tier_delivers_every_message_exactly_once() {
    exactly_once(Tier::Cta);
}

#[test]
#[ignore = "needs a CUDA GPU"]
fn cluster_tier_delivers_every_message_exactly_once() {
    exactly_once(Tier::Cluster);
}

#[test]
#[ignore = "needs a CUDA GPU"]
fn cta_tier_full_inbox_never_overwrites() {
    full_never_overwrites(Tier::Cta);
}

#[test]
#[ignore = "needs a CUDA GPU"]
fn cluster_tier_full_inbox_never_overwrites() {
    full_never_overwrites(Tier::Cluster);
}

/// Both tiers, both producer kinds, capacities 1 (every send waits for the
/// previous message's consumption), 2 and 16; 2 000 round trips each (kept
/// short so the racecheck run stays quick), every word checked.
#[test]
#[ignore = "needs a CUDA GPU"]
fn ping_pong_delivers_every_message_intact_on_both_tiers() {
    let Some(rt) = gpu_runtime("k2k mbarrier ping-pong") else {
        return;
    };
    const N: u32 = 2_000;
    for tier in [Tier::Cta, Tier::Cluster] {
        for capacity in [1, 2, 16] {
            for mp in [false, true] {
                let (bad, received) = ping_pong(&rt, tier, capacity, N, mp);
                assert_eq!(
                    received,
                    2 * N,
                    "{tier:?} capacity {capacity} mp {mp}: received"
                );
                assert_eq!(bad, 0, "{tier:?} capacity {capacity} mp {mp}: bad messages");
            }
        }
    }
}
