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

// Compare-and-swap at .gpu scope with acq_rel ordering; returns the value
// found at `addr` (the swap happened iff it equals `expected`).
RK_DEVICE rk_u64 rk_atom_cas_acq_rel_gpu_u64(rk_u64* addr, rk_u64 expected, rk_u64 desired) {
    rk_u64 old;
    asm volatile("atom.acq_rel.gpu.cas.b64 %0, [%1], %2, %3;"
                 : "=l"(old)
                 : "l"(addr), "l"(expected), "l"(desired)
                 : "memory");
    return old;
}

// Full fences, for the rare places where a single acquire/release pair is
// not enough (e.g. publishing several fields that are read independently).
RK_DEVICE void rk_fence_acq_rel_sys(void) { asm volatile("fence.acq_rel.sys;" ::: "memory"); }
RK_DEVICE void rk_fence_acq_rel_gpu(void) { asm volatile("fence.acq_rel.gpu;" ::: "memory"); }

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
