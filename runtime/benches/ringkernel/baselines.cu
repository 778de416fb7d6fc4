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
