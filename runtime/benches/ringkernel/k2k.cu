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
