// rk_k2k.cuh: kernel-to-kernel inboxes, one implementation for three tiers.
//
// Many actors may send to one, so a K2K inbox is a bounded multi-producer
// single-consumer queue with a sequence number per slot (Vyukov's bounded
// MPMC queue, specialised to one consumer):
//   * seq[i] starts at i (rk_k2k_init, or the host's initial image);
//   * a producer at position p may take slot p & mask only when
//     seq == p (the slot is free for this lap); it claims p by a CAS on
//     `tail` (rk_k2k_reserve), writes the slot, then release-stores
//     seq = p + 1 (rk_k2k_commit);
//   * seq < p means the slot still belongs to the previous lap (written
//     and not yet consumed, or still being written): the queue is full and
//     reserve fails (backpressure, never an overwrite);
//   * the consumer at position h reads the slot only once it acquire-loads
//     seq == h + 1 (written and committed), then release-stores
//     seq = h + capacity to hand the slot to the next lap's producer.
// So no slot is read before it is written and none is overwritten before it
// is consumed (verification/specs/K2kInbox.tla; capacity >= 2).
//
// Tiers. Every function is a template over a scope tag of rk_sync.cuh,
// which fixes the scope of every acquire, release and CAS:
//   rk_scope_cta      the inbox is in the consumer block's shared memory;
//                     producers are threads of the same block (warp actors);
//   rk_scope_cluster  the inbox is in the consumer block's shared memory;
//                     producers are in any block of the same thread-block
//                     cluster and reach it through
//                     rk_cluster_map(inbox, owner_rank) (DSMEM);
//   rk_scope_gpu      the inbox is in global memory; producers anywhere on
//                     the device. The default: the un-parameterised names
//                     (rk_k2k_reserve(q, &pos), ...) are the gpu instances.
// All parties of one inbox must use the same scope. A shared-memory inbox
// is set up by its block with rk_k2k_init, followed by __syncthreads()
// (cta) or rk_cluster_sync() (cluster) before anyone uses it; a cluster
// block that owns an inbox must not exit while others may still send to it.
//
// What callers of reserve must uphold (and nothing more):
//   * any number of threads, in any warps or blocks within the scope, may
//     reserve concurrently (the CAS loop is lock-free; sm_70's independent
//     thread scheduling lets lanes of one warp contend);
//   * a thread that reserved position p must see to it that the slot is
//     written and then committed (rk_k2k_commit, by it or by a thread its
//     writes are ordered before, e.g. after __syncwarp), without waiting
//     for the consumer in between: the consumer takes slots in position
//     order, so an uncommitted reservation stalls every later message;
//   * exactly one thread at a time is the consumer (the owner's polling
//     thread); threads that read the slots it takes must be ordered after
//     its consume_begin (a barrier) and before its consume_commit.
//
// Layout (device or shared memory, 128-byte aligned): rk_k2k_header (384
// bytes), the seq array (capacity u64s, padded to 128 bytes), then the
// slots (rk_k2k_slots_offset(capacity)). Each slot is an
// rk_envelope_header plus payload, slot_size bytes, a multiple of 64.
#ifndef RK_K2K_CUH
#define RK_K2K_CUH

#include "rk_types.cuh"
#include "rk_sync.cuh"
#include "rk_envelope.cuh"

#define RK_K2K_MAGIC 0x524B4B32u // "RKK2"
#define RK_K2K_SEQ_OFFSET 384u
// The blocking send's __nanosleep backoff: doubles from MIN to MAX.
#define RK_K2K_BACKOFF_MIN_NS 32u
#define RK_K2K_BACKOFF_MAX_NS 1024u

struct alignas(128) rk_k2k_header {
    rk_u64 tail;               // next position to reserve; CAS by producers
    rk_u8 tail_pad[120];
    rk_u64 head;               // next position to consume; stored by the consumer only
    rk_u8 head_pad[120];
    rk_u32 capacity;           // slots, a power of two
    rk_u32 slot_size;          // bytes per slot, a multiple of 64
    rk_u32 magic;              // RK_K2K_MAGIC
    rk_u32 owner_actor;        // the consuming actor
    rk_u8 geometry_pad[112];
};

