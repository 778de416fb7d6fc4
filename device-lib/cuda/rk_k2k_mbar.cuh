// rk_k2k_mbar.cuh: K2K inboxes in shared memory (one block) and DSMEM (a
// cluster) whose slots are handed over with mbarriers (sm_90+).
//
// Why: rk_k2k.cuh and rk_k2k_ll.cuh order their payloads with
// ld.acquire/st.release or relaxed strong accesses, which are right under
// the PTX memory model but which compute-sanitizer's racecheck cannot see as
// synchronisation: it reports RAW/WAR hazards on every such handoff in
// shared memory (race.cu, RACE1_RESULT.txt). It reports none for a handoff
// through an mbarrier with a PLAIN payload (race2.cu, RACE2_RESULT.txt):
// the producer stores, then `mbarrier.arrive.release`; the consumer spins on
// `mbarrier.try_wait.parity.acquire`, then loads. Atomics are ignored by
// racecheck (they are real read-modify-writes). So here every payload byte
// moves with plain stores and loads, ordered only by mbarriers; the only
// other shared words (tail, head) are touched only by atomics.
//
// Protocol (capacity C, a power of two; positions are u64 counters; slot
// s = pos & (C - 1) holds positions s, s + C, ...; lap L = pos / C):
//   * per slot a FULL mbarrier (arrival count 1) in the inbox: the producer
//     that wrote position pos arrives on it (release), completing its phase
//     L; the consumer at pos waits for parity L & 1 (acquire), then reads;
//   * per slot an EMPTY mbarrier (arrival count 1) in the producer's block
//     (the "credit" array; try_wait works only on the own block's shared
//     memory): the consumer arrives on it after reading (release),
//     completing its phase L; the producer of pos waits for phase L - 1,
//     i.e. parity (L & 1) ^ 1 (lap 0 passes at once: a fresh barrier reads
//     as if the phase before phase 0 completed), then writes;
//   * try_wait.parity(P) is true iff the barrier's current (incomplete)
//     phase has parity != P, so a wait is unambiguous only when the barrier
//     is at most one phase behind: the full barrier of slot s completes
//     phase L only after the empty barrier completed L - 1 (a producer
//     writes lap L only after lap L - 1 was read), so the consumer at lap L
//     sees it at phase L or L + 1: right. The empty barrier must be at phase
//     >= L - 1 when the producer of lap L waits: a single producer (rk_sp)
//     writes lap L - 1 of the slot before lap L, after lap L - 2 was read
//     (its own wait), so it holds; multi-producers (rk_mp) claim position
//     pos only when pos < head + C (lap L - 1 already read, see below), so
//     it holds too;
//   * multi-producer reserve: Vyukov's reserve from a guess (as
//     rk_k2k_ll_mp): a CAS on `tail` from pos to pos + 1, tried only when
//     pos < free_until (a head read + C); when the credit runs out `head` is
//     re-read (atom.acquire) and if still full the try-reserve fails: no
//     overshoot, backpressure. The consumer of a multi-producer inbox adds 1
//     to `head` after its empty arrive (red.release), so a producer that
//     read head > pos - C also sees the empty barrier's phase L - 1 complete
//     (release/acquire through head orders the arrive before its wait); the
//     wait still runs, as the racecheck-visible edge and the ordering of the
//     consumer's loads before the producer's stores;
//   * DSMEM (rk_scope_cluster): the producer stores the payload into the
//     consumer block's shared memory through the mapped generic address
//     (rk_cluster_map: st.shared::cluster) and arrives on the consumer's full
//     barrier with `mbarrier.arrive.release.cluster.shared::cluster`; the
//     consumer waits locally with `.acquire.cluster`, and returns the credit
//     with a remote arrive on the empty barrier of every block named in the
//     inbox's `credit_ranks` (each producer block keeps its own credit
//     array, so any producer there can wait on its own copy: one arrive per
//     producer block per message).
//   * closing (multi-producer; the actor loop's inboxes): bit 63 of tail
//     (RK_K2K_MBAR_CLOSED_BIT). The consumer CASes tail from its head to
//     head | bit (rk_k2k_mbar_close), which succeeds only when nothing is
//     claimed past head; a claim CASes an open position, so none succeeds
//     after, and the failed CAS returns the bit: rk_k2k_mbar_mp_try_claim
//     says CLOSED, apart from FULL (K2kMbar.tla's Close).
// Orderings: payload stores -> (po) full arrive.release -> (the phase) ->
// consumer's try_wait.acquire -> (po) payload loads: no slot is read before
// all of it is written (untorn). Payload loads -> (po) empty arrive.release
// -> producer's try_wait.acquire -> (po) next lap's stores: none is
// overwritten before it is read. Positions are handed out once (own
// counter, or the CAS) and consumed once in order: exactly once; a
// producer's positions increase, so FIFO per producer. Modelled in
// verification/specs/K2kMbar.tla (phases and parities per lap).
//
// What callers must uphold:
//   * one consumer thread per inbox (rk_k2k_mbar_rx, opened once);
//   * a single-producer inbox (multi_producer = 0 at init) has one producer
//     thread, with one rk_k2k_mbar_sp; a multi-producer inbox any number of
//     producer threads (of the block, or of the blocks in credit_ranks),
//     each with its own rk_k2k_mbar_mp, never mixed with rk_sp;
//   * a producer that claimed pos commits it without waiting for the
//     consumer in between;
//   * the inbox and every credit array are laid out by rk_k2k_mbar_init /
//     rk_k2k_mbar_credit_init, then __syncthreads() (cta) or
//     rk_cluster_sync() (cluster) before anyone uses them; cluster blocks
//     declare the inbox and the credit array as the same __shared__
//     variables (the same offsets: mapa maps by offset), and none exits
//     while another may still touch its shared memory.
//
// Layout (shared memory, 128-byte aligned): rk_k2k_mbar_header (384
// bytes), the C full barriers (8 bytes each, padded to 128), then C slots of
// msg_bytes (a multiple of 16). The credit array: C barriers, 8-byte
// aligned (RK_K2K_MBAR_CREDIT_BYTES). Shared memory only: there is no
// global-memory tier (mbarriers live in shared memory).
#ifndef RK_K2K_MBAR_CUH
#define RK_K2K_MBAR_CUH

