// Does a hop pay for instruction fetch, or for spinning neighbours?
//
// An actor hop's stages run few instructions yet take hundreds of ns each
// (BENCHMARKS.md, "Anatomy of an actor hop"), and the hop kernels are
// ~100 KB of SASS. Two hypotheses, measured here on one SM:
//
// 1. Instruction fetch. One warp idles (spins on %globaltimer for IDLE ns,
//    a small loop), then runs a straight-line block of S bytes of SASS
//    twice (one copy of the code, `#pragma unroll 1`): pass 1 finds the
//    block as the last iteration left it, pass 2 just ran it. Their cycle
//    difference is the fetch cost of S bytes of code that ran IDLE ns ago.
//    S from 1 to 128 KB (IMADs with an immediate, 16 bytes each, four
//    chains: about one instruction per cycle when the code is cached).
// 2. Memory pipeline contention. One warp runs a dependent chain of 64
//    shared-memory load/store pairs (through the shared window, or through
//    generic pointers as the loop's staging does) while 0..3 other warps of
//    the block spin: on shared memory (volatile loads, or mbarrier.test_wait
//    as the actor loop's idle warps do), on device memory, or on mapped
//    host memory (as an idle actor's look at its host inbox does).
//
// nvcc -O3 -arch=sm_90 -o icache icache.cu && ./icache [contention]
#include <cstdint>
#include <cstdio>
#include <algorithm>
#include <vector>

#define CK(x) do { cudaError_t e = (x); if (e != cudaSuccess) { printf("%s: %s\n", #x, cudaGetErrorString(e)); return 1; } } while (0)

__device__ __forceinline__ uint64_t gt() { uint64_t t; asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t)); return t; }

// One step: four IMADs (64 bytes of SASS), not foldable (products of the
// chains), independent enough for ~1 IPC.
#define STEP(k) x0 = x0 * x1 + (0x9E3779B9u ^ (k)); x1 = x1 * x2 + (0x7F4A7C15u ^ (k)); \
                x2 = x2 * x3 + (0x85EBCA6Bu ^ (k)); x3 = x3 * x0 + (0xC2B2AE35u ^ (k));
#define S4(k) STEP(k) STEP(k + 1) STEP(k + 2) STEP(k + 3)
#define S16(k) S4(k) S4(k + 4) S4(k + 8) S4(k + 12)          // 1 KB
#define S64(k) S16(k) S16(k + 16) S16(k + 32) S16(k + 48)    // 4 KB

template <int KB>
__device__ __forceinline__ void body(uint32_t& x0, uint32_t& x1, uint32_t& x2, uint32_t& x3) {
    if constexpr (KB >= 4) {
        S64(KB * 64);
        body<KB - 4>(x0, x1, x2, x3);
    } else if constexpr (KB >= 1) {
        S16(KB * 16);
        body<KB - 1>(x0, x1, x2, x3);
    }
}

template <int KB>
__global__ void fetch(const uint32_t* seed, uint64_t* cycles, uint32_t* sink, int iters, uint32_t idle_ns) {
    uint32_t x0 = seed[0], x1 = seed[1], x2 = seed[2], x3 = seed[3];
    for (int it = 0; it < iters; ++it) {
        uint64_t t0 = gt();
        while (gt() - t0 < idle_ns) {}
#pragma unroll 1
        for (int pass = 0; pass < 2; ++pass) {
            long long c0 = clock64();
            body<KB>(x0, x1, x2, x3);
            // The chains' results feed the stop read: the block has retired.
            asm volatile("" :: "r"(x0), "r"(x1), "r"(x2), "r"(x3));
            long long c1 = clock64();
            if (threadIdx.x == 0) cycles[2 * it + pass] = (uint64_t)(c1 - c0);
        }
    }
    sink[threadIdx.x] = x0 ^ x1 ^ x2 ^ x3;
}

