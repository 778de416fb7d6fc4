//! The host↔device SPSC ring: its layout, mirrored from `cuda/rk_ring.cuh`,
//! and the host's half of the protocol.
//!
//! Each actor's inbox (host produces, device consumes) and outbox (device
//! produces, host consumes) is one of these rings in mapped pinned host
//! memory. The protocol has one owner per index: only the producer stores
//! `tail`, only the consumer stores `head`, each with a release store, and
//! each reads the other's index with an acquire load. A slot is written
//! completely before the `tail` store that publishes it and read completely
//! before the `head` store that frees it; a full ring refuses the push
//! (backpressure), it never overwrites. The device half is `rk_ring_*` in
//! the header, the host half is [`Producer`] and [`Consumer`] here, and
//! they interoperate on the same bytes.
//!
//! The host half is written against [`RingMemory`] rather than a raw
//! pointer, so the same code runs over mapped pinned memory ([`RawRing`]),
//! an owned allocation ([`HeapRing`], tests and the CPU backend) and the
//! loom model in `tests/loom_ring.rs`, which checks the protocol under every
//! interleaving the memory model allows.

mod host;
mod raw;

use core::mem::{align_of, offset_of, size_of};
use core::sync::atomic::Ordering;

use crate::envelope::ENVELOPE_HEADER_SIZE;

pub use host::{channel, Consumer, Full, Producer, PushError};
pub use raw::{HeapRing, RawRing};

/// `RK_RING_MAGIC`: "RKRG".
pub const RING_MAGIC: u32 = 0x524B_5247;
/// `RK_RING_VERSION`.
pub const RING_VERSION: u32 = 2;
/// `RK_RING_SLOTS_OFFSET`: slots start right after the header.
pub const RING_SLOTS_OFFSET: usize = 384;
/// The largest slot that gets a flagged copy ([`RingLayout::with_flagged_copy`]):
/// its copy is 256 bytes, one load per lane of a warp or 16 16-byte loads
/// of one thread, so one round trip reads all of it.
pub const FLAGGED_COPY_MAX_SLOT: u32 = 128;

/// The alignment the ring's base address needs (one line).
pub const RING_ALIGN: usize = 128;

/// `struct rk_ring_header`: the first 384 bytes of a ring.
#[repr(C, align(128))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingHeader {
    /// Published count; stored only by the producer.
    pub tail: u64,
    pub tail_pad: [u8; 120],
    /// Consumed count; stored only by the consumer.
    pub head: u64,
    pub head_pad: [u8; 120],
    /// Slots, a power of two.
    pub capacity: u32,
    /// Bytes per slot, a multiple of 64.
    pub slot_size: u32,
    /// [`RING_MAGIC`] once initialised.
    pub magic: u32,
    /// [`RING_VERSION`].
    pub version: u32,
    /// 8-byte words of each slot's flagged copy (see [`RingLayout::with_flagged_copy`]), 0 for none.
    pub ll_words: u32,
    pub geometry_pad: [u8; 108],
}

const _: () = {
    assert!(size_of::<RingHeader>() == RING_SLOTS_OFFSET);
    assert!(align_of::<RingHeader>() == RING_ALIGN);
    assert!(offset_of!(RingHeader, tail) == 0);
    assert!(offset_of!(RingHeader, head) == 128);
    assert!(offset_of!(RingHeader, capacity) == 256);
    assert!(offset_of!(RingHeader, slot_size) == 260);
    assert!(offset_of!(RingHeader, magic) == 264);
    assert!(offset_of!(RingHeader, version) == 268);
    assert!(offset_of!(RingHeader, ll_words) == 272);
};

impl RingHeader {
    /// The header of a fresh, empty ring with `layout`.
    pub fn new(layout: RingLayout) -> RingHeader {
        RingHeader {
            tail: 0,
            tail_pad: [0; 120],
            head: 0,
            head_pad: [0; 120],
            capacity: layout.capacity,
            slot_size: layout.slot_size,
            magic: RING_MAGIC,
            version: RING_VERSION,
            ll_words: layout.ll_words,
            geometry_pad: [0; 108],
        }
    }
}

