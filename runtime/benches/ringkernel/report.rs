//! The report: the device and how it was measured, the tables, the bars of
//! DESIGN.md section 5 with their ratios, as markdown (stdout and
//! `results.md`), JSON (`results.json`) and a latency CDF (`latency_cdf.svg`).

use std::fmt::Write as _;

use plotters::prelude::*;
use serde_json::json;

use crate::bars::bars;
use crate::compile::median;
use crate::k2k::{ladder_applies, K2kLatency, LADDER};
use crate::machine::smi;
use crate::stats::{fmt_ns, Latency, Throughput};
use crate::{actor_hops, anatomy, hop_anatomy};
use crate::{Config, Results};

fn latency_row(out: &mut String, l: &Latency) {
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} | {} |",
        l.name,
        l.n(),
        fmt_ns(l.quantile(0.5)),
        fmt_ns(l.quantile(0.9)),
        fmt_ns(l.quantile(0.99)),
        fmt_ns(l.quantile(0.999)),
        fmt_ns(l.sorted_ns.first().copied().unwrap_or(f64::NAN)),
        l.what
    );
}

fn throughput_row(out: &mut String, t: &Throughput) {
    let _ = writeln!(
        out,
        "| {} | {:.2} | {} | {:.1} | {:.2} | {:.2} | {} | {} | {} |",
        t.name,
        t.rate() / 1e6,
        t.messages,
        t.elapsed.as_secs_f64(),
        t.rate() * t.bytes_in as f64 / 1e9,
        t.rate() * t.bytes_out as f64 / 1e9,
        t.bad,
        t.receiver_idle
            .map_or("-".to_string(), |x| format!("{:.0} %", x * 100.0)),
        t.what
    );
}

