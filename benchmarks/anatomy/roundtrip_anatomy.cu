// roundtrip_anatomy.cu: where the time of a host -> persistent kernel ->
// host round trip goes, piece by piece, hand-written, next to the floor of
// ../shared/reference/limits.cu (poll one word, store one word).
//
// Each variant adds one ingredient of an actor round trip:
//   floor        poll a doorbell word (ld.acquire.sys), store the ack
//                (st.release.sys): one dependent PCIe read per message
//   tail+slot    the ring's read side: poll the tail, then read the 128-byte
//                slot (header + 64 B payload) it published: two dependent reads
//   reply+fence  the ring's write side: write a 128-byte reply, fence.sys,
//                then the ack store
//   ring         both (what an index-published ring costs at the least)
//   ll-in        the slot itself is the doorbell: 96 bytes of data sent as
//                24 8-byte words of (4 data bytes, 4 flag bytes), NCCL's LL
//                encoding; the warp loads all of them at once and accepts
//                when every flag is the expected sequence (8-byte stores and
//                loads are single-copy atomic, so no word is torn)
//   ll-in+out    LL both ways: the reply is 24 LL words, no fence
//   ll-in+fence  LL in, reply + fence + ack out
// Every reply is checked by the host (the data proves the device read the
// message). Build: nvcc -O2 -arch=sm_90 -o anatomy roundtrip_anatomy.cu
// Run: ./anatomy            (all variants)
//      ./anatomy ctx-*      (the context-recovery probes, one per process)
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include <cuda.h>
#include <cuda_runtime.h>

