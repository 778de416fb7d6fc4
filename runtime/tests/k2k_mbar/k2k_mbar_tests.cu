// Test kernels of the mbarrier K2K inboxes (device-lib/cuda/rk_k2k_mbar.cuh)
// for runtime/tests/k2k_mbar.rs. Written to run under compute-sanitizer's
// racecheck: every payload byte moves with plain stores and loads, ordered
// only by the inbox's mbarriers.
//
// Many producers (k2k_mbar_mp_{cta,cluster}): one multi-producer inbox,
// one consumer thread, 128 producer threads that each send `msgs` messages
// of MBT_WORDS u32 words (word 0 the id, the others a hash of it):
//   cta      one block: thread 0 consumes, threads 32.. produce; the inbox
//            and the credit array in the block's shared memory;
//   cluster  one cluster of 5 blocks of 32 threads (cluster dimensions =
//            the grid): block 0's thread 0 consumes, blocks 1..4 produce
//            into block 0's shared memory through DSMEM, each waiting on its
//            own block's credit array (credit_ranks = 0b11110).
// Parameters: `capacity` (a power of two <= MBT_MAX_CAPACITY), `msgs` per
// producer, `mode` (0: rk_k2k_mbar_mp_reserve_wait; 1: try-reserve retried,
// failures counted), `delay_ns` the consumer sleeps after each message (a
// slow consumer fills the inbox). `log[k]` = (producer << 16 | index) of
// the k-th message received, bit 31 when any word differed; counters: [0]
// received, [1] try-reserve failures (full), [2] producers that finished,
// [3] set by the first refused try-reserve. A slow consumer (`delay_ns` set)
// waits for [3] before its first message, so the inbox is found full
// whatever the timing (under compute-sanitizer a producer runs many times
// slower than the consumer's sleep), unless mode 0 never tries.

//
// Single producer (k2k_mbar_sp_{cta,cluster}): one producer thread sends
// `total` messages through rk_k2k_mbar_sp (mode 0: reserve_wait; 1:
// try-reserve retried, failures counted) to a consumer that sleeps
// `delay_ns` after each; logged like the many-producer kernels (producer 0,
// index = k; `msgs` = total).
//
// Ping-pong (k2k_mbar_pp_{cta,cluster}): two parties (thread 0 of warps 0
// and 1, or of the two blocks of a cluster of 2) bounce `n` messages through
// single-producer (mp = 0) or multi-producer (mp = 1) inboxes of `capacity`
// slots; every word checked; counters[0] bad messages, [1] received.
#include "ringkernel.cuh"

#define MBT_WORDS 16u // 64-byte messages
#define MBT_MSG (MBT_WORDS * 4u)
#define MBT_MAX_CAPACITY 16u
#define MBT_TORN 0x80000000u

__device__ __forceinline__ rk_u32 mbt_word(rk_u32 id, rk_u32 w) {
    if (w == 0u) {
        return id;
    }
    rk_u32 x = id * 0x9E3779B1u + w * 0x85EBCA77u;
    x ^= x >> 15;
    x *= 0x2C1B3C6Du;
    x ^= x >> 12;
    return x;
}

// The message's words with plain stores (a generic address: this block's
// shared memory, or another block's through DSMEM).
__device__ __forceinline__ void mbt_write(void* slot, rk_u32 id) {
    rk_u32* w = static_cast<rk_u32*>(slot);
    for (rk_u32 k = 0; k < MBT_WORDS; ++k) {
        w[k] = mbt_word(id, k);
    }
}

// The log entry of the message in `slot`: its id, bit 31 when torn.
__device__ __forceinline__ rk_u32 mbt_read(const void* slot) {
    const rk_u32* w = static_cast<const rk_u32*>(slot);
    const rk_u32 id = w[0];
    bool torn = false;
    for (rk_u32 k = 1; k < MBT_WORDS; ++k) {
        torn = torn || w[k] != mbt_word(id, k);
    }
    return id | (torn ? MBT_TORN : 0u);
}

