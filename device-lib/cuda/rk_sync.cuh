// rk_sync.cuh: memory-model primitives as inline PTX.
//
// The protocols (host<->device rings, control blocks, K2K inboxes) are built
// from acquire loads and release stores at an explicit scope, which CUDA C++
// only offers through <cuda/atomic> (CCCL, ~0.6 s of NVRTC time per module).
// Inline PTX gives the same instructions with no header cost.
//
// Scopes: .sys (other processors: the host CPU through mapped pinned memory),
// .gpu (all blocks of this device), .cta (this block), .cluster (the blocks
// of one thread-block cluster, sm_90+; below sm_90 the .gpu scope, which is
// stronger, is used instead). All addresses are generic, so the same
// functions work on global, mapped host and shared memory.
#ifndef RK_SYNC_CUH
#define RK_SYNC_CUH

#include "rk_types.cuh"

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 700
#error "RingKernel needs sm_70 or newer (ld.acquire/st.release, nanosleep)"
#endif

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
#define RK_SCOPE_CLUSTER_PTX "cluster"
#else
#define RK_SCOPE_CLUSTER_PTX "gpu"
#endif

// Defines rk_ld_acquire_<scope>_<ty>, rk_ld_relaxed_<scope>_<ty>,
// rk_st_release_<scope>_<ty> and rk_st_relaxed_<scope>_<ty>.
#define RK_DEFINE_SCOPED_ACCESS(SCOPE, SCOPE_PTX, TY, CTY, BITS, CONSTRAINT)           \
    RK_DEVICE CTY rk_ld_acquire_##SCOPE##_##TY(const CTY* addr) {                      \
        CTY value;                                                                     \
        asm volatile("ld.acquire." SCOPE_PTX ".b" #BITS " %0, [%1];"                   \
                     : "=" CONSTRAINT(value)                                           \
                     : "l"(addr)                                                       \
                     : "memory");                                                      \
        return value;                                                                  \
    }                                                                                  \
    RK_DEVICE CTY rk_ld_relaxed_##SCOPE##_##TY(const CTY* addr) {                      \
        CTY value;                                                                     \
        asm volatile("ld.relaxed." SCOPE_PTX ".b" #BITS " %0, [%1];"                   \
                     : "=" CONSTRAINT(value)                                           \
                     : "l"(addr)                                                       \
                     : "memory");                                                      \
        return value;                                                                  \
    }                                                                                  \
    RK_DEVICE void rk_st_release_##SCOPE##_##TY(CTY* addr, CTY value) {                \
        asm volatile("st.release." SCOPE_PTX ".b" #BITS " [%0], %1;"                   \
                     :                                                                 \
                     : "l"(addr), CONSTRAINT(value)                                    \
                     : "memory");                                                      \
    }                                                                                  \
    RK_DEVICE void rk_st_relaxed_##SCOPE##_##TY(CTY* addr, CTY value) {                \
        asm volatile("st.relaxed." SCOPE_PTX ".b" #BITS " [%0], %1;"                   \
                     :                                                                 \
                     : "l"(addr), CONSTRAINT(value)                                    \
                     : "memory");                                                      \
    }

RK_DEFINE_SCOPED_ACCESS(sys, "sys", u32, rk_u32, 32, "r")
RK_DEFINE_SCOPED_ACCESS(sys, "sys", u64, rk_u64, 64, "l")
RK_DEFINE_SCOPED_ACCESS(gpu, "gpu", u32, rk_u32, 32, "r")
RK_DEFINE_SCOPED_ACCESS(gpu, "gpu", u64, rk_u64, 64, "l")
RK_DEFINE_SCOPED_ACCESS(cta, "cta", u32, rk_u32, 32, "r")
RK_DEFINE_SCOPED_ACCESS(cta, "cta", u64, rk_u64, 64, "l")
RK_DEFINE_SCOPED_ACCESS(cluster, RK_SCOPE_CLUSTER_PTX, u32, rk_u32, 32, "r")
RK_DEFINE_SCOPED_ACCESS(cluster, RK_SCOPE_CLUSTER_PTX, u64, rk_u64, 64, "l")

