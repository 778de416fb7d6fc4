// rk_types.cuh: fixed-width types and helper macros for the RingKernel device
// library.
//
// NVRTC has no libc headers, so <stdint.h>/<cstddef> are not available; the
// types are defined here from the built-in integer types and pinned with
// static_asserts. Every other rk_*.cuh header includes this one first.
#ifndef RK_TYPES_CUH
#define RK_TYPES_CUH

typedef unsigned char      rk_u8;
typedef unsigned short     rk_u16;
typedef unsigned int       rk_u32;
typedef int                rk_i32;
typedef unsigned long long rk_u64;
typedef long long          rk_i64;

static_assert(sizeof(rk_u8) == 1, "rk_u8 is 1 byte");
static_assert(sizeof(rk_u16) == 2, "rk_u16 is 2 bytes");
static_assert(sizeof(rk_u32) == 4, "rk_u32 is 4 bytes");
static_assert(sizeof(rk_i32) == 4, "rk_i32 is 4 bytes");
static_assert(sizeof(rk_u64) == 8, "rk_u64 is 8 bytes");
static_assert(sizeof(rk_i64) == 8, "rk_i64 is 8 bytes");
static_assert(sizeof(void*) == 8, "RingKernel requires 64-bit device pointers");

// Every device-library function is a force-inlined device function: the
// headers are included by each generated module, and the persistent loop
// must not pay for calls.
#define RK_DEVICE __device__ __forceinline__
// Branch hints for the persistent loops: the unlikely side (faults, stops,
// a full ring) is laid out after the hot path, so the instructions a
// message runs through stay together.
#define RK_LIKELY(x) __builtin_expect(!!(x), 1)
#define RK_UNLIKELY(x) __builtin_expect(!!(x), 0)

// offsetof without <cstddef> (NVRTC has none). NVRTC's front end (EDG)
// knows neither `offsetof` nor `__builtin_offsetof`, but folds its
// `__INTADDR__` builtin to a constant, which is how EDG's own <stddef.h>
// defines offsetof; nvcc's host compilers have __builtin_offsetof.
#if defined(__CUDACC_RTC__)
#define RK_OFFSETOF(type, field) ((unsigned long long)__INTADDR__(&(((type*)0)->field)))
#else
#define RK_OFFSETOF(type, field) __builtin_offsetof(type, field)
#endif

// Host and device agree on a layout when both sides pin it: these pin the
// CUDA side, the Rust mirrors pin theirs with const assertions.
#define RK_ASSERT_SIZE(type, size) \
    static_assert(sizeof(type) == (size), "size of " #type " must be " #size)
#define RK_ASSERT_OFFSET(type, field, offset)                                  \
    static_assert(RK_OFFSETOF(type, field) == (offset),                        \
                  "offset of " #type "::" #field " must be " #offset)

// The cache-line granule that separates data with different writers
// (host vs device, producer vs consumer). 128 bytes covers both the x86
// adjacent-line prefetcher pair and the GPU's L2 line.
#define RK_LINE 128

#endif // RK_TYPES_CUH
