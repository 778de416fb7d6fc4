// Hand-written baselines of the RingKernel benchmark: what a launch, a
// persistent kernel polling mapped memory and a block-batched stream cost
// with no framework at all. After ../shared/reference/limits.cu (same
// kernels, same protocols), compiled by NVRTC in the benchmark's process so
// the baselines and RingKernel are measured side by side on one GPU.
// Self-contained: no CUDA headers.

typedef unsigned long long u64;
typedef unsigned int u32;

__device__ __forceinline__ u64 ld_acq_sys(const u64* p) {
    u64 v;
    asm volatile("ld.acquire.sys.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
    return v;
}

__device__ __forceinline__ void st_rel_sys(u64* p, u64 v) {
    asm volatile("st.release.sys.global.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}

// ---------------------------------------------------------------- launches
extern "C" __global__ void bl_empty(int* p) {
    if (p && threadIdx.x == 0 && blockIdx.x == 0) {
        p[0] += 1;
    }
}

// ------------------------------------------- host <-> persistent kernel ping
// One thread polls a command word in mapped host memory and acknowledges
// each new value: the floor of any request/response through mapped memory.
struct alignas(128) bl_mailbox {
    u64 cmd;
    char pad1[120];
    u64 ack;
    char pad2[120];
};

extern "C" __global__ void bl_persistent_echo(bl_mailbox* mb, u64 n) {
    if (threadIdx.x != 0 || blockIdx.x != 0) {
        return;
    }
    u64 expect = 1;
    while (expect <= n) {
        u64 c = ld_acq_sys(&mb->cmd);
        if (c == expect) {
            st_rel_sys(&mb->ack, c);
            ++expect;
        }
    }
}

// limits.cu's persistent_echo_multi: W warps poll the command word, their
// first reads staggered by 150 ns each, so that several PCIe reads are in
// flight; each warp acknowledges in its own 128-byte line (the host
// watches all). Not the bar's floor (the bar is against one poller): it
// shows what overlapping the reads buys. On the H200 (20:27 UTC, 2026-11-21)
// it took twice the one-poller round trip (5.1-5.5 us against 2.7-2.8), and
// an actor look by 2 or 4 staggered warps measured no faster than by one
// (with 4, the closing fence went from 0.54 to 1.9 us), so the actor's
// look stays one warp (BENCHMARKS.md).
struct alignas(128) bl_multibox {
    u64 cmd;
    char pad1[120];
    u64 ack[16][16]; // one 128 B line per warp
};

extern "C" __global__ void bl_persistent_echo_multi(bl_multibox* mb, u64 n) {
    const unsigned w = threadIdx.x / 32u;
    if (threadIdx.x % 32u != 0u || blockIdx.x != 0) {
        return;
    }
    __nanosleep(w * 150u);
    u64 expect = 1;
    while (expect <= n) {
        u64 c = ld_acq_sys(&mb->cmd);
        if (c >= expect) {
            st_rel_sys(&mb->ack[w][0], c);
            expect = c + 1;
        }
    }
}

// ---------------------------------- host -> kernel -> host streaming rings
// limits.cu's protocol: `head` is the producer's published count, `tail`
// the consumer's; one block drains up to blockDim.x messages per batch, one
// per thread, and writes each reply into a second ring.
struct alignas(128) bl_ring_idx {
    u64 head;
    char p1[120];
    u64 tail;
    char p2[120];
};

// Bare 64-byte messages (limits.cu): the reply adds 1 to each word.
struct alignas(64) bl_msg64 {
    u64 seq;
    u64 w[7];
};

extern "C" __global__ void bl_stream64(bl_ring_idx* in_idx, bl_msg64* in, bl_ring_idx* out_idx,
                                       bl_msg64* out, u64 total, u32 ring) {
    __shared__ u64 s_head;
    const u32 t = threadIdx.x, B = blockDim.x;
    u64 tail = 0;
    while (tail < total) {
        if (t == 0) {
            u64 h;
            do {
                h = ld_acq_sys(&in_idx->head);
            } while (h == tail);
            u64 n = h - tail < B ? h - tail : B;
            while (tail + n - ld_acq_sys(&out_idx->tail) > ring) {
            }
            s_head = tail + n;
        }
        __syncthreads();
        u64 end = s_head;
        if (tail + t < end) {
            bl_msg64 m = in[(tail + t) % ring];
            for (int k = 0; k < 7; ++k) {
                m.w[k] += 1;
            }
            out[(tail + t) % ring] = m;
        }
        __syncthreads();
        tail = end;
        if (t == 0) {
            __threadfence_system();
            st_rel_sys(&in_idx->tail, tail);
            st_rel_sys(&out_idx->head, tail);
        }
    }
}

// Envelope-sized messages: 128-byte slots both ways, a 64-byte header and
// a 64-byte payload, so the same bytes per message as a RingKernel actor
// with 64-byte messages and replies. The payload is the benchmark's Msg64
// { u64 seq; u32 words[14]; } and the reply is what its `echo64` handler
// computes; the reply header echoes the request's correlation id and
// carries the sequence number and a reply flag.
struct alignas(16) bl_u4 {
    u32 x, y, z, w;
};

// Words 0-15: the header (type id, payload size, source, destination,
// correlation id (2), sequence (2), HLC (4), flags, reserved (3));
// words 16-31: the payload (seq (2), then 14 words).
struct alignas(16) bl_slot128 {
    u32 w[32];
};

extern "C" __global__ void bl_stream128(bl_ring_idx* in_idx, bl_slot128* in, bl_ring_idx* out_idx,
                                        bl_slot128* out, u64 total, u32 ring) {
    __shared__ u64 s_head;
    const u32 t = threadIdx.x, B = blockDim.x;
    u64 tail = 0;
    while (tail < total) {
        if (t == 0) {
            u64 h;
            do {
                h = ld_acq_sys(&in_idx->head);
            } while (h == tail);
            u64 n = h - tail < B ? h - tail : B;
            while (tail + n - ld_acq_sys(&out_idx->tail) > ring) {
            }
            s_head = tail + n;
        }
        __syncthreads();
        u64 end = s_head;
        if (tail + t < end) {
            const bl_u4* src = reinterpret_cast<const bl_u4*>(&in[(tail + t) % ring]);
            bl_slot128 m;
            bl_u4* m4 = reinterpret_cast<bl_u4*>(&m);
#pragma unroll
            for (int k = 0; k < 8; ++k) {
                m4[k] = src[k];
            }
            // The reply's header: source and destination swapped, the
            // correlation id kept, sequence = position, flags = reply.
            const u32 source = m.w[2];
            m.w[2] = m.w[3];
            m.w[3] = source;
            m.w[6] = (u32)(tail + t + 1);
            m.w[7] = (u32)((tail + t + 1) >> 32);
            m.w[12] = 1u;
            const u32 seq = m.w[16];
#pragma unroll
            for (u32 i = 0; i < 14u; ++i) {
                m.w[18 + i] = (m.w[18 + i] * 3u + i) ^ seq;
            }
            bl_u4* dst = reinterpret_cast<bl_u4*>(&out[(tail + t) % ring]);
#pragma unroll
            for (int k = 0; k < 8; ++k) {
                dst[k] = m4[k];
            }
        }
        __syncthreads();
        tail = end;
        if (t == 0) {
            __threadfence_system();
            st_rel_sys(&in_idx->tail, tail);
            st_rel_sys(&out_idx->head, tail);
        }
    }
}

// ------------------------------------------------ on-device ping-pong (K2K)
// The hand-written floors of K2K latency, as limits.cu measures them: two
// parties bounce a counter through one flag each, n round trips timed with
// %globaltimer by party 0; one round trip = two one-way messages. No
// cooperative_groups: the cluster kernel is launched with cluster
// dimensions (2, 1, 1) and reaches its peer with mapa.

__device__ __forceinline__ u64 bl_gtimer() {
    u64 t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

#define BL_SCOPED_FLAG(SCOPE)                                                              \
    __device__ __forceinline__ u32 ld_acq_##SCOPE(const u32* p) {                          \
        u32 v;                                                                             \
        asm volatile("ld.acquire." #SCOPE ".u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory"); \
        return v;                                                                          \
    }                                                                                      \
    __device__ __forceinline__ void st_rel_##SCOPE(u32* p, u32 v) {                        \
        asm volatile("st.release." #SCOPE ".u32 [%0], %1;" ::"l"(p), "r"(v) : "memory");   \
    }
BL_SCOPED_FLAG(gpu)
BL_SCOPED_FLAG(cluster)
BL_SCOPED_FLAG(cta)

// Party 0 sends i and waits for i back; party 1 echoes.
#define BL_PING_PONG(SCOPE, party, mine, theirs, n, out_ns)  \
    do {                                                     \
        const u64 t0 = bl_gtimer();                          \
        for (u32 i = 1; i <= (n); ++i) {                     \
            if ((party) == 0u) {                             \
                st_rel_##SCOPE((theirs), i);                 \
                while (ld_acq_##SCOPE((mine)) != i) {        \
                }                                            \
            } else {                                         \
                while (ld_acq_##SCOPE((mine)) != i) {        \
                }                                            \
                st_rel_##SCOPE((theirs), i);                 \
            }                                                \
        }                                                    \
        if ((party) == 0u) {                                 \
            *(out_ns) = bl_gtimer() - t0;                    \
        }                                                    \
    } while (0)

// Blocks 0 and 1 (both resident) through global memory; `flags` holds two
// zeroed 128-byte lines.
extern "C" __global__ void bl_k2k_global(u32* flags, u32 n, u64* out_ns) {
    if (threadIdx.x != 0 || blockIdx.x > 1) {
        return;
    }
    u32* mine = flags + blockIdx.x * 32;
    u32* theirs = flags + (1 - blockIdx.x) * 32;
    BL_PING_PONG(gpu, blockIdx.x, mine, theirs, n, out_ns);
}

// The two blocks of a cluster of 2 through distributed shared memory.
extern "C" __global__ void bl_k2k_dsmem(u32 n, u64* out_ns) {
    __shared__ u32 box;
    u32 rank;
    asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(rank));
    if (threadIdx.x == 0) {
        box = 0;
    }
    asm volatile("barrier.cluster.arrive.release;\n\tbarrier.cluster.wait.acquire;" ::: "memory");
    u64 peer;
    asm volatile("mapa.u64 %0, %1, %2;" : "=l"(peer) : "l"(&box), "r"(rank ^ 1u));
    if (threadIdx.x == 0) {
        BL_PING_PONG(cluster, rank, &box, reinterpret_cast<u32*>(peer), n, out_ns);
    }
    // Neither block exits while the other may still write its box.
    asm volatile("barrier.cluster.arrive.release;\n\tbarrier.cluster.wait.acquire;" ::: "memory");
}

// Warps 0 and 1 of one block through shared memory.
extern "C" __global__ void bl_k2k_smem(u32 n, u64* out_ns) {
    __shared__ u32 box[2][32];
    if (threadIdx.x < 64) {
        box[threadIdx.x / 32][threadIdx.x % 32] = 0;
    }
    __syncthreads();
    const u32 w = threadIdx.x / 32;
    if (threadIdx.x % 32 != 0 || w > 1) {
        return;
    }
    BL_PING_PONG(cta, w, &box[w][0], &box[1 - w][0], n, out_ns);
}