fn markdown(config: &Config, r: &Results) -> String {
    let mut out = String::new();
    let b = r.baselines.as_ref();
    let _ = writeln!(out, "# RingKernel benchmark results\n");
    if config.cpu {
        let _ = writeln!(
            out,
            "**CPU-backend smoke run (`--cpu`): checks the benchmark itself; the numbers mean nothing.**\n"
        );
    }
    if config.quick {
        let _ = writeln!(
            out,
            "**Quick run (`--quick`): short streams and fewer samples; not a recorded result.**\n"
        );
    }
    let dev = |k: &str| {
        r.device
            .iter()
            .find(|(key, _)| key == k)
            .map_or("?", |(_, v)| v.as_str())
    };
    let _ = writeln!(out, "- date: {}", r.date);
    let _ = writeln!(
        out,
        "- device: {} ({}), driver {} (CUDA driver API {}), PCI {}",
        dev("name"),
        dev("arch"),
        smi(&r.smi_before, "driver_version"),
        dev("cuda_driver_api"),
        smi(&r.smi_before, "pci.bus_id")
    );
    for (when, fields) in [
        ("before", &r.smi_before),
        ("after the streams", &r.smi_after),
    ] {
        let _ = writeln!(
            out,
            "- clocks {when}: SM {} (max {}), memory {} (max {}), {}, {}, {}",
            smi(fields, "clocks.current.sm"),
            smi(fields, "clocks.max.sm"),
            smi(fields, "clocks.current.memory"),
            smi(fields, "clocks.max.memory"),
            smi(fields, "pstate"),
            smi(fields, "power.draw"),
            smi(fields, "temperature.gpu")
        );
    }
    let _ = writeln!(out, "- host CPU: {}", r.host_cpu);
    let _ = writeln!(out, "- command: `{}`", config.command);
    let _ = writeln!(
        out,
        "- streams: {:.0} s measured each after 0.5 s of warm-up; round trips: {} after {} of warm-up\n",
        config.duration.as_secs_f64(),
        config.calls,
        config.warmup
    );
    let _ = writeln!(out, "## Round trips (host → device → host)\n");
    let _ = writeln!(
        out,
        "| measurement | n | p50 | p90 | p99 | p99.9 | min | one sample is |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    if let Some(b) = b {
        for l in [
            &b.launch_sync,
            &b.graph_sync,
            &b.persistent,
            &b.persistent_multi,
        ] {
            latency_row(&mut out, l);
        }
    }
    for l in [&r.call_uniform, &r.call_in_order] {
        latency_row(&mut out, l);
    }
    if let Some(b) = b {
        let _ = writeln!(
            out,
            "\nPipelined launch throughput (many `cuLaunchKernel`, one synchronize): {:.0} ns per launch.",
            b.launch_pipelined_ns
        );
        let _ = writeln!(
            out,
            "Host store into mapped memory alone (not a latency: nothing waits for the device): p50 {}.",
            fmt_ns(b.host_store.p50())
        );
    }
    if let Some(a) = &r.anatomy {
        anatomy::table(&mut out, a, b.map(|b| b.persistent.p50()));
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "## Streams (host → device → host, every reply checked)\n"
    );
    let _ = writeln!(
        out,
        "| stream | M msg/s | messages | s | GB/s in | GB/s out | bad | receiver idle | what |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    if let Some(b) = b {
        for t in [&b.stream64, &b.stream128, &b.stream128_two] {
            throughput_row(&mut out, t);
        }
    }
    for t in [&r.stream64, &r.stream64_two, &r.stream1k] {
        throughput_row(&mut out, t);
    }
    if let Some(k) = &r.k2k {
        k2k_table(&mut out, k);
    }
    actor_hops::table(&mut out, &r.actor_hops, r.k2k.as_ref());
    if !r.hop_anatomy.is_empty() {
        hop_anatomy::table(&mut out, &r.hop_anatomy);
    }
    let _ = writeln!(out, "\n## Restart after a fault\n");
    let _ = writeln!(
        out,
        "| measurement | n | p50 | p90 | p99 | p99.9 | min | one sample is |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    for l in [&r.restart.fault, &r.restart.recover, &r.restart.total] {
        latency_row(&mut out, l);
    }
    let _ = writeln!(out, "\n## Compilation\n");
    latency_header_once(&mut out);
    latency_row(&mut out, &r.transpile);
    let _ = writeln!(
        out,
        "\n| actor module | NVRTC cold (median) | cold load (median) | cache-hit load (median, min) |"
    );
    let _ = writeln!(out, "|---|---|---|---|");
    for m in &r.modules {
        let min_hit = m.hit_load_s.iter().copied().fold(f64::INFINITY, f64::min);
        let _ = writeln!(
            out,
            "| {} | {:.3} s | {:.3} s | {:.2} ms, {:.2} ms |",
            m.module,
            median(&m.nvrtc_s),
            median(&m.cold_load_s),
            median(&m.hit_load_s) * 1e3,
            min_hit * 1e3
        );
    }
    let _ = writeln!(out, "\n## Bars (DESIGN.md section 5)\n");
    for bar in bars(r) {
        let verdict = match bar.holds {
            Some(true) => "HOLDS",
            Some(false) => "MISSED",
            None => "NOT MEASURED",
        };
        let ratio = bar
            .ratio
            .map_or(String::new(), |x| format!(", ratio {x:.2}"));
        let _ = writeln!(out, "- **{verdict}** {}: {}{ratio}", bar.bar, bar.measured);
    }
    out
}

/// K2K latency per tier: the hand-written floor and the K2K inboxes, per
/// round trip and one way (median run), and their ratio.
pub fn k2k_table(out: &mut String, k: &K2kLatency) {
    let _ = writeln!(
        out,
        "\n## K2K ping-pong on the device (in-kernel %globaltimer, {} round trips = {} hops per run, median of {} runs)\n",
        k.round_trips,
        2 * u64::from(k.round_trips),
        k.runs
    );
    let _ = writeln!(
        out,
        "| tier | floor round trip | floor one-way | K2K inbox round trip | K2K inbox one-way | ratio | single-producer one-way | ratio | LL single-producer one-way | ratio | LL multi-producer one-way | ratio | bad |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for t in &k.tiers {
        if let Some(why) = &t.skipped {
            let _ = writeln!(
                out,
                "| {} | not measured: {why} | | | | | | | | | | | |",
                t.tier.name()
            );
            continue;
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.2} | {} | {:.2} | {} | {:.2} | {} | {:.2} | {} |",
            t.tier.name(),
            fmt_ns(2.0 * t.floor_one_way()),
            fmt_ns(t.floor_one_way()),
            fmt_ns(2.0 * t.queue_one_way()),
            fmt_ns(t.queue_one_way()),
            t.queue_one_way() / t.floor_one_way(),
            fmt_ns(t.sp_one_way()),
            t.sp_one_way() / t.floor_one_way(),
            fmt_ns(t.ll_sp_one_way()),
            t.ll_sp_one_way() / t.floor_one_way(),
            fmt_ns(t.ll_mp_one_way()),
            t.ll_mp_one_way() / t.floor_one_way(),
            t.errors
        );
    }
    k2k_ladder_table(out, k);
}

