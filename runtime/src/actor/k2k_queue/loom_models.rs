//! Model checks of the queue with loom: producers racing for slots, the
//! consumer freeing them, and the close racing sends, every interleaving
//! (and every weak-memory outcome loom models) explored within a
//! preemption bound.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p ringkernel-verification
//! --test loom_k2k_queue --release` (what `cargo xtask test` does, in
//! target/loom): that test crate includes `k2k_queue.rs` by path.
//!
//! The words are loom atomics and each slot a loom `UnsafeCell`, so a slot
//! read not ordered after its write, or a write over a slot not yet
//! consumed, fails the model ("Causality violation"). On top, each model
//! checks the values: every accepted message taken exactly once, in order
//! per producer, none after the close. The last tests plant bugs (each
//! ordering of the protocol relaxed in turn; `K2kClose.tla`'s close that
//! ignores reservations) and expect the model to fail, so the harness is
//! known to be able to.

use ::loom::thread;

use super::{K2kConsumer, K2kQueue, K2kRefused, Planted, Site};

type Queue = std::sync::Arc<K2kQueue<u32>>;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = ::loom::model::Builder::new();
    // Three preemptions cover the races that matter here (two producers
    // racing for one position, a producer reserving a slot the consumer is
    // freeing, a reservation racing the close) and keep each model to
    // seconds.
    builder.preemption_bound = Some(3);
    builder.max_branches = 20_000;
    builder.check(f);
}

fn queue(capacity: u32, bug: Option<Planted>) -> (Queue, K2kConsumer<u32>) {
    match bug {
        None => K2kQueue::new(capacity),
        Some(bug) => K2kQueue::with_bug(capacity, bug),
    }
}

