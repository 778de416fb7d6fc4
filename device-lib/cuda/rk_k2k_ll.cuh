// rk_k2k_ll.cuh: low-latency (LL) K2K inboxes, one implementation for three
// tiers.
//
// rk_k2k.cuh's inbox publishes a message with a sequence word: the consumer
// acquire-loads it (one trip), then loads the slot (a second, dependent
// trip), and the producer pays a fence for its release. Here every message
// carries its own commit, NCCL's LL encoding: each 8-byte word of a slot
// holds 4 data bytes (low half) and a 4-byte flag (high half) equal to
// (u32)(pos + 1), pos the message's position. An aligned 8-byte store is
// single-copy atomic, so a word whose flag is right carries the data stored
// with it, whatever the order in which the producer's stores land; the
// consumer loads every word of the slot at once (one word per lane, all in
// flight together: ONE memory trip) and has the message exactly when every
// flag is (u32)(pos + 1). No sequence word, no fence on the hop.
//
// Protocol (capacity C, a power of two; 1 is fine, as a slot's flags differ
// from lap to lap; positions are u64 counters):
//   * slot i holds positions i, i + C, i + 2C, ...; its words start with
//     flag 0 (rk_k2k_ll_init, or the host's zeroed image): position + 1 >= 1
//     never matches them, and a word written for position p - C (flag
//     p - C + 1) never matches p + 1, since C < 2^32;
//   * a producer may write position p only when p < head + C (the slot's
//     previous message, p - C, is consumed); it learns `head` from memory
//     only when its cached credit (`free_until` = a head it read + C) runs
//     out, so a producer that keeps up with its consumer never reads it;
//   * single producer (rk_k2k_ll_sp_*): the producer owns the positions;
//     multi-producer (rk_k2k_ll_mp_*): a position is claimed by a CAS on
//     `tail` from pos to pos + 1, tried only when pos < free_until (else
//     head is re-read; still full: the reserve fails, backpressure, never an
//     overwrite). The CAS is relaxed: it only hands out positions; the data
//     is ordered by its own flags and the slot's reuse by `head`;
//   * the producer stores every word of the message: all `words` words of
//     the slot, every time (an inbox has one message size), so no word of a
//     slot is left from an older lap for a later flag to match by wrapping;
//   * the consumer at position h looks at slot h & (C - 1) until every flag
//     is (u32)(h + 1), takes the data, then stores head = h + 1 (relaxed;
//     see rk_k2k_ll_consume for why that is enough).
// So no message is read before all of it is written, and none is
// overwritten before it is consumed (verification/specs/K2kLl.tla: words
// land in any order, the consumer's all-flags check, reuse by credit).
//
// Tiers, by the scope tags of rk_sync.cuh (as rk_k2k.cuh):
//   rk_scope_cta      the inbox is in the consumer block's shared memory;
//                     producers are threads of the same block;
//   rk_scope_cluster  the inbox is in the consumer block's shared memory;
//                     producers in other blocks of the cluster reach it
//                     through rk_cluster_map(inbox, owner_rank) (DSMEM);
//   rk_scope_gpu      the inbox is in global memory (the host's image,
//                     ringkernel_device::k2k::K2kLlLayout).
// The consumer's loads of its own inbox use the state space directly
// (ld.relaxed.<scope>.shared / .global); producers store through generic
// addresses (local or mapped shared memory, or global memory).
//
// What callers must uphold:
//   * one consumer at a time (a thread, or the lanes of one warp looking
//     together); it calls rk_k2k_ll_rx_open once and keeps the rx;
//   * a single-producer inbox has exactly one producer (a thread or the
//     lanes of one warp with the same rk_k2k_ll_sp); never mixed with
//     rk_k2k_ll_mp producers;
//   * a producer that claimed position p writes all `words` words of p
//     without waiting for the consumer in between (the consumer takes
//     positions in order; an unwritten claim stalls every later message);
//   * a shared-memory inbox is set up by its block with rk_k2k_ll_init,
//     then __syncthreads() (cta) or rk_cluster_sync() (cluster) before
//     anyone uses it; a cluster block that owns an inbox must not exit
//     while others may still send to it.
//
// Layout (device or shared memory, 128-byte aligned): rk_k2k_ll_header (384
// bytes), then the slots at RK_K2K_LL_SLOTS_OFFSET: C slots of
// `words` 8-byte words, words = msg_bytes / 4, msg_bytes (the message: an
// rk_envelope_header plus payload) a multiple of 64, so a slot is
// 2 * msg_bytes bytes and starts on a 128-byte line. A 64-byte envelope
// header is 16 words (16 lanes); larger messages take ceil(words / lanes)
// words per lane.
#ifndef RK_K2K_LL_CUH
#define RK_K2K_LL_CUH

