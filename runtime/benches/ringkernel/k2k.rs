//! K2K one-way latency per tier (shared memory, DSMEM, global memory): the
//! hand-written ping-pong floors of `baselines.cu` (`bl_k2k_*`, as
//! limits.cu measures them: one flag per party) and the same ping-pong
//! through the device library's K2K inboxes (`k2k.cu`: an envelope
//! through reserve, write, commit and consume; once with the
//! multi-producer reserve, once through a single-producer route), and through
//! the low-latency inboxes (`rk_k2k_ll.cuh`: flagged 8-byte words, one per
//! lane of a warp party, single-producer and multi-producer), timed in-kernel with
//! `%globaltimer` over `hops / 2` round trips. One-way = round trip / 2.
//! Each kernel runs `runs` times; the report uses the median run.

use std::ffi::c_void;

use ringkernel_device::k2k::{K2kLayout, K2kLlLayout};
use ringkernel_runtime::{CudaSource, DeviceBuffer, KernelFunction, LoadedModule, Runtime, Stream};

use crate::compile::median;
use crate::Config;

const BASELINES: &str = include_str!("baselines.cu");
const QUEUES: &str = include_str!("k2k.cu");
/// `K2K_BENCH_CAPACITY` and `K2K_BENCH_SLOT` of k2k.cu.
const CAPACITY: u32 = 4;
const SLOT: u32 = 64;
/// `K2K_LL_BENCH_CAPACITY` and `K2K_LL_BENCH_MSG` of k2k.cu.
const LL_CAPACITY: u32 = 32;
const LL_MSG: u32 = 64;

/// The three placement tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Two warps of one block, shared memory.
    Shared,
    /// Two blocks of a cluster of 2, distributed shared memory.
    Dsmem,
    /// Two blocks anywhere, global memory.
    Global,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Shared, Tier::Dsmem, Tier::Global];

    pub fn name(self) -> &'static str {
        match self {
            Tier::Shared => "shared memory (2 warps of 1 block)",
            Tier::Dsmem => "DSMEM (2 blocks of a cluster of 2)",
            Tier::Global => "global memory (2 blocks)",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Tier::Shared => "shared",
            Tier::Dsmem => "dsmem",
            Tier::Global => "global",
        }
    }
}

/// One tier's measurements: nanoseconds per round trip, one value per run.
#[derive(Debug, Clone)]
pub struct TierLatency {
    pub tier: Tier,
    pub floor_rt_ns: Vec<f64>,
    pub queue_rt_ns: Vec<f64>,
    /// The same ping-pong through single-producer routes (`rk_k2k_sp_*`: no
    /// tail CAS, credits from the consumer's head).
    pub sp_rt_ns: Vec<f64>,
    /// Through LL inboxes, single-producer routes (`rk_k2k_ll_sp_*`).
    pub ll_sp_rt_ns: Vec<f64>,
    /// Through LL inboxes, the multi-producer reserve (`rk_k2k_ll_mp_*`).
    pub ll_mp_rt_ns: Vec<f64>,
    /// The ladder (`k2k_lad_*` of k2k.cu), per variant of [`LADDER`]: ns per
    /// round trip, one value per run.
    pub ladder_rt_ns: Vec<Vec<f64>>,
    /// Messages the queue ping-pongs received with a wrong sequence or word
    /// (must be 0).
    pub errors: u64,
    /// Why the tier was not measured (e.g. no clusters below sm_90).
    pub skipped: Option<String>,
}

impl TierLatency {
    /// Median one-way latency of the floor.
    pub fn floor_one_way(&self) -> f64 {
        median(&self.floor_rt_ns) / 2.0
    }

    /// Median one-way latency through the K2K inboxes.
    pub fn queue_one_way(&self) -> f64 {
        median(&self.queue_rt_ns) / 2.0
    }

    /// Median one-way latency through single-producer routes.
    pub fn sp_one_way(&self) -> f64 {
        median(&self.sp_rt_ns) / 2.0
    }

    /// Median one-way latency through LL single-producer routes.
    pub fn ll_sp_one_way(&self) -> f64 {
        median(&self.ll_sp_rt_ns) / 2.0
    }

    /// Median one-way latency through LL inboxes, multi-producer reserve.
    pub fn ll_mp_one_way(&self) -> f64 {
        median(&self.ll_mp_rt_ns) / 2.0
    }

