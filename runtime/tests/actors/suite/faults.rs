//! The actor suite's fault scenarios: a faulting handler, supervision, hangs, faults in streams, foreign envelopes, stopping a failed actor.

use super::*;

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
    // One restart per fault: a second request is refused (as a protocol
    // error while the first is pending, as not Failed once taken up),
    // never counted as a restart of the next fault.
    assert!(victim.restart().is_err(), "a second restart of one fault");
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
