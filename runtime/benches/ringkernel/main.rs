//! The hardware-floor benchmark: in one process on one GPU, the baselines
//! (launch + synchronize, graph replay + synchronize, pipelined launches, a
//! hand-written persistent kernel polling mapped memory, hand-written
//! block-batched streams, hand-written K2K ping-pong per tier) and RingKernel
//! (the same K2K ping-pong through the device library's inboxes, one hop
//! between two actors of an actor system per placement, `call` round trips, batched
//! streams with every reply checked, restart after a fault, NVRTC cold and
//! cached loads, transpile time), then the bars of DESIGN.md section 5 with
//! the measured ratios. Writes `results.md`, `results.json` and
//! `latency_cdf.svg` to the output folder. It reports; it never fails a
//! build (it exits non-zero only when it cannot measure at all, or a reply
//! was wrong).
//!
//! ```text
//! cargo bench -p ringkernel-runtime --bench ringkernel -- [--duration SECS] [--calls N]
//!     [--out DIR] [--quick] [--only k2k|calls]
//! ```
//! `--duration` is per stream (default 10 s, the recorded setting);
//! `--calls` round trips per measurement after warm-up (default 200000);
//! `--quick` is a smoke run (1 s streams, 20000 calls), not a recorded one;
//! `--cpu` runs the RingKernel part on the CPU backend (no GPU: checks the
//! benchmark itself; its numbers mean nothing);
//! `--only k2k` runs only the K2K parts (the ping-pong per tier: floors,
//! inboxes, the ladder; the actor hops and their traced anatomy) and writes
//! `k2k.md` and `k2k.json` (no bars, no other parts); `--only calls` runs
//! the baselines and the round trips with the call's anatomy and writes
//! `calls.md` (for A/B runs of the round trip).
//! BENCHMARKS.md says what each number means.

mod actor_hops;
mod actors;
mod anatomy;
mod bars;
mod baselines;
mod compile;
mod hop_anatomy;
mod hop_system;
mod k2k;
mod machine;
mod report;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use ringkernel_runtime::{Backend, Runtime};

/// What to measure, and how much.
#[derive(Debug, Clone)]
pub struct Config {
    /// Measured time of each RingKernel stream (after 0.5 s of warm-up).
    pub duration: Duration,
    /// Round trips per latency measurement, after `warmup` more.
    pub calls: usize,
    pub warmup: usize,
    /// Launches per launch-latency measurement.
    pub launches: usize,
    /// Messages per hand-written stream.
    pub baseline_messages: u64,
    pub restarts: usize,
    /// Round trips per K2K ping-pong run (two hops each).
    pub k2k_round_trips: u32,
    /// Measured runs per K2K ping-pong (after one warm-up run).
    pub k2k_runs: usize,
    /// Hops per actor-hop ping-pong run (actor_hops.rs; `k2k_runs` runs).
    pub actor_hops: u32,
    pub transpiles: usize,
    pub cold_compiles: usize,
    pub cache_hits: usize,
    pub out: PathBuf,
    pub quick: bool,
    /// RingKernel on the CPU backend, no baselines or NVRTC: a smoke test
    /// of the benchmark where there is no GPU.
    pub cpu: bool,
    /// `--only k2k`: the K2K ping-pong alone.
    pub only_k2k: bool,
    /// `--only calls`: the round trips alone (see [`only_calls`]).
    pub only_calls: bool,
    /// `--only streams`: the streams alone (see [`only_streams`]).
    pub only_streams: bool,
    /// `--only compile`: the NVRTC cold and cached loads alone.
    pub only_compile: bool,
    /// The command line, for the report.
    pub command: String,
}

