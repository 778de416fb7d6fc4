// Test kernels of the low-latency K2K inbox (device-lib/cuda/rk_k2k_ll.cuh)
// for runtime/tests/k2k_ll.rs.
//
// Many producers (k2k_ll_mp_{cta,cluster,gpu}): one inbox, one consumer
// warp, 128 producer threads that each send `msgs` messages of
// LLT_WORDS words through the multi-producer reserve, one thread writing
// all of its message's words:
//   cta      one block: warp 0 consumes, threads 32.. produce; the inbox is
//            in the block's shared memory;
//   cluster  one cluster of 5 blocks of 32 threads (cluster dimensions =
//            the grid): block 0's warp consumes, the other blocks produce
//            into block 0's shared memory through DSMEM;
//   gpu      block 0's warp consumes, blocks 1..4 produce; the inbox is in
//            global memory (the host's K2kLlLayout image).
// Parameters: `capacity` (a power of two <= LLT_MAX_CAPACITY; the gpu
// tier's is the host's image), `msgs` per producer, `mode` (0:
// rk_k2k_ll_mp_reserve_wait; 1: rk_k2k_ll_mp_try_reserve retried, failures
// counted), `lanes` the consumer looks with (32: the warp, one word per
// lane; 1: lane 0 alone, every word), `delay_ns` the consumer sleeps after
// each message (a slow consumer fills the inbox). `log[k]` = (producer <<
// 16 | index) of the k-th message received, bit 31 when any word differed
// from what that producer wrote; counters: [0] received, [1] try_reserve
// failures (full), [2] producers that finished.
//
// Ping-pong (k2k_ll_pp_{cta,cluster,gpu}): two warp parties bounce `n`
// messages of LLT_PP_WORDS words (two per lane) through inboxes of
// `capacity` slots, single-producer routes (mp = 0) or the warp
// multi-producer reserve (mp = 1); every word of every message is checked,
// `counters[0]` counts bad messages and `counters[1]` received ones.
#include "ringkernel.cuh"

#define LLT_WORDS 32u          // 128-byte messages
#define LLT_MSG (LLT_WORDS * 4u)
#define LLT_MAX_CAPACITY 16u
#define LLT_PP_WORDS 64u       // 256-byte messages: two words per lane
#define LLT_PP_MSG (LLT_PP_WORDS * 4u)
#define LLT_TORN 0x80000000u

// Word w of message `id`: word 0 the id, the others a hash of (id, w), so a
// slot mixing two messages, or holding an older lap's word, fails the check.
__device__ __forceinline__ rk_u32 llt_word(rk_u32 id, rk_u32 w) {
    if (w == 0u) {
        return id;
    }
    rk_u32 x = id * 0x9E3779B1u + w * 0x85EBCA77u;
    x ^= x >> 15;
    x *= 0x2C1B3C6Du;
    x ^= x >> 12;
    return x;
}

template <class S>
__device__ void llt_produce(rk_k2k_ll_header* q, rk_u32 producer, rk_u32 msgs, rk_u32 mode,
                            rk_u32* counters) {
    const rk_k2k_ll_ref r = rk_k2k_ll_open(q);
    rk_k2k_ll_mp p = rk_k2k_ll_mp_open<S>(r);
    rk_u32 full = 0u;
    for (rk_u32 i = 0; i < msgs; ++i) {
        const rk_u32 id = (producer << 16) | i;
        rk_u64 pos;
        if (mode == 0u) {
            pos = rk_k2k_ll_mp_reserve_wait<S>(p);
        } else {
            while (!rk_k2k_ll_mp_try_reserve<S>(p, &pos)) {
                ++full;
                rk_nanosleep(64u);
            }
        }
        for (rk_u32 w = 0; w < LLT_WORDS; ++w) {
            rk_k2k_ll_put<S>(r, pos, w, llt_word(id, w));
        }
    }
    if (full != 0u) {
        atomicAdd(&counters[1], full);
    }
    atomicAdd(&counters[2], 1u);
}

