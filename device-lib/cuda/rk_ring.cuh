// rk_ring.cuh: the host<->device single-producer single-consumer ring.
//
// Each actor has an inbox (host produces, device consumes) and an outbox
// (device produces, host consumes), both in mapped pinned host memory
// (cuMemHostAlloc with DEVICEMAP), so neither side needs a copy engine.
//
// Protocol (DESIGN.md section 4; the TLA+ spec and the loom tests of the Rust
// half check it):
//   * indices are u64 counters that only grow (they never wrap in practice);
//     the slot of index i is i & (capacity - 1);
//   * one owner per index: only the producer stores `tail`, only the consumer
//     stores `head`, each with a release store at system scope; each reads
//     the other's index with an acquire load at system scope;
//   * the producer writes a slot completely, then publishes it by storing
//     tail + 1; the consumer reads the slot, then frees it by storing
//     head + 1;
//   * tail - head == capacity means full: the producer gets no slot
//     (backpressure) and never overwrites.
//   * flagged copies (ll_words != 0, slots of at most 128 bytes): the host
//     producer also writes each message it publishes on its own (a call,
//     not a batch) as 8-byte words of (4 slot bytes, flag = the message's
//     index + 1, low 32 bits): NCCL's LL encoding. 8-byte accesses are
//     single-copy atomic on both sides, so a consumer that loads every word
//     of slot i's copy and finds every flag (u32)(i + 1) holds the whole
//     message, written completely, after one PCIe round trip, where reading
//     `tail` and then the slot takes two. The producer still stores `tail`
//     after the copy, and the consumer never stores a `head` past the last
//     `tail` it read, so head <= tail holds in memory at all times. The
//     copies sit after the slots, ll_words words per slot.
// head and tail live on separate 128-byte lines so the two writers never
// share a line. Each side keeps its own index and a cached copy of the other
// side's in an rk_ring view (registers, not mapped memory), and re-reads the
// other side's index over PCIe only when the cache says empty/full.
//
// Layout in memory: rk_ring_header (384 bytes), then `capacity` slots of
// `slot_size` bytes each, starting at RK_RING_SLOTS_OFFSET. A slot holds an
// rk_envelope_header followed by its payload.
#ifndef RK_RING_CUH
#define RK_RING_CUH

#include "rk_types.cuh"
#include "rk_sync.cuh"
#include "rk_envelope.cuh"

#define RK_RING_MAGIC 0x524B5247u // "RKRG"
#define RK_RING_VERSION 2u
#define RK_RING_SLOTS_OFFSET 384u

struct alignas(128) rk_ring_header {
    rk_u64 tail;               // published count; stored only by the producer
    rk_u8 tail_pad[120];
    rk_u64 head;               // consumed count; stored only by the consumer
    rk_u8 head_pad[120];
    rk_u32 capacity;           // slots, a power of two; written once by the host before use
    rk_u32 slot_size;          // bytes per slot, a multiple of 64, >= 64
    rk_u32 magic;              // RK_RING_MAGIC once initialised
    rk_u32 version;            // RK_RING_VERSION
    rk_u32 ll_words;           // 8-byte words of each slot's flagged copy (slot_size / 4), or 0
    rk_u8 geometry_pad[108];
};

RK_ASSERT_SIZE(rk_ring_header, 384);
RK_ASSERT_OFFSET(rk_ring_header, tail, 0);
RK_ASSERT_OFFSET(rk_ring_header, head, 128);
RK_ASSERT_OFFSET(rk_ring_header, capacity, 256);
RK_ASSERT_OFFSET(rk_ring_header, slot_size, 260);
RK_ASSERT_OFFSET(rk_ring_header, magic, 264);
RK_ASSERT_OFFSET(rk_ring_header, version, 268);
RK_ASSERT_OFFSET(rk_ring_header, ll_words, 272);
static_assert(alignof(rk_ring_header) == 128, "rk_ring_header is line-aligned");
static_assert(sizeof(rk_ring_header) == RK_RING_SLOTS_OFFSET, "slots follow the header");

