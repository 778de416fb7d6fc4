// Test kernels of the K2K inbox (device-lib/cuda/rk_k2k.cuh) at its three
// tiers, for runtime/tests/k2k.rs. Each kernel runs one inbox with one
// consumer warp and 128 producer threads (by default) that each send
// `msgs` envelopes; the consumer checks every message and logs it; the
// host checks the log (every (producer, index) exactly once, in each
// producer's order, untorn).
//
//   k2k_test_cta      one block: warp 0 consumes, threads 32.. produce;
//                     the inbox is in the block's shared memory;
//   k2k_test_cluster  one cluster (launched with cluster dimensions = the
//                     grid): block 0's warp consumes, the other blocks'
//                     threads produce into block 0's shared memory (DSMEM);
//   k2k_test_gpu      block 0's warp consumes, the other blocks produce,
//                     the inbox is in global memory (the host's image).
//
// Parameters common to all: `msgs` per producer; `mode` how producers send
// (0: rk_k2k_send, blocking; 1: rk_k2k_try_send, retried, failures counted;
// 2: rk_k2k_reserve_wait + writes into the slot + rk_k2k_commit; 3:
// rk_k2k_mp_try_reserve, retried, failures counted, + writes + commit);
// `batch` how the consumer takes messages (0: rk_k2k_try_consume_begin one
// at a time, n: rk_k2k_consume_batch_begin up to n <= 32, read by the warp,
// K2K_TEST_RX: rk_k2k_rx_try_begin / rk_k2k_rx_commit one at a time);
// `delay_ns` the consumer sleeps before freeing each batch (a slow
// consumer); `log[pos]` = (producer << 16 | index) of the message at
// position pos, bit 31 set if it was torn; `counters`: [0] messages
// received, [1] protocol errors (more messages than sent, log out of
// range), [2] try_send failures, [3] cluster size seen, [4] consumer
// batches, [5] producers.
#include "ringkernel.cuh"

#define K2K_TEST_WORDS 16u        // payload: 64 bytes
#define K2K_TEST_SLOT 128u        // header + payload
#define K2K_TEST_RX 0xFFFFFFFFu   // `batch`: the head-keeping consumer (rk_k2k_rx)
#define K2K_TEST_MAX_CAPACITY 64u // the shared-memory inboxes' room

// The payload word `k` of message (p, i): every word differs, so a slot
// mixing two messages (torn) fails the check.
__device__ __forceinline__ rk_u32 k2k_word(rk_u32 p, rk_u32 i, rk_u32 k) {
    return ((p + 1u) * 0x9E3779B1u) ^ ((i + 7u) * 0x85EBCA77u) ^ ((k + 3u) * 0xC2B2AE3Du);
}

__device__ __forceinline__ rk_envelope_header k2k_header(rk_u32 p, rk_u32 i) {
    rk_envelope_header h = {};
    h.type_id = 0x4B324B54u;
    h.payload_size = K2K_TEST_WORDS * 4u;
    h.source_actor = p;
    h.dest_actor = 0u;
    h.correlation_id = ((rk_u64)p << 32) | i;
    h.sequence = i;
    return h;
}

struct alignas(16) k2k_payload {
    rk_u32 w[K2K_TEST_WORDS];
};

