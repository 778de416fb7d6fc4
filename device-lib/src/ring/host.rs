//! The host's half of the SPSC ring protocol: [`Producer`] (the host side
//! of an inbox) and [`Consumer`] (the host side of an outbox).
//!
//! Each side keeps its own index privately (it is the only writer) and a
//! cached copy of the other side's, re-reading the shared one (an acquire
//! load, over PCIe for mapped memory) only when the cache says full/empty.
//! The orderings are the device's: release store of one's own index after
//! touching the slot, acquire load of the other's before touching it.

use core::sync::atomic::Ordering::{Acquire, Release};

use super::{RingIndex, RingMemory, FLAGGED_COPY_MAX_SLOT};
use crate::envelope::{EnvelopeHeader, ENVELOPE_HEADER_SIZE};

/// The ring is full: the consumer has not freed a slot yet. Nothing was
/// written; retry later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the ring is full")]
pub struct Full;

/// Why [`Producer::try_push_envelope`] did not push.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error(transparent)]
    Full(#[from] Full),
    #[error("payload of {len} bytes does not fit a slot's {max} payload bytes")]
    PayloadTooLarge { len: usize, max: usize },
}

/// The producing side of a ring: it alone stores `tail`.
#[derive(Debug)]
pub struct Producer<M: RingMemory> {
    mem: M,
    tail: u64,
    head_cache: u64,
    capacity: u64,
    /// One bit per slot (with flagged copies): its copy may hold a message
    /// (written by [`Producer::write_flagged_copy`], not invalidated since).
    /// All set at attach (a ring carried on from earlier producers).
    copied: Vec<u64>,
}

/// The consuming side of a ring: it alone stores `head`.
#[derive(Debug)]
pub struct Consumer<M: RingMemory> {
    mem: M,
    head: u64,
    tail_cache: u64,
}

/// A producer and a consumer on the same memory (both sides on the host:
/// tests, the CPU backend).
///
/// # Safety
/// No other producer or consumer may be attached to this ring while the
/// pair lives (see [`Producer::attach`], [`Consumer::attach`]).
pub unsafe fn channel<M: RingMemory + Clone>(mem: M) -> (Producer<M>, Consumer<M>) {
    // SAFETY: forwarded to the caller.
    unsafe { (Producer::attach(mem.clone()), Consumer::attach(mem)) }
}

impl<M: RingMemory> Producer<M> {
    /// Becomes the ring's producer, carrying on from its current indices.
    ///
    /// # Safety
    /// Nothing else may store `tail` while this producer lives: at most one
    /// producer per ring (on the host or the device).
    pub unsafe fn attach(mem: M) -> Producer<M> {
        let tail = mem.load(RingIndex::Tail, Acquire);
        let head_cache = mem.load(RingIndex::Head, Acquire);
        let capacity = u64::from(mem.layout().capacity());
        let copied = if mem.layout().ll_words() > 0 {
            vec![u64::MAX; capacity.div_ceil(64) as usize]
        } else {
            Vec::new()
        };
        Producer {
            mem,
            tail,
            head_cache,
            capacity,
            copied,
        }
    }

    /// The memory this producer writes.
    pub fn memory(&self) -> &M {
        &self.mem
    }

    /// How many slots can be pushed now (re-reads `head`).
    pub fn free_slots(&mut self) -> u32 {
        self.head_cache = self.mem.load(RingIndex::Head, Acquire);
        (self.capacity - (self.tail - self.head_cache)) as u32
    }

    /// Free slots by the cached `head`, re-reading it only when the cache
    /// says the ring is full. A following [`Producer::push_batch`] pushes at
    /// least this many (when asked to).
    pub fn space(&mut self) -> u64 {
        if self.tail - self.head_cache == self.capacity {
            self.head_cache = self.mem.load(RingIndex::Head, Acquire);
        }
        self.capacity - (self.tail - self.head_cache)
    }

