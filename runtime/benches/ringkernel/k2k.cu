// K2K one-way latency through the device library's inboxes
// (device-lib/cuda/rk_k2k.cuh), one kernel per tier, measured like the
// hand-written floors of baselines.cu (bl_k2k_*): two parties, n round
// trips timed with %globaltimer by party 0, one round trip = two one-way
// messages. Each message is an envelope (the 64-byte header, sequence =
// the round) sent through reserve, write, commit, and taken by consume
// begin, read, consume commit; each party owns one inbox and sends to the
// other's. `errors` counts messages that arrived with the wrong sequence.
#include "ringkernel.cuh"

#define K2K_BENCH_CAPACITY 4u
#define K2K_BENCH_SLOT 64u

template <class S>
__device__ __forceinline__ void k2k_bench_send(const rk_k2k_ref& to, rk_u32 party, rk_u32 i) {
    const rk_u64 pos = rk_k2k_reserve_wait<S>(to);
    rk_envelope_header* m = rk_k2k_slot(to, pos);
    rk_envelope_header h = {};
    h.type_id = 0x50494E47u; // "PING"
    h.source_actor = party;
    h.dest_actor = party ^ 1u;
    h.sequence = i;
    *m = h;
    rk_k2k_commit<S>(to, pos);
}

// The same message through a single-producer route (rk_k2k_sp_*).
template <class S>
__device__ __forceinline__ void k2k_bench_send_sp(rk_k2k_sp& to, rk_u32 party, rk_u32 i) {
    const rk_u64 pos = rk_k2k_sp_reserve_wait<S>(to);
    rk_envelope_header* m = rk_k2k_slot(to.r, pos);
    rk_envelope_header h = {};
    h.type_id = 0x50494E47u; // "PING"
    h.source_actor = party;
    h.dest_actor = party ^ 1u;
    h.sequence = i;
    *m = h;
    rk_k2k_commit<S>(to.r, pos);
}

template <class S>
__device__ __forceinline__ void k2k_bench_recv(const rk_k2k_ref& mine, rk_u32 i, rk_u32* errors) {
    rk_u64 pos;
    const rk_envelope_header* m;
    while ((m = rk_k2k_try_consume_begin<S>(mine, &pos)) == nullptr) {
    }
    if (m->sequence != i) {
        atomicAdd(errors, 1u);
    }
    rk_k2k_consume_commit<S>(mine, pos);
}

template <class S>
__device__ void k2k_bench_ping_pong(const rk_k2k_ref& mine, const rk_k2k_ref& theirs, rk_u32 party,
                                    rk_u32 n, rk_u64* out_ns, rk_u32* errors, bool single_producer) {
    rk_k2k_sp sp = rk_k2k_sp_open<S>(theirs);
    const rk_u64 t0 = rk_globaltimer_ns();
    for (rk_u32 i = 1; i <= n; ++i) {
        if (party == 0u) {
            if (single_producer) {
                k2k_bench_send_sp<S>(sp, party, i);
            } else {
                k2k_bench_send<S>(theirs, party, i);
            }
            k2k_bench_recv<S>(mine, i, errors);
        } else {
            k2k_bench_recv<S>(mine, i, errors);
            if (single_producer) {
                k2k_bench_send_sp<S>(sp, party, i);
            } else {
                k2k_bench_send<S>(theirs, party, i);
            }
        }
    }
    if (party == 0u) {
        *out_ns = rk_globaltimer_ns() - t0;
    }
}

// Warps 0 and 1 of one block; both inboxes in the block's shared memory.
extern "C" __global__ void k2k_bench_cta(rk_u32 n, rk_u64* out_ns, rk_u32* errors, rk_u32 sp) {
    __shared__ alignas(128) rk_u8 box[2][RK_K2K_BYTES(K2K_BENCH_CAPACITY, K2K_BENCH_SLOT)];
    rk_k2k_header* q0 = reinterpret_cast<rk_k2k_header*>(box[0]);
    rk_k2k_header* q1 = reinterpret_cast<rk_k2k_header*>(box[1]);
    rk_k2k_init(q0, K2K_BENCH_CAPACITY, K2K_BENCH_SLOT, 0u);
    rk_k2k_init(q1, K2K_BENCH_CAPACITY, K2K_BENCH_SLOT, 1u);
    __syncthreads();
    const rk_u32 w = threadIdx.x / 32u;
    if (threadIdx.x % 32u != 0u || w > 1u) {
        return;
    }
    const rk_k2k_ref mine = rk_k2k_open(w == 0u ? q0 : q1);
    const rk_k2k_ref theirs = rk_k2k_open(w == 0u ? q1 : q0);
    k2k_bench_ping_pong<rk_scope_cta>(mine, theirs, w, n, out_ns, errors, sp != 0u);
}

// The two blocks of a cluster of 2; each block's inbox in its own shared
// memory, the peer's reached through DSMEM.
extern "C" __global__ void k2k_bench_cluster(rk_u32 n, rk_u64* out_ns, rk_u32* errors, rk_u32 sp) {
    __shared__ alignas(128) rk_u8 box[RK_K2K_BYTES(K2K_BENCH_CAPACITY, K2K_BENCH_SLOT)];
    rk_k2k_header* q = reinterpret_cast<rk_k2k_header*>(box);
    const rk_u32 rank = rk_cluster_rank();
    rk_k2k_init(q, K2K_BENCH_CAPACITY, K2K_BENCH_SLOT, rank);
    rk_cluster_sync();
    if (threadIdx.x == 0u) {
        const rk_k2k_ref mine = rk_k2k_open(q);
        const rk_k2k_ref theirs = rk_k2k_open(rk_cluster_map(q, rank ^ 1u));
        k2k_bench_ping_pong<rk_scope_cluster>(mine, theirs, rank, n, out_ns, errors, sp != 0u);
    }
    rk_cluster_sync();
}

