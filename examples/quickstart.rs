//! The quickstart: one actor, from Rust to the GPU and back.
//!
//! ```sh
//! cargo run --release --example quickstart
//! ```
//!
//! It transpiles the `summer` actor below to CUDA, writes the CUDA and the
//! PTX NVRTC makes of it to `target/ringkernel/quickstart/`, spawns the
//! actor (on CUDA device 0, or on the CPU backend where there is none),
//! makes 100,000 round trips through it, checking every reply, and prints
//! the round-trip latency percentiles and the throughput; then it streams
//! 100,000 more messages (batched sends and receives, every reply checked)
//! and prints that rate.
//!
//! `--messages N` (or `RINGKERNEL_QUICKSTART_MESSAGES=N`) changes the count;
//! the output says when it is not 100,000. `RINGKERNEL_BACKEND=cpu` forces
//! the CPU backend.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ringkernel::prelude::*;
use ringkernel::runtime::{Arch, Compiler, CudaSource, Target};

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Request {
    pub id: u32,
    pub values: [f32; 64],
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Response {
    pub id: u32,
    pub sum: f32,
}

#[derive(Clone, Copy, Debug, Default, GpuType)]
#[repr(C)]
pub struct Stats {
    pub count: u64,
    pub total: f32,
}

/// Runs on every thread of the actor's block, once per message.
#[ring_kernel(block_size = 64)]
pub fn summer(ctx: &RingContext, state: &mut Stats, msg: &Request) -> Response {
    let tid = ctx.thread_id() as usize;
    let sum = ctx.block_reduce_sum(msg.values[tid]);
    if ctx.is_leader() {
        state.count += 1;
        state.total += sum;
    }
    Response { id: msg.id, sum }
}

const DEFAULT_MESSAGES: usize = 100_000;
const MESSAGES_ENV: &str = "RINGKERNEL_QUICKSTART_MESSAGES";

/// Request `id`: small integers, so every order of summation gives the
/// same `f32` (exact below 2^24) and each reply can be checked exactly.
fn request(id: u32) -> (Request, f32) {
    let mut values = [0f32; 64];
    let mut sum = 0u32;
    for (i, v) in values.iter_mut().enumerate() {
        let x = (id.wrapping_mul(31) ^ (i as u32 * 7)) % 97;
        *v = x as f32;
        sum += x;
    }
    (Request { id, values }, sum as f32)
}

fn check(reply: &Response, id: u32, sum: f32) -> Result<(), String> {
    if reply.id != id || reply.sum != sum {
        return Err(format!(
            "wrong reply: expected id {id} sum {sum}, got id {} sum {}",
            reply.id, reply.sum
        ));
    }
    Ok(())
}

fn message_count() -> Result<usize, String> {
    let mut args = std::env::args().skip(1);
    let mut count = std::env::var(MESSAGES_ENV).ok();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--messages" => count = Some(args.next().ok_or("--messages needs a number")?),
            other => return Err(format!("unknown argument `{other}` (try --messages N)")),
        }
    }
    match count {
        None => Ok(DEFAULT_MESSAGES),
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("message count `{c}` is not a positive number")),
    }
}

/// Where the generated files go: `$CARGO_TARGET_DIR` or `target/`.
fn out_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("ringkernel").join("quickstart")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn micros(d: Duration) -> String {
    format!("{:.2} us", d.as_secs_f64() * 1e6)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = message_count()?;
    let rt = Runtime::new()?;
    println!("backend: {}", rt.backend());

    // 1. The CUDA the transpiler wrote, and the PTX NVRTC makes of it.
    let dir = out_dir();
    std::fs::create_dir_all(&dir)?;
    let cu = dir.join("summer.cu");
    std::fs::write(&cu, summer::cuda_source())?;
    println!("CUDA: {}", cu.display());
    let arch = match rt.backend() {
        Backend::Cuda { arch, .. } => Arch(arch.0 * 10 + arch.1),
        Backend::Cpu => Arch::SM_90,
    };
    let transpiled = summer::kernel().transpile()?;
    let source = CudaSource::from_output("summer", &transpiled.cuda).with_device_lib();
    match Compiler::without_cache().compile(&source, Target::Ptx(arch)) {
        Ok(image) => {
            let ptx = dir.join(format!("summer.sm_{}.ptx", arch.0));
            std::fs::write(&ptx, &image.image)?;
            println!("PTX:  {}", ptx.display());
        }
        // Without NVRTC there is no PTX, but the CPU backend still runs.
        Err(e) if !rt.is_cuda() => println!("PTX:  not written ({e})"),
        Err(e) => return Err(e.into()),
    }

    // 2. Spawn, and n round trips, each timed and checked.
    let actor = summer::spawn(&rt, SpawnOptions::default())?;
    if n != DEFAULT_MESSAGES {
        println!("messages: {n} (not {DEFAULT_MESSAGES}: set by --messages or {MESSAGES_ENV})");
    }
    let warmup = (n / 10).clamp(1, 1_000) as u32;
    for id in 0..warmup {
        let (req, sum) = request(id);
        check(&actor.call(&req)?, id, sum)?;
    }
    let mut latencies = Vec::with_capacity(n);
    let start = Instant::now();
    for i in 0..n {
        let id = warmup + i as u32;
        let (req, sum) = request(id);
        let t = Instant::now();
        let reply = actor.call(&req)?;
        latencies.push(t.elapsed());
        check(&reply, id, sum)?;
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    println!(
        "round trips: {n} after {warmup} warm-up, every reply checked\n  \
         p50 {}  p90 {}  p99 {}  p99.9 {}  max {}\n  \
         {:.0} round trips/s",
        micros(percentile(&latencies, 0.50)),
        micros(percentile(&latencies, 0.90)),
        micros(percentile(&latencies, 0.99)),
        micros(percentile(&latencies, 0.999)),
        micros(*latencies.last().unwrap()),
        n as f64 / elapsed.as_secs_f64()
    );

    // 3. Streaming: batched sends and receives, replies checked in order.
    let first = warmup + n as u32;
    let requests: Vec<(Request, f32)> = (0..n as u32).map(|i| request(first + i)).collect();
    let msgs: Vec<Request> = requests.iter().map(|(r, _)| *r).collect();
    let mut replies = Vec::with_capacity(n);
    let (mut sent, mut received) = (0usize, 0usize);
    let start = Instant::now();
    while received < n {
        if sent < n {
            sent += actor.try_send_batch(&msgs[sent..(sent + 256).min(n)])?;
        }
        let before = replies.len();
        actor.try_recv_batch(&mut replies, 256)?;
        for (k, reply) in replies[before..].iter().enumerate() {
            let (req, sum) = &requests[received + k];
            check(reply, req.id, *sum)?;
        }
        received = replies.len();
    }
    let elapsed = start.elapsed();
    println!(
        "streaming: {n} messages in {:.3} s, every reply checked: {:.0} messages/s",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64()
    );

    let stats = actor.state()?;
    let total = u64::from(warmup) + 2 * n as u64;
    if stats.count != total {
        return Err(format!("the actor counted {} messages, not {total}", stats.count).into());
    }
    println!(
        "actor state: {} messages counted on the device side",
        stats.count
    );
    actor.stop()?;
    Ok(())
}
