// rk_actor_io.cuh: part of the actor loop, rk_actor.cuh: copies between mapped host memory and shared memory (staging a batch), the outbox:
// free slots, dead letters, writing a batch's reply envelopes.
// Included by rk_actor.cuh only, in order, after its configuration (RK_ACTOR_K2K,
// the tier, the schedules): the parts are one text, split by topic.
#ifndef RK_ACTOR_IO_CUH
#define RK_ACTOR_IO_CUH
#ifndef RK_ACTOR_CUH
#error "rk_actor_io.cuh is part of rk_actor.cuh: include that"
#endif

// ---- copies between mapped host memory and shared memory ----

// Copies a handler's message (`size` bytes at `src`: its local or shared
// memory) into an envelope's payload at `dst` (16-byte aligned: a slot in
// global memory, this block's shared memory or another block's over
// DSMEM), in the widest words both addresses and the size allow. A memcpy
// here is a byte loop: the send is out of line, so NVVM knows neither the
// size nor the alignment, and 48 bytes copied one at a time cost about a
// microsecond per send (the hop anatomy's handler stage, H100).
RK_INLINE void rk_actor_copy_message(void* dst, const void* src, rk_u32 size) {
    const rk_u64 align = reinterpret_cast<rk_u64>(dst) | reinterpret_cast<rk_u64>(src) | size;
    if ((align & 15u) == 0u) {
        #pragma unroll 4
        for (rk_u32 i = 0u; i < size / 16u; ++i) {
            static_cast<uint4*>(dst)[i] = static_cast<const uint4*>(src)[i];
        }
    } else if ((align & 7u) == 0u) {
        #pragma unroll 4
        for (rk_u32 i = 0u; i < size / 8u; ++i) {
            static_cast<rk_u64*>(dst)[i] = static_cast<const rk_u64*>(src)[i];
        }
    } else if ((align & 3u) == 0u) {
        #pragma unroll 1
        for (rk_u32 i = 0u; i < size / 4u; ++i) {
            static_cast<rk_u32*>(dst)[i] = static_cast<const rk_u32*>(src)[i];
        }
    } else {
        #pragma unroll 1
        for (rk_u32 i = 0u; i < size; ++i) {
            static_cast<rk_u8*>(dst)[i] = static_cast<const rk_u8*>(src)[i];
        }
    }
}

// Starts copying 16 bytes from `src` (mapped or global memory) to `dst`
// (shared memory). sm_80+: cp.async, so every copy of a batch is in flight at
// once without holding registers; older parts load and store. Either way
// rk_actor_copy_wait() completes them. The reads are weak: they are ordered
// after the leader's acquire of the ring's tail by the barrier in between.
RK_INLINE void rk_actor_copy16_async(void* dst, const void* src) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    rk_u64 shared_addr;
    rk_u64 global_addr;
    asm("cvta.to.shared.u64 %0, %1;" : "=l"(shared_addr) : "l"(dst));
    asm("cvta.to.global.u64 %0, %1;" : "=l"(global_addr) : "l"(src));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;"
                 :
                 : "r"((rk_u32)shared_addr), "l"(global_addr)
                 : "memory");
#else
    rk_u32 a, b, c, d;
    asm volatile("ld.relaxed.sys.global.v4.b32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(a), "=r"(b), "=r"(c), "=r"(d)
                 : "l"(src)
                 : "memory");
    rk_u32* out = reinterpret_cast<rk_u32*>(dst);
    out[0] = a;
    out[1] = b;
    out[2] = c;
    out[3] = d;
#endif
}

// Waits for the calling thread's rk_actor_copy16_async copies.
RK_INLINE void rk_actor_copy_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("cp.async.wait_all;" ::: "memory");
#endif
}

// Stages the first `count` published slots of `inbox` into the records
// (S::request): S::in_words 16-byte words each (the header, then the
// payload). Every thread of the block takes every T-th word, so a warp's
// copies cover consecutive bytes of the ring.
template <typename H>
RK_INLINE void rk_actor_stage(const rk_ring* inbox, rk_u32 count) {
    using S = rk_actor_shape<H>;
    using U = rk_actor_unit_of<H>;
    const rk_u32 total = count * S::in_words;
    const rk_u32 threads = U::threads();
    #pragma unroll 1
    for (rk_u32 w = U::tid(); w < total; w += threads) {
        const rk_u32 m = w / S::in_words;
        const rk_u32 o = w - m * S::in_words;
        const unsigned char* src =
            reinterpret_cast<const unsigned char*>(rk_ring_pop_slot(inbox, m)) + 16u * o;
        rk_actor_copy16_async(S::request(m) + 16u * o, src);
    }
    rk_actor_copy_wait();
}