// Blocks 0 and 1 (both resident); the inboxes in global memory, laid out
// by the host (K2kLayout::initial_image).
extern "C" __global__ void k2k_bench_gpu(rk_k2k_header* q0, rk_k2k_header* q1, rk_u32 n,
                                         rk_u64* out_ns, rk_u32* errors, rk_u32 sp) {
    if (threadIdx.x != 0u || blockIdx.x > 1u) {
        return;
    }
    const rk_k2k_ref mine = rk_k2k_open(blockIdx.x == 0u ? q0 : q1);
    const rk_k2k_ref theirs = rk_k2k_open(blockIdx.x == 0u ? q1 : q0);
    k2k_bench_ping_pong<rk_scope_gpu>(mine, theirs, blockIdx.x, n, out_ns, errors, sp != 0u);
}

// ---- the LL inboxes (rk_k2k_ll.cuh) ----
//
// The same ping-pong through low-latency inboxes: each party is a whole
// warp; a message is one 64-byte envelope header = 16 flagged words, lane
// w < 16 storing word w (one 8-byte store per lane, no fence) and, on the
// other side, loading it (one 8-byte load per lane, one trip) until every
// flag is the position's. Sent through a single-producer route
// (rk_k2k_ll_sp_*: credit in registers) or the multi-producer reserve
// (rk_k2k_ll_mp_*: a relaxed CAS on tail from the producer's guess).
// Every word of every message is compared with what the sender wrote;
// `errors` counts messages with any wrong word. Timed by lane 0 of party 0.

#define K2K_LL_BENCH_CAPACITY 32u
#define K2K_LL_BENCH_MSG 64u
#define K2K_LL_BENCH_WORDS (K2K_LL_BENCH_MSG / 4u)

// Word w of party `party`'s round-i message: an envelope header (type
// "PING", source, destination, sequence = i); the other words a pattern of
// (i, w), so that every word differs from round to round and is checked.
__device__ __forceinline__ rk_u32 k2k_ll_bench_word(rk_u32 party, rk_u32 i, rk_u32 w) {
    switch (w) {
    case 0u:
        return 0x50494E47u; // type_id "PING"
    case 2u:
        return party; // source_actor
    case 3u:
        return party ^ 1u; // dest_actor
    case 6u:
        return i; // sequence, low half
    default:
        return (i * 0x9E3779B1u) ^ (w << 24) ^ party;
    }
}

template <class S, bool MP>
__device__ void k2k_ll_bench_ping_pong(rk_k2k_ll_header* mine, rk_k2k_ll_header* theirs,
                                       rk_u32 party, rk_u32 n, rk_u64* out_ns, rk_u32* errors) {
    const unsigned all = 0xFFFFFFFFu;
    const rk_u32 lane = threadIdx.x & 31u;
    rk_k2k_ll_rx rx = rk_k2k_ll_rx_open<S>(mine);
    const rk_k2k_ll_ref to = rk_k2k_ll_open(theirs);
    rk_k2k_ll_sp sp = rk_k2k_ll_sp_open<S>(to);
    rk_k2k_ll_mp mp = rk_k2k_ll_mp_open<S>(to);
    rk_u32 bad = 0u;
    const rk_u64 t0 = rk_globaltimer_ns();
    for (rk_u32 i = 1; i <= n; ++i) {
#pragma unroll
        for (rk_u32 turn = 0; turn < 2u; ++turn) {
            if ((turn == 0u) == (party == 0u)) {
                const rk_u64 pos = MP ? rk_k2k_ll_mp_reserve_wait_sync<S>(mp, all)
                                      : rk_k2k_ll_sp_reserve_wait<S>(sp, all);
                if (lane < K2K_LL_BENCH_WORDS) {
                    rk_k2k_ll_put<S>(to, pos, lane, k2k_ll_bench_word(party, i, lane));
                }
            } else {
                rk_u32 d[1];
                rk_k2k_ll_recv<S, 1>(rx, lane, 32u, all, d);
                const bool ok =
                    lane >= K2K_LL_BENCH_WORDS || d[0] == k2k_ll_bench_word(party ^ 1u, i, lane);
                bad += __all_sync(all, ok) ? 0u : 1u;
            }
        }
    }
    if (lane == 0u) {
        if (party == 0u) {
            *out_ns = rk_globaltimer_ns() - t0;
        }
        if (bad != 0u) {
            atomicAdd(errors, bad);
        }
    }
}

