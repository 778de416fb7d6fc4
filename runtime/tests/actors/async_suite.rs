//! The async actor suite (feature `async`): `call_async`, `send_async`,
//! `recv_async` on tokio, generic over the backend (CPU in CI, GPU by
//! hand), over the handlers and checks of `suite.rs`.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use ringkernel_device::control::FaultKind;
use ringkernel_runtime::actor::{Actor, ActorError, RestartPolicy};

use crate::suite::{checksum, line_of, options, ping, Counter, Ping, Pong, Spawn, FILE};

/// How long any single await may take before the test calls it a hang.
const PATIENCE: Duration = Duration::from_secs(30);

fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_time()
        .build()
        .expect("tokio runtime")
}

async fn patient<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(PATIENCE, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: still pending after {PATIENCE:?} (a lost wake-up?)"),
    }
}

/// `tasks` tasks each make `calls` round trips on one of `actors` actors at
/// the same time: every reply answers its own request (sequence number,
/// checksum, actor id), and each actor's state counts exactly its messages.
/// A small inbox makes the senders wait for room as well.
pub fn concurrent_calls(backend: &dyn Spawn, actors: u32, tasks: u64, calls: u64) {
    let mut options = options();
    options.inbox_capacity = 8;
    options.outbox_capacity = 8;
    let handles: Arc<Vec<Actor<Ping, Pong, Counter>>> =
        Arc::new(backend.spawn_echo(actors, &options));
    let rt = runtime(4);
    let start = Instant::now();
    rt.block_on(async {
        let mut joins = Vec::new();
        for t in 0..tasks {
            let handles = handles.clone();
            joins.push(tokio::spawn(async move {
                let actor = &handles[(t % handles.len() as u64) as usize];
                for i in 0..calls {
                    let seq = t * 1_000_000 + i + 1;
                    let msg = ping(seq);
                    let pong = patient("call_async", actor.call_async(&msg))
                        .await
                        .expect("call_async");
                    assert_eq!(pong.seq, seq, "task {t}: the reply answers its own request");
                    assert_eq!(pong.checksum, checksum(&msg), "task {t}, message {seq}");
                    assert_eq!(pong.actor, actor.id());
                }
            }));
        }
        for j in joins {
            j.await.expect("task");
        }
    });
    println!(
        "{} async round trips from {tasks} tasks on {actors} actor(s) in {:?}",
        tasks * calls,
        start.elapsed()
    );
    for (a, actor) in handles.iter().enumerate() {
        let mine: Vec<u64> = (0..tasks)
            .filter(|t| t % u64::from(actors) == a as u64)
            .collect();
        let state = actor.state().unwrap();
        assert_eq!(state.count, mine.len() as u64 * calls, "actor {a}");
        let sum: u64 = mine
            .iter()
            .flat_map(|t| (0..calls).map(move |i| t * 1_000_000 + i + 1))
            .sum();
        assert_eq!(state.sum, sum, "actor {a}");
        actor.stop().unwrap();
    }
}

