//! The actor-system (K2K) suite, generic over the backend and the
//! placement (`Placement::Gpu`: global-memory inboxes; `Placement::Cluster`:
//! one thread-block cluster, inboxes in shared memory over DSMEM): fan-in
//! exactly once through a small (backpressured) inbox, HLC causality across
//! actors, `try_send` flooding a small inbox (what it reported sent arrives
//! exactly once, nothing it reported refused arrives), a send on an unwired
//! port, wiring and placement errors, stop draining every stage, a stop
//! racing senders that wait on the stopped actor's full inbox.

#![allow(dead_code)]

use std::collections::HashSet;
use std::time::Duration;

use ringkernel_device::control::FaultKind;
use ringkernel_runtime::actor::{
    ActorError, ClusterLimit, Member, Placement, PlacementError, SpawnOptions, System,
};
use ringkernel_runtime::{Error, Runtime};
use ringkernel_transpiler::source::{KernelSource, SourceKind, SourceText};

pub const FILE: &str = "runtime/tests/k2k_actors/handlers.rs";
const HANDLERS: &str = include_str!("handlers.rs");

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Work {
    pub producer: u32,
    pub index: u32,
    pub words: [u32; 14],
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Stamped {
    pub producer: u32,
    pub index: u32,
    pub words: [u32; 14],
    pub sent_by: u32,
    pub cause_logical: u32,
    pub cause_physical: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Receipt {
    pub producer: u32,
    pub index: u32,
    pub checksum: u64,
    pub sent_by: u32,
    pub cause_logical: u32,
    pub cause_physical: u64,
    pub physical: u64,
    pub logical: u32,
    pub node: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Tally {
    pub received: u64,
    pub checksum_sum: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Burst {
    pub first: u32,
    pub count: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct BurstResult {
    pub first: u32,
    pub count: u32,
    pub accepted: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Item {
    pub producer: u32,
    pub index: u32,
    pub check: u32,
    pub pad: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct FloodTally {
    pub accepted: u64,
    pub refused: u64,
}

pub const BURST_TYPE: u32 = 0x4255_5253;
pub const BURST_RESULT_TYPE: u32 = 0x4252_5354;
pub const ITEM_TYPE: u32 = 0x4954_454D;
pub const WORK_TYPE: u32 = 0x574F_524B;
pub const STAMPED_TYPE: u32 = 0x5354_4D50;
pub const RECEIPT_TYPE: u32 = 0x5243_5054;

pub fn kernel(name: &str) -> KernelSource {
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

/// `kernel(name)` for `placement`: under [`Placement::Block`] the same
/// handler as a warp actor (`#[ring_kernel(warps = 1)]` for
/// `block_size = 32`: every handler of the suite is written for one warp,
/// so it means the same; lines and columns of the bodies are unchanged).
pub fn kernel_in(placement: Placement, name: &str) -> KernelSource {
    let mut k = kernel(name);
    if placement == Placement::Block {
        let warp = HANDLERS.replace(
            "#[ring_kernel(block_size = 32)]",
            "#[ring_kernel(warps = 1)]",
        );
        assert_ne!(warp, HANDLERS);
        k.items[0].text = warp;
    }
    k
}

pub fn forward_options() -> SpawnOptions {
    SpawnOptions {
        message_type_id: WORK_TYPE,
        reply_type_id: 0,
        ..SpawnOptions::default()
    }
}

pub fn collect_options() -> SpawnOptions {
    SpawnOptions {
        message_type_id: STAMPED_TYPE,
        reply_type_id: RECEIPT_TYPE,
        outbox_capacity: 2048,
        ..SpawnOptions::default()
    }
}

/// Payload word `w` of item `index` of `producer`: distinct per item, so a
/// torn or misplaced slot shows in the checksum.
pub fn word(producer: u32, index: u32, w: u32) -> u32 {
    (producer.wrapping_mul(0x9E37_79B9) ^ index.wrapping_mul(0x85EB_CA6B))
        .rotate_left(w)
        .wrapping_add(w)
}

fn checksum(words: &[u32; 14]) -> u64 {
    words
        .iter()
        .enumerate()
        .map(|(i, &w)| u64::from(w) * (i as u64 + 1))
        .sum()
}

/// `producers` forwarding actors each get `per_producer` work items from
/// the host and forward them into one collector's K2K inbox of
/// `capacity` slots: every item arrives exactly once, untorn, each
/// producer's items in order, every receipt later than its cause, and the
/// collector's state counts them all.
pub fn fan_in(
    rt: &Runtime,
    placement: Placement,
    producers: u32,
    per_producer: u32,
    capacity: u32,
) {
    let mut b = rt.system();
    b.k2k_capacity(capacity).placement(placement);
    let collector = b
        .actor::<Stamped, Receipt, Tally>(
            &kernel_in(placement, "collect"),
            Tally::default(),
            &collect_options(),
        )
        .expect("collector");
    let mut senders = Vec::new();
    for _ in 0..producers {
        let m = b
            .actor::<Work, (), ()>(&kernel_in(placement, "forward"), (), &forward_options())
            .expect("forwarder");
        b.connect(m, 0, collector).expect("wire");
        senders.push(m);
    }
    let system = b.start().expect("start");
    let total = producers * per_producer;
    let collect = system.actor(collector);
    let mut seen = HashSet::new();
    let mut next = vec![0u32; producers as usize];
    // A sender thread feeds the producers while this thread takes the
    // receipts: the collector's outbox holds fewer than `total`, so a host
    // that sent everything before receiving would stall the whole chain
    // (backpressure all the way back to its own sends).
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for index in 0..per_producer {
                for (p, m) in senders.iter().enumerate() {
                    let p = p as u32;
                    let mut words = [0u32; 14];
                    for (w, x) in words.iter_mut().enumerate() {
                        *x = word(p, index, w as u32);
                    }
                    system
                        .actor(*m)
                        .send(&Work {
                            producer: p,
                            index,
                            words,
                        })
                        .expect("send");
                }
            }
        });
        receive_all(
            collect,
            total,
            producers,
            &senders,
            collector.id(),
            &mut seen,
            &mut next,
        );
    });
    assert_eq!(seen.len(), total as usize);
    let tally: Tally = collect.state().expect("state");
    assert_eq!(tally.received, u64::from(total));
    system.stop(Duration::from_secs(10)).expect("stop");
    for m in &senders {
        let stats = system.actor(*m).stats().expect("stats");
        assert_eq!(stats.messages_in, u64::from(per_producer));
    }
    let stats = collect.stats().expect("stats");
    assert_eq!(stats.messages_in, u64::from(total));
    assert_eq!(stats.messages_out, u64::from(total));
}

#[allow(clippy::too_many_arguments)]
fn receive_all(
    collect: &ringkernel_runtime::actor::Actor<Stamped, Receipt, Tally>,
    total: u32,
    producers: u32,
    senders: &[ringkernel_runtime::actor::Member<Work, (), ()>],
    collector_id: u32,
    seen: &mut HashSet<(u32, u32)>,
    next: &mut [u32],
) {
    for _ in 0..total {
        let r: Receipt = collect
            .recv_timeout(Duration::from_secs(30))
            .expect("a receipt");
        let p = r.producer as usize;
        assert!(p < producers as usize, "receipt from no producer: {r:?}");
        assert!(seen.insert((r.producer, r.index)), "duplicate: {r:?}");
        assert_eq!(r.index, next[p], "producer {p}'s items out of order");
        next[p] += 1;
        let mut words = [0u32; 14];
        for (w, x) in words.iter_mut().enumerate() {
            *x = word(r.producer, r.index, w as u32);
        }
        assert_eq!(r.checksum, checksum(&words), "torn payload: {r:?}");
        assert_eq!(r.sent_by, senders[p].id(), "sender id");
        assert_eq!(r.node, collector_id, "the collector's clock");
        assert!(
            (r.physical, r.logical) > (r.cause_physical, r.cause_logical),
            "the receipt {:?} is not after its cause {:?}",
            (r.physical, r.logical),
            (r.cause_physical, r.cause_logical)
        );
    }
}

/// `producers` flooding actors each get `bursts` bursts of 64 items and
/// offer every item once with `ctx.try_send` into one slow drain's inbox of
/// `capacity` slots, never waiting. Each burst's answer says which items
/// the inbox took: exactly those reach the drain (and the host), each once,
/// untorn, per producer in order; none of the refused ones arrives; the
/// flooders' tallies count both, and both happened (the test is not
/// vacuous: the inbox did fill up, and it did take items).
pub fn try_send_flood(
    rt: &Runtime,
    placement: Placement,
    producers: u32,
    bursts: u32,
    capacity: u32,
) {
    const PER_BURST: u32 = 64;
    let mut b = rt.system();
    b.k2k_capacity(capacity).placement(placement);
    let drain_options = SpawnOptions {
        message_type_id: ITEM_TYPE,
        reply_type_id: ITEM_TYPE,
        outbox_capacity: 4096,
        ..SpawnOptions::default()
    };
    let drain = b
        .actor::<Item, Item, ()>(&kernel_in(placement, "drain"), (), &drain_options)
        .expect("drain");
    let flood_options = SpawnOptions {
        message_type_id: BURST_TYPE,
        reply_type_id: BURST_RESULT_TYPE,
        ..SpawnOptions::default()
    };
    let mut flooders = Vec::new();
    for _ in 0..producers {
        let m = b
            .actor::<Burst, BurstResult, FloodTally>(
                &kernel_in(placement, "flood"),
                FloodTally::default(),
                &flood_options,
            )
            .expect("flooder");
        b.connect(m, 0, drain).expect("wire");
        flooders.push(m);
    }
    let system = b.start().expect("start");
    // try_send never waits, so every burst is answered whatever the drain
    // does: send them all, then read the answers.
    for burst in 0..bursts {
        for m in &flooders {
            system
                .actor(*m)
                .send(&Burst {
                    first: burst * PER_BURST,
                    count: PER_BURST,
                })
                .expect("send a burst");
        }
    }
    let mut accepted = HashSet::new();
    let mut refused = 0u64;
    for m in &flooders {
        for burst in 0..bursts {
            let r: BurstResult = system
                .actor(*m)
                .recv_timeout(Duration::from_secs(60))
                .expect("a burst's answer");
            assert_eq!((r.first, r.count), (burst * PER_BURST, PER_BURST));
            for i in 0..PER_BURST {
                if r.accepted & (1u64 << i) != 0 {
                    accepted.insert((m.id(), r.first + i));
                } else {
                    refused += 1;
                }
            }
        }
        let tally: FloodTally = system.actor(*m).state().expect("state");
        let mine = accepted.iter().filter(|(p, _)| *p == m.id()).count() as u64;
        assert_eq!(tally.accepted, mine, "the flooder's count of true");
        assert_eq!(
            tally.accepted + tally.refused,
            u64::from(bursts * PER_BURST),
            "every offer was answered true or false"
        );
    }
    assert!(
        refused > 0,
        "the inbox never filled: the test proved nothing"
    );
    assert!(!accepted.is_empty(), "the inbox took nothing");
    let sink = system.actor(drain);
    let mut arrived = HashSet::new();
    let mut last: std::collections::HashMap<u32, u32> = Default::default();
    for _ in 0..accepted.len() {
        let it: Item = sink
            .recv_timeout(Duration::from_secs(60))
            .expect("every accepted item arrives");
        let key = (it.producer, it.index);
        assert!(
            accepted.contains(&key),
            "a refused (or unknown) item arrived: {it:?}"
        );
        assert!(arrived.insert(key), "duplicate: {it:?}");
        assert_eq!(
            it.check,
            it.producer.wrapping_mul(0x9E37_79B9) ^ it.index,
            "torn: {it:?}"
        );
        if let Some(prev) = last.insert(it.producer, it.index) {
            assert!(
                prev < it.index,
                "producer {}'s items out of order",
                it.producer
            );
        }
    }
    system.stop(Duration::from_secs(30)).expect("stop");
    if let Ok(Some(extra)) = sink.try_recv() {
        panic!("an item beyond the accepted ones arrived: {extra:?}");
    }
    let stats = sink.stats().expect("stats");
    assert_eq!(stats.messages_in, accepted.len() as u64);
    eprintln!(
        "try_send flood ({placement:?}): {producers} producers x {bursts} x {PER_BURST} offers \
         into {capacity} slots: {} taken, {refused} refused",
        accepted.len()
    );
}

/// A stopped destination is not backpressure: the flooder's `try_send`
/// into the closed inbox faults `Undeliverable` at its line (it does not
/// return false), and the burst is dead-lettered with that reason.
pub fn try_send_to_a_stopped_actor_faults(rt: &Runtime, placement: Placement) {
    let mut b = rt.system();
    b.placement(placement);
    let drain = b
        .actor::<Item, Item, ()>(
            &kernel_in(placement, "drain"),
            (),
            &SpawnOptions {
                message_type_id: ITEM_TYPE,
                reply_type_id: ITEM_TYPE,
                ..SpawnOptions::default()
            },
        )
        .expect("drain");
    let flooder = b
        .actor::<Burst, BurstResult, FloodTally>(
            &kernel_in(placement, "flood"),
            FloodTally::default(),
            &SpawnOptions {
                message_type_id: BURST_TYPE,
                reply_type_id: BURST_RESULT_TYPE,
                ..SpawnOptions::default()
            },
        )
        .expect("flooder");
    b.connect(flooder, 0, drain).expect("wire");
    let system = b.start().expect("start");
    system
        .actor(drain)
        .stop()
        .expect("the drain stops (its inbox closes)");
    let flood = system.actor(flooder);
    flood
        .send(&Burst { first: 0, count: 8 })
        .expect("send a burst");
    match flood.recv_timeout(Duration::from_secs(30)) {
        Err(ActorError::Fault { kind, location, .. }) => {
            assert_eq!(kind, FaultKind::Undeliverable);
            assert_eq!(location.file, FILE);
            let line = HANDLERS
                .lines()
                .position(|l| l.contains("ctx.try_send("))
                .expect("the try_send")
                + 1;
            assert_eq!(location.line as usize, line, "the try_send's line");
        }
        other => panic!("expected an Undeliverable fault, got {other:?}"),
    }
    let tally: FloodTally = flood.state().expect("state");
    assert_eq!((tally.accepted, tally.refused), (0, 0), "no answer counted");
    system.stop(Duration::from_secs(10)).expect("stop");
}

/// Stop drains every stage: work queued at the forwarders when the system
/// is asked to stop still reaches the collector and is answered. Then a
/// send to the stopped collector (its inbox closed) faults Undeliverable,
/// and is dead-lettered to the host, whatever the tier.
pub fn stop_drains(rt: &Runtime, placement: Placement) {
    let mut b = rt.system();
    b.placement(placement);
    let collector = b
        .actor::<Stamped, Receipt, Tally>(
            &kernel_in(placement, "collect"),
            Tally::default(),
            &collect_options(),
        )
        .expect("collector");
    let forwarder = b
        .actor::<Work, (), ()>(&kernel_in(placement, "forward"), (), &forward_options())
        .expect("forwarder");
    b.connect(forwarder, 0, collector).expect("wire");
    let system = b.start().expect("start");
    // Forwarder first, then the collector, as added... here the collector
    // was added first, so stop the forwarder explicitly before the system.
    forward_and_drain(&system, forwarder, 200);
    system.stop(Duration::from_secs(10)).expect("stop");
    let collect = system.actor(collector);
    let mut got = 0;
    while let Ok(Some(r)) = collect.try_recv() {
        assert_eq!(r.index, got);
        got += 1;
    }
    assert_eq!(got, 200, "every queued item was forwarded and answered");
}

/// Sends items 0..n (producer 0) to the forwarder from the host, then
/// stops it: it drains, so every item has been forwarded (committed into
/// its destination's inbox) when this returns.
fn forward_and_drain(system: &System, forwarder: Member<Work, (), ()>, n: u32) {
    for index in 0..n {
        system
            .actor(forwarder)
            .send(&Work {
                producer: 0,
                index,
                words: [index; 14],
            })
            .expect("send");
    }
    system
        .actor(forwarder)
        .stop()
        .expect("the forwarder drains");
}

/// A stopped actor closes its K2K inbox: a producer that sends to it
/// afterwards faults Undeliverable at the send's line (dead-lettered to
/// the host), and keeps running: in a cluster, the collector's block
/// still holds its shared memory (it waits at the exit barrier), so the
/// send finds the inbox closed instead of touching freed memory.
pub fn send_to_a_stopped_actor_is_undeliverable(rt: &Runtime, placement: Placement) {
    let mut b = rt.system();
    b.placement(placement).k2k_capacity(4);
    let collector = b
        .actor::<Stamped, Receipt, Tally>(
            &kernel_in(placement, "collect"),
            Tally::default(),
            &collect_options(),
        )
        .expect("collector");
    let forwarder = b
        .actor::<Work, (), ()>(&kernel_in(placement, "forward"), (), &forward_options())
        .expect("forwarder");
    b.connect(forwarder, 0, collector).expect("wire");
    let system = b.start().expect("start");
    let forward = system.actor(forwarder);
    let collect = system.actor(collector);
    forward.send(&Work::default()).expect("send");
    let r = collect
        .recv_timeout(Duration::from_secs(30))
        .expect("receipt");
    assert_eq!((r.producer, r.index), (0, 0));
    collect.stop().expect("the collector stops");
    forward
        .send(&Work {
            producer: 0,
            index: 1,
            words: [7; 14],
        })
        .expect("send");
    match forward.recv_timeout(Duration::from_secs(30)) {
        Err(ActorError::Fault { kind, location, .. }) => {
            assert_eq!(kind, FaultKind::Undeliverable);
            let line = HANDLERS
                .lines()
                .position(|l| l.contains("ctx.send("))
                .expect("the send")
                + 1;
            assert_eq!(location.line as usize, line, "the send's line");
        }
        other => panic!("expected an Undeliverable fault, got {other:?}"),
    }
    let dead = forward.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].kind, FaultKind::Undeliverable);
    system.stop(Duration::from_secs(10)).expect("stop");
}

/// The collector stops while its senders wait on its full inbox (three
/// forwarders, 60 items each, into 2 slots): its close races their claims
/// and must strand none. Every item ends exactly once either as a receipt
/// (untorn, in order per producer) or as an Undeliverable dead letter of
/// its forwarder (a send that found the inbox closed faults; whatever that
/// forwarder still held is dead-lettered when it stops), never lost, never
/// twice. (Which share each side gets depends on timing; the accounting
/// must hold for any.)
pub fn stop_while_senders_wait(rt: &Runtime, placement: Placement) {
    const PRODUCERS: u32 = 3;
    const PER_PRODUCER: u32 = 60;
    let mut b = rt.system();
    b.placement(placement).k2k_capacity(2);
    let collector = b
        .actor::<Stamped, Receipt, Tally>(
            &kernel_in(placement, "collect"),
            Tally::default(),
            &collect_options(),
        )
        .expect("collector");
    let mut senders = Vec::new();
    for _ in 0..PRODUCERS {
        let m = b
            .actor::<Work, (), ()>(&kernel_in(placement, "forward"), (), &forward_options())
            .expect("forwarder");
        b.connect(m, 0, collector).expect("wire");
        senders.push(m);
    }
    let system = b.start().expect("start");
    for index in 0..PER_PRODUCER {
        for (p, m) in senders.iter().enumerate() {
            let p = p as u32;
            let mut words = [0u32; 14];
            for (w, x) in words.iter_mut().enumerate() {
                *x = word(p, index, w as u32);
            }
            system
                .actor(*m)
                .send(&Work {
                    producer: p,
                    index,
                    words,
                })
                .expect("send");
        }
    }
    let collect = system.actor(collector);
    // Stop the collector once traffic flows (its receipts stay in its
    // 2048-slot outbox meanwhile), with the forwarders still sending.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while collect.stats().expect("stats").messages_in < 8 {
        assert!(std::time::Instant::now() < deadline, "no traffic");
        std::thread::sleep(Duration::from_micros(200));
    }
    collect.stop().expect("the collector stops");
    system.stop(Duration::from_secs(10)).expect("stop");
    let mut seen = HashSet::new();
    let mut next = vec![0u32; PRODUCERS as usize];
    loop {
        match collect.try_recv() {
            Ok(Some(r)) => {
                let p = r.producer as usize;
                assert!(p < PRODUCERS as usize, "receipt from no producer: {r:?}");
                assert!(seen.insert((r.producer, r.index)), "duplicate: {r:?}");
                assert_eq!(r.index, next[p], "producer {p}'s items out of order");
                next[p] += 1;
                let mut words = [0u32; 14];
                for (w, x) in words.iter_mut().enumerate() {
                    *x = word(r.producer, r.index, w as u32);
                }
                assert_eq!(r.checksum, checksum(&words), "torn payload: {r:?}");
            }
            Ok(None) | Err(ActorError::Stopped { .. }) => break,
            Err(e) => panic!("the collector: {e}"),
        }
    }
    let delivered = seen.len();
    for (p, m) in senders.iter().enumerate() {
        let forward = system.actor(*m);
        // Its faults come back as errors of recv (a forwarder has no
        // replies), then Stopped; dead_letters() holds them all.
        loop {
            match forward.recv_timeout(Duration::from_secs(10)) {
                Err(ActorError::Fault { .. }) => {}
                Err(ActorError::Stopped { .. }) => break,
                other => panic!("forwarder {p}: expected faults, then Stopped; got {other:?}"),
            }
        }
        for letter in forward.dead_letters() {
            let producer = u32::from_le_bytes(letter.payload[0..4].try_into().expect("4 bytes"));
            let index = u32::from_le_bytes(letter.payload[4..8].try_into().expect("4 bytes"));
            assert_eq!(
                producer, p as u32,
                "forwarder {p} dead-letters its own items"
            );
            assert_eq!(
                letter.kind,
                FaultKind::Undeliverable,
                "item {index} of forwarder {p}"
            );
            assert!(
                seen.insert((producer, index)),
                "item {index} of forwarder {p} both delivered and dead-lettered, or twice"
            );
        }
    }
    assert_eq!(
        seen.len(),
        (PRODUCERS * PER_PRODUCER) as usize,
        "every item delivered ({delivered}) or dead-lettered, none lost"
    );
    eprintln!(
        "{placement:?}: {delivered} delivered, {} dead-lettered Undeliverable",
        seen.len() - delivered
    );
}

/// A failed actor's K2K inbox is not lost when it stops: the message it
/// faulted on comes back as its fault (at the handler's line), every one
/// queued behind it as Undeliverable, in order, each exactly once
/// (`rk_actor_k2k_shutdown` on the GPU, the executor's close on the CPU).
pub fn failed_actor_dead_letters_its_k2k_queue(rt: &Runtime, placement: Placement) {
    let n = 10u32;
    let mut b = rt.system();
    b.placement(placement).k2k_capacity(16);
    let picky = b
        .actor::<Stamped, Receipt, ()>(&kernel_in(placement, "picky"), (), &collect_options())
        .expect("picky");
    let forwarder = b
        .actor::<Work, (), ()>(&kernel_in(placement, "forward"), (), &forward_options())
        .expect("forwarder");
    b.connect(forwarder, 0, picky).expect("wire");
    let system = b.start().expect("start");
    // Every item is in picky's inbox (committed) once the forwarder drained.
    forward_and_drain(&system, forwarder, n);
    let line = HANDLERS
        .lines()
        .position(|l| l.contains("s.words[(s.index + 14) as usize]"))
        .expect("picky's index")
        + 1;
    match system.actor(picky).recv_timeout(Duration::from_secs(30)) {
        Err(ActorError::Fault { kind, location, .. }) => {
            assert_eq!(kind, FaultKind::IndexOutOfBounds);
            assert_eq!(location.line as usize, line, "the index's line");
        }
        other => panic!("expected picky's fault, got {other:?}"),
    }
    system.stop(Duration::from_secs(10)).expect("stop");
    // The shutdown's dead letters are in picky's outbox: each comes back as
    // a fault from recv (and joins dead_letters()), then it is Stopped.
    let mut undeliverable = 0;
    loop {
        match system.actor(picky).recv_timeout(Duration::from_secs(10)) {
            Err(ActorError::Fault {
                kind: FaultKind::Undeliverable,
                ..
            }) => undeliverable += 1,
            Err(ActorError::Stopped { .. }) => break,
            other => panic!("expected dead letters, then Stopped; got {other:?}"),
        }
    }
    assert_eq!(undeliverable, n - 1);
    let letters = system.actor(picky).dead_letters();
    let seen: Vec<(FaultKind, u32)> = letters
        .iter()
        .map(|l| {
            // Stamped.index: the second u32 of the payload.
            let index = u32::from_le_bytes(l.payload[4..8].try_into().expect("4 bytes"));
            (l.kind, index)
        })
        .collect();
    let expected: Vec<(FaultKind, u32)> = std::iter::once((FaultKind::IndexOutOfBounds, 0))
        .chain((1..n).map(|i| (FaultKind::Undeliverable, i)))
        .collect();
    assert_eq!(
        seen, expected,
        "every item once: the faulted one, then the queue"
    );
}

/// Placement mistakes are errors at start: more actors than any cluster
/// holds (17: past every device's 16, on every backend).
pub fn placement_errors(rt: &Runtime) {
    let mut b = rt.system();
    b.placement(Placement::Cluster);
    let c = b
        .actor::<Stamped, Receipt, Tally>(&kernel("collect"), Tally::default(), &collect_options())
        .unwrap();
    for _ in 0..16 {
        let f = b
            .actor::<Work, (), ()>(&kernel("forward"), (), &forward_options())
            .unwrap();
        b.connect(f, 0, c).unwrap();
    }
    match b.start().map(|_| ()).unwrap_err() {
        Error::Actor(ActorError::Placement(e)) => {
            assert_eq!(
                e,
                PlacementError::TooManyActors {
                    actors: 17,
                    limit: 16,
                    why: ClusterLimit::Hardware
                }
            );
            assert!(e.to_string().contains("Placement::Gpu"), "{e}");
        }
        other => panic!("expected a placement error, got {other}"),
    }
}

/// A handler's send on a port nobody wired faults at the send's line,
/// and the message is dead-lettered; it never writes anywhere.
pub fn unrouted_send_faults(rt: &Runtime) {
    let actors = rt
        .spawn::<Work, (), ()>(&kernel("forward"), 1, (), &forward_options())
        .expect("spawn");
    let a = &actors[0];
    a.send(&Work::default()).expect("send");
    match a.recv_timeout(Duration::from_secs(10)) {
        Err(ActorError::Fault { kind, location, .. }) => {
            assert_eq!(kind, FaultKind::Unrouted);
            assert_eq!(location.file, FILE);
            let line = HANDLERS
                .lines()
                .position(|l| l.contains("ctx.send("))
                .expect("the send")
                + 1;
            assert_eq!(location.line as usize, line, "the send's line");
        }
        other => panic!("expected an Unrouted fault, got {other:?}"),
    }
    let dead = a.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].kind, FaultKind::Unrouted);
}