/// Two producers send one message each into two slots (waiting while
/// full); the consumer takes both.
fn race(bug: Option<Planted>) {
    model(move || {
        let (q, mut rx) = queue(2, bug);
        let producers: Vec<_> = [1u32, 2]
            .into_iter()
            .map(|id| {
                let q = q.clone();
                thread::spawn(move || {
                    while q.try_push_with(|| id).is_err() {
                        thread::yield_now();
                    }
                })
            })
            .collect();
        let mut got = Vec::new();
        while got.len() < 2 {
            match rx.pop() {
                Some(id) => got.push(id),
                None => thread::yield_now(),
            }
        }
        for p in producers {
            p.join().unwrap();
        }
        assert_eq!(rx.pop(), None, "a message arrived twice");
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
}

/// Both slots full (positions 0 and 1); the consumer frees slot 0 while a
/// producer tries position 2, slot 0 again: the push finds the inbox full
/// or lands after the consumer's read, never over it.
fn lap(bug: Option<Planted>) {
    model(move || {
        let (q, mut rx) = queue(2, bug);
        q.try_push_with(|| 1).unwrap();
        q.try_push_with(|| 2).unwrap();
        let q2 = q.clone();
        let producer = thread::spawn(move || q2.try_push_with(|| 3));
        assert_eq!(rx.pop(), Some(1));
        let third = producer.join().unwrap();
        let rest: Vec<u32> = std::iter::from_fn(|| rx.pop()).collect();
        match third {
            Ok(()) => assert_eq!(rest, [2, 3]),
            Err(K2kRefused::Full) => assert_eq!(rest, [2]),
            Err(K2kRefused::Closed) => panic!("refused as closed while open"),
        }
    });
}

/// Producers send (one attempt each, `try_send`) while the consumer takes
/// what is there and then closes, taking (dead-lettering) what is queued
/// until the close succeeds. Every accepted message is taken exactly once
/// (in order per producer), none is accepted after the close, and a push
/// after it is refused as closed.
fn close_race(producers: &'static [&'static [u32]], bug: Option<Planted>) {
    model(move || {
        let (q, mut rx) = queue(2, bug);
        let threads: Vec<_> = producers
            .iter()
            .map(|ids| {
                let q = q.clone();
                thread::spawn(move || {
                    ids.iter()
                        .map(|&id| (id, q.try_push_with(|| id)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut taken = Vec::new();
        taken.extend(rx.pop());
        while !rx.try_close() {
            match rx.pop() {
                Some(id) => taken.push(id),
                None => thread::yield_now(),
            }
        }
        let outcomes: Vec<Vec<(u32, Result<(), K2kRefused>)>> =
            threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(q.try_push_with(|| 99), Err(K2kRefused::Closed));
        assert_eq!(
            rx.pop(),
            None,
            "a message committed after the close (stranded)"
        );
        for sent in &outcomes {
            let accepted: Vec<u32> = sent
                .iter()
                .filter(|(_, r)| r.is_ok())
                .map(|&(id, _)| id)
                .collect();
            let arrived: Vec<u32> = taken
                .iter()
                .copied()
                .filter(|id| sent.iter().any(|(s, _)| s == id))
                .collect();
            assert_eq!(
                arrived, accepted,
                "accepted messages stranded, duplicated or reordered"
            );
            if let Some(first) = sent.iter().position(|(_, r)| *r == Err(K2kRefused::Closed)) {
                assert!(
                    sent[first..].iter().all(|(_, r)| r.is_err()),
                    "a message accepted after the close: {sent:?}"
                );
            }
        }
    });
}

#[test]
fn two_producers_race_for_the_same_position() {
    race(None);
}

#[test]
fn a_second_lap_reuses_a_slot_only_after_it_is_consumed() {
    lap(None);
}

#[test]
fn full_is_refused_never_overwritten() {
    model(|| {
        let (q, mut rx) = queue(2, None);
        let q2 = q.clone();
        let other = thread::spawn(move || q2.try_push_with(|| 2).is_ok());
        let first = q.try_push_with(|| 1).is_ok();
        let third = q.try_push_with(|| 3).is_ok();
        let second = other.join().unwrap();
        // Two slots, nothing consumed: exactly two of the three fit.
        let mut sent: Vec<u32> = [(1, first), (2, second), (3, third)]
            .into_iter()
            .filter_map(|(id, ok)| ok.then_some(id))
            .collect();
        assert_eq!(sent.len(), 2, "{sent:?} fit into an empty two-slot inbox");
        assert!(first, "the first push into an empty inbox was refused");
        let mut got: Vec<u32> = std::iter::from_fn(|| rx.pop()).collect();
        got.sort_unstable();
        sent.sort_unstable();
        assert_eq!(got, sent);
    });
}

#[test]
fn closing_races_one_producers_three_sends() {
    close_race(&[&[1, 2, 3]], None);
}

#[test]
fn closing_races_two_producers() {
    close_race(&[&[1], &[2]], None);
}

#[test]
fn closing_races_two_producers_two_sends_each() {
    close_race(&[&[1, 2], &[3, 4]], None);
}

#[test]
#[should_panic(expected = "Causality violation")]
fn relaxed_commits_are_caught() {
    // The consumer could read a slot before the producer's write.
    race(Some(Planted::Relaxed(Site::Commit)));
}

#[test]
#[should_panic(expected = "Causality violation")]
fn relaxed_consume_loads_are_caught() {
    race(Some(Planted::Relaxed(Site::ConsumeLoad)));
}

#[test]
#[should_panic(expected = "Causality violation")]
fn relaxed_frees_are_caught() {
    // The producer could overwrite slot 0 while the consumer still reads it.
    lap(Some(Planted::Relaxed(Site::Free)));
}

#[test]
#[should_panic(expected = "Causality violation")]
fn relaxed_reserve_loads_are_caught() {
    lap(Some(Planted::Relaxed(Site::ReserveLoad)));
}

#[test]
#[should_panic(expected = "stranded")]
fn a_close_that_ignores_reservations_is_caught() {
    // A producer that reserved before the close commits into an inbox
    // nobody reads (K2kClose_bug_close_ignores_reservations.cfg).
    close_race(&[&[1, 2, 3]], Some(Planted::CloseIgnoresReservations));
}