template <class S>
__device__ void mbt_produce_mp(const rk_k2k_mbar_ref& r, rk_u32 producer, rk_u32 msgs, rk_u32 mode,
                               rk_u32* counters) {
    rk_k2k_mbar_mp p = rk_k2k_mbar_mp_open<S>(r);
    rk_u32 full = 0u;
    for (rk_u32 i = 0; i < msgs; ++i) {
        rk_u64 pos;
        if (mode == 0u) {
            pos = rk_k2k_mbar_mp_reserve_wait<S>(p);
        } else {
            while (!rk_k2k_mbar_mp_try_reserve<S>(p, &pos)) {
                if (full++ == 0u) {
                    atomicExch(&counters[3], 1u);
                }
                rk_nanosleep(64u);
            }
        }
        mbt_write(rk_k2k_mbar_slot(r, pos), (producer << 16) | i);
        rk_k2k_mbar_commit<S>(r, pos);
    }
    if (full != 0u) {
        atomicAdd(&counters[1], full);
    }
    atomicAdd(&counters[2], 1u);
}

template <class S>
__device__ void mbt_consume(rk_k2k_mbar_header* q, rk_u64* credit, rk_u32 total, rk_u32 delay_ns,
                            rk_u32* log, rk_u32* counters) {
    rk_k2k_mbar_rx rx = rk_k2k_mbar_rx_open<S>(q, credit);
    if (delay_ns != 0u) {
        // Until a producer has found the inbox full (bounded: a run whose
        // producers never try is caught by the host's check instead).
        for (rk_u32 spin = 0u; spin < (1u << 22) && atomicAdd(&counters[3], 0u) == 0u; ++spin) {
            rk_nanosleep(delay_ns);
        }
    }
    for (rk_u32 k = 0; k < total; ++k) {
        const void* slot = rk_k2k_mbar_rx_begin_wait<S>(rx);
        log[k] = mbt_read(slot);
        rk_k2k_mbar_rx_commit<S>(rx);
        counters[0] += 1u;
        if (delay_ns != 0u) {
            rk_nanosleep(delay_ns);
        }
    }
}

extern "C" __global__ void k2k_mbar_mp_cta(rk_u32 capacity, rk_u32 msgs, rk_u32 mode,
                                           rk_u32 delay_ns, rk_u32* log, rk_u32* counters) {
    __shared__ alignas(128) rk_u8 box[RK_K2K_MBAR_BYTES(MBT_MAX_CAPACITY, MBT_MSG)];
    __shared__ rk_u64 credit[MBT_MAX_CAPACITY];
    rk_k2k_mbar_header* q = reinterpret_cast<rk_k2k_mbar_header*>(box);
    rk_k2k_mbar_init(q, capacity, MBT_MSG, 0u, true, 0u);
    rk_k2k_mbar_credit_init(credit, capacity);
    __syncthreads();
    const rk_u32 producers = blockDim.x - 32u;
    if (threadIdx.x == 0u) {
        mbt_consume<rk_scope_cta>(q, credit, producers * msgs, delay_ns, log, counters);
    } else if (threadIdx.x >= 32u) {
        const rk_k2k_mbar_ref r = rk_k2k_mbar_open<rk_scope_cta>(q, credit, 0u);
        mbt_produce_mp<rk_scope_cta>(r, threadIdx.x - 32u, msgs, mode, counters);
    }
}

extern "C" __global__ void k2k_mbar_mp_cluster(rk_u32 capacity, rk_u32 msgs, rk_u32 mode,
                                               rk_u32 delay_ns, rk_u32* log, rk_u32* counters) {
    __shared__ alignas(128) rk_u8 box[RK_K2K_MBAR_BYTES(MBT_MAX_CAPACITY, MBT_MSG)];
    __shared__ rk_u64 credit[MBT_MAX_CAPACITY];
    rk_k2k_mbar_header* q = reinterpret_cast<rk_k2k_mbar_header*>(box);
    const rk_u32 rank = rk_cluster_rank();
    const rk_u32 blocks = rk_cluster_size();
    if (rank == 0u) {
        // Every other block of the cluster produces and keeps a credit array.
        const rk_u32 producer_ranks = ((1u << blocks) - 1u) & ~1u;
        rk_k2k_mbar_init(q, capacity, MBT_MSG, 0u, true, producer_ranks);
    } else {
        rk_k2k_mbar_credit_init(credit, capacity);
    }
    rk_cluster_sync();
    const rk_u32 producers = (blocks - 1u) * blockDim.x;
    if (rank == 0u) {
        if (threadIdx.x == 0u) {
            mbt_consume<rk_scope_cluster>(q, credit, producers * msgs, delay_ns, log, counters);
        }
    } else {
        const rk_k2k_mbar_ref r = rk_k2k_mbar_open<rk_scope_cluster>(q, credit, 0u);
        mbt_produce_mp<rk_scope_cluster>(r, (rank - 1u) * blockDim.x + threadIdx.x, msgs, mode,
                                         counters);
    }
    // Block 0's shared memory outlives every producer's last store, and
    // every producer block's credit array the consumer's last arrive.
    rk_cluster_sync();
}