#include "rk_types.cuh"
#include "rk_sync.cuh"
#include "rk_envelope.cuh"

#define RK_K2K_LL_MAGIC 0x524B4C4Cu // "RKLL"
#define RK_K2K_LL_SLOTS_OFFSET 384u
// The blocking reserve's __nanosleep backoff: doubles from MIN to MAX.
#define RK_K2K_LL_BACKOFF_MIN_NS 32u
#define RK_K2K_LL_BACKOFF_MAX_NS 1024u

struct alignas(128) rk_k2k_ll_header {
    rk_u64 tail;               // next position to claim: CAS by multi-producers
    rk_u8 tail_pad[120];
    rk_u64 head;               // next position to consume: stored by the consumer only
    rk_u8 head_pad[120];
    rk_u32 capacity;           // slots, a power of two
    rk_u32 words;              // 8-byte words per slot: message bytes / 4, a multiple of 16
    rk_u32 magic;              // RK_K2K_LL_MAGIC
    rk_u32 owner_actor;        // the consuming actor
    rk_u8 geometry_pad[112];
};

RK_ASSERT_SIZE(rk_k2k_ll_header, 384);
RK_ASSERT_OFFSET(rk_k2k_ll_header, tail, 0);
RK_ASSERT_OFFSET(rk_k2k_ll_header, head, 128);
RK_ASSERT_OFFSET(rk_k2k_ll_header, capacity, 256);
RK_ASSERT_OFFSET(rk_k2k_ll_header, words, 260);
RK_ASSERT_OFFSET(rk_k2k_ll_header, magic, 264);
RK_ASSERT_OFFSET(rk_k2k_ll_header, owner_actor, 268);
static_assert(sizeof(rk_k2k_ll_header) == RK_K2K_LL_SLOTS_OFFSET, "the slots follow the header");

// Total bytes of an inbox of `capacity` messages of `msg_bytes` bytes, e.g.
// for `__shared__ alignas(128) rk_u8 box[RK_K2K_LL_BYTES(16, 64)]`.
#define RK_K2K_LL_BYTES(capacity, msg_bytes) \
    (RK_K2K_LL_SLOTS_OFFSET + ((rk_u64)(capacity)) * ((rk_u64)(msg_bytes)) * 2u)

RK_DEVICE rk_u64* rk_k2k_ll_slots_(rk_k2k_ll_header* q) {
    return reinterpret_cast<rk_u64*>(reinterpret_cast<unsigned char*>(q) + RK_K2K_LL_SLOTS_OFFSET);
}