RK_ASSERT_SIZE(rk_k2k_header, 384);
RK_ASSERT_OFFSET(rk_k2k_header, tail, 0);
RK_ASSERT_OFFSET(rk_k2k_header, head, 128);
RK_ASSERT_OFFSET(rk_k2k_header, capacity, 256);
RK_ASSERT_OFFSET(rk_k2k_header, slot_size, 260);
RK_ASSERT_OFFSET(rk_k2k_header, magic, 264);
RK_ASSERT_OFFSET(rk_k2k_header, owner_actor, 268);
static_assert(sizeof(rk_k2k_header) == RK_K2K_SEQ_OFFSET, "seq array follows the header");

// Byte offset of the first slot for a queue of `capacity` slots: the seq
// array, padded to a whole line. (A macro so static_asserts and __shared__
// array sizes can use it.)
#define RK_K2K_SLOTS_OFFSET(capacity) \
    (RK_K2K_SEQ_OFFSET + ((((rk_u64)(capacity)) * 8u + (RK_LINE - 1u)) & ~(rk_u64)(RK_LINE - 1u)))
// Total bytes of an inbox, e.g. for `__shared__ alignas(128) rk_u8
// box[RK_K2K_BYTES(256, 64)]`.
#define RK_K2K_BYTES(capacity, slot_size) \
    (RK_K2K_SLOTS_OFFSET(capacity) + ((rk_u64)(capacity)) * ((rk_u64)(slot_size)))

RK_DEVICE rk_u64 rk_k2k_slots_offset(rk_u32 capacity) { return RK_K2K_SLOTS_OFFSET(capacity); }

RK_DEVICE rk_u64* rk_k2k_seq_(rk_k2k_header* q) {
    return reinterpret_cast<rk_u64*>(reinterpret_cast<unsigned char*>(q) + RK_K2K_SEQ_OFFSET);
}

// Lays out an empty inbox at `q`: the header, seq[i] = i. Called by every
// thread of the owning block (they share the seq array); the caller then
// synchronises (__syncthreads(), or rk_cluster_sync() when other blocks
// will send) before any party touches the inbox. `capacity` is a power of
// two >= 2, `slot_size` a multiple of 64, and `q` 128-byte aligned with
// RK_K2K_BYTES(capacity, slot_size) bytes. Slots are not cleared.
RK_DEVICE void rk_k2k_init(rk_k2k_header* q, rk_u32 capacity, rk_u32 slot_size, rk_u32 owner_actor) {
    const rk_u32 threads = blockDim.x * blockDim.y * blockDim.z;
    const rk_u32 me = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    rk_u64* seq = rk_k2k_seq_(q);
    for (rk_u32 i = me; i < capacity; i += threads) {
        seq[i] = i;
    }
    if (me == 0u) {
        q->tail = 0u;
        q->head = 0u;
        q->capacity = capacity;
        q->slot_size = slot_size;
        q->magic = RK_K2K_MAGIC;
        q->owner_actor = owner_actor;
    }
}

// An inbox with its geometry read once: what a sender keeps per route (the
// geometry never changes after init, and for a DSMEM inbox every header
// read is a round trip to the other block).
struct rk_k2k_ref {
    rk_k2k_header* q;      // generic address (global, shared, or mapped DSMEM)
    rk_u64* seq;
    unsigned char* slots;
    rk_u64 mask;           // capacity - 1
    rk_u32 slot_size;
};

RK_DEVICE rk_k2k_ref rk_k2k_open(rk_k2k_header* q) {
    rk_k2k_ref r;
    const rk_u32 capacity = q->capacity;
    r.q = q;
    r.seq = rk_k2k_seq_(q);
    r.slots = reinterpret_cast<unsigned char*>(q) + rk_k2k_slots_offset(capacity);
    r.mask = (rk_u64)capacity - 1u;
    r.slot_size = q->slot_size;
    return r;
}

// The slot of position `pos`.
RK_DEVICE rk_envelope_header* rk_k2k_slot(const rk_k2k_ref& r, rk_u64 pos) {
    return reinterpret_cast<rk_envelope_header*>(r.slots + (pos & r.mask) * (rk_u64)r.slot_size);
}
RK_DEVICE rk_envelope_header* rk_k2k_slot(rk_k2k_header* q, rk_u64 pos) {
    return rk_k2k_slot(rk_k2k_open(q), pos);
}

