//! RingKernel itself, through the public API: `call` round trips, batched
//! streams (`try_send_batch` / `try_recv_batch`, every reply checked), and
//! the restart of a faulted actor.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ringkernel_runtime::actor::{Actor, ActorError, SpawnOptions};
use ringkernel_runtime::{KernelSource, Runtime, SourceKind, SourceText};

use crate::stats::{ns_since, Latency, Throughput};
use crate::Config;

/// The actor modules: (handler name, Rust text), one actor each.
pub const MODULES: [(&str, &str); 3] = [
    ("echo64", include_str!("echo64.rs")),
    ("digest1k", include_str!("digest1k.rs")),
    ("guard", include_str!("guard.rs")),
];

/// `Msg64` of echo64.rs and guard.rs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Msg64 {
    pub seq: u64,
    pub words: [u32; 14],
}

/// `Msg1k` of digest1k.rs.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Msg1k {
    pub seq: u64,
    pub words: [u32; 254],
}

/// `Digest` of digest1k.rs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Digest {
    pub seq: u64,
    pub sum: u32,
    pub max: u32,
}

/// `Tally` of guard.rs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Tally {
    pub count: u64,
    pub cells: [u32; 4],
}

pub const MSG64_TYPE: u32 = 0x4D36_3421;
const MSG1K_TYPE: u32 = 0x4D31_4B21;
const DIGEST_TYPE: u32 = 0x4447_5354;

/// The actor module of handler `name` (one of [`MODULES`]).
pub fn kernel(name: &str) -> KernelSource {
    let text = MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .expect("one of the benchmark's actors");
    KernelSource {
        name: name.into(),
        kind: SourceKind::RingKernel,
        items: vec![SourceText::whole_file(
            format!("runtime/benches/ringkernel/{name}.rs"),
            text,
        )],
        layouts: Vec::new(),
        overflow_checks: true,
    }
}

/// The request with sequence number `seq`.
pub fn msg64(seq: u64) -> Msg64 {
    let mut words = [0u32; 14];
    for (j, w) in words.iter_mut().enumerate() {
        *w = (seq as u32)
            .wrapping_mul(0x9E37_79B1)
            .wrapping_add(j as u32 * 0x0101_0101);
    }
    Msg64 { seq, words }
}

/// What `echo64` answers to `m`.
pub fn echo64_reply(m: &Msg64) -> Msg64 {
    let mut words = m.words;
    for (i, w) in words.iter_mut().enumerate() {
        *w = w.wrapping_mul(3).wrapping_add(i as u32) ^ (m.seq as u32);
    }
    Msg64 { seq: m.seq, words }
}

/// A request `guard` accepts (words[0] < 4) and what it answers.
fn guard_msg(seq: u64) -> (Msg64, Msg64) {
    let mut m = msg64(seq);
    m.words[0] %= 4;
    let mut reply = m;
    reply.words[13] = m.words.iter().fold(0u32, |a, w| a.wrapping_add(*w));
    (m, reply)
}

fn msg1k(seq: u64) -> Msg1k {
    let mut words = [0u32; 254];
    for (j, w) in words.iter_mut().enumerate() {
        *w = (seq as u32).wrapping_add(j as u32);
    }
    Msg1k { seq, words }
}

fn digest_of(seq: u64) -> Digest {
    let s = seq as u32;
    let sum = s.wrapping_mul(254).wrapping_add(253 * 254 / 2);
    let max = if s <= u32::MAX - 253 {
        s + 253
    } else {
        (0..254u32).map(|j| s.wrapping_add(j)).max().unwrap_or(0)
    };
    Digest { seq, sum, max }
}

