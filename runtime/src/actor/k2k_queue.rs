//! The CPU backend's K2K inbox: the protocol of `rk_k2k.cuh` and of the
//! actor loop's close (`rk_actor_k2k_close`), on host threads, lock-free.
//!
//! Many actors may send to one, so an inbox is a bounded multi-producer
//! single-consumer queue with a sequence number per slot (Vyukov's bounded
//! queue, as on the device):
//!   * `seq` of slot `i` starts at `i`: free for position `i`;
//!   * a producer at position `p` takes slot `p & mask` only when its seq is
//!     `p`; it claims `p` with a CAS of `tail` from `p` to `p + 1`
//!     (reserve), writes the slot, then stores `seq = p + 1` (commit);
//!   * seq `< p` means the slot still holds the previous lap's message (or
//!     is still being written): the inbox is full and the push is refused,
//!     never an overwrite (backpressure);
//!   * the consumer at position `h` reads the slot only once its seq is
//!     `h + 1`, then stores `seq = h + capacity` to hand it to the next
//!     lap's producer.
//!
//! Closing (`verification/specs/K2kClose.tla`): bit 63 of `tail` is
//! [`CLOSED`]. The consumer closes with a CAS of `tail` from `head` to
//! `head | CLOSED`, which fails while any position past `head` is reserved
//! (committed or still being written): it must take (or dead-letter) those
//! first. A reservation CASes the whole word, so none succeeds once the bit
//! is set, and a refused push tells a closed inbox from a full one by the
//! bit. So every accepted message is consumed exactly once (by the
//! consumer, or dead-lettered by it), and a push after the close is told
//! [`K2kRefused::Closed`] with nothing written.
//!
//! The slot values are `Option<T>`: the consumer takes the value out
//! (leaving `None`), so dropping the queue drops whatever is still queued
//! without any unsafe code, and a producer whose value constructor panics
//! after reserving commits its slot empty (a tombstone the consumer skips)
//! instead of stalling every later message behind a reservation nobody
//! commits.
//!
//! The only consumer is the [`K2kConsumer`] that [`K2kQueue::new`] returns
//! (it is not `Clone`, and its methods take `&mut self`), so "one consumer"
//! is a type-level fact, not a promise.
//!
//! Built with `--cfg loom` for tests, the atomics and the slot cells are
//! loom's: `k2k_queue/loom_models.rs` model-checks the protocol, and
//! checks that weakening any of its orderings is caught. The models run
//! in `verification/tests/loom_k2k_queue.rs`, which includes this file by
//! path (it needs nothing but std and loom), since the runtime's own test
//! build cannot take `--cfg loom` (tokio, a dev-dependency, does not build
//! with it).

use std::fmt;
use std::sync::atomic::Ordering::{self, Acquire, Relaxed, Release};
use std::sync::Arc;

use sync::{AtomicU64, UnsafeCell};

/// Bit 63 of `tail`: the consumer has closed the inbox
/// (`RK_ACTOR_K2K_CLOSED`).
pub(crate) const CLOSED: u64 = 1 << 63;

/// Why a push did not happen (nothing was written, the value was never
/// made).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum K2kRefused {
    /// Every slot holds a message not consumed yet: retry later.
    Full,
    /// The consumer has closed the inbox for good.
    Closed,
}

/// A bounded multi-producer inbox. Producers share it (`&self`, any
/// number of threads); its one consumer is the [`K2kConsumer`] made with it.
pub(crate) struct K2kQueue<T> {
    /// The next position to reserve, with [`CLOSED`] in bit 63. On its own
    /// cache line: every producer CASes it, the consumer only to close.
    tail: Padded<AtomicU64>,
    slots: Box<[Slot<T>]>,
    /// `capacity - 1` (the capacity is a power of two).
    mask: u64,
    /// A loom test's planted bug.
    #[cfg(all(test, loom))]
    planted: Option<Planted>,
}

/// The consuming side of a [`K2kQueue`]: there is exactly one per queue.
pub(crate) struct K2kConsumer<T> {
    queue: Arc<K2kQueue<T>>,
    /// The next position to consume (the device keeps it in the header for
    /// single-producer routes; nobody else reads it here).
    head: u64,
}