// rk_actor_stage for a batch whose slots are in shared memory (the
// mbarrier inboxes of the block and cluster placements; cp.async reads
// global memory only): copied by the leader alone, the thread whose
// test_wait (acquire) on each slot's full barrier made the producer's
// writes visible, and which arrives on the slot's empty barrier after
// these reads (rk_actor_k2k_release). compute-sanitizer's racecheck sees an
// mbarrier's acquire and release only for the thread that performs them:
// when the unit's threads shared the copy (ordered by the loop's barriers,
// which is right under the memory model), it reported every other
// thread's slot reads as races with the producers' writes (H100, 17:02
// UTC). The unit reads the staged copies after B2, as it reads a host batch.
template <typename H>
RK_INLINE void rk_actor_stage_shared(const rk_ring* inbox, rk_u32 count) {
    using S = rk_actor_shape<H>;
    using U = rk_actor_unit_of<H>;
    if (U::tid() != 0u) {
        return;
    }
    #pragma unroll 1
    for (rk_u32 m = 0u; m < count; ++m) {
        const uint4* src = reinterpret_cast<const uint4*>(rk_ring_pop_slot(inbox, m));
        uint4* dst = reinterpret_cast<uint4*>(S::request(m));
#if RK_ACTOR_K2K_MBAR && RK_ACTOR_K2K_SHARED_INBOX
        // The slot is in this block's shared memory (the consumer's own
        // inbox): LDS.128, not generic loads.
        RK_ACTOR_ASSUME_SHARED(src);
#endif
        #pragma unroll 2
        for (rk_u32 o = 0u; o < S::in_words; ++o) {
            dst[o] = src[o];
        }
    }
}

// ---- the outbox ----

// 16 bytes, for vector copies.
struct alignas(16) rk_actor_u4 {
    rk_u32 x, y, z, w;
};

// Two 8-byte words to system-visible memory in one 16-byte store, each an
// element of its own (single-copy atomic per element, as a flagged copy
// needs: its reader checks every word's flag; `p` 16-byte aligned).
RK_INLINE void rk_actor_st_relaxed_sys_v2(rk_u64* p, rk_u64 a, rk_u64 b) {
    asm volatile("st.relaxed.sys.global.v2.u64 [%0], {%1, %2};" ::"l"(p), "l"(a), "l"(b) : "memory");
}

// Free outbox slots, at least one: re-reads the host's head when fewer
// than `wanted` are known free, and waits (backpressure: the host drains
// the outbox; nothing is overwritten) while there is none.
RK_INLINE rk_u32 rk_actor_outbox_space(rk_actor_leader* l, rk_control_block* cb, rk_u32 wanted) {
    const rk_u64 capacity = (rk_u64)l->outbox.mask + 1u;
    rk_u32 space = (rk_u32)(capacity - (l->outbox.index - l->outbox.other));
    rk_u32 sleep = 32u;
    while (space < wanted) {
        l->outbox.other = rk_ld_acquire_sys_u64(&l->outbox.header->head);
        space = (rk_u32)(capacity - (l->outbox.index - l->outbox.other));
        if (space > 0u) {
            break;
        }
        rk_control_heartbeat(cb, ++l->heartbeat);
        rk_nanosleep(sleep);
        sleep = sleep < RK_ACTOR_MAX_SLEEP_NS ? sleep * 2u : sleep;
    }
    return space;
}

// Dead-letters a request (leader): the original header (correlation id,
// sequence) and `payload_bytes` of payload, flagged FAULT, the reason in
// `reserved`; published at once. `wait`: wait for a free outbox slot
// first; a caller that knows one is free (the loop of a handler that
// replies: its poll took no more messages than free slots, and the faulting
// message's slot is left unused) passes false, and the wait's loop is not
// compiled. The payload is copied in whole 16-byte words (`payload` and
// the slot's payload are 16-byte aligned, and slots are multiples of 64
// bytes, so the last word stays inside both; the host reads
// `payload_size` bytes). Inlined, and called from one place in the loop
// (both reasons, a bad envelope and a handler fault, meet there): out of
// line, the call made ptxas save live registers to the stack in the loop.
static __device__ __forceinline__ void rk_actor_dead_letter(rk_actor_leader* l,
                                                            const rk_actor_desc* d,
                                                            const rk_envelope_header* request,
                                                            const void* payload, rk_u32 payload_bytes,
                                                            rk_u32 kind, rk_u32 line, rk_u32 column,
                                                            bool wait = true) {
    if (wait) {
        rk_actor_outbox_space(l, d->control, 1u);
    }
    rk_envelope_header* slot = rk_ring_push_slot(&l->outbox, 0u);
    rk_u32 room = l->outbox.slot_size - RK_ENVELOPE_HEADER_SIZE;
    rk_u32 bytes = payload_bytes < room ? payload_bytes : room;
    rk_hlc_timestamp t = rk_hlc_send(&l->clock, rk_hlc_physical_now(&l->clock));
    slot->type_id = request->type_id;
    slot->payload_size = bytes;
    slot->source_actor = d->actor_id;
    slot->dest_actor = request->source_actor;
    slot->correlation_id = request->correlation_id;
    slot->sequence = request->sequence;
    slot->hlc = t;
    slot->flags = RK_ENVELOPE_FLAG_FAULT | RK_ENVELOPE_FLAG_REPLY;
    slot->reserved[0] = kind;
    slot->reserved[1] = line;
    slot->reserved[2] = column;
    const rk_actor_u4* in = reinterpret_cast<const rk_actor_u4*>(payload);
    rk_actor_u4* out = reinterpret_cast<rk_actor_u4*>(rk_envelope_payload(slot));
    #pragma unroll 1
    for (rk_u32 w = 0u; w < RK_ACTOR_WORDS(bytes); ++w) {
        out[w] = in[w];
    }
    if (l->out_ll != nullptr) {
        const rk_u64 i = l->outbox.index;
        rk_ring_ll_invalidate(l->out_ll + (i & (rk_u64)l->outbox.mask) * (l->outbox.slot_size / 4u), i);
    }
    rk_control_set_counters(d->control, l->messages_in, l->messages_out);
    rk_ring_push_commit(&l->outbox);
}