#include "rk_types.cuh"
#include "rk_sync.cuh"
#include "rk_envelope.cuh"

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900

#define RK_K2K_MBAR_MAGIC 0x524B4D42u // "RKMB"
#define RK_K2K_MBAR_FULL_OFFSET 384u
#define RK_K2K_MBAR_BACKOFF_MIN_NS 32u
#define RK_K2K_MBAR_BACKOFF_MAX_NS 1024u

struct alignas(128) rk_k2k_mbar_header {
    rk_u64 tail;               // next position to claim (multi-producer; atomics only)
    rk_u8 tail_pad[120];
    rk_u64 head;               // positions consumed (multi-producer inboxes; atomics only)
    rk_u8 head_pad[120];
    rk_u32 capacity;           // slots, a power of two
    rk_u32 msg_bytes;          // bytes per slot, a multiple of 16
    rk_u32 magic;              // RK_K2K_MBAR_MAGIC
    rk_u32 owner_actor;        // the consuming actor
    rk_u32 multi_producer;     // 1: rk_mp producers, the consumer keeps `head`
    rk_u32 credit_ranks;       // cluster ranks holding credit arrays; 0: this block's (cta)
    rk_u8 geometry_pad[104];
};

RK_ASSERT_SIZE(rk_k2k_mbar_header, 384);
RK_ASSERT_OFFSET(rk_k2k_mbar_header, tail, 0);
RK_ASSERT_OFFSET(rk_k2k_mbar_header, head, 128);
RK_ASSERT_OFFSET(rk_k2k_mbar_header, capacity, 256);
RK_ASSERT_OFFSET(rk_k2k_mbar_header, msg_bytes, 260);
RK_ASSERT_OFFSET(rk_k2k_mbar_header, multi_producer, 272);
RK_ASSERT_OFFSET(rk_k2k_mbar_header, credit_ranks, 276);
static_assert(sizeof(rk_k2k_mbar_header) == RK_K2K_MBAR_FULL_OFFSET, "the barriers follow the header");

// Where the slots start: after the full barriers, on a 128-byte line.
#define RK_K2K_MBAR_SLOTS_OFFSET(capacity) \
    (RK_K2K_MBAR_FULL_OFFSET + ((((rk_u64)(capacity)) * 8u + 127u) / 128u) * 128u)
