//! The queue on real threads: full, FIFO, close, panics, drop, and a
//! stress run checked exactly once. The orderings themselves are
//! model-checked in `loom_models.rs`.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::thread;

use super::{K2kQueue, K2kRefused};

fn never<T>() -> T {
    panic!("a refused push made its value")
}

fn drain<T>(rx: &mut super::K2kConsumer<T>) -> Vec<T> {
    std::iter::from_fn(|| rx.pop()).collect()
}

#[test]
fn a_full_inbox_refuses_without_making_the_value_and_loses_nothing() {
    let (q, mut rx) = K2kQueue::<u32>::new(4);
    // Several laps, so every slot is reused.
    for lap in 0..5 {
        for i in 0..4 {
            q.try_push_with(|| lap * 10 + i).unwrap();
        }
        assert_eq!(q.try_push_with(never), Err(K2kRefused::Full));
        let want: Vec<u32> = (0..4).map(|i| lap * 10 + i).collect();
        assert_eq!(drain(&mut rx), want);
        assert_eq!(rx.pop(), None);
    }
    // A partly drained inbox takes exactly as many as were taken out.
    for i in 0..4 {
        q.try_push_with(|| i).unwrap();
    }
    assert_eq!(rx.pop(), Some(0));
    assert_eq!(rx.pop(), Some(1));
    q.try_push_with(|| 4).unwrap();
    q.try_push_with(|| 5).unwrap();
    assert_eq!(q.try_push_with(never), Err(K2kRefused::Full));
    assert_eq!(drain(&mut rx), [2, 3, 4, 5]);
}

#[test]
fn close_waits_for_every_reservation_and_then_refuses_every_push() {
    let (q, mut rx) = K2kQueue::<u32>::new(2);
    let (reserved_tx, reserved_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let q2 = q.clone();
    // A producer that holds its reservation until told to go on.
    let producer = thread::spawn(move || {
        q2.try_push_with(|| {
            reserved_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            7
        })
    });
    reserved_rx.recv().unwrap();
    assert_eq!(rx.pop(), None, "a slot was read before its commit");
    assert!(!rx.try_close(), "closed over a reserved, uncommitted slot");
    go_tx.send(()).unwrap();
    assert_eq!(producer.join().unwrap(), Ok(()));
    assert!(!rx.try_close(), "closed over a committed message");
    assert!(!q.is_closed());
    assert_eq!(rx.pop(), Some(7));
    assert!(rx.try_close());
    assert!(rx.try_close(), "closing twice");
    assert!(q.is_closed());
    assert_eq!(q.try_push_with(never), Err(K2kRefused::Closed));
    assert_eq!(rx.pop(), None);
}

#[test]
fn a_producer_that_panics_while_holding_a_slot_does_not_stall_the_inbox() {
    let (q, mut rx) = K2kQueue::<String>::new(2);
    let q2 = q.clone();
    let panicked = thread::spawn(move || {
        catch_unwind(AssertUnwindSafe(|| {
            q2.try_push_with(|| panic!("the value's constructor panics"))
        }))
        .is_err()
    })
    .join()
    .unwrap();
    assert!(panicked);
    q.try_push_with(|| "after".to_string()).unwrap();
    // The empty commit holds its slot until the consumer skips it.
    assert_eq!(q.try_push_with(never), Err(K2kRefused::Full));
    assert_eq!(drain(&mut rx), ["after"]);
    q.try_push_with(|| "last".to_string()).unwrap();
    q.try_push_with(|| "again".to_string()).unwrap();
    assert_eq!(drain(&mut rx), ["last", "again"]);
    assert!(rx.try_close(), "the skipped slot still counts as reserved");
}

#[test]
fn dropping_the_inbox_drops_what_is_queued() {
    let token = Arc::new(());
    {
        let (q, mut rx) = K2kQueue::new(4);
        for _ in 0..3 {
            q.try_push_with(|| token.clone()).unwrap();
        }
        drop(rx.pop());
        assert_eq!(Arc::strong_count(&token), 3);
    }
    assert_eq!(Arc::strong_count(&token), 1, "a queued value leaked");
}

#[test]
#[should_panic(expected = "power-of-two capacity of at least 2, got 1")]
fn one_slot_is_refused() {
    let _ = K2kQueue::<u8>::new(1);
}

#[test]
#[should_panic(expected = "power-of-two capacity of at least 2, got 12")]
fn a_capacity_not_a_power_of_two_is_refused() {
    let _ = K2kQueue::<u8>::new(12);
}

/// A message of the stress tests: its producer, its index, and a heap
/// payload derived from both (checked on arrival: moved whole).
type Msg = (u32, u64, Vec<u8>);

fn payload(producer: u32, i: u64) -> Vec<u8> {
    let n = 1 + (i % 61) as usize;
    (0..n)
        .map(|k| (i as u8) ^ (producer as u8).wrapping_mul(31) ^ k as u8)
        .collect()
}

/// Checks that `taken` holds, per producer, exactly the indices in
/// `accepted[producer]`, in order (FIFO per producer, exactly once), each
/// with its payload.
fn check_exactly_once(taken: &[Msg], accepted: &[Vec<u64>]) {
    let mut per: HashMap<u32, Vec<u64>> = HashMap::new();
    for (p, i, bytes) in taken {
        assert_eq!(*bytes, payload(*p, *i), "producer {p} message {i}: payload");
        per.entry(*p).or_default().push(*i);
    }
    for (p, want) in accepted.iter().enumerate() {
        let got = per.remove(&(p as u32)).unwrap_or_default();
        assert_eq!(
            got.len(),
            want.len(),
            "producer {p}: {} accepted, {} taken",
            want.len(),
            got.len()
        );
        assert!(
            got == *want,
            "producer {p}: taken out of order, twice, or not at all"
        );
    }
    assert!(per.is_empty(), "messages from unknown producers: {per:?}");
}

#[test]
fn eight_producers_times_10_000_arrive_exactly_once_in_order_per_producer() {
    const PRODUCERS: u32 = 8;
    const EACH: u64 = 10_000;
    let (q, mut rx) = K2kQueue::<Msg>::new(64);
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let q = q.clone();
            thread::spawn(move || {
                let mut full = 0u64;
                for i in 0..EACH {
                    // `send`: wait while the inbox is full.
                    loop {
                        match q.try_push_with(|| (p, i, payload(p, i))) {
                            Ok(()) => break,
                            Err(K2kRefused::Full) => {
                                full += 1;
                                thread::yield_now();
                            }
                            Err(K2kRefused::Closed) => panic!("closed while open"),
                        }
                    }
                }
                full
            })
        })
        .collect();
    let total = (u64::from(PRODUCERS) * EACH) as usize;
    let mut taken = Vec::with_capacity(total);
    while taken.len() < total {
        match rx.pop() {
            Some(m) => taken.push(m),
            None => thread::yield_now(),
        }
    }
    let full: u64 = producers.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(rx.pop(), None, "more messages than were sent");
    check_exactly_once(&taken, &vec![(0..EACH).collect(); PRODUCERS as usize]);
    assert!(rx.try_close());
    eprintln!("{total} messages through 64 slots; {full} pushes found the inbox full");
}