// Warps 0 and 1 of one block; both inboxes in the block's shared memory.
extern "C" __global__ void k2k_ll_bench_cta(rk_u32 n, rk_u64* out_ns, rk_u32* errors, rk_u32 mp) {
    __shared__ alignas(128) rk_u8 box[2][RK_K2K_LL_BYTES(K2K_LL_BENCH_CAPACITY, K2K_LL_BENCH_MSG)];
    rk_k2k_ll_header* q0 = reinterpret_cast<rk_k2k_ll_header*>(box[0]);
    rk_k2k_ll_header* q1 = reinterpret_cast<rk_k2k_ll_header*>(box[1]);
    rk_k2k_ll_init(q0, K2K_LL_BENCH_CAPACITY, K2K_LL_BENCH_MSG, 0u);
    rk_k2k_ll_init(q1, K2K_LL_BENCH_CAPACITY, K2K_LL_BENCH_MSG, 1u);
    __syncthreads();
    const rk_u32 w = threadIdx.x / 32u;
    if (w > 1u) {
        return;
    }
    rk_k2k_ll_header* mine = w == 0u ? q0 : q1;
    rk_k2k_ll_header* theirs = w == 0u ? q1 : q0;
    if (mp != 0u) {
        k2k_ll_bench_ping_pong<rk_scope_cta, true>(mine, theirs, w, n, out_ns, errors);
    } else {
        k2k_ll_bench_ping_pong<rk_scope_cta, false>(mine, theirs, w, n, out_ns, errors);
    }
}

// The two blocks (one warp each) of a cluster of 2; each block's inbox in
// its own shared memory, the peer's reached through DSMEM.
extern "C" __global__ void k2k_ll_bench_cluster(rk_u32 n, rk_u64* out_ns, rk_u32* errors,
                                                rk_u32 mp) {
    __shared__ alignas(128) rk_u8 box[RK_K2K_LL_BYTES(K2K_LL_BENCH_CAPACITY, K2K_LL_BENCH_MSG)];
    rk_k2k_ll_header* q = reinterpret_cast<rk_k2k_ll_header*>(box);
    const rk_u32 rank = rk_cluster_rank();
    rk_k2k_ll_init(q, K2K_LL_BENCH_CAPACITY, K2K_LL_BENCH_MSG, rank);
    rk_cluster_sync();
    if (threadIdx.x < 32u) {
        rk_k2k_ll_header* theirs = rk_cluster_map(q, rank ^ 1u);
        if (mp != 0u) {
            k2k_ll_bench_ping_pong<rk_scope_cluster, true>(q, theirs, rank, n, out_ns, errors);
        } else {
            k2k_ll_bench_ping_pong<rk_scope_cluster, false>(q, theirs, rank, n, out_ns, errors);
        }
    }
    rk_cluster_sync();
}

// Blocks 0 and 1 (both resident, one warp each); the inboxes in global
// memory, laid out by the host (K2kLlLayout::initial_image).
extern "C" __global__ void k2k_ll_bench_gpu(rk_k2k_ll_header* q0, rk_k2k_ll_header* q1, rk_u32 n,
                                            rk_u64* out_ns, rk_u32* errors, rk_u32 mp) {
    if (threadIdx.x >= 32u || blockIdx.x > 1u) {
        return;
    }
    rk_k2k_ll_header* mine = blockIdx.x == 0u ? q0 : q1;
    rk_k2k_ll_header* theirs = blockIdx.x == 0u ? q1 : q0;
    if (mp != 0u) {
        k2k_ll_bench_ping_pong<rk_scope_gpu, true>(mine, theirs, blockIdx.x, n, out_ns, errors);
    } else {
        k2k_ll_bench_ping_pong<rk_scope_gpu, false>(mine, theirs, blockIdx.x, n, out_ns, errors);
    }
}

// ---- the ladder: where a hop's time goes, one step at a time ----
//
// The same ping-pong in the same geometry per tier (shared: warps 0 and 1
// of one block; DSMEM: the two blocks of a cluster of 2, 32 threads each;
// global: blocks 0 and 1), `variant` choosing what moves. Each step
// changes one thing from the previous, so that one run says where the
// cycles go between the hand-written floor and the inboxes:
//   0 K2K_LAD_FLAG_ACQREL_1T   the floor again (bl_k2k_*'s loop: one thread
//                              per party, a u32 flag, st.release/ld.acquire
//                              through generic addresses), in this module;
//   1 K2K_LAD_FLAG_RELAXED_1T  the flag relaxed, the spin through the own
//                              state space (an LDS in the shared tiers): no
//                              fence, no protocol; a lower bound, not a
//                              protocol (it carries no data);
//   2 K2K_LAD_FLAG_RELAXED_WARP 1 with the party a whole warp (every lane
//                              loads the flag, __all_sync; lane 0 stores):
//                              the cost of a warp party;
//   3 K2K_LAD_LL_SP_DEFERRED   the LL single-producer route of
//                              k2k_ll_bench_* with the check of every word
//                              moved off the critical path (after the next
//                              send; the outgoing words computed before the
//                              wait): the protocol with the bench's own work
//                              out of the hop;
//   4 K2K_LAD_LL_SP_1T         LL single-producer, one thread per party
//                              storing and loading all 16 words (loads all
//                              in flight), check deferred as in 3;
//   5 K2K_LAD_K2K_SP_RX        rk_k2k single-producer route (as rk_k2k_sp)
//                              with the consumer keeping its head
//                              (rk_k2k_rx_*: one acquire load per poll through
//                              the own state space) and committing after its
//                              reply (as the actor loop releases its batch
//                              after the handlers): one fence per hop on the
//                              critical path, the producer's release;
//   6 K2K_LAD_K2K_MP_RX        5 with the multi-producer reserve from a guess
//                              (rk_k2k_mp_*: seq load + relaxed CAS).
//   7 K2K_LAD_MBAR_SP          rk_k2k_mbar single-producer route (shared
//                              and DSMEM only: mbarriers live in shared
//                              memory): the slot handed over by the full
//                              mbarrier (producer's arrive.release, the
//                              consumer's try_wait.parity.acquire spin), the
//                              envelope moved with plain stores and loads
//                              (racecheck-clean), the consumer's empty
//                              arrive after its reply;
//   8 K2K_LAD_MBAR_MP          7 with the multi-producer reserve (relaxed
//                              CAS on tail from a guess, credit from head;
//                              the consumer adds to head with red.release).
//   9 K2K_LAD_MBAR_SP_DEFERRED 7 with the loads and check of a received
//                              message after the next send (as 3): the
//                              full barrier's wait stays on the hop.
// 0..2 carry no message and are not protocols; 3..9 move the 64-byte
// envelope header with every guarantee of their inbox (backpressure
// included) and count wrong messages in `errors`. The global tier runs 0..6
// (the host skips 7, 8 and 9 there).

