//! The anatomy of an actor hop: the hop system of `hop_system.rs` compiled
//! with the actor loop's trace of K2K batches (`RINGKERNEL_ACTOR_TRACE=k2k`),
//! one checked run per placement after a warm-up, and the stages of A's
//! loop per K2K batch (one hop received, handled and sent on); a diagnostic
//! beside the recorded hops, which run untraced.

use std::fmt::Write as _;
use std::time::Duration;

use ringkernel_runtime::actor::{LoopTrace, Placement};
use ringkernel_runtime::{Runtime, ACTOR_TRACE_ENV};
use serde_json::json;

use crate::hop_system::{self, HopSystem};

/// One placement's traced run.
#[derive(Debug, Clone)]
pub struct HopAnatomy {
    pub placement: Placement,
    /// ns per hop of the traced run (receipt stamps, as the recorded rows).
    pub ns_per_hop: f64,
    /// A's loop over the traced run (the warm-up subtracted).
    pub a: LoopTrace,
    /// B's.
    pub b: LoopTrace,
}

impl HopAnatomy {
    /// Mean ns per K2K batch of A's stage `k` (its cycles at the busy
    /// stages' clock rate).
    pub fn per_batch(&self, k: usize) -> f64 {
        self.a.stages_cycles[k] as f64 / self.a.batches.max(1) as f64 * self.a.ns_per_cycle()
    }

    /// The SM clock over A's busy stages (their `clock64` cycles over the
    /// busy span's `%globaltimer` ns), MHz; 0 when nothing was traced.
    pub fn clock_mhz(&self) -> f64 {
        self.a.clock_mhz()
    }

    /// A's busy span (seen → tail stored) per K2K batch, ns.
    pub fn busy_ns(&self) -> f64 {
        self.a.busy_ns as f64 / self.a.batches.max(1) as f64
    }
}

/// Traces `hops` hops per placement (a warm-up run first); a placement
/// that cannot start or fails is reported in the list as an error.
pub fn run(rt: &Runtime, hops: u32) -> Vec<Result<HopAnatomy, String>> {
    let timeout = Duration::from_secs(30) + Duration::from_micros(50) * hops;
    hop_system::PLACEMENTS
        .iter()
        .map(|&placement| {
            // The option is read when the modules are compiled: only these.
            std::env::set_var(ACTOR_TRACE_ENV, "k2k");
            let started = HopSystem::start(rt, placement);
            std::env::remove_var(ACTOR_TRACE_ENV);
            let system = started?;
            let result = (|| {
                system
                    .run(hops, 0x7ACE_0000, timeout)
                    .map_err(|e| e.to_string())?;
                // The device stores its sums every 64 batches: both
                // readings are whole flushes of a quiet loop.
                let (a0, b0) = system.loop_traces();
                let r = system
                    .run(hops, 0x7ACE_0001, timeout)
                    .map_err(|e| e.to_string())?;
                let (a1, b1) = system.loop_traces();
                Ok(HopAnatomy {
                    placement,
                    ns_per_hop: r.ns_per_hop(),
                    a: a1.since(&a0),
                    b: b1.since(&b0),
                })
            })();
            system.stop()?;
            result
        })
        .collect()
}

/// The stages per placement (means per K2K batch of actor A).
pub fn table(out: &mut String, h: &[Result<HopAnatomy, String>]) {
    let ok: Vec<&HopAnatomy> = h.iter().filter_map(|r| r.as_ref().ok()).collect();
    let _ = writeln!(
        out,
        "\n### Anatomy of an actor hop (loop trace of K2K batches, actor A; mean ns per batch)\n"
    );
    for e in h.iter().filter_map(|r| r.as_ref().err()) {
        let _ = writeln!(out, "- not traced: {e}");
    }
    if ok.is_empty() {
        return;
    }
    let _ = write!(out, "| stage (each from the end of the one before) |");
    for a in &ok {
        let _ = write!(out, " {} |", hop_system::tier_key(a.placement));
    }
    let _ = write!(out, "\n|---|");
    for _ in &ok {
        let _ = write!(out, "---|");
    }
    let _ = writeln!(out);
    for (k, what) in LoopTrace::STAGES.iter().enumerate() {
        let _ = write!(out, "| {what} |");
        for a in &ok {
            let _ = write!(out, " {:.0} |", a.per_batch(k));
        }
        let _ = writeln!(out);
    }
    type Cell<'a> = &'a dyn Fn(&HopAnatomy) -> String;
    let rows: [(&str, Cell); 5] = [
        ("busy: seen → tail stored (%globaltimer)", &|a| {
            format!("{:.0}", a.busy_ns())
        }),
        // A stage's ns are its clock64 cycles at this rate: a slow stage
        // at a low clock is a slow clock, not slow code.
        ("SM clock over the busy stages, MHz", &|a| {
            format!("{:.0}", a.clock_mhz())
        }),
        ("host-inbox looks that found nothing, per batch", &|a| {
            format!("{:.2}", a.a.empty_looks as f64 / a.a.batches.max(1) as f64)
        }),
        ("K2K batches traced (A, B)", &|a| {
            format!("{}, {}", a.a.batches, a.b.batches)
        }),
        ("ns per hop of the traced run", &|a| {
            format!("{:.0}", a.ns_per_hop)
        }),
    ];
    for (what, f) in rows {
        let _ = write!(out, "| {what} |");
        for a in &ok {
            let _ = write!(out, " {} |", f(a));
        }
        let _ = writeln!(out);
    }
}

/// The anatomy as JSON: per placement, A's stage means.
pub fn json(h: &[Result<HopAnatomy, String>]) -> serde_json::Value {
    json!(h
        .iter()
        .map(|r| match r {
            Err(e) => json!({ "error": e }),
            Ok(a) => json!({
                "tier": hop_system::tier_key(a.placement),
                "ns_per_hop": a.ns_per_hop,
                "batches_a": a.a.batches,
                "batches_b": a.b.batches,
                "busy_ns_per_batch": a.busy_ns(),
                "sm_clock_mhz": a.clock_mhz(),
                "empty_looks_per_batch": a.a.empty_looks as f64 / a.a.batches.max(1) as f64,
                "stage_mean_ns": LoopTrace::STAGES.iter().enumerate()
                    .map(|(k, what)| (what.to_string(), json!(a.per_batch(k))))
                    .collect::<serde_json::Map<_, _>>(),
            }),
        })
        .collect::<Vec<_>>())
}
