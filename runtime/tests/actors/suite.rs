//! The actor test suite, generic over the backend that spawns.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use ringkernel_device::control::{FaultKind, Lifecycle};
use ringkernel_device::hlc::HlcTimestamp;
use ringkernel_runtime::actor::{Actor, ActorError, RestartPolicy, SpawnOptions};
use ringkernel_runtime::Runtime;
use ringkernel_transpiler::source::{KernelSource, SourceKind, SourceText};

pub const FILE: &str = "runtime/tests/actors/handlers.rs";
const HANDLERS: &str = include_str!("handlers.rs");

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Ping {
    pub seq: u64,
    pub payload: [u32; 12],
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Pong {
    pub seq: u64,
    pub actor: u32,
    pub checksum: u32,
    pub hlc_physical_ns: u64,
    pub hlc_logical: u32,
    pub hlc_node: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Counter {
    pub count: u64,
    pub sum: u64,
    pub cells: [u32; 4],
}

pub const PING_TYPE: u32 = 0x5049_4E47;
pub const PONG_TYPE: u32 = 0x504F_4E47;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Job {
    pub seq: u64,
    pub pick: u32,
    pub salt: u32,
    pub values: [u32; 32],
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Verdict {
    pub seq: u64,
    pub actor: u32,
    pub sum: u32,
    pub max: u32,
    pub lanes: u32,
    pub lane_sum: u32,
    pub count: u32,
    pub hlc_node: u32,
    pub salt: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Tally {
    pub count: u64,
    pub total: u32,
    pub cells: [u32; 4],
    pub last_salt: u32,
}

pub const JOB_TYPE: u32 = 0x4A4F_4221;
pub const VERDICT_TYPE: u32 = 0x5645_5244;

/// The backend under test.
pub trait Spawn {
    fn runtime(&self) -> &Runtime;

    /// `count` actors of `echo` (stateful, in-order schedule).
    fn spawn_echo(&self, count: u32, options: &SpawnOptions) -> Vec<Actor<Ping, Pong, Counter>> {
        self.runtime()
            .spawn(&kernel(), count, Counter::default(), options)
            .expect("spawn")
    }
}

/// Every runtime spawns the suite's actors, whatever its backend.
impl Spawn for Runtime {
    fn runtime(&self) -> &Runtime {
        self
    }
}

/// The suite's echo as a warp actor (`warp_echo`, `#[ring_kernel(warps =
/// 1)]`): the runtime packs the actors of one spawn into blocks.
pub struct WarpEcho<'a>(pub &'a Runtime);

impl Spawn for WarpEcho<'_> {
    fn runtime(&self) -> &Runtime {
        self.0
    }

    fn spawn_echo(&self, count: u32, options: &SpawnOptions) -> Vec<Actor<Ping, Pong, Counter>> {
        self.0
            .spawn(
                &kernel_named("warp_echo"),
                count,
                Counter::default(),
                options,
            )
            .expect("spawn")
    }
}

/// The stateless handlers of handlers.rs, by the schedule the GPU loop
/// gives them.
pub const STATELESS: [&str; 2] = ["relay", "spread"];

pub fn kernel() -> KernelSource {
    kernel_named("echo")
}

/// The handler `name` of handlers.rs.
pub fn kernel_named(name: &str) -> KernelSource {
    KernelSource {
        name: name.into(),
        kind: SourceKind::RingKernel,
        items: vec![SourceText {
            attr: String::new(),
            text: HANDLERS.into(),
            file: FILE.into(),
            line: 1,
            column: 0,
        }],
        layouts: Vec::new(),
        overflow_checks: true,
    }
}

pub fn options() -> SpawnOptions {
    SpawnOptions {
        message_type_id: PING_TYPE,
        reply_type_id: PONG_TYPE,
        ..SpawnOptions::default()
    }
}

/// The line of `needle` in the handlers file (1-based).
pub fn line_of(needle: &str) -> u32 {
    HANDLERS
        .lines()
        .position(|l| l.contains(needle))
        .expect("needle in handlers.rs") as u32
        + 1
}

/// A deterministic payload for message `seq` (cell index 0..=3 in word 0, so
/// it never faults).
pub fn ping(seq: u64) -> Ping {
    let mut x = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut payload = [0u32; 12];
    for w in payload.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *w = x as u32;
    }
    payload[0] %= 4;
    payload[1] &= 0x7FFF_FFFF; // never the hang trigger
    Ping { seq, payload }
}

/// What the handler computes, in plain Rust.
pub fn checksum(p: &Ping) -> u32 {
    p.payload.iter().enumerate().fold(0u32, |acc, (i, w)| {
        acc.wrapping_add(w.wrapping_mul(i as u32 + 1))
    })
}

fn hlc(p: &Pong) -> (u64, u32) {
    (p.hlc_physical_ns, p.hlc_logical)
}

/// `n` messages in bursts of 1..=200, replies drained between bursts:
/// every reply exactly once, in order, right payload, correlation id echoed,
/// HLC stamps strictly increasing and after the request's.
pub fn bursts(backend: &dyn Spawn, n: u64) {
    let mut options = options();
    options.inbox_capacity = 256;
    options.outbox_capacity = 256;
    let actor = backend.spawn_echo(1, &options).remove(0);
    let mut sent = 0u64;
    let mut received = 0u64;
    let mut burst = 1u64;
    let mut last_reply = (0u64, 0u32);
    let mut pending = std::collections::VecDeque::new();
    while received < n {
        let count = burst.min(n - sent);
        for _ in 0..count {
            sent += 1;
            let correlation = actor.send(&ping(sent)).expect("send");
            pending.push_back((sent, correlation, actor.host_clock()));
        }
        burst = burst * 7 % 200 + 1;
        while received < sent {
            let (pong, header) = actor
                .recv_envelope(Some(Duration::from_secs(20)))
                .expect("reply");
            received += 1;
            let (seq, correlation, request_hlc) = pending.pop_front().unwrap();
            assert_eq!(
                pong.seq, seq,
                "FIFO: reply {received} answers message {}",
                pong.seq
            );
            assert_eq!(header.correlation_id, correlation, "correlation id echoed");
            assert_eq!(
                pong.checksum,
                checksum(&ping(seq)),
                "payload of message {seq}"
            );
            assert_eq!(pong.actor, actor.id());
            let receipt = hlc(&pong);
            let reply = (header.hlc.physical_ns, header.hlc.logical);
            assert!(
                receipt > (request_hlc.physical_ns, request_hlc.logical),
                "receipt after the request's stamp"
            );
            assert!(reply > receipt, "reply stamped after the receipt");
            assert!(reply > last_reply, "reply stamps strictly increase");
            last_reply = reply;
        }
    }
    let stats = actor.stats().unwrap();
    assert_eq!((stats.messages_in, stats.messages_out), (n, n));
    let state = actor.state().unwrap();
    assert_eq!(state.count, n);
    assert_eq!(state.sum, (1..=n).sum::<u64>());
    assert_eq!(state.cells.iter().map(|&c| u64::from(c)).sum::<u64>(), n);
    actor.stop().unwrap();
    assert_eq!(actor.stats().unwrap().state, Lifecycle::Terminated);
}

/// An actor with nothing to do processes nothing (over 100 ms), yet its
/// loop keeps beating, and it answers at once when a message comes.
pub fn idle(backend: &dyn Spawn) {
    let actor = backend.spawn_echo(1, &options()).remove(0);
    let before = actor.stats().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let after = actor.stats().unwrap();
    assert_eq!((after.messages_in, after.messages_out), (0, 0));
    assert_eq!(after.state, Lifecycle::Active);
    assert!(
        after.heartbeat > before.heartbeat,
        "the loop beats while idle"
    );
    assert_eq!(actor.state().unwrap().count, 0);
    let pong = actor.call(&ping(1)).unwrap();
    assert_eq!(pong.seq, 1);
    actor.stop().unwrap();
}

/// Messages queued before `stop` are all answered; `stop` then returns
/// promptly (`bound`, when given, is checked) and nothing more is accepted.
pub fn stop_drains(backend: &dyn Spawn, bound: Option<Duration>) -> Duration {
    let mut options = options();
    options.inbox_capacity = 1024;
    options.outbox_capacity = 1024;
    let actor = backend.spawn_echo(1, &options).remove(0);
    for seq in 1..=500 {
        actor.send(&ping(seq)).unwrap();
    }
    actor.stop().unwrap();
    for seq in 1..=500 {
        assert_eq!(actor.recv().unwrap().seq, seq);
    }
    assert!(matches!(actor.recv(), Err(ActorError::Stopped { .. })));
    assert!(matches!(
        actor.send(&ping(501)),
        Err(ActorError::Stopped { .. })
    ));
    assert_eq!(actor.stats().unwrap().messages_in, 500);

    // Stop latency: from the moment the last reply is visible (the inbox is
    // drained) to stop() returning.
    let actor = backend.spawn_echo(1, &options).remove(0);
    for seq in 1..=100 {
        actor.send(&ping(seq)).unwrap();
    }
    for _ in 0..100 {
        actor.recv().unwrap();
    }
    let start = Instant::now();
    actor.stop().unwrap();
    let took = start.elapsed();
    if let Some(bound) = bound {
        assert!(
            took < bound,
            "stop took {took:?} after the inbox drained (bound {bound:?})"
        );
    }
    println!("stop returned {took:?} after the inbox drained");
    took
}

/// `count` actors in one launch, messages interleaved: each keeps its own
/// state and answers with its own id.
pub fn many(backend: &dyn Spawn, count: u32) {
    let actors = backend.spawn_echo(count, &options());
    for round in 0..50u64 {
        for (i, actor) in actors.iter().enumerate() {
            if round % (i as u64 + 1) == 0 {
                actor.send(&ping(round * 100 + i as u64)).unwrap();
            }
        }
    }
    for (i, actor) in actors.iter().enumerate() {
        let expected: Vec<u64> = (0..50u64)
            .filter(|r| r % (i as u64 + 1) == 0)
            .map(|r| r * 100 + i as u64)
            .collect();
        for &seq in &expected {
            let pong = actor.recv_timeout(Duration::from_secs(20)).unwrap();
            assert_eq!((pong.seq, pong.actor), (seq, i as u32));
            assert_eq!(pong.hlc_node, i as u32, "each actor has its own clock");
        }
        let state = actor.state().unwrap();
        assert_eq!(state.count, expected.len() as u64, "actor {i}");
        assert_eq!(state.sum, expected.iter().sum::<u64>(), "actor {i}");
    }
    for actor in &actors {
        actor.stop().unwrap();
    }
}

/// Message 5 indexes out of bounds: messages 1-4 were answered, the call
/// fails with the handler's Rust location, the message is dead-lettered,
/// the other actors keep answering, and a restart resumes the actor from
/// its default state with the messages queued behind the faulting one.
pub fn fault(backend: &dyn Spawn) {
    let actors = backend.spawn_echo(3, &options());
    let victim = &actors[1];
    for seq in 1..=4 {
        assert_eq!(victim.call(&ping(seq)).unwrap().seq, seq);
    }
    let mut bad = ping(5);
    bad.payload[0] = 4;
    let queued = ping(6);
    let bad_correlation = victim.send(&bad).unwrap();
    victim.send(&queued).unwrap();
    let line = line_of("state.cells[msg.payload[0] as usize] += 1;");
    match victim.recv() {
        Err(ActorError::Fault {
            actor,
            kind,
            location,
            sequence,
        }) => {
            assert_eq!(actor, 1);
            assert_eq!(kind, FaultKind::IndexOutOfBounds);
            assert_eq!((location.file.as_str(), location.line), (FILE, line));
            assert_eq!(sequence, bad_correlation);
        }
        other => panic!("expected the fault, got {other:?}"),
    }
    let letters = victim.dead_letters();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].header.correlation_id, bad_correlation);
    assert_eq!(letters[0].kind, FaultKind::IndexOutOfBounds);
    assert_eq!(letters[0].payload.len(), size_of::<Ping>());
    let stats = victim.stats().unwrap();
    assert_eq!(stats.state, Lifecycle::Failed);
    assert_eq!(stats.faults, 1);
    assert_eq!(stats.messages_out, 4);
    for (i, other) in actors.iter().enumerate().filter(|(i, _)| *i != 1) {
        for seq in 10..20 {
            let pong = other.call(&ping(seq)).unwrap();
            assert_eq!((pong.seq, pong.actor), (seq, i as u32));
        }
    }
    // Nothing is processed while Failed (no restart policy here): waits
    // say so instead of blocking, and the queued message waits.
    assert!(matches!(
        victim.try_recv(),
        Err(ActorError::Failed { actor: 1 })
    ));
    victim.restart().unwrap();
    assert_eq!(victim.recv_timeout(Duration::from_secs(20)).unwrap().seq, 6);
    assert_eq!(victim.call(&ping(7)).unwrap().seq, 7);
    let state = victim.state().unwrap();
    assert_eq!(state.count, 2, "restarted from the default state");
    for actor in &actors {
        actor.stop().unwrap();
    }
}