#define K2K_LAD_FLAG_ACQREL_1T 0u
#define K2K_LAD_FLAG_RELAXED_1T 1u
#define K2K_LAD_FLAG_RELAXED_WARP 2u
#define K2K_LAD_LL_SP_DEFERRED 3u
#define K2K_LAD_LL_SP_1T 4u
#define K2K_LAD_K2K_SP_RX 5u
#define K2K_LAD_K2K_MP_RX 6u
#define K2K_LAD_MBAR_SP 7u
#define K2K_LAD_MBAR_MP 8u
#define K2K_LAD_MBAR_SP_DEFERRED 9u
#define K2K_LAD_VARIANTS 10u

// The mbarrier variants' inbox (this party's receiving one) and, after it,
// the credit array of the route this party sends on.
#define K2K_LAD_MBAR_CAPACITY 4u
#define K2K_LAD_MBAR_CREDIT_OFFSET RK_K2K_MBAR_BYTES(K2K_LAD_MBAR_CAPACITY, K2K_BENCH_SLOT)

// The bytes one party's memory needs for any variant: the larger inbox.
#define K2K_LAD_BYTES                                                                      \
    (RK_K2K_LL_BYTES(K2K_LL_BENCH_CAPACITY, K2K_LL_BENCH_MSG) >                            \
             RK_K2K_BYTES(K2K_BENCH_CAPACITY, K2K_BENCH_SLOT)                              \
         ? RK_K2K_LL_BYTES(K2K_LL_BENCH_CAPACITY, K2K_LL_BENCH_MSG)                        \
         : RK_K2K_BYTES(K2K_BENCH_CAPACITY, K2K_BENCH_SLOT))

static_assert(K2K_LAD_MBAR_CREDIT_OFFSET + RK_K2K_MBAR_CREDIT_BYTES(K2K_LAD_MBAR_CAPACITY) <=
                  K2K_LAD_BYTES,
              "the mbarrier inbox and its credit fit a party's memory");

// u32 flag accessors per tier: generic acquire/release (as baselines.cu),
// generic relaxed store, relaxed load through the own state space.
template <class S>
struct k2k_lad_flag;

#define K2K_LAD_FLAG(TAG, SC, SCOPE_PTX, SPACE)                                              \
    template <>                                                                              \
    struct k2k_lad_flag<TAG> {                                                               \
        static __device__ __forceinline__ rk_u32 ld_acquire(const rk_u32* p) {              \
            return rk_ld_acquire_##SC##_u32(p);                                              \
        }                                                                                    \
        static __device__ __forceinline__ void st_release(rk_u32* p, rk_u32 v) {            \
            rk_st_release_##SC##_u32(p, v);                                                  \
        }                                                                                    \
        static __device__ __forceinline__ void st_relaxed(rk_u32* p, rk_u32 v) {            \
            rk_st_relaxed_##SC##_u32(p, v);                                                  \
        }                                                                                    \
        static __device__ __forceinline__ rk_u64 own(const void* p) {                       \
            rk_u64 a;                                                                        \
            asm("cvta.to." SPACE ".u64 %0, %1;" : "=l"(a) : "l"(p));                         \
            return a;                                                                        \
        }                                                                                    \
        static __device__ __forceinline__ rk_u32 ld_own_relaxed(rk_u64 a) {                 \
            rk_u32 v;                                                                        \
            asm volatile("ld.relaxed." SCOPE_PTX "." SPACE ".u32 %0, [%1];"                  \
                         : "=r"(v)                                                           \
                         : "l"(a)                                                            \
                         : "memory");                                                        \
            return v;                                                                        \
        }                                                                                    \
    };

K2K_LAD_FLAG(rk_scope_cta, cta, "cta", "shared")
K2K_LAD_FLAG(rk_scope_cluster, cluster, RK_SCOPE_CLUSTER_PTX, "shared")
K2K_LAD_FLAG(rk_scope_gpu, gpu, "gpu", "global")

#undef K2K_LAD_FLAG

