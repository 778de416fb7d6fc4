//! The K2K protocol on the host: [`K2kSender`] (any number, on any
//! threads) and [`K2kReceiver`] (one), over [`K2kMemory`]; [`HeapK2k`] is an
//! inbox in its own heap allocation with the device's byte layout. The CPU
//! backend's K2K delivers through these, with the orderings of
//! `rk_k2k.cuh` at `.gpu` scope: relaxed `tail` loads, acquire loads of
//! `seq`, an acq_rel CAS to reserve, release stores to commit and to free.
//! `tests/loom_k2k.rs` model-checks them; `tests/k2k_host.rs` runs 128
//! threads through them.

use core::sync::atomic::AtomicU64;
use core::sync::atomic::Ordering::{self, AcqRel, Acquire, Relaxed, Release};
use std::alloc::{alloc_zeroed, dealloc, Layout};

use super::{K2kLayout, K2K_SEQ_OFFSET};
use crate::envelope::{EnvelopeHeader, ENVELOPE_HEADER_SIZE};
use crate::ring::{Full, PushError};

/// A 64-bit word of the inbox that the protocol accesses atomically.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum K2kWord {
    /// The next position to reserve (CAS by producers).
    Tail,
    /// The next position to consume (stored by the consumer only).
    Head,
    /// Slot `i`'s sequence number.
    Seq(u32),
}

/// Memory holding one K2K inbox.
///
/// # Safety
/// Implementors guarantee that [`layout`](K2kMemory::layout) never changes;
/// that `load`/`store`/`compare_exchange` act with the given orderings on
/// distinct atomic 64-bit cells, one per [`K2kWord`] (`Seq(i)` for
/// `i < capacity`); and that `with_slot(s)`/`with_slot_mut(s)` for
/// `s < capacity` give the same disjoint `slot_size`-byte region each time,
/// valid for as long as `self` is.
pub unsafe trait K2kMemory {
    fn layout(&self) -> K2kLayout;
    fn load(&self, word: K2kWord, order: Ordering) -> u64;
    fn store(&self, word: K2kWord, value: u64, order: Ordering);
    /// `compare_exchange` on `word` (strong): `Ok(current)` when it held
    /// `current` and now holds `new`, `Err(found)` otherwise.
    fn compare_exchange(
        &self,
        word: K2kWord,
        current: u64,
        new: u64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<u64, u64>;

    /// Runs `f` on slot `slot`'s bytes.
    ///
    /// # Safety
    /// The caller must own the slot under the protocol (the consumer, after
    /// seeing it committed): no one writes it while `f` runs.
    unsafe fn with_slot<R>(&self, slot: u32, f: impl FnOnce(&[u8]) -> R) -> R;

    /// Runs `f` on slot `slot`'s bytes, writable.
    ///
    /// # Safety
    /// The caller must own the slot under the protocol (the producer that
    /// reserved it, before committing): no one else touches it while `f` runs.
    unsafe fn with_slot_mut<R>(&self, slot: u32, f: impl FnOnce(&mut [u8]) -> R) -> R;
}

// SAFETY: forwards to `M`, which upholds the contract.
unsafe impl<M: K2kMemory + ?Sized> K2kMemory for std::sync::Arc<M> {
    fn layout(&self) -> K2kLayout {
        (**self).layout()
    }
    fn load(&self, word: K2kWord, order: Ordering) -> u64 {
        (**self).load(word, order)
    }
    fn store(&self, word: K2kWord, value: u64, order: Ordering) {
        (**self).store(word, value, order)
    }
    fn compare_exchange(
        &self,
        word: K2kWord,
        current: u64,
        new: u64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<u64, u64> {
        (**self).compare_exchange(word, current, new, success, failure)
    }
    unsafe fn with_slot<R>(&self, slot: u32, f: impl FnOnce(&[u8]) -> R) -> R {
        // SAFETY: the caller's obligation is passed on unchanged.
        unsafe { (**self).with_slot(slot, f) }
    }
    unsafe fn with_slot_mut<R>(&self, slot: u32, f: impl FnOnce(&mut [u8]) -> R) -> R {
        // SAFETY: as above.
        unsafe { (**self).with_slot_mut(slot, f) }
    }
}

/// A sending side of an inbox. Any number may exist, on any threads: every
/// operation is lock-free and takes `&self`. Cloning gives another sender
/// of the same inbox.
#[derive(Debug, Clone)]
pub struct K2kSender<M: K2kMemory> {
    mem: M,
    mask: u64,
}

/// The receiving side of an inbox: it alone stores `head` and frees slots.
#[derive(Debug)]
pub struct K2kReceiver<M: K2kMemory> {
    mem: M,
    head: u64,
    capacity: u64,
}

impl<M: K2kMemory> K2kSender<M> {
    pub fn new(mem: M) -> K2kSender<M> {
        let mask = u64::from(mem.layout().capacity()) - 1;
        K2kSender { mem, mask }
    }