// Claims a slot for writing. On success stores the position in *pos_out and
// returns true; returns false when the queue is full (nothing was claimed).
template <class S = rk_scope_gpu>
RK_DEVICE bool rk_k2k_reserve(const rk_k2k_ref& r, rk_u64* pos_out) {
    rk_u64 pos = S::ld_relaxed(&r.q->tail);
    for (;;) {
        const rk_u64 s = S::ld_acquire(&r.seq[pos & r.mask]);
        const long long dif = (long long)(s - pos);
        if (dif == 0) {
            const rk_u64 found = S::cas_acq_rel(&r.q->tail, pos, pos + 1u);
            if (found == pos) {
                *pos_out = pos;
                return true;
            }
            pos = found;
        } else if (dif < 0) {
            return false; // the slot still holds the previous lap's message
        } else {
            pos = S::ld_relaxed(&r.q->tail); // another producer took pos
        }
    }
}
template <class S = rk_scope_gpu>
RK_DEVICE bool rk_k2k_reserve(rk_k2k_header* q, rk_u64* pos_out) {
    return rk_k2k_reserve<S>(rk_k2k_open(q), pos_out);
}

// Reserves, waiting while the queue is full with a __nanosleep backoff
// (RK_K2K_BACKOFF_MIN_NS doubling to RK_K2K_BACKOFF_MAX_NS). Returns the
// position. Waits forever if the consumer never frees a slot.
template <class S = rk_scope_gpu>
RK_DEVICE rk_u64 rk_k2k_reserve_wait(const rk_k2k_ref& r) {
    rk_u64 pos;
    rk_u32 backoff = RK_K2K_BACKOFF_MIN_NS;
    while (!rk_k2k_reserve<S>(r, &pos)) {
        rk_nanosleep(backoff);
        backoff = backoff < RK_K2K_BACKOFF_MAX_NS ? backoff * 2u : RK_K2K_BACKOFF_MAX_NS;
    }
    return pos;
}

// Publishes the slot reserved at `pos` (every write to it must precede this).
template <class S = rk_scope_gpu>
RK_DEVICE void rk_k2k_commit(const rk_k2k_ref& r, rk_u64 pos) {
    S::st_release(&r.seq[pos & r.mask], pos + 1u);
}
template <class S = rk_scope_gpu>
RK_DEVICE void rk_k2k_commit(rk_k2k_header* q, rk_u64 pos) {
    rk_k2k_commit<S>(rk_k2k_open(q), pos);
}

// What a send did.
enum rk_k2k_send_status : rk_u32 {
    RK_K2K_FULL = 0u,      // no slot free: nothing was written (retry later)
    RK_K2K_SENT = 1u,      // written and committed
    RK_K2K_TOO_LARGE = 2u, // header->payload_size exceeds the slot: nothing was written
};

// Copies `bytes` bytes (16-byte words when both ends and the length allow).
RK_DEVICE void rk_k2k_copy_(unsigned char* dst, const unsigned char* src, rk_u32 bytes) {
    if (((reinterpret_cast<rk_u64>(dst) | reinterpret_cast<rk_u64>(src) | bytes) & 15u) == 0u) {
        uint4* d = reinterpret_cast<uint4*>(dst);
        const uint4* s = reinterpret_cast<const uint4*>(src);
        for (rk_u32 i = 0; i < bytes / 16u; ++i) {
            d[i] = s[i];
        }
    } else {
        for (rk_u32 i = 0; i < bytes; ++i) {
            dst[i] = src[i];
        }
    }
}

RK_DEVICE void rk_k2k_write_(const rk_k2k_ref& r, rk_u64 pos, const rk_envelope_header* header,
                             const void* payload) {
    rk_envelope_header* slot = rk_k2k_slot(r, pos);
    *slot = *header;
    rk_k2k_copy_(rk_envelope_payload(slot), static_cast<const unsigned char*>(payload),
                 header->payload_size);
}

// One thread sends an envelope: `header` (its payload_size says how many
// bytes of `payload` follow) into a free slot, committed. Returns
// RK_K2K_FULL without writing anything when the inbox is full.
template <class S = rk_scope_gpu>
RK_DEVICE rk_k2k_send_status rk_k2k_try_send(const rk_k2k_ref& r, const rk_envelope_header* header,
                                             const void* payload) {
    if (header->payload_size > r.slot_size - RK_ENVELOPE_HEADER_SIZE) {
        return RK_K2K_TOO_LARGE;
    }
    rk_u64 pos;
    if (!rk_k2k_reserve<S>(r, &pos)) {
        return RK_K2K_FULL;
    }
    rk_k2k_write_(r, pos, header, payload);
    rk_k2k_commit<S>(r, pos);
    return RK_K2K_SENT;
}