template <class S>
__device__ void k2k_produce(const rk_k2k_ref& r, rk_u32 p, rk_u32 msgs, rk_u32 mode,
                            rk_u32* counters) {
    rk_u32 failures = 0;
    rk_k2k_mp mp = rk_k2k_mp_open<S>(r);
    for (rk_u32 i = 0; i < msgs; ++i) {
        const rk_envelope_header h = k2k_header(p, i);
        if (mode == 3u) {
            // rk_k2k_mp: the reserve from a guess, retried (failures = full).
            rk_u64 pos;
            while (!rk_k2k_mp_try_reserve<S>(mp, &pos)) {
                ++failures;
                rk_nanosleep(64);
            }
            rk_envelope_header* slot = rk_k2k_slot(r, pos);
            rk_u32* words = reinterpret_cast<rk_u32*>(rk_envelope_payload(slot));
            for (rk_u32 k = 0; k < K2K_TEST_WORDS; ++k) {
                words[k] = k2k_word(p, i, k);
            }
            *slot = h;
            rk_k2k_commit<S>(r, pos);
            continue;
        }
        if (mode == 2u) {
            const rk_u64 pos = rk_k2k_reserve_wait<S>(r);
            rk_envelope_header* slot = rk_k2k_slot(r, pos);
            rk_u32* words = reinterpret_cast<rk_u32*>(rk_envelope_payload(slot));
            // Payload first, header last: the commit must order them all.
            for (rk_u32 k = 0; k < K2K_TEST_WORDS; ++k) {
                words[k] = k2k_word(p, i, k);
            }
            *slot = h;
            rk_k2k_commit<S>(r, pos);
            continue;
        }
        k2k_payload payload;
        for (rk_u32 k = 0; k < K2K_TEST_WORDS; ++k) {
            payload.w[k] = k2k_word(p, i, k);
        }
        if (mode == 1u) {
            while (rk_k2k_try_send<S>(r, &h, &payload) != RK_K2K_SENT) {
                ++failures;
                rk_nanosleep(64);
            }
        } else if (rk_k2k_send<S>(r, &h, &payload) != RK_K2K_SENT) {
            atomicAdd(&counters[1], 1u);
        }
    }
    if (failures != 0u) {
        atomicAdd(&counters[2], failures);
    }
}

// One message as the consumer sees it: (p << 16 | i), bit 31 if torn.
__device__ rk_u32 k2k_check(const rk_envelope_header* m) {
    const rk_u32 p = m->source_actor;
    const rk_u32 i = (rk_u32)m->sequence;
    bool ok = m->type_id == 0x4B324B54u && m->payload_size == K2K_TEST_WORDS * 4u &&
              m->correlation_id == (((rk_u64)p << 32) | i) && p < 0x7FFFu && i < 0xFFFFu;
    const rk_u32* words = reinterpret_cast<const rk_u32*>(rk_envelope_payload_const(m));
    for (rk_u32 k = 0; k < K2K_TEST_WORDS; ++k) {
        ok = ok && words[k] == k2k_word(p, i, k);
    }
    return ((p & 0x7FFFu) << 16) | (i & 0xFFFFu) | (ok ? 0u : 0x80000000u);
}

// Run by every lane of one warp.
template <class S>
__device__ void k2k_consume(const rk_k2k_ref& r, rk_u32 total, rk_u32 batch, rk_u32 delay_ns,
                            rk_u32* log, rk_u32* counters) {
    const rk_u32 lane = threadIdx.x & 31u;
    const bool use_rx = batch == K2K_TEST_RX;
    rk_k2k_rx rx = rk_k2k_rx_open<S>(r.q); // lane 0's is used
    rk_u32 got = 0, batches = 0;
    while (got < total) {
        rk_u64 pos = 0;
        rk_u32 n = 0;
        if (lane == 0u) {
            if (use_rx) {
                n = rk_k2k_rx_try_begin<S>(rx) != nullptr ? 1u : 0u;
                pos = rx.head;
            } else if (batch == 0u) {
                n = rk_k2k_try_consume_begin<S>(r, &pos) != nullptr ? 1u : 0u;
            } else {
                n = rk_k2k_consume_batch_begin<S>(r, batch, &pos);
            }
        }
        n = __shfl_sync(0xFFFFFFFFu, n, 0);
        pos = __shfl_sync(0xFFFFFFFFu, pos, 0);
        if (n == 0u) {
            continue;
        }
        __syncwarp(); // the lanes' reads after lane 0's acquire
        for (rk_u32 k = lane; k < n; k += 32u) {
            const rk_u64 at = pos + k;
            if (at < total) {
                log[at] = k2k_check(rk_k2k_slot(r, at));
            } else {
                atomicAdd(&counters[1], 1u);
            }
        }
        __syncwarp(); // ... and before lane 0 frees the slots
        if (lane == 0u) {
            if (delay_ns != 0u) {
                rk_nanosleep(delay_ns);
            }
            if (use_rx) {
                rk_k2k_rx_commit<S>(rx);
            } else if (batch == 0u) {
                rk_k2k_consume_commit<S>(r, pos);
            } else {
                rk_k2k_consume_batch_commit<S>(r, pos, n);
            }
        }
        got += n;
        ++batches;
    }
    if (lane == 0u) {
        // Nothing beyond what was sent is ever committed.
        rk_u64 extra;
        if ((use_rx ? rk_k2k_rx_try_begin<S>(rx) : rk_k2k_try_consume_begin<S>(r, &extra)) !=
            nullptr) {
            atomicAdd(&counters[1], 1u);
        }
        counters[0] = got;
        counters[4] = batches;
    }
}