    pub fn memory(&self) -> &M {
        &self.mem
    }

    fn seq(&self, pos: u64) -> K2kWord {
        K2kWord::Seq((pos & self.mask) as u32)
    }

    /// `rk_k2k_reserve`: claims the next position, or [`Full`] when its
    /// slot still holds the previous lap's message.
    fn reserve(&self) -> Result<u64, Full> {
        let mut pos = self.mem.load(K2kWord::Tail, Relaxed);
        loop {
            let s = self.mem.load(self.seq(pos), Acquire);
            let dif = s.wrapping_sub(pos) as i64;
            if dif == 0 {
                match self
                    .mem
                    .compare_exchange(K2kWord::Tail, pos, pos + 1, AcqRel, Relaxed)
                {
                    Ok(_) => return Ok(pos),
                    Err(found) => pos = found,
                }
            } else if dif < 0 {
                return Err(Full);
            } else {
                pos = self.mem.load(K2kWord::Tail, Relaxed);
            }
        }
    }

    /// Fills a free slot with `fill` and commits it, or returns [`Full`]
    /// without calling `fill`. The slot's previous contents are
    /// unspecified, so `fill` should write everything the receiver reads.
    pub fn try_send<R>(&self, fill: impl FnOnce(&mut [u8]) -> R) -> Result<R, Full> {
        let pos = self.reserve()?;
        // SAFETY: the CAS gave this sender position `pos`, whose slot the
        // receiver freed (our acquire of its seq saw the release) and no
        // other sender can reserve before we commit.
        let result = unsafe { self.mem.with_slot_mut((pos & self.mask) as u32, fill) };
        self.mem.store(self.seq(pos), pos + 1, Release);
        Ok(result)
    }

    /// As [`K2kSender::try_send`], waiting while the inbox is full: spins
    /// briefly, then yields the thread between attempts (the host's
    /// counterpart of the device's `__nanosleep` backoff).
    pub fn send<R>(&self, fill: impl FnOnce(&mut [u8]) -> R) -> R {
        let mut fill = Some(fill);
        let mut attempts = 0u32;
        loop {
            match self.try_send(|slot| (fill.take().expect("called once"))(slot)) {
                Ok(r) => return r,
                Err(Full) => {
                    attempts = attempts.saturating_add(1);
                    if attempts < 64 {
                        std::hint::spin_loop();
                    } else {
                        std::thread::yield_now();
                    }
                }
            }
        }
    }

    /// Sends an envelope: `header` (its `payload_size` set to the payload's
    /// length) followed by `payload`.
    pub fn try_send_envelope(
        &self,
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
        self.try_send(|slot| {
            header.write_to(slot);
            slot[ENVELOPE_HEADER_SIZE..ENVELOPE_HEADER_SIZE + payload.len()]
                .copy_from_slice(payload);
        })?;
        Ok(())
    }
}

impl<M: K2kMemory> K2kReceiver<M> {
    /// Becomes the inbox's receiver, carrying on from its `head`.
    ///
    /// # Safety
    /// At most one receiver per inbox (on the host or the device) at a time.
    pub unsafe fn attach(mem: M) -> K2kReceiver<M> {
        let head = mem.load(K2kWord::Head, Acquire);
        let capacity = u64::from(mem.layout().capacity());
        K2kReceiver {
            mem,
            head,
            capacity,
        }
    }

    pub fn memory(&self) -> &M {
        &self.mem
    }

    fn slot(&self, pos: u64) -> u32 {
        (pos & (self.capacity - 1)) as u32
    }

    fn committed(&self, pos: u64) -> bool {
        self.mem.load(K2kWord::Seq(self.slot(pos)), Acquire) == pos + 1
    }