struct Slot<T> {
    seq: AtomicU64,
    /// Written only by the producer holding the slot's current position
    /// (between its reserve and its commit), read and emptied only by the
    /// consumer (between seeing the commit and the free).
    value: UnsafeCell<Option<T>>,
}

/// A cache line (128 bytes: two lines with the adjacent-line prefetcher)
/// of its own.
#[repr(align(128))]
struct Padded<T>(T);

/// Where the protocol orders memory; a loom test can relax one site to
/// show the model notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Site {
    /// The producer's load of a slot's seq before reserving it.
    ReserveLoad,
    /// The producer's store of `seq = pos + 1`.
    Commit,
    /// The consumer's load of a slot's seq before reading it.
    ConsumeLoad,
    /// The consumer's store of `seq = pos + capacity`.
    Free,
}

/// A bug a loom test plants to show the model catches it.
#[cfg(all(test, loom))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Planted {
    /// The ordering at this site made relaxed.
    Relaxed(Site),
    /// `K2kClose.tla`'s CloseIgnoresReservations: close once nothing is
    /// committed at the head, setting the bit on whatever `tail` is.
    CloseIgnoresReservations,
}

// SAFETY: a shared `&K2kQueue<T>` lets producers on any threads move `T`s
// into slots and the consumer (on another thread) move them out, so `T`
// must be `Send`; no `&T` is ever handed out, so `T` need not be `Sync`.
// Every access to a slot's cell is exclusive under the sequence protocol:
// a producer touches the cell only for the position it alone reserved (the
// CAS of `tail` hands each position to one producer) after an acquire load
// saw the consumer's release of the previous lap, and before its own
// release commit; the consumer touches it only after an acquire load saw
// that commit, and before its release free. The words are atomics.
unsafe impl<T: Send> Sync for K2kQueue<T> {}

impl<T> K2kQueue<T> {
    /// An empty inbox of `capacity` slots (a power of two, at least two:
    /// with one slot, a committed seq `pos + 1` equals the next lap's free
    /// seq, so a producer could overwrite an unread message; `K2kLayout`
    /// enforces both) and its one consumer.
    pub fn new(capacity: u32) -> (Arc<K2kQueue<T>>, K2kConsumer<T>) {
        assert!(
            capacity >= 2 && capacity.is_power_of_two(),
            "a K2K inbox needs a power-of-two capacity of at least 2, got {capacity}"
        );
        let queue = Arc::new(K2kQueue {
            tail: Padded(AtomicU64::new(0)),
            slots: (0..u64::from(capacity))
                .map(|i| Slot {
                    seq: AtomicU64::new(i),
                    value: UnsafeCell::new(None),
                })
                .collect(),
            mask: u64::from(capacity) - 1,
            #[cfg(all(test, loom))]
            planted: None,
        });
        let consumer = K2kConsumer {
            queue: queue.clone(),
            head: 0,
        };
        (queue, consumer)
    }

    /// As [`K2kQueue::new`], with a planted bug (for the loom tests).
    #[cfg(all(test, loom))]
    fn with_bug(capacity: u32, bug: Planted) -> (Arc<K2kQueue<T>>, K2kConsumer<T>) {
        let (queue, consumer) = K2kQueue::new(capacity);
        drop(consumer);
        let mut queue = Arc::into_inner(queue).expect("the only reference");
        queue.planted = Some(bug);
        let queue = Arc::new(queue);
        let consumer = K2kConsumer {
            queue: queue.clone(),
            head: 0,
        };
        (queue, consumer)
    }

    pub fn capacity(&self) -> u64 {
        self.mask + 1
    }

    /// Whether the consumer has closed the inbox (a snapshot).
    pub fn is_closed(&self) -> bool {
        self.tail.0.load(Relaxed) & CLOSED != 0
    }

    fn slot(&self, pos: u64) -> &Slot<T> {
        &self.slots[(pos & self.mask) as usize]
    }