template <class S>
__device__ void mbt_produce_sp(const rk_k2k_mbar_ref& r, rk_u32 total, rk_u32 mode,
                               rk_u32* counters) {
    rk_k2k_mbar_sp p = rk_k2k_mbar_sp_open(r);
    rk_u32 full = 0u;
    for (rk_u32 i = 0; i < total; ++i) {
        rk_u64 pos;
        if (mode == 0u) {
            pos = rk_k2k_mbar_sp_reserve_wait<S>(p);
        } else {
            while (!rk_k2k_mbar_sp_try_reserve<S>(p, &pos)) {
                if (full++ == 0u) {
                    atomicExch(&counters[3], 1u);
                }
                rk_nanosleep(64u);
            }
        }
        mbt_write(rk_k2k_mbar_slot(r, pos), i);
        rk_k2k_mbar_commit<S>(r, pos);
    }
    if (full != 0u) {
        atomicAdd(&counters[1], full);
    }
    atomicAdd(&counters[2], 1u);
}

extern "C" __global__ void k2k_mbar_sp_cta(rk_u32 capacity, rk_u32 total, rk_u32 mode,
                                           rk_u32 delay_ns, rk_u32* log, rk_u32* counters) {
    __shared__ alignas(128) rk_u8 box[RK_K2K_MBAR_BYTES(MBT_MAX_CAPACITY, MBT_MSG)];
    __shared__ rk_u64 credit[MBT_MAX_CAPACITY];
    rk_k2k_mbar_header* q = reinterpret_cast<rk_k2k_mbar_header*>(box);
    rk_k2k_mbar_init(q, capacity, MBT_MSG, 0u, false, 0u);
    rk_k2k_mbar_credit_init(credit, capacity);
    __syncthreads();
    if (threadIdx.x == 0u) {
        mbt_consume<rk_scope_cta>(q, credit, total, delay_ns, log, counters);
    } else if (threadIdx.x == 32u) {
        mbt_produce_sp<rk_scope_cta>(rk_k2k_mbar_open<rk_scope_cta>(q, credit, 0u), total, mode,
                                     counters);
    }
}

// A cluster of 2: block 1's thread 0 produces into block 0's inbox.
extern "C" __global__ void k2k_mbar_sp_cluster(rk_u32 capacity, rk_u32 total, rk_u32 mode,
                                               rk_u32 delay_ns, rk_u32* log, rk_u32* counters) {
    __shared__ alignas(128) rk_u8 box[RK_K2K_MBAR_BYTES(MBT_MAX_CAPACITY, MBT_MSG)];
    __shared__ rk_u64 credit[MBT_MAX_CAPACITY];
    rk_k2k_mbar_header* q = reinterpret_cast<rk_k2k_mbar_header*>(box);
    const rk_u32 rank = rk_cluster_rank();
    if (rank == 0u) {
        rk_k2k_mbar_init(q, capacity, MBT_MSG, 0u, false, 1u << 1);
    } else {
        rk_k2k_mbar_credit_init(credit, capacity);
    }
    rk_cluster_sync();
    if (threadIdx.x == 0u) {
        if (rank == 0u) {
            mbt_consume<rk_scope_cluster>(q, credit, total, delay_ns, log, counters);
        } else if (rank == 1u) {
            mbt_produce_sp<rk_scope_cluster>(rk_k2k_mbar_open<rk_scope_cluster>(q, credit, 0u),
                                             total, mode, counters);
        }
    }
    rk_cluster_sync();
}

// ---- ping-pong ----

