//! K2K one-way latency between two ACTORS of an actor system, per
//! placement (`hop_system.rs`: A and B of `hops.rs` pass one message back
//! and forth with `ctx.send` through their `rk_k2k` inboxes, N hops per
//! run, timed on the device from the first handler's receipt stamp to the
//! last one's), next to the hand-written floors `k2k.rs` measured in the
//! same run (reused, not re-measured). Each placement's system is started
//! once; one warm-up run, then `runs` measured runs; the report uses the
//! median. A wrong run (hop count, last actor, checksum or times) is
//! counted and described, never timed; a failed one ends the placement.

use std::fmt::Write as _;
use std::time::Duration;

use ringkernel_runtime::actor::Placement;
use ringkernel_runtime::Runtime;

use crate::compile::median;
use crate::hop_system::{self, HopError, HopSystem};
use crate::k2k::{ladder_applies, K2kLatency, LADDER_MBAR_MP};
use crate::stats::fmt_ns;

/// Hops per run on the CPU backend: a hop there is a thread hand-off, and
/// the numbers mean nothing; the run checks the system, not the time.
pub const CPU_HOPS: u32 = 2_000;

/// What one sample (one hop) includes, for the table and BENCHMARKS.md.
pub const ONE_HOP: &str = "from one actor's receipt stamp (ctx.now()) to the peer's: the rest of \
     the receiving batch up to the send's commit (handler, route lookup, the claim, write and \
     commit into the peer's inbox: rk_k2k_mbar's multi-producer inbox in shared memory and DSMEM; \
     in global memory rk_k2k's layout with the credit claim, each hop route being the only one \
     into its inbox: claimed by count, announced on tail), then the peer's poll (K2K and host \
     inbox in turn), staging of \
     the slot into shared memory, header check and HLC receive stamp; each actor's loop close \
     (counters, fence, slot release) overlaps the peer's part";

/// One placement's runs.
#[derive(Debug, Clone)]
pub struct PlacementHops {
    pub placement: Placement,
    /// ns per hop, one value per checked run.
    pub ns_per_hop: Vec<f64>,
    /// Runs that answered wrongly, with what was wrong (never timed).
    pub wrong: Vec<String>,
    /// Why the placement was not (fully) measured.
    pub failed: Option<String>,
}

impl PlacementHops {
    pub fn tier_key(&self) -> &'static str {
        hop_system::tier_key(self.placement)
    }

    /// Median one-way (one hop) latency; None when no run was checked.
    pub fn one_way(&self) -> Option<f64> {
        (!self.ns_per_hop.is_empty()).then(|| median(&self.ns_per_hop))
    }
}

/// What this module measured, with its parameters.
#[derive(Debug, Clone)]
pub struct ActorHops {
    pub hops: u32,
    pub runs: usize,
    pub placements: Vec<PlacementHops>,
}

impl ActorHops {
    /// Wrong or failed runs (must be 0).
    pub fn errors(&self) -> u64 {
        self.placements
            .iter()
            .map(|p| p.wrong.len() as u64 + u64::from(p.failed.is_some()))
            .sum()
    }

    /// The placement whose routes are tier `key` (k2k.rs `Tier::key`).
    pub fn tier(&self, key: &str) -> Option<&PlacementHops> {
        self.placements.iter().find(|p| p.tier_key() == key)
    }
}

pub fn run(rt: &Runtime, hops: u32, runs: usize) -> ActorHops {
    let timeout = Duration::from_secs(30) + Duration::from_micros(50) * hops;
    let mut placements = Vec::new();
    for placement in hop_system::PLACEMENTS {
        let mut p = PlacementHops {
            placement,
            ns_per_hop: Vec::new(),
            wrong: Vec::new(),
            failed: None,
        };
        match HopSystem::start(rt, placement) {
            Err(e) => p.failed = Some(format!("not started: {e}")),
            Ok(system) => {
                // Run 0 is the warm-up.
                for run in 0..=runs {
                    let seed = 0x5EED_0000_0000_0000 ^ (run as u64).wrapping_mul(0x1_0001);
                    match system.run(hops, seed, timeout) {
                        Ok(r) if run > 0 => p.ns_per_hop.push(r.ns_per_hop()),
                        Ok(_) => {}
                        Err(HopError::Wrong(e)) => p.wrong.push(format!("run {run}: {e}")),
                        Err(HopError::Failed(e)) => {
                            p.failed = Some(format!("run {run}: {e}"));
                            break;
                        }
                    }
                }
                if let Err(e) = system.stop() {
                    p.failed.get_or_insert(format!("stop: {e}"));
                }
            }
        }
        for w in &p.wrong {
            eprintln!("ringkernel bench: actor hops {placement:?}: {w}");
        }
        if let Some(f) = &p.failed {
            eprintln!("ringkernel bench: actor hops {placement:?}: {f}");
        }
        placements.push(p);
    }
    ActorHops {
        hops,
        runs,
        placements,
    }
}