// Bytes of an inbox, e.g. `__shared__ alignas(128) rk_u8 box[RK_K2K_MBAR_BYTES(16, 64)]`.
#define RK_K2K_MBAR_BYTES(capacity, msg_bytes) \
    (RK_K2K_MBAR_SLOTS_OFFSET(capacity) + ((rk_u64)(capacity)) * ((rk_u64)(msg_bytes)))
// Bytes of a producer block's credit array (`__shared__ rk_u64 credit[capacity]`).
#define RK_K2K_MBAR_CREDIT_BYTES(capacity) (((rk_u64)(capacity)) * 8u)

// ---- mbarrier primitives (PTX ISA 8.0, sm_90) ----

// The shared::cta address of a generic address of this block's shared memory.
RK_DEVICE rk_u32 rk_mbar_sa_(const void* p) {
    rk_u64 a;
    asm("cvta.to.shared.u64 %0, %1;" : "=l"(a) : "l"(p));
    return (rk_u32)a;
}

RK_DEVICE void rk_mbar_init_(rk_u64* bar, rk_u32 count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(rk_mbar_sa_(bar)), "r"(count)
                 : "memory");
}

// Makes this thread's mbarrier.init visible to the cluster (the block or
// cluster barrier that follows publishes it).
RK_DEVICE void rk_mbar_fence_init_(void) {
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}

// Per scope: arrive (release) on barrier `sa` (a shared::cta address of the
// layout as this block has it) of block `rank`; wait / test (acquire) on
// this block's barrier `sa` for the phase of parity `parity` to complete.
template <class S>
struct rk_mbar_io;

template <>
struct rk_mbar_io<rk_scope_cta> {
    static RK_DEVICE void arrive(rk_u32 sa, rk_u32 /* rank */) {
        asm volatile("{ .reg .b64 st; mbarrier.arrive.release.cta.shared::cta.b64 st, [%0]; }" ::"r"(sa)
                     : "memory");
    }
    static RK_DEVICE bool test(rk_u32 sa, rk_u32 parity) {
        rk_u32 ok;
        asm volatile("{ .reg .pred p; mbarrier.test_wait.parity.acquire.cta.shared::cta.b64 p, [%1], %2; "
                     "selp.u32 %0, 1, 0, p; }"
                     : "=r"(ok)
                     : "r"(sa), "r"(parity)
                     : "memory");
        return ok != 0u;
    }
    static RK_DEVICE void wait(rk_u32 sa, rk_u32 parity) {
        asm volatile("{ .reg .pred p; RK_MBAR_WAIT_CTA: "
                     "mbarrier.try_wait.parity.acquire.cta.shared::cta.b64 p, [%0], %1; "
                     "@!p bra RK_MBAR_WAIT_CTA; }" ::"r"(sa),
                     "r"(parity)
                     : "memory");
    }
};

template <>
struct rk_mbar_io<rk_scope_cluster> {
    static RK_DEVICE void arrive(rk_u32 sa, rk_u32 rank) {
        asm volatile("{ .reg .b32 ra; mapa.shared::cluster.u32 ra, %0, %1; "
                     "mbarrier.arrive.release.cluster.shared::cluster.b64 _, [ra]; }" ::"r"(sa),
                     "r"(rank)
                     : "memory");
    }
    static RK_DEVICE bool test(rk_u32 sa, rk_u32 parity) {
        rk_u32 ok;
        asm volatile("{ .reg .pred p; mbarrier.test_wait.parity.acquire.cluster.shared::cta.b64 p, [%1], %2; "
                     "selp.u32 %0, 1, 0, p; }"
                     : "=r"(ok)
                     : "r"(sa), "r"(parity)
                     : "memory");
        return ok != 0u;
    }
    static RK_DEVICE void wait(rk_u32 sa, rk_u32 parity) {
        asm volatile("{ .reg .pred p; RK_MBAR_WAIT_CLUSTER: "
                     "mbarrier.try_wait.parity.acquire.cluster.shared::cta.b64 p, [%0], %1; "
                     "@!p bra RK_MBAR_WAIT_CLUSTER; }" ::"r"(sa),
                     "r"(parity)
                     : "memory");
    }
};