/// Why a ring layout or a ring in memory was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    #[error("ring capacity {0} is not a power of two between 1 and 2^31")]
    Capacity(u32),
    #[error("a K2K inbox of {0} slot(s) is unsafe (a committed slot looks free a lap later): use at least 2")]
    K2kCapacity(u32),
    #[error("slot size {0} is not a nonzero multiple of 64 bytes")]
    SlotSize(u32),
    #[error("ring of {capacity} slots of {slot_size} bytes does not fit in the address space")]
    TooLarge { capacity: u32, slot_size: u32 },
    #[error("ring base address {0:#x} is not 128-byte aligned")]
    Misaligned(usize),
    #[error("no ring at this address: magic {found:#010x}, expected {RING_MAGIC:#010x}")]
    BadMagic { found: u32 },
    #[error("flagged copy of {ll_words} words for {slot_size}-byte slots (expected {} or none)", slot_size / 4)]
    FlaggedCopy { ll_words: u32, slot_size: u32 },
    #[error("ring format version {found}, this library speaks {RING_VERSION}")]
    BadVersion { found: u32 },
}

/// The geometry of a ring, validated: a power-of-two number of slots, each
/// a multiple of 64 bytes (one envelope header, then payload).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RingLayout {
    capacity: u32,
    slot_size: u32,
    ll_words: u32,
}

impl RingLayout {
    pub fn new(capacity: u32, slot_size: u32) -> Result<RingLayout, RingError> {
        if !capacity.is_power_of_two() || capacity > 1 << 31 {
            return Err(RingError::Capacity(capacity));
        }
        if slot_size == 0 || slot_size as usize % ENVELOPE_HEADER_SIZE != 0 {
            return Err(RingError::SlotSize(slot_size));
        }
        let layout = RingLayout {
            capacity,
            slot_size,
            ll_words: 0,
        };
        (capacity as usize)
            .checked_mul(slot_size as usize)
            .and_then(|b| b.checked_add(RING_SLOTS_OFFSET))
            .filter(|b| *b <= isize::MAX as usize)
            .map(|_| layout)
            .ok_or(RingError::TooLarge {
                capacity,
                slot_size,
            })
    }

    /// The layout with the smallest slot that holds `payload` bytes.
    pub fn for_payload(capacity: u32, payload: usize) -> Result<RingLayout, RingError> {
        let slot = (ENVELOPE_HEADER_SIZE + payload).next_multiple_of(ENVELOPE_HEADER_SIZE);
        let slot = u32::try_from(slot).map_err(|_| RingError::SlotSize(u32::MAX))?;
        RingLayout::new(capacity, slot)
    }

    #[inline]
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    #[inline]
    pub fn slot_size(&self) -> u32 {
        self.slot_size
    }

    /// Payload bytes a slot holds after its envelope header.
    #[inline]
    pub fn max_payload(&self) -> usize {
        self.slot_size as usize - ENVELOPE_HEADER_SIZE
    }

    /// Total bytes of the ring in memory: header and slots.
    pub fn bytes(&self) -> usize {
        RING_SLOTS_OFFSET
            + self.capacity as usize * (self.slot_size as usize + self.ll_words as usize * 8)
    }

    /// This layout with a flagged copy of every slot, when its slots are
    /// at most [`FLAGGED_COPY_MAX_SLOT`] bytes (otherwise unchanged).
    ///
    /// The flagged copy is NCCL's "LL" (low-latency) encoding of the slot's
    /// bytes: 8-byte words, each 4 bytes of the slot and a 4-byte flag, the
    /// low 32 bits of the message's index + 1. 8-byte stores and loads are
    /// single-copy atomic on both sides of PCIe, so a consumer that reads
    /// every word and finds every flag equal to the one it expects has read
    /// the whole message, written completely, with no `tail` read first:
    /// one PCIe round trip instead of two (read `tail`, then the slot).
    /// The producer writes the copy for messages it publishes one at a time
    /// (a call: latency), not for batches (a stream: the consumer finds
    /// those through `tail`), whose copies it invalidates instead (the first
    /// word's flag set to the message's index, which no message expects), so
    /// that a copy always holds its slot's last message or nothing valid and
    /// a stale one cannot pass for the message 2^32 later. Both directions of
    /// an actor have them: the host writes a lone message's copy into the
    /// inbox, the device a lone call's reply into the outbox (before its
    /// closing fence and `tail`, which the consumer then need not wait for).
    /// The copies sit after the slots, `ll_words` words per slot, so the
    /// plain slots keep their geometry.
    pub fn with_flagged_copy(self) -> RingLayout {
        if self.slot_size > FLAGGED_COPY_MAX_SLOT {
            return self;
        }
        RingLayout {
            ll_words: self.slot_size / 4,
            ..self
        }
    }

    /// 8-byte words of each slot's flagged copy; 0 when there is none.
    #[inline]
    pub fn ll_words(&self) -> u32 {
        self.ll_words
    }