    /// Fills the next slot with `fill` and publishes it, or returns [`Full`]
    /// without calling `fill`. The slot's previous contents are unspecified,
    /// so `fill` should write everything the consumer reads.
    pub fn try_push<R>(&mut self, fill: impl FnOnce(&mut [u8]) -> R) -> Result<R, Full> {
        if self.space() == 0 {
            return Err(Full);
        }
        // The capacity is a power of two (RingLayout): a mask, not a division.
        let slot = (self.tail & (self.capacity - 1)) as u32;
        // SAFETY: slot `tail` is free (tail - head < capacity, and the
        // consumer's release store of head ordered its reads before our
        // acquire load of it) and unpublished, so only we touch it.
        let result = unsafe { self.mem.with_slot_mut(slot, fill) };
        self.write_flagged_copy(slot);
        self.tail += 1;
        self.mem.store(RingIndex::Tail, self.tail, Release);
        Ok(result)
    }

    /// Writes the flagged copy of slot `slot`, about to be published as
    /// message `self.tail` (when the layout has flagged copies): each 4
    /// bytes of the slot with the flag `tail + 1` (its low 32 bits), in 8-byte
    /// atomic stores. The slot's own bytes were written first, so a
    /// consumer that takes the message from `tail` reads the same bytes.
    fn write_flagged_copy(&mut self, slot: u32) {
        let words = self.mem.layout().ll_words();
        if words == 0 {
            return;
        }
        self.copied[slot as usize / 64] |= 1 << (slot % 64);
        let flag = u64::from((self.tail + 1) as u32) << 32;
        // SAFETY: the slot is ours (free and unpublished, see try_push).
        unsafe { self.mem.write_flagged_copy(slot, flag) };
    }

    /// Invalidates the flagged copy of slot `slot`, about to be published
    /// as message `index` from the slot alone (a batch), when it may hold a
    /// message: its first word gets the flag `index as u32`, which neither
    /// message `index` (`index + 1`) nor the slot's next one
    /// (`index + capacity + 1`) expects. So a copy always holds its slot's
    /// last message or nothing valid; otherwise a copy written for message
    /// k and left stale while batches reuse its slot would pass for message
    /// k + 2^32 (flags are 32 bits), which a stream reaches in minutes
    /// (`rk_ring_ll_invalidate`). A copy that holds no message (invalidated
    /// before: every slot is, at its first batch after attach) is left
    /// alone, one store fewer per streamed message (the stream is the
    /// host's bound), unless the ring has one slot (an invalidated copy,
    /// flag k, is what message k - 1 + 2^32 expects).
    fn invalidate_flagged_copy(&mut self, slot: u32, index: u64) {
        if self.copied.is_empty() {
            return;
        }
        let (word, bit) = (slot as usize / 64, 1u64 << (slot % 64));
        if self.copied[word] & bit != 0 || self.capacity == 1 {
            self.mem
                .store_flagged(slot, 0, u64::from(index as u32) << 32);
            self.copied[word] &= !bit;
        }
    }

    /// Pushes an envelope: `header` (its `payload_size` set to the payload's
    /// length) followed by `payload`.
    pub fn try_push_envelope(
        &mut self,
        header: &EnvelopeHeader,
        payload: &[u8],
    ) -> Result<(), PushError> {
        let max = self.mem.layout().max_payload();
        if payload.len() > max {
            return Err(PushError::PayloadTooLarge {
                len: payload.len(),
                max,
            });
        }
        let header = EnvelopeHeader {
            payload_size: payload.len() as u32,
            ..*header
        };
        self.try_push(|slot| {
            header.write_to(slot);
            slot[ENVELOPE_HEADER_SIZE..ENVELOPE_HEADER_SIZE + payload.len()]
                .copy_from_slice(payload);
        })?;
        Ok(())
    }

    /// Fills up to `max` slots, calling `fill(i, slot)` for the i-th, and
    /// publishes them all with one store of `tail`. Returns how many were
    /// pushed (0 when full). The batched path for streaming: one release
    /// store per batch instead of one per message.
    pub fn push_batch(&mut self, max: usize, mut fill: impl FnMut(usize, &mut [u8])) -> usize {
        let n = (self.space() as usize).min(max);
        if n == 0 {
            return 0;
        }
        for i in 0..n {
            let slot = ((self.tail + i as u64) & (self.capacity - 1)) as u32;
            // SAFETY: as in try_push, for each of the n free slots.
            unsafe { self.mem.with_slot_mut(slot, |s| fill(i, s)) };
            if n > 1 {
                self.invalidate_flagged_copy(slot, self.tail + i as u64);
            }
        }
        if n == 1 {
            // One message: the consumer may be waiting for just this one.
            let slot = (self.tail & (self.capacity - 1)) as u32;
            self.write_flagged_copy(slot);
        }
        self.tail += n as u64;
        self.mem.store(RingIndex::Tail, self.tail, Release);
        n
    }
}

