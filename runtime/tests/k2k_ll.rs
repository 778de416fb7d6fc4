//! The low-latency K2K inbox (`device-lib/cuda/rk_k2k_ll.cuh`) with the
//! hand-written kernels of `k2k_ll/k2k_ll_tests.cu`: 128 producer threads ×
//! 8 messages into one inbox of 16 slots through the multi-producer
//! reserve (every payload exactly once, untorn, in each producer's order;
//! with a slow consumer the inbox fills and try-reserve fails instead of
//! overwriting), at the shared-memory (cta), DSMEM (cluster) and global
//! tiers; and a ping-pong between two warps at each tier, single-producer
//! routes and the warp multi-producer reserve, every word of every message
//! checked.
//!
//! In CI (no GPU): the kernels compile with NVRTC and assemble for sm_90
//! without spills, and the log checker rejects what it must. The GPU tests
//! are `#[ignore]`d; on a GPU machine:
//! `RINGKERNEL_REQUIRE_GPU=1 cargo test -p ringkernel-runtime --test k2k_ll -- --include-ignored`.

use std::ffi::c_void;

use ringkernel_device::k2k::K2kLlLayout;
use ringkernel_runtime::testing::gpu_runtime;
use ringkernel_runtime::{Compiler, CudaSource, DeviceBuffer, Runtime};
use ringkernel_toolchain::{assemble, require_nvrtc, Arch, CudaTools, Target};

mod k2k_log;
use k2k_log::{check_log, device_ptr, wait};

const KERNELS: &str = include_str!("k2k_ll/k2k_ll_tests.cu");
/// `LLT_MSG` and `LLT_PP_MSG` of the kernels.
const MSG: u32 = 128;
const PP_MSG: u32 = 256;
const PRODUCERS: u32 = 128;
const MSGS: u32 = 8;

fn source() -> CudaSource {
    CudaSource {
        name: "k2k_ll_tests".into(),
        source: KERNELS.into(),
        headers: Vec::new(),
        options: Vec::new(),
    }
    .with_device_lib()
}