// Warp 0: 64 dependent shared load/store pairs, timed; warps 1..spinners:
// spin on shared memory (mode 1: volatile loads; mode 2: mbarrier.test_wait
// on a barrier that never completes) until warp 0 is done.
__device__ __forceinline__ volatile uint32_t* launder(volatile uint32_t* p) {
    uint64_t q = reinterpret_cast<uint64_t>(p);
    asm volatile("mov.b64 %0, %0;" : "+l"(q));
    return reinterpret_cast<volatile uint32_t*>(q);
}

__global__ void contention(uint64_t* cycles, uint32_t* sink, int iters, int spinners, int mode, int generic,
                           const volatile uint32_t* remote) {
    __shared__ volatile uint32_t buf[1024];
    __shared__ volatile uint32_t flag;
    __shared__ __align__(8) uint64_t bar;
    uint32_t warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (threadIdx.x == 0) {
        flag = 0;
        uint32_t a = (uint32_t)__cvta_generic_to_shared(&bar);
        asm volatile("mbarrier.init.shared.b64 [%0], %1;" :: "r"(a), "r"(1024));
    }
    for (int i = threadIdx.x; i < 1024; i += blockDim.x) buf[i] = i;
    __syncthreads();
    if (warp == 0) {
        uint32_t v = lane;
        volatile uint32_t* b = generic ? launder(buf) : buf;
        for (int it = 0; it < iters; ++it) {
            long long c0 = clock64();
#pragma unroll
            for (int k = 0; k < 64; ++k) {
                v = b[(v + k) & 1023];
                b[(v * 7 + lane) & 1023] = v + 1;
            }
            asm volatile("" :: "r"(v));
            long long c1 = clock64();
            if (lane == 0) cycles[it] = (uint64_t)(c1 - c0);
        }
        sink[lane] = v;
        __syncwarp();
        if (lane == 0) flag = 1;
    } else if (warp <= (uint32_t)spinners) {
        uint32_t a = (uint32_t)__cvta_generic_to_shared(&bar);
        uint32_t n = 0;
        if (mode == 1) {
            while (flag == 0) ++n;
        } else if (mode >= 3) {
            // Device memory (mode 3) or mapped host memory (mode 4): a
            // relaxed system-scope load per lane, as the look's.
            while (flag == 0) {
                uint32_t x;
                asm volatile("ld.relaxed.sys.global.u32 %0, [%1];" : "=r"(x) : "l"(remote + lane) : "memory");
                n += x;
            }
        } else {
            while (flag == 0) {
                uint32_t done;
                asm volatile("{ .reg .pred p; mbarrier.test_wait.parity.shared.b64 p, [%1], %2; selp.u32 %0, 1, 0, p; }"
                             : "=r"(done) : "r"(a), "r"(1u) : "memory");
                n += done;
            }
        }
        sink[32 + threadIdx.x] = n;
    }
}

static double median(std::vector<uint64_t> v) {
    std::sort(v.begin(), v.end());
    return (double)v[v.size() / 2];
}

template <int KB>
static int run_fetch(const uint32_t* seed, uint64_t* dc, uint32_t* sink, int iters, float ghz) {
    uint32_t idles[] = {0, 2000, 20000};
    for (uint32_t idle : idles) {
        fetch<KB><<<1, 32>>>(seed, dc, sink, iters, idle);
        CK(cudaDeviceSynchronize());
        std::vector<uint64_t> h(2 * iters), p1, p2;
        CK(cudaMemcpy(h.data(), dc, h.size() * 8, cudaMemcpyDeviceToHost));
        for (int i = 1; i < iters; ++i) { p1.push_back(h[2 * i]); p2.push_back(h[2 * i + 1]); }
        double a = median(p1), b = median(p2);
        printf("fetch  %4d KB  idle %5u ns  pass1 %8.0f cyc  pass2 %8.0f cyc  extra %7.0f cyc = %7.1f ns  (%.1f cyc per 128 B line)\n",
               KB, idle, a, b, a - b, (a - b) / ghz, (a - b) / (KB * 8.0));
    }
    return 0;
}