    fn free(&mut self, n: u64) {
        for pos in self.head..self.head + n {
            self.mem
                .store(K2kWord::Seq(self.slot(pos)), pos + self.capacity, Release);
        }
        self.head += n;
        self.mem.store(K2kWord::Head, self.head, Relaxed);
    }

    /// Reads the next message with `read` and frees its slot, or returns
    /// `None` when the head's slot is not committed yet.
    pub fn try_recv<R>(&mut self, read: impl FnOnce(&[u8]) -> R) -> Option<R> {
        if !self.committed(self.head) {
            return None;
        }
        // SAFETY: committed (acquire saw the producer's release) and not
        // yet freed: only the receiver touches it until `free`.
        let r = unsafe { self.mem.with_slot(self.slot(self.head), read) };
        self.free(1);
        Some(r)
    }

    /// Reads up to `max` consecutive committed messages, calling
    /// `read(i, slot)` for the i-th, then frees them all. Returns how many
    /// (0 when the head's slot is not committed). The batch stops at the
    /// first uncommitted slot.
    pub fn recv_batch(&mut self, max: usize, mut read: impl FnMut(usize, &[u8])) -> usize {
        let mut n = 0u64;
        while (n as usize) < max && n < self.capacity && self.committed(self.head + n) {
            n += 1;
        }
        for i in 0..n {
            // SAFETY: as in try_recv, for each of the n committed slots.
            unsafe {
                self.mem
                    .with_slot(self.slot(self.head + i), |s| read(i as usize, s))
            };
        }
        self.free(n);
        n as usize
    }
}

/// An inbox in its own 128-byte-aligned heap allocation, initialised to
/// [`K2kLayout::initial_image`]: the same bytes the device uses.
#[derive(Debug)]
pub struct HeapK2k {
    base: *mut u8,
    layout: K2kLayout,
    alloc: Layout,
}

// SAFETY: the memory is shared by design; the words are accessed only
// atomically, and slots under the protocol (callers of with_slot* promise
// ownership).
unsafe impl Send for HeapK2k {}
// SAFETY: as above.
unsafe impl Sync for HeapK2k {}

impl HeapK2k {
    pub fn new(layout: K2kLayout, owner_actor: u32) -> HeapK2k {
        let alloc = Layout::from_size_align(layout.bytes(), 128)
            .expect("K2kLayout bounds the size by isize::MAX");
        // SAFETY: the size is at least the 384-byte header, so nonzero.
        let base = unsafe { alloc_zeroed(alloc) };
        if base.is_null() {
            std::alloc::handle_alloc_error(alloc);
        }
        let image = layout.initial_image(owner_actor);
        // SAFETY: `base` holds layout.bytes() == image.len() fresh bytes.
        unsafe { core::ptr::copy_nonoverlapping(image.as_ptr(), base, image.len()) };
        HeapK2k {
            base,
            layout,
            alloc,
        }
    }

    /// The inbox's bytes as the device would see them (a snapshot; for
    /// tests).
    pub fn bytes(&self) -> Vec<u8> {
        // SAFETY: the allocation's bytes; racing writers are the caller's
        // concern (a snapshot taken while nobody sends).
        unsafe { core::slice::from_raw_parts(self.base, self.layout.bytes()) }.to_vec()
    }

    fn cell(&self, word: K2kWord) -> &AtomicU64 {
        let offset = match word {
            K2kWord::Tail => core::mem::offset_of!(super::K2kHeader, tail),
            K2kWord::Head => core::mem::offset_of!(super::K2kHeader, head),
            K2kWord::Seq(i) => {
                assert!(i < self.layout.capacity(), "seq {i} out of range");
                K2K_SEQ_OFFSET + 8 * i as usize
            }
        };
        // SAFETY: inside the allocation, 8-byte aligned (128-aligned base,
        // offsets multiples of 8), live while `self` is, and every access
        // to these words is atomic.
        unsafe { AtomicU64::from_ptr(self.base.add(offset).cast()) }
    }