// Writes the first `count` reply envelopes of a batch into the outbox's
// free slots. Two passes over shared memory, then one over the slots:
// thread t builds the headers of replies t, t + T, ... from the staged
// requests into the requests' own header words (read just before; a
// request's header is not read again once it is answered: a dead letter is
// the first unanswered message); after a barrier, 16-byte word w of the
// batch's envelopes (header, then the reply the handler left) is stored by
// thread w mod T, so a warp's stores cover 512 consecutive bytes of the
// ring. (Headers stored by the thread that built them, 16 bytes at a slot
// stride, were separate PCIe writes: the 2-thread stream ran at 28-30 M
// msg/s against 32-34 with this, H100, BENCHMARKS.md.) Stamp m is
// (first.l, first.c + m) (when the logical counter would wrap, the
// leader's close stamps replies 1.. again, one by one).
// The flagged copies (`out_ll`, when the outbox has them): a batch's reply
// must not leave its slot's copy looking valid for the index 2^32 later
// (its flag is the index's low 32 bits + 1), so the replies of a batch
// that starts below `copy_until` (rk_actor_leader; the caller passes
// `out_ll` null otherwise) invalidate them (rk_ring_ll_invalidate). Only
// rk_actor_call_one writes copies, and it moves `copy_until` one lap past
// each: every copy is invalidated when a batch first reuses its slot, and
// a stream stores no invalidations after its first lap (one 8-byte PCIe
// write per reply otherwise: 3 % of the 2-thread stream, H100).
template <typename H>
RK_INLINE void rk_actor_write_replies(const rk_actor_desc* d, const rk_ring* outbox, rk_u32 count,
                                      rk_u64 sequence, rk_hlc_timestamp first, rk_u64* out_ll) {
    using S = rk_actor_shape<H>;
    using U = rk_actor_unit_of<H>;
    const rk_u32 tid = U::tid();
    const rk_u32 threads = U::threads();
    #pragma unroll 1
    for (rk_u32 m = tid; m < count; m += threads) {
        rk_actor_u4* record = reinterpret_cast<rk_actor_u4*>(S::request(m));
        const rk_actor_u4 w0 = record[0];
        const rk_actor_u4 w1 = record[1];
        rk_hlc_timestamp t = first;
        t.logical = first.logical + m;
        const rk_u64 seq = sequence + 1u + m;
        rk_actor_u4 h[4];
        h[0].x = d->reply_type_id;
        h[0].y = H::reply_size;
        h[0].z = d->actor_id;
        h[0].w = w0.z; // the request's source
        h[1].x = w1.x; // the request's correlation id
        h[1].y = w1.y;
        h[1].z = (rk_u32)seq;
        h[1].w = (rk_u32)(seq >> 32);
        h[2].x = (rk_u32)t.physical_ns;
        h[2].y = (rk_u32)(t.physical_ns >> 32);
        h[2].z = t.logical;
        h[2].w = t.node;
        h[3].x = RK_ENVELOPE_FLAG_REPLY;
        h[3].y = 0u;
        h[3].z = 0u;
        h[3].w = 0u;
        record[0] = h[0];
        record[1] = h[1];
        record[2] = h[2];
        record[3] = h[3];
        if (out_ll != nullptr) {
            // Written to its slot alone: its flagged copy is not this reply.
            const rk_u64 i = outbox->index + m;
            rk_ring_ll_invalidate(out_ll + (i & (rk_u64)outbox->mask) * (outbox->slot_size / 4u), i);
        }
    }
    U::sync();
    constexpr rk_u32 words = RK_ACTOR_HEADER_WORDS + S::reply_words;
    // Header word o at record + 16o, reply word o - 4 at reply + 16(o - 4).
    constexpr rk_u32 gap = S::reply_offset - RK_ACTOR_HEADER_WORDS * 16u;
    const rk_u32 total = count * words;
    #pragma unroll 1
    for (rk_u32 w = tid; w < total; w += threads) {
        const rk_u32 m = w / words;
        const rk_u32 o = w - m * words;
        const unsigned char* from = S::request(m) + 16u * o + (o < RK_ACTOR_HEADER_WORDS ? 0u : gap);
        reinterpret_cast<rk_actor_u4*>(rk_ring_push_slot(outbox, m))[o] =
            *reinterpret_cast<const rk_actor_u4*>(from);
    }
}

#endif // RK_ACTOR_IO_CUH