// Lays out an empty inbox at `q`: the header and every word's flag 0.
// Called by every thread of the owning block; the caller then synchronises
// (__syncthreads(), or rk_cluster_sync() when other blocks will send)
// before any party touches the inbox. `capacity` is a power of two,
// `msg_bytes` a multiple of 64, `q` 128-byte aligned with
// RK_K2K_LL_BYTES(capacity, msg_bytes) bytes. (Shared memory starts with
// whatever was there: a stale word could carry a valid-looking flag.)
RK_DEVICE void rk_k2k_ll_init(rk_k2k_ll_header* q, rk_u32 capacity, rk_u32 msg_bytes,
                              rk_u32 owner_actor) {
    const rk_u32 threads = blockDim.x * blockDim.y * blockDim.z;
    const rk_u32 me = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    rk_u64* slots = rk_k2k_ll_slots_(q);
    const rk_u64 total = (rk_u64)capacity * (msg_bytes / 4u);
    for (rk_u64 i = me; i < total; i += threads) {
        slots[i] = 0u;
    }
    if (me == 0u) {
        q->tail = 0u;
        q->head = 0u;
        q->capacity = capacity;
        q->words = msg_bytes / 4u;
        q->magic = RK_K2K_LL_MAGIC;
        q->owner_actor = owner_actor;
    }
}

// An inbox with its geometry read once (for a DSMEM inbox every header read
// is a round trip to the other block).
struct rk_k2k_ll_ref {
    rk_k2k_ll_header* q; // generic address (global, shared, or mapped DSMEM)
    rk_u64* slots;
    rk_u64 mask;         // capacity - 1
    rk_u32 words;        // 8-byte words per slot
};

RK_DEVICE rk_k2k_ll_ref rk_k2k_ll_open(rk_k2k_ll_header* q) {
    rk_k2k_ll_ref r;
    r.q = q;
    r.slots = rk_k2k_ll_slots_(q);
    r.mask = (rk_u64)q->capacity - 1u;
    r.words = q->words;
    return r;
}

// This thread's lane in its warp (%laneid: right for any block shape).
RK_DEVICE rk_u32 rk_k2k_ll_lane_(void) {
    rk_u32 l;
    asm("mov.u32 %0, %%laneid;" : "=r"(l));
    return l;
}

// The lowest lane of `mask`: the one that reads or stores shared words for
// a group of lanes.
RK_DEVICE bool rk_k2k_ll_is_leader_(unsigned mask) {
    return rk_k2k_ll_lane_() == (rk_u32)(__ffs(mask) - 1);
}

// The flag of position `pos`'s words.
RK_DEVICE rk_u32 rk_k2k_ll_flag(rk_u64 pos) { return (rk_u32)(pos + 1u); }

// ---- per-tier accessors the hot path needs beyond rk_sync.cuh ----
//
// own(p): the state-space address of the consumer's own inbox memory;
// load(a): a relaxed 8-byte load at the tier's scope from such an address
// (shared memory for cta/cluster, global for gpu); cas: a relaxed CAS
// through a generic address.
template <class S>
struct rk_k2k_ll_io;

#define RK_K2K_LL_IO(SCOPE_TAG, SCOPE_PTX, SPACE)                                            \
    template <>                                                                              \
    struct rk_k2k_ll_io<SCOPE_TAG> {                                                         \
        static RK_DEVICE rk_u64 own(const void* p) {                                         \
            rk_u64 a;                                                                        \
            asm("cvta.to." SPACE ".u64 %0, %1;" : "=l"(a) : "l"(p));                         \
            return a;                                                                        \
        }                                                                                    \
        static RK_DEVICE rk_u64 load(rk_u64 a) {                                             \
            rk_u64 v;                                                                        \
            asm volatile("ld.relaxed." SCOPE_PTX "." SPACE ".b64 %0, [%1];"                  \
                         : "=l"(v)                                                           \
                         : "l"(a)                                                            \
                         : "memory");                                                        \
            return v;                                                                        \
        }                                                                                    \
        static RK_DEVICE rk_u64 cas(rk_u64* a, rk_u64 expected, rk_u64 desired) {            \
            rk_u64 old;                                                                      \
            asm volatile("atom.relaxed." SCOPE_PTX ".cas.b64 %0, [%1], %2, %3;"              \
                         : "=l"(old)                                                         \
                         : "l"(a), "l"(expected), "l"(desired)                               \
                         : "memory");                                                        \
            return old;                                                                      \
        }                                                                                    \
    };