// The atomics on tail and head (generic addresses: local or mapped shared).
template <class S>
struct rk_mbar_atom;

#define RK_MBAR_ATOM(TAG, SCOPE_PTX)                                                          \
    template <>                                                                              \
    struct rk_mbar_atom<TAG> {                                                               \
        static RK_DEVICE rk_u64 cas_relaxed(rk_u64* a, rk_u64 expected, rk_u64 desired) {    \
            rk_u64 old;                                                                      \
            asm volatile("atom.relaxed." SCOPE_PTX ".cas.b64 %0, [%1], %2, %3;"              \
                         : "=l"(old)                                                         \
                         : "l"(a), "l"(expected), "l"(desired)                               \
                         : "memory");                                                        \
            return old;                                                                      \
        }                                                                                    \
        static RK_DEVICE rk_u64 load_acquire(rk_u64* a) {                                    \
            rk_u64 v;                                                                        \
            asm volatile("atom.acquire." SCOPE_PTX ".add.u64 %0, [%1], 0;"                   \
                         : "=l"(v)                                                           \
                         : "l"(a)                                                            \
                         : "memory");                                                        \
            return v;                                                                        \
        }                                                                                    \
        static RK_DEVICE void add_release(rk_u64* a, rk_u64 v) {                             \
            asm volatile("red.release." SCOPE_PTX ".add.u64 [%0], %1;" ::"l"(a), "l"(v)      \
                         : "memory");                                                        \
        }                                                                                    \
    };

RK_MBAR_ATOM(rk_scope_cta, "cta")
RK_MBAR_ATOM(rk_scope_cluster, "cluster")

#undef RK_MBAR_ATOM

// ---- set-up ----

// Lays out an empty inbox at `q` (this block's shared memory): the header
// and the full barriers. Thread 0 of the block does the work (others return
// at once); every thread then synchronises (__syncthreads(), or
// rk_cluster_sync() when other blocks will send) before any use.
// `capacity` a power of two, `msg_bytes` a multiple of 16, `q` 128-byte
// aligned with RK_K2K_MBAR_BYTES(capacity, msg_bytes) bytes;
// `credit_ranks` the cluster ranks whose credit arrays the consumer
// returns slots to (bit r: rank r; 0 for a cta inbox: this block's array).
RK_DEVICE void rk_k2k_mbar_init(rk_k2k_mbar_header* q, rk_u32 capacity, rk_u32 msg_bytes,
                                rk_u32 owner_actor, bool multi_producer, rk_u32 credit_ranks) {
    const rk_u32 me = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    if (me != 0u) {
        return;
    }
    q->tail = 0u;
    q->head = 0u;
    q->capacity = capacity;
    q->msg_bytes = msg_bytes;
    q->magic = RK_K2K_MBAR_MAGIC;
    q->owner_actor = owner_actor;
    q->multi_producer = multi_producer ? 1u : 0u;
    q->credit_ranks = credit_ranks;
    rk_u64* full = reinterpret_cast<rk_u64*>(reinterpret_cast<unsigned char*>(q) + RK_K2K_MBAR_FULL_OFFSET);
    for (rk_u32 i = 0; i < capacity; ++i) {
        rk_mbar_init_(&full[i], 1u);
    }
    rk_mbar_fence_init_();
}

// Lays out a producer block's credit array (the empty barriers of an inbox
// of `capacity` slots that this block's producers send to); thread 0 does
// the work, the caller synchronises as for rk_k2k_mbar_init.
RK_DEVICE void rk_k2k_mbar_credit_init(rk_u64* credit, rk_u32 capacity) {
    const rk_u32 me = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    if (me != 0u) {
        return;
    }
    for (rk_u32 i = 0; i < capacity; ++i) {
        rk_mbar_init_(&credit[i], 1u);
    }
    rk_mbar_fence_init_();
}

// An inbox as one party sees it: geometry read once (a DSMEM header read is
// a round trip).
struct rk_k2k_mbar_ref {
    rk_k2k_mbar_header* q; // generic address (this block's, or mapped DSMEM)
    unsigned char* slots;  // generic, likewise
    rk_u32 full_sa;        // shared::cta address of full[0] in the OWNER's layout
    rk_u32 credit_sa;      // shared::cta address of the credit array (this block's layout)
    rk_u32 rank;           // the owner's cluster rank (cluster), 0 (cta)
    rk_u32 credit_ranks;   // as the header
    rk_u32 mask;           // capacity - 1
    rk_u32 lap_shift;      // log2(capacity)
    rk_u32 msg_bytes;
};

