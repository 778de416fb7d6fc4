//! The actor suite's warp-actor scenarios: packed warp actors against a Rust reference, packing checks.

use super::*;

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