// The consumer warp (all 32 lanes call it).
template <class S>
__device__ void llt_consume(rk_k2k_ll_header* q, rk_u32 total, rk_u32 lanes, rk_u32 delay_ns,
                            rk_u32* log, rk_u32* counters) {
    const rk_u32 lane = threadIdx.x & 31u;
    rk_k2k_ll_rx rx = rk_k2k_ll_rx_open<S>(q);
    for (rk_u32 k = 0; k < total; ++k) {
        rk_u32 entry;
        if (lanes == 32u) {
            rk_u32 d[1];
            rk_k2k_ll_recv<S, 1>(rx, lane, 32u, 0xFFFFFFFFu, d);
            const rk_u32 id = __shfl_sync(0xFFFFFFFFu, d[0], 0);
            const bool torn = !__all_sync(0xFFFFFFFFu, d[0] == llt_word(id, lane));
            entry = id | (torn ? LLT_TORN : 0u);
        } else {
            entry = 0u;
            if (lane == 0u) {
                rk_u32 d[LLT_WORDS];
                rk_k2k_ll_recv<S, LLT_WORDS>(rx, 0u, 1u, 1u, d);
                bool torn = false;
                for (rk_u32 w = 0; w < LLT_WORDS; ++w) {
                    torn = torn || d[w] != llt_word(d[0], w);
                }
                entry = d[0] | (torn ? LLT_TORN : 0u);
            }
            __syncwarp();
        }
        if (lane == 0u) {
            log[k] = entry;
            counters[0] += 1u;
            if (delay_ns != 0u) {
                rk_nanosleep(delay_ns);
            }
        }
        __syncwarp();
    }
}

extern "C" __global__ void k2k_ll_mp_cta(rk_u32 capacity, rk_u32 msgs, rk_u32 mode, rk_u32 lanes,
                                         rk_u32 delay_ns, rk_u32* log, rk_u32* counters) {
    __shared__ alignas(128) rk_u8 box[RK_K2K_LL_BYTES(LLT_MAX_CAPACITY, LLT_MSG)];
    rk_k2k_ll_header* q = reinterpret_cast<rk_k2k_ll_header*>(box);
    rk_k2k_ll_init(q, capacity, LLT_MSG, 0u);
    __syncthreads();
    const rk_u32 producers = blockDim.x - 32u;
    if (threadIdx.x < 32u) {
        llt_consume<rk_scope_cta>(q, producers * msgs, lanes, delay_ns, log, counters);
    } else {
        llt_produce<rk_scope_cta>(q, threadIdx.x - 32u, msgs, mode, counters);
    }
}

extern "C" __global__ void k2k_ll_mp_cluster(rk_u32 capacity, rk_u32 msgs, rk_u32 mode,
                                             rk_u32 lanes, rk_u32 delay_ns, rk_u32* log,
                                             rk_u32* counters) {
    __shared__ alignas(128) rk_u8 box[RK_K2K_LL_BYTES(LLT_MAX_CAPACITY, LLT_MSG)];
    rk_k2k_ll_header* q = reinterpret_cast<rk_k2k_ll_header*>(box);
    const rk_u32 rank = rk_cluster_rank();
    if (rank == 0u) {
        rk_k2k_ll_init(q, capacity, LLT_MSG, 0u);
    }
    rk_cluster_sync();
    const rk_u32 producers = (rk_cluster_size() - 1u) * blockDim.x;
    if (rank == 0u) {
        if (threadIdx.x < 32u) {
            llt_consume<rk_scope_cluster>(q, producers * msgs, lanes, delay_ns, log, counters);
        }
    } else {
        llt_produce<rk_scope_cluster>(rk_cluster_map(q, 0u), (rank - 1u) * blockDim.x + threadIdx.x,
                                      msgs, mode, counters);
    }
    // Block 0's shared memory outlives every producer's last store.
    rk_cluster_sync();
}

extern "C" __global__ void k2k_ll_mp_gpu(rk_k2k_ll_header* q, rk_u32 msgs, rk_u32 mode,
                                         rk_u32 lanes, rk_u32 delay_ns, rk_u32* log,
                                         rk_u32* counters) {
    const rk_u32 producers = (gridDim.x - 1u) * blockDim.x;
    if (blockIdx.x == 0u) {
        if (threadIdx.x < 32u) {
            llt_consume<rk_scope_gpu>(q, producers * msgs, lanes, delay_ns, log, counters);
        }
    } else {
        llt_produce<rk_scope_gpu>(q, (blockIdx.x - 1u) * blockDim.x + threadIdx.x, msgs, mode,
                                  counters);
    }
}

// ---- ping-pong ----

