//! Model check of the host half of the SPSC ring with loom: one producer
//! thread and one consumer thread on a capacity-2 ring, every interleaving
//! (and every weak-memory outcome loom models) explored.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p ringkernel-device --test
//! loom_ring --release` (what `cargo xtask test` does, in target/loom).
//!
//! The ring's memory is [`LoomRing`]: the two indices are loom atomics, so
//! the orderings the producer and consumer pass are the ones checked, and
//! each slot is a loom `UnsafeCell`, so any slot access not ordered after
//! the access it conflicts with (a read before the write that publishes it,
//! a write over a slot not yet consumed) fails the model. On top, each test
//! checks the values: nothing lost, nothing duplicated, FIFO, nothing read
//! before written (slots start zeroed, messages are nonzero), and a full
//! ring refuses the push. The last two tests break the protocol on purpose
//! (a relaxed publish of `tail`, a relaxed free of `head`) and expect loom
//! to catch each, so the harness is known to be able to fail.
#![cfg(loom)]

use std::sync::atomic::Ordering;

use loom::cell::UnsafeCell;
use loom::sync::atomic::AtomicU64;
// std's Arc: the crate implements RingMemory for it (loom's would need a
// local wrapper), and its reference count plays no part in the protocol.
use loom::thread;
use std::sync::Arc;

use ringkernel_device::ring::{channel, RingIndex, RingLayout, RingMemory};

const SLOT: usize = 64;

struct LoomRing {
    layout: RingLayout,
    head: AtomicU64,
    tail: AtomicU64,
    slots: Vec<UnsafeCell<[u8; SLOT]>>,
    /// Downgrades this index's stores to Relaxed (a broken protocol, for
    /// the negative tests).
    relaxed: Option<RingIndex>,
}

// SAFETY: slot cells are only accessed under the ring protocol, which is
// exactly what loom checks; the indices are atomics.
unsafe impl Sync for LoomRing {}

impl LoomRing {
    fn new(capacity: u32, relaxed: Option<RingIndex>) -> Arc<LoomRing> {
        Arc::new(LoomRing {
            layout: RingLayout::new(capacity, SLOT as u32).unwrap(),
            head: AtomicU64::new(0),
            tail: AtomicU64::new(0),
            slots: (0..capacity).map(|_| UnsafeCell::new([0; SLOT])).collect(),
            relaxed,
        })
    }

    fn cell(&self, index: RingIndex) -> &AtomicU64 {
        match index {
            RingIndex::Head => &self.head,
            RingIndex::Tail => &self.tail,
        }
    }
}

// SAFETY: fixed layout, two distinct atomics, one cell per slot.
unsafe impl RingMemory for LoomRing {
    fn layout(&self) -> RingLayout {
        self.layout
    }
    fn load(&self, index: RingIndex, order: Ordering) -> u64 {
        self.cell(index).load(order)
    }
    fn store(&self, index: RingIndex, value: u64, order: Ordering) {
        let order = if self.relaxed == Some(index) {
            Ordering::Relaxed
        } else {
            order
        };
        self.cell(index).store(value, order)
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

/// Sends messages 1..=n from one thread to another through a capacity-2
/// ring, retrying on full and empty.
fn transfer(relaxed: Option<RingIndex>, n: u8) {
    loom::model(move || {
        let mem = LoomRing::new(2, relaxed);
        // SAFETY: one producer thread, one consumer thread.
        let (mut tx, mut rx) = unsafe { channel(mem) };
        let producer = thread::spawn(move || {
            for id in 1..=n {
                while tx.try_push(|s| write(s, id)).is_err() {
                    thread::yield_now();
                }
            }
        });
        let mut got = Vec::new();
        while got.len() < n as usize {
            match rx.try_pop(read) {
                Some(id) => got.push(id),
                None => thread::yield_now(),
            }
        }
        producer.join().unwrap();
        assert_eq!(
            got,
            (1..=n).collect::<Vec<u8>>(),
            "lost, duplicated or reordered"
        );
        assert_eq!(rx.try_pop(read), None, "a message appeared twice");
    });
}

#[test]
fn every_message_arrives_once_in_order_through_a_full_ring() {
    // Three messages through two slots: the producer meets a full ring
    // and the second lap reuses slot 0.
    transfer(None, 3);
}

#[test]
fn full_is_backpressure_never_an_overwrite() {
    loom::model(|| {
        let mem = LoomRing::new(2, None);
        // SAFETY: one producer thread, one consumer thread.
        let (mut tx, mut rx) = unsafe { channel(mem) };
        let producer = thread::spawn(move || {
            // Three attempts without waiting: at least two succeed; any
            // refusal must be Full with the slot untouched (the consumer
            // would see a torn or wrong message otherwise).
            let mut pushed = 0u8;
            for _ in 0..3 {
                // The only error is `Full`, which writes nothing.
                if tx.try_push(|s| write(s, pushed + 1)).is_ok() {
                    pushed += 1;
                }
            }
            assert!(pushed >= 2, "an empty ring of two slots took only {pushed}");
            pushed
        });
        let mut got = Vec::new();
        if let Some(id) = rx.try_pop(read) {
            got.push(id);
        }
        let pushed = producer.join().unwrap();
        while let Some(id) = rx.try_pop(read) {
            got.push(id);
        }
        assert_eq!(got, (1..=pushed).collect::<Vec<u8>>());
    });
}

#[test]
fn batches_arrive_once_in_order() {
    loom::model(|| {
        let mem = LoomRing::new(2, None);
        // SAFETY: one producer thread, one consumer thread.
        let (mut tx, mut rx) = unsafe { channel(mem) };
        let producer = thread::spawn(move || {
            let mut next = 1u8;
            while next <= 3 {
                let base = next;
                let want = (4 - next).min(2) as usize;
                let n = tx.push_batch(want, |i, s| write(s, base + i as u8));
                next += n as u8;
                if n == 0 {
                    thread::yield_now();
                }
            }
        });
        let mut got = Vec::new();
        while got.len() < 3 {
            if rx.pop_batch(2, |_, s| got.push(read(s))) == 0 {
                thread::yield_now();
            }
        }
        producer.join().unwrap();
        assert_eq!(got, [1, 2, 3]);
    });
}

#[test]
#[should_panic(expected = "Causality violation")]
fn a_relaxed_publish_is_caught() {
    // The consumer could read the slot before the producer's write.
    transfer(Some(RingIndex::Tail), 1);
}

#[test]
#[should_panic(expected = "Causality violation")]
fn a_relaxed_free_is_caught() {
    // The producer could overwrite slot 0 while the consumer still reads it.
    transfer(Some(RingIndex::Head), 3);
}
