//! The host K2K protocol under real contention: 128 sender threads × 8
//! messages into one inbox (every message exactly once, untorn, in each
//! sender's order), and a small inbox with racing senders and a slow
//! receiver (full is refused, never overwritten). The CPU backend's K2K
//! runs on this code; the GPU runs the same tests on `rk_k2k.cuh`
//! (runtime/tests/k2k.rs).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use ringkernel_device::k2k::{HeapK2k, K2kLayout, K2kReceiver, K2kSender};

const SENDERS: u32 = 128;
const MSGS: u32 = 8;
const WORDS: usize = 16;

fn word(p: u32, i: u32, k: usize) -> u32 {
    (p + 1).wrapping_mul(0x9E37_79B1)
        ^ (i + 7).wrapping_mul(0x85EB_CA77)
        ^ (k as u32 + 3).wrapping_mul(0xC2B2_AE3D)
}

/// Message (p, i): p, i, then WORDS payload words derived from both.
fn fill(slot: &mut [u8], p: u32, i: u32) {
    slot[0..4].copy_from_slice(&p.to_le_bytes());
    slot[4..8].copy_from_slice(&i.to_le_bytes());
    for k in 0..WORDS {
        slot[8 + 4 * k..12 + 4 * k].copy_from_slice(&word(p, i, k).to_le_bytes());
    }
}

/// (p, i) of a slot, or None when its words do not all belong to one message.
fn read(slot: &[u8]) -> Option<(u32, u32)> {
    let u = |at: usize| u32::from_le_bytes(slot[at..at + 4].try_into().unwrap());
    let (p, i) = (u(0), u(4));
    (0..WORDS)
        .all(|k| u(8 + 4 * k) == word(p, i, k))
        .then_some((p, i))
}

/// Runs SENDERS threads of MSGS messages each through an inbox of
/// `capacity`; the receiver sleeps `delay` per message. Returns the
/// messages in arrival order and how often a try_send found the inbox full.
fn run(capacity: u32, delay: Duration, blocking: bool) -> (Vec<(u32, u32)>, u64) {
    let q = Arc::new(HeapK2k::new(K2kLayout::new(capacity, 128).unwrap(), 0));
    let tx = K2kSender::new(q.clone());
    // SAFETY: the only receiver.
    let mut rx = unsafe { K2kReceiver::attach(q.clone()) };
    let full = AtomicU64::new(0);
    let start = Barrier::new(SENDERS as usize + 1);
    let mut got = Vec::new();
    std::thread::scope(|s| {
        for p in 0..SENDERS {
            let (tx, full, start) = (tx.clone(), &full, &start);
            s.spawn(move || {
                start.wait();
                for i in 0..MSGS {
                    if blocking {
                        tx.send(|slot| fill(slot, p, i));
                    } else {
                        while tx.try_send(|slot| fill(slot, p, i)).is_err() {
                            full.fetch_add(1, Relaxed);
                            std::thread::yield_now();
                        }
                    }
                }
            });
        }
        start.wait();
        let total = (SENDERS * MSGS) as usize;
        while got.len() < total {
            let n = rx.recv_batch(8, |_, slot| got.push(read(slot).expect("a torn message")));
            if n == 0 {
                std::thread::yield_now();
            } else if !delay.is_zero() {
                std::thread::sleep(delay);
            }
        }
    });
    assert_eq!(rx.try_recv(|_| ()), None, "a message beyond those sent");
    (got, full.load(Relaxed))
}

fn assert_exactly_once_in_sender_order(got: &[(u32, u32)]) {
    assert_eq!(got.len(), (SENDERS * MSGS) as usize);
    let mut next = vec![0u32; SENDERS as usize];
    for &(p, i) in got {
        assert!(p < SENDERS, "no sender {p}");
        assert_eq!(
            i, next[p as usize],
            "sender {p}: message {i} arrived when {} was due (lost, duplicated or reordered)",
            next[p as usize]
        );
        next[p as usize] += 1;
    }
    assert!(next.iter().all(|&n| n == MSGS));
}

#[test]
fn senders_128_x_8_arrive_exactly_once_untorn() {
    let (got, _) = run(64, Duration::ZERO, true);
    assert_exactly_once_in_sender_order(&got);
}

#[test]
fn a_full_inbox_refuses_and_never_overwrites() {
    let (got, full) = run(4, Duration::from_micros(20), false);
    assert_exactly_once_in_sender_order(&got);
    assert!(full > 0, "no try_send ever found the four-slot inbox full");
}