// 0, 1, 2: a flag per party at the start of its memory (zeroed). The
// variant and the party are template arguments, so the loop has no branch
// but the spin (as the floor's kernel, where each party's code is its own).
template <class S, rk_u32 VARIANT, rk_u32 PARTY>
__device__ void k2k_lad_flag_loop(rk_u32* mine, rk_u32* theirs, rk_u32 n, rk_u64* out_ns) {
    using F = k2k_lad_flag<S>;
    const unsigned all = 0xFFFFFFFFu;
    const rk_u32 lane = threadIdx.x & 31u;
    const rk_u64 own = F::own(mine);
    const rk_u64 t0 = rk_globaltimer_ns();
    for (rk_u32 i = 1; i <= n; ++i) {
#pragma unroll
        for (rk_u32 turn = 0; turn < 2u; ++turn) {
            if ((turn == 0u) == (PARTY == 0u)) {
                if (VARIANT == K2K_LAD_FLAG_ACQREL_1T) {
                    F::st_release(theirs, i);
                } else if (VARIANT == K2K_LAD_FLAG_RELAXED_1T || lane == 0u) {
                    F::st_relaxed(theirs, i);
                }
            } else if (VARIANT == K2K_LAD_FLAG_ACQREL_1T) {
                while (F::ld_acquire(mine) != i) {
                }
            } else if (VARIANT == K2K_LAD_FLAG_RELAXED_1T) {
                while (F::ld_own_relaxed(own) != i) {
                }
            } else {
                while (!__all_sync(all, F::ld_own_relaxed(own) == i)) {
                }
            }
        }
    }
    if (PARTY == 0u && lane == 0u) {
        *out_ns = rk_globaltimer_ns() - t0;
    }
}

template <class S, rk_u32 VARIANT>
__device__ void k2k_lad_flag_pp(rk_u32* mine, rk_u32* theirs, rk_u32 party, rk_u32 n,
                                rk_u64* out_ns) {
    if (party == 0u) {
        k2k_lad_flag_loop<S, VARIANT, 0u>(mine, theirs, n, out_ns);
    } else {
        k2k_lad_flag_loop<S, VARIANT, 1u>(mine, theirs, n, out_ns);
    }
}

// 3, 4: LL single-producer, a warp (16 lanes store and load one word each)
// or one thread (all 16 words). The check of message i runs after this
// party's next send.
template <class S, rk_u32 LANES>
__device__ void k2k_lad_ll_pp(rk_k2k_ll_header* mine, rk_k2k_ll_header* theirs, rk_u32 party,
                              rk_u32 n, rk_u64* out_ns, rk_u32* errors) {
    constexpr rk_u32 PER_LANE = (K2K_LL_BENCH_WORDS + LANES - 1u) / LANES;
    const unsigned mask = LANES == 32u ? 0xFFFFFFFFu : 1u << (threadIdx.x & 31u);
    const rk_u32 lane = LANES == 32u ? (threadIdx.x & 31u) : 0u;
    rk_k2k_ll_rx rx = rk_k2k_ll_rx_open<S>(mine);
    const rk_k2k_ll_ref to = rk_k2k_ll_open(theirs);
    rk_k2k_ll_sp sp = rk_k2k_ll_sp_open<S>(to);
    rk_u32 bad = 0u;
    rk_u32 got[PER_LANE];
    rk_u32 got_i = 0u; // the round of the message in `got`; 0: none
    auto check = [&]() {
        bool ok = true;
#pragma unroll
        for (rk_u32 k = 0; k < PER_LANE; ++k) {
            const rk_u32 w = lane + k * LANES;
            ok = ok && (w >= K2K_LL_BENCH_WORDS || got[k] == k2k_ll_bench_word(party ^ 1u, got_i, w));
        }
        bad += __all_sync(mask, ok) ? 0u : 1u;
        got_i = 0u;
    };
    const rk_u64 t0 = rk_globaltimer_ns();
    for (rk_u32 i = 1; i <= n; ++i) {
        rk_u32 out[PER_LANE];
#pragma unroll
        for (rk_u32 k = 0; k < PER_LANE; ++k) {
            out[k] = k2k_ll_bench_word(party, i, lane + k * LANES);
        }
#pragma unroll
        for (rk_u32 turn = 0; turn < 2u; ++turn) {
            if ((turn == 0u) == (party == 0u)) {
                const rk_u64 pos = rk_k2k_ll_sp_reserve_wait<S>(sp, mask);
#pragma unroll
                for (rk_u32 k = 0; k < PER_LANE; ++k) {
                    if (lane + k * LANES < K2K_LL_BENCH_WORDS) {
                        rk_k2k_ll_put<S>(to, pos, lane + k * LANES, out[k]);
                    }
                }
                if (got_i != 0u) {
                    check();
                }
            } else {
                if (got_i != 0u) {
                    check(); // party 0's first message has no pending check
                }
                rk_k2k_ll_recv<S, PER_LANE>(rx, lane, LANES, mask, got);
                got_i = i;
            }
        }
    }
    if (got_i != 0u) {
        check();
    }
    if (lane == 0u) {
        if (party == 0u) {
            *out_ns = rk_globaltimer_ns() - t0;
        }
        if (bad != 0u) {
            atomicAdd(errors, bad);
        }
    }
}