impl Config {
    fn from_args() -> Result<Config, String> {
        let args: Vec<String> = std::env::args().collect();
        let mut config = Config {
            duration: Duration::from_secs(10),
            calls: 200_000,
            warmup: 20_000,
            launches: 20_000,
            baseline_messages: 20_000_000,
            restarts: 500,
            k2k_round_trips: 100_000,
            k2k_runs: 5,
            actor_hops: 100_000,
            transpiles: 500,
            cold_compiles: 3,
            cache_hits: 20,
            out: PathBuf::from("target/ringkernel-bench"),
            quick: false,
            cpu: false,
            only_k2k: false,
            only_calls: false,
            only_streams: false,
            only_compile: false,
            command: args.join(" "),
        };
        let mut it = args.iter().skip(1);
        while let Some(arg) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match arg.as_str() {
                "--duration" => {
                    let secs: f64 = value("--duration")?
                        .parse()
                        .map_err(|e| format!("--duration: {e}"))?;
                    config.duration = Duration::from_secs_f64(secs);
                }
                "--calls" => {
                    config.calls = value("--calls")?
                        .parse()
                        .map_err(|e| format!("--calls: {e}"))?
                }
                "--out" => config.out = PathBuf::from(value("--out")?),
                "--quick" => {
                    config.quick = true;
                    config.duration = Duration::from_secs(1);
                    config.calls = 20_000;
                    config.warmup = 2_000;
                    config.launches = 5_000;
                    config.baseline_messages = 2_000_000;
                    config.restarts = 50;
                    config.k2k_round_trips = 50_000;
                    config.k2k_runs = 3;
                    config.actor_hops = 20_000;
                    config.transpiles = 100;
                    config.cold_compiles = 1;
                    config.cache_hits = 5;
                }
                "--cpu" => config.cpu = true,
                "--only" => match value("--only")?.as_str() {
                    "k2k" => config.only_k2k = true,
                    "calls" => config.only_calls = true,
                    "streams" => config.only_streams = true,
                    "compile" => config.only_compile = true,
                    other => {
                        return Err(format!(
                            "--only: unknown part `{other}` (known: k2k, calls, streams, compile)"
                        ))
                    }
                },
                // What `cargo bench` passes to every bench target.
                "--bench" => {}
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(config)
    }
}

/// Everything measured, for the report.
#[derive(Debug)]
pub struct Results {
    pub date: String,
    pub device: Vec<(String, String)>,
    pub smi_before: Vec<(String, String)>,
    pub smi_after: Vec<(String, String)>,
    pub host_cpu: String,
    /// None on the CPU backend.
    pub baselines: Option<baselines::Baselines>,
    /// K2K one-way latency per tier, floors and inboxes; None on the CPU
    /// backend.
    pub k2k: Option<k2k::K2kLatency>,
    /// One hop between two actors of a system, per placement.
    pub actor_hops: actor_hops::ActorHops,
    /// Where a hop goes (loop traced), per placement; empty on the CPU
    /// backend.
    pub hop_anatomy: Vec<Result<hop_anatomy::HopAnatomy, String>>,
    pub call_uniform: stats::Latency,
    pub call_in_order: stats::Latency,
    /// Where echo64's round trip goes (loop traced); None on the CPU backend.
    pub anatomy: Option<anatomy::CallAnatomy>,
    pub stream64: stats::Throughput,
    /// `stream64` with a producer and a consumer thread on the host.
    pub stream64_two: stats::Throughput,
    pub stream1k: stats::Throughput,
    pub restart: actors::Restart,
    pub transpile: stats::Latency,
    pub modules: Vec<compile::ModuleTimes>,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ringkernel bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn step(what: &str) {
    eprintln!("ringkernel bench: {what}");
}

fn run() -> Result<(), String> {
    let config = Config::from_args()?;
    let rt = if config.cpu {
        Runtime::cpu()
    } else {
        Runtime::cuda(0).map_err(|e| format!("needs a CUDA device (or --cpu): {e}"))?
    };
    let device = match rt.backend() {
        Backend::Cuda {
            ordinal,
            name,
            arch,
            driver_version,
        } => vec![
            ("name".to_string(), name),
            ("ordinal".to_string(), ordinal.to_string()),
            ("arch".to_string(), format!("sm_{}{}", arch.0, arch.1)),
            ("cuda_driver_api".to_string(), driver_version.to_string()),
        ],
        Backend::Cpu => vec![("name".to_string(), "CPU backend (smoke run)".to_string())],
    };
    if config.only_k2k {
        return only_k2k(&rt, &config);
    }
    if config.only_calls {
        return only_calls(&rt, &config);
    }
    if config.only_streams {
        return only_streams(&rt, &config);
    }
    if config.only_compile {
        return only_compile(&config);
    }
    let smi_before = machine::nvidia_smi();
    step("transpile");
    let transpile = compile::transpile(&config)?;
    let baselines = if config.cpu {
        None
    } else {
        step("baselines");
        Some(baselines::run(&rt, &config)?)
    };
    let k2k = if config.cpu {
        None
    } else {
        step("K2K ping-pong per tier");
        Some(k2k::run(&rt, &config)?)
    };
    step("actor hops per placement");
    let hops = if config.cpu {
        step(&format!(
            "actor hops: CPU backend, {} hops per run (checks the systems; the times mean nothing)",
            actor_hops::CPU_HOPS
        ));
        config.actor_hops.min(actor_hops::CPU_HOPS)
    } else {
        config.actor_hops
    };
    let actor_hops = actor_hops::run(&rt, hops, config.k2k_runs);
    let hop_anatomy = if config.cpu {
        Vec::new()
    } else {
        step("anatomy of an actor hop (loop traced)");
        hop_anatomy::run(&rt, hops)
    };
    step("RingKernel round trips");
    let (call_uniform, call_in_order) = actors::calls(&rt, &config)?;
    let anatomy = if config.cpu {
        None
    } else {
        step("anatomy of a call (loop traced)");
        Some(anatomy::call_anatomy(&rt, &config)?)
    };
    step("RingKernel streams");
    let mut streams = actors::streams(&rt, &config)?.into_iter();
    let (Some(stream64), Some(stream64_two), Some(stream1k)) =
        (streams.next(), streams.next(), streams.next())
    else {
        return Err("three RingKernel streams".into());
    };
    let smi_after = machine::nvidia_smi();
    step("restarts");
    let restart = actors::restarts(&rt, &config)?;
    let modules = if config.cpu {
        Vec::new()
    } else {
        step("NVRTC cold and cached loads");
        compile::nvrtc(&config)?
    };
    let results = Results {
        date: machine::utc_now(),
        device,
        smi_before,
        smi_after,
        host_cpu: machine::host_cpu(),
        baselines,
        k2k,
        actor_hops,
        hop_anatomy,
        call_uniform,
        call_in_order,
        anatomy,
        stream64,
        stream64_two,
        stream1k,
        restart,
        transpile,
        modules,
    };
    let mut bad = results.stream64.bad + results.stream64_two.bad + results.stream1k.bad;
    if let Some(b) = &results.baselines {
        bad += b.stream64.bad + b.stream128.bad + b.stream128_two.bad;
    }
    if let Some(k) = &results.k2k {
        bad += k.tiers.iter().map(|t| t.errors).sum::<u64>();
    }
    bad += results.actor_hops.errors();
    report::write(&config, &results)?;
    if bad > 0 {
        return Err(format!(
            "{bad} streamed replies, K2K messages or actor-hop runs failed their check"
        ));
    }
    Ok(())
}

/// Writes one `--only` part's file `name` into the output folder.
fn write_part(config: &Config, name: &str, text: &str) -> Result<(), String> {
    std::fs::create_dir_all(&config.out).map_err(|e| format!("{}: {e}", config.out.display()))?;
    let path = config.out.join(name);
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// `--only calls`: the baselines and the actor round trips with the call's
/// anatomy, to stdout and `calls.md` (for A/B runs of the round trip, e.g.
/// with `RINGKERNEL_ACTOR_DEFINES`, without the rest of the program).
fn only_calls(rt: &Runtime, config: &Config) -> Result<(), String> {
    if config.cpu {
        return Err("--only calls needs a GPU (the floors run on the device)".into());
    }
    step("baselines");
    let b = baselines::run(rt, config)?;
    step("RingKernel round trips");
    let (uniform, in_order) = actors::calls(rt, config)?;
    step("anatomy of a call (loop traced)");
    let a = anatomy::call_anatomy(rt, config)?;
    let mut md = String::from("| measurement | n | p50 | p90 | p99 | ratio to the floor (p50) |\n|---|---|---|---|---|---|\n");
    let floor = b.persistent.p50();
    for l in [
        &b.launch_sync,
        &b.persistent,
        &b.persistent_multi,
        &uniform,
        &in_order,
    ] {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.3} |\n",
            l.name,
            l.n(),
            stats::fmt_ns(l.p50()),
            stats::fmt_ns(l.quantile(0.90)),
            stats::fmt_ns(l.quantile(0.99)),
            l.p50() / floor
        ));
    }
    md.push('\n');
    anatomy::table(&mut md, &a, Some(floor));
    print!("{md}");
    write_part(config, "calls.md", &md)
}