#undef RK_DEFINE_SCOPED_ACCESS

// Compare-and-swap with acq_rel ordering at each scope,
// rk_atom_cas_acq_rel_<scope>_u64; returns the value found at `addr` (the
// swap happened iff it equals `expected`). Generic addresses: global,
// shared, or another block's shared memory mapped by rk_cluster_map.
#define RK_DEFINE_SCOPED_CAS(SCOPE, SCOPE_PTX)                                              \
    RK_DEVICE rk_u64 rk_atom_cas_acq_rel_##SCOPE##_u64(rk_u64* addr, rk_u64 expected,      \
                                                       rk_u64 desired) {                   \
        rk_u64 old;                                                                        \
        asm volatile("atom.acq_rel." SCOPE_PTX ".cas.b64 %0, [%1], %2, %3;"                \
                     : "=l"(old)                                                           \
                     : "l"(addr), "l"(expected), "l"(desired)                              \
                     : "memory");                                                          \
        return old;                                                                        \
    }

RK_DEFINE_SCOPED_CAS(gpu, "gpu")
RK_DEFINE_SCOPED_CAS(cta, "cta")
RK_DEFINE_SCOPED_CAS(cluster, RK_SCOPE_CLUSTER_PTX)

#undef RK_DEFINE_SCOPED_CAS

// The same compare-and-swap, relaxed (rk_atom_cas_relaxed_<scope>_u64): for
// claims whose data is ordered by something else (e.g. rk_k2k_mp's reserve,
// ordered by its acquire of the slot's sequence word).
#define RK_DEFINE_SCOPED_CAS_RELAXED(SCOPE, SCOPE_PTX)                                      \
    RK_DEVICE rk_u64 rk_atom_cas_relaxed_##SCOPE##_u64(rk_u64* addr, rk_u64 expected,      \
                                                       rk_u64 desired) {                   \
        rk_u64 old;                                                                        \
        asm volatile("atom.relaxed." SCOPE_PTX ".cas.b64 %0, [%1], %2, %3;"                \
                     : "=l"(old)                                                           \
                     : "l"(addr), "l"(expected), "l"(desired)                              \
                     : "memory");                                                          \
        return old;                                                                        \
    }

RK_DEFINE_SCOPED_CAS_RELAXED(gpu, "gpu")
RK_DEFINE_SCOPED_CAS_RELAXED(cta, "cta")
RK_DEFINE_SCOPED_CAS_RELAXED(cluster, RK_SCOPE_CLUSTER_PTX)

#undef RK_DEFINE_SCOPED_CAS_RELAXED

// Full fences, for the rare places where a single acquire/release pair is
// not enough (e.g. publishing several fields that are read independently).
RK_DEVICE void rk_fence_acq_rel_sys(void) { asm volatile("fence.acq_rel.sys;" ::: "memory"); }
RK_DEVICE void rk_fence_acq_rel_gpu(void) { asm volatile("fence.acq_rel.gpu;" ::: "memory"); }
RK_DEVICE void rk_fence_acq_rel_cluster(void) {
    asm volatile("fence.acq_rel." RK_SCOPE_CLUSTER_PTX ";" ::: "memory");
}
RK_DEVICE void rk_fence_acq_rel_cta(void) { asm volatile("fence.acq_rel.cta;" ::: "memory"); }