    pub fn measured(&self) -> bool {
        self.skipped.is_none()
            && !self.floor_rt_ns.is_empty()
            && !self.queue_rt_ns.is_empty()
            && !self.sp_rt_ns.is_empty()
            && !self.ll_sp_rt_ns.is_empty()
            && !self.ll_mp_rt_ns.is_empty()
    }

    /// Every variant of the device library's K2K inboxes (each moves a
    /// 64-byte envelope with backpressure; the single-producer ones need a
    /// route that is its inbox's only sender, which the host's wiring
    /// knows), with its median one-way latency: the four ping-pong kernels,
    /// and on the shared and DSMEM tiers the ladder's mbarrier inboxes
    /// (`rk_k2k_mbar`, the racecheck-clean ones). Actor routes use the
    /// first (`rk_k2k`) in global memory and `rk_k2k_mbar`'s
    /// multi-producer inbox in shared memory and DSMEM.
    pub fn variants(&self) -> Vec<(&'static str, f64)> {
        let mut v = vec![
            ("multi-producer inbox (rk_k2k)", self.queue_one_way()),
            ("single-producer route (rk_k2k_sp)", self.sp_one_way()),
            (
                "LL single-producer route (rk_k2k_ll_sp)",
                self.ll_sp_one_way(),
            ),
            (
                "LL multi-producer inbox (rk_k2k_ll_mp)",
                self.ll_mp_one_way(),
            ),
        ];
        for (i, name) in [
            (
                LADDER_MBAR_SP,
                "mbarrier single-producer route (rk_k2k_mbar_sp, ladder row mbar_sp)",
            ),
            (
                LADDER_MBAR_MP,
                "mbarrier multi-producer inbox (rk_k2k_mbar_mp, ladder row mbar_mp)",
            ),
        ] {
            if let Some(ns) = self.ladder_one_way(i) {
                v.push((name, ns));
            }
        }
        v
    }

    /// The fastest protocol: of [`TierLatency::variants`] and of the
    /// ladder's protocol rows ([`LADDER`]'s third field: they move the
    /// 64-byte envelope with their inbox's guarantees, backpressure
    /// included, and count wrong messages; the ladder's bare flags carry
    /// no data and never count). A ladder row named by its key.
    pub fn best(&self) -> (&'static str, f64) {
        let ladder = LADDER
            .iter()
            .enumerate()
            .filter(|(_, (_, _, protocol))| *protocol)
            .filter_map(|(v, (key, _, _))| self.ladder_one_way(v).map(|ns| (*key, ns)));
        self.variants()
            .into_iter()
            .chain(ladder)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("at least four variants")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "tier": self.tier.key(),
            "what": self.tier.name(),
            "floor_round_trip_ns_per_run": self.floor_rt_ns,
            "queue_round_trip_ns_per_run": self.queue_rt_ns,
            "floor_one_way_ns": self.measured().then(|| self.floor_one_way()),
            "queue_one_way_ns": self.measured().then(|| self.queue_one_way()),
            "single_producer_round_trip_ns_per_run": self.sp_rt_ns,
            "single_producer_one_way_ns": self.measured().then(|| self.sp_one_way()),
            "ll_single_producer_round_trip_ns_per_run": self.ll_sp_rt_ns,
            "ll_single_producer_one_way_ns": self.measured().then(|| self.ll_sp_one_way()),
            "ll_multi_producer_round_trip_ns_per_run": self.ll_mp_rt_ns,
            "ll_multi_producer_one_way_ns": self.measured().then(|| self.ll_mp_one_way()),
            "best_variant": self.measured().then(|| self.best().0),
            "ladder": self.ladder_json(),
            "errors": self.errors,
            "skipped": self.skipped,
        })
    }
}