// As rk_k2k_try_send, but waits (with backoff) while the inbox is full:
// returns RK_K2K_SENT, or RK_K2K_TOO_LARGE at once.
template <class S = rk_scope_gpu>
RK_DEVICE rk_k2k_send_status rk_k2k_send(const rk_k2k_ref& r, const rk_envelope_header* header,
                                         const void* payload) {
    if (header->payload_size > r.slot_size - RK_ENVELOPE_HEADER_SIZE) {
        return RK_K2K_TOO_LARGE;
    }
    const rk_u64 pos = rk_k2k_reserve_wait<S>(r);
    rk_k2k_write_(r, pos, header, payload);
    rk_k2k_commit<S>(r, pos);
    return RK_K2K_SENT;
}

// The consumer's next message, or null when none is committed yet; the
// position goes to *pos_out. Only the owning actor's polling thread calls it.
template <class S = rk_scope_gpu>
RK_DEVICE rk_envelope_header* rk_k2k_try_consume_begin(const rk_k2k_ref& r, rk_u64* pos_out) {
    const rk_u64 pos = S::ld_relaxed(&r.q->head);
    const rk_u64 s = S::ld_acquire(&r.seq[pos & r.mask]);
    if (s != pos + 1u) {
        return nullptr;
    }
    *pos_out = pos;
    return rk_k2k_slot(r, pos);
}
template <class S = rk_scope_gpu>
RK_DEVICE rk_envelope_header* rk_k2k_try_consume_begin(rk_k2k_header* q, rk_u64* pos_out) {
    return rk_k2k_try_consume_begin<S>(rk_k2k_open(q), pos_out);
}

// Frees the slot at `pos` for the next lap (after every read of it).
template <class S = rk_scope_gpu>
RK_DEVICE void rk_k2k_consume_commit(const rk_k2k_ref& r, rk_u64 pos) {
    S::st_release(&r.seq[pos & r.mask], pos + r.mask + 1u);
    // Release too: a single-producer route learns free slots from `head`
    // (rk_k2k_sp_reserve), so every read of the slot must precede it.
    S::st_release(&r.q->head, pos + 1u);
}
template <class S = rk_scope_gpu>
RK_DEVICE void rk_k2k_consume_commit(rk_k2k_header* q, rk_u64 pos) {
    rk_k2k_consume_commit<S>(rk_k2k_open(q), pos);
}

// Up to `max` consecutive committed messages from the head: returns how
// many (0 when the head's slot is not committed yet) and their first
// position in *pos_out; the i-th is rk_k2k_slot(r, *pos_out + i). The batch
// ends at the first uncommitted slot, so a slow producer delays only the
// messages after its own. Only the polling thread calls it.
template <class S = rk_scope_gpu>
RK_DEVICE rk_u32 rk_k2k_consume_batch_begin(const rk_k2k_ref& r, rk_u32 max, rk_u64* pos_out) {
    const rk_u64 pos = S::ld_relaxed(&r.q->head);
    rk_u32 n = 0;
    while (n < max && S::ld_acquire(&r.seq[(pos + n) & r.mask]) == pos + n + 1u) {
        ++n;
    }
    *pos_out = pos;
    return n;
}

// Frees the `n` slots from `pos` (after every read of them).
template <class S = rk_scope_gpu>
RK_DEVICE void rk_k2k_consume_batch_commit(const rk_k2k_ref& r, rk_u64 pos, rk_u32 n) {
    for (rk_u32 i = 0; i < n; ++i) {
        S::st_release(&r.seq[(pos + i) & r.mask], pos + i + r.mask + 1u);
    }
    S::st_release(&r.q->head, pos + n); // see rk_k2k_consume_commit
}