/// The ladder (k2k.cu's `k2k_lad_*`): one-way latency per variant and tier,
/// with its ratio to the tier's floor (bl_k2k_*).
fn k2k_ladder_table(out: &mut String, k: &K2kLatency) {
    let _ = writeln!(
        out,
        "\n### K2K ladder: one-way latency per step (ratio to the tier's floor; protocol = moves the envelope with its inbox's guarantees)\n"
    );
    let mut head = String::from("| variant | protocol |");
    let mut rule = String::from("|---|---|");
    for t in &k.tiers {
        let _ = write!(head, " {} |", t.tier.key());
        rule.push_str("---|");
    }
    let _ = writeln!(out, "{head}\n{rule}");
    for (v, (key, what, protocol)) in LADDER.iter().enumerate() {
        let mut row = format!(
            "| {key}: {what} | {} |",
            if *protocol { "yes" } else { "no" }
        );
        for t in &k.tiers {
            match (t.skipped.is_none() && !t.floor_rt_ns.is_empty())
                .then(|| t.ladder_one_way(v))
                .flatten()
            {
                Some(ns) => {
                    let _ = write!(row, " {} ({:.2}x) |", fmt_ns(ns), ns / t.floor_one_way());
                }
                None if !ladder_applies(v, t.tier) => row.push_str(" n/a (shared memory only) |"),
                None => row.push_str(" not measured |"),
            }
        }
        let _ = writeln!(out, "{row}");
    }
}