// `local_q` and `local_credit` are generic addresses of this block's shared
// memory: for a cta inbox the inbox itself and its credit array; for a
// cluster inbox the same variables as declared in every block, the inbox
// then being the one of block `rank`.
template <class S>
RK_DEVICE rk_k2k_mbar_ref rk_k2k_mbar_open(rk_k2k_mbar_header* local_q, rk_u64* local_credit,
                                           rk_u32 rank);

template <>
RK_DEVICE rk_k2k_mbar_ref rk_k2k_mbar_open<rk_scope_cta>(rk_k2k_mbar_header* local_q,
                                                         rk_u64* local_credit, rk_u32 /* rank */) {
    rk_k2k_mbar_ref r;
    r.q = local_q;
    r.rank = 0u;
    r.slots = reinterpret_cast<unsigned char*>(local_q) + RK_K2K_MBAR_SLOTS_OFFSET(local_q->capacity);
    r.full_sa = rk_mbar_sa_(local_q) + RK_K2K_MBAR_FULL_OFFSET;
    r.credit_sa = rk_mbar_sa_(local_credit);
    r.credit_ranks = local_q->credit_ranks;
    r.mask = local_q->capacity - 1u;
    r.lap_shift = (rk_u32)(__ffs((int)local_q->capacity) - 1);
    r.msg_bytes = local_q->msg_bytes;
    return r;
}

template <>
RK_DEVICE rk_k2k_mbar_ref rk_k2k_mbar_open<rk_scope_cluster>(rk_k2k_mbar_header* local_q,
                                                             rk_u64* local_credit, rk_u32 rank) {
    rk_k2k_mbar_ref r;
    r.q = rk_cluster_map(local_q, rank);
    r.rank = rank;
    const rk_u32 capacity = r.q->capacity; // written before the cluster barrier
    r.slots = reinterpret_cast<unsigned char*>(r.q) + RK_K2K_MBAR_SLOTS_OFFSET(capacity);
    r.full_sa = rk_mbar_sa_(local_q) + RK_K2K_MBAR_FULL_OFFSET;
    r.credit_sa = rk_mbar_sa_(local_credit);
    r.credit_ranks = r.q->credit_ranks;
    r.mask = capacity - 1u;
    r.lap_shift = (rk_u32)(__ffs((int)capacity) - 1);
    r.msg_bytes = r.q->msg_bytes;
    return r;
}

// The slot of position `pos` (generic; stores through it reach the owner).
RK_DEVICE void* rk_k2k_mbar_slot(const rk_k2k_mbar_ref& r, rk_u64 pos) {
    return r.slots + (rk_u64)((rk_u32)pos & r.mask) * r.msg_bytes;
}

// ---- producer side ----

// The empty barrier of pos's slot in this block's credit array, and the
// parity the producer of pos waits for (phase L - 1: parity (L & 1) ^ 1).
RK_DEVICE rk_u32 rk_k2k_mbar_empty_sa_(const rk_k2k_mbar_ref& r, rk_u64 pos) {
    return r.credit_sa + 8u * ((rk_u32)pos & r.mask);
}
RK_DEVICE rk_u32 rk_k2k_mbar_empty_parity_(const rk_k2k_mbar_ref& r, rk_u64 pos) {
    return (rk_u32)((pos >> r.lap_shift) & 1u) ^ 1u;
}

// Publishes position `pos` after its payload's plain stores: the full
// arrive (release at the tier's scope) on the owner's barrier.
template <class S>
RK_DEVICE void rk_k2k_mbar_commit(const rk_k2k_mbar_ref& r, rk_u64 pos) {
    rk_mbar_io<S>::arrive(r.full_sa + 8u * ((rk_u32)pos & r.mask), r.rank);
}

