//! The anatomy of a call: echo64 compiled with the actor loop's trace
//! (`RINGKERNEL_ACTOR_TRACE`), its round trips timed in two halves on the
//! host, and the loop's stages in SM cycles on the device; measured beside
//! the recorded round trips and reported as their own table.

use std::fmt::Write as _;
use std::time::Instant;

use ringkernel_runtime::actor::LoopTrace;
use ringkernel_runtime::{Runtime, ACTOR_TRACE_ENV};
use serde_json::json;

use crate::actors::{echo64_reply, kernel, msg64, options, Msg64, MSG64_TYPE};
use crate::stats::{fmt_ns, Latency};
use crate::Config;

/// Where a `call` round trip's time goes: echo64 compiled with the loop
/// trace (`RINGKERNEL_ACTOR_TRACE`), the device's stages summed per batch,
/// and the host's two halves (the send's stores, the wait for the reply).
#[derive(Debug, Clone)]
pub struct CallAnatomy {
    /// Host: `send` (slot, flagged copy, tail stores), per call.
    pub send: Latency,
    /// Host: `send` returned until `recv` returned the reply.
    pub wait: Latency,
    /// Host: the whole round trip (send + wait).
    pub total: Latency,
    /// Device: the traced loop's counters after the measured calls, minus
    /// those after the warm-up.
    pub trace: LoopTrace,
}

impl CallAnatomy {
    /// Mean nanoseconds per traced batch of stage `k` (`LoopTrace::STAGES`),
    /// its cycles at the busy stages' clock rate.
    pub fn per_batch(&self, k: usize) -> f64 {
        self.cycles_per_batch(k) * self.trace.ns_per_cycle()
    }

    /// Mean SM cycles per traced batch of stage `k`.
    pub fn cycles_per_batch(&self, k: usize) -> f64 {
        self.trace.stages_cycles[k] as f64 / self.trace.batches.max(1) as f64
    }

    /// The device's stages from "seen" to "reply tail stored", mean per batch.
    pub fn device_busy_ns(&self) -> f64 {
        self.trace.busy_ns as f64 / self.trace.batches.max(1) as f64
    }
}

/// The anatomy of echo64's round trip (a diagnostic beside the recorded
/// round trips, which run untraced): `config.calls / 2` calls after the
/// warm-up, each reply checked.
pub fn call_anatomy(rt: &Runtime, config: &Config) -> Result<CallAnatomy, String> {
    // The option is read when the module is compiled: only this spawn's.
    std::env::set_var(ACTOR_TRACE_ENV, "1");
    let spawned = rt.spawn::<Msg64, Msg64, ()>(
        &kernel("echo64"),
        1,
        (),
        &options(MSG64_TYPE, MSG64_TYPE, 256),
    );
    std::env::remove_var(ACTOR_TRACE_ENV);
    let echo = spawned.map_err(|e| e.to_string())?.remove(0);
    let one = |seq: u64, times: Option<&mut (Vec<f64>, Vec<f64>, Vec<f64>)>| {
        let m = msg64(seq);
        let t0 = Instant::now();
        echo.send(&m).map_err(|e| e.to_string())?;
        let t1 = Instant::now();
        let reply = echo.recv().map_err(|e| e.to_string())?;
        let t2 = Instant::now();
        if reply != echo64_reply(&m) {
            return Err(format!("echo64 (traced): wrong reply to {seq}"));
        }
        if let Some((send, wait, total)) = times {
            send.push((t1 - t0).as_nanos() as f64);
            wait.push((t2 - t1).as_nanos() as f64);
            total.push((t2 - t0).as_nanos() as f64);
        }
        Ok::<(), String>(())
    };
    for seq in 1..=config.warmup as u64 {
        one(seq, None)?;
    }
    let before = echo.loop_trace();
    let n = config.calls / 2;
    let mut times = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for seq in 1..=n as u64 {
        one(seq + config.warmup as u64, Some(&mut times))?;
    }
    let trace = echo.loop_trace().since(&before);
    echo.stop().map_err(|e| e.to_string())?;
    let (send, wait, total) = times;
    Ok(CallAnatomy {
        send: Latency::new(
            "traced echo64: send",
            "Actor::send (slot, flagged copy, tail)",
            send,
        ),
        wait: Latency::new(
            "traced echo64: wait",
            "send returned until recv returned the reply",
            wait,
        ),
        total: Latency::new(
            "traced echo64: send + recv",
            "the whole round trip, loop traced",
            total,
        ),
        trace,
    })
}

/// Where echo64's round trip goes: the host's halves (percentiles) and the
/// traced loop's stages (means per batch, device clock).
pub fn table(out: &mut String, a: &CallAnatomy, floor_p50: Option<f64>) {
    let t = &a.trace;
    let _ = writeln!(
        out,
        "\n### Anatomy of a call (echo64 with the loop trace, {} calls, {} batches)\n",
        a.total.n(),
        t.batches
    );
    let _ = writeln!(out, "| host | p50 | mean |");
    let _ = writeln!(out, "|---|---|---|");
    for l in [&a.send, &a.wait, &a.total] {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            l.what,
            fmt_ns(l.p50()),
            fmt_ns(l.mean())
        );
    }
    let _ = writeln!(
        out,
        "\n| device stage (mean per batch, each from the end of the one before) | SM cycles | ns |"
    );
    let _ = writeln!(out, "|---|---|---|");
    for (k, what) in LoopTrace::STAGES.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {what} | {:.0} | {:.0} |",
            a.cycles_per_batch(k),
            a.per_batch(k)
        );
    }
    let _ = writeln!(
        out,
        "| look spins that found nothing, per batch | | {:.2} |",
        t.empty_looks as f64 / t.batches.max(1) as f64
    );
    let busy = a.device_busy_ns();
    let _ = writeln!(
        out,
        "\nSM clock over the busy stages: {:.0} MHz (stages counted by `clock64`, the busy span timed by `%globaltimer`).",
        t.clock_mhz()
    );
    let _ = writeln!(
        out,
        "\nDevice busy (seen → reply tail stored): {busy:.0} ns per call; the rest of the mean round trip, {:.0} ns, is the two PCIe crossings, the look's polling phase and the host{}. A call the compact path answers (echo64's) writes its reply's flagged copy at \"replies written\", and the host takes the reply from the copy: the closing fence and the tail store overlap the reply's way back.",
        a.total.mean() - busy,
        floor_p50.map_or(String::new(), |f| format!(
            " (the persistent floor's whole round trip: p50 {})",
            fmt_ns(f)
        ))
    );
}

/// The anatomy as JSON: the host's halves and the stages' means.
pub fn json(a: &CallAnatomy) -> serde_json::Value {
    json!({
        "send": a.send.json(),
        "wait": a.wait.json(),
        "total": a.total.json(),
        "trace_batches": a.trace.batches,
        "trace_mean_ns": LoopTrace::STAGES.iter().enumerate()
            .map(|(k, what)| (what.to_string(), json!(a.per_batch(k))))
            .collect::<serde_json::Map<_, _>>(),
        "empty_looks_per_batch": a.trace.empty_looks as f64 / a.trace.batches.max(1) as f64,
    })
}
