// Latency of single operations on the lone path, in SM cycles (clock64
// around a dependent chain of N ops), one thread.
#include <cstdio>
#include <cstdint>
#define N 256
__device__ __forceinline__ uint64_t gt() { uint64_t t; asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t)); return t; }
__global__ void k(uint64_t* out) {
  __shared__ __align__(128) uint64_t box[64];
  __shared__ __align__(8) uint64_t bar[4];
  if (threadIdx.x == 0) {
    for (int i = 0; i < 64; ++i) box[i] = 0;
    uint32_t sa = (uint32_t)__cvta_generic_to_shared(&bar[0]);
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" :: "r"(sa));
  }
  __syncthreads();
  if (threadIdx.x != 0) return;
  uint64_t* p = &box[0];
  uint32_t sp = (uint32_t)__cvta_generic_to_shared(p);
  uint64_t acc = 0, t0, t1; int r = 0;
  // 1. globaltimer reads (dependent via acc)
  t0 = clock64(); for (int i = 0; i < N; ++i) { acc += gt(); } t1 = clock64(); out[r++] = (t1 - t0) / N;
  // 2. shared CAS 64 (window), dependent chain
  t0 = clock64(); for (int i = 0; i < N; ++i) { uint64_t old; asm volatile("atom.relaxed.cta.shared::cta.cas.b64 %0, [%1], %2, %3;" : "=l"(old) : "r"(sp), "l"(acc), "l"(acc + 1) : "memory"); acc = old; } t1 = clock64(); out[r++] = (t1 - t0) / N;
  // 3. generic CAS 64 on shared
  t0 = clock64(); for (int i = 0; i < N; ++i) { uint64_t old; asm volatile("atom.relaxed.cta.cas.b64 %0, [%1], %2, %3;" : "=l"(old) : "l"(p), "l"(acc), "l"(acc + 1) : "memory"); acc = old; } t1 = clock64(); out[r++] = (t1 - t0) / N;
  // 4. shared load chain (LDS)
  volatile uint64_t* vp = p;
  t0 = clock64(); for (int i = 0; i < N; ++i) { acc += vp[acc & 7]; } t1 = clock64(); out[r++] = (t1 - t0) / N;
  // 5. mbarrier test_wait on an incomplete-parity (returns true: phase -1 complete)
  uint32_t bsa = (uint32_t)__cvta_generic_to_shared(&bar[0]);
  t0 = clock64(); for (int i = 0; i < N; ++i) { uint32_t ok; asm volatile("{ .reg .pred q; mbarrier.test_wait.parity.acquire.cta.shared::cta.b64 q, [%1], %2; selp.u32 %0, 1, 0, q; }" : "=r"(ok) : "r"(bsa), "r"(1u) : "memory"); acc += ok; } t1 = clock64(); out[r++] = (t1 - t0) / N;
  // 6. mbarrier arrive.release.cta then test_wait (phase flips each time)
  t0 = clock64(); for (int i = 0; i < N; ++i) { asm volatile("{ .reg .b64 st; mbarrier.arrive.release.cta.shared::cta.b64 st, [%0]; }" :: "r"(bsa) : "memory"); uint32_t ok; asm volatile("{ .reg .pred q; mbarrier.test_wait.parity.acquire.cta.shared::cta.b64 q, [%1], %2; selp.u32 %0, 1, 0, q; }" : "=r"(ok) : "r"(bsa), "r"((uint32_t)(i & 1)) : "memory"); acc += ok; } t1 = clock64(); out[r++] = (t1 - t0) / N;
  // 7. red.release add 64 on shared (window)
  t0 = clock64(); for (int i = 0; i < N; ++i) { asm volatile("red.release.cta.shared::cta.add.u64 [%0], %1;" :: "r"(sp + 8), "l"(acc & 1) : "memory"); acc += vp[1]; } t1 = clock64(); out[r++] = (t1 - t0) / N;
  // 8. atom.acquire add 0 (window)
  t0 = clock64(); for (int i = 0; i < N; ++i) { uint64_t v; asm volatile("atom.acquire.cta.shared::cta.add.u64 %0, [%1], 0;" : "=l"(v) : "r"(sp + 8 + (uint32_t)(acc & 0)) : "memory"); acc += v; } t1 = clock64(); out[r++] = (t1 - t0) / N;
  // 9. fence.acq_rel.cta
  t0 = clock64(); for (int i = 0; i < N; ++i) { asm volatile("fence.acq_rel.cta;" ::: "memory"); acc += vp[acc & 1]; } t1 = clock64(); out[r++] = (t1 - t0) / N;
  // 10. fence.acq_rel.gpu
  t0 = clock64(); for (int i = 0; i < N; ++i) { asm volatile("fence.acq_rel.gpu;" ::: "memory"); acc += vp[acc & 1]; } t1 = clock64(); out[r++] = (t1 - t0) / N;
  // 11. st.shared.v4 x4 then arrive.release (the commit)
  t0 = clock64(); for (int i = 0; i < N; ++i) { for (int j = 0; j < 4; ++j) asm volatile("st.shared.v4.u32 [%0], {%1, %1, %1, %1};" :: "r"(sp + 16 * j), "r"((uint32_t)acc) : "memory"); asm volatile("{ .reg .b64 st; mbarrier.arrive.release.cta.shared::cta.b64 st, [%0]; }" :: "r"(bsa) : "memory"); acc += vp[acc & 1]; } t1 = clock64(); out[r++] = (t1 - t0) / N;
  // 12. globaltimer read then use (gt minus gt)
  t0 = clock64(); for (int i = 0; i < N; ++i) { uint64_t a = gt(); acc += a & 1; } t1 = clock64(); out[r++] = (t1 - t0) / N;
  // 13. mbar try_wait on a completed phase (parity 1 of a barrier at phase 0: the "phase before" is complete)
  {
    // re-init a fresh barrier bar[1]
    uint32_t b1 = (uint32_t)__cvta_generic_to_shared(&bar[1]);
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" :: "r"(b1));
    t0 = clock64(); for (int i = 0; i < N; ++i) { asm volatile("{ .reg .pred q; W13: mbarrier.try_wait.parity.acquire.cta.shared::cta.b64 q, [%0], %1; @!q bra W13; }" :: "r"(b1), "r"(1u + (uint32_t)(acc & 0)) : "memory"); acc += vp[acc & 1]; } t1 = clock64(); out[r++] = (t1 - t0) / N;
  }
  // 14. generic load chain on shared (LD.E)
  {
    volatile uint64_t* gp = p; // generic pointer, not known shared
    asm volatile("" : "+l"(gp));
    t0 = clock64(); for (int i = 0; i < N; ++i) { acc += gp[acc & 7]; } t1 = clock64(); out[r++] = (t1 - t0) / N;
  }
  // 15. clock64 read pair (trace mark cost proxy)
  t0 = clock64(); for (int i = 0; i < N; ++i) { acc += clock64() & 1; } t1 = clock64(); out[r++] = (t1 - t0) / N;
  out[r++] = acc;
}
int main() {
  uint64_t* d; cudaMalloc(&d, 64 * 8); uint64_t h[64];
  for (int rep = 0; rep < 3; ++rep) {
    k<<<1, 32>>>(d); cudaDeviceSynchronize(); cudaMemcpy(h, d, 64 * 8, cudaMemcpyDeviceToHost);
    const char* names[] = {"globaltimer read (chain)", "shared CAS.64 window", "generic CAS.64 on shared", "LDS chain", "mbar test_wait (complete)", "mbar arrive.release+test_wait", "red.release add.u64 shared + LDS", "atom.acquire add 0 shared", "fence.acq_rel.cta + LDS", "fence.acq_rel.gpu + LDS", "4x st.shared.v4 + arrive.release + LDS", "globaltimer read (indep)", "mbar try_wait (completed) + LDS", "generic LD chain on shared", "clock64 read"};
    for (int i = 0; i < 15; ++i) printf("%-42s %6llu cycles\n", names[i], (unsigned long long)h[i]);
    printf("--\n");
  }
  printf("%s\n", cudaGetErrorString(cudaGetLastError()));
}