// ---- single-producer routes ----
//
// When one sender is the only producer of an inbox (a route the host knows
// nobody else shares), it needs neither the tail CAS nor a sequence load
// per message: it owns the tail, and it learns which slots are free from
// the consumer's `head` (stored with release after every read of a slot),
// reading it only when its credit runs out. A send is then the slot's
// writes and one release store of its sequence word. Never mix with other
// producers on the same inbox.
struct rk_k2k_sp {
    rk_k2k_ref r;
    rk_u64 tail;       // the next position (this producer's alone)
    rk_u64 free_until; // positions below this are known free
};

template <class S = rk_scope_gpu>
RK_DEVICE rk_k2k_sp rk_k2k_sp_open(const rk_k2k_ref& r) {
    rk_k2k_sp p;
    p.r = r;
    p.tail = S::ld_relaxed(&r.q->tail);
    p.free_until = S::ld_acquire(&r.q->head) + r.mask + 1u;
    return p;
}

// Claims the next slot, or returns false when the inbox is full.
template <class S = rk_scope_gpu>
RK_DEVICE bool rk_k2k_sp_reserve(rk_k2k_sp& p, rk_u64* pos_out) {
    if (p.tail >= p.free_until) {
        p.free_until = S::ld_acquire(&p.r.q->head) + p.r.mask + 1u;
        if (p.tail >= p.free_until) {
            return false;
        }
    }
    *pos_out = p.tail;
    p.tail += 1u;
    S::st_relaxed(&p.r.q->tail, p.tail); // for observers (closing); nobody CASes it
    return true;
}

// rk_k2k_sp_reserve, waiting with backoff while the inbox is full.
template <class S = rk_scope_gpu>
RK_DEVICE rk_u64 rk_k2k_sp_reserve_wait(rk_k2k_sp& p) {
    rk_u64 pos;
    rk_u32 backoff = RK_K2K_BACKOFF_MIN_NS;
    while (!rk_k2k_sp_reserve<S>(p, &pos)) {
        rk_nanosleep(backoff);
        backoff = backoff < RK_K2K_BACKOFF_MAX_NS ? backoff * 2u : RK_K2K_BACKOFF_MAX_NS;
    }
    return pos;
}

// ---- a consumer that keeps its head (rk_k2k_rx_*) ----
//
// rk_k2k_try_consume_begin reads `head` from memory on every poll and only
// then knows which sequence word to load: two dependent trips, through a
// generic address. The consumer is head's only writer, so it can keep head
// in a register and poll the one sequence word, loaded through its own
// state space (ld.acquire.<scope>.shared for the cta and cluster tiers: an
// LDS, plus an L1 invalidate at cluster scope, instead of a generic strong
// load). Same protocol, same guarantees: the acquire of seq == head + 1
// orders the slot's reads after the producer's commit, and
// rk_k2k_rx_commit's fence orders them before the slot is handed back.
// Never mix with rk_k2k_try_consume_begin on the same inbox (the cached
// head would go stale).

// own(p): the state-space address of the consumer's own inbox memory;
// ld_acquire(a): an acquire 8-byte load at the tier's scope from such an
// address (shared memory for cta/cluster, global for gpu).
template <class S>
struct rk_k2k_own_io;

#define RK_K2K_OWN_IO(SCOPE_TAG, SCOPE_PTX, SPACE)                                           \
    template <>                                                                              \
    struct rk_k2k_own_io<SCOPE_TAG> {                                                        \
        static RK_DEVICE rk_u64 own(const void* p) {                                         \
            rk_u64 a;                                                                        \
            asm("cvta.to." SPACE ".u64 %0, %1;" : "=l"(a) : "l"(p));                         \
            return a;                                                                        \
        }                                                                                    \
        static RK_DEVICE rk_u64 ld_acquire(rk_u64 a) {                                       \
            rk_u64 v;                                                                        \
            asm volatile("ld.acquire." SCOPE_PTX "." SPACE ".b64 %0, [%1];"                  \
                         : "=l"(v)                                                           \
                         : "l"(a)                                                            \
                         : "memory");                                                        \
            return v;                                                                        \
        }                                                                                    \
    };

RK_K2K_OWN_IO(rk_scope_cta, "cta", "shared")
RK_K2K_OWN_IO(rk_scope_cluster, RK_SCOPE_CLUSTER_PTX, "shared")
RK_K2K_OWN_IO(rk_scope_gpu, "gpu", "global")

#undef RK_K2K_OWN_IO