/// The ladder's variants (k2k.cu's `K2K_LAD_*`, in order): a key, what it
/// is, and whether it is a protocol (moves the envelope with its inbox's
/// guarantees) rather than a bare flag (a lower bound, no data).
pub const LADDER: [(&str, &str, bool); 10] = [
    (
        "flag_acqrel_1t",
        "floor again in this module (1 thread, u32 flag, release/acquire, generic)",
        false,
    ),
    (
        "flag_relaxed_1t",
        "bare flag, relaxed, spin through the own state space (no data)",
        false,
    ),
    (
        "flag_relaxed_warp",
        "bare flag, relaxed, whole-warp party (__all_sync spin)",
        false,
    ),
    (
        "ll_sp_deferred",
        "LL single-producer, warp party, check off the critical path",
        true,
    ),
    (
        "ll_sp_1t",
        "LL single-producer, 1 thread stores/loads all 16 words",
        true,
    ),
    (
        "k2k_sp_rx",
        "rk_k2k single-producer + rk_k2k_rx consumer (cached head, commit after reply)",
        true,
    ),
    (
        "k2k_mp_rx",
        "rk_k2k_mp reserve (guess, relaxed CAS) + rk_k2k_rx consumer",
        true,
    ),
    (
        "mbar_sp",
        "rk_k2k_mbar single-producer: full/empty mbarriers per slot, plain payload (racecheck-clean; shared memory only)",
        true,
    ),
    (
        "mbar_mp",
        "rk_k2k_mbar multi-producer reserve (relaxed CAS, head credit) + mbarrier handoff (shared memory only)",
        true,
    ),
    (
        "mbar_sp_deferred",
        "rk_k2k_mbar single-producer, the message's loads and check after the next send (racecheck-clean; shared memory only)",
        true,
    ),
];

/// The ladder's mbarrier variants (`K2K_LAD_MBAR_*`): shared and DSMEM
/// tiers only (mbarriers live in shared memory).
pub const LADDER_MBAR_SP: usize = 7;
pub const LADDER_MBAR_MP: usize = 8;
pub const LADDER_MBAR_SP_DEFERRED: usize = 9;

/// Whether ladder variant `v` runs on `tier`.
pub fn ladder_applies(v: usize, tier: Tier) -> bool {
    tier != Tier::Global
        || !(v == LADDER_MBAR_SP || v == LADDER_MBAR_MP || v == LADDER_MBAR_SP_DEFERRED)
}

impl TierLatency {
    /// Median one-way latency of ladder variant `v` (None when not measured).
    pub fn ladder_one_way(&self, v: usize) -> Option<f64> {
        self.ladder_rt_ns
            .get(v)
            .filter(|runs| !runs.is_empty())
            .map(|runs| median(runs) / 2.0)
    }

    pub fn ladder_json(&self) -> serde_json::Value {
        serde_json::Value::Array(
            LADDER
                .iter()
                .enumerate()
                .map(|(v, (key, what, protocol))| {
                    serde_json::json!({
                        "variant": key,
                        "what": what,
                        "protocol": protocol,
                        "round_trip_ns_per_run": self.ladder_rt_ns.get(v),
                        "one_way_ns": self.ladder_one_way(v),
                    })
                })
                .collect(),
        )
    }
}

/// What this module measured, with its parameters.
#[derive(Debug, Clone)]
pub struct K2kLatency {
    pub round_trips: u32,
    pub runs: usize,
    pub tiers: Vec<TierLatency>,
}

fn load(rt: &Runtime, src: CudaSource) -> Result<std::sync::Arc<LoadedModule>, String> {
    rt.load_module(&src)
        .map(|(m, _)| m)
        .map_err(|e| e.to_string())
}