impl<M: RingMemory> Consumer<M> {
    /// Becomes the ring's consumer, carrying on from its current indices.
    ///
    /// # Safety
    /// Nothing else may store `head` while this consumer lives: at most one
    /// consumer per ring (on the host or the device).
    pub unsafe fn attach(mem: M) -> Consumer<M> {
        let head = mem.load(RingIndex::Head, Acquire);
        let tail_cache = mem.load(RingIndex::Tail, Acquire);
        Consumer {
            mem,
            head,
            tail_cache,
        }
    }

    /// The memory this consumer reads.
    pub fn memory(&self) -> &M {
        &self.mem
    }

    /// How many published slots can be popped now (re-reads `tail`).
    pub fn available(&mut self) -> u32 {
        self.tail_cache = self.mem.load(RingIndex::Tail, Acquire);
        // A message taken from its flagged copy puts head past the tail
        // until the producer's tail store lands.
        self.tail_cache.saturating_sub(self.head) as u32
    }

    /// Published slots by the cached `tail`, re-reading it only when the
    /// cache says the ring is empty.
    fn ready(&mut self) -> u64 {
        if self.tail_cache <= self.head {
            self.tail_cache = self.mem.load(RingIndex::Tail, Acquire);
        }
        self.tail_cache.saturating_sub(self.head)
    }

    /// Message `head` from its slot's flagged copy, into `buf` (the slot's
    /// bytes), when the layout has copies and every word's flag is
    /// `head + 1`: the producer wrote it completely, though its `tail`
    /// store may not have landed yet. (An actor's device writes one for a
    /// lone call's reply, so the host need not wait for its closing fence
    /// and `tail`: the reply may then be seen before the actor's counters
    /// land, by about a microsecond; see BENCHMARKS.md.)
    fn try_flagged(&self, buf: &mut [u8; FLAGGED_COPY_MAX_SLOT as usize]) -> bool {
        let layout = self.mem.layout();
        let words = layout.ll_words();
        if words == 0 {
            return false;
        }
        let slot = self.slot_of(self.head);
        if !self
            .mem
            .read_flagged_copy(slot, (self.head + 1) as u32, &mut buf[..])
        {
            return false;
        }
        // The words were loaded relaxed, each one validated by its own
        // flag; nothing else the producer wrote is read on this path.
        true
    }

    fn slot_of(&self, index: u64) -> u32 {
        // The capacity is a power of two (RingLayout): a mask, not a division.
        (index & (u64::from(self.mem.layout().capacity()) - 1)) as u32
    }

    /// Reads the oldest published slot with `read` and frees it, or returns
    /// `None` (without calling `read`) when the ring is empty.
    pub fn try_pop<R>(&mut self, read: impl FnOnce(&[u8]) -> R) -> Option<R> {
        if self.ready() == 0 {
            let mut buf = [0u8; FLAGGED_COPY_MAX_SLOT as usize];
            if !self.try_flagged(&mut buf) {
                return None;
            }
            let result = read(&buf[..self.mem.layout().slot_size() as usize]);
            self.head += 1;
            // Release: the copy's loads before the store that lets the
            // producer reuse the slot (and its copy).
            self.mem.store(RingIndex::Head, self.head, Release);
            return Some(result);
        }
        // SAFETY: slot `head` is published (head < tail, and the producer's
        // release store of tail ordered its writes before our acquire load)
        // and not yet freed, so the producer does not touch it.
        let result = unsafe { self.mem.with_slot(self.slot_of(self.head), read) };
        self.head += 1;
        self.mem.store(RingIndex::Head, self.head, Release);
        Some(result)
    }