pub fn options(message_type_id: u32, reply_type_id: u32, capacity: u32) -> SpawnOptions {
    SpawnOptions {
        inbox_capacity: capacity,
        outbox_capacity: capacity,
        message_type_id,
        reply_type_id,
        ..SpawnOptions::default()
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// `call` round trips: warm-up, then `config.calls` timed calls, each reply
/// checked (outside the timed region) against what the handler computes.
fn round_trips<S: Copy>(
    actor: &Actor<Msg64, Msg64, S>,
    config: &Config,
    request: impl Fn(u64) -> (Msg64, Msg64),
) -> Result<(Vec<f64>, u64), String> {
    let mut bad = 0u64;
    for seq in 1..=config.warmup as u64 {
        let (m, expected) = request(seq);
        if actor.call(&m).map_err(err)? != expected {
            bad += 1;
        }
    }
    let mut v = Vec::with_capacity(config.calls);
    for seq in 1..=config.calls as u64 {
        let (m, expected) = request(seq + config.warmup as u64);
        let t0 = Instant::now();
        let reply = actor.call(&m).map_err(err)?;
        v.push(ns_since(t0));
        if reply != expected {
            bad += 1;
        }
    }
    Ok((v, bad))
}

/// Round trips through `call` with a 64-byte payload: the uniform `echo64`
/// and the stateful, in-order `guard`.
pub fn calls(rt: &Runtime, config: &Config) -> Result<(Latency, Latency), String> {
    let echo = rt
        .spawn::<Msg64, Msg64, ()>(
            &kernel("echo64"),
            1,
            (),
            &options(MSG64_TYPE, MSG64_TYPE, 256),
        )
        .map_err(err)?
        .remove(0);
    let (v, bad) = round_trips(&echo, config, |seq| {
        let m = msg64(seq);
        (m, echo64_reply(&m))
    })?;
    echo.stop().map_err(err)?;
    if bad > 0 {
        return Err(format!("echo64: {bad} wrong replies"));
    }
    let uniform = Latency::new(
        "RingKernel call (echo64)",
        "Actor::call, 64 B request and reply with full envelopes, every word transformed by the device; stateless handler, one thread per message",
        v,
    );
    let guard = rt
        .spawn::<Msg64, Msg64, Tally>(
            &kernel("guard"),
            1,
            Tally::default(),
            &options(MSG64_TYPE, MSG64_TYPE, 256),
        )
        .map_err(err)?
        .remove(0);
    let (v, bad) = round_trips(&guard, config, guard_msg)?;
    guard.stop().map_err(err)?;
    if bad > 0 {
        return Err(format!("guard: {bad} wrong replies"));
    }
    let in_order = Latency::new(
        "RingKernel call (guard)",
        "Actor::call, 64 B request and reply; stateful handler, 64-thread block reduction, messages in order",
        v,
    );
    Ok((uniform, in_order))
}

/// How a stream's host side is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostThreads {
    /// One thread sends and receives (as limits.cu does).
    One,
    /// A producer thread sends, a consumer thread receives and checks.
    Two,
}

impl HostThreads {
    pub fn label(self) -> &'static str {
        match self {
            HostThreads::One => "1 host thread",
            HostThreads::Two => "2 host threads",
        }
    }
}

/// One turn of a stream's measuring loop (its argument: bad replies so far
/// and the time spent finding nothing to receive).
type Step<'a> = dyn FnMut(&mut u64, &mut Duration) -> Result<(), String> + 'a;