RK_K2K_LL_IO(rk_scope_cta, "cta", "shared")
RK_K2K_LL_IO(rk_scope_cluster, RK_SCOPE_CLUSTER_PTX, "shared")
RK_K2K_LL_IO(rk_scope_gpu, "gpu", "global")

#undef RK_K2K_LL_IO

// ---- producer side ----

// Stores word `w` (its 4 data bytes) of position `pos`: one relaxed 8-byte
// store, no fence (the flag is the word's own commit).
template <class S = rk_scope_gpu>
RK_DEVICE void rk_k2k_ll_put(const rk_k2k_ll_ref& r, rk_u64 pos, rk_u32 w, rk_u32 data) {
    rk_u64* word = r.slots + (pos & r.mask) * (rk_u64)r.words + w;
    S::st_relaxed(word, ((rk_u64)rk_k2k_ll_flag(pos) << 32) | (rk_u64)data);
}

// Writes the message at `msg` (r.words u32s: the whole slot's worth, every
// time) for position `pos`; thread `lane` of `lanes` writers stores words
// lane, lane + lanes, ... (`lanes` = 1: one thread writes them all).
template <class S = rk_scope_gpu>
RK_DEVICE void rk_k2k_ll_write(const rk_k2k_ll_ref& r, rk_u64 pos, const rk_u32* msg, rk_u32 lane,
                               rk_u32 lanes) {
    for (rk_u32 w = lane; w < r.words; w += lanes) {
        rk_k2k_ll_put<S>(r, pos, w, msg[w]);
    }
}

// A single-producer route: the producer owns the positions and keeps its
// credit in registers. Every lane of a warp producer holds the same copy.
struct rk_k2k_ll_sp {
    rk_k2k_ll_ref r;
    rk_u64 tail;       // the next position (this producer's alone)
    rk_u64 free_until; // positions below this are known free
};

// `tail` is read once: a route opened on a fresh inbox starts at 0.
// (Called by every lane of a warp producer; they read the same words.)
template <class S = rk_scope_gpu>
RK_DEVICE rk_k2k_ll_sp rk_k2k_ll_sp_open(const rk_k2k_ll_ref& r) {
    rk_k2k_ll_sp p;
    p.r = r;
    p.tail = S::ld_relaxed(&r.q->tail);
    p.free_until = S::ld_acquire(&r.q->head) + r.mask + 1u;
    return p;
}

// Claims the next position, or returns false when the inbox is full. The
// lanes of `mask` (a warp producer; one bit for a thread) call it together
// with equal `p`: the lowest lane reads `head` when the credit has run out
// (an acquire: the slot's last reads are ordered before this producer's
// stores), the others take its value, so every copy of `p` stays equal.
template <class S = rk_scope_gpu>
RK_DEVICE bool rk_k2k_ll_sp_reserve(rk_k2k_ll_sp& p, unsigned mask, rk_u64* pos_out) {
    if (p.tail >= p.free_until) {
        const rk_u32 leader = (rk_u32)(__ffs(mask) - 1);
        rk_u64 head = 0u;
        if (rk_k2k_ll_is_leader_(mask)) {
            head = S::ld_acquire(&p.r.q->head);
        }
        head = __shfl_sync(mask, head, leader);
        __syncwarp(mask); // orders the leader's acquire before every lane's stores
        p.free_until = head + p.r.mask + 1u;
        if (p.tail >= p.free_until) {
            return false;
        }
    }
    *pos_out = p.tail;
    p.tail += 1u;
    return true;
}

// rk_k2k_ll_sp_reserve, waiting with backoff while the inbox is full.
template <class S = rk_scope_gpu>
RK_DEVICE rk_u64 rk_k2k_ll_sp_reserve_wait(rk_k2k_ll_sp& p, unsigned mask) {
    rk_u64 pos;
    rk_u32 backoff = RK_K2K_LL_BACKOFF_MIN_NS;
    while (!rk_k2k_ll_sp_reserve<S>(p, mask, &pos)) {
        rk_nanosleep(backoff);
        backoff = backoff < RK_K2K_LL_BACKOFF_MAX_NS ? backoff * 2u : RK_K2K_LL_BACKOFF_MAX_NS;
    }
    return pos;
}