// Scope tags: one type per scope with the accessors above as static
// members, so a protocol can be written once as a template over its scope
// (rk_k2k.cuh) and instantiated per placement tier.
#define RK_DEFINE_SCOPE_TAG(SCOPE)                                                          \
    struct rk_scope_##SCOPE {                                                               \
        static RK_DEVICE rk_u64 ld_acquire(const rk_u64* a) {                               \
            return rk_ld_acquire_##SCOPE##_u64(a);                                          \
        }                                                                                   \
        static RK_DEVICE rk_u64 ld_relaxed(const rk_u64* a) {                               \
            return rk_ld_relaxed_##SCOPE##_u64(a);                                          \
        }                                                                                   \
        static RK_DEVICE void st_release(rk_u64* a, rk_u64 v) {                             \
            rk_st_release_##SCOPE##_u64(a, v);                                              \
        }                                                                                   \
        static RK_DEVICE void st_relaxed(rk_u64* a, rk_u64 v) {                             \
            rk_st_relaxed_##SCOPE##_u64(a, v);                                              \
        }                                                                                   \
        static RK_DEVICE rk_u64 cas_acq_rel(rk_u64* a, rk_u64 expected, rk_u64 desired) {   \
            return rk_atom_cas_acq_rel_##SCOPE##_u64(a, expected, desired);                 \
        }                                                                                   \
        static RK_DEVICE rk_u64 cas_relaxed(rk_u64* a, rk_u64 expected, rk_u64 desired) {   \
            return rk_atom_cas_relaxed_##SCOPE##_u64(a, expected, desired);                 \
        }                                                                                   \
        static RK_DEVICE void fence_acq_rel() { rk_fence_acq_rel_##SCOPE(); }               \
    };

// Parties in one thread block; the memory is that block's shared memory
// (or any memory only the block touches).
RK_DEFINE_SCOPE_TAG(cta)
// Parties in the blocks of one thread-block cluster; the memory is one
// block's shared memory, reached by the others through rk_cluster_map.
RK_DEFINE_SCOPE_TAG(cluster)
// Parties anywhere on the device; the memory is global memory.
RK_DEFINE_SCOPE_TAG(gpu)

#undef RK_DEFINE_SCOPE_TAG

// Thread-block clusters (sm_90+). Below sm_90 these are not defined, so a
// kernel that uses them fails to compile instead of misbehaving.
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
// This block's rank in its cluster (%cluster_ctarank), 0 .. size - 1.
RK_DEVICE rk_u32 rk_cluster_rank(void) {
    rk_u32 r;
    asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(r));
    return r;
}

// The number of blocks in this block's cluster (%cluster_nctarank); 1 for
// a launch without cluster dimensions.
RK_DEVICE rk_u32 rk_cluster_size(void) {
    rk_u32 n;
    asm volatile("mov.u32 %0, %%cluster_nctarank;" : "=r"(n));
    return n;
}

// The generic address of the object at `ptr` (a generic address of this
// block's shared memory) in the shared memory of block `rank` of the
// cluster (`mapa`): the same variable in the other block. Loads, stores and
// atomics through it reach that block's shared memory (DSMEM).
template <typename T>
RK_DEVICE T* rk_cluster_map(T* ptr, rk_u32 rank) {
    rk_u64 out;
    asm volatile("mapa.u64 %0, %1, %2;" : "=l"(out) : "l"(ptr), "r"(rank));
    return reinterpret_cast<T*>(out);
}

// The split cluster barrier: every thread of every block of the cluster
// arrives (release: its earlier writes are visible to the blocks that
// wait), then waits (acquire) until all have arrived. Not `.aligned`, so
// divergent threads may call them; every thread of the cluster must arrive
// once per phase. A block must not exit while another block of its cluster
// may still access its shared memory: end with rk_cluster_sync().
RK_DEVICE void rk_cluster_arrive(void) { asm volatile("barrier.cluster.arrive.release;" ::: "memory"); }
RK_DEVICE void rk_cluster_wait(void) { asm volatile("barrier.cluster.wait.acquire;" ::: "memory"); }
RK_DEVICE void rk_cluster_sync(void) {
    rk_cluster_arrive();
    rk_cluster_wait();
}
#endif

// Nanoseconds from the device's global timer (%globaltimer). Its resolution
// is a microsecond on some parts but it is monotonic; the HLC adds a
// host-calibrated offset to align it with host time.
RK_DEVICE rk_u64 rk_globaltimer_ns(void) {
    rk_u64 t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

// Suspends the calling thread for about `ns` nanoseconds (at most 1 ms; the
// hardware may wake it earlier). The idle backoff of the message loop.
RK_DEVICE void rk_nanosleep(rk_u32 ns) { asm volatile("nanosleep.u32 %0;" ::"r"(ns)); }

#endif // RK_SYNC_CUH
