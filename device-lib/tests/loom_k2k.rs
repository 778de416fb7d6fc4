//! Model check of the host K2K protocol with loom: senders racing for the
//! inbox's slots and one receiver, every interleaving (and every
//! weak-memory outcome loom models) explored, within a preemption bound.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p ringkernel-device --test
//! loom_k2k --release` (what `cargo xtask test` does, in target/loom).
//!
//! The words (tail, head, seq[i]) are loom atomics, so the orderings the
//! protocol passes are the ones checked; each slot is a loom `UnsafeCell`,
//! so a slot read not ordered after its write, or a write over a slot not
//! yet consumed, fails the model. On top, each test checks the values:
//! every message exactly once, untorn, per-sender order. The last tests
//! weaken the protocol on purpose (relaxed seq stores; relaxed seq loads)
//! and expect loom to catch each, so the harness is known to be able to fail.
#![cfg(loom)]

use std::sync::atomic::Ordering;
use std::sync::Arc;

use loom::cell::UnsafeCell;
use loom::sync::atomic::AtomicU64;
use loom::thread;

use ringkernel_device::k2k::{K2kLayout, K2kMemory, K2kReceiver, K2kSender, K2kWord};

const SLOT: usize = 64;
const PREEMPTIONS: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Weaken {
    None,
    /// Every seq store (commit and free) relaxed.
    SeqStores,
    /// Every seq load (reserve and consume) relaxed.
    SeqLoads,
}

struct LoomK2k {
    layout: K2kLayout,
    tail: AtomicU64,
    head: AtomicU64,
    seq: Vec<AtomicU64>,
    slots: Vec<UnsafeCell<[u8; SLOT]>>,
    weaken: Weaken,
}

// SAFETY: slot cells are only accessed under the protocol, which is what
// loom checks; the words are atomics.
unsafe impl Sync for LoomK2k {}
// SAFETY: as above.
unsafe impl Send for LoomK2k {}

impl LoomK2k {
    fn new(capacity: u32, weaken: Weaken) -> Arc<LoomK2k> {
        Arc::new(LoomK2k {
            layout: K2kLayout::new(capacity, SLOT as u32).unwrap(),
            tail: AtomicU64::new(0),
            head: AtomicU64::new(0),
            seq: (0..u64::from(capacity)).map(AtomicU64::new).collect(),
            slots: (0..capacity).map(|_| UnsafeCell::new([0; SLOT])).collect(),
            weaken,
        })
    }

    fn cell(&self, word: K2kWord) -> &AtomicU64 {
        match word {
            K2kWord::Tail => &self.tail,
            K2kWord::Head => &self.head,
            K2kWord::Seq(i) => &self.seq[i as usize],
        }
    }
}