// A multi-producer's view of an inbox (one per producing thread): its
// credit, and its guess of `tail` (one past its own last claim: never above
// the real tail, so a full verdict from it is right, and right in one CAS
// whenever nobody else claimed in between).
struct rk_k2k_ll_mp {
    rk_k2k_ll_ref r;
    rk_u64 tail_guess;
    rk_u64 free_until;
};

template <class S = rk_scope_gpu>
RK_DEVICE rk_k2k_ll_mp rk_k2k_ll_mp_open(const rk_k2k_ll_ref& r) {
    rk_k2k_ll_mp p;
    p.r = r;
    p.tail_guess = 0u;
    p.free_until = S::ld_acquire(&r.q->head) + r.mask + 1u;
    return p;
}

// Claims a position for one thread (Vyukov's reserve, the slot's freedom
// known from the credit instead of a per-slot sequence word): returns false
// when the inbox is full (nothing claimed). Lock-free; any number of
// threads of the scope may call it concurrently, each with its own `p`.
template <class S = rk_scope_gpu>
RK_DEVICE bool rk_k2k_ll_mp_try_reserve(rk_k2k_ll_mp& p, rk_u64* pos_out) {
    rk_u64 pos = p.tail_guess;
    for (;;) {
        if (pos >= p.free_until) {
            // An acquire: the last reads of the slots up to head are ordered
            // before this producer's stores.
            p.free_until = S::ld_acquire(&p.r.q->head) + p.r.mask + 1u;
            if (pos >= p.free_until) {
                p.tail_guess = pos;
                return false; // pos <= tail, so tail - head >= capacity: full
            }
        }
        const rk_u64 found = rk_k2k_ll_io<S>::cas(&p.r.q->tail, pos, pos + 1u);
        if (found == pos) {
            p.tail_guess = pos + 1u;
            *pos_out = pos;
            return true;
        }
        pos = found; // someone else claimed pos: try the real tail
    }
}

// rk_k2k_ll_mp_try_reserve, waiting with backoff while the inbox is full.
template <class S = rk_scope_gpu>
RK_DEVICE rk_u64 rk_k2k_ll_mp_reserve_wait(rk_k2k_ll_mp& p) {
    rk_u64 pos;
    rk_u32 backoff = RK_K2K_LL_BACKOFF_MIN_NS;
    while (!rk_k2k_ll_mp_try_reserve<S>(p, &pos)) {
        rk_nanosleep(backoff);
        backoff = backoff < RK_K2K_LL_BACKOFF_MAX_NS ? backoff * 2u : RK_K2K_LL_BACKOFF_MAX_NS;
    }
    return pos;
}

// A warp producer's claim: the lowest lane of `mask` reserves, every lane
// gets the position (waits with backoff while full). Only the leader's `p`
// is used.
template <class S = rk_scope_gpu>
RK_DEVICE rk_u64 rk_k2k_ll_mp_reserve_wait_sync(rk_k2k_ll_mp& p, unsigned mask) {
    const rk_u32 leader = (rk_u32)(__ffs(mask) - 1);
    rk_u64 pos = 0u;
    if (rk_k2k_ll_is_leader_(mask)) {
        pos = rk_k2k_ll_mp_reserve_wait<S>(p);
    }
    pos = __shfl_sync(mask, pos, leader);
    __syncwarp(mask); // orders the leader's head acquire before every lane's stores
    return pos;
}

// ---- consumer side ----

// The consumer's state: the next position and its slots' state-space
// address. Every lane of a warp consumer holds the same copy.
struct rk_k2k_ll_rx {
    rk_k2k_ll_ref r;
    rk_u64 head;
    rk_u64 own_slots; // rk_k2k_ll_io<S>::own(r.slots)
};