/// `send_async` a stream, `recv_async` it back: in order, exactly once;
/// then a recv with nothing sent waits (does not resolve) until a message
/// is sent by another task.
pub fn ordered_stream(backend: &dyn Spawn, n: u64) {
    let mut options = options();
    options.inbox_capacity = 16;
    options.outbox_capacity = 16;
    let actor = Arc::new(backend.spawn_echo(1, &options).remove(0));
    let rt = runtime(2);
    rt.block_on(async {
        let sender = {
            let actor = actor.clone();
            tokio::spawn(async move {
                let mut correlations = Vec::new();
                for seq in 1..=n {
                    correlations.push(
                        patient("send_async", actor.send_async(&ping(seq)))
                            .await
                            .unwrap(),
                    );
                }
                correlations
            })
        };
        let mut received = Vec::new();
        for _ in 0..n {
            let (pong, header) = patient("recv_async", actor.recv_envelope_async())
                .await
                .unwrap();
            received.push((pong.seq, header.correlation_id));
        }
        let correlations = sender.await.unwrap();
        let expected: Vec<(u64, u64)> = (1..=n).zip(correlations).collect();
        assert_eq!(received, expected, "FIFO, each correlation id echoed");

        // Nothing queued: the recv stays pending until a message is sent.
        let waiting = {
            let actor = actor.clone();
            tokio::spawn(async move { actor.recv_async().await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !waiting.is_finished(),
            "recv_async resolved with nothing sent"
        );
        actor.send_async(&ping(n + 1)).await.unwrap();
        let pong = patient("recv_async", waiting).await.unwrap().unwrap();
        assert_eq!(pong.seq, n + 1);
    });
    actor.stop().unwrap();
}

/// A faulting message fails its own `call_async` with the handler's Rust
/// location; with no restart policy the actor then reports Failed to the
/// next async call instead of hanging; a restart policy makes it answer
/// again.
pub fn faults(backend: &dyn Spawn) {
    let rt = runtime(2);
    let line = line_of("state.cells[msg.payload[0] as usize] += 1;");
    let mut bad = ping(2);
    bad.payload[0] = 4;

    let actor = backend.spawn_echo(1, &options()).remove(0);
    rt.block_on(async {
        assert_eq!(actor.call_async(&ping(1)).await.unwrap().seq, 1);
        match patient("faulting call", actor.call_async(&bad)).await {
            Err(ActorError::Fault { kind, location, .. }) => {
                assert_eq!(kind, FaultKind::IndexOutOfBounds);
                assert_eq!((location.file.as_str(), location.line), (FILE, line));
            }
            other => panic!("expected the fault, got {other:?}"),
        }
        match patient("call on a failed actor", actor.call_async(&ping(3))).await {
            Err(ActorError::Failed { .. }) => {}
            other => panic!("expected Failed, got {other:?}"),
        }
    });
    assert_eq!(actor.dead_letters().len(), 1);
    actor.restart().unwrap();
    rt.block_on(async {
        // Message 3 was queued behind the fault; its reply comes first.
        assert_eq!(patient("recv", actor.recv_async()).await.unwrap().seq, 3);
        assert_eq!(actor.call_async(&ping(4)).await.unwrap().seq, 4);
    });
    actor.stop().unwrap();

    let mut supervised = options();
    supervised.restart = RestartPolicy::OneForOne {
        max_restarts: 3,
        window: Duration::from_secs(60),
    };
    let actor = backend.spawn_echo(1, &supervised).remove(0);
    rt.block_on(async {
        assert!(matches!(
            patient("faulting call", actor.call_async(&bad)).await,
            Err(ActorError::Fault { .. })
        ));
        let pong = patient("call after a restart", actor.call_async(&ping(9)))
            .await
            .unwrap();
        assert_eq!(pong.seq, 9);
    });
    assert_eq!(actor.state().unwrap().count, 1, "restarted from Default");
    actor.stop().unwrap();
}

/// `stop` from another thread while tasks await: the pending `recv_async`
/// resolves to Stopped (not a hang), and later async calls fail Stopped.
pub fn stop_while_awaiting(backend: &dyn Spawn) {
    let actor = Arc::new(backend.spawn_echo(1, &options()).remove(0));
    let rt = runtime(2);
    rt.block_on(async {
        let waiting: Vec<_> = (0..4)
            .map(|_| {
                let actor = actor.clone();
                tokio::spawn(async move { actor.recv_async().await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let stopper = {
            let actor = actor.clone();
            std::thread::spawn(move || actor.stop())
        };
        for w in waiting {
            match patient("recv_async across stop", w).await.unwrap() {
                Err(ActorError::Stopped { .. }) => {}
                other => panic!("expected Stopped, got {other:?}"),
            }
        }
        stopper.join().unwrap().unwrap();
        assert!(matches!(
            actor.call_async(&ping(1)).await,
            Err(ActorError::Stopped { .. })
        ));
    });
}

/// A handler that never returns: the pending `call_async` fails Hung
/// within the watchdog period instead of waiting forever.
pub fn hang(backend: &dyn Spawn) {
    let mut options = options();
    options.hang_timeout = Some(Duration::from_millis(200));
    let actor = backend.spawn_echo(1, &options).remove(0);
    let mut stuck = ping(1);
    stuck.payload[1] = 0xDEAD_BEEF;
    let rt = runtime(2);
    let start = Instant::now();
    rt.block_on(async {
        actor.send_async(&stuck).await.unwrap();
        match patient("call behind a hung message", actor.call_async(&ping(2))).await {
            Err(ActorError::Hung { .. }) => {}
            other => panic!("expected Hung, got {other:?}"),
        }
    });
    println!("hang reported after {:?}", start.elapsed());
    // The hung actor cannot be stopped; its kernel (or thread) is leaked
    // when the handle drops, as in the blocking suite.
    std::mem::forget(actor);
}