#define CK(x)                                                                  \
  do {                                                                         \
    cudaError_t e_ = (x);                                                      \
    if (e_ != cudaSuccess) {                                                   \
      printf("CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__,    \
             __LINE__);                                                        \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

using clk = std::chrono::steady_clock;
static double ns_since(clk::time_point t0) {
  return std::chrono::duration<double, std::nano>(clk::now() - t0).count();
}
static void report(const char *name, std::vector<double> &v, uint64_t bad) {
  std::sort(v.begin(), v.end());
  auto q = [&](double p) { return v[std::min(v.size() - 1, (size_t)(p * v.size()))]; };
  printf("%-14s n=%7zu p50=%7.0f ns p90=%7.0f ns p99=%7.0f ns min=%6.0f ns bad=%llu\n", name,
         v.size(), q(0.5), q(0.9), q(0.99), v.front(), (unsigned long long)bad);
  fflush(stdout);
}

__device__ __forceinline__ uint64_t ld_acq_sys(const volatile uint64_t *p) {
  uint64_t v;
  asm volatile("ld.acquire.sys.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
  return v;
}
__device__ __forceinline__ uint64_t ld_rlx_sys(const volatile uint64_t *p) {
  uint64_t v;
  asm volatile("ld.relaxed.sys.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
  return v;
}
__device__ __forceinline__ void st_rel_sys(volatile uint64_t *p, uint64_t v) {
  asm volatile("st.release.sys.global.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}
__device__ __forceinline__ void st_rlx_sys(volatile uint64_t *p, uint64_t v) {
  asm volatile("st.relaxed.sys.global.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}
__device__ __forceinline__ void fence_sys() { asm volatile("fence.acq_rel.sys;" ::: "memory"); }

constexpr int LL_WORDS = 24; // 96 data bytes: a 32 B header's worth + 64 B payload
struct alignas(128) Box {
  uint64_t cmd; // doorbell / tail
  char p0[120];
  uint64_t slot[16]; // 128 B: header + 64 B payload
  uint64_t ll_in[32];
  uint64_t ack;
  char p1[120];
  uint64_t reply[16];
  uint64_t ll_out[32];
};

enum Variant { FLOOR, TAIL_SLOT, REPLY_FENCE, RING, LL_IN, LL_BOTH, LL_IN_FENCE, LL_CLOCK, LL_BARRIERS, NVARIANTS };
static const char *NAMES[] = {"floor", "tail+slot", "reply+fence", "ring", "ll-in", "ll-in+out", "ll-in+fence",
                              "ll+fence+2clk", "ll+fence+6bar"};

__device__ __forceinline__ uint64_t ll_word(uint32_t data, uint32_t flag) {
  return (uint64_t)data | ((uint64_t)flag << 32);
}

__device__ __forceinline__ uint64_t globaltimer() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

// One warp. Message i carries the value i in every data word; the reply is
// value i + 1 in every word.
// ll-in+fence with what an actor loop adds around it: two %globaltimer
// reads (HLC receive and send), or six block barriers of 128 threads.
__global__ void echo_extra(Box *b, int variant, uint64_t n, uint64_t *sink) {
  const uint32_t lane = threadIdx.x;
  uint64_t acc = 0;
  for (uint64_t i = 1; i <= n; ++i) {
    uint64_t got = 0;
    if (threadIdx.x < 32) {
      for (;;) {
        uint64_t w = lane < LL_WORDS ? ld_rlx_sys(&b->ll_in[lane]) : ll_word(0, (uint32_t)i);
        bool ok = (uint32_t)(w >> 32) == (uint32_t)i;
        if (__all_sync(0xffffffffu, ok)) {
          got = (uint32_t)w;
          break;
        }
      }
      got = __shfl_sync(0xffffffffu, got, 0);
    }
    if (variant == LL_CLOCK) {
      acc += globaltimer();
    } else {
      __syncthreads(); __syncthreads(); __syncthreads();
    }
    const uint64_t r = got + 1;
    if (threadIdx.x < 16) {
      st_rlx_sys(&b->reply[lane], r);
    }
    if (variant == LL_CLOCK) {
      acc += globaltimer();
      __syncwarp();
    } else {
      __syncthreads(); __syncthreads(); __syncthreads();
    }
    if (threadIdx.x == 0) {
      fence_sys();
      st_rlx_sys(&b->ack, i);
    }
    if (variant != LL_CLOCK) __syncthreads();
  }
  if (threadIdx.x == 0) *sink = acc;
}

__global__ void echo(Box *b, int variant, uint64_t n) {
  const uint32_t lane = threadIdx.x;
  for (uint64_t i = 1; i <= n; ++i) {
    uint64_t got = 0;
    // ---- inbound ----
    if (variant == LL_IN || variant == LL_BOTH || variant == LL_IN_FENCE) {
      for (;;) {
        uint64_t w = lane < LL_WORDS ? ld_rlx_sys(&b->ll_in[lane]) : ll_word(0, (uint32_t)i);
        bool ok = (uint32_t)(w >> 32) == (uint32_t)i;
        if (__all_sync(0xffffffffu, ok)) {
          got = (uint32_t)w;
          break;
        }
      }
      got = __shfl_sync(0xffffffffu, got, 0);
    } else {
      if (lane == 0) {
        while (ld_acq_sys(&b->cmd) != i) {
        }
      }
      __syncwarp();
      if (variant == TAIL_SLOT || variant == RING) {
        // the published slot, read after the tail's acquire (lane 0's
        // acquire, then the warp barrier, orders the others' loads)
        uint64_t w = lane < 16 ? ld_rlx_sys(&b->slot[lane]) : i;
        got = __all_sync(0xffffffffu, w == i) ? i : 0;
      } else {
        got = i;
      }
    }
    // ---- outbound ----
    const uint64_t r = got + 1;
    if (variant == LL_BOTH) {
      if (lane < LL_WORDS) {
        st_rlx_sys(&b->ll_out[lane], ll_word((uint32_t)r, (uint32_t)i));
      }
    } else if (variant == REPLY_FENCE || variant == RING || variant == LL_IN_FENCE) {
      if (lane < 16) {
        st_rlx_sys(&b->reply[lane], r);
      }
      __syncwarp();
      if (lane == 0) {
        fence_sys();
        st_rlx_sys(&b->ack, i);
      }
    } else if (lane == 0) {
      st_rel_sys(&b->ack, got == i ? i : 0);
    }
    __syncwarp();
  }
}

static void run_variant(int variant, Box *hb, Box *db, cudaStream_t s, uint64_t R) {
  memset(hb, 0, sizeof(Box));
  static uint64_t *sink = nullptr;
  if (!sink) CK(cudaMalloc(&sink, 8));
  if (variant == LL_CLOCK) echo_extra<<<1, 32, 0, s>>>(db, variant, R, sink);
  else if (variant == LL_BARRIERS) echo_extra<<<1, 128, 0, s>>>(db, variant, R, sink);
  else echo<<<1, 32, 0, s>>>(db, variant, R);
  CK(cudaGetLastError());
  std::vector<double> v;
  v.reserve(R);
  uint64_t bad = 0;
  volatile uint64_t *ack = &hb->ack;
  for (uint64_t i = 1; i <= R; ++i) {
    auto t0 = clk::now();
    if (variant >= LL_IN) {
      for (int k = 0; k < LL_WORDS; ++k) {
        __atomic_store_n(&hb->ll_in[k], (uint64_t)(uint32_t)i | ((uint64_t)(uint32_t)i << 32),
                         __ATOMIC_RELAXED);
      }
    } else {
      for (int k = 0; k < 16; ++k) hb->slot[k] = i;
      __atomic_store_n(&hb->cmd, i, __ATOMIC_RELEASE);
    }
    if (variant == LL_BOTH) {
      for (int k = 0; k < LL_WORDS; ++k) {
        uint64_t w;
        while ((uint32_t)((w = __atomic_load_n(&hb->ll_out[k], __ATOMIC_ACQUIRE)) >> 32) !=
               (uint32_t)i) {
        }
        if ((uint32_t)w != (uint32_t)(i + 1)) ++bad;
      }
    } else {
      uint64_t a;
      while ((a = __atomic_load_n(ack, __ATOMIC_ACQUIRE)) != i) {
        if (a == 0 && i > 1 && variant != FLOOR) {
        }
      }
      if (variant == REPLY_FENCE || variant == RING || variant >= LL_IN_FENCE) {
        for (int k = 0; k < 16; ++k)
          if (hb->reply[k] != i + 1) ++bad;
      }
    }
    if (i > 1000) v.push_back(ns_since(t0));
  }
  CK(cudaStreamSynchronize(s));
  report(NAMES[variant], v, bad);
}

// ---------------------------------------------------------------- contexts
// After a kernel's illegal address, can this process use the GPU again?
__global__ void fault_kernel(int *p) { *p = 1; }
__global__ void good_kernel(int *p) { *p = 42; }

static int good_run(const char *what) {
  int *d = nullptr;
  cudaError_t e = cudaMalloc(&d, 4);
  if (e != cudaSuccess) {
    printf("%s: cudaMalloc after the fault: %s\n", what, cudaGetErrorString(e));
    return 1;
  }
  good_kernel<<<1, 1>>>(d);
  e = cudaDeviceSynchronize();
  int h = 0;
  if (e == cudaSuccess) e = cudaMemcpy(&h, d, 4, cudaMemcpyDeviceToHost);
  printf("%s: fresh work after the fault: %s, value %d\n", what, cudaGetErrorString(e), h);
  return e == cudaSuccess && h == 42 ? 0 : 1;
}

static int ctx_probe(const std::string &mode) {
  CUdevice dev;
  CUresult r = cuInit(0);
  cuDeviceGet(&dev, 0);
  if (mode == "ctx-created") {
    // a context of our own (not the primary): destroy it, create another
    CUcontext c1, c2;
    CUctxCreateParams params = {};
    r = cuCtxCreate(&c1, &params, 0, dev);
    printf("cuCtxCreate: %d\n", (int)r);
    fault_kernel<<<1, 1>>>((int *)0x10);
    cudaError_t e = cudaDeviceSynchronize();
    printf("ctx-created: fault: %s\n", cudaGetErrorString(e));
    r = cuCtxDestroy(c1);
    printf("cuCtxDestroy: %d\n", (int)r);
    r = cuCtxCreate(&c2, &params, 0, dev);
    printf("cuCtxCreate again: %d\n", (int)r);
    cudaGetLastError();
    return good_run("ctx-created");
  }
  if (mode == "ctx-primary") {
    fault_kernel<<<1, 1>>>((int *)0x10);
    cudaError_t e = cudaDeviceSynchronize();
    printf("ctx-primary: fault: %s\n", cudaGetErrorString(e));
    e = cudaDeviceReset();
    printf("cudaDeviceReset: %s\n", cudaGetErrorString(e));
    cudaGetLastError();
    return good_run("ctx-primary");
  }
  printf("unknown mode %s\n", mode.c_str());
  return 2;
}

int main(int argc, char **argv) {
  if (argc > 1 && std::string(argv[1]).rfind("ctx-", 0) == 0) {
    return ctx_probe(argv[1]);
  }
  cudaDeviceProp p;
  CK(cudaGetDeviceProperties(&p, 0));
  int drv = 0;
  cudaDriverGetVersion(&drv);
  printf("device %s, driver API %d\n", p.name, drv);
  cudaStream_t s;
  CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  Box *hb;
  CK(cudaHostAlloc(&hb, sizeof(Box), cudaHostAllocMapped));
  Box *db;
  CK(cudaHostGetDevicePointer(&db, hb, 0));
  const uint64_t R = argc > 1 ? strtoull(argv[1], nullptr, 10) : 100000;
  for (int rep = 0; rep < 2; ++rep) {
    for (int v = 0; v < NVARIANTS; ++v) run_variant(v, hb, db, s, R);
  }
  return 0;
}
