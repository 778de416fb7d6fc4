//! Low-latency K2K inboxes, mirrored from `cuda/rk_k2k_ll.cuh`.
//!
//! Every 8-byte word of a slot carries 4 message bytes and a 4-byte flag,
//! the message's position + 1 (NCCL's LL encoding), so a consumer finds a
//! whole message in one memory trip and a producer publishes it without a
//! sequence store or a fence. On the GPU only device code touches the
//! inbox while it runs; the host allocates it and uploads
//! [`K2kLlLayout::initial_image`]: the header, and every word zero, a flag
//! no position (`pos + 1 >= 1`) ever matches.

use core::mem::{align_of, offset_of, size_of};

use crate::ring::{RingError, RingLayout};

/// `RK_K2K_LL_MAGIC`: "RKLL".
pub const K2K_LL_MAGIC: u32 = 0x524B_4C4C;
/// `RK_K2K_LL_SLOTS_OFFSET`: the slots follow the header.
pub const K2K_LL_SLOTS_OFFSET: usize = 384;

/// `struct rk_k2k_ll_header`.
#[repr(C, align(128))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct K2kLlHeader {
    /// Next position to claim (CAS by multi-producers; single-producer
    /// routes leave it alone).
    pub tail: u64,
    pub tail_pad: [u8; 120],
    /// Next position to consume (stored by the consumer only).
    pub head: u64,
    pub head_pad: [u8; 120],
    /// Slots, a power of two.
    pub capacity: u32,
    /// 8-byte words per slot: message bytes / 4.
    pub words: u32,
    /// [`K2K_LL_MAGIC`].
    pub magic: u32,
    /// The consuming actor.
    pub owner_actor: u32,
    pub geometry_pad: [u8; 112],
}

const _: () = {
    assert!(size_of::<K2kLlHeader>() == K2K_LL_SLOTS_OFFSET);
    assert!(align_of::<K2kLlHeader>() == 128);
    assert!(offset_of!(K2kLlHeader, tail) == 0);
    assert!(offset_of!(K2kLlHeader, head) == 128);
    assert!(offset_of!(K2kLlHeader, capacity) == 256);
    assert!(offset_of!(K2kLlHeader, words) == 260);
    assert!(offset_of!(K2kLlHeader, magic) == 264);
    assert!(offset_of!(K2kLlHeader, owner_actor) == 268);
};

/// The geometry of an LL inbox: `capacity` messages of `msg_bytes` bytes
/// (an envelope header plus payload, a multiple of 64), each slot twice
/// that (a flag beside every 4 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct K2kLlLayout {
    capacity: u32,
    msg_bytes: u32,
}

impl K2kLlLayout {
    /// Any power-of-two capacity, 1 included: unlike `rk_k2k.cuh`'s
    /// sequence words, a slot's flags differ from lap to lap (`pos + 1`
    /// against `pos - capacity + 1`), so even one slot never looks written
    /// before it is.
    pub fn new(capacity: u32, msg_bytes: u32) -> Result<K2kLlLayout, RingError> {
        let ring = RingLayout::new(capacity, msg_bytes)?;
        Ok(K2kLlLayout {
            capacity: ring.capacity(),
            msg_bytes: ring.slot_size(),
        })
    }

    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Bytes of one message (what a slot carries).
    pub fn msg_bytes(&self) -> u32 {
        self.msg_bytes
    }

    /// 8-byte words per slot.
    pub fn words(&self) -> u32 {
        self.msg_bytes / 4
    }

    /// Total bytes of the inbox: `RK_K2K_LL_BYTES(capacity, msg_bytes)`.
    pub fn bytes(&self) -> usize {
        K2K_LL_SLOTS_OFFSET + self.capacity as usize * self.msg_bytes as usize * 2
    }

    /// The bytes to upload before launch: the header, every word's flag 0.
    pub fn initial_image(&self, owner_actor: u32) -> Vec<u8> {
        let mut image = vec![0u8; self.bytes()];
        let header = K2kLlHeader {
            tail: 0,
            tail_pad: [0; 120],
            head: 0,
            head_pad: [0; 120],
            capacity: self.capacity,
            words: self.words(),
            magic: K2K_LL_MAGIC,
            owner_actor,
            geometry_pad: [0; 112],
        };
        // SAFETY: the image is at least size_of::<K2kLlHeader>() bytes; the
        // header is plain integers; the write is unaligned-safe.
        unsafe {
            image
                .as_mut_ptr()
                .cast::<K2kLlHeader>()
                .write_unaligned(header)
        };
        image
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_initial_image_has_the_geometry_and_no_valid_flag() {
        let layout = K2kLlLayout::new(16, 64).unwrap();
        assert_eq!(layout.words(), 16);
        assert_eq!(layout.bytes(), 384 + 16 * 128);
        let image = layout.initial_image(3);
        assert_eq!(image.len(), layout.bytes());
        assert_eq!(&image[256..260], &16u32.to_le_bytes());
        assert_eq!(&image[260..264], &16u32.to_le_bytes());
        assert_eq!(&image[264..268], &K2K_LL_MAGIC.to_le_bytes());
        assert_eq!(&image[268..272], &3u32.to_le_bytes());
        // Every flag (the high half of each word) is 0, and position + 1 is
        // never 0 for the positions of the first 2^32 - 1 messages; the
        // word of a later lap carries the previous lap's flag instead.
        for word in image[K2K_LL_SLOTS_OFFSET..].chunks_exact(8) {
            assert_eq!(u64::from_le_bytes(word.try_into().unwrap()) >> 32, 0);
        }
    }

    #[test]
    fn one_slot_is_allowed_and_bad_geometries_are_refused() {
        assert!(K2kLlLayout::new(1, 64).is_ok());
        assert_eq!(K2kLlLayout::new(3, 64), Err(RingError::Capacity(3)));
        assert_eq!(K2kLlLayout::new(4, 96), Err(RingError::SlotSize(96)));
        assert_eq!(K2kLlLayout::new(4, 0), Err(RingError::SlotSize(0)));
    }
}