/// The tier's (floor, route inbox) one-way latencies from `k2k.rs`'s
/// run, when it measured that tier: the inbox actor routes use there, the
/// ladder's `rk_k2k_mbar` multi-producer row in shared memory and DSMEM,
/// `rk_k2k`'s multi-producer inbox in global memory.
fn floors(k2k: Option<&K2kLatency>, key: &str) -> Option<(f64, f64)> {
    k2k?.tiers
        .iter()
        .find(|t| t.tier.key() == key && t.measured())
        .map(|t| {
            let route = t
                .ladder_one_way(LADDER_MBAR_MP)
                .filter(|_| ladder_applies(LADDER_MBAR_MP, t.tier))
                .unwrap_or_else(|| t.queue_one_way());
            (t.floor_one_way(), route)
        })
}

/// The actor-hop rows, under the K2K ping-pong table.
pub fn table(out: &mut String, h: &ActorHops, k2k: Option<&K2kLatency>) {
    if k2k.is_none() {
        let _ = writeln!(
            out,
            "\n## K2K on the device\n\nNo hand-written floors in this run (no GPU): the ratios are blank."
        );
    }
    let _ = writeln!(
        out,
        "\n### Actor hop (ctx.send): two actors of an actor system ({} hops per run, median of {} runs)\n",
        h.hops, h.runs
    );
    let _ = writeln!(out, "One hop is {ONE_HOP}.\n");
    let _ = writeln!(
        out,
        "| tier | system | actor hop one-way | ns per hop, each run | floor one-way | ratio to floor | the route's inbox one-way (mbar MP / rk_k2k seq reserve) | ratio to inbox | wrong runs |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for p in &h.placements {
        let runs: Vec<String> = p.ns_per_hop.iter().map(|x| format!("{x:.0}")).collect();
        let (floor, inbox) = floors(k2k, p.tier_key()).unwrap_or((f64::NAN, f64::NAN));
        let cell = |x: f64| {
            if x.is_nan() {
                "-".to_string()
            } else {
                fmt_ns(x)
            }
        };
        let ratio = |x: Option<f64>, base: f64| match x {
            Some(x) if !base.is_nan() => format!("{:.2}", x / base),
            _ => "-".to_string(),
        };
        let one_way = p.one_way();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {}{} |",
            p.tier_key(),
            hop_system::shape(p.placement),
            one_way.map_or("-".to_string(), fmt_ns),
            runs.join(", "),
            cell(floor),
            ratio(one_way, floor),
            cell(inbox),
            ratio(one_way, inbox),
            p.wrong.len(),
            p.failed
                .as_ref()
                .map_or(String::new(), |f| format!("; not measured: {f}")),
        );
    }
}

/// The text the tier's K2K bar line gets after the device-library figure.
pub fn bar_text(h: &ActorHops, k2k: &K2kLatency, key: &str) -> String {
    let Some(p) = h.tier(key) else {
        return String::new();
    };
    match (p.one_way(), floors(Some(k2k), key), &p.failed) {
        (Some(hop), Some((floor, _)), _) => format!(
            "; actor hop (ctx.send): {} = {:.2}x the floor",
            fmt_ns(hop),
            hop / floor
        ),
        (_, _, Some(f)) => format!("; actor hop not measured: {f}"),
        _ => "; actor hop not measured".to_string(),
    }
}

pub fn json(h: &ActorHops, k2k: Option<&K2kLatency>) -> serde_json::Value {
    serde_json::json!({
        "what": format!("actor hop (ctx.send): one hop is {ONE_HOP}"),
        "hops_per_run": h.hops,
        "runs": h.runs,
        "placements": h.placements.iter().map(|p| {
            let floors = floors(k2k, p.tier_key());
            let one_way = p.one_way();
            serde_json::json!({
                "tier": p.tier_key(),
                "placement": format!("{:?}", p.placement),
                "system": hop_system::shape(p.placement),
                "ns_per_hop_per_run": p.ns_per_hop,
                "one_way_ns": one_way,
                "floor_one_way_ns": floors.map(|f| f.0),
                "ratio_to_floor": one_way.zip(floors).map(|(x, f)| x / f.0),
                "rk_k2k_inbox_one_way_ns": floors.map(|f| f.1),
                "ratio_to_rk_k2k_inbox": one_way.zip(floors).map(|(x, f)| x / f.1),
                "wrong_runs": p.wrong,
                "failed": p.failed,
            })
        }).collect::<Vec<_>>(),
    })
}