/// Keeps up to `window` messages in flight: fills a batch, sends what
/// fits, takes every reply there is and checks each. Counts the replies
/// checked in `duration` after 0.5 s of warm-up. Returns (replies checked,
/// time, bad replies, the receiver's idle share of the time).
fn stream_with<M: Copy + Send, R: Copy + PartialEq + Send, S: Copy>(
    actor: &Actor<M, R, S>,
    host: HostThreads,
    duration: Duration,
    batch_max: usize,
    window: u64,
    make: impl Fn(u64) -> M + Sync,
    expected: impl Fn(u64) -> R + Sync,
) -> Result<(u64, Duration, u64, f64), String> {
    let warmup = Duration::from_millis(500);
    // The replies checked so far (the next expected sequence number - 1),
    // and whether the consumer is done.
    let done = AtomicU64::new(0);
    let finished = AtomicBool::new(false);
    // Messages are made straight into their inbox slots and replies
    // checked straight from their outbox slots (`try_send_with`,
    // `try_recv_with`), as the hand-written host loop does. With
    // RINGKERNEL_BENCH_STREAM_BUFFERED set, through the buffered API
    // instead (`try_send_batch` from a `Vec`, `try_recv_batch` into one),
    // for an A/B of the two in one build.
    let buffered = std::env::var_os("RINGKERNEL_BENCH_STREAM_BUFFERED").is_some();
    let send = |next: &mut u64, batch: &mut Vec<M>| -> Result<(), String> {
        let room = window - (*next - 1 - done.load(Ordering::Acquire));
        if room > 0 {
            let n = room.min(batch_max as u64);
            let first = *next;
            *next += if buffered {
                batch.clear();
                batch.extend((first..first + n).map(&make));
                actor.try_send_batch(batch)
            } else {
                actor.try_send_with(n as usize, |i| make(first + i as u64))
            }
            .map_err(err)? as u64;
        }
        Ok(())
    };
    let receive =
        |replies: &mut Vec<R>, bad: &mut u64, idle: &mut Duration| -> Result<usize, String> {
            let t0 = Instant::now();
            let mut seq = done.load(Ordering::Relaxed);
            let mut check = |r: R| {
                seq += 1;
                if r != expected(seq) {
                    *bad += 1;
                }
            };
            let got = if buffered {
                replies.clear();
                let got = actor.try_recv_batch(replies, window as usize);
                replies.iter().for_each(|r| check(*r));
                got
            } else {
                actor.try_recv_with(window as usize, check)
            }
            .map_err(err)?;
            if got == 0 {
                *idle += t0.elapsed();
            }
            done.store(seq, Ordering::Release);
            Ok(got)
        };
    // The measuring loop (the consumer's): returns when the window closes.
    let measure = |mut step: Box<Step<'_>>| {
        let start = Instant::now();
        let mut bad = 0u64;
        let mut idle = Duration::ZERO;
        let mut measured_from: Option<(Instant, u64)> = None;
        loop {
            let now = Instant::now();
            match measured_from {
                None if now - start >= warmup => {
                    idle = Duration::ZERO;
                    measured_from = Some((now, done.load(Ordering::Relaxed)))
                }
                Some((t0, first)) if now - t0 >= duration => {
                    finished.store(true, Ordering::Release);
                    let elapsed = now - t0;
                    return Ok((
                        done.load(Ordering::Relaxed) - first,
                        elapsed,
                        bad,
                        idle.as_secs_f64() / elapsed.as_secs_f64(),
                    ));
                }
                _ => {}
            }
            if let Err(e) = step(&mut bad, &mut idle) {
                finished.store(true, Ordering::Release);
                return Err(e);
            }
        }
    };
    match host {
        HostThreads::One => {
            let mut next = 1u64;
            let mut batch = Vec::with_capacity(batch_max);
            let mut replies = Vec::with_capacity(window as usize);
            // Diagnostics (RINGKERNEL_BENCH_STREAM_DIAG set): where the one
            // host thread's time goes, printed to stderr at the end (the
            // warm-up included; the clock readings cost ~2x25 ns a turn).
            let diag = std::env::var_os("RINGKERNEL_BENCH_STREAM_DIAG").is_some();
            let mut turns = [0u64; 5]; // turns, sent, sending ns, received, receiving ns
            let result = measure(Box::new(|bad, idle| {
                if !diag {
                    send(&mut next, &mut batch)?;
                    return receive(&mut replies, bad, idle).map(drop);
                }
                let t0 = Instant::now();
                let before = next;
                send(&mut next, &mut batch)?;
                let t1 = Instant::now();
                let got = receive(&mut replies, bad, idle)?;
                let t2 = Instant::now();
                turns[0] += 1;
                turns[1] += next - before;
                turns[2] += (t1 - t0).as_nanos() as u64;
                turns[3] += got as u64;
                turns[4] += (t2 - t1).as_nanos() as u64;
                Ok(())
            }));
            if diag {
                let [n, sent, send_ns, got, recv_ns] = turns;
                eprintln!(
                    "stream diag: {n} turns; per turn {:.1} sent in {:.0} ns, {:.1} received in {:.0} ns; per message: send {:.1} ns, receive {:.1} ns",
                    sent as f64 / n as f64,
                    send_ns as f64 / n as f64,
                    got as f64 / n as f64,
                    recv_ns as f64 / n as f64,
                    send_ns as f64 / sent.max(1) as f64,
                    recv_ns as f64 / got.max(1) as f64,
                );
            }
            result
        }
        HostThreads::Two => std::thread::scope(|scope| {
            let producer = scope.spawn(|| -> Result<(), String> {
                let mut next = 1u64;
                let mut batch = Vec::with_capacity(batch_max);
                while !finished.load(Ordering::Acquire) {
                    send(&mut next, &mut batch)?;
                }
                Ok(())
            });
            let mut replies = Vec::with_capacity(window as usize);
            let result = measure(Box::new(move |bad, idle| {
                receive(&mut replies, bad, idle).map(drop)
            }));
            producer
                .join()
                .map_err(|_| "the producer panicked".to_string())??;
            result
        }),
    }
}

/// Diagnostics (RINGKERNEL_BENCH_STREAM_DIAG set, and the actor compiled
/// with RINGKERNEL_ACTOR_TRACE): the loop's stages per batch over the
/// actor's life, to stderr. The counters are 32 bits: meaningful for short
/// streams (`--quick`) only.
fn print_stream_trace<M: Copy, R: Copy, S: Copy>(actor: &Actor<M, R, S>, label: &str) {
    if std::env::var_os("RINGKERNEL_BENCH_STREAM_DIAG").is_none() {
        return;
    }
    let t = actor.loop_trace();
    if t.batches == 0 {
        return;
    }
    let n = f64::from(t.batches);
    let ns = t.ns_per_cycle();
    eprintln!("stream trace ({label}): {} batches", t.batches);
    for (k, what) in ringkernel_runtime::actor::LoopTrace::STAGES
        .iter()
        .enumerate()
    {
        let cycles = f64::from(t.stages_cycles[k]) / n;
        eprintln!("  {what}: {cycles:.0} cycles, {:.0} ns", cycles * ns);
    }
}