struct rk_k2k_rx {
    rk_k2k_ref r;
    rk_u64 head;    // the next position to consume (this consumer's alone)
    rk_u64 own_seq; // rk_k2k_own_io<S>::own(r.seq)
};

// Opens the consumer's own inbox `q` (a generic address of the owning
// block's shared memory, or of global memory for the gpu tier).
template <class S = rk_scope_gpu>
RK_DEVICE rk_k2k_rx rk_k2k_rx_open(rk_k2k_header* q) {
    rk_k2k_rx rx;
    rx.r = rk_k2k_open(q);
    rx.head = S::ld_relaxed(&q->head);
    rx.own_seq = rk_k2k_own_io<S>::own(rx.r.seq);
    return rx;
}

// The next message (committed), or null: one acquire load of its sequence
// word. The slot stays the consumer's until rk_k2k_rx_commit.
template <class S = rk_scope_gpu>
RK_DEVICE rk_envelope_header* rk_k2k_rx_try_begin(const rk_k2k_rx& rx) {
    const rk_u64 s = rk_k2k_own_io<S>::ld_acquire(rx.own_seq + 8u * (rx.head & rx.r.mask));
    return s == rx.head + 1u ? rk_k2k_slot(rx.r, rx.head) : nullptr;
}

// Frees the slot taken by the last successful rk_k2k_rx_try_begin (after
// every read of it): one fence, then the sequence word for the next lap
// (multi-producer reserves) and `head` (single-producer routes' credit),
// both relaxed: the fence makes them a release pattern (PTX memory model),
// one fence instead of two release stores. A caller that replies to the
// message may send first and commit after (as the actor loop releases its
// batch after the handlers): the slot is not reused before the commit.
template <class S = rk_scope_gpu>
RK_DEVICE void rk_k2k_rx_commit(rk_k2k_rx& rx) {
    S::fence_acq_rel();
    S::st_relaxed(&rx.r.seq[rx.head & rx.r.mask], rx.head + rx.r.mask + 1u);
    rx.head += 1u;
    S::st_relaxed(&rx.r.q->head, rx.head);
}

// ---- multi-producer reserve from a guess (rk_k2k_mp_*) ----
//
// rk_k2k_reserve reads `tail`, then the sequence word of that position,
// then CASes tail: three dependent trips (each a DSMEM round trip in the
// cluster tier), the CAS acq_rel (a fence). Here each producer keeps its
// guess of tail, one past its own last claim (tail only grows, so the guess
// is never above it), and starts there: the same Vyukov reserve (seq == pos:
// free for this lap; seq < pos: full; seq > pos: someone else took pos, so
// read the real tail), so the same protocol (K2kInbox.tla), in two trips
// when nobody else claimed in between. The CAS is relaxed: the acquire load
// of seq == pos already orders this producer's slot writes after the
// consumer's reads of the previous lap; the CAS only hands out positions.
// Why a full verdict is right: seq < pos with pos <= tail means pos == tail
// (every position below tail was claimed, which needed its slot's seq to
// reach it, and seq never decreases).
struct rk_k2k_mp {
    rk_k2k_ref r;
    rk_u64 tail_guess;
};

template <class S = rk_scope_gpu>
RK_DEVICE rk_k2k_mp rk_k2k_mp_open(const rk_k2k_ref& r) {
    rk_k2k_mp p;
    p.r = r;
    p.tail_guess = 0u; // never above tail; the first reserve finds the real one
    return p;
}

// Claims a slot of `r`, starting at *guess, or returns false when the
// inbox is full (nothing claimed); updates *guess either way. For a
// producer that keeps its guess elsewhere (the actor loop: one per port).
template <class S = rk_scope_gpu>
RK_DEVICE bool rk_k2k_mp_try_reserve(const rk_k2k_ref& r, rk_u64* guess, rk_u64* pos_out) {
    rk_u64 pos = *guess;
    for (;;) {
        const rk_u64 s = S::ld_acquire(&r.seq[pos & r.mask]);
        const long long dif = (long long)(s - pos);
        if (dif == 0) {
            const rk_u64 found = S::cas_relaxed(&r.q->tail, pos, pos + 1u);
            if (found == pos) {
                *guess = pos + 1u;
                *pos_out = pos;
                return true;
            }
            pos = found;
        } else if (dif < 0) {
            *guess = pos;
            return false; // the slot still holds the previous lap's message
        } else {
            pos = S::ld_relaxed(&r.q->tail); // another producer took pos
        }
    }
}

