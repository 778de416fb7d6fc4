//! The K2K inbox (`device-lib/cuda/rk_k2k.cuh`) at its three tiers, with
//! the hand-written test kernels of `k2k/k2k_tests.cu`: 128 producer
//! threads × 8 messages into one inbox (every payload exactly once, untorn,
//! in each producer's order), and a small inbox with racing producers and a
//! slow consumer (full is backpressure: `try_send` fails, nothing is
//! overwritten). Cluster-tier producers are in the other blocks of the
//! cluster, launched with `Runtime::launch_raw_cluster`.
//!
//! In CI (no GPU): the kernels compile with NVRTC and assemble for sm_90
//! without spills, and the log checker rejects what it must. The GPU tests
//! are `#[ignore]`d; on a GPU machine:
//! `RINGKERNEL_REQUIRE_GPU=1 cargo test -p ringkernel-runtime --test k2k -- --include-ignored`.

use std::ffi::c_void;

use ringkernel_device::k2k::K2kLayout;
use ringkernel_runtime::testing::gpu_runtime;
use ringkernel_runtime::{Compiler, CudaSource, DeviceBuffer, Error, LaunchConfigError, Runtime};
use ringkernel_toolchain::{assemble, require_nvrtc, Arch, CudaTools, Target};

mod k2k_log;
use k2k_log::{check_log, wait};

const KERNELS: &str = include_str!("k2k/k2k_tests.cu");
const SLOT: u32 = 128;

fn source() -> CudaSource {
    CudaSource {
        name: "k2k_tests".into(),
        source: KERNELS.into(),
        headers: Vec::new(),
        options: Vec::new(),
    }
    .with_device_lib()
}