// 5, 6: rk_k2k, one thread per party; the consumer keeps its head and
// commits after its next send.
template <class S, bool MP>
__device__ void k2k_lad_k2k_pp(rk_k2k_header* mine, rk_k2k_header* theirs, rk_u32 party, rk_u32 n,
                               rk_u64* out_ns, rk_u32* errors) {
    rk_k2k_rx rx = rk_k2k_rx_open<S>(mine);
    const rk_k2k_ref to = rk_k2k_open(theirs);
    rk_k2k_sp sp = rk_k2k_sp_open<S>(to);
    rk_k2k_mp mp = rk_k2k_mp_open<S>(to);
    bool taken = false; // a message read and not yet committed
    rk_u32 bad = 0u;
    const rk_u64 t0 = rk_globaltimer_ns();
    for (rk_u32 i = 1; i <= n; ++i) {
#pragma unroll
        for (rk_u32 turn = 0; turn < 2u; ++turn) {
            if ((turn == 0u) == (party == 0u)) {
                const rk_u64 pos =
                    MP ? rk_k2k_mp_reserve_wait<S>(mp) : rk_k2k_sp_reserve_wait<S>(sp);
                rk_envelope_header* m = rk_k2k_slot(to, pos);
                rk_envelope_header h = {};
                h.type_id = 0x50494E47u; // "PING"
                h.source_actor = party;
                h.dest_actor = party ^ 1u;
                h.sequence = i;
                *m = h;
                rk_k2k_commit<S>(to, pos);
                if (taken) {
                    rk_k2k_rx_commit<S>(rx);
                    taken = false;
                }
            } else {
                if (taken) {
                    rk_k2k_rx_commit<S>(rx); // party 0's first round
                    taken = false;
                }
                const rk_envelope_header* m;
                while ((m = rk_k2k_rx_try_begin<S>(rx)) == nullptr) {
                }
                bad += m->sequence != i || m->type_id != 0x50494E47u ||
                               m->source_actor != (party ^ 1u) || m->dest_actor != party
                           ? 1u
                           : 0u;
                taken = true;
            }
        }
    }
    if (taken) {
        rk_k2k_rx_commit<S>(rx);
    }
    if (party == 0u) {
        *out_ns = rk_globaltimer_ns() - t0;
    }
    if (bad != 0u) {
        atomicAdd(errors, bad);
    }
}

// The route to the peer's mbarrier inbox (`credit`: this party's credit
// array), and the credit array this party's consumer frees slots on (the
// peer's): for cta the peer's memory itself; for cluster the same variables
// in block `party ^ 1` (symmetric layout: the consumer names its own
// variable and arrives remotely on the peer's).
template <class S>
struct k2k_lad_mbar_route;

template <>
struct k2k_lad_mbar_route<rk_scope_cta> {
    static __device__ rk_k2k_mbar_ref open(rk_u8* /* mine */, rk_u8* theirs, rk_u64* credit,
                                           rk_u32 /* party */) {
        return rk_k2k_mbar_open<rk_scope_cta>(reinterpret_cast<rk_k2k_mbar_header*>(theirs),
                                              credit, 0u);
    }
    static __device__ rk_u64* rx_credit(rk_u8* /* mine */, rk_u8* theirs) {
        return reinterpret_cast<rk_u64*>(theirs + K2K_LAD_MBAR_CREDIT_OFFSET);
    }
};

template <>
struct k2k_lad_mbar_route<rk_scope_cluster> {
    static __device__ rk_k2k_mbar_ref open(rk_u8* mine, rk_u8* /* theirs */, rk_u64* credit,
                                           rk_u32 party) {
        return rk_k2k_mbar_open<rk_scope_cluster>(reinterpret_cast<rk_k2k_mbar_header*>(mine),
                                                  credit, party ^ 1u);
    }
    static __device__ rk_u64* rx_credit(rk_u8* mine, rk_u8* /* theirs */) {
        return reinterpret_cast<rk_u64*>(mine + K2K_LAD_MBAR_CREDIT_OFFSET);
    }
};