// One side's private view of a ring: kept in registers by the thread that
// polls, never shared between threads without a barrier.
struct rk_ring {
    rk_ring_header* header;
    unsigned char* slots;
    rk_u64 index; // own index: head for the consumer, tail for the producer
    rk_u64 other; // last value read of the other side's index
    rk_u32 mask;  // capacity - 1
    rk_u32 slot_size;
};

RK_DEVICE void rk_ring_attach_(rk_ring* r, rk_ring_header* h) {
    r->header = h;
    r->slots = reinterpret_cast<unsigned char*>(h) + RK_RING_SLOTS_OFFSET;
    r->mask = rk_ld_relaxed_sys_u32(&h->capacity) - 1u;
    r->slot_size = rk_ld_relaxed_sys_u32(&h->slot_size);
}

// Attaches as the consumer (the device side of an inbox). Reads the geometry
// and both indices once; may be called again after a relaunch.
RK_DEVICE void rk_ring_attach_consumer(rk_ring* r, rk_ring_header* h) {
    rk_ring_attach_(r, h);
    r->index = rk_ld_acquire_sys_u64(&h->head);
    r->other = rk_ld_acquire_sys_u64(&h->tail);
}

// Attaches as the producer (the device side of an outbox).
RK_DEVICE void rk_ring_attach_producer(rk_ring* r, rk_ring_header* h) {
    rk_ring_attach_(r, h);
    r->index = rk_ld_acquire_sys_u64(&h->tail);
    r->other = rk_ld_acquire_sys_u64(&h->head);
}

// The slot of absolute index `i`.
RK_DEVICE rk_envelope_header* rk_ring_slot(const rk_ring* r, rk_u64 i) {
    return reinterpret_cast<rk_envelope_header*>(
        r->slots + (rk_u64)(i & (rk_u64)r->mask) * (rk_u64)r->slot_size);
}

// ---- consumer side (device reads the inbox) ----

// How many published slots the consumer may read now. Re-reads `tail` (an
// acquire load over PCIe) only when the cached value says the ring is empty.
RK_DEVICE rk_u32 rk_ring_pop_available(rk_ring* r) {
    if (r->other == r->index) {
        r->other = rk_ld_acquire_sys_u64(&r->header->tail);
    }
    return (rk_u32)(r->other - r->index);
}

// The oldest unread slot, or null when the ring is empty. The slot stays
// owned by the consumer until rk_ring_pop_commit.
RK_DEVICE rk_envelope_header* rk_ring_try_pop_begin(rk_ring* r) {
    if (rk_ring_pop_available(r) == 0u) {
        return nullptr;
    }
    return rk_ring_slot(r, r->index);
}

// The i-th unread slot (i < rk_ring_pop_available), for batched draining.
RK_DEVICE rk_envelope_header* rk_ring_pop_slot(const rk_ring* r, rk_u32 i) {
    return rk_ring_slot(r, r->index + i);
}

// Frees the `n` oldest slots with one release store of `head`. Every read of
// those slots (by any thread of the block) must happen before this call;
// when other threads read them, put __syncthreads() in between.
RK_DEVICE void rk_ring_pop_commit_n(rk_ring* r, rk_u32 n) {
    r->index += n;
    rk_st_release_sys_u64(&r->header->head, r->index);
}

RK_DEVICE void rk_ring_pop_commit(rk_ring* r) { rk_ring_pop_commit_n(r, 1u); }

// Slot 0's flagged copy (ll_words words per slot follow the slots), or null
// when the ring has none.
RK_DEVICE const rk_u64* rk_ring_ll_base(const rk_ring_header* h) {
    const rk_u32 words = rk_ld_relaxed_sys_u32(&h->ll_words);
    if (words == 0u) {
        return nullptr;
    }
    const rk_u64 capacity = rk_ld_relaxed_sys_u32(&h->capacity);
    const rk_u64 slot_size = rk_ld_relaxed_sys_u32(&h->slot_size);
    return reinterpret_cast<const rk_u64*>(reinterpret_cast<const unsigned char*>(h) +
                                           RK_RING_SLOTS_OFFSET + capacity * slot_size);
}

