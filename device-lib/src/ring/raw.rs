//! Rings over raw memory: [`RawRing`] for memory someone else allocated
//! (mapped pinned host memory from `cuMemHostAlloc`), [`HeapRing`] for an
//! owned allocation (tests, the CPU backend).

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};
use std::alloc::{alloc_zeroed, dealloc, Layout};

use super::{
    RingError, RingHeader, RingIndex, RingLayout, RingMemory, RING_ALIGN, RING_MAGIC, RING_VERSION,
};

/// A ring at a raw address, as the device sees it: [`RingHeader`] at the
/// base, slots from [`super::RING_SLOTS_OFFSET`]. Copyable; it does not own
/// the memory.
#[derive(Clone, Copy, Debug)]
pub struct RawRing {
    base: NonNull<u8>,
    layout: RingLayout,
}

// SAFETY: the ring is shared by design; all shared access goes through
// atomics, and slot access is serialised by the protocol (the callers of
// `with_slot*` promise ownership).
unsafe impl Send for RawRing {}
// SAFETY: as above.
unsafe impl Sync for RawRing {}

impl RawRing {
    /// Writes the header of an empty ring with `layout` at `base`.
    ///
    /// # Safety
    /// `base` must be valid for reads and writes of `layout.bytes()` bytes
    /// for as long as the returned ring or a copy of it is used, nothing
    /// else may access that memory during this call, and afterwards it may
    /// only be accessed through the ring protocol.
    pub unsafe fn init(base: *mut u8, layout: RingLayout) -> Result<RawRing, RingError> {
        let base = check_base(base)?;
        // SAFETY: per the contract, `base` is valid, exclusively ours, and
        // (checked) aligned for RingHeader.
        unsafe {
            base.as_ptr()
                .cast::<RingHeader>()
                .write(RingHeader::new(layout))
        };
        Ok(RawRing { base, layout })
    }

    /// Attaches to a ring that [`RawRing::init`] (or the same layout written
    /// by other means) set up at `base`, reading its geometry from the header.
    ///
    /// # Safety
    /// `base` must point at an initialised ring whose memory stays valid for
    /// as long as the returned ring or a copy of it is used.
    pub unsafe fn attach(base: *mut u8) -> Result<RawRing, RingError> {
        let base = check_base(base)?;
        // SAFETY: valid and aligned per the contract; the geometry fields
        // are written once before the ring is shared, so plain reads are fine.
        let header = unsafe { &*base.as_ptr().cast::<RingHeader>() };
        if header.magic != RING_MAGIC {
            return Err(RingError::BadMagic {
                found: header.magic,
            });
        }
        if header.version != RING_VERSION {
            return Err(RingError::BadVersion {
                found: header.version,
            });
        }
        let mut layout = RingLayout::new(header.capacity, header.slot_size)?;
        if header.ll_words != 0 {
            layout = layout.with_flagged_copy();
            if layout.ll_words() != header.ll_words {
                return Err(RingError::FlaggedCopy {
                    ll_words: header.ll_words,
                    slot_size: header.slot_size,
                });
            }
        }
        Ok(RawRing { base, layout })
    }

    /// The ring's base address (what the device is given, after
    /// `cuMemHostGetDevicePointer`).
    pub fn base(&self) -> *mut u8 {
        self.base.as_ptr()
    }

    #[inline]
    fn index_cell(&self, index: RingIndex) -> &AtomicU64 {
        let offset = match index {
            RingIndex::Tail => core::mem::offset_of!(RingHeader, tail),
            RingIndex::Head => core::mem::offset_of!(RingHeader, head),
        };
        // SAFETY: the header is valid for the ring's lifetime (constructor
        // contracts), the field is 8-byte aligned (the base is 128-aligned),
        // and both sides only ever access it atomically.
        unsafe { AtomicU64::from_ptr(self.base.as_ptr().add(offset).cast()) }
    }

    #[inline]
    fn slot_ptr(&self, slot: u32) -> *mut u8 {
        assert!(slot < self.layout.capacity(), "slot {slot} out of range");
        // SAFETY: slot_offset(slot) + slot_size <= layout.bytes(), inside
        // the allocation per the constructor contracts.
        unsafe { self.base.as_ptr().add(self.layout.slot_offset(slot)) }
    }
}

fn check_base(base: *mut u8) -> Result<NonNull<u8>, RingError> {
    let addr = base as usize;
    if addr % RING_ALIGN != 0 {
        return Err(RingError::Misaligned(addr));
    }
    NonNull::new(base).ok_or(RingError::Misaligned(0))
}