#[test]
fn closing_while_producers_race_takes_every_accepted_message_once_and_reports_the_rest() {
    const PRODUCERS: u32 = 4;
    const EACH: u64 = 3_000;
    // Stop after this many: the rest race the close.
    const BEFORE_STOP: usize = 2_000;
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Outcome {
        Accepted,
        /// `try_send` found the inbox full.
        Refused,
        /// The inbox was closed.
        Undeliverable,
    }
    let (q, mut rx) = K2kQueue::<Msg>::new(16);
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let q = q.clone();
            thread::spawn(move || {
                (0..EACH)
                    .map(|i| {
                        // Even messages go by `try_send` (one attempt), odd
                        // ones by `send` (retried while full).
                        let once = i % 2 == 0;
                        loop {
                            match q.try_push_with(|| (p, i, payload(p, i))) {
                                Ok(()) => break Outcome::Accepted,
                                Err(K2kRefused::Full) if once => break Outcome::Refused,
                                Err(K2kRefused::Full) => thread::yield_now(),
                                Err(K2kRefused::Closed) => break Outcome::Undeliverable,
                            }
                        }
                    })
                    .collect::<Vec<Outcome>>()
            })
        })
        .collect();
    // The consumer: runs messages, then (stopping) dead-letters what is
    // queued until the close succeeds, as the CPU executor does.
    let mut consumed = Vec::new();
    while consumed.len() < BEFORE_STOP {
        match rx.pop() {
            Some(m) => consumed.push(m),
            None => thread::yield_now(),
        }
    }
    // The actor fails: nothing is taken for a while, so the inbox fills
    // (sends wait, try_sends are refused); then it is stopped.
    thread::sleep(std::time::Duration::from_millis(20));
    let mut dead = Vec::new();
    while !rx.try_close() {
        match rx.pop() {
            Some(m) => dead.push(m),
            None => thread::yield_now(),
        }
    }
    let outcomes: Vec<Vec<Outcome>> = producers.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(rx.pop(), None, "a message committed after the close");
    assert_eq!(q.try_push_with(never), Err(K2kRefused::Closed));

    let accepted: Vec<Vec<u64>> = outcomes
        .iter()
        .map(|o| {
            (0..EACH)
                .filter(|&i| o[i as usize] == Outcome::Accepted)
                .collect()
        })
        .collect();
    let taken: Vec<Msg> = consumed.iter().chain(&dead).cloned().collect();
    // Every accepted message consumed or dead-lettered exactly once, in
    // order per producer; so no refused or undeliverable one ever arrived.
    check_exactly_once(&taken, &accepted);
    // A send is undeliverable only once the inbox closed: after a
    // producer's first undeliverable message, nothing of its is accepted.
    for (p, o) in outcomes.iter().enumerate() {
        if let Some(first) = o.iter().position(|&x| x == Outcome::Undeliverable) {
            assert!(
                o[first..].iter().all(|&x| x != Outcome::Accepted),
                "producer {p}: a message accepted after the close"
            );
        }
    }
    assert!(
        !dead.is_empty(),
        "the inbox was empty after 20 ms without a consumer: the dead-letter path went untested"
    );
    let count = |want: Outcome| outcomes.iter().flatten().filter(|&&x| x == want).count();
    eprintln!(
        "{} consumed, {} dead-lettered, {} refused (full), {} undeliverable",
        consumed.len(),
        dead.len(),
        count(Outcome::Refused),
        count(Outcome::Undeliverable)
    );
}