// 7, 8, 9: rk_k2k_mbar, one thread per party; the consumer frees its slot
// (empty arrive) after its next send. DEFER (9): the loads and the check of
// a received message also wait until after the next send (as variant 3):
// the wait for the full barrier stays on the hop, the bench's own reading
// of the message does not.
// The party is a template argument (no branch on it in the loop).
template <class S, bool MP, bool DEFER, rk_u32 PARTY>
__device__ void k2k_lad_mbar_loop(rk_u8* mine, rk_u8* theirs, rk_u32 n, rk_u64* out_ns,
                                  rk_u32* errors) {
    constexpr rk_u32 party = PARTY;
    using R = k2k_lad_mbar_route<S>;
    rk_u64* credit = reinterpret_cast<rk_u64*>(mine + K2K_LAD_MBAR_CREDIT_OFFSET);
    rk_k2k_mbar_rx rx =
        rk_k2k_mbar_rx_open<S>(reinterpret_cast<rk_k2k_mbar_header*>(mine), R::rx_credit(mine, theirs));
    const rk_k2k_mbar_ref to = R::open(mine, theirs, credit, party);
    rk_k2k_mbar_sp sp = rk_k2k_mbar_sp_open(to);
    rk_k2k_mbar_mp mp = rk_k2k_mbar_mp_open<S>(to);
    bool taken = false; // a message read and its slot not yet freed
    rk_u32 bad = 0u;
    rk_u32 pending = 0u; // DEFER: the sequence the taken message must carry
    const auto check = [&](const rk_envelope_header* m, rk_u32 i) {
        bad += m->sequence != i || m->type_id != 0x50494E47u || m->source_actor != (party ^ 1u) ||
                       m->dest_actor != party
                   ? 1u
                   : 0u;
    };
    const rk_u64 t0 = rk_globaltimer_ns();
    for (rk_u32 i = 1; i <= n; ++i) {
#pragma unroll
        for (rk_u32 turn = 0; turn < 2u; ++turn) {
            if ((turn == 0u) == (party == 0u)) {
                const rk_u64 pos =
                    MP ? rk_k2k_mbar_mp_reserve_wait<S>(mp) : rk_k2k_mbar_sp_reserve_wait<S>(sp);
                rk_envelope_header* m = static_cast<rk_envelope_header*>(rk_k2k_mbar_slot(to, pos));
                rk_envelope_header h = {};
                h.type_id = 0x50494E47u; // "PING"
                h.source_actor = party;
                h.dest_actor = party ^ 1u;
                h.sequence = i;
                *m = h;
                rk_k2k_mbar_commit<S>(to, pos);
                if (taken) {
                    if (DEFER) {
                        check(static_cast<const rk_envelope_header*>(rk_k2k_mbar_slot(rx.r, rx.head)),
                              pending);
                    }
                    rk_k2k_mbar_rx_commit<S>(rx);
                    taken = false;
                }
            } else {
                if (taken) { // party 0's first round
                    if (DEFER) {
                        check(static_cast<const rk_envelope_header*>(rk_k2k_mbar_slot(rx.r, rx.head)),
                              pending);
                    }
                    rk_k2k_mbar_rx_commit<S>(rx);
                    taken = false;
                }
                const rk_envelope_header* m =
                    static_cast<const rk_envelope_header*>(rk_k2k_mbar_rx_begin_wait<S>(rx));
                if (DEFER) {
                    pending = i;
                } else {
                    check(m, i);
                }
                taken = true;
            }
        }
    }
    if (taken) {
        if (DEFER) {
            check(static_cast<const rk_envelope_header*>(rk_k2k_mbar_slot(rx.r, rx.head)), pending);
        }
        rk_k2k_mbar_rx_commit<S>(rx);
    }
    if (party == 0u) {
        *out_ns = rk_globaltimer_ns() - t0;
    }
    if (bad != 0u) {
        atomicAdd(errors, bad);
    }
}

template <class S, bool MP, bool DEFER>
__device__ void k2k_lad_mbar_pp(rk_u8* mine, rk_u8* theirs, rk_u32 party, rk_u32 n,
                                rk_u64* out_ns, rk_u32* errors) {
    if (party == 0u) {
        k2k_lad_mbar_loop<S, MP, DEFER, 0u>(mine, theirs, n, out_ns, errors);
    } else {
        k2k_lad_mbar_loop<S, MP, DEFER, 1u>(mine, theirs, n, out_ns, errors);
    }
}

// The mbarrier variants need shared memory: the global tier has none.
template <class S>
struct k2k_lad_mbar_party {
    static __device__ void run(void* mine, void* theirs, rk_u32 party, rk_u32 n, rk_u32 variant,
                               rk_u64* out_ns, rk_u32* errors) {
        rk_u8* m = static_cast<rk_u8*>(mine);
        rk_u8* t = static_cast<rk_u8*>(theirs);
        if (variant == K2K_LAD_MBAR_MP) {
            k2k_lad_mbar_pp<S, true, false>(m, t, party, n, out_ns, errors);
        } else if (variant == K2K_LAD_MBAR_SP_DEFERRED) {
            k2k_lad_mbar_pp<S, false, true>(m, t, party, n, out_ns, errors);
        } else {
            k2k_lad_mbar_pp<S, false, false>(m, t, party, n, out_ns, errors);
        }
    }
};

template <>
struct k2k_lad_mbar_party<rk_scope_gpu> {
    static __device__ void run(void*, void*, rk_u32 party, rk_u32, rk_u32, rk_u64*, rk_u32* errors) {
        if (party == 0u) {
            atomicAdd(errors, 1u); // not a global-memory protocol: a failed run
        }
    }
};

// One party of variant `variant`: every thread of the party's warp calls it
// (1-thread variants keep lane 0 only). `mine` and `theirs` hold
// K2K_LAD_BYTES each, set up for the variant.
template <class S>
__device__ void k2k_lad_party(void* mine, void* theirs, rk_u32 party, rk_u32 n, rk_u32 variant,
                              rk_u64* out_ns, rk_u32* errors) {
    const bool lane0 = (threadIdx.x & 31u) == 0u;
    switch (variant) {
    case K2K_LAD_FLAG_ACQREL_1T:
        if (lane0) {
            k2k_lad_flag_pp<S, K2K_LAD_FLAG_ACQREL_1T>(static_cast<rk_u32*>(mine),
                                                       static_cast<rk_u32*>(theirs), party, n,
                                                       out_ns);
        }
        break;
    case K2K_LAD_FLAG_RELAXED_1T:
        if (lane0) {
            k2k_lad_flag_pp<S, K2K_LAD_FLAG_RELAXED_1T>(static_cast<rk_u32*>(mine),
                                                        static_cast<rk_u32*>(theirs), party, n,
                                                        out_ns);
        }
        break;
    case K2K_LAD_FLAG_RELAXED_WARP:
        k2k_lad_flag_pp<S, K2K_LAD_FLAG_RELAXED_WARP>(static_cast<rk_u32*>(mine),
                                                      static_cast<rk_u32*>(theirs), party, n,
                                                      out_ns);
        break;
    case K2K_LAD_LL_SP_DEFERRED:
        k2k_lad_ll_pp<S, 32u>(static_cast<rk_k2k_ll_header*>(mine),
                              static_cast<rk_k2k_ll_header*>(theirs), party, n, out_ns, errors);
        break;
    case K2K_LAD_LL_SP_1T:
        if (lane0) {
            k2k_lad_ll_pp<S, 1u>(static_cast<rk_k2k_ll_header*>(mine),
                                 static_cast<rk_k2k_ll_header*>(theirs), party, n, out_ns, errors);
        }
        break;
    case K2K_LAD_K2K_SP_RX:
        if (lane0) {
            k2k_lad_k2k_pp<S, false>(static_cast<rk_k2k_header*>(mine),
                                     static_cast<rk_k2k_header*>(theirs), party, n, out_ns, errors);
        }
        break;
    case K2K_LAD_K2K_MP_RX:
        if (lane0) {
            k2k_lad_k2k_pp<S, true>(static_cast<rk_k2k_header*>(mine),
                                    static_cast<rk_k2k_header*>(theirs), party, n, out_ns, errors);
        }
        break;
    case K2K_LAD_MBAR_SP:
    case K2K_LAD_MBAR_MP:
    case K2K_LAD_MBAR_SP_DEFERRED:
        if (lane0) {
            k2k_lad_mbar_party<S>::run(mine, theirs, party, n, variant, out_ns, errors);
        }
        break;
    default:
        if (lane0 && party == 0u) {
            atomicAdd(errors, 1u); // an unknown variant is a failed run
        }
        break;
    }
}