/// `--only streams`: the hand-written block-batched streams and
/// RingKernel's, to stdout and `streams.md` (for A/B runs of the stream,
/// e.g. with `RINGKERNEL_ACTOR_NVRTC_OPTIONS`); fails when a reply was wrong.
fn only_streams(rt: &Runtime, config: &Config) -> Result<(), String> {
    if config.cpu {
        return Err(
            "--only streams needs a GPU (the hand-written streams run on the device)".into(),
        );
    }
    step("baselines");
    let b = baselines::run(rt, config)?;
    step("RingKernel streams");
    let ours = actors::streams(rt, config)?;
    let mut md = String::from(
        "| stream | M msg/s | messages | s | bad | receiver idle |\n|---|---|---|---|---|---|\n",
    );
    let all: Vec<&stats::Throughput> = [&b.stream64, &b.stream128, &b.stream128_two]
        .into_iter()
        .chain(ours.iter())
        .collect();
    for t in &all {
        md.push_str(&format!(
            "| {} | {:.2} | {} | {:.1} | {} | {} |\n",
            t.name,
            t.rate() / 1e6,
            t.messages,
            t.elapsed.as_secs_f64(),
            t.bad,
            t.receiver_idle
                .map_or("-".to_string(), |i| format!("{:.0} %", i * 100.0)),
        ));
    }
    print!("{md}");
    write_part(config, "streams.md", &md)?;
    let bad: u64 = all.iter().map(|t| t.bad).sum();
    if bad > 0 {
        return Err(format!("{bad} streamed replies failed their check"));
    }
    Ok(())
}

