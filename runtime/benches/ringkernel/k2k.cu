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
