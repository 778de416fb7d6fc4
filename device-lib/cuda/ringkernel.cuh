// ringkernel.cuh: the one header generated code includes.
//
// Self-contained: no CUDA toolkit, libc, cooperative_groups or CCCL headers,
// so NVRTC compiles a module in tens of milliseconds.
#ifndef RINGKERNEL_CUH
#define RINGKERNEL_CUH

#include "rk_types.cuh"
#include "rk_sync.cuh"
#include "rk_envelope.cuh"
#include "rk_ring.cuh"
#include "rk_control.cuh"
#include "rk_hlc.cuh"
// The K2K inboxes, unless the includer has no K2K paths and defines
// RINGKERNEL_NO_K2K (rk_actor.cuh for a single actor: NVRTC then parses
// them in none of its cold compiles, about 1% each).
#ifndef RINGKERNEL_NO_K2K
#include "rk_k2k.cuh"
#include "rk_k2k_ll.cuh"
#include "rk_k2k_mbar.cuh"
#endif

#endif // RINGKERNEL_CUH
