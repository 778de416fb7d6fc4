//! The host half of the SPSC ring: behaviour on one thread (FIFO, full is
//! backpressure, batches, wrap-around, re-attaching) and multithreaded
//! stress with a producer and a consumer thread, checking that every message
//! arrives exactly once, in order, and completely written.

use std::sync::Arc;
use std::thread;

use ringkernel_device::envelope::{EnvelopeHeader, ENVELOPE_HEADER_SIZE};
use ringkernel_device::ring::{
    channel, Consumer, Full, HeapRing, Producer, PushError, RingIndex, RingLayout, RingMemory,
};

fn ring(capacity: u32, slot_size: u32) -> Arc<HeapRing> {
    Arc::new(HeapRing::new(RingLayout::new(capacity, slot_size).unwrap()))
}

/// Writes `id` at both ends of the slot; a reader that sees different
/// values, or zero, saw a slot that was not completely written.
fn stamp(slot: &mut [u8], id: u64) {
    let n = slot.len();
    slot[..8].copy_from_slice(&id.to_le_bytes());
    slot[n - 8..].copy_from_slice(&id.to_le_bytes());
}

fn read_stamp(slot: &[u8]) -> u64 {
    let n = slot.len();
    let first = u64::from_le_bytes(slot[..8].try_into().unwrap());
    let last = u64::from_le_bytes(slot[n - 8..].try_into().unwrap());
    assert_eq!(
        first, last,
        "torn slot: {first} at the start, {last} at the end"
    );
    assert_ne!(first, 0, "a slot was read before it was written");
    first
}

#[test]
fn fifo_full_is_backpressure_and_nothing_is_overwritten() {
    let mem = ring(4, 64);
    // SAFETY: the only producer and consumer of this ring.
    let (mut tx, mut rx) = unsafe { channel(mem.clone()) };
    assert_eq!(rx.try_pop(read_stamp), None, "a fresh ring is empty");
    for id in 1..=4 {
        tx.try_push(|s| stamp(s, id)).unwrap();
    }
    let mut called = false;
    assert_eq!(tx.try_push(|_| called = true), Err(Full));
    assert!(!called, "a full ring does not hand out a slot");
    assert_eq!(tx.free_slots(), 0);
    assert_eq!(rx.available(), 4);
    assert_eq!(rx.try_pop(read_stamp), Some(1));
    tx.try_push(|s| stamp(s, 5)).unwrap();
    assert_eq!(tx.try_push(|s| stamp(s, 6)), Err(Full));
    let drained: Vec<u64> = std::iter::from_fn(|| rx.try_pop(read_stamp)).collect();
    assert_eq!(
        drained,
        [2, 3, 4, 5],
        "FIFO, and 6 was refused, not written over 2"
    );
    assert_eq!(
        mem.load(RingIndex::Tail, std::sync::atomic::Ordering::Acquire),
        5
    );
    assert_eq!(
        mem.load(RingIndex::Head, std::sync::atomic::Ordering::Acquire),
        5
    );
}

#[test]
fn many_laps_around_a_small_ring_keep_order() {
    let mem = ring(2, 128);
    // SAFETY: the only producer and consumer of this ring.
    let (mut tx, mut rx) = unsafe { channel(mem) };
    let mut next_out = 1;
    for id in 1..=1000u64 {
        if tx.try_push(|s| stamp(s, id)).is_err() {
            assert_eq!(rx.try_pop(read_stamp), Some(next_out));
            next_out += 1;
            tx.try_push(|s| stamp(s, id)).unwrap();
        }
    }
    while let Some(id) = rx.try_pop(read_stamp) {
        assert_eq!(id, next_out);
        next_out += 1;
    }
    assert_eq!(next_out, 1001);
}

#[test]
fn batches_publish_and_free_in_one_store_each() {
    let mem = ring(8, 64);
    // SAFETY: the only producer and consumer of this ring.
    let (mut tx, mut rx) = unsafe { channel(mem.clone()) };
    assert_eq!(tx.push_batch(5, |i, s| stamp(s, i as u64 + 1)), 5);
    assert_eq!(
        tx.push_batch(5, |i, s| stamp(s, i as u64 + 6)),
        3,
        "only 3 free"
    );
    assert_eq!(tx.push_batch(5, |_, _| unreachable!("full")), 0);
    let mut seen = Vec::new();
    assert_eq!(rx.pop_batch(6, |_, s| seen.push(read_stamp(s))), 6);
    assert_eq!(rx.pop_batch(6, |_, s| seen.push(read_stamp(s))), 2);
    assert_eq!(rx.pop_batch(6, |_, _| unreachable!("empty")), 0);
    assert_eq!(seen, (1..=8).collect::<Vec<u64>>());
}