template <class S>
__device__ void mbt_ping_pong(rk_k2k_mbar_header* mine, rk_u64* credit, const rk_k2k_mbar_ref& to,
                              rk_u32 party, rk_u32 n, rk_u32 mp, rk_u32* counters) {
    rk_k2k_mbar_rx rx = rk_k2k_mbar_rx_open<S>(mine, credit);
    rk_k2k_mbar_sp sp = rk_k2k_mbar_sp_open(to);
    rk_k2k_mbar_mp m = rk_k2k_mbar_mp_open<S>(to);
    rk_u32 bad = 0u, received = 0u;
    for (rk_u32 i = 0; i < n; ++i) {
        for (rk_u32 turn = 0; turn < 2u; ++turn) {
            if ((turn == 0u) == (party == 0u)) {
                const rk_u64 pos =
                    mp != 0u ? rk_k2k_mbar_mp_reserve_wait<S>(m) : rk_k2k_mbar_sp_reserve_wait<S>(sp);
                mbt_write(rk_k2k_mbar_slot(to, pos), (party << 16) | (i & 0xFFFFu));
                rk_k2k_mbar_commit<S>(to, pos);
            } else {
                const rk_u32 entry = mbt_read(rk_k2k_mbar_rx_begin_wait<S>(rx));
                rk_k2k_mbar_rx_commit<S>(rx);
                bad += entry == (((party ^ 1u) << 16) | (i & 0xFFFFu)) ? 0u : 1u;
                received += 1u;
            }
        }
    }
    atomicAdd(&counters[0], bad);
    atomicAdd(&counters[1], received);
}

extern "C" __global__ void k2k_mbar_pp_cta(rk_u32 capacity, rk_u32 n, rk_u32 mp, rk_u32* counters) {
    __shared__ alignas(128) rk_u8 box[2][RK_K2K_MBAR_BYTES(MBT_MAX_CAPACITY, MBT_MSG)];
    __shared__ rk_u64 credit[2][MBT_MAX_CAPACITY];
    rk_k2k_mbar_header* q0 = reinterpret_cast<rk_k2k_mbar_header*>(box[0]);
    rk_k2k_mbar_header* q1 = reinterpret_cast<rk_k2k_mbar_header*>(box[1]);
    // credit[w]: the empty barriers of inbox w (its producer, warp w ^ 1, waits on them).
    rk_k2k_mbar_init(q0, capacity, MBT_MSG, 0u, mp != 0u, 0u);
    rk_k2k_mbar_init(q1, capacity, MBT_MSG, 1u, mp != 0u, 0u);
    rk_k2k_mbar_credit_init(credit[0], capacity);
    rk_k2k_mbar_credit_init(credit[1], capacity);
    __syncthreads();
    const rk_u32 w = threadIdx.x / 32u;
    if (threadIdx.x % 32u == 0u && w <= 1u) {
        rk_k2k_mbar_header* mine = w == 0u ? q0 : q1;
        rk_k2k_mbar_header* theirs = w == 0u ? q1 : q0;
        const rk_k2k_mbar_ref to = rk_k2k_mbar_open<rk_scope_cta>(theirs, credit[w ^ 1u], 0u);
        mbt_ping_pong<rk_scope_cta>(mine, credit[w], to, w, n, mp, counters);
    }
}

// The two blocks of a cluster of 2: each block's inbox in its own shared
// memory, and its credit array the empty barriers of the PEER's inbox (the
// one this block sends to).
extern "C" __global__ void k2k_mbar_pp_cluster(rk_u32 capacity, rk_u32 n, rk_u32 mp,
                                               rk_u32* counters) {
    __shared__ alignas(128) rk_u8 box[RK_K2K_MBAR_BYTES(MBT_MAX_CAPACITY, MBT_MSG)];
    __shared__ rk_u64 credit[MBT_MAX_CAPACITY];
    rk_k2k_mbar_header* q = reinterpret_cast<rk_k2k_mbar_header*>(box);
    const rk_u32 rank = rk_cluster_rank();
    rk_k2k_mbar_init(q, capacity, MBT_MSG, rank, mp != 0u, 1u << (rank ^ 1u));
    rk_k2k_mbar_credit_init(credit, capacity);
    rk_cluster_sync();
    if (threadIdx.x == 0u) {
        const rk_k2k_mbar_ref to = rk_k2k_mbar_open<rk_scope_cluster>(q, credit, rank ^ 1u);
        mbt_ping_pong<rk_scope_cluster>(q, credit, to, rank, n, mp, counters);
    }
    rk_cluster_sync();
}
