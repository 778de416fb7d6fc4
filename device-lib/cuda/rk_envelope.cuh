// rk_envelope.cuh: the 64-byte envelope header every message carries.
//
// A slot in any ring or inbox is an rk_envelope_header followed inline by the
// payload; the slot size is a multiple of 64 bytes fixed per ring at creation,
// so the payload always starts 64-byte aligned. 64 bytes, not more: the
// header is copied for every message and the 30 M msg/s streaming bar is
// bandwidth-bound. Mirrored by `ringkernel_device::envelope` in Rust.
#ifndef RK_ENVELOPE_CUH
#define RK_ENVELOPE_CUH

#include "rk_types.cuh"

// A hybrid-logical-clock timestamp (see rk_hlc.cuh for the rules). Ordered
// lexicographically by (physical_ns, logical, node).
struct rk_hlc_timestamp {
    rk_u64 physical_ns; // physical component: device %globaltimer + offset, in ns
    rk_u32 logical;     // logical counter within one physical value
    rk_u32 node;        // the issuing actor's node id; breaks ties only
};

RK_ASSERT_SIZE(rk_hlc_timestamp, 16);
RK_ASSERT_OFFSET(rk_hlc_timestamp, physical_ns, 0);
RK_ASSERT_OFFSET(rk_hlc_timestamp, logical, 8);
RK_ASSERT_OFFSET(rk_hlc_timestamp, node, 12);

// Envelope flags.
#define RK_ENVELOPE_FLAG_REPLY       0x1u // a reply; correlation_id echoes the request's
#define RK_ENVELOPE_FLAG_FAULT       0x2u // the handler faulted on the request (dead letter)
#define RK_ENVELOPE_FLAG_CONTROL     0x4u // a runtime control message, not user payload
#define RK_ENVELOPE_FLAG_NO_REPLY    0x8u // the sender expects no reply

struct rk_envelope_header {
    rk_u32 type_id;          // message type id (from the RingMessage derive)
    rk_u32 payload_size;     // payload bytes following the header
    rk_u32 source_actor;     // sending actor id (the host is RK_ACTOR_HOST)
    rk_u32 dest_actor;       // receiving actor id
    rk_u64 correlation_id;   // request/reply pairing; echoed in replies
    rk_u64 sequence;         // per-sender sequence number
    rk_hlc_timestamp hlc;    // send timestamp
    rk_u32 flags;            // RK_ENVELOPE_FLAG_*
    rk_u32 reserved[3];      // zero; keeps the header at 64 bytes
};

// The actor id of the host.
#define RK_ACTOR_HOST 0xFFFFFFFFu
// Header size and the granule every slot size is a multiple of.
#define RK_ENVELOPE_HEADER_SIZE 64u

RK_ASSERT_SIZE(rk_envelope_header, 64);
RK_ASSERT_OFFSET(rk_envelope_header, type_id, 0);
RK_ASSERT_OFFSET(rk_envelope_header, payload_size, 4);
RK_ASSERT_OFFSET(rk_envelope_header, source_actor, 8);
RK_ASSERT_OFFSET(rk_envelope_header, dest_actor, 12);
RK_ASSERT_OFFSET(rk_envelope_header, correlation_id, 16);
RK_ASSERT_OFFSET(rk_envelope_header, sequence, 24);
RK_ASSERT_OFFSET(rk_envelope_header, hlc, 32);
RK_ASSERT_OFFSET(rk_envelope_header, flags, 48);
RK_ASSERT_OFFSET(rk_envelope_header, reserved, 52);
static_assert(alignof(rk_envelope_header) == 8, "rk_envelope_header is 8-byte aligned");

// The payload of the envelope at the start of a slot.
RK_DEVICE unsigned char* rk_envelope_payload(rk_envelope_header* env) {
    return reinterpret_cast<unsigned char*>(env) + RK_ENVELOPE_HEADER_SIZE;
}
RK_DEVICE const unsigned char* rk_envelope_payload_const(const rk_envelope_header* env) {
    return reinterpret_cast<const unsigned char*>(env) + RK_ENVELOPE_HEADER_SIZE;
}

#endif // RK_ENVELOPE_CUH
