//! The actor suite's traffic scenarios: bursts, idle actors, stop, many actors, streams, calls one at a time.

use super::*;

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

/// `n` messages streamed in batches of varying size, through buffers
/// (`try_send_batch`/`try_recv_batch`) and in place (`try_send_with`/
/// `try_recv_with`) on alternate turns, with a `call` now and then (its reply is taken out of
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
    let mut turn = 0u64;
    let deadline = Instant::now() + patience(60);
    while received < n {
        assert!(
            Instant::now() < deadline,
            "stream stalled at {received} of {n}"
        );
        // Odd turns stream in place: `try_send_with` makes exactly the
        // messages it sends, `try_recv_with` hands the replies over from
        // their slots; even turns go through buffers.
        let in_place = turn % 2 == 1;
        turn += 1;
        if sent < n {
            let want = n.min(sent + size as u64) - sent;
            if in_place {
                let mut made = 0u64;
                let first = sent + 1;
                let took = actor
                    .try_send_with(want as usize, |i| {
                        assert_eq!(i as u64, made, "messages are made in order, once each");
                        made += 1;
                        ping(first + i as u64)
                    })
                    .expect("send") as u64;
                assert_eq!(took, made, "a message made is a message sent");
                sent += took;
            } else {
                batch.clear();
                batch.extend((sent + 1..=sent + want).map(ping));
                sent += actor.try_send_batch(&batch).expect("send") as u64;
            }
            size = size * 7 % 300 + 1;
        }
        if size % 37 == 0 {
            // A round trip in the middle of the stream: its sequence number
            // is outside the stream's (checked FIFO) range.
            calls += 1;
            let pong = actor.call(&ping(1 << 40 | calls)).expect("call");
            assert_eq!(pong.seq, 1 << 40 | calls);
        }
        if in_place {
            let handed = actor
                .try_recv_with(500, |pong| {
                    received += 1;
                    check_reply(actor.id(), &pong, received, &mut last_receipt);
                })
                .expect("recv");
            assert!(handed <= 500);
        } else {
            replies.clear();
            actor.try_recv_batch(&mut replies, 500).expect("recv");
            for pong in &replies {
                received += 1;
                check_reply(actor.id(), pong, received, &mut last_receipt);
            }
        }
    }
    assert!(matches!(actor.try_recv_with(10, |_| unreachable!()), Ok(0)));
    assert!(matches!(actor.try_recv_batch(&mut replies, 10), Ok(0)));
    let stats = actor.stats().unwrap();
    assert_eq!(
        (stats.messages_in, stats.messages_out),
        (n + calls, n + calls)
    );
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
    // The counters trail a reply taken from its flagged copy (ActorStats):
    // they reach the count within a moment, never past it.
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let stats = actor.stats().unwrap();
        let counts = (stats.messages_in, stats.messages_out);
        assert!(counts.0 <= calls && counts.1 < calls, "{counts:?}");
        if counts == (calls, calls - 1) {
            break;
        }
        assert!(Instant::now() < deadline, "counters stuck at {counts:?}");
        std::thread::yield_now();
    }
    actor.stop().unwrap();
}