/// Wiring mistakes are errors before anything starts, whatever the
/// placement.
pub fn wiring_errors(rt: &Runtime, placement: Placement) {
    let wiring = |e: Error| match e {
        Error::Actor(ActorError::Wiring { problem }) => problem,
        other => panic!("expected a wiring error, got {other}"),
    };
    // A port the handler does not send on.
    let mut b = rt.system();
    b.placement(placement);
    let c = b
        .actor::<Stamped, Receipt, Tally>(
            &kernel_in(placement, "collect"),
            Tally::default(),
            &collect_options(),
        )
        .unwrap();
    let f = b
        .actor::<Work, (), ()>(&kernel_in(placement, "forward"), (), &forward_options())
        .unwrap();
    let problem = wiring(b.connect(f, 3, c).map(|_| ()).unwrap_err());
    assert!(problem.contains("no port 3"), "{problem}");
    // A port wired to an actor of another message type.
    let problem = wiring(b.connect(f, 0, f).map(|_| ()).unwrap_err());
    assert!(
        problem.contains("`Stamped`") && problem.contains("`Work`"),
        "{problem}"
    );
    // A port wired twice.
    b.connect(f, 0, c).unwrap();
    let problem = wiring(b.connect(f, 0, c).map(|_| ()).unwrap_err());
    assert!(problem.contains("already wired"), "{problem}");
    // A port left unwired.
    let mut b = rt.system();
    b.placement(placement);
    b.actor::<Work, (), ()>(&kernel_in(placement, "forward"), (), &forward_options())
        .unwrap();
    let problem = wiring(b.start().unwrap_err());
    assert!(problem.contains("not wired"), "{problem}");
}

