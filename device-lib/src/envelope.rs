//! The 64-byte envelope header, mirrored from `cuda/rk_envelope.cuh`.
//!
//! Every message on every ring and inbox is one slot: this header followed
//! inline by the payload. The header is the host's only way to pair replies
//! with requests (`correlation_id`), order them (`sequence`, `hlc`) and tell
//! a reply from a dead letter (`flags`), so its layout is pinned on both
//! sides and compared field by field by `tests/layout.rs`.

use core::mem::{align_of, offset_of, size_of};

use crate::hlc::HlcTimestamp;

/// Size of [`EnvelopeHeader`], and the granule every slot size is a
/// multiple of (`RK_ENVELOPE_HEADER_SIZE`).
pub const ENVELOPE_HEADER_SIZE: usize = 64;

/// The actor id that stands for the host (`RK_ACTOR_HOST`).
pub const ACTOR_HOST: u32 = 0xFFFF_FFFF;

/// Envelope flag bits (`RK_ENVELOPE_FLAG_*`).
pub mod flags {
    /// A reply; `correlation_id` echoes the request's.
    pub const REPLY: u32 = 0x1;
    /// The handler faulted on the request: a dead letter.
    pub const FAULT: u32 = 0x2;
    /// A runtime control message, not user payload.
    pub const CONTROL: u32 = 0x4;
    /// The sender expects no reply.
    pub const NO_REPLY: u32 = 0x8;
}

/// `struct rk_envelope_header`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EnvelopeHeader {
    /// Message type id (from the `RingMessage` derive).
    pub type_id: u32,
    /// Payload bytes following the header.
    pub payload_size: u32,
    /// Sending actor ([`ACTOR_HOST`] for the host).
    pub source_actor: u32,
    /// Receiving actor.
    pub dest_actor: u32,
    /// Request/reply pairing; replies echo it.
    pub correlation_id: u64,
    /// Per-sender sequence number.
    pub sequence: u64,
    /// The send timestamp.
    pub hlc: HlcTimestamp,
    /// [`flags`] bits.
    pub flags: u32,
    /// Zero; keeps the header at 64 bytes.
    pub reserved: [u32; 3],
}

const _: () = {
    assert!(size_of::<EnvelopeHeader>() == ENVELOPE_HEADER_SIZE);
    assert!(align_of::<EnvelopeHeader>() == 8);
    assert!(offset_of!(EnvelopeHeader, type_id) == 0);
    assert!(offset_of!(EnvelopeHeader, payload_size) == 4);
    assert!(offset_of!(EnvelopeHeader, source_actor) == 8);
    assert!(offset_of!(EnvelopeHeader, dest_actor) == 12);
    assert!(offset_of!(EnvelopeHeader, correlation_id) == 16);
    assert!(offset_of!(EnvelopeHeader, sequence) == 24);
    assert!(offset_of!(EnvelopeHeader, hlc) == 32);
    assert!(offset_of!(EnvelopeHeader, flags) == 48);
    assert!(offset_of!(EnvelopeHeader, reserved) == 52);
};

impl EnvelopeHeader {
    /// Writes the header into the first 64 bytes of `slot`.
    ///
    /// # Panics
    /// If `slot` is shorter than [`ENVELOPE_HEADER_SIZE`].
    #[inline]
    pub fn write_to(&self, slot: &mut [u8]) {
        let dst = &mut slot[..ENVELOPE_HEADER_SIZE];
        // SAFETY: `dst` is 64 writable bytes and EnvelopeHeader is 64 bytes
        // of plain integers with no padding (see the const assertions);
        // the unaligned write makes no alignment assumption about `slot`.
        unsafe {
            dst.as_mut_ptr()
                .cast::<EnvelopeHeader>()
                .write_unaligned(*self)
        }
    }

    /// Reads a header from the first 64 bytes of `slot`.
    ///
    /// # Panics
    /// If `slot` is shorter than [`ENVELOPE_HEADER_SIZE`].
    #[inline]
    pub fn read_from(slot: &[u8]) -> EnvelopeHeader {
        let src = &slot[..ENVELOPE_HEADER_SIZE];
        // SAFETY: 64 readable bytes; every bit pattern is a valid
        // EnvelopeHeader (plain integers only).
        unsafe { src.as_ptr().cast::<EnvelopeHeader>().read_unaligned() }
    }
}

/// The payload part of a slot: the bytes after the header.
pub fn payload(slot: &[u8]) -> &[u8] {
    &slot[ENVELOPE_HEADER_SIZE..]
}

/// The payload part of a slot, writable.
pub fn payload_mut(slot: &mut [u8]) -> &mut [u8] {
    &mut slot[ENVELOPE_HEADER_SIZE..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_through_unaligned_bytes() {
        let header = EnvelopeHeader {
            type_id: 7,
            payload_size: 12,
            source_actor: ACTOR_HOST,
            dest_actor: 3,
            correlation_id: 0x0102_0304_0506_0708,
            sequence: 99,
            hlc: HlcTimestamp {
                physical_ns: 5,
                logical: 6,
                node: 7,
            },
            flags: flags::REPLY | flags::FAULT,
            reserved: [0; 3],
        };
        let mut buf = [0u8; 129];
        header.write_to(&mut buf[1..]);
        assert_eq!(EnvelopeHeader::read_from(&buf[1..]), header);
        // Little-endian, at the offsets the CUDA side uses.
        assert_eq!(
            &buf[1 + 16..1 + 24],
            &0x0102_0304_0506_0708u64.to_le_bytes()
        );
        assert_eq!(&buf[1 + 48..1 + 52], &3u32.to_le_bytes());
        assert_eq!(payload(&buf[1..]).len(), 128 - 64);
    }
}