    /// Byte offset of slot `slot`'s flagged copy from the ring's base.
    #[inline]
    pub fn ll_offset(&self, slot: u32) -> usize {
        debug_assert!(slot < self.capacity && self.ll_words > 0);
        RING_SLOTS_OFFSET
            + self.capacity as usize * self.slot_size as usize
            + slot as usize * self.ll_words as usize * 8
    }

    /// Byte offset of slot `slot` (< capacity) from the ring's base.
    #[inline]
    pub fn slot_offset(&self, slot: u32) -> usize {
        debug_assert!(slot < self.capacity);
        RING_SLOTS_OFFSET + slot as usize * self.slot_size as usize
    }
}

/// Which of the two indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingIndex {
    /// Consumed count, stored only by the consumer.
    Head,
    /// Published count, stored only by the producer.
    Tail,
}

/// Memory holding one ring: two atomic `u64` indices and `capacity` slots.
///
/// # Safety
/// Implementors guarantee that [`layout`](RingMemory::layout) never changes,
/// that `load`/`store` act on two distinct atomic 64-bit cells with the
/// given orderings (the cells the device's `rk_ring_*` functions use, for
/// memory the device shares), and that `with_slot(s)`/`with_slot_mut(s)`
/// for `s < capacity` give the same disjoint `slot_size`-byte region each
/// time, valid for as long as `self` is.
pub unsafe trait RingMemory {
    fn layout(&self) -> RingLayout;
    fn load(&self, index: RingIndex, order: Ordering) -> u64;
    fn store(&self, index: RingIndex, value: u64, order: Ordering);

    /// Runs `f` on slot `slot`'s bytes.
    ///
    /// # Safety
    /// The caller must own the slot under the ring protocol: no one writes
    /// it while `f` runs.
    unsafe fn with_slot<R>(&self, slot: u32, f: impl FnOnce(&[u8]) -> R) -> R;

    /// Runs `f` on slot `slot`'s bytes, writable.
    ///
    /// # Safety
    /// The caller must own the slot under the ring protocol: no one reads
    /// or writes it while `f` runs.
    unsafe fn with_slot_mut<R>(&self, slot: u32, f: impl FnOnce(&mut [u8]) -> R) -> R;

    /// Stores word `word` of slot `slot`'s flagged copy (an atomic 8-byte
    /// store: the consumer may be reading it speculatively). Only called
    /// when the layout has a flagged copy; memories whose layouts never
    /// have one need not implement it.
    fn store_flagged(&self, slot: u32, word: u32, value: u64) {
        let _ = (slot, word, value);
        unreachable!("this ring memory has no flagged copy (its layout has ll_words == 0)")
    }

    /// Loads word `word` of slot `slot`'s flagged copy (an atomic 8-byte
    /// load: the producer may be writing it). Only called when the layout
    /// has a flagged copy.
    fn load_flagged(&self, slot: u32, word: u32) -> u64 {
        let _ = (slot, word);
        unreachable!("this ring memory has no flagged copy (its layout has ll_words == 0)")
    }

    /// Reads slot `slot`'s whole flagged copy into `out` (4 bytes per
    /// word, little-endian) when every word's flag (its high 32 bits) is
    /// `flag`; false, stopping at the first word that is not, otherwise
    /// (`out` then holds a prefix). Atomic 8-byte loads. The default goes
    /// word by word through [`load_flagged`](RingMemory::load_flagged); a
    /// memory may do it in one pass (a waiting receiver spins on it).
    fn read_flagged_copy(&self, slot: u32, flag: u32, out: &mut [u8]) -> bool {
        let words = self.layout().ll_words();
        for w in 0..words {
            let word = self.load_flagged(slot, w);
            if (word >> 32) as u32 != flag {
                return false;
            }
            let at = 4 * w as usize;
            out[at..at + 4].copy_from_slice(&(word as u32).to_le_bytes());
        }
        true
    }

    /// Writes slot `slot`'s whole flagged copy from its bytes: word w is
    /// `flag | bytes 4w..4w + 4 of the slot` (little-endian), each an
    /// atomic 8-byte store. The default goes word by word through
    /// [`with_slot`](RingMemory::with_slot) and
    /// [`store_flagged`](RingMemory::store_flagged); a memory may do it in
    /// one pass (a call's send waits for it).
    ///
    /// # Safety
    /// As for `with_slot`: the caller owns the slot.
    unsafe fn write_flagged_copy(&self, slot: u32, flag: u64) {
        let words = self.layout().ll_words() as usize;
        // SAFETY: forwarded to the caller.
        unsafe {
            self.with_slot(slot, |bytes| {
                for (w, chunk) in bytes.chunks_exact(4).take(words).enumerate() {
                    let data = u32::from_le_bytes(chunk.try_into().expect("4 bytes"));
                    self.store_flagged(slot, w as u32, flag | u64::from(data));
                }
            })
        }
    }
}