/// `--only compile`: the NVRTC cold and cache-hit loads of the actor
/// modules, to stdout and `compile.md` (for A/B runs of NVRTC options).
fn only_compile(config: &Config) -> Result<(), String> {
    if config.cpu {
        return Err("--only compile needs a GPU (a load ends in cuModuleLoadData)".into());
    }
    step("NVRTC cold and cached loads");
    let modules = compile::nvrtc(config)?;
    let mut md = String::from(
        "| actor module | NVRTC cold (median) | cold load (median) | cache-hit load (median) |\n|---|---|---|---|\n",
    );
    for m in &modules {
        md.push_str(&format!(
            "| {} | {:.3} s | {:.3} s | {:.2} ms |\n",
            m.module,
            compile::median(&m.nvrtc_s),
            compile::median(&m.cold_load_s),
            compile::median(&m.hit_load_s) * 1e3,
        ));
    }
    print!("{md}");
    write_part(config, "compile.md", &md)
}

/// `--only k2k`: the K2K ping-pong per tier and the actor hops (with their
/// traced anatomy), the tables to stdout and to `k2k.md`, the numbers to
/// `k2k.json`; fails when a message or a hop run was wrong.
fn only_k2k(rt: &Runtime, config: &Config) -> Result<(), String> {
    if config.cpu {
        return Err("--only k2k needs a GPU (the K2K ping-pong runs on the device)".into());
    }
    step("K2K ping-pong per tier");
    let k = k2k::run(rt, config)?;
    step("actor hops per placement");
    let hops = actor_hops::run(rt, config.actor_hops, config.k2k_runs);
    step("anatomy of an actor hop (loop traced)");
    let anatomy = hop_anatomy::run(rt, config.actor_hops);
    let mut md = String::new();
    report::k2k_table(&mut md, &k);
    actor_hops::table(&mut md, &hops, Some(&k));
    hop_anatomy::table(&mut md, &anatomy);
    print!("{md}");
    let json = serde_json::json!({
        "command": config.command,
        "round_trips": k.round_trips,
        "runs": k.runs,
        "tiers": k.tiers.iter().map(k2k::TierLatency::json).collect::<Vec<_>>(),
        "actor_hops": actor_hops::json(&hops, Some(&k)),
        "actor_hop_anatomy": hop_anatomy::json(&anatomy),
    });
    write_part(config, "k2k.md", &md)?;
    write_part(
        config,
        "k2k.json",
        &serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?,
    )?;
    let bad: u64 = k.tiers.iter().map(|t| t.errors).sum::<u64>() + hops.errors();
    if bad > 0 {
        return Err(format!(
            "{bad} K2K messages or actor-hop runs failed their check"
        ));
    }
    Ok(())
}