fn latency_header_once(out: &mut String) {
    let _ = writeln!(
        out,
        "| measurement | n | p50 | p90 | p99 | p99.9 | min | one sample is |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
}

fn json(config: &Config, r: &Results) -> serde_json::Value {
    let b = r.baselines.as_ref();
    let pairs = |v: &[(String, String)]| {
        serde_json::Value::Object(
            v.iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect::<serde_json::Map<_, _>>(),
        )
    };
    let baseline_latencies = b
        .map(|b| {
            vec![
                &b.launch_sync,
                &b.graph_sync,
                &b.persistent,
                &b.persistent_multi,
                &b.host_store,
            ]
        })
        .unwrap_or_default();
    let baseline_streams = b
        .map(|b| vec![&b.stream64, &b.stream128, &b.stream128_two])
        .unwrap_or_default();
    let latencies: serde_json::Map<String, serde_json::Value> = baseline_latencies
        .into_iter()
        .chain([
            &r.call_uniform,
            &r.call_in_order,
            &r.restart.fault,
            &r.restart.recover,
            &r.restart.total,
            &r.transpile,
        ])
        .map(|l| (l.name.clone(), l.json()))
        .collect();
    let streams: serde_json::Map<String, serde_json::Value> = baseline_streams
        .into_iter()
        .chain([&r.stream64, &r.stream64_two, &r.stream1k])
        .map(|t| (t.name.clone(), t.json()))
        .collect();
    json!({
        "date": r.date,
        "quick": config.quick,
        "cpu_smoke_run": config.cpu,
        "command": config.command,
        "device": pairs(&r.device),
        "nvidia_smi_before": pairs(&r.smi_before),
        "nvidia_smi_after_streams": pairs(&r.smi_after),
        "host_cpu": r.host_cpu,
        "config": {
            "stream_seconds": config.duration.as_secs_f64(),
            "calls": config.calls,
            "warmup_calls": config.warmup,
            "launches": config.launches,
            "baseline_messages": config.baseline_messages,
            "restarts": config.restarts,
        },
        "latency": latencies,
        "launch_pipelined_ns": b.map(|b| b.launch_pipelined_ns),
        "k2k": r.k2k.as_ref().map(|k| json!({
            "round_trips_per_run": k.round_trips,
            "runs": k.runs,
            "tiers": k.tiers.iter().map(|t| t.json()).collect::<Vec<_>>(),
        })),
        "k2k_actor_hops": actor_hops::json(&r.actor_hops, r.k2k.as_ref()),
        "call_anatomy": r.anatomy.as_ref().map(anatomy::json),
        "actor_hop_anatomy": hop_anatomy::json(&r.hop_anatomy),
        "streams": streams,
        "nvrtc": r.modules.iter().map(|m| json!({
            "module": m.module,
            "nvrtc_cold_s": m.nvrtc_s,
            "cold_load_s": m.cold_load_s,
            "cache_hit_load_s": m.hit_load_s,
        })).collect::<Vec<_>>(),
        "bars": bars(r).iter().map(|bar| json!({
            "bar": bar.bar,
            "measured": bar.measured,
            "ratio": bar.ratio,
            "holds": bar.holds,
        })).collect::<Vec<_>>(),
    })
}

/// The CDF of every round-trip measurement, up to its 99.9th percentile,
/// on a log time axis.
fn cdf_svg(path: &std::path::Path, r: &Results) -> Result<(), String> {
    let mut series: Vec<(&Latency, RGBColor)> = vec![
        (&r.call_uniform, RGBColor(214, 39, 40)),
        (&r.call_in_order, RGBColor(255, 127, 14)),
    ];
    if let Some(b) = &r.baselines {
        series.insert(0, (&b.persistent, RGBColor(0, 0, 0)));
        series.push((&b.graph_sync, RGBColor(44, 160, 44)));
        series.push((&b.launch_sync, RGBColor(31, 119, 180)));
    }
    let lo = series
        .iter()
        .map(|(l, _)| l.quantile(0.0) / 1e3)
        .fold(f64::INFINITY, f64::min)
        * 0.8;
    let hi = series
        .iter()
        .map(|(l, _)| l.quantile(0.999) / 1e3)
        .fold(0.0, f64::max)
        * 1.25;
    let err = |e: &dyn std::fmt::Display| format!("plotting: {e}");
    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Round-trip latency CDF, {}", r.device[0].1),
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d((lo.max(0.1)..hi).log_scale(), 0.0f64..1.0f64)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("round trip (µs, log scale)")
        .y_desc("fraction of samples ≤ x")
        .draw()
        .map_err(|e| err(&e))?;
    for (l, color) in series.into_iter() {
        let n = l.n();
        let last = ((n as f64 * 0.999) as usize).clamp(1, n);
        let step = (last / 2000).max(1);
        let points = (0..last)
            .step_by(step)
            .chain([last - 1])
            .map(|i| (l.sorted_ns[i] / 1e3, (i + 1) as f64 / n as f64));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(format!("{} (p50 {})", l.name, fmt_ns(l.p50())))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// Prints the markdown and writes the three files.
pub fn write(config: &Config, r: &Results) -> Result<(), String> {
    let md = markdown(config, r);
    println!("{md}");
    std::fs::create_dir_all(&config.out).map_err(|e| format!("{}: {e}", config.out.display()))?;
    let file = |name: &str| config.out.join(name);
    std::fs::write(file("results.md"), &md).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&json(config, r)).map_err(|e| e.to_string())?;
    std::fs::write(file("results.json"), text).map_err(|e| e.to_string())?;
    cdf_svg(&file("latency_cdf.svg"), r)?;
    eprintln!(
        "ringkernel bench: wrote results.md, results.json, latency_cdf.svg to {}",
        config.out.display()
    );
    Ok(())
}