// SAFETY: forwards to `M`, which upholds the contract.
unsafe impl<M: RingMemory + ?Sized> RingMemory for &M {
    fn layout(&self) -> RingLayout {
        (**self).layout()
    }
    fn load(&self, index: RingIndex, order: Ordering) -> u64 {
        (**self).load(index, order)
    }
    fn store(&self, index: RingIndex, value: u64, order: Ordering) {
        (**self).store(index, value, order)
    }
    unsafe fn with_slot<R>(&self, slot: u32, f: impl FnOnce(&[u8]) -> R) -> R {
        // SAFETY: the caller's obligation is passed on unchanged.
        unsafe { (**self).with_slot(slot, f) }
    }
    unsafe fn with_slot_mut<R>(&self, slot: u32, f: impl FnOnce(&mut [u8]) -> R) -> R {
        // SAFETY: as above.
        unsafe { (**self).with_slot_mut(slot, f) }
    }
    fn store_flagged(&self, slot: u32, word: u32, value: u64) {
        (**self).store_flagged(slot, word, value)
    }
    fn load_flagged(&self, slot: u32, word: u32) -> u64 {
        (**self).load_flagged(slot, word)
    }
    unsafe fn write_flagged_copy(&self, slot: u32, flag: u64) {
        // SAFETY: forwarded to the caller.
        unsafe { (**self).write_flagged_copy(slot, flag) }
    }
    fn read_flagged_copy(&self, slot: u32, flag: u32, out: &mut [u8]) -> bool {
        (**self).read_flagged_copy(slot, flag, out)
    }
}

// SAFETY: forwards to `M`, which upholds the contract.
unsafe impl<M: RingMemory + ?Sized> RingMemory for std::sync::Arc<M> {
    fn layout(&self) -> RingLayout {
        (**self).layout()
    }
    fn load(&self, index: RingIndex, order: Ordering) -> u64 {
        (**self).load(index, order)
    }
    fn store(&self, index: RingIndex, value: u64, order: Ordering) {
        (**self).store(index, value, order)
    }
    unsafe fn with_slot<R>(&self, slot: u32, f: impl FnOnce(&[u8]) -> R) -> R {
        // SAFETY: the caller's obligation is passed on unchanged.
        unsafe { (**self).with_slot(slot, f) }
    }
    unsafe fn with_slot_mut<R>(&self, slot: u32, f: impl FnOnce(&mut [u8]) -> R) -> R {
        // SAFETY: as above.
        unsafe { (**self).with_slot_mut(slot, f) }
    }
    fn store_flagged(&self, slot: u32, word: u32, value: u64) {
        (**self).store_flagged(slot, word, value)
    }
    fn load_flagged(&self, slot: u32, word: u32) -> u64 {
        (**self).load_flagged(slot, word)
    }
    unsafe fn write_flagged_copy(&self, slot: u32, flag: u64) {
        // SAFETY: forwarded to the caller.
        unsafe { (**self).write_flagged_copy(slot, flag) }
    }
    fn read_flagged_copy(&self, slot: u32, flag: u32, out: &mut [u8]) -> bool {
        (**self).read_flagged_copy(slot, flag, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_validated() {
        assert_eq!(RingLayout::new(3, 64), Err(RingError::Capacity(3)));
        assert_eq!(RingLayout::new(0, 64), Err(RingError::Capacity(0)));
        assert_eq!(RingLayout::new(4, 96), Err(RingError::SlotSize(96)));
        assert_eq!(RingLayout::new(4, 0), Err(RingError::SlotSize(0)));
        let layout = RingLayout::new(8, 128).unwrap();
        assert_eq!(layout.bytes(), 384 + 8 * 128);
        assert_eq!(layout.slot_offset(3), 384 + 3 * 128);
        assert_eq!(layout.max_payload(), 64);
        assert_eq!(RingLayout::for_payload(4, 64).unwrap().slot_size(), 128);
        assert_eq!(RingLayout::for_payload(4, 65).unwrap().slot_size(), 192);
        assert_eq!(RingLayout::for_payload(4, 0).unwrap().slot_size(), 64);
    }
}