#[test]
fn the_test_kernels_compile_and_assemble_for_sm_90_without_spills() {
    let Some(_) = require_nvrtc("k2k test kernels") else {
        return;
    };
    let image = Compiler::without_cache()
        .compile(&source(), Target::Ptx(Arch::SM_90))
        .unwrap_or_else(|e| panic!("{e}"));
    let ptx = String::from_utf8(image.image).expect("PTX is text");
    // Each tier's instructions are there: the scope of every acquire,
    // release and CAS is the tier's, and the cluster kernel maps DSMEM.
    for instruction in [
        "atom.acq_rel.cta.cas.b64",
        "atom.acq_rel.cluster.cas.b64",
        "atom.acq_rel.gpu.cas.b64",
        // rk_k2k_mp's reserve: a relaxed CAS at each tier's scope.
        "atom.relaxed.cta.cas.b64",
        "atom.relaxed.cluster.cas.b64",
        "atom.relaxed.gpu.cas.b64",
        // rk_k2k_rx's poll: an acquire through the consumer's state space.
        "ld.acquire.cta.shared.b64",
        "ld.acquire.cluster.shared.b64",
        "ld.acquire.gpu.global.b64",
        "ld.acquire.cta",
        "st.release.cta",
        "ld.acquire.cluster",
        "st.release.cluster",
        "ld.acquire.gpu",
        "st.release.gpu",
        "mapa.u64",
        "%cluster_ctarank",
        "%cluster_nctarank",
        "barrier.cluster.arrive.release",
        "barrier.cluster.wait.acquire",
        "nanosleep.u32",
    ] {
        assert!(ptx.contains(instruction), "the PTX lacks `{instruction}`");
    }
    let tools = CudaTools::locate().expect("located by require_nvrtc");
    let report = assemble(tools.ptxas().expect("ptxas"), &ptx, Arch::SM_90)
        .unwrap_or_else(|e| panic!("{e}"));
    for kernel in ["k2k_test_cta", "k2k_test_cluster", "k2k_test_gpu"] {
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

/// How a run sends and consumes (the kernels' parameters).
#[derive(Clone, Copy, Debug)]
struct Run {
    capacity: u32,
    msgs: u32,
    /// 0: blocking send, 1: try_send retried (failures counted), 2:
    /// reserve + slot writes + commit, 3: rk_k2k_mp reserve from a guess
    /// retried (failures counted) + slot writes + commit.
    mode: u32,
    /// 0: one message per consume, n: batches of up to n, [`RX`]: the
    /// head-keeping consumer (rk_k2k_rx), one at a time.
    batch: u32,
    delay_ns: u32,
}

const PRODUCERS: u32 = 128;
/// `K2K_TEST_RX` of k2k_tests.cu.
const RX: u32 = u32::MAX;

struct Outcome {
    log: Vec<u32>,
    counters: Vec<u32>,
}

fn run(rt: &Runtime, tier: Tier, r: Run) -> Outcome {
    let (module, _) = rt.load_module(&source()).unwrap();
    let stream = rt.new_stream().unwrap();
    let total = (PRODUCERS * r.msgs) as usize;
    let log: DeviceBuffer<u32> = rt.alloc_zeroed(total).unwrap();
    let counters: DeviceBuffer<u32> = rt.alloc_zeroed(8).unwrap();
    let mut log_ptr = log.device_ptr().unwrap();
    let mut counters_ptr = counters.device_ptr().unwrap();
    let (mut capacity, mut msgs, mut mode, mut batch, mut delay) =
        (r.capacity, r.msgs, r.mode, r.batch, r.delay_ns);
    // The global-memory inbox: the host's initial image (seq[i] = i).
    let layout = K2kLayout::new(r.capacity, SLOT).unwrap();
    let inbox: DeviceBuffer<u8> = rt.upload(&layout.initial_image(0)).unwrap();
    let mut inbox_ptr = inbox.device_ptr().unwrap();
    let mut params: Vec<*mut c_void> = vec![
        match tier {
            Tier::Gpu => (&raw mut inbox_ptr).cast(),
            _ => (&raw mut capacity).cast(),
        },
        (&raw mut msgs).cast(),
        (&raw mut mode).cast(),
        (&raw mut batch).cast(),
        (&raw mut delay).cast(),
        (&raw mut log_ptr).cast(),
        (&raw mut counters_ptr).cast(),
    ];
    let what = format!("{tier:?} {r:?}");
    // SAFETY: the parameters match each kernel's C signature (first the
    // capacity, or the inbox's device address for the gpu tier), and every
    // buffer lives until the kernel has finished (waited on below).
    let handle = unsafe {
        match tier {
            Tier::Cta => {
                let f = module.function("k2k_test_cta").unwrap();
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
                // Block 0 consumes; four blocks of 32 threads produce.
                let f = module.function("k2k_test_cluster").unwrap();
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
                let f = module.function("k2k_test_gpu").unwrap();
                rt.launch_raw(&f, [5, 1, 1], [32, 1, 1], 0, &stream, &mut params)
            }
        }
    }
    .unwrap_or_else(|e| panic!("{what}: {e}"));
    wait(&handle, &what);
    Outcome {
        log: log.to_vec().unwrap(),
        counters: counters.to_vec().unwrap(),
    }
}

fn exactly_once(tier: Tier) {
    let Some(rt) = gpu_runtime(&format!("k2k exactly once, {tier:?}")) else {
        return;
    };
    for (mode, batch) in [(0, 8), (0, 0), (2, 32), (2, 1), (3, RX), (3, 8), (0, RX)] {
        let r = Run {
            capacity: 64,
            msgs: 8,
            mode,
            batch,
            delay_ns: 0,
        };
        let out = run(&rt, tier, r);
        let c = &out.counters;
        assert_eq!(c[5], PRODUCERS, "{tier:?} {r:?}: producers");
        assert_eq!(c[0], PRODUCERS * 8, "{tier:?} {r:?}: received");
        assert_eq!(c[1], 0, "{tier:?} {r:?}: protocol errors");
        assert_eq!(
            c[3],
            if tier == Tier::Cluster { 5 } else { 1 },
            "cluster size"
        );
        check_log(&out.log, PRODUCERS, 8).unwrap_or_else(|e| panic!("{tier:?} {r:?}: {e}"));
        eprintln!("{tier:?} {r:?}: 1024 messages in {} consumer batches", c[4]);
    }
}

fn full_never_overwrites(tier: Tier) {
    let Some(rt) = gpu_runtime(&format!("k2k full inbox, {tier:?}")) else {
        return;
    };
    // Four slots, 128 producers racing with try_send, a consumer that
    // sleeps 2 µs before freeing each slot.
    for (mode, batch) in [(1, 0), (1, 4), (3, RX), (3, 0)] {
        let r = Run {
            capacity: 4,
            msgs: 8,
            mode,
            batch,
            delay_ns: 2_000,
        };
        let out = run(&rt, tier, r);
        let c = &out.counters;
        assert_eq!(c[0], PRODUCERS * 8, "{tier:?} {r:?}: received");
        assert_eq!(c[1], 0, "{tier:?} {r:?}: protocol errors");
        check_log(&out.log, PRODUCERS, 8).unwrap_or_else(|e| panic!("{tier:?} {r:?}: {e}"));
        assert!(
            c[2] > 0,
            "{tier:?} {r:?}: no try_send ever found the inbox full"
        );
        eprintln!(
            "{tier:?} {r:?}: {} try_send failures (full), nothing lost",
            c[2]
        );
    }
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

/// A cluster shape the hardware cannot run is refused before the driver,
/// with the reason.
#[test]
#[ignore = "needs a CUDA GPU"]
fn bad_cluster_shapes_are_refused_on_the_gpu() {
    let Some(rt) = gpu_runtime("bad_cluster_shapes_are_refused_on_the_gpu") else {
        return;
    };
    let (module, _) = rt.load_module(&source()).unwrap();
    let f = module.function("k2k_test_cluster").unwrap();
    let stream = rt.new_stream().unwrap();
    let mut params: Vec<*mut c_void> = Vec::new();
    for (grid, cluster) in [([5, 1, 1], [2, 1, 1]), ([16, 1, 1], [16, 1, 1])] {
        // SAFETY: refused before the launch; no parameter is read.
        let err = unsafe {
            rt.launch_raw_cluster(&f, grid, [32, 1, 1], cluster, 0, &stream, &mut params)
        }
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::LaunchConfig {
                    reason: LaunchConfigError::ClusterDoesNotDivideGrid { .. }
                        | LaunchConfigError::ClusterTooLarge { .. },
                    ..
                }
            ),
            "{err}"
        );
    }
}
