//! The K2K suite's delivery scenarios: fan-in exactly once through small and default inboxes, try_send floods.

use super::*;

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
    let collector = add_collector(&mut b, placement);
    let mut senders = Vec::new();
    for _ in 0..producers {
        let m = add_forwarder(&mut b, placement);
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
                    let words = words_of(p, index);
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
    system.stop(patience(10)).expect("stop");
    for m in &senders {
        let stats = system.actor(*m).stats().expect("stats");
        assert_eq!(stats.messages_in, u64::from(per_producer));
    }
    let stats = collect.stats().expect("stats");
    assert_eq!(stats.messages_in, u64::from(total));
    assert_eq!(stats.messages_out, u64::from(total));
}

/// One `split` actor sends item i of `n` to collector i % 2 (its ports 0
/// and 1 lead to two collectors), the port changing with every message:
/// each collector receives exactly its items, once, untorn, in order, each
/// stamped after its cause, and nothing of the other's (a send must never
/// follow the route it opened for another port).
pub fn split_by_port(rt: &Runtime, placement: Placement, n: u32) {
    let mut b = rt.system();
    b.k2k_capacity(8).placement(placement);
    let collectors: Vec<_> = (0..2).map(|_| add_collector(&mut b, placement)).collect();
    let splitter = add_splitter(&mut b, placement);
    for (port, c) in collectors.iter().enumerate() {
        b.connect(splitter, port as u32, *c).expect("wire");
    }
    let system = b.start().expect("start");
    let mut got = [Vec::new(), Vec::new()];
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for index in 0..n {
                let words = words_of(0, index);
                system
                    .actor(splitter)
                    .send(&Work {
                        producer: 0,
                        index,
                        words,
                    })
                    .expect("send");
            }
        });
        // Both collectors' outboxes (2048 slots) hold what they answer.
        for (k, c) in collectors.iter().enumerate() {
            let collect = system.actor(*c);
            for _ in 0..(n + 1 - k as u32) / 2 {
                let r: Receipt = collect.recv_timeout(patience(30)).expect("a receipt");
                let words = words_of(0, r.index);
                assert_eq!(r.checksum, checksum(&words), "torn payload: {r:?}");
                assert_eq!(r.sent_by, splitter.id(), "sender id");
                assert_eq!(r.node, c.id(), "the collector's clock");
                assert!(
                    (r.physical, r.logical) > (r.cause_physical, r.cause_logical),
                    "the receipt is not after its cause: {r:?}"
                );
                got[k].push(r.index);
            }
        }
    });
    for (k, indices) in got.iter().enumerate() {
        let expected: Vec<u32> = (0..n).filter(|i| i % 2 == k as u32).collect();
        assert_eq!(indices, &expected, "collector {k} (port {k})");
    }
    system.stop(patience(10)).expect("stop");
    for (k, c) in collectors.iter().enumerate() {
        let stats = system.actor(*c).stats().expect("stats");
        assert_eq!(stats.messages_in, got[k].len() as u64, "collector {k}");
    }
    let stats = system.actor(splitter).stats().expect("stats");
    assert_eq!(stats.messages_in, u64::from(n));
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
        let r: Receipt = collect.recv_timeout(patience(30)).expect("a receipt");
        let p = r.producer as usize;
        assert!(p < producers as usize, "receipt from no producer: {r:?}");
        assert!(seen.insert((r.producer, r.index)), "duplicate: {r:?}");
        assert_eq!(r.index, next[p], "producer {p}'s items out of order");
        next[p] += 1;
        let words = words_of(r.producer, r.index);
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
    let drain = add_drain(&mut b, placement, Some(4096));
    let mut flooders = Vec::new();
    for _ in 0..producers {
        let m = add_flooder(&mut b, placement);
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
                .recv_timeout(patience(60))
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
            .recv_timeout(patience(60))
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
    system.stop(patience(30)).expect("stop");
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