    /// Reads up to `max` published slots in order, calling `read(i, slot)`
    /// for the i-th, and frees them all with one store of `head`. Returns
    /// how many were popped (0 when empty).
    pub fn pop_batch(&mut self, max: usize, mut read: impl FnMut(usize, &[u8])) -> usize {
        let n = (self.ready() as usize).min(max);
        if n == 0 {
            return 0;
        }
        for i in 0..n {
            let slot = self.slot_of(self.head + i as u64);
            // SAFETY: as in try_pop, for each of the n published slots.
            unsafe { self.mem.with_slot(slot, |s| read(i, s)) };
        }
        self.head += n as u64;
        self.mem.store(RingIndex::Head, self.head, Release);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::{HeapRing, RingLayout};

    /// What the device's `rk_ring_ll_read` does with message `index`'s
    /// flagged copy: the slot's bytes when every flag is `index + 1`.
    fn read_flagged(ring: &HeapRing, index: u64) -> Option<Vec<u8>> {
        let layout = ring.layout();
        let slot = (index & u64::from(layout.capacity() - 1)) as u32;
        let base = ring.raw().base();
        let mut bytes = Vec::new();
        for w in 0..layout.ll_words() as usize {
            // SAFETY: inside the HeapRing's allocation, 8-byte aligned.
            let word = unsafe {
                core::sync::atomic::AtomicU64::from_ptr(
                    base.add(layout.ll_offset(slot) + w * 8).cast(),
                )
            }
            .load(core::sync::atomic::Ordering::Relaxed);
            if (word >> 32) as u32 != (index + 1) as u32 {
                return None;
            }
            bytes.extend_from_slice(&(word as u32).to_le_bytes());
        }
        Some(bytes)
    }

    fn flagged_ring(capacity: u32) -> HeapRing {
        HeapRing::new(RingLayout::new(capacity, 128).unwrap().with_flagged_copy())
    }

    #[test]
    fn the_flagged_copy_is_the_slot_a_lap_later_it_is_stale() {
        let ring = flagged_ring(2);
        assert_eq!(ring.layout().ll_words(), 32);
        // SAFETY: the only producer and consumer of the ring.
        let (mut tx, mut rx) = unsafe { channel(ring.raw()) };
        for index in 0..5u64 {
            let fill = |slot: &mut [u8]| {
                for (i, b) in slot.iter_mut().enumerate() {
                    *b = (index as u8).wrapping_mul(31).wrapping_add(i as u8);
                }
            };
            tx.try_push(fill).unwrap();
            let slot = rx.try_pop(|s| s.to_vec()).unwrap();
            assert_eq!(read_flagged(&ring, index).as_deref(), Some(&slot[..]));
            // The next message's copy is not there yet; the slot it will
            // use holds an older message's (or nothing), with another flag.
            assert_eq!(read_flagged(&ring, index + 1), None);
        }
    }

    /// What the device does for a reply it publishes alone: the slot and
    /// its flagged copy first, the tail after its fence.
    fn publish_copy_only(ring: &HeapRing, index: u64, fill: u8) {
        let layout = ring.layout();
        let slot = (index & u64::from(layout.capacity() - 1)) as u32;
        let word = u64::from(u32::from_le_bytes([fill; 4]));
        for w in 0..layout.ll_words() {
            ring.raw()
                .store_flagged(slot, w, (u64::from((index + 1) as u32) << 32) | word);
        }
    }

    #[test]
    fn the_consumer_takes_a_message_from_its_copy_before_its_tail_once() {
        let ring = flagged_ring(2);
        // SAFETY: the only consumer; the producer is played by hand.
        let mut rx = unsafe { Consumer::attach(ring.raw()) };
        assert_eq!(rx.try_pop(|s| s.to_vec()), None);
        for index in 0..6u64 {
            let fill = index as u8 + 1;
            publish_copy_only(&ring, index, fill);
            // Taken before the tail store, head stored past the tail.
            assert_eq!(rx.try_pop(|s| s.to_vec()), Some(vec![fill; 128]));
            assert_eq!(ring.raw().load(RingIndex::Head, Acquire), index + 1);
            assert_eq!(rx.available(), 0, "head past tail is empty, not 2^32 - 1");
            assert_eq!(rx.try_pop(|s| s.to_vec()), None, "nothing twice");
            // The tail store lands: still nothing more.
            ring.raw().store(RingIndex::Tail, index + 1, Release);
            assert_eq!(rx.available(), 0);
            assert_eq!(rx.try_pop(|s| s.to_vec()), None);
        }
        // A slot published through the tail alone (a batch) after copies:
        // read from the slot.
        // SAFETY: the slot is free (head == tail == 6) and unpublished.
        unsafe { ring.raw().with_slot_mut(0, |s| s.fill(0xAB)) };
        assert_eq!(rx.try_pop(|s| s.to_vec()), None, "not published yet");
        ring.raw().store(RingIndex::Tail, 7, Release);
        assert_eq!(rx.try_pop(|s| s.to_vec()), Some(vec![0xAB; 128]));
    }

    #[test]
    fn a_batch_invalidates_the_copy_it_leaves_so_2_pow_32_later_it_is_not_taken() {
        let ring = flagged_ring(4);
        {
            // SAFETY: the only producer and consumer of the ring.
            let (mut tx, mut rx) = unsafe { channel(ring.raw()) };
            // Message 0 alone: slot 0 and its copy (flag 1).
            tx.try_push(|s| s.fill(0x11)).unwrap();
            assert_eq!(rx.try_pop(|s| s.to_vec()), Some(vec![0x11; 128]));
            // Messages 1..=5 in batches: slot 0 again with message 4, no copy.
            assert_eq!(tx.push_batch(3, |i, s| s.fill(0x20 + i as u8)), 3);
            assert_eq!(rx.pop_batch(3, |_, _| {}), 3);
            assert_eq!(tx.push_batch(2, |i, s| s.fill(0x30 + i as u8)), 2);
            assert_eq!(rx.pop_batch(2, |_, _| {}), 2);
            assert_eq!(read_flagged(&ring, 4), None);
        }
        // 2^32 - 6 more messages later, all in batches (the indices jump to
        // where the stream would be), the consumer waits for message 2^32,
        // whose flag is 1 again: copy 0 must not pass for it.
        let index = 1u64 << 32;
        ring.raw().store(RingIndex::Tail, index, Release);
        ring.raw().store(RingIndex::Head, index, Release);
        // SAFETY: as above, attached anew at the current indices.
        let mut rx = unsafe { Consumer::attach(ring.raw()) };
        assert_eq!(read_flagged(&ring, index), None);
        assert_eq!(
            rx.try_pop(|s| s.to_vec()),
            None,
            "message 0's copy taken for 2^32"
        );
    }

    #[test]
    fn batches_get_no_flagged_copy_and_a_torn_copy_is_refused() {
        let ring = flagged_ring(4);
        // SAFETY: as above.
        let (mut tx, _rx) = unsafe { channel(ring.raw()) };
        assert_eq!(tx.push_batch(2, |i, s| s.fill(i as u8 + 1)), 2);
        assert_eq!(read_flagged(&ring, 0), None);
        assert_eq!(read_flagged(&ring, 1), None);
        tx.try_push(|s| s.fill(9)).unwrap();
        assert_eq!(read_flagged(&ring, 2), Some(vec![9; 128]));
        // One word of the copy still from another message: refused.
        ring.raw().store_flagged(2, 31, 9 | (1u64 << 32));
        assert_eq!(read_flagged(&ring, 2), None);
    }

    #[test]
    fn only_small_slots_get_flagged_copies_and_attach_checks_them() {
        let big = RingLayout::new(8, 192).unwrap().with_flagged_copy();
        assert_eq!(big.ll_words(), 0);
        let small = RingLayout::new(8, 64).unwrap().with_flagged_copy();
        assert_eq!(small.ll_words(), 16);
        assert_eq!(small.bytes(), 384 + 8 * 64 + 8 * 128);
        let ring = HeapRing::new(small);
        // SAFETY: the HeapRing outlives the attached ring.
        let attached = unsafe { crate::ring::RawRing::attach(ring.raw().base()) }.unwrap();
        assert_eq!(attached.layout(), small);
    }
}