    fn slot_ptr(&self, slot: u32) -> *mut u8 {
        assert!(slot < self.layout.capacity(), "slot {slot} out of range");
        // SAFETY: slots_offset + (slot + 1) * slot_size <= bytes().
        unsafe {
            self.base
                .add(self.layout.slots_offset() + slot as usize * self.layout.slot_size() as usize)
        }
    }
}

impl Drop for HeapK2k {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; `&mut self` means no
        // borrow of the memory is alive.
        unsafe { dealloc(self.base, self.alloc) }
    }
}

// SAFETY: fixed layout; distinct AtomicU64 cells at the header's and the
// seq array's offsets (those `rk_k2k_*` uses); disjoint slot regions.
unsafe impl K2kMemory for HeapK2k {
    fn layout(&self) -> K2kLayout {
        self.layout
    }
    fn load(&self, word: K2kWord, order: Ordering) -> u64 {
        self.cell(word).load(order)
    }
    fn store(&self, word: K2kWord, value: u64, order: Ordering) {
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
        let ptr = self.slot_ptr(slot);
        // SAFETY: in bounds; the caller owns the slot, so no one writes it.
        f(unsafe { core::slice::from_raw_parts(ptr, self.layout.slot_size() as usize) })
    }
    unsafe fn with_slot_mut<R>(&self, slot: u32, f: impl FnOnce(&mut [u8]) -> R) -> R {
        let ptr = self.slot_ptr(slot);
        // SAFETY: in bounds; the caller owns the slot exclusively.
        f(unsafe { core::slice::from_raw_parts_mut(ptr, self.layout.slot_size() as usize) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_heap_inbox_holds_the_devices_bytes_as_the_protocol_runs() {
        let layout = K2kLayout::new(4, 128).unwrap();
        let q = Arc::new(HeapK2k::new(layout, 9));
        assert_eq!(q.bytes(), layout.initial_image(9));
        let tx = K2kSender::new(q.clone());
        // SAFETY: the only receiver.
        let mut rx = unsafe { K2kReceiver::attach(q.clone()) };
        tx.try_send(|s| s[64] = 0xAB).unwrap();
        let bytes = q.bytes();
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        assert_eq!(word(0), 1, "tail");
        assert_eq!(word(K2K_SEQ_OFFSET), 1, "seq[0] committed = pos + 1");
        assert_eq!(bytes[layout.slots_offset() + 64], 0xAB);
        assert_eq!(rx.try_recv(|s| s[64]), Some(0xAB));
        let bytes = q.bytes();
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        assert_eq!(word(128), 1, "head");
        assert_eq!(word(K2K_SEQ_OFFSET), 4, "seq[0] freed = pos + capacity");
        assert_eq!(rx.try_recv(|s| s[64]), None);
    }

    #[test]
    fn full_refuses_without_calling_fill_and_frees_make_room() {
        let q = Arc::new(HeapK2k::new(K2kLayout::new(2, 64).unwrap(), 0));
        let tx = K2kSender::new(q.clone());
        // SAFETY: the only receiver.
        let mut rx = unsafe { K2kReceiver::attach(q) };
        tx.try_send(|s| s[0] = 1).unwrap();
        tx.try_send(|s| s[0] = 2).unwrap();
        assert_eq!(
            tx.try_send(|_| panic!("fill called on a full inbox")),
            Err(Full)
        );
        let mut got = Vec::new();
        assert_eq!(rx.recv_batch(8, |_, s| got.push(s[0])), 2);
        assert_eq!(got, [1, 2]);
        assert_eq!(rx.recv_batch(8, |_, _| ()), 0);
        tx.try_send(|s| s[0] = 3).unwrap();
        assert_eq!(rx.try_recv(|s| s[0]), Some(3));
    }

    #[test]
    fn envelopes_round_trip_and_oversized_payloads_are_refused() {
        let q = Arc::new(HeapK2k::new(K2kLayout::new(2, 128).unwrap(), 0));
        let tx = K2kSender::new(q.clone());
        // SAFETY: the only receiver.
        let mut rx = unsafe { K2kReceiver::attach(q) };
        let header = EnvelopeHeader {
            type_id: 7,
            sequence: 3,
            ..EnvelopeHeader::default()
        };
        assert_eq!(
            tx.try_send_envelope(&header, &[0; 65]),
            Err(PushError::PayloadTooLarge { len: 65, max: 64 })
        );
        tx.try_send_envelope(&header, &[5; 64]).unwrap();
        let (h, p) = rx
            .try_recv(|s| (EnvelopeHeader::read_from(s), s[64..128].to_vec()))
            .unwrap();
        assert_eq!((h.type_id, h.sequence, h.payload_size), (7, 3, 64));
        assert_eq!(p, vec![5; 64]);
    }
}