/// Block placement's rules, before anything starts: only warp actors go in
/// a block (a block actor there is refused by name), warp actors go only
/// there (placed one block per actor, refused by name), and a block holds
/// at most 8 of them.
pub fn block_placement_errors(rt: &Runtime) {
    let placement_error = |e: Error| match e {
        Error::Actor(ActorError::Placement(e)) => e,
        other => panic!("expected a placement error, got {other}"),
    };
    // A block actor in a block.
    let mut b = rt.system();
    b.placement(Placement::Block);
    let c = b
        .actor::<Stamped, Receipt, Tally>(
            &kernel_in(Placement::Block, "collect"),
            Tally::default(),
            &collect_options(),
        )
        .unwrap();
    let f = b
        .actor::<Work, (), ()>(&kernel("forward"), (), &forward_options())
        .unwrap();
    b.connect(f, 0, c).unwrap();
    let e = placement_error(b.start().map(|_| ()).unwrap_err());
    assert_eq!(
        e,
        PlacementError::NotWarpActor {
            actor: 1,
            kernel: "forward".into()
        }
    );
    assert!(e.to_string().contains("`#[ring_kernel(warps = 1)]`"), "{e}");
    // Warp actors placed one block per actor, or in a cluster.
    for placement in [Placement::Gpu, Placement::Cluster] {
        let mut b = rt.system();
        b.placement(placement);
        let c = b
            .actor::<Stamped, Receipt, Tally>(
                &kernel("collect"),
                Tally::default(),
                &collect_options(),
            )
            .unwrap();
        let f = b
            .actor::<Work, (), ()>(
                &kernel_in(Placement::Block, "forward"),
                (),
                &forward_options(),
            )
            .unwrap();
        b.connect(f, 0, c).unwrap();
        let e = placement_error(b.start().map(|_| ()).unwrap_err());
        assert_eq!(
            e,
            PlacementError::WarpActorNeedsBlock {
                actor: 1,
                kernel: "forward".into()
            }
        );
        assert!(e.to_string().contains("Placement::Block"), "{e}");
    }
    // Nine warp actors.
    let mut b = rt.system();
    b.placement(Placement::Block);
    let c = b
        .actor::<Stamped, Receipt, Tally>(
            &kernel_in(Placement::Block, "collect"),
            Tally::default(),
            &collect_options(),
        )
        .unwrap();
    for _ in 0..8 {
        let f = b
            .actor::<Work, (), ()>(
                &kernel_in(Placement::Block, "forward"),
                (),
                &forward_options(),
            )
            .unwrap();
        b.connect(f, 0, c).unwrap();
    }
    let e = placement_error(b.start().map(|_| ()).unwrap_err());
    assert_eq!(
        e,
        PlacementError::TooManyWarpActors {
            actors: 9,
            limit: 8
        }
    );
}

/// A warp actor's send on a port nobody wired (spawned alone, so no route
/// at all) faults at the send's line, like a block actor's.
pub fn warp_unrouted_send_faults(rt: &Runtime) {
    let actors = rt
        .spawn::<Work, (), ()>(
            &kernel_in(Placement::Block, "forward"),
            3,
            (),
            &forward_options(),
        )
        .expect("spawn");
    for a in &actors {
        a.send(&Work::default()).expect("send");
        match a.recv_timeout(Duration::from_secs(10)) {
            Err(ActorError::Fault { kind, location, .. }) => {
                assert_eq!(kind, FaultKind::Unrouted);
                let line = HANDLERS
                    .lines()
                    .position(|l| l.contains("ctx.send("))
                    .expect("the send")
                    + 1;
                assert_eq!(location.line as usize, line, "the send's line");
            }
            other => panic!("expected an Unrouted fault, got {other:?}"),
        }
    }
}