    /// `order`, unless a loom test relaxed `site`.
    #[inline(always)]
    fn order(&self, site: Site, order: Ordering) -> Ordering {
        #[cfg(all(test, loom))]
        if self.planted == Some(Planted::Relaxed(site)) {
            return Relaxed;
        }
        let _ = site;
        order
    }

    /// `rk_k2k_reserve`: claims the next position, or says why not.
    fn reserve(&self) -> Result<u64, K2kRefused> {
        // Relaxed: the tail is only a guess of which position to try; the
        // seq check and the CAS (which compares against the current word)
        // decide. A stale guess finds seq > pos (taken: reload) or a CAS
        // that fails with the current word.
        let mut pos = self.tail.0.load(Relaxed);
        loop {
            if pos & CLOSED != 0 {
                // The device finds seq - pos negative here (bit 63) and
                // then reads the bit; the outcome is the same.
                return Err(K2kRefused::Closed);
            }
            // Acquire: seq == pos was stored (release) by the consumer's
            // free of the previous lap (or is the initial value), after its
            // last read of the slot; acquiring it orders that read before
            // this producer's write of the slot.
            let seq = self
                .slot(pos)
                .seq
                .load(self.order(Site::ReserveLoad, Acquire));
            let dif = seq.wrapping_sub(pos) as i64;
            if dif == 0 {
                // Relaxed on both outcomes: the CAS only has to hand
                // position `pos` to exactly one producer, which the
                // modification order of `tail` does by itself (every
                // successful CAS reads the word the previous one wrote;
                // `tail` only grows, so no ABA). The slot's memory is
                // ordered by the seq acquire above, the close by the bit.
                // (The device's acq_rel CAS costs the same on x86: any
                // `lock cmpxchg` is a full barrier.)
                match self
                    .tail
                    .0
                    .compare_exchange_weak(pos, pos + 1, Relaxed, Relaxed)
                {
                    Ok(_) => return Ok(pos),
                    Err(found) => pos = found,
                }
            } else if dif < 0 {
                // The slot still holds the previous lap's message: full,
                // unless the consumer closed meanwhile (then the bit tells,
                // as rk_actor_send_to reads it after a failed reserve).
                return Err(if self.is_closed() {
                    K2kRefused::Closed
                } else {
                    K2kRefused::Full
                });
            } else {
                // Another producer took `pos`: try the current tail.
                pos = self.tail.0.load(Relaxed);
            }
        }
    }

    /// Reserves a slot, fills it with `make()` and commits it, or says why
    /// not (then `make` is never called: a sender stamps its clock only
    /// for a message that goes in, as `rk_actor_send_to` does once it holds
    /// a slot). `make` runs between the reserve and the commit, so it must
    /// not wait for the consumer (the consumer takes slots in position
    /// order: an uncommitted reservation stalls every later message). If it
    /// panics, the slot is committed empty, which the consumer skips.
    pub fn try_push_with(&self, make: impl FnOnce() -> T) -> Result<(), K2kRefused> {
        let pos = self.reserve()?;
        let slot = self.slot(pos);
        // Commits on drop: after the write below, or empty on unwind.
        let commit = Commit {
            queue: self,
            slot,
            pos,
        };
        let value = make();
        slot.value.with_mut(|cell| {
            // SAFETY: this producer alone holds position `pos` (its CAS of
            // `tail` moved it from `pos` to `pos + 1`, and `tail` never goes
            // back), and its acquire load saw seq == pos, the consumer's
            // release after its last access to this slot (or the initial
            // value: never accessed). The consumer will not touch the cell
            // before it acquires seq == pos + 1, which `commit` stores
            // after this write. So the access is exclusive.
            unsafe { *cell = Some(value) }
        });
        drop(commit);
        Ok(())
    }
}

/// The commit of a reserved slot, when dropped (also on unwind).
struct Commit<'a, T> {
    queue: &'a K2kQueue<T>,
    slot: &'a Slot<T>,
    pos: u64,
}