// Claims a slot, or returns false when the inbox is full (nothing claimed).
template <class S = rk_scope_gpu>
RK_DEVICE bool rk_k2k_mp_try_reserve(rk_k2k_mp& p, rk_u64* pos_out) {
    return rk_k2k_mp_try_reserve<S>(p.r, &p.tail_guess, pos_out);
}

// rk_k2k_mp_try_reserve, waiting with backoff while the inbox is full.
template <class S = rk_scope_gpu>
RK_DEVICE rk_u64 rk_k2k_mp_reserve_wait(rk_k2k_mp& p) {
    rk_u64 pos;
    rk_u32 backoff = RK_K2K_BACKOFF_MIN_NS;
    while (!rk_k2k_mp_try_reserve<S>(p, &pos)) {
        rk_nanosleep(backoff);
        backoff = backoff < RK_K2K_BACKOFF_MAX_NS ? backoff * 2u : RK_K2K_BACKOFF_MAX_NS;
    }
    return pos;
}

// ---- the credit claim (the actor loop's global-tier inboxes) ----
//
// rk_k2k_mp_try_reserve learns that a slot is free from its sequence word
// (seq == pos, stored by the consumer when it freed the slot): an acquire
// load of that word, then the CAS on tail, two dependent round trips to L2
// on every send (the actor hop's "route and claim" stage, ~740 ns on an
// H200). Here a slot is known free by a credit instead, as
// rk_k2k_mbar_mp_try_claim does it: free_until = a head read (acquire) +
// capacity, so every position below it has had its previous lap consumed
// and released. A producer below its credit claims with the CAS alone (one
// trip) and reads head only when the credit runs out. The consumer never
// rewrites seq: it takes position h when seq[h & mask] == h + 1 (the
// commit, rk_k2k_commit; the previous lap's h - C + 1 never equals it, and
// the next lap's commit waits for the credit this consumer gives by
// storing head), and it frees slots by a fence and then storing head
// (rk_k2k_credit_release): the release pattern the producer's acquire of
// head pairs with, so its writes of the next lap follow the consumer's
// reads. The sequence words start at seq[i] = i (rk_k2k_init, the host's
// image), which no position's commit value i + 1 matches.
//
// Closing (the actor loop's inboxes): bit 63 of tail (RK_K2K_CLOSED_BIT).
// The consumer CASes tail from its head to head | bit, which succeeds only
// when nothing is claimed past head; a claim CASes an open position, so
// none succeeds after, and the CAS's failure returns the bit: the claim
// says CLOSED, apart from FULL. Modelled in verification/specs/K2kClose.tla
// (CreditClaim: the claim, the release by head alone, no write before the
// slot's credit).
//
// Not to be mixed with rk_k2k_reserve / rk_k2k_mp producers, nor with
// rk_k2k_consume_*: those take seq == pos as the mark of a free slot, which
// this protocol's consumer never stores.

// Bit 63 of a credit inbox's tail: the consumer has closed it.
#define RK_K2K_CLOSED_BIT 0x8000000000000000ull

// What a credit claim came to (rk_k2k_credit_try_claim): the values of
// rk_k2k_mbar.cuh's RK_K2K_MBAR_CLAIMED / _FULL / _CLOSED.
#define RK_K2K_CREDIT_CLAIMED 0u // a position is held: store the message, commit
#define RK_K2K_CREDIT_FULL 1u    // capacity positions are claimed past head: nothing claimed
#define RK_K2K_CREDIT_CLOSED 2u  // the consumer closed the inbox: nothing claimed, ever

// One producer's claim state for one inbox: one past its last claim (never
// above tail, never with the closed bit) and its credit (positions below
// free_until are free; 0: read head first).
struct rk_k2k_credit {
    rk_k2k_ref r;
    rk_u64 tail_guess;
    rk_u64 free_until;
};