/// With a one-for-one policy the supervisor restarts a faulted actor by
/// itself (from the initial state), at most `max_restarts` times per window;
/// past that the actor stays Failed and waits say so.
pub fn supervised(backend: &dyn Spawn) -> Duration {
    let mut options = options();
    options.restart = RestartPolicy::OneForOne {
        max_restarts: 2,
        window: Duration::from_secs(60),
    };
    let actor = backend.spawn_echo(1, &options).remove(0);
    let mut bad = ping(100);
    bad.payload[0] = 9;
    let mut restart_time = Duration::ZERO;
    for round in 0..2u64 {
        assert_eq!(
            actor.call(&ping(round * 10 + 1)).unwrap().seq,
            round * 10 + 1
        );
        let start = Instant::now();
        assert!(
            matches!(actor.call(&bad), Err(ActorError::Fault { .. })),
            "round {round}"
        );
        // Restarted without help: the next call is answered.
        let pong = actor.call(&ping(round * 10 + 2)).unwrap();
        restart_time = start.elapsed();
        assert_eq!(pong.seq, round * 10 + 2);
        assert_eq!(
            actor.state().unwrap().count,
            1,
            "restarted from the initial state"
        );
    }
    assert!(matches!(actor.call(&bad), Err(ActorError::Fault { .. })));
    // Restarts exhausted: the supervisor gives the actor up. A call races
    // with that: it fails Failed (sent before, then dead-lettered as
    // undeliverable) or Stopped (refused after); never an answer.
    let late = actor.call(&ping(99));
    assert!(
        matches!(
            late,
            Err(ActorError::Failed { actor: 0 } | ActorError::Stopped { actor: 0 })
        ),
        "restarts exhausted: expected Failed or Stopped, got {late:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while actor.stats().unwrap().state != Lifecycle::Terminated {
        assert!(
            Instant::now() < deadline,
            "the supervisor gave the actor up"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(matches!(
        actor.send(&ping(100)),
        Err(ActorError::Stopped { actor: 0 })
    ));
    assert_eq!(actor.stats().unwrap().faults, 3);
    actor.stop().unwrap();
    let letters = actor.dead_letters();
    let faults = letters
        .iter()
        .filter(|l| l.kind == FaultKind::IndexOutOfBounds)
        .count();
    assert_eq!(faults, 3, "{letters:?}");
    for l in letters
        .iter()
        .filter(|l| l.kind != FaultKind::IndexOutOfBounds)
    {
        assert_eq!(l.kind, FaultKind::Undeliverable, "{letters:?}");
        let seq = u64::from_le_bytes(l.payload[..8].try_into().unwrap());
        assert_eq!(seq, 99, "only the late call can be left: {l:?}");
    }
    println!("fault -> restarted -> first reply: {restart_time:?}");
    restart_time
}

/// A handler that never returns is reported as hung by the watchdog
/// instead of blocking the caller forever.
pub fn hang(backend: &dyn Spawn) {
    let mut options = options();
    options.hang_timeout = Some(Duration::from_millis(200));
    let actor = backend.spawn_echo(1, &options).remove(0);
    assert_eq!(actor.call(&ping(1)).unwrap().seq, 1);
    let mut stuck = ping(2);
    stuck.payload[1] = 0xDEAD_BEEF;
    let start = Instant::now();
    actor.send(&stuck).unwrap();
    actor.send(&ping(3)).unwrap();
    match actor.recv_timeout(Duration::from_secs(20)) {
        Err(ActorError::Hung { actor: 0 }) => {}
        other => panic!("expected a hang report, got {other:?}"),
    }
    // The watchdog period is 200 ms (its supervisor polls every 100 µs).
    let reported = start.elapsed();
    println!("hang reported after {reported:?} (watchdog period 200 ms)");
    assert!(reported < Duration::from_secs(2), "{reported:?}");
    // The executor is stuck for good; leak the handle rather than wait on
    // its stop in Drop.
    std::mem::forget(actor);
}

/// Spawns one actor of the stateless handler `name`.
pub fn spawn_stateless(
    backend: &dyn Spawn,
    name: &str,
    options: &SpawnOptions,
) -> Actor<Ping, Pong> {
    backend
        .runtime()
        .spawn(&kernel_named(name), 1, (), options)
        .expect("spawn")
        .remove(0)
}

/// Checks one reply of a stream: FIFO, the payload's checksum, the actor,
/// and a receipt stamp after the previous one.
fn check_reply(actor_id: u32, pong: &Pong, expected_seq: u64, last_receipt: &mut (u64, u32)) {
    assert_eq!(pong.seq, expected_seq, "FIFO");
    assert_eq!(
        pong.checksum,
        checksum(&ping(expected_seq)),
        "payload of message {expected_seq}"
    );
    assert_eq!((pong.actor, pong.hlc_node), (actor_id, actor_id));
    let receipt = hlc(pong);
    assert!(receipt > *last_receipt, "receipts strictly increase");
    *last_receipt = receipt;
}

/// `n` messages streamed through `send_batch`/`recv_batch` in batches of
/// varying size, with a `call` now and then (its reply is taken out of
/// order; the replies it passes are kept for the batch receive): every
/// reply exactly once, in order, right payload, receipt stamps strictly
/// increasing.
pub fn stream<S: Copy>(actor: &Actor<Ping, Pong, S>, n: u64) {
    let mut sent = 0u64;
    let mut received = 0u64;
    let mut calls = 0u64;
    let mut size = 1usize;
    let mut batch = Vec::new();
    let mut replies = Vec::new();
    let mut last_receipt = (0u64, 0u32);
    let deadline = Instant::now() + Duration::from_secs(60);
    while received < n {
        assert!(
            Instant::now() < deadline,
            "stream stalled at {received} of {n}"
        );
        if sent < n {
            batch.clear();
            batch.extend((sent + 1..=n.min(sent + size as u64)).map(ping));
            sent += actor.try_send_batch(&batch).expect("send") as u64;
            size = size * 7 % 300 + 1;
        }
        if size % 37 == 0 {
            // A round trip in the middle of the stream: its sequence number
            // is outside the stream's (checked FIFO) range.
            calls += 1;
            let pong = actor.call(&ping(1 << 40 | calls)).expect("call");
            assert_eq!(pong.seq, 1 << 40 | calls);
        }
        replies.clear();
        actor.try_recv_batch(&mut replies, 500).expect("recv");
        for pong in &replies {
            received += 1;
            check_reply(actor.id(), pong, received, &mut last_receipt);
        }
    }
    assert!(matches!(actor.try_recv_batch(&mut replies, 10), Ok(0)));
    let stats = actor.stats().unwrap();
    assert_eq!(
        (stats.messages_in, stats.messages_out),
        (n + calls, n + calls)
    );
}

/// A batch with a faulting message in the middle: the replies before it
/// arrive, then the fault (as the error of the batch receive that meets it),
/// the actor parks with the messages after it still queued, and a restart
/// answers them in order.
pub fn stream_fault<S: Copy + Default>(actor: &Actor<Ping, Pong, S>) {
    let mut batch: Vec<Ping> = (1..=40).map(ping).collect();
    batch[14].payload[0] = 4; // message 15 faults
    actor.send_batch(&batch).unwrap();
    let mut replies = Vec::new();
    let mut last_receipt = (0u64, 0u32);
    let fault = loop {
        match actor.recv_batch(&mut replies, 100, Some(Duration::from_secs(20))) {
            Ok(_) => assert!(replies.len() <= 14, "no reply after the faulting message"),
            Err(e) => break e,
        }
    };
    assert_eq!(replies.len(), 14);
    for (i, pong) in replies.iter().enumerate() {
        check_reply(actor.id(), pong, i as u64 + 1, &mut last_receipt);
    }
    match fault {
        ActorError::Fault { kind, sequence, .. } => {
            assert_eq!(kind, FaultKind::IndexOutOfBounds);
            assert_eq!(sequence, 15, "the 15th message's correlation id");
        }
        other => panic!("expected the fault, got {other:?}"),
    }
    assert_eq!(actor.dead_letters().len(), 1);
    let stats = actor.stats().unwrap();
    assert_eq!(stats.state, Lifecycle::Failed);
    assert_eq!(
        (stats.messages_in, stats.messages_out, stats.faults),
        (15, 14, 1)
    );
    // Nothing is processed while Failed; the 25 behind it wait.
    std::thread::sleep(Duration::from_millis(20));
    assert!(matches!(actor.try_recv_batch(&mut replies, 100), Ok(0)));
    actor.restart().unwrap();
    replies.clear();
    while replies.len() < 25 {
        actor
            .recv_batch(&mut replies, 100, Some(Duration::from_secs(20)))
            .expect("replies after the restart");
    }
    for (i, pong) in replies.iter().enumerate() {
        check_reply(actor.id(), pong, i as u64 + 16, &mut last_receipt);
    }
    let stats = actor.stats().unwrap();
    assert_eq!((stats.messages_in, stats.messages_out), (40, 39));
    actor.stop().unwrap();
}

/// Calls one at a time (each waits for its reply, so the actor always
/// finds the request alone in its inbox: on the GPU, a stateless handler
/// that reads no thread index answers it from warp 0 alone, the loop's
/// compact path): every reply right, receipts strictly increasing; a
/// faulting call in the middle fails with the handler's fault (that path
/// falls back to the loop, which dead-letters the message once, stamped
/// between the receipts around it) and the counters count it once; after a
/// restart the calls go on.
pub fn calls_one_at_a_time<S: Copy + Default>(actor: &Actor<Ping, Pong, S>, calls: u64) {
    let fault_at = calls / 2;
    let mut last_receipt = (0u64, 0u32);
    for seq in 1..fault_at {
        let pong = actor.call(&ping(seq)).unwrap();
        check_reply(actor.id(), &pong, seq, &mut last_receipt);
    }
    let mut bad = ping(fault_at);
    bad.payload[0] = 4;
    match actor.call(&bad) {
        Err(ActorError::Fault { kind, .. }) => assert_eq!(kind, FaultKind::IndexOutOfBounds),
        other => panic!("expected the fault, got {other:?}"),
    }
    let letters = actor.dead_letters();
    assert_eq!(letters.len(), 1, "the faulting call is dead-lettered once");
    assert_eq!(letters[0].payload.len(), size_of::<Ping>());
    let stamp = (
        letters[0].header.hlc.physical_ns,
        letters[0].header.hlc.logical,
    );
    assert!(
        stamp > last_receipt,
        "the dead letter is stamped after the last receipt"
    );
    last_receipt = stamp;
    let stats = actor.stats().unwrap();
    assert_eq!(stats.state, Lifecycle::Failed);
    assert_eq!(
        (stats.messages_in, stats.messages_out, stats.faults),
        (fault_at, fault_at - 1, 1)
    );
    actor.restart().unwrap();
    for seq in fault_at + 1..=calls {
        let pong = actor.call(&ping(seq)).unwrap();
        check_reply(actor.id(), &pong, seq, &mut last_receipt);
    }
    let stats = actor.stats().unwrap();
    assert_eq!((stats.messages_in, stats.messages_out), (calls, calls - 1));
    actor.stop().unwrap();
}

/// Envelopes that are not the actor's message (another type id, another
/// payload size; `Actor::send_unchecked`) are rejected one by one, in
/// order among good messages: each becomes a `BadMessage` dead letter with
/// its payload (its place in the reply order is `ActorError::Rejected`),
/// the actor is not Failed, counts each as a message in and answers every
/// good message around them (alone, for the compact call path, and queued
/// behind each other, for the batch loop).
pub fn rejects_foreign_envelopes<S: Copy + Default>(actor: &Actor<Ping, Pong, S>) {
    let bytes = |p: &Ping| -> Vec<u8> {
        // SAFETY: Ping is plain #[repr(C)] data without padding (u64 + 12 u32).
        unsafe { std::slice::from_raw_parts((p as *const Ping).cast::<u8>(), size_of::<Ping>()) }
            .to_vec()
    };
    let mut last_receipt = (0u64, 0u32);
    let timeout = Duration::from_secs(10);
    let rejected = |r: Result<Pong, ActorError>, sequence: u64| match r {
        Err(ActorError::Rejected {
            kind, sequence: s, ..
        }) => {
            assert_eq!(kind, FaultKind::BadMessage);
            assert_eq!(s, sequence, "the rejection names the envelope");
        }
        other => panic!("expected envelope {sequence} rejected, got {other:?}"),
    };
    // Alone: each sent and answered before the next.
    let pong = actor.call(&ping(1)).unwrap();
    check_reply(actor.id(), &pong, 1, &mut last_receipt);
    let wrong_type = actor
        .send_unchecked(PING_TYPE ^ 0x100, &bytes(&ping(2)))
        .unwrap();
    rejected(actor.recv_timeout(timeout), wrong_type);
    let wrong_size = actor.send_unchecked(PING_TYPE, &[7u8; 8]).unwrap();
    rejected(actor.recv_timeout(timeout), wrong_size);
    let pong = actor.call(&ping(3)).unwrap();
    check_reply(actor.id(), &pong, 3, &mut last_receipt);
    // Queued together: good, foreign, good, foreign, good.
    actor.send(&ping(4)).unwrap();
    let a = actor
        .send_unchecked(PING_TYPE ^ 0x100, &bytes(&ping(5)))
        .unwrap();
    actor.send(&ping(6)).unwrap();
    let b = actor
        .send_unchecked(PING_TYPE, &bytes(&ping(7))[..16])
        .unwrap();
    actor.send(&ping(8)).unwrap();
    for (i, expected) in [Some(4), None, Some(6), None, Some(8)]
        .into_iter()
        .enumerate()
    {
        let r = actor.recv_timeout(timeout);
        match expected {
            Some(seq) => check_reply(actor.id(), &r.unwrap(), seq, &mut last_receipt),
            None => rejected(r, if i == 1 { a } else { b }),
        }
    }
    let letters = actor.dead_letters();
    let seen: Vec<(FaultKind, u32, u64, usize)> = letters
        .iter()
        .map(|l| (l.kind, l.header.type_id, l.header.sequence, l.payload.len()))
        .collect();
    assert_eq!(
        seen,
        [
            (
                FaultKind::BadMessage,
                PING_TYPE ^ 0x100,
                wrong_type,
                size_of::<Ping>()
            ),
            (FaultKind::BadMessage, PING_TYPE, wrong_size, 8),
            (
                FaultKind::BadMessage,
                PING_TYPE ^ 0x100,
                a,
                size_of::<Ping>()
            ),
            (FaultKind::BadMessage, PING_TYPE, b, 16),
        ]
    );
    assert_eq!(
        letters[0].payload,
        bytes(&ping(2)),
        "the rejected payload comes back"
    );
    assert_eq!(letters[1].payload, [7u8; 8]);
    assert_eq!(letters[3].payload, bytes(&ping(7))[..16]);
    let stats = actor.stats().unwrap();
    assert_eq!(stats.state, Lifecycle::Active);
    assert_eq!(
        (stats.messages_in, stats.messages_out, stats.faults),
        (9, 5, 0),
        "every envelope counted in, the good ones answered, no fault"
    );
    actor.stop().unwrap();
}

/// Requests stamped by a sender whose clock is a minute ahead, with logical
/// counters that run into `u32::MAX` (`Actor::send_stamped`): the actor's
/// receipts and reply stamps must carry the counter over into the next
/// physical value, never wrap or repeat: every receipt after its request's
/// stamp and after the previous receipt, every reply's stamp after its
/// receipt and after the previous reply's. Each round sends `n` requests
/// back to back (so that batches of several take the loop's wrap-case
/// stamping, which issues the reply stamps one by one) and stamps them
/// (ahead, MAX - n + 1 + i). `rounds` rounds.
pub fn clock_runs_into_the_logical_limit<S: Copy + Default>(
    actor: &Actor<Ping, Pong, S>,
    rounds: u32,
    n: u32,
) {
    let ahead = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        + 60_000_000_000;
    let mut last_receipt = (0u64, 0u32);
    let mut last_reply = (0u64, 0u32);
    let mut seq = 0u64;
    for round in 0..rounds {
        let first = seq + 1;
        let mut stamps = Vec::new();
        for i in 0..n {
            seq += 1;
            let stamp = HlcTimestamp {
                physical_ns: ahead + u64::from(round) * 1_000,
                logical: u32::MAX - n + 1 + i,
                node: 0,
            };
            actor.send_stamped(&ping(seq), stamp).unwrap();
            stamps.push((stamp.physical_ns, stamp.logical));
        }
        for (k, stamp) in stamps.iter().enumerate() {
            let (pong, header) = actor.recv_envelope(Some(Duration::from_secs(10))).unwrap();
            check_reply(actor.id(), &pong, first + k as u64, &mut last_receipt);
            let receipt = hlc(&pong);
            assert!(
                receipt > *stamp,
                "receipt {receipt:?} after its request's stamp {stamp:?}"
            );
            let reply = (header.hlc.physical_ns, header.hlc.logical);
            assert!(
                reply > receipt,
                "reply stamp {reply:?} after its receipt {receipt:?}"
            );
            assert!(
                reply > last_reply,
                "reply stamps strictly increase: {reply:?} after {last_reply:?}"
            );
            last_reply = reply;
        }
        // The last request carried logical u32::MAX: its receipt can only
        // be later by moving to the next physical value.
        let round_physical = ahead + u64::from(round) * 1_000;
        assert!(
            last_receipt.0 > round_physical,
            "round {round}: the counter carried over into the physical part ({last_receipt:?})"
        );
    }
    let stats = actor.stats().unwrap();
    assert_eq!(
        (stats.messages_in, stats.messages_out, stats.faults),
        (seq, seq, 0)
    );
    actor.stop().unwrap();
}

/// An actor stopped while Failed runs nothing more: each request queued
/// behind the faulting one becomes a dead letter (undeliverable) with its
/// payload, so nothing accepted is lost silently.
pub fn stop_while_failed(backend: &dyn Spawn) {
    let actor = backend.spawn_echo(1, &options()).remove(0);
    let mut bad = ping(1);
    bad.payload[0] = 7;
    actor.send(&bad).unwrap();
    for seq in 2..=4 {
        actor.send(&ping(seq)).unwrap();
    }
    assert!(matches!(
        actor.recv_timeout(Duration::from_secs(10)),
        Err(ActorError::Fault { .. })
    ));
    actor.stop().unwrap();
    let letters = actor.dead_letters();
    let kinds: Vec<FaultKind> = letters.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        [
            FaultKind::IndexOutOfBounds,
            FaultKind::Undeliverable,
            FaultKind::Undeliverable,
            FaultKind::Undeliverable
        ]
    );
    for (l, seq) in letters[1..].iter().zip(2u64..) {
        assert_eq!(l.payload.len(), size_of::<Ping>());
        assert_eq!(u64::from_le_bytes(l.payload[..8].try_into().unwrap()), seq);
    }
}

/// A job with random values (xorshift on `rng`); `pick` in 0..4 (no fault).
fn random_job(rng: &mut u64, seq: u64) -> Job {
    let mut next = || {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        *rng as u32
    };
    let mut values = [0u32; 32];
    for v in values.iter_mut() {
        *v = next();
    }
    Job {
        seq,
        pick: next() % 4,
        salt: next(),
        values,
    }
}

/// What `warp_tally` answers, in plain Rust: the reply of actor `actor`,
/// whose state is `state` (updated as the handler updates it).
fn warp_tally_reference(actor: u32, state: &mut Tally, job: &Job) -> Verdict {
    let sum = (0..32u32).fold(0u32, |acc, lane| {
        acc.wrapping_add(job.values[lane as usize].wrapping_mul(lane + 1) ^ job.salt)
    });
    state.count += 1;
    state.total = state.total.wrapping_add(sum);
    state.cells[job.pick as usize] += 1;
    state.last_salt = job.salt;
    Verdict {
        seq: job.seq,
        actor,
        sum,
        max: *job.values.iter().max().unwrap(),
        lanes: 32,
        lane_sum: (0..32).sum(),
        count: state.count as u32,
        hlc_node: actor,
        salt: state.last_salt,
    }
}

/// The initial state of the warp actors: not `Default`, so an actor that
/// started from anything else (zeroes, a neighbour's state) shows.
pub const TALLY_POISON: Tally = Tally {
    count: 1_000,
    total: 0xDEAD_BEEF,
    cells: [7, 7, 7, 7],
    last_salt: 0x0BAD_F00D,
};

/// `count` warp actors (`#[ring_kernel(warps = 1)]`) in one launch, packed
/// `per_block` to a block on the GPU: interleaved random jobs, each actor's
/// replies compared field by field with the Rust reference (its own id,
/// clock and state; every warp sees 32 lanes); then one actor faults: its
/// call reports the fault with the Rust line, the message is
/// dead-lettered, its neighbours keep answering, and the supervisor
/// restarts it by policy from the initial state, resuming with the message
/// queued behind the faulting one.
pub fn packed_warps(backend: &dyn Spawn, count: u32, per_block: u32) {
    let options = SpawnOptions {
        message_type_id: JOB_TYPE,
        reply_type_id: VERDICT_TYPE,
        restart: RestartPolicy::OneForOne {
            max_restarts: 3,
            window: Duration::from_secs(60),
        },
        actors_per_block: Some(per_block),
        ..SpawnOptions::default()
    };
    let actors: Vec<Actor<Job, Verdict, Tally>> = backend
        .runtime()
        .spawn(&kernel_named("warp_tally"), count, TALLY_POISON, &options)
        .expect("spawn the warp actors");
    let mut reference = vec![TALLY_POISON; count as usize];
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut seq = 0u64;
    let mut job = |rng: &mut u64| {
        seq += 1;
        random_job(rng, seq)
    };
    let mut expected: Vec<std::collections::VecDeque<Verdict>> =
        vec![Default::default(); count as usize];
    let check = |actor: &Actor<Job, Verdict, Tally>,
                 want: &mut std::collections::VecDeque<Verdict>| {
        while let Some(w) = want.pop_front() {
            let got = actor
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|e| panic!("actor {}: {e}", actor.id()));
            assert_eq!(got, w, "actor {}", actor.id());
        }
    };
    for round in 0..40usize {
        for (i, actor) in actors.iter().enumerate() {
            for _ in 0..(round + i) % 5 {
                let j = job(&mut rng);
                actor.send(&j).unwrap();
                expected[i].push_back(warp_tally_reference(i as u32, &mut reference[i], &j));
            }
        }
        if round % 8 == 7 {
            for (actor, want) in actors.iter().zip(expected.iter_mut()) {
                check(actor, want);
            }
        }
    }
    for (i, actor) in actors.iter().enumerate() {
        check(actor, &mut expected[i]);
        assert_eq!(actor.state().unwrap(), reference[i], "actor {i}'s state");
    }

    // A fault in one warp actor.
    let victim = count as usize / 2;
    let mut bad = job(&mut rng);
    bad.pick = 4 + (bad.pick % 4);
    let queued = job(&mut rng);
    let bad_correlation = actors[victim].send(&bad).unwrap();
    actors[victim].send(&queued).unwrap();
    match actors[victim].recv_timeout(Duration::from_secs(20)) {
        Err(ActorError::Fault {
            actor,
            kind,
            location,
            sequence,
        }) => {
            assert_eq!(actor, victim as u32);
            assert_eq!(kind, FaultKind::IndexOutOfBounds);
            assert_eq!(
                (location.file.as_str(), location.line),
                (FILE, line_of("state.cells[msg.pick as usize] += 1;"))
            );
            assert_eq!(sequence, bad_correlation);
        }
        other => panic!("expected the victim's fault, got {other:?}"),
    }
    // The neighbours keep answering.
    for _ in 0..3 {
        for (i, actor) in actors.iter().enumerate().filter(|(i, _)| *i != victim) {
            let j = job(&mut rng);
            let want = warp_tally_reference(i as u32, &mut reference[i], &j);
            assert_eq!(actor.call(&j).unwrap(), want, "neighbour {i}");
        }
    }
    // The supervisor restarted the victim from its initial state; it
    // answers the message queued behind the faulting one, then more.
    reference[victim] = TALLY_POISON;
    let want = warp_tally_reference(victim as u32, &mut reference[victim], &queued);
    assert_eq!(
        actors[victim]
            .recv_timeout(Duration::from_secs(20))
            .unwrap(),
        want
    );
    let j = job(&mut rng);
    let want = warp_tally_reference(victim as u32, &mut reference[victim], &j);
    assert_eq!(actors[victim].call(&j).unwrap(), want);
    let letters = actors[victim].dead_letters();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].header.correlation_id, bad_correlation);
    let stats = actors[victim].stats().unwrap();
    assert_eq!((stats.faults, stats.state), (1, Lifecycle::Active));
    for (i, actor) in actors.iter().enumerate() {
        assert_eq!(actor.state().unwrap(), reference[i], "actor {i}'s state");
        if i != victim {
            assert_eq!(actor.stats().unwrap().faults, 0, "actor {i}");
            assert!(actor.dead_letters().is_empty(), "actor {i}");
        }
    }
    for actor in &actors {
        actor.stop().unwrap();
    }
}