impl<T> Drop for Commit<'_, T> {
    fn drop(&mut self) {
        // Release: every write of the slot (the value, or nothing on
        // unwind) happens before the consumer's acquire load that sees
        // pos + 1, so it reads the whole value.
        self.slot
            .seq
            .store(self.pos + 1, self.queue.order(Site::Commit, Release));
    }
}

impl<T> K2kConsumer<T> {
    /// The next committed message in position order, or `None` when the
    /// slot at the head is not committed yet (empty, or its producer is
    /// still writing it).
    pub fn pop(&mut self) -> Option<T> {
        let queue = &*self.queue;
        loop {
            let slot = queue.slot(self.head);
            // Acquire: pairs with the producer's release commit, so its
            // write of the value happens before the read below.
            if slot.seq.load(queue.order(Site::ConsumeLoad, Acquire)) != self.head + 1 {
                return None;
            }
            let value = slot.value.with_mut(|cell| {
                // SAFETY: seq == head + 1 (acquired) says the producer of
                // position `head` wrote the cell and committed; no producer
                // touches the slot again before it acquires seq == head +
                // capacity, which the store below releases after this
                // access; and this is the queue's only consumer (`&mut
                // self`). So the access is exclusive.
                unsafe { (*cell).take() }
            });
            // Release: the take above happens before the next lap's
            // producer writes the cell (its reserve acquires this value).
            slot.seq.store(
                self.head + queue.capacity(),
                queue.order(Site::Free, Release),
            );
            self.head += 1;
            if value.is_some() {
                return value;
            }
            // An empty commit (its producer panicked): skip it.
        }
    }

    /// Closes the inbox for good if nothing is reserved past the head
    /// (`rk_actor_k2k_close`): true once closed, false while a producer
    /// holds a slot the consumer has not taken (committed or not yet).
    pub fn try_close(&mut self) -> bool {
        #[cfg(all(test, loom))]
        if self.queue.planted == Some(Planted::CloseIgnoresReservations) {
            let committed = self.queue.slot(self.head).seq.load(Acquire) == self.head + 1;
            if !committed {
                self.queue.tail.0.fetch_or(CLOSED, Relaxed);
            }
            return !committed;
        }
        // Relaxed: closing moves no data. Exactly-once rests on the
        // modification order of `tail` alone: this CAS succeeds only if the
        // word is `head` (open), so every reservation before it in that
        // order was of a position below `head` (already taken by this
        // consumer), and every reservation after it reads a closed word and
        // fails (a producer's CAS compares the whole word).
        match self
            .queue
            .tail
            .0
            .compare_exchange(self.head, self.head | CLOSED, Relaxed, Relaxed)
        {
            Ok(_) => true,
            Err(found) => found & CLOSED != 0,
        }
    }
}

impl<T> fmt::Debug for K2kQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail = self.tail.0.load(Relaxed);
        f.debug_struct("K2kQueue")
            .field("capacity", &self.capacity())
            .field("tail", &(tail & !CLOSED))
            .field("closed", &(tail & CLOSED != 0))
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for K2kConsumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("K2kConsumer")
            .field("head", &self.head)
            .field("queue", &self.queue)
            .finish()
    }
}

/// The atomics and the cell: std's, or loom's in the loom tests.
#[cfg(not(all(test, loom)))]
mod sync {
    pub(super) use std::sync::atomic::AtomicU64;

    /// `std::cell::UnsafeCell` with loom's access API (`with_mut`), so the
    /// protocol's text is the same under both.
    #[derive(Debug)]
    pub(super) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(super) fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        pub(super) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(all(test, loom))]
mod sync {
    pub(super) use loom::cell::UnsafeCell;
    pub(super) use loom::sync::atomic::AtomicU64;
}

// Explicit paths (relative to this file's folder) so that the loom test
// crate that includes this file (verification/tests/loom_k2k_queue.rs)
// finds them too.
#[cfg(all(test, not(loom)))]
#[path = "k2k_queue/tests.rs"]
mod tests;

#[cfg(all(test, loom))]
#[path = "k2k_queue/loom_models.rs"]
mod loom_models;