// Claims a position (lock-free; any number of producer threads, each with
// its own `p`): RK_K2K_CREDIT_CLAIMED with *pos_out (the slot is free: the
// caller stores the message and commits it with rk_k2k_commit), or
// RK_K2K_CREDIT_FULL / RK_K2K_CREDIT_CLOSED with nothing claimed.
template <class S = rk_scope_gpu>
RK_DEVICE rk_u32 rk_k2k_credit_try_claim(rk_k2k_credit& p, rk_u64* pos_out) {
    rk_u64 pos = p.tail_guess;
    for (;;) {
        if (pos >= p.free_until) {
            p.free_until = S::ld_acquire(&p.r.q->head) + p.r.mask + 1u;
            if (pos >= p.free_until) {
                p.tail_guess = pos;
                return RK_K2K_CREDIT_FULL; // pos <= tail, so tail - head >= capacity
            }
        }
        const rk_u64 found = S::cas_relaxed(&p.r.q->tail, pos, pos + 1u);
        if (found == pos) {
            break;
        }
        if (found & RK_K2K_CLOSED_BIT) {
            p.tail_guess = pos;
            return RK_K2K_CREDIT_CLOSED;
        }
        pos = found; // someone else claimed pos: try the real tail
    }
    p.tail_guess = pos + 1u;
    *pos_out = pos;
    return RK_K2K_CREDIT_CLAIMED;
}

// The sole producer's claim (the inbox's only producer thread: a route
// the host wired alone into it, RK_ROUTE_SOLE_PRODUCER): its next position
// is its own count, tail_guess, since nobody else moves tail; only the
// credit is checked (head read when it runs out). RK_K2K_CREDIT_CLAIMED
// with *pos_out = tail_guess, or RK_K2K_CREDIT_FULL. Nothing is announced
// yet: the caller announces the position (rk_k2k_credit_announce), stores
// the message, and commits only if the announce found the inbox open; then
// tail_guess = pos + 1. Why the announce can wait until the stores are
// issued: it decides nothing about the slot (the credit did), only whether
// the consumer closed first (K2kClose.tla, SoleProducer).
template <class S = rk_scope_gpu>
RK_DEVICE rk_u32 rk_k2k_credit_sole_claim(rk_k2k_credit& p, rk_u64* pos_out) {
    const rk_u64 pos = p.tail_guess;
    if (pos >= p.free_until) {
        p.free_until = S::ld_acquire(&p.r.q->head) + p.r.mask + 1u;
        if (pos >= p.free_until) {
            return RK_K2K_CREDIT_FULL;
        }
    }
    *pos_out = pos;
    return RK_K2K_CREDIT_CLAIMED;
}

// The sole producer's announce of its claimed position: tail + 1, relaxed,
// returning tail before the add. The sole producer's count when the inbox
// is open; with RK_K2K_CLOSED_BIT when the consumer closed it first (the
// add cannot carry into bit 63): then the message must not be committed.
// Once an add lands, the consumer's close (a CAS from its head) fails until
// it has taken that position. Global memory only (the actor loop's global
// tier), in the .global state space: a generic 64-bit atomic compiles to
// ATOM.E with a state-space probe on its result (a fallback for shared
// memory), a branch that waits for the trip at once; ATOMG's result is
// waited for only where it is used, after the message's stores.
RK_DEVICE rk_u64 rk_k2k_credit_announce(const rk_k2k_credit& p) {
    rk_u64 old;
    const rk_u64 tail = (rk_u64)__cvta_generic_to_global(&p.r.q->tail);
    asm volatile("atom.relaxed.gpu.global.add.u64 %0, [%1], 1;" : "=l"(old) : "l"(tail) : "memory");
    return old;
}

// Frees every position below `head` (the consumer's new head) by storing
// it, relaxed. The caller has fenced (S::fence_acq_rel) after every read
// of the consumed slots (its own, and those of threads ordered before it
// by a barrier): fence then store is a release pattern, which the
// producers' acquire of head for their credit pairs with.
template <class S = rk_scope_gpu>
RK_DEVICE void rk_k2k_credit_release(rk_k2k_header* q, rk_u64 head) {
    S::st_relaxed(&q->head, head);
}

// Closes the inbox for good if nothing is claimed past `head`; false when a
// producer holds a position there (the consumer goes on taking messages).
template <class S = rk_scope_gpu>
RK_DEVICE bool rk_k2k_credit_close(rk_k2k_header* q, rk_u64 head) {
    return S::cas_acq_rel(&q->tail, head, head | RK_K2K_CLOSED_BIT) == head;
}

#endif // RK_K2K_CUH