#[test]
fn the_test_kernels_compile_and_assemble_for_sm_90_without_spills() {
    let Some(_) = require_nvrtc("k2k LL test kernels") else {
        return;
    };
    let image = Compiler::without_cache()
        .compile(&source(), Target::Ptx(Arch::SM_90))
        .unwrap_or_else(|e| panic!("{e}"));
    let ptx = String::from_utf8(image.image).expect("PTX is text");
    // Each tier's LL accesses are there at its scope, and no fence.
    for instruction in [
        "st.relaxed.cta.b64",
        "st.relaxed.cluster.b64",
        "st.relaxed.gpu.b64",
        "ld.relaxed.cta.shared.b64",
        "ld.relaxed.cluster.shared.b64",
        "ld.relaxed.gpu.global.b64",
        "atom.relaxed.cta.cas.b64",
        "atom.relaxed.cluster.cas.b64",
        "atom.relaxed.gpu.cas.b64",
        "vote.sync.all.pred",
        "mapa.u64",
    ] {
        assert!(ptx.contains(instruction), "the PTX lacks `{instruction}`");
    }
    assert!(!ptx.contains("fence."), "an LL kernel fences");
    let tools = CudaTools::locate().expect("located by require_nvrtc");
    let report = assemble(tools.ptxas().expect("ptxas"), &ptx, Arch::SM_90)
        .unwrap_or_else(|e| panic!("{e}"));
    for kernel in [
        "k2k_ll_mp_cta",
        "k2k_ll_mp_cluster",
        "k2k_ll_mp_gpu",
        "k2k_ll_pp_cta",
        "k2k_ll_pp_cluster",
        "k2k_ll_pp_gpu",
    ] {
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
    Gpu,
}

const TIERS: [Tier; 3] = [Tier::Cta, Tier::Cluster, Tier::Gpu];

/// How a many-producer run sends and consumes (the kernels' parameters).
#[derive(Clone, Copy, Debug)]
struct Run {
    capacity: u32,
    /// 0: blocking reserve; 1: try-reserve retried, failures counted.
    mode: u32,
    /// Consumer lanes: 32 (one word each) or 1 (lane 0 loads every word).
    lanes: u32,
    delay_ns: u32,
}

/// One many-producer run: (log, counters).
fn many_producers(rt: &Runtime, tier: Tier, r: Run) -> (Vec<u32>, Vec<u32>) {
    let (module, _) = rt.load_module(&source()).unwrap();
    let stream = rt.new_stream().unwrap();
    let log: DeviceBuffer<u32> = rt.alloc_zeroed((PRODUCERS * MSGS) as usize).unwrap();
    let counters: DeviceBuffer<u32> = rt.alloc_zeroed(4).unwrap();
    let layout = K2kLlLayout::new(r.capacity, MSG).unwrap();
    let inbox: DeviceBuffer<u8> = rt.upload(&layout.initial_image(0)).unwrap();
    let (mut log_p, mut counters_p, mut inbox_p) =
        (device_ptr(&log), device_ptr(&counters), device_ptr(&inbox));
    let (mut capacity, mut msgs, mut mode, mut lanes, mut delay) =
        (r.capacity, MSGS, r.mode, r.lanes, r.delay_ns);
    let mut params: Vec<*mut c_void> = vec![
        match tier {
            Tier::Gpu => (&raw mut inbox_p).cast(),
            _ => (&raw mut capacity).cast(),
        },
        (&raw mut msgs).cast(),
        (&raw mut mode).cast(),
        (&raw mut lanes).cast(),
        (&raw mut delay).cast(),
        (&raw mut log_p).cast(),
        (&raw mut counters_p).cast(),
    ];
    let what = format!("{tier:?} {r:?}");
    // SAFETY: the parameters match each kernel's C signature (first the
    // capacity, or the inbox's device address for the gpu tier); every
    // buffer lives until the kernel has finished (waited on below).
    let handle = unsafe {
        match tier {
            Tier::Cta => {
                let f = module.function("k2k_ll_mp_cta").unwrap();
                rt.launch_raw(
                    &f,
                    [1, 1, 1],
                    [32 + PRODUCERS, 1, 1],
                    0,
                    &stream,
                    &mut params,
                )
            }
            Tier::Cluster => {
                let f = module.function("k2k_ll_mp_cluster").unwrap();
                rt.launch_raw_cluster(
                    &f,
                    [5, 1, 1],
                    [32, 1, 1],
                    [5, 1, 1],
                    0,
                    &stream,
                    &mut params,
                )
            }
            Tier::Gpu => {
                let f = module.function("k2k_ll_mp_gpu").unwrap();
                rt.launch_raw(&f, [5, 1, 1], [32, 1, 1], 0, &stream, &mut params)
            }
        }
    }
    .unwrap_or_else(|e| panic!("{what}: {e}"));
    wait(&handle, &what);
    (log.to_vec().unwrap(), counters.to_vec().unwrap())
}

fn exactly_once(tier: Tier) {
    let Some(rt) = gpu_runtime(&format!("k2k LL exactly once, {tier:?}")) else {
        return;
    };
    for (mode, lanes) in [(0, 32), (1, 32), (0, 1)] {
        let r = Run {
            capacity: 16,
            mode,
            lanes,
            delay_ns: 0,
        };
        let (log, c) = many_producers(&rt, tier, r);
        assert_eq!(c[2], PRODUCERS, "{tier:?} {r:?}: producers finished");
        assert_eq!(c[0], PRODUCERS * MSGS, "{tier:?} {r:?}: received");
        check_log(&log, PRODUCERS, MSGS).unwrap_or_else(|e| panic!("{tier:?} {r:?}: {e}"));
        eprintln!(
            "{tier:?} {r:?}: 1024 messages exactly once, untorn ({} full try-reserves)",
            c[1]
        );
    }
}

fn full_never_overwrites(tier: Tier) {
    let Some(rt) = gpu_runtime(&format!("k2k LL full inbox, {tier:?}")) else {
        return;
    };
    // Four slots, 128 producers racing with try-reserve, a consumer that
    // sleeps 2 µs after each message.
    let r = Run {
        capacity: 4,
        mode: 1,
        lanes: 32,
        delay_ns: 2_000,
    };
    let (log, c) = many_producers(&rt, tier, r);
    assert_eq!(c[0], PRODUCERS * MSGS, "{tier:?} {r:?}: received");
    check_log(&log, PRODUCERS, MSGS).unwrap_or_else(|e| panic!("{tier:?} {r:?}: {e}"));
    assert!(
        c[1] > 0,
        "{tier:?} {r:?}: no try-reserve found the inbox full"
    );
    eprintln!(
        "{tier:?} {r:?}: {} try-reserve failures (full), nothing lost or overwritten",
        c[1]
    );
}

/// A ping-pong of `n` round trips: (bad messages, received messages).
fn ping_pong(rt: &Runtime, tier: Tier, capacity: u32, n: u32, mp: bool) -> (u32, u32) {
    let (module, _) = rt.load_module(&source()).unwrap();
    let stream = rt.new_stream().unwrap();
    let counters: DeviceBuffer<u32> = rt.alloc_zeroed(4).unwrap();
    let layout = K2kLlLayout::new(capacity, PP_MSG).unwrap();
    let q0: DeviceBuffer<u8> = rt.upload(&layout.initial_image(0)).unwrap();
    let q1: DeviceBuffer<u8> = rt.upload(&layout.initial_image(1)).unwrap();
    let (mut q0_p, mut q1_p, mut counters_p) =
        (device_ptr(&q0), device_ptr(&q1), device_ptr(&counters));
    let (mut capacity, mut n, mut mp) = (capacity, n, u32::from(mp));
    let mut params: Vec<*mut c_void> = match tier {
        Tier::Gpu => vec![
            (&raw mut q0_p).cast(),
            (&raw mut q1_p).cast(),
            (&raw mut n).cast(),
            (&raw mut mp).cast(),
            (&raw mut counters_p).cast(),
        ],
        _ => vec![
            (&raw mut capacity).cast(),
            (&raw mut n).cast(),
            (&raw mut mp).cast(),
            (&raw mut counters_p).cast(),
        ],
    };
    let what = format!("ping-pong {tier:?} capacity {capacity} mp {mp}");
    // SAFETY: as in `many_producers`.
    let handle = unsafe {
        match tier {
            Tier::Cta => {
                let f = module.function("k2k_ll_pp_cta").unwrap();
                rt.launch_raw(&f, [1, 1, 1], [64, 1, 1], 0, &stream, &mut params)
            }
            Tier::Cluster => {
                let f = module.function("k2k_ll_pp_cluster").unwrap();
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
            Tier::Gpu => {
                let f = module.function("k2k_ll_pp_gpu").unwrap();
                rt.launch_raw(&f, [2, 1, 1], [32, 1, 1], 0, &stream, &mut params)
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
fn gpu_tier_delivers_every_message_exactly_once() {
    exactly_once(Tier::Gpu);
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

#[test]
#[ignore = "needs a CUDA GPU"]
fn gpu_tier_full_inbox_never_overwrites() {
    full_never_overwrites(Tier::Gpu);
}

/// Every tier, both producer kinds, capacities 1 (every send waits for the
/// previous message's consumption: the credit path on every message), 2
/// and 16; 20 000 round trips each, every word of every message checked.
#[test]
#[ignore = "needs a CUDA GPU"]
fn ping_pong_delivers_every_message_intact_on_every_tier() {
    let Some(rt) = gpu_runtime("k2k LL ping-pong") else {
        return;
    };
    const N: u32 = 20_000;
    for tier in TIERS {
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
