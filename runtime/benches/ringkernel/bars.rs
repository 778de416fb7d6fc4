//! The bars of DESIGN.md section 5, evaluated from one run's results: what
//! was measured, the ratio to the target, whether it holds.

use crate::compile::median;
use crate::k2k::Tier;
use crate::stats::fmt_ns;
use crate::{actor_hops, Results};

/// One bar of DESIGN.md section 5.
pub(crate) struct Bar {
    pub(crate) bar: &'static str,
    pub(crate) measured: String,
    /// measured / target, oriented so that the bar holds iff `holds`.
    pub(crate) ratio: Option<f64>,
    pub(crate) holds: Option<bool>,
}

pub(crate) fn bars(r: &Results) -> Vec<Bar> {
    let rk = r.call_uniform.p50();
    let cold = r
        .modules
        .iter()
        .map(|m| (median(&m.cold_load_s), m.module.as_str()))
        .fold((f64::NAN, "-"), |a, b| {
            if a.0.is_nan() || b.0 > a.0 {
                b
            } else {
                a
            }
        });
    let hit = r
        .modules
        .iter()
        .map(|m| (median(&m.hit_load_s), m.module.as_str()))
        .fold((f64::NAN, "-"), |a, b| {
            if a.0.is_nan() || b.0 > a.0 {
                b
            } else {
                a
            }
        });
    let transpile = r.transpile.p50();
    let measured = |ok: bool, ratio: f64, holds: bool| {
        if ok {
            (Some(ratio), Some(holds))
        } else {
            (None, None)
        }
    };
    let mut bars = Vec::new();
    let (floor, launch, hand, bare) = match &r.baselines {
        Some(b) => (
            b.persistent.p50(),
            b.launch_sync.p50(),
            b.stream128.rate(),
            b.stream64.rate(),
        ),
        None => (f64::NAN, f64::NAN, f64::NAN, f64::NAN),
    };
    let have = r.baselines.is_some();
    let (ratio, holds) = measured(have, rk / floor, rk <= 1.1 * floor);
    bars.push(Bar {
        bar: "round trip p50 within 1.1x of the hand-written persistent floor",
        measured: format!(
            "{} vs {} floor (in-order stateful handler: {})",
            fmt_ns(rk),
            fmt_ns(floor),
            fmt_ns(r.call_in_order.p50())
        ),
        ratio,
        holds,
    });
    let (ratio, holds) = measured(have, launch / rk, launch >= 2.5 * rk);
    bars.push(Bar {
        bar: "round trip p50 at least 2.5x faster than launch+sync",
        measured: format!("{} vs {} launch+sync", fmt_ns(rk), fmt_ns(launch)),
        ratio,
        holds,
    });
    for (rk, hand, hand_rate, threads) in [
        (
            &r.stream64,
            r.baselines.as_ref().map(|b| &b.stream128),
            hand,
            "1 host thread",
        ),
        (
            &r.stream64_two,
            r.baselines.as_ref().map(|b| &b.stream128_two),
            r.baselines
                .as_ref()
                .map_or(f64::NAN, |b| b.stream128_two.rate()),
            "2 host threads",
        ),
    ] {
        let rate = rk.rate();
        bars.push(Bar {
            bar: match threads {
                "1 host thread" => "stream, 64 B payloads with full envelopes: at least 30 M msg/s (1 host thread)",
                _ => "stream, 64 B payloads with full envelopes: at least 30 M msg/s (2 host threads)",
            },
            measured: format!("{:.2} M msg/s", rate / 1e6),
            ratio: Some(rate / 30e6),
            holds: Some(rate >= 30e6),
        });
        let (ratio, holds) = measured(hand.is_some(), rate / hand_rate, rate >= 0.8 * hand_rate);
        bars.push(Bar {
            bar: match threads {
                "1 host thread" => "stream, 64 B: at least 0.8x a hand-written block-batched stream of the same bytes per message (1 host thread each)",
                _ => "stream, 64 B: at least 0.8x a hand-written block-batched stream of the same bytes per message (2 host threads each)",
            },
            measured: format!(
                "{:.2} vs {:.2} M msg/s (bare 64 B hand-written, 1 host thread: {:.2})",
                rate / 1e6,
                hand_rate / 1e6,
                bare / 1e6
            ),
            ratio,
            holds,
        });
    }
    match &r.k2k {
        Some(k) => {
            for t in &k.tiers {
                let bar = match t.tier {
                    Tier::Shared => "K2K one-way latency, shared memory: within 1.3x of the hand-written ping-pong floor of the same tier",
                    Tier::Dsmem => "K2K one-way latency, DSMEM: within 1.3x of the hand-written ping-pong floor of the same tier",
                    Tier::Global => "K2K one-way latency, global memory: within 1.3x of the hand-written ping-pong floor of the same tier",
                };
                if let Some(why) = &t.skipped {
                    bars.push(Bar {
                        bar,
                        measured: format!("not measured: {why}"),
                        ratio: None,
                        holds: None,
                    });
                    continue;
                }
                let floor = t.floor_one_way();
                // The best of the device library's K2K protocols (every one
                // moves an envelope with backpressure; the ladder's protocol
                // rows too, the mbarrier ones on the shared and DSMEM tiers),
                // named; the others are in the tables. Actor routes use the
                // multi-producer inboxes (rk_k2k_mbar in shared memory and
                // DSMEM, rk_k2k's layout with the credit claim in global
                // memory): the line says so.
                let (route, queue) = t.best();
                let (ratio, holds) = measured(t.measured(), queue / floor, queue <= 1.3 * floor);
                bars.push(Bar {
                    bar,
                    measured: format!(
                        "best device-library variant, {route}: {} vs {} floor (one-way, median of {} runs of {} round trips; actor routes use the multi-producer inboxes: rk_k2k_mbar in shared memory and DSMEM, rk_k2k's layout with the credit claim in global memory)",
                        fmt_ns(queue),
                        fmt_ns(floor),
                        k.runs,
                        k.round_trips
                    ) + &actor_hops::bar_text(&r.actor_hops, k, t.tier.key()),
                    ratio,
                    holds,
                });
            }
        }
        None => bars.push(Bar {
            bar: "K2K one-way latency within 1.3x of the hand-written ping-pong floor per tier",
            measured: "not measured: no GPU (CPU smoke run)".into(),
            ratio: None,
            holds: None,
        }),
    }
    let have = !r.modules.is_empty();
    let (ratio, holds) = measured(have, cold.0 / 0.3, cold.0 < 0.3);
    bars.push(Bar {
        bar: "NVRTC cold compile under 0.3 s per actor module",
        measured: format!("slowest module `{}`: {:.3} s (median load)", cold.1, cold.0),
        ratio,
        holds,
    });
    let (ratio, holds) = measured(have, hit.0 / 5e-3, hit.0 < 5e-3);
    bars.push(Bar {
        bar: "NVRTC cache hit under 5 ms per actor module",
        measured: format!(
            "slowest module `{}`: {:.2} ms (median load)",
            hit.1,
            hit.0 * 1e3
        ),
        ratio,
        holds,
    });
    bars.push(Bar {
        bar: "transpile of a ~100-line handler under 1 ms (issue 3)",
        measured: format!("{} p50", fmt_ns(transpile)),
        ratio: Some(transpile / 1e6),
        holds: Some(transpile < 1e6),
    });
    bars
}