// SAFETY: the layout is fixed at construction; the indices are the header's
// two AtomicU64 cells (the ones `rk_ring_*` uses); slots are the disjoint
// regions the layout describes, valid per the constructor contracts.
unsafe impl RingMemory for RawRing {
    #[inline]
    fn layout(&self) -> RingLayout {
        self.layout
    }
    #[inline]
    fn load(&self, index: RingIndex, order: Ordering) -> u64 {
        self.index_cell(index).load(order)
    }
    #[inline]
    fn store(&self, index: RingIndex, value: u64, order: Ordering) {
        self.index_cell(index).store(value, order)
    }
    #[inline(always)]
    unsafe fn with_slot<R>(&self, slot: u32, f: impl FnOnce(&[u8]) -> R) -> R {
        let ptr = self.slot_ptr(slot);
        // SAFETY: in bounds (slot_ptr), and the caller owns the slot, so no
        // one writes it while the shared slice lives.
        f(unsafe { core::slice::from_raw_parts(ptr, self.layout.slot_size() as usize) })
    }
    #[inline(always)]
    unsafe fn with_slot_mut<R>(&self, slot: u32, f: impl FnOnce(&mut [u8]) -> R) -> R {
        let ptr = self.slot_ptr(slot);
        // SAFETY: in bounds, and the caller owns the slot exclusively.
        f(unsafe { core::slice::from_raw_parts_mut(ptr, self.layout.slot_size() as usize) })
    }
    fn store_flagged(&self, slot: u32, word: u32, value: u64) {
        self.flagged_cell(slot, word)
            .store(value, Ordering::Relaxed);
    }
    fn load_flagged(&self, slot: u32, word: u32) -> u64 {
        self.flagged_cell(slot, word).load(Ordering::Relaxed)
    }
    fn read_flagged_copy(&self, slot: u32, flag: u32, out: &mut [u8]) -> bool {
        let words = self.layout.ll_words() as usize;
        assert!(
            slot < self.layout.capacity() && words > 0 && out.len() >= 4 * words,
            "flagged copy of slot {slot}: out of range or too small a buffer"
        );
        // SAFETY: as in write_flagged_copy: the copy's words are inside the
        // allocation, 8-byte aligned, accessed atomically only.
        let src = unsafe {
            self.base
                .as_ptr()
                .add(self.layout.ll_offset(slot))
                .cast::<u64>()
        };
        for (w, chunk) in out.chunks_exact_mut(4).take(words).enumerate() {
            // SAFETY: w < ll_words (see above).
            let word = unsafe { AtomicU64::from_ptr(src.add(w)) }.load(Ordering::Relaxed);
            if (word >> 32) as u32 != flag {
                return false;
            }
            chunk.copy_from_slice(&(word as u32).to_le_bytes());
        }
        true
    }
    unsafe fn write_flagged_copy(&self, slot: u32, flag: u64) {
        // One pass with the addresses computed once: word by word through
        // store_flagged (a bounds check and an offset each) took ~75 ns of
        // a 128-byte slot's send, on the path a call's round trip waits on.
        let words = self.layout.ll_words() as usize;
        assert!(words > 0, "this ring has no flagged copy");
        let src = self.slot_ptr(slot);
        // SAFETY: the copy of a slot (< capacity, checked by slot_ptr) is
        // ll_words 8-byte words inside the allocation, 8-byte aligned (see
        // flagged_cell), and only ever accessed atomically; the slot's
        // 4 * ll_words == slot_size bytes are readable and, by the
        // caller's contract, not written meanwhile.
        unsafe {
            let dst = self
                .base
                .as_ptr()
                .add(self.layout.ll_offset(slot))
                .cast::<u64>();
            for w in 0..words {
                let data = u32::from_le(src.add(4 * w).cast::<u32>().read_unaligned());
                AtomicU64::from_ptr(dst.add(w)).store(flag | u64::from(data), Ordering::Relaxed);
            }
        }
    }
}

impl RawRing {
    fn flagged_cell(&self, slot: u32, word: u32) -> &AtomicU64 {
        assert!(
            slot < self.layout.capacity() && word < self.layout.ll_words(),
            "flagged word {word} of slot {slot} out of range"
        );
        // SAFETY: inside the allocation (ll_offset + ll_words * 8 <=
        // bytes()), 8-byte aligned (the base is 128-aligned, the copies
        // start after whole slots of a multiple of 64 bytes), and only ever
        // accessed atomically (8-byte stores and loads on both sides).
        unsafe {
            AtomicU64::from_ptr(
                self.base
                    .as_ptr()
                    .add(self.layout.ll_offset(slot) + word as usize * 8)
                    .cast(),
            )
        }
    }
}

/// A ring in its own zeroed, 128-byte-aligned heap allocation.
#[derive(Debug)]
pub struct HeapRing {
    ring: RawRing,
    alloc: Layout,
}

impl HeapRing {
    pub fn new(layout: RingLayout) -> HeapRing {
        let alloc = Layout::from_size_align(layout.bytes(), RING_ALIGN)
            .expect("RingLayout::new bounds the size by isize::MAX");
        // SAFETY: the size is at least the 384-byte header, so nonzero.
        let base = unsafe { alloc_zeroed(alloc) };
        if base.is_null() {
            std::alloc::handle_alloc_error(alloc);
        }
        // SAFETY: a fresh allocation of layout.bytes(), owned by the
        // HeapRing, freed only in Drop, accessed only through the ring.
        let ring = unsafe { RawRing::init(base, layout) }.expect("the allocation is aligned");
        HeapRing { ring, alloc }
    }

    /// The ring, as a [`RawRing`] valid while `self` lives.
    pub fn raw(&self) -> RawRing {
        self.ring
    }
}