template <class S>
__device__ void llt_ping_pong(rk_k2k_ll_header* mine, rk_k2k_ll_header* theirs, rk_u32 party,
                              rk_u32 n, rk_u32 mp, rk_u32* counters) {
    const unsigned all = 0xFFFFFFFFu;
    const rk_u32 lane = threadIdx.x & 31u;
    rk_k2k_ll_rx rx = rk_k2k_ll_rx_open<S>(mine);
    const rk_k2k_ll_ref to = rk_k2k_ll_open(theirs);
    rk_k2k_ll_sp sp = rk_k2k_ll_sp_open<S>(to);
    rk_k2k_ll_mp m = rk_k2k_ll_mp_open<S>(to);
    rk_u32 bad = 0u, received = 0u;
    for (rk_u32 i = 0; i < n; ++i) {
        for (rk_u32 turn = 0; turn < 2u; ++turn) {
            if ((turn == 0u) == (party == 0u)) {
                const rk_u64 pos = mp != 0u ? rk_k2k_ll_mp_reserve_wait_sync<S>(m, all)
                                            : rk_k2k_ll_sp_reserve_wait<S>(sp, all);
                const rk_u32 id = (party << 16) | (i & 0xFFFFu);
                // Each lane's message words come from memory, as a sender's
                // staged envelope would: the generic rk_k2k_ll_write path.
                rk_u32 words[LLT_PP_WORDS];
                for (rk_u32 w = lane; w < LLT_PP_WORDS; w += 32u) {
                    words[w] = llt_word(id ^ (i << 17), w);
                }
                rk_k2k_ll_write<S>(to, pos, words, lane, 32u);
            } else {
                rk_u32 d[2];
                rk_k2k_ll_recv<S, 2>(rx, lane, 32u, all, d);
                const rk_u32 id = ((party ^ 1u) << 16) | (i & 0xFFFFu);
                const bool ok = d[0] == llt_word(id ^ (i << 17), lane) &&
                                d[1] == llt_word(id ^ (i << 17), lane + 32u);
                bad += __all_sync(all, ok) ? 0u : 1u;
                received += 1u;
            }
        }
    }
    if (lane == 0u) {
        atomicAdd(&counters[0], bad);
        atomicAdd(&counters[1], received);
    }
}

extern "C" __global__ void k2k_ll_pp_cta(rk_u32 capacity, rk_u32 n, rk_u32 mp, rk_u32* counters) {
    __shared__ alignas(128) rk_u8 box[2][RK_K2K_LL_BYTES(LLT_MAX_CAPACITY, LLT_PP_MSG)];
    rk_k2k_ll_header* q0 = reinterpret_cast<rk_k2k_ll_header*>(box[0]);
    rk_k2k_ll_header* q1 = reinterpret_cast<rk_k2k_ll_header*>(box[1]);
    rk_k2k_ll_init(q0, capacity, LLT_PP_MSG, 0u);
    rk_k2k_ll_init(q1, capacity, LLT_PP_MSG, 1u);
    __syncthreads();
    const rk_u32 w = threadIdx.x / 32u;
    if (w <= 1u) {
        llt_ping_pong<rk_scope_cta>(w == 0u ? q0 : q1, w == 0u ? q1 : q0, w, n, mp, counters);
    }
}

extern "C" __global__ void k2k_ll_pp_cluster(rk_u32 capacity, rk_u32 n, rk_u32 mp,
                                             rk_u32* counters) {
    __shared__ alignas(128) rk_u8 box[RK_K2K_LL_BYTES(LLT_MAX_CAPACITY, LLT_PP_MSG)];
    rk_k2k_ll_header* q = reinterpret_cast<rk_k2k_ll_header*>(box);
    const rk_u32 rank = rk_cluster_rank();
    rk_k2k_ll_init(q, capacity, LLT_PP_MSG, rank);
    rk_cluster_sync();
    if (threadIdx.x < 32u) {
        llt_ping_pong<rk_scope_cluster>(q, rk_cluster_map(q, rank ^ 1u), rank, n, mp, counters);
    }
    rk_cluster_sync();
}

extern "C" __global__ void k2k_ll_pp_gpu(rk_k2k_ll_header* q0, rk_k2k_ll_header* q1, rk_u32 n,
                                         rk_u32 mp, rk_u32* counters) {
    if (threadIdx.x >= 32u || blockIdx.x > 1u) {
        return;
    }
    llt_ping_pong<rk_scope_gpu>(blockIdx.x == 0u ? q0 : q1, blockIdx.x == 0u ? q1 : q0, blockIdx.x,
                                n, mp, counters);
}