int main(int argc, char** argv) {
    const bool fetch_too = argc < 2; // `./icache contention`: part 2 only
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, 0));
    int clk_khz = 0;
    CK(cudaDeviceGetAttribute(&clk_khz, cudaDevAttrClockRate, 0));
    float ghz = clk_khz / 1e6f;
    int drv = 0;
    cudaDriverGetVersion(&drv);
    printf("device %s, driver CUDA %d, SM clock attribute %.3f GHz\n", p.name, drv, ghz);
    uint32_t *seed, *sink;
    uint64_t* dc;
    const int iters = 2001;
    CK(cudaMalloc(&seed, 16));
    CK(cudaMemset(seed, 3, 16));
    CK(cudaMalloc(&sink, 4096));
    CK(cudaMalloc(&dc, 2 * iters * 8));
    if (fetch_too && (run_fetch<1>(seed, dc, sink, iters, ghz) || run_fetch<4>(seed, dc, sink, iters, ghz) ||
        run_fetch<8>(seed, dc, sink, iters, ghz) || run_fetch<16>(seed, dc, sink, iters, ghz) ||
        run_fetch<32>(seed, dc, sink, iters, ghz) || run_fetch<64>(seed, dc, sink, iters, ghz) ||
        run_fetch<96>(seed, dc, sink, iters, ghz) || run_fetch<128>(seed, dc, sink, iters, ghz)))
        return 1;
    uint32_t *host, *host_dev, *devmem;
    CK(cudaHostAlloc(&host, 4096, cudaHostAllocMapped));
    CK(cudaHostGetDevicePointer(&host_dev, host, 0));
    CK(cudaMalloc(&devmem, 4096));
    const char* modes[] = {"", "shared volatile loads", "shared mbarrier.test_wait", "device-memory loads",
                           "mapped-host loads"};
    for (int generic = 0; generic <= 1; ++generic)
    for (int mode = 1; mode <= 4; ++mode) {
        for (int spinners = 0; spinners <= 3; spinners += (spinners == 0 ? 1 : 2)) {
            contention<<<1, 128>>>(dc, sink, iters, spinners, mode, generic, mode == 4 ? host_dev : devmem);
            CK(cudaDeviceSynchronize());
            std::vector<uint64_t> h(iters);
            CK(cudaMemcpy(h.data(), dc, iters * 8, cudaMemcpyDeviceToHost));
            h.erase(h.begin());
            double m = median(h);
            printf("64 ld/st pairs on shared memory (%s), %d warps spinning on %s: %6.0f cyc = %6.1f ns\n",
                   generic ? "generic pointers" : "shared window", spinners, modes[mode], m, m / ghz);
        }
    }
    return 0;
}
// Measured 2026-11-22, NVIDIA H100 80GB HBM3, driver 580.159.04, nvcc -O3 -arch=sm_90:
// 1. fetch: pass 1 = pass 2 for every size and idle time (1 KB: 128 cycles,
//    4 KB: 512, 16 KB: 2048, 64 KB: 8192 vs 8370, 128 KB: 19857 vs 19813;
//    idle 0, 2 and 20 us alike). Straight-line code that ran microseconds ago
//    costs nothing to fetch again, up to 128 KB: the hop kernels' ~100 KB of
//    SASS does not make their stages slow.
// 2. contention: 3547 cycles for the 64 pairs (55 per pair) with 0, 1 or 3
//    warps spinning, on any of the four kinds of spin, through either kind of
//    pointer (3547-3557): the idle warps' polling does not slow a busy warp.
// What does explain the stages (runtime/benches/ringkernel, hop anatomy, same
// day, H100): the SM runs at 1979 MHz during the hops, and doubling the K2K
// staging copy (28 more dependent 4-byte shared-memory load/store pairs)
// lengthens the staging stage by 1.19 us in both shared tiers: ~84 cycles
// a pair. The loop's hop path is a chain of dependent memory accesses.