impl Drop for HeapRing {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; `&mut self` means no
        // borrow of the memory is alive.
        unsafe { dealloc(self.ring.base(), self.alloc) }
    }
}

// SAFETY: forwards to the RawRing, valid while `self` lives.
unsafe impl RingMemory for HeapRing {
    #[inline]
    fn layout(&self) -> RingLayout {
        self.ring.layout
    }
    #[inline]
    fn load(&self, index: RingIndex, order: Ordering) -> u64 {
        self.ring.load(index, order)
    }
    #[inline]
    fn store(&self, index: RingIndex, value: u64, order: Ordering) {
        self.ring.store(index, value, order)
    }
    unsafe fn with_slot<R>(&self, slot: u32, f: impl FnOnce(&[u8]) -> R) -> R {
        // SAFETY: the caller's obligation is passed on unchanged.
        unsafe { self.ring.with_slot(slot, f) }
    }
    unsafe fn with_slot_mut<R>(&self, slot: u32, f: impl FnOnce(&mut [u8]) -> R) -> R {
        // SAFETY: as above.
        unsafe { self.ring.with_slot_mut(slot, f) }
    }
    fn store_flagged(&self, slot: u32, word: u32, value: u64) {
        self.ring.store_flagged(slot, word, value)
    }
    fn load_flagged(&self, slot: u32, word: u32) -> u64 {
        self.ring.load_flagged(slot, word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RawRing's one-pass flagged copy against the trait's word-by-word
    /// defaults (HeapRing uses those): the same words both ways, and a
    /// copy with one word of another flag refused by both.
    #[test]
    fn the_one_pass_flagged_copy_matches_the_word_by_word_one() {
        let heap = HeapRing::new(RingLayout::new(4, 128).unwrap().with_flagged_copy());
        let bytes: Vec<u8> = (0..128u32).map(|i| (i * 3 + 1) as u8).collect();
        // SAFETY: nobody else uses the ring.
        unsafe { heap.raw().with_slot_mut(2, |s| s.copy_from_slice(&bytes)) };
        let (mut fast, mut slow) = ([0u8; 128], [0u8; 128]);
        // SAFETY: as above.
        unsafe { heap.write_flagged_copy(2, 7 << 32) };
        assert!(heap.raw().read_flagged_copy(2, 7, &mut fast));
        assert!(heap.read_flagged_copy(2, 7, &mut slow));
        assert_eq!((&fast[..], &slow[..]), (&bytes[..], &bytes[..]));
        // SAFETY: as above.
        unsafe { heap.raw().write_flagged_copy(2, 8 << 32) };
        assert!(heap.read_flagged_copy(2, 8, &mut slow));
        assert_eq!(&slow[..], &bytes[..]);
        assert!(
            !heap.raw().read_flagged_copy(2, 7, &mut fast),
            "the old flag"
        );
        heap.raw().store_flagged(2, 31, 9 << 32);
        assert!(
            !heap.raw().read_flagged_copy(2, 8, &mut fast),
            "a torn copy"
        );
        assert!(!heap.read_flagged_copy(2, 8, &mut slow), "a torn copy");
    }

    #[test]
    fn attach_reads_back_the_geometry_and_rejects_garbage() {
        let heap = HeapRing::new(RingLayout::new(16, 192).unwrap());
        // SAFETY: the HeapRing outlives `attached`.
        let attached = unsafe { RawRing::attach(heap.raw().base()) }.unwrap();
        assert_eq!(attached.layout(), heap.layout());

        let other = HeapRing::new(RingLayout::new(4, 64).unwrap());
        let magic = other.raw().base().wrapping_add(264).cast::<u32>();
        // SAFETY: the magic field of a live ring that nobody else uses.
        unsafe { magic.write(0xDEAD_BEEF) };
        // SAFETY: `other` outlives the call.
        let err = unsafe { RawRing::attach(other.raw().base()) }.unwrap_err();
        assert_eq!(err, RingError::BadMagic { found: 0xDEAD_BEEF });
        // SAFETY: the address is rejected before any access.
        let err = unsafe { RawRing::attach(heap.raw().base().wrapping_add(8)) }.unwrap_err();
        assert!(matches!(err, RingError::Misaligned(_)));
    }

    #[test]
    fn the_header_bytes_are_what_the_device_reads() {
        let heap = HeapRing::new(RingLayout::new(4, 64).unwrap());
        heap.store(RingIndex::Tail, 0x1122, Ordering::Release);
        heap.store(RingIndex::Head, 0x33, Ordering::Release);
        // SAFETY: reading the header bytes of a live ring nobody else uses.
        let bytes = unsafe { core::slice::from_raw_parts(heap.raw().base(), 384) };
        assert_eq!(&bytes[0..8], &0x1122u64.to_le_bytes());
        assert_eq!(&bytes[128..136], &0x33u64.to_le_bytes());
        assert_eq!(&bytes[256..260], &4u32.to_le_bytes());
        assert_eq!(&bytes[260..264], &64u32.to_le_bytes());
        assert_eq!(&bytes[264..268], &RING_MAGIC.to_le_bytes());
    }
}