// ---- a cluster commit by st.async (the actor loop's DSMEM sends) ----
//
// rk_k2k_mbar_commit's arrive.release.cluster is a MEMBAR: it waits for the
// slot's remote stores to land before the arrive leaves (the actor hop's
// commit, ~375 ns on an H200). Instead the producer may arrive relaxed on
// the slot's full barrier with the message's byte count expected
// (expect-tx) and write the slot with st.async, each store completing its
// bytes on that barrier: the phase completes when the arrive and every
// byte have landed, whatever their order (tx-count may pass below zero on
// the way), and the consumer's acquire wait on it sees the bytes (the
// mbarrier's complete-tx, as for TMA). No fence on the producer's side.
// Every byte of a message so committed goes through
// rk_k2k_mbar_put_async, exactly `bytes` in all; the slot's reuse is the
// empty barrier's, as before. Cluster scope only (st.async writes another
// block's shared memory through shared::cluster addresses).

// The shared::cluster addresses, in the owner's block, of pos's slot and
// of its full barrier.
RK_DEVICE rk_u32 rk_k2k_mbar_map_(rk_u32 sa, rk_u32 rank) {
    rk_u32 out;
    asm("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(out) : "r"(sa), "r"(rank));
    return out;
}
RK_DEVICE rk_u32 rk_k2k_mbar_slot_at_(const rk_k2k_mbar_ref& r, rk_u64 pos) {
    const rk_u32 slots_sa = r.full_sa - RK_K2K_MBAR_FULL_OFFSET +
                            (rk_u32)RK_K2K_MBAR_SLOTS_OFFSET(r.mask + 1u);
    return rk_k2k_mbar_map_(slots_sa + ((rk_u32)pos & r.mask) * r.msg_bytes, r.rank);
}
RK_DEVICE rk_u32 rk_k2k_mbar_full_at_(const rk_k2k_mbar_ref& r, rk_u64 pos) {
    return rk_k2k_mbar_map_(r.full_sa + 8u * ((rk_u32)pos & r.mask), r.rank);
}

// The commit of pos, before its bytes: arrives (relaxed) on its full
// barrier `bar` (rk_k2k_mbar_full_at_) expecting `bytes` bytes.
RK_DEVICE void rk_k2k_mbar_commit_expecting(rk_u32 bar, rk_u32 bytes) {
    asm volatile("mbarrier.arrive.expect_tx.relaxed.cluster.shared::cluster.b64 _, [%0], %1;" ::"r"(bar),
                 "r"(bytes)
                 : "memory");
}

// 16 bytes of the message at `at` (rk_k2k_mbar_slot_at_ + offset, 16-byte
// aligned), completing 16 of the bytes `bar` expects.
RK_DEVICE void rk_k2k_mbar_put_async(rk_u32 at, rk_u32 bar, rk_u32 a, rk_u32 b, rk_u32 c, rk_u32 d) {
    asm volatile("st.async.shared::cluster.mbarrier::complete_tx::bytes.v4.b32 [%0], {%1, %2, %3, %4}, [%5];" ::"r"(at),
                 "r"(a), "r"(b), "r"(c), "r"(d), "r"(bar)
                 : "memory");
}

// A single-producer route (one producer thread per inbox).
struct rk_k2k_mbar_sp {
    rk_k2k_mbar_ref r;
    rk_u64 tail; // the next position (this producer's alone; a fresh inbox starts at 0)
};

RK_DEVICE rk_k2k_mbar_sp rk_k2k_mbar_sp_open(const rk_k2k_mbar_ref& r) {
    rk_k2k_mbar_sp p;
    p.r = r;
    p.tail = 0u;
    return p;
}

// Claims the next position if its slot is free (the previous lap read:
// test_wait.acquire on the empty barrier), else returns false (full).
template <class S>
RK_DEVICE bool rk_k2k_mbar_sp_try_reserve(rk_k2k_mbar_sp& p, rk_u64* pos_out) {
    if (!rk_mbar_io<S>::test(rk_k2k_mbar_empty_sa_(p.r, p.tail), rk_k2k_mbar_empty_parity_(p.r, p.tail))) {
        return false;
    }
    *pos_out = p.tail;
    p.tail += 1u;
    return true;
}

// Claims the next position, waiting (try_wait spin) while its slot is full.
template <class S>
RK_DEVICE rk_u64 rk_k2k_mbar_sp_reserve_wait(rk_k2k_mbar_sp& p) {
    rk_mbar_io<S>::wait(rk_k2k_mbar_empty_sa_(p.r, p.tail), rk_k2k_mbar_empty_parity_(p.r, p.tail));
    const rk_u64 pos = p.tail;
    p.tail += 1u;
    return pos;
}

// A multi-producer's view of an inbox (one per producing thread): its
// credit and its guess of tail (one past its own last claim: never above
// the real tail, so a full verdict from it is right).
struct rk_k2k_mbar_mp {
    rk_k2k_mbar_ref r;
    rk_u64 tail_guess;
    rk_u64 free_until; // positions below this are known claimable (head + C)
};

template <class S>
RK_DEVICE rk_k2k_mbar_mp rk_k2k_mbar_mp_open(const rk_k2k_mbar_ref& r) {
    rk_k2k_mbar_mp p;
    p.r = r;
    p.tail_guess = 0u;
    p.free_until = rk_mbar_atom<S>::load_acquire(&r.q->head) + r.mask + 1u;
    return p;
}

// What a multi-producer claim came to (rk_k2k_mbar_mp_try_claim).
#define RK_K2K_MBAR_CLAIMED 0u // a position is held: store the payload, commit
#define RK_K2K_MBAR_FULL 1u    // capacity positions are claimed past head: nothing claimed
#define RK_K2K_MBAR_CLOSED 2u  // the consumer closed the inbox: nothing claimed, ever

// Bit 63 of a multi-producer inbox's tail: the consumer has closed it
// (rk_k2k_mbar_close; positions never reach 2^63). A claim CASes tail from
// an open position (bit clear), so none succeeds on a closed tail, and the
// CAS's failure returns the tail with the bit: the claim tells closed from
// full by it.
#define RK_K2K_MBAR_CLOSED_BIT 0x8000000000000000ull

// Claims a position (lock-free; any number of producer threads, each with
// its own `p`): RK_K2K_MBAR_CLAIMED with *pos_out, or RK_K2K_MBAR_FULL
// (capacity positions claimed past head) or RK_K2K_MBAR_CLOSED (the
// consumer closed the inbox), nothing claimed. On success the slot's empty
// barrier has been waited for: the caller stores the payload and commits.
// `tail_guess` never carries the closed bit (a CAS from it compares an
// open position; one that finds the bit returns CLOSED, keeping the guess).
template <class S>
RK_DEVICE rk_u32 rk_k2k_mbar_mp_try_claim(rk_k2k_mbar_mp& p, rk_u64* pos_out) {
    rk_u64 pos = p.tail_guess;
    for (;;) {
        if (pos >= p.free_until) {
            p.free_until = rk_mbar_atom<S>::load_acquire(&p.r.q->head) + p.r.mask + 1u;
            if (pos >= p.free_until) {
                p.tail_guess = pos;
                return RK_K2K_MBAR_FULL; // pos <= tail, so tail - head >= capacity
            }
        }
        const rk_u64 found = rk_mbar_atom<S>::cas_relaxed(&p.r.q->tail, pos, pos + 1u);
        if (found == pos) {
            break;
        }
        if (found & RK_K2K_MBAR_CLOSED_BIT) {
            p.tail_guess = pos;
            return RK_K2K_MBAR_CLOSED;
        }
        pos = found; // someone else claimed pos: try the real tail
    }
    p.tail_guess = pos + 1u;
    // pos < head + C: lap L - 1 of the slot is read and its empty arrive is
    // ordered before the head we read, so this wait passes at once (phase
    // L - 1 is complete, L is not: nobody else holds lap L or L + 1).
    rk_mbar_io<S>::wait(rk_k2k_mbar_empty_sa_(p.r, pos), rk_k2k_mbar_empty_parity_(p.r, pos));
    *pos_out = pos;
    return RK_K2K_MBAR_CLAIMED;
}

// rk_k2k_mbar_mp_try_claim for an inbox that is never closed: false when
// nothing was claimed.
template <class S>
RK_DEVICE bool rk_k2k_mbar_mp_try_reserve(rk_k2k_mbar_mp& p, rk_u64* pos_out) {
    return rk_k2k_mbar_mp_try_claim<S>(p, pos_out) == RK_K2K_MBAR_CLAIMED;
}

// rk_k2k_mbar_mp_try_reserve, waiting with backoff while the inbox is full.
template <class S>
RK_DEVICE rk_u64 rk_k2k_mbar_mp_reserve_wait(rk_k2k_mbar_mp& p) {
    rk_u64 pos;
    rk_u32 backoff = RK_K2K_MBAR_BACKOFF_MIN_NS;
    while (!rk_k2k_mbar_mp_try_reserve<S>(p, &pos)) {
        rk_nanosleep(backoff);
        backoff = backoff < RK_K2K_MBAR_BACKOFF_MAX_NS ? backoff * 2u : RK_K2K_MBAR_BACKOFF_MAX_NS;
    }
    return pos;
}

// ---- consumer side ----

struct rk_k2k_mbar_rx {
    rk_k2k_mbar_ref r;
    rk_u64 head;          // the next position
    bool multi_producer;  // keep the header's head for rk_mp producers
};

// `q` this block's inbox, `local_credit` the credit array variable (the
// same variable in every producer block, for a cluster inbox).
template <class S>
RK_DEVICE rk_k2k_mbar_rx rk_k2k_mbar_rx_open(rk_k2k_mbar_header* q, rk_u64* local_credit) {
    rk_k2k_mbar_rx rx;
    rx.r = rk_k2k_mbar_open<rk_scope_cta>(q, local_credit, 0u);
    rx.head = 0u;
    rx.multi_producer = q->multi_producer != 0u;
    return rx;
}

// The next message if its producer has committed (test_wait.acquire on the
// slot's full barrier, parity L & 1), else nullptr. Plain loads of the
// returned slot are ordered after the producer's stores.
template <class S>
RK_DEVICE const void* rk_k2k_mbar_rx_try_begin(const rk_k2k_mbar_rx& rx) {
    const rk_u32 sa = rx.r.full_sa + 8u * ((rk_u32)rx.head & rx.r.mask);
    if (!rk_mbar_io<S>::test(sa, (rk_u32)(rx.head >> rx.r.lap_shift) & 1u)) {
        return nullptr;
    }
    return rk_k2k_mbar_slot(rx.r, rx.head);
}

// Waits (try_wait spin) for the next message; returns its slot.
template <class S>
RK_DEVICE const void* rk_k2k_mbar_rx_begin_wait(const rk_k2k_mbar_rx& rx) {
    const rk_u32 sa = rx.r.full_sa + 8u * ((rk_u32)rx.head & rx.r.mask);
    rk_mbar_io<S>::wait(sa, (rk_u32)(rx.head >> rx.r.lap_shift) & 1u);
    return rk_k2k_mbar_slot(rx.r, rx.head);
}

// Frees the slot of the message taken by begin, after its last plain load:
// the empty arrive (release) on the credit array of this block (cta) or of
// every block of credit_ranks (cluster), then, for a multi-producer inbox,
// head + 1 (red.release: a producer that reads it sees the arrive).
template <class S>
RK_DEVICE void rk_k2k_mbar_rx_commit(rk_k2k_mbar_rx& rx) {
    const rk_u32 sa = rx.r.credit_sa + 8u * ((rk_u32)rx.head & rx.r.mask);
    if (rx.r.credit_ranks == 0u) {
        rk_mbar_io<S>::arrive(sa, 0u);
    } else {
        for (rk_u32 ranks = rx.r.credit_ranks; ranks != 0u; ranks &= ranks - 1u) {
            rk_mbar_io<S>::arrive(sa, (rk_u32)(__ffs((int)ranks) - 1));
        }
    }
    rx.head += 1u;
    if (rx.multi_producer) {
        rk_mbar_atom<S>::add_release(&rx.r.q->head, 1u);
    }
}

// Closes a multi-producer inbox for good (its consumer stops): CAS tail
// from `head` (the consumer's next position) to head | CLOSED_BIT, which
// succeeds only when nothing is claimed past head (a producer that holds a
// position commits into an inbox that is still read). False while one is:
// the consumer goes on taking messages and tries again. Afterwards every
// claim returns RK_K2K_MBAR_CLOSED. Modelled in K2kMbar.tla (Close).
template <class S>
RK_DEVICE bool rk_k2k_mbar_close(rk_k2k_mbar_header* q, rk_u64 head) {
    return rk_mbar_atom<S>::cas_relaxed(&q->tail, head, head | RK_K2K_MBAR_CLOSED_BIT) == head;
}

#endif // sm_90+

#endif // RK_K2K_MBAR_CUH