extern "C" __global__ void k2k_test_cta(rk_u32 capacity, rk_u32 msgs, rk_u32 mode, rk_u32 batch,
                                        rk_u32 delay_ns, rk_u32* log, rk_u32* counters) {
    __shared__ alignas(128) rk_u8 box[RK_K2K_BYTES(K2K_TEST_MAX_CAPACITY, K2K_TEST_SLOT)];
    rk_k2k_header* q = reinterpret_cast<rk_k2k_header*>(box);
    rk_k2k_init(q, capacity, K2K_TEST_SLOT, 0u);
    __syncthreads();
    const rk_k2k_ref r = rk_k2k_open(q);
    const rk_u32 producers = blockDim.x - 32u;
    if (threadIdx.x < 32u) {
        k2k_consume<rk_scope_cta>(r, producers * msgs, batch, delay_ns, log, counters);
    } else {
        k2k_produce<rk_scope_cta>(r, threadIdx.x - 32u, msgs, mode, counters);
    }
    if (threadIdx.x == 0u) {
        counters[3] = 1u;
        counters[5] = producers;
    }
}

extern "C" __global__ void k2k_test_cluster(rk_u32 capacity, rk_u32 msgs, rk_u32 mode,
                                            rk_u32 batch, rk_u32 delay_ns, rk_u32* log,
                                            rk_u32* counters) {
    __shared__ alignas(128) rk_u8 box[RK_K2K_BYTES(K2K_TEST_MAX_CAPACITY, K2K_TEST_SLOT)];
    const rk_u32 rank = rk_cluster_rank();
    rk_k2k_header* local = reinterpret_cast<rk_k2k_header*>(box);
    if (rank == 0u) {
        rk_k2k_init(local, capacity, K2K_TEST_SLOT, 0u);
    }
    rk_cluster_sync(); // the inbox is set up before any block reaches it
    const rk_u32 producers = (rk_cluster_size() - 1u) * blockDim.x;
    if (rank == 0u) {
        if (threadIdx.x < 32u) {
            k2k_consume<rk_scope_cluster>(rk_k2k_open(local), producers * msgs, batch, delay_ns,
                                          log, counters);
        }
        if (threadIdx.x == 0u) {
            counters[3] = rk_cluster_size();
            counters[5] = producers;
        }
    } else {
        // Block 0's inbox, through DSMEM.
        const rk_k2k_ref r = rk_k2k_open(rk_cluster_map(local, 0u));
        k2k_produce<rk_scope_cluster>(r, (rank - 1u) * blockDim.x + threadIdx.x, msgs, mode,
                                      counters);
    }
    rk_cluster_sync(); // block 0's shared memory outlives every access to it
}

extern "C" __global__ void k2k_test_gpu(rk_k2k_header* q, rk_u32 msgs, rk_u32 mode, rk_u32 batch,
                                        rk_u32 delay_ns, rk_u32* log, rk_u32* counters) {
    const rk_k2k_ref r = rk_k2k_open(q);
    const rk_u32 producers = (gridDim.x - 1u) * blockDim.x;
    if (blockIdx.x == 0u) {
        if (threadIdx.x < 32u) {
            k2k_consume<rk_scope_gpu>(r, producers * msgs, batch, delay_ns, log, counters);
        }
        if (threadIdx.x == 0u) {
            counters[3] = 1u;
            counters[5] = producers;
        }
    } else {
        k2k_produce<rk_scope_gpu>(r, (blockIdx.x - 1u) * blockDim.x + threadIdx.x, msgs, mode,
                                  counters);
    }
}