/// Streams of 64-byte messages (`echo64`, 64-byte replies; one and two
/// host threads) and of 1 KiB messages (`digest1k`, 16-byte replies).
pub fn streams(rt: &Runtime, config: &Config) -> Result<Vec<Throughput>, String> {
    let mut out = Vec::new();
    for host in [HostThreads::One, HostThreads::Two] {
        let echo = rt
            .spawn::<Msg64, Msg64, ()>(
                &kernel("echo64"),
                1,
                (),
                &options(MSG64_TYPE, MSG64_TYPE, 4096),
            )
            .map_err(err)?
            .remove(0);
        let (messages, elapsed, bad, idle) =
            stream_with(&echo, host, config.duration, 1024, 4096, msg64, |seq| {
                echo64_reply(&msg64(seq))
            })?;
        print_stream_trace(&echo, host.label());
        echo.stop().map_err(err)?;
        out.push(Throughput {
            name: format!("RingKernel stream, 64 B, {}", host.label()),
            what: "Actor::try_send_with / try_recv_with (messages made in their slots, replies checked in theirs); 64 B payloads with full 64 B envelopes both ways (128 B slots), every reply checked; echo64 (one thread per message)".into(),
            messages,
            elapsed,
            bytes_in: 128,
            bytes_out: 128,
            bad,
            receiver_idle: Some(idle),
        });
    }
    let digest = rt
        .spawn::<Msg1k, Digest, ()>(
            &kernel("digest1k"),
            1,
            (),
            &options(MSG1K_TYPE, DIGEST_TYPE, 1024),
        )
        .map_err(err)?
        .remove(0);
    let (messages, elapsed, bad, idle) = stream_with(
        &digest,
        HostThreads::One,
        config.duration,
        256,
        1024,
        msg1k,
        digest_of,
    )?;
    digest.stop().map_err(err)?;
    out.push(Throughput {
        name: "RingKernel stream, 1 KiB, 1 host thread".into(),
        what: "as above with 1 KiB payloads (1088 B slots in), 16 B digest replies (128 B slots out); digest1k (block reductions, messages in order)".into(),
        messages,
        elapsed,
        bytes_in: 1088,
        bytes_out: 128,
        bad,
        receiver_idle: Some(idle),
    });
    Ok(out)
}

/// What a restart costs.
#[derive(Debug)]
pub struct Restart {
    /// Sending the faulting request until its call returns the fault.
    pub fault: Latency,
    /// `restart()` until the first reply of a call made right after it.
    pub recover: Latency,
    /// Both: fault → restarted → first reply.
    pub total: Latency,
}

/// A stateful actor faults on a request (index out of bounds), is
/// restarted in place, and answers the next request; `config.restarts` times.
pub fn restarts(rt: &Runtime, config: &Config) -> Result<Restart, String> {
    let guard = rt
        .spawn::<Msg64, Msg64, Tally>(
            &kernel("guard"),
            1,
            Tally::default(),
            &options(MSG64_TYPE, MSG64_TYPE, 256),
        )
        .map_err(err)?
        .remove(0);
    for seq in 1..=100 {
        let (m, _) = guard_msg(seq);
        guard.call(&m).map_err(err)?;
    }
    let (mut fault, mut recover, mut total) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..config.restarts as u64 {
        let mut bad = msg64(1000 + i);
        bad.words[0] = 7;
        let (good, expected) = guard_msg(2000 + i);
        let t0 = Instant::now();
        match guard.call(&bad) {
            Err(ActorError::Fault { .. }) => {}
            other => return Err(format!("restart: expected a fault, got {other:?}")),
        }
        let t1 = Instant::now();
        guard.restart().map_err(err)?;
        let reply = guard.call(&good).map_err(err)?;
        let t2 = Instant::now();
        if reply != expected {
            return Err("restart: wrong reply after the restart".into());
        }
        guard.dead_letters();
        fault.push((t1 - t0).as_nanos() as f64);
        recover.push((t2 - t1).as_nanos() as f64);
        total.push((t2 - t0).as_nanos() as f64);
    }
    guard.stop().map_err(err)?;
    Ok(Restart {
        fault: Latency::new(
            "fault seen",
            "call of a faulting request until it returns ActorError::Fault (the dead letter)",
            fault,
        ),
        recover: Latency::new(
            "restart + first reply",
            "restart() (state reset, restart request) until the reply of the next call",
            recover,
        ),
        total: Latency::new(
            "fault → restarted → first reply",
            "both, back to back",
            total,
        ),
    })
}