/// `SpawnOptions::actors_per_block` is checked against the handler: a
/// block actor takes only 1, a warp actor 1 to 8; nothing starts otherwise.
pub fn packing_is_checked(backend: &dyn Spawn) {
    let packing = |kernel: &str, per_block: u32| {
        let options = SpawnOptions {
            actors_per_block: Some(per_block),
            ..options()
        };
        let rt = backend.runtime();
        if kernel == "echo" {
            rt.spawn::<Ping, Pong, Counter>(&kernel_named(kernel), 2, Counter::default(), &options)
                .map(|a| a.len())
        } else {
            rt.spawn::<Job, Verdict, Tally>(&kernel_named(kernel), 2, TALLY_POISON, &options)
                .map(|a| a.len())
        }
    };
    for (kernel, per_block, max) in [("echo", 2, 1), ("warp_tally", 0, 8), ("warp_tally", 9, 8)] {
        match packing(kernel, per_block) {
            Err(ringkernel_runtime::Error::Actor(ActorError::Packing {
                kernel: k,
                requested,
                max: m,
            })) => assert_eq!((k.as_str(), requested, m), (kernel, per_block, max)),
            other => panic!("{kernel} with {per_block} per block: {other:?}"),
        }
    }
    assert_eq!(packing("echo", 1).unwrap(), 2);
    assert_eq!(packing("warp_tally", 1).unwrap(), 2);
    assert_eq!(packing("warp_tally", 8).unwrap(), 2);
}

/// The suite's checks that do not pin a source line, on `backend`'s echo
/// (the warp actor one for [`WarpEcho`]): bursts, idle, stop, several
/// actors per launch, streams, a fault in a stream, supervision, a stop
/// while failed.
pub fn warp_suite(backend: &dyn Spawn, messages: u64) {
    bursts(backend, messages);
    idle(backend);
    stop_drains(backend, None);
    many(backend, 8);
    many(backend, 11);
    let mut streaming = options();
    streaming.inbox_capacity = 1024;
    streaming.outbox_capacity = 1024;
    let actor = backend.spawn_echo(1, &streaming).remove(0);
    stream(&actor, messages);
    actor.stop().unwrap();
    stream_fault(&backend.spawn_echo(1, &options()).remove(0));
    supervised(backend);
    stop_while_failed(backend);
}