// Sets up one party's shared memory for `variant` (every thread of the
// block calls it; the caller synchronises after). `credit_ranks`: the
// mbarrier inbox's (0 in one block; the peer's rank bit in a cluster).
__device__ void k2k_lad_init_shared(rk_u8* box, rk_u32 variant, rk_u32 owner,
                                    rk_u32 credit_ranks) {
    if (variant <= K2K_LAD_FLAG_RELAXED_WARP) {
        if (threadIdx.x < 32u) {
            reinterpret_cast<rk_u32*>(box)[threadIdx.x] = 0u;
        }
    } else if (variant <= K2K_LAD_LL_SP_1T) {
        rk_k2k_ll_init(reinterpret_cast<rk_k2k_ll_header*>(box), K2K_LL_BENCH_CAPACITY,
                       K2K_LL_BENCH_MSG, owner);
    } else if (variant <= K2K_LAD_K2K_MP_RX) {
        rk_k2k_init(reinterpret_cast<rk_k2k_header*>(box), K2K_BENCH_CAPACITY, K2K_BENCH_SLOT,
                    owner);
    } else {
        rk_k2k_mbar_init(reinterpret_cast<rk_k2k_mbar_header*>(box), K2K_LAD_MBAR_CAPACITY,
                         K2K_BENCH_SLOT, owner, variant == K2K_LAD_MBAR_MP, credit_ranks);
        rk_k2k_mbar_credit_init(reinterpret_cast<rk_u64*>(box + K2K_LAD_MBAR_CREDIT_OFFSET),
                                K2K_LAD_MBAR_CAPACITY);
    }
}

// Warps 0 and 1 of one block (64 threads); both parties' memory in the
// block's shared memory.
extern "C" __global__ void k2k_lad_cta(rk_u32 n, rk_u64* out_ns, rk_u32* errors, rk_u32 variant) {
    __shared__ alignas(128) rk_u8 box[2][K2K_LAD_BYTES];
    k2k_lad_init_shared(box[0], variant, 0u, 0u);
    k2k_lad_init_shared(box[1], variant, 1u, 0u);
    __syncthreads();
    const rk_u32 w = threadIdx.x / 32u;
    if (w > 1u) {
        return;
    }
    k2k_lad_party<rk_scope_cta>(box[w], box[w ^ 1u], w, n, variant, out_ns, errors);
}

// The two blocks (32 threads each) of a cluster of 2; each party's memory
// in its block's shared memory, the peer's through DSMEM.
extern "C" __global__ void k2k_lad_cluster(rk_u32 n, rk_u64* out_ns, rk_u32* errors,
                                           rk_u32 variant) {
    __shared__ alignas(128) rk_u8 box[K2K_LAD_BYTES];
    const rk_u32 rank = rk_cluster_rank();
    k2k_lad_init_shared(box, variant, rank, 1u << (rank ^ 1u));
    rk_cluster_sync();
    if (threadIdx.x < 32u) {
        k2k_lad_party<rk_scope_cluster>(box, rk_cluster_map(box, rank ^ 1u), rank, n, variant,
                                        out_ns, errors);
    }
    // Neither block exits while the other may still write its memory.
    rk_cluster_sync();
}

// Blocks 0 and 1 (32 threads each); each party's memory in global memory,
// set up by the host for the variant (zeroed flags, or the inbox's initial
// image: K2kLlLayout / K2kLayout).
extern "C" __global__ void k2k_lad_gpu(rk_u8* q0, rk_u8* q1, rk_u32 n, rk_u64* out_ns,
                                       rk_u32* errors, rk_u32 variant) {
    if (threadIdx.x >= 32u || blockIdx.x > 1u) {
        return;
    }
    k2k_lad_party<rk_scope_gpu>(blockIdx.x == 0u ? q0 : q1, blockIdx.x == 0u ? q1 : q0,
                                blockIdx.x, n, variant, out_ns, errors);
}