#[test]
fn envelopes_carry_header_and_payload_and_oversize_payloads_are_refused() {
    let mem = ring(2, 128);
    // SAFETY: the only producer and consumer of this ring.
    let (mut tx, mut rx) = unsafe { channel(mem) };
    let header = EnvelopeHeader {
        type_id: 3,
        correlation_id: 42,
        ..EnvelopeHeader::default()
    };
    assert_eq!(
        tx.try_push_envelope(&header, &[0; 65]),
        Err(PushError::PayloadTooLarge { len: 65, max: 64 })
    );
    tx.try_push_envelope(&header, &[7; 10]).unwrap();
    let (got, payload) = rx
        .try_pop(|s| {
            let h = EnvelopeHeader::read_from(s);
            (
                h,
                s[ENVELOPE_HEADER_SIZE..][..h.payload_size as usize].to_vec(),
            )
        })
        .unwrap();
    assert_eq!(
        (got.type_id, got.correlation_id, got.payload_size),
        (3, 42, 10)
    );
    assert_eq!(payload, [7; 10]);
    tx.try_push_envelope(&header, &[]).unwrap();
    tx.try_push_envelope(&header, &[]).unwrap();
    assert_eq!(
        tx.try_push_envelope(&header, &[]),
        Err(PushError::Full(Full))
    );
}

#[test]
fn a_reattached_side_carries_on_from_the_shared_indices() {
    let mem = ring(4, 64);
    // SAFETY: each side is attached once at a time; the first pair is
    // dropped before the second is attached.
    let (mut tx, mut rx) = unsafe { channel(mem.clone()) };
    for id in 1..=3 {
        tx.try_push(|s| stamp(s, id)).unwrap();
    }
    assert_eq!(rx.try_pop(read_stamp), Some(1));
    drop((tx, rx));
    // SAFETY: as above.
    let mut tx = unsafe { Producer::attach(mem.clone()) };
    // SAFETY: as above.
    let mut rx = unsafe { Consumer::attach(mem.clone()) };
    assert_eq!(tx.free_slots(), 2);
    tx.try_push(|s| stamp(s, 4)).unwrap();
    let rest: Vec<u64> = std::iter::from_fn(|| rx.try_pop(read_stamp)).collect();
    assert_eq!(rest, [2, 3, 4]);
}

/// Sends `count` messages through a ring of `capacity` slots between two
/// threads; `batch` > 1 uses the batched calls on both sides.
fn stress(capacity: u32, slot_size: u32, count: u64, batch: usize) {
    let mem = ring(capacity, slot_size);
    // SAFETY: one producer thread and one consumer thread, nothing else.
    let (mut tx, mut rx) = unsafe { channel(mem) };
    let producer = thread::spawn(move || {
        let mut next = 1u64;
        while next <= count {
            if batch == 1 {
                if tx.try_push(|s| stamp(s, next)).is_ok() {
                    next += 1;
                } else {
                    std::hint::spin_loop();
                }
            } else {
                let want = batch.min((count - next + 1) as usize);
                let base = next;
                next += tx.push_batch(want, |i, s| stamp(s, base + i as u64)) as u64;
            }
        }
    });
    let mut expected = 1u64;
    let mut sum = 0u64;
    while expected <= count {
        let got = if batch == 1 {
            rx.try_pop(read_stamp)
                .map(|id| vec![id])
                .unwrap_or_default()
        } else {
            let mut ids = Vec::new();
            rx.pop_batch(batch, |_, s| ids.push(read_stamp(s)));
            ids
        };
        for id in got {
            assert_eq!(id, expected, "lost, duplicated or reordered message");
            sum += id;
            expected += 1;
        }
        std::hint::spin_loop();
    }
    producer.join().unwrap();
    assert_eq!(rx.try_pop(read_stamp), None, "nothing beyond what was sent");
    assert_eq!(sum, count * (count + 1) / 2);
}

#[test]
fn stress_single_messages_through_a_two_slot_ring() {
    stress(2, 64, 200_000, 1);
}

#[test]
fn stress_single_messages_through_a_wide_ring() {
    stress(64, 192, 200_000, 1);
}

#[test]
fn stress_batches() {
    stress(16, 64, 300_000, 7);
}