// rk_ring_ll_base for the producer, which writes the copies.
RK_DEVICE rk_u64* rk_ring_ll_base_mut(rk_ring_header* h) {
    return const_cast<rk_u64*>(rk_ring_ll_base(h));
}

// Invalidates the flagged copy `copy` of message `i`'s slot, for a producer
// that writes message i to the slot alone (a batch): the copy's first word
// gets the flag (u32)i, which neither message i ((u32)(i + 1)) nor the
// slot's next one, i + capacity, expects. So a copy always holds its slot's
// last message or nothing valid, and a consumer looking at copy i (after it
// took message i - capacity, and so saw that message's copy or invalidation,
// or, the first time round, zeros, which flag 0 only message 2^32 - 1
// expects) finds message i or nothing. Without it, a copy written for
// message k and left stale while batches reuse the slot would pass for
// message k + 2^32 (flags are 32 bits): a stream reaches that in minutes.
RK_DEVICE void rk_ring_ll_invalidate(rk_u64* copy, rk_u64 i) {
    rk_st_relaxed_sys_u64(copy, (rk_u64)(rk_u32)i << 32);
}

// One look at message `i` in its slot's flagged copy `copy`, by the
// `mask` lanes of a warp together: lane w < WORDS loads word w (one 8-byte
// load per lane, all in flight at once: one round trip; a single thread
// issuing the loads one after another is measured ~16x slower, as strong
// loads to system memory do not overlap). Returns, in every lane, whether
// every flag was (u32)(i + 1); if so, lane w has stored the word's 4 data
// bytes at dst + 4w, which then holds the first 4 * WORDS bytes of message
// i as the producer wrote them. Relaxed loads: the flags validate the data
// itself; a caller that reads anything else the producer wrote before (the
// slot) must fence first (acquire pattern).
template <rk_u32 WORDS>
RK_DEVICE bool rk_ring_ll_look(const rk_u64* copy, rk_u64 i, rk_u32 lane, unsigned mask,
                               unsigned char* dst) {
    static_assert(WORDS >= 1u && WORDS <= 32u, "one word per lane of a warp");
    const rk_u64 w = lane < WORDS ? rk_ld_relaxed_sys_u64(copy + lane) : 0u;
    const bool ok = __all_sync(mask, lane >= WORDS || (rk_u32)(w >> 32) == (rk_u32)(i + 1u));
    if (ok && lane < WORDS) {
        *reinterpret_cast<rk_u32*>(dst + 4u * lane) = (rk_u32)w;
    }
    return ok;
}

// ---- producer side (device writes the outbox) ----

// How many free slots the producer may fill now. Re-reads `head` only when
// the cached value says the ring is full.
RK_DEVICE rk_u32 rk_ring_push_space(rk_ring* r) {
    rk_u64 capacity = (rk_u64)r->mask + 1u;
    if (r->index - r->other == capacity) {
        r->other = rk_ld_acquire_sys_u64(&r->header->head);
    }
    return (rk_u32)(capacity - (r->index - r->other));
}

// A free slot to fill, or null when the ring is full (backpressure: the
// caller retries later; nothing is overwritten).
RK_DEVICE rk_envelope_header* rk_ring_try_push_begin(rk_ring* r) {
    if (rk_ring_push_space(r) == 0u) {
        return nullptr;
    }
    return rk_ring_slot(r, r->index);
}

// The i-th free slot (i < rk_ring_push_space), for batched writing.
RK_DEVICE rk_envelope_header* rk_ring_push_slot(const rk_ring* r, rk_u32 i) {
    return rk_ring_slot(r, r->index + i);
}

// Publishes the `n` filled slots with one release store of `tail`. Every
// write to those slots must happen before this call (__syncthreads() first
// when other threads wrote them).
RK_DEVICE void rk_ring_push_commit_n(rk_ring* r, rk_u32 n) {
    r->index += n;
    rk_st_release_sys_u64(&r->header->tail, r->index);
}

RK_DEVICE void rk_ring_push_commit(rk_ring* r) { rk_ring_push_commit_n(r, 1u); }

#endif // RK_RING_CUH