// SAFETY: fixed layout, distinct atomics, one cell per slot.
unsafe impl K2kMemory for LoomK2k {
    fn layout(&self) -> K2kLayout {
        self.layout
    }
    fn load(&self, word: K2kWord, order: Ordering) -> u64 {
        let order = match (word, self.weaken) {
            (K2kWord::Seq(_), Weaken::SeqLoads) => Ordering::Relaxed,
            _ => order,
        };
        self.cell(word).load(order)
    }
    fn store(&self, word: K2kWord, value: u64, order: Ordering) {
        let order = match (word, self.weaken) {
            (K2kWord::Seq(_), Weaken::SeqStores) => Ordering::Relaxed,
            _ => order,
        };
        self.cell(word).store(value, order)
    }
    fn compare_exchange(
        &self,
        word: K2kWord,
        current: u64,
        new: u64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<u64, u64> {
        self.cell(word)
            .compare_exchange(current, new, success, failure)
    }
    unsafe fn with_slot<R>(&self, slot: u32, f: impl FnOnce(&[u8]) -> R) -> R {
        // SAFETY: loom checks the caller's claim to own the slot.
        self.slots[slot as usize].with(|p| f(unsafe { &*p }))
    }
    unsafe fn with_slot_mut<R>(&self, slot: u32, f: impl FnOnce(&mut [u8]) -> R) -> R {
        // SAFETY: as above.
        self.slots[slot as usize].with_mut(|p| f(unsafe { &mut *p }))
    }
}

/// Message `id` fills its slot's first and last byte.
fn write(slot: &mut [u8], id: u8) {
    slot[0] = id;
    slot[SLOT - 1] = id;
}

fn read(slot: &[u8]) -> u8 {
    assert_eq!(slot[0], slot[SLOT - 1], "torn slot");
    assert_ne!(slot[0], 0, "slot read before it was written");
    slot[0]
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    // Three preemptions cover the races that matter here (two senders
    // racing for one position, a sender reserving a slot the receiver is
    // freeing) and keep the state space to seconds.
    builder.preemption_bound = Some(PREEMPTIONS);
    builder.max_branches = 20_000;
    builder.check(f);
}

/// Sender 1 sends messages `1..=a`, sender 2 sends `101..=100 + b`, through
/// `capacity` slots; the receiver takes everything.
fn race(capacity: u32, a: u8, b: u8, weaken: Weaken) {
    model(move || {
        let mem = LoomK2k::new(capacity, weaken);
        let tx = K2kSender::new(mem.clone());
        // SAFETY: the only receiver.
        let mut rx = unsafe { K2kReceiver::attach(mem) };
        let senders: Vec<_> = [(1u8, a), (101u8, b)]
            .into_iter()
            .map(|(first, n)| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for id in first..first + n {
                        while tx.try_send(|s| write(s, id)).is_err() {
                            thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let mut got = Vec::new();
        while got.len() < usize::from(a + b) {
            match rx.try_recv(read) {
                Some(id) => got.push(id),
                None => thread::yield_now(),
            }
        }
        for s in senders {
            s.join().unwrap();
        }
        assert_eq!(rx.try_recv(read), None, "a message appeared twice");
        let from = |lo: u8| {
            got.iter()
                .copied()
                .filter(|&id| (lo..lo + 100).contains(&id))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            from(1),
            (1..=a).collect::<Vec<_>>(),
            "sender 1: lost, duplicated or reordered"
        );
        assert_eq!(
            from(101),
            (101..101 + b).collect::<Vec<_>>(),
            "sender 2: lost, duplicated or reordered"
        );
    });
}

#[test]
fn two_senders_race_for_the_same_position() {
    race(2, 1, 1, Weaken::None);
}

/// Two slots already full (positions 0 and 1); a receiver frees slot 0
/// while a sender tries position 2, which is slot 0 again: the send either
/// finds the inbox full or lands after the receiver's read, never over it.
/// No thread waits for another, so loom explores every interleaving
/// without a spin loop.
fn lap(weaken: Weaken) {
    model(move || {
        let mem = LoomK2k::new(2, weaken);
        let tx = K2kSender::new(mem.clone());
        // SAFETY: the only receiver.
        let mut rx = unsafe { K2kReceiver::attach(mem) };
        tx.try_send(|s| write(s, 1)).unwrap();
        tx.try_send(|s| write(s, 2)).unwrap();
        let tx2 = tx.clone();
        let sender = thread::spawn(move || tx2.try_send(|s| write(s, 3)).is_ok());
        let first = rx.try_recv(read);
        assert_eq!(first, Some(1));
        let third_sent = sender.join().unwrap();
        let mut rest = Vec::new();
        while let Some(id) = rx.try_recv(read) {
            rest.push(id);
        }
        let want: &[u8] = if third_sent { &[2, 3] } else { &[2] };
        assert_eq!(rest, want);
    });
}

#[test]
fn a_second_lap_reuses_a_slot_only_after_it_is_consumed() {
    lap(Weaken::None);
}

#[test]
fn full_is_refused_never_overwritten() {
    model(|| {
        let mem = LoomK2k::new(2, Weaken::None);
        let tx = K2kSender::new(mem.clone());
        // SAFETY: the only receiver.
        let mut rx = unsafe { K2kReceiver::attach(mem) };
        let tx2 = tx.clone();
        let other = thread::spawn(move || tx2.try_send(|s| write(s, 2)).is_ok());
        let first = tx.try_send(|s| write(s, 1)).is_ok();
        let third = tx.try_send(|s| write(s, 3)).is_ok();
        let second = other.join().unwrap();
        // Two slots, nothing consumed: exactly two of the three fit (which
        // two depends on the race), and those two are what arrives.
        let sent: Vec<u8> = [(1, first), (2, second), (3, third)]
            .into_iter()
            .filter_map(|(id, ok)| ok.then_some(id))
            .collect();
        assert_eq!(sent.len(), 2, "{sent:?} fit into an empty two-slot inbox");
        assert!(first, "the first send into an empty inbox was refused");
        let mut got = Vec::new();
        rx.recv_batch(4, |_, s| got.push(read(s)));
        got.sort_unstable();
        assert_eq!(got, sent);
    });
}

#[test]
#[should_panic(expected = "Causality violation")]
fn relaxed_commits_are_caught() {
    // The receiver could read a slot before the sender's write.
    race(2, 1, 1, Weaken::SeqStores);
}

#[test]
#[should_panic(expected = "Causality violation")]
fn relaxed_frees_are_caught() {
    // The sender could overwrite slot 0 while the receiver still reads it
    // (the free's store is relaxed, and so is the sender's load of it).
    lap(Weaken::SeqStores);
}

#[test]
#[should_panic(expected = "Causality violation")]
fn relaxed_seq_loads_are_caught() {
    race(2, 1, 1, Weaken::SeqLoads);
}