pub fn run(rt: &Runtime, config: &Config) -> Result<K2kLatency, String> {
    let floors = load(
        rt,
        CudaSource {
            name: "baselines".into(),
            source: BASELINES.into(),
            headers: Vec::new(),
            options: Vec::new(),
        },
    )?;
    let queues = load(
        rt,
        CudaSource {
            name: "k2k_bench".into(),
            source: QUEUES.into(),
            headers: Vec::new(),
            options: Vec::new(),
        }
        .with_device_lib(),
    )?;
    let stream = rt.new_stream().map_err(|e| e.to_string())?;
    let n = config.k2k_round_trips;
    let mut tiers = Vec::new();
    for tier in Tier::ALL {
        let mut t = TierLatency {
            tier,
            floor_rt_ns: Vec::new(),
            queue_rt_ns: Vec::new(),
            sp_rt_ns: Vec::new(),
            ll_sp_rt_ns: Vec::new(),
            ll_mp_rt_ns: Vec::new(),
            ladder_rt_ns: vec![Vec::new(); LADDER.len()],
            errors: 0,
            skipped: None,
        };
        // One warm-up run of each, then the measured runs.
        for run in 0..=config.k2k_runs {
            let floor = ping_pong(rt, &stream, &floors, tier, Kind::Floor, n);
            let queue = ping_pong(rt, &stream, &queues, tier, Kind::Queue, n);
            let sp = ping_pong(rt, &stream, &queues, tier, Kind::SingleProducer, n);
            let ll_sp = ping_pong(rt, &stream, &queues, tier, Kind::LlSingleProducer, n);
            let ll_mp = ping_pong(rt, &stream, &queues, tier, Kind::LlMultiProducer, n);
            // A variant that does not apply to the tier runs as (NaN, 0)
            // and is not recorded.
            let ladder = (0..LADDER.len()).map(|v| {
                if ladder_applies(v, tier) {
                    ping_pong(rt, &stream, &queues, tier, Kind::Ladder(v as u32), n)
                } else {
                    Ok((f64::NAN, 0))
                }
            });
            let all = [floor, queue, sp, ll_sp, ll_mp]
                .into_iter()
                .chain(ladder)
                .collect::<Result<Vec<(f64, u64)>, String>>();
            match all {
                Ok(all) => {
                    t.errors += all.iter().map(|(_, errors)| errors).sum::<u64>();
                    if run > 0 {
                        t.floor_rt_ns.push(all[0].0);
                        t.queue_rt_ns.push(all[1].0);
                        t.sp_rt_ns.push(all[2].0);
                        t.ll_sp_rt_ns.push(all[3].0);
                        t.ll_mp_rt_ns.push(all[4].0);
                        for (v, runs) in t.ladder_rt_ns.iter_mut().enumerate() {
                            if ladder_applies(v, tier) {
                                runs.push(all[5 + v].0);
                            }
                        }
                    }
                }
                Err(e) => {
                    t.skipped = Some(e);
                    break;
                }
            }
        }
        tiers.push(t);
    }
    Ok(K2kLatency {
        round_trips: n,
        runs: config.k2k_runs,
        tiers,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Floor,
    Queue,
    /// The queue through single-producer routes.
    SingleProducer,
    /// LL inboxes, single-producer routes.
    LlSingleProducer,
    /// LL inboxes, multi-producer reserve.
    LlMultiProducer,
    /// Ladder variant `v` (k2k.cu's `K2K_LAD_*`).
    Ladder(u32),
}

impl Kind {
    fn ll(self) -> bool {
        matches!(self, Kind::LlSingleProducer | Kind::LlMultiProducer)
    }
}

/// One ping-pong of `n` round trips: (ns per round trip, sequence errors).
fn ping_pong(
    rt: &Runtime,
    stream: &Stream,
    module: &std::sync::Arc<LoadedModule>,
    tier: Tier,
    kind: Kind,
    n: u32,
) -> Result<(f64, u64), String> {
    let err = |e: ringkernel_runtime::Error| e.to_string();
    let symbol = match (kind, tier) {
        (Kind::Floor, Tier::Shared) => "bl_k2k_smem",
        (Kind::Floor, Tier::Dsmem) => "bl_k2k_dsmem",
        (Kind::Floor, Tier::Global) => "bl_k2k_global",
        (Kind::Queue | Kind::SingleProducer, Tier::Shared) => "k2k_bench_cta",
        (Kind::Queue | Kind::SingleProducer, Tier::Dsmem) => "k2k_bench_cluster",
        (Kind::Queue | Kind::SingleProducer, Tier::Global) => "k2k_bench_gpu",
        (Kind::LlSingleProducer | Kind::LlMultiProducer, Tier::Shared) => "k2k_ll_bench_cta",
        (Kind::LlSingleProducer | Kind::LlMultiProducer, Tier::Dsmem) => "k2k_ll_bench_cluster",
        (Kind::LlSingleProducer | Kind::LlMultiProducer, Tier::Global) => "k2k_ll_bench_gpu",
        (Kind::Ladder(_), Tier::Shared) => "k2k_lad_cta",
        (Kind::Ladder(_), Tier::Dsmem) => "k2k_lad_cluster",
        (Kind::Ladder(_), Tier::Global) => "k2k_lad_gpu",
    };
    let function: KernelFunction = module.function(symbol).map_err(err)?;
    let out: DeviceBuffer<u64> = rt.alloc_zeroed(1).map_err(err)?;
    let errors: DeviceBuffer<u32> = rt.alloc_zeroed(1).map_err(err)?;
    let flags: DeviceBuffer<u32> = rt.alloc_zeroed(64).map_err(err)?;
    // The global tier's inboxes: the host's initial images.
    let images = if let Kind::Ladder(v) = kind {
        // Zeroed flags (0..=2), the LL image (3, 4), the K2K image (5, 6).
        match v {
            0..=2 => [vec![0u8; 4096], vec![0u8; 4096]],
            3 | 4 => {
                let layout = K2kLlLayout::new(LL_CAPACITY, LL_MSG).map_err(|e| e.to_string())?;
                [layout.initial_image(0), layout.initial_image(1)]
            }
            _ => {
                let layout = K2kLayout::new(CAPACITY, SLOT).map_err(|e| e.to_string())?;
                [layout.initial_image(0), layout.initial_image(1)]
            }
        }
    } else if kind.ll() {
        let layout = K2kLlLayout::new(LL_CAPACITY, LL_MSG).map_err(|e| e.to_string())?;
        [layout.initial_image(0), layout.initial_image(1)]
    } else {
        let layout = K2kLayout::new(CAPACITY, SLOT).map_err(|e| e.to_string())?;
        [layout.initial_image(0), layout.initial_image(1)]
    };
    let q0: DeviceBuffer<u8> = rt.upload(&images[0]).map_err(err)?;
    let q1: DeviceBuffer<u8> = rt.upload(&images[1]).map_err(err)?;
    let ptr = |b: Option<u64>| b.ok_or("a CUDA buffer without a device address");
    let (mut out_p, mut errors_p, mut flags_p) = (
        ptr(out.device_ptr())?,
        ptr(errors.device_ptr())?,
        ptr(flags.device_ptr())?,
    );
    let (mut q0_p, mut q1_p) = (ptr(q0.device_ptr())?, ptr(q1.device_ptr())?);
    let mut n = n;
    // The queue kernels' last parameter: `sp` (rk_k2k) or `mp` (rk_k2k_ll).
    // The ladder's: the variant.
    let mut sp: u32 = match kind {
        Kind::Ladder(v) => v,
        _ => u32::from(matches!(kind, Kind::SingleProducer | Kind::LlMultiProducer)),
    };
    let mut params: Vec<*mut c_void> = match (kind, tier) {
        (Kind::Floor, Tier::Global) => vec![
            (&raw mut flags_p).cast(),
            (&raw mut n).cast(),
            (&raw mut out_p).cast(),
        ],
        (Kind::Floor, _) => vec![(&raw mut n).cast(), (&raw mut out_p).cast()],
        (_, Tier::Global) => vec![
            (&raw mut q0_p).cast(),
            (&raw mut q1_p).cast(),
            (&raw mut n).cast(),
            (&raw mut out_p).cast(),
            (&raw mut errors_p).cast(),
            (&raw mut sp).cast(),
        ],
        (_, _) => vec![
            (&raw mut n).cast(),
            (&raw mut out_p).cast(),
            (&raw mut errors_p).cast(),
            (&raw mut sp).cast(),
        ],
    };
    // SAFETY: `params` matches the kernel's C signature (see baselines.cu
    // and k2k.cu); every buffer lives until the kernel has finished
    // (waited on below).
    let handle = unsafe {
        match tier {
            Tier::Shared => rt.launch_raw(&function, [1, 1, 1], [64, 1, 1], 0, stream, &mut params),
            Tier::Dsmem => rt.launch_raw_cluster(
                &function,
                [2, 1, 1],
                [32, 1, 1],
                [2, 1, 1],
                0,
                stream,
                &mut params,
            ),
            Tier::Global => rt.launch_raw(&function, [2, 1, 1], [32, 1, 1], 0, stream, &mut params),
        }
    }
    .map_err(err)?;
    handle.wait().map_err(err)?;
    let total_ns = out.to_vec().map_err(err)?[0];
    let errors = errors.to_vec().map_err(err)?[0];
    Ok((total_ns as f64 / f64::from(n), u64::from(errors)))
}