template <class S = rk_scope_gpu>
RK_DEVICE rk_k2k_ll_rx rk_k2k_ll_rx_open(rk_k2k_ll_header* q) {
    rk_k2k_ll_rx rx;
    rx.r = rk_k2k_ll_open(q);
    rx.head = S::ld_relaxed(&q->head);
    rx.own_slots = rk_k2k_ll_io<S>::own(rx.r.slots);
    return rx;
}

// One look at the next message by the lanes of `mask` together: thread
// `lane` of `lanes` loads words lane + k * lanes (k < PER_LANE, below
// rx.r.words; lanes * PER_LANE >= words), every load issued before any is
// used: one memory trip. Returns, in every lane, whether every word's flag
// is the position's; if so, data[k] holds word lane + k * lanes. `lanes` = 1
// with the caller's own bit in `mask`: one thread looks alone.
template <class S, rk_u32 PER_LANE>
RK_DEVICE bool rk_k2k_ll_look(const rk_k2k_ll_rx& rx, rk_u32 lane, rk_u32 lanes, unsigned mask,
                              rk_u32 (&data)[PER_LANE]) {
    const rk_u32 flag = rk_k2k_ll_flag(rx.head);
    const rk_u64 slot = rx.own_slots + (rx.head & rx.r.mask) * (rk_u64)rx.r.words * 8u;
    rk_u64 v[PER_LANE];
#pragma unroll
    for (rk_u32 k = 0; k < PER_LANE; ++k) {
        const rk_u32 w = lane + k * lanes;
        v[k] = w < rx.r.words ? rk_k2k_ll_io<S>::load(slot + 8u * (rk_u64)w) : ((rk_u64)flag << 32);
    }
    bool ok = true;
#pragma unroll
    for (rk_u32 k = 0; k < PER_LANE; ++k) {
        ok = ok && (rk_u32)(v[k] >> 32) == flag;
        data[k] = (rk_u32)v[k];
    }
    return __all_sync(mask, ok);
}

// Frees the looked-at slot after a successful look: every lane advances its
// head; the lowest lane of `mask` stores it.
//
// Why a relaxed store suffices: the store must not let a producer overwrite
// the slot (position head + C) before this consumer's loads of it have
// returned their values. The store is issued after __all_sync, whose result
// depends on every lane's loaded flags: a control dependency from every
// load of the slot to the store. A producer's overwrite is in turn
// dependent on its (acquire) load of that head. An execution in which a
// load of the slot returned the overwrite would make a cycle of
// dependencies and reads-from, which the PTX memory model forbids ("No
// Thin Air", Memory Consistency Model chapter, Axioms): hardware does not
// make a store visible before the loads it depends on have completed. For
// lanes other than the storing one the dependency runs through the vote
// (a warp collective, not a memory operation, which the axiom's dependency
// relation does not name): the same reasoning NCCL's LL protocol relies on
// when it posts its receive head with a volatile store right after its
// flag checks. A release store would instead cost a fence per message.
template <class S = rk_scope_gpu>
RK_DEVICE void rk_k2k_ll_consume(rk_k2k_ll_rx& rx, unsigned mask) {
    rx.head += 1u;
    if (rk_k2k_ll_is_leader_(mask)) {
        S::st_relaxed(&rx.r.q->head, rx.head);
    }
}

// Looks until the next message is complete (spinning), then frees its slot;
// data as rk_k2k_ll_look. Waits forever if nobody sends.
template <class S, rk_u32 PER_LANE>
RK_DEVICE void rk_k2k_ll_recv(rk_k2k_ll_rx& rx, rk_u32 lane, rk_u32 lanes, unsigned mask,
                              rk_u32 (&data)[PER_LANE]) {
    while (!rk_k2k_ll_look<S, PER_LANE>(rx, lane, lanes, mask, data)) {
    }
    rk_k2k_ll_consume<S>(rx, mask);
}

#endif // RK_K2K_LL_CUH
