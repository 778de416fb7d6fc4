//! K2K (actor-to-actor) inboxes, mirrored from `cuda/rk_k2k.cuh`.
//!
//! Many actors may send to one, so a K2K inbox is a bounded multi-producer
//! single-consumer queue with a sequence number per slot (Vyukov's bounded
//! queue): producers reserve a position with a CAS on `tail`, write the
//! slot, and publish it by storing `seq = pos + 1`; the consumer reads a
//! slot only when `seq == pos + 1` and hands it back with
//! `seq = pos + capacity`. On the GPU the queue lives in global memory (or
//! in a block's shared memory, for the cta and cluster tiers, set up by
//! `rk_k2k_init`) and only device code touches it while it runs; the
//! host's part is to allocate it and upload the initial image
//! ([`K2kLayout::initial_image`]), in which `seq[i] = i` marks every slot
//! free for the first lap. On the CPU backend the same protocol runs on the
//! host: [`K2kSender`], [`K2kReceiver`] over [`K2kMemory`] ([`HeapK2k`]
//! holds the device's bytes), with the device's orderings.

mod host;
mod ll;

pub use host::{HeapK2k, K2kMemory, K2kReceiver, K2kSender, K2kWord};
pub use ll::{K2kLlHeader, K2kLlLayout, K2K_LL_MAGIC, K2K_LL_SLOTS_OFFSET};

use core::mem::{align_of, offset_of, size_of};

use crate::envelope::ENVELOPE_HEADER_SIZE;
use crate::ring::RingError;

/// `RK_K2K_MAGIC`: "RKK2".
pub const K2K_MAGIC: u32 = 0x524B_4B32;
/// `RK_K2K_SEQ_OFFSET`: the sequence array follows the header.
pub const K2K_SEQ_OFFSET: usize = 384;

/// `struct rk_k2k_header`.
#[repr(C, align(128))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct K2kHeader {
    /// Next position to reserve (CAS by producers).
    pub tail: u64,
    pub tail_pad: [u8; 120],
    /// Next position to consume (stored by the consumer only).
    pub head: u64,
    pub head_pad: [u8; 120],
    /// Slots, a power of two.
    pub capacity: u32,
    /// Bytes per slot, a multiple of 64.
    pub slot_size: u32,
    /// [`K2K_MAGIC`].
    pub magic: u32,
    /// The consuming actor.
    pub owner_actor: u32,
    pub geometry_pad: [u8; 112],
}

const _: () = {
    assert!(size_of::<K2kHeader>() == K2K_SEQ_OFFSET);
    assert!(align_of::<K2kHeader>() == 128);
    assert!(offset_of!(K2kHeader, tail) == 0);
    assert!(offset_of!(K2kHeader, head) == 128);
    assert!(offset_of!(K2kHeader, capacity) == 256);
    assert!(offset_of!(K2kHeader, slot_size) == 260);
    assert!(offset_of!(K2kHeader, magic) == 264);
    assert!(offset_of!(K2kHeader, owner_actor) == 268);
};

/// The geometry of a K2K inbox (same rules as a ring's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct K2kLayout {
    capacity: u32,
    slot_size: u32,
}

impl K2kLayout {
    /// A K2K inbox needs at least two slots: with one, a slot's committed
    /// sequence (`pos + 1`) equals the free sequence of the next lap, so a
    /// producer could overwrite an unread message (TLC's counterexample for
    /// `verification/specs/K2kInbox_cap1.cfg`).
    pub fn new(capacity: u32, slot_size: u32) -> Result<K2kLayout, RingError> {
        if capacity < 2 {
            return Err(RingError::K2kCapacity(capacity));
        }
        let ring = crate::ring::RingLayout::new(capacity, slot_size)?;
        Ok(K2kLayout {
            capacity: ring.capacity(),
            slot_size: ring.slot_size(),
        })
    }

    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    pub fn slot_size(&self) -> u32 {
        self.slot_size
    }

    /// Payload bytes a slot holds after its envelope header.
    pub fn max_payload(&self) -> usize {
        self.slot_size as usize - ENVELOPE_HEADER_SIZE
    }

    /// `rk_k2k_slots_offset(capacity)`: the seq array padded to 128 bytes.
    pub fn slots_offset(&self) -> usize {
        K2K_SEQ_OFFSET + (self.capacity as usize * 8).next_multiple_of(128)
    }

    /// Total bytes of the inbox in device memory.
    pub fn bytes(&self) -> usize {
        self.slots_offset() + self.capacity as usize * self.slot_size as usize
    }

    /// The bytes to upload before launch: the header, `seq[i] = i`, and
    /// zeroed slots.
    pub fn initial_image(&self, owner_actor: u32) -> Vec<u8> {
        let mut image = vec![0u8; self.bytes()];
        let header = K2kHeader {
            tail: 0,
            tail_pad: [0; 120],
            head: 0,
            head_pad: [0; 120],
            capacity: self.capacity,
            slot_size: self.slot_size,
            magic: K2K_MAGIC,
            owner_actor,
            geometry_pad: [0; 112],
        };
        // SAFETY: the image is at least size_of::<K2kHeader>() bytes; the
        // header is plain integers; the write is unaligned-safe.
        unsafe {
            image
                .as_mut_ptr()
                .cast::<K2kHeader>()
                .write_unaligned(header)
        };
        for i in 0..self.capacity as usize {
            let at = K2K_SEQ_OFFSET + 8 * i;
            image[at..at + 8].copy_from_slice(&(i as u64).to_le_bytes());
        }
        image
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_slot_inboxes_are_refused_as_the_model_requires() {
        assert_eq!(K2kLayout::new(1, 128), Err(RingError::K2kCapacity(1)));
        assert_eq!(K2kLayout::new(0, 128), Err(RingError::K2kCapacity(0)));
        assert!(K2kLayout::new(2, 128).is_ok());
    }

    #[test]
    fn the_initial_image_marks_every_slot_free_for_lap_zero() {
        let layout = K2kLayout::new(32, 128).unwrap();
        assert_eq!(layout.slots_offset(), 384 + 256);
        assert_eq!(layout.bytes(), 384 + 256 + 32 * 128);
        let image = layout.initial_image(7);
        assert_eq!(image.len(), layout.bytes());
        assert_eq!(&image[256..260], &32u32.to_le_bytes());
        assert_eq!(&image[264..268], &K2K_MAGIC.to_le_bytes());
        assert_eq!(&image[268..272], &7u32.to_le_bytes());
        for i in 0..32usize {
            let at = K2K_SEQ_OFFSET + 8 * i;
            assert_eq!(
                u64::from_le_bytes(image[at..at + 8].try_into().unwrap()),
                i as u64
            );
        }
        // A capacity whose seq array is not a whole line is padded.
        assert_eq!(K2kLayout::new(4, 64).unwrap().slots_offset(), 384 + 128);
        assert!(K2kLayout::new(6, 64).is_err());
    }
}
