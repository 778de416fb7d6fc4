// rk_actor.cuh: the persistent actor loop that runs #[ring_kernel] handlers.
//
// Generated code (transpiler/src/back/cuda/actor.rs) defines, per handler, an
// adapter struct H with
//     static constexpr rk_u32 message_size, reply_size, state_size;
//     static constexpr rk_u32 batch;     // messages staged per poll (>= 1)
//     static constexpr rk_u32 schedule;  // RK_ACTOR_SCHEDULE_*
//     static __device__ void run(rk_fault_ctx*, void* state, const void* msg,
//                                void* reply, bool writer);
// (`run` runs the handler on one message in the calling thread; when
// `writer` is set and the handler did not fault, it stores the thread's
// return value to `reply`) and a __global__ wrapper that calls
// rk_actor_main<H>. The loop implements DESIGN.md section 4 over the
// device-lib protocol headers (rings, control block, HLC), a batch of
// messages per poll:
//
//   leader (thread 0)                      every thread
//   -----------------                      ------------
//   poll the inbox: k = the published
//   messages (<= the batch, <= free outbox
//   slots); backoff when idle; stop =
//   drain, then exit
//                      --- barrier B1 ---
//                                          stage the k slots (header and payload)
//                                          into shared memory: coalesced 16-byte
//                                          asynchronous copies, all in flight at once
//                      --- barrier B2 ---
//   warp 0: check each header, cut the
//   batch before the first bad one; HLC
//   receive rule for each message in
//   order (a warp prefix scan)
//                      --- barrier B3 ---
//                                          run the handler on the k messages
//                                          (H::schedule, below); each reply goes
//                                          to shared memory
//   HLC send stamps for the replies
//                      --- barrier B4 ---
//                                          write the k reply envelopes into the
//                                          outbox: consecutive threads write
//                                          consecutive 16-byte words (coalesced)
//                      --- barrier B5 ---
//   counters; one fence, then the outbox
//   tail (publishes every reply) and the
//   inbox head (frees every slot); on a
//   fault: record it, Failed, dead letter
//
// Schedules (decided by the back end from what the handler can observe; each
// one gives the replies, state, faults and order of running the messages
// one at a time, each on the whole block):
//   IN_ORDER  every thread runs message 0, barrier, message 1, barrier, ...
//             A fault stops the batch at the faulting message.
//   ISOLATED  (no state, no shared memory, no barriers/collectives/atomics)
//             every thread runs the messages in turn with no barrier between.
//   UNIFORM   (ISOLATED, and no thread index is read, so every thread would
//             compute the same thing) thread t runs messages t, t + T, ...
//   Under ISOLATED and UNIFORM a message has no effect but its reply, so a
//   fault anywhere in the batch just re-runs the whole batch IN_ORDER, which
//   stops at the first faulting message and rewrites every reply.
//
// The compact path (rk_actor_call_one): when the block is idle, warp 0
// looks at the next slot's flagged copy (rk_actor_look). A call found
// alone there, for a handler of the UNIFORM schedule that replies, is
// answered by warp 0 alone: lane 0 receives it, runs the handler and
// stamps the reply, the lanes write the envelope, lane 0 closes the batch
// as the leader above would. None of the five block barriers, the same
// effects and clock steps. It is the round trip of a stateless actor.

// Exactly once: only the leader consumes (one head store per batch, after
// every handler of the batch ran), and each staged message is run once by
// the block (or re-run in order after a fault, replacing its earlier reply
// before anything is published). FIFO: the batch is the next k messages and
// reply i goes to outbox slot i. Messages after a faulting one stay in the
// inbox (not consumed) and are polled again after a restart.
//
// HLC: the batch is received in one step (every receipt, in inbox order,
// at one physical time), then the replies are sent (one physical time,
// logical counter + 1 each). Both are exactly the rules of rk_hlc.cuh applied
// one message at a time in that order; see rk_actor_receive for the scan.
//
// Dead letters: a request the handler faulted on, or one with the wrong type
// id or size, is published to the outbox with RK_ENVELOPE_FLAG_FAULT, its
// original payload, its correlation id, and the reason in `reserved`
// ([kind, line, column]), so nothing accepted is lost silently.
//
// One actor per block: block b serves actors[b]; blocks past actor_count
// return at once.
//
// Warp actors (`#[ring_kernel(warps = 1)]`; the adapter defines
// `static constexpr bool warp_actor = true`): one actor per warp, P actors
// packed into a block of 32 * P threads (P <= RK_ACTOR_MAX_PACK, chosen by
// the runtime from blockDim). Warp w of block b serves actors[b * P + w];
// each warp runs the loop above on its own, its own leader (lane 0), its own
// __shared__ loop state (arrays indexed by the warp), and its own slice of
// the dynamic shared memory (S::area: H::batch records, no chunk scratch:
// the receive is one warp's scan, rk_actor_receive_narrow). The barriers
// B1..B5 are __syncwarp, so no warp ever waits for another: a warp actor
// that faults parks alone while its neighbours keep answering. The handler
// sees a 32-thread block (thread index = lane, block size 32, sync_threads
// and block reductions over the warp; back/cuda/actor.rs). Its idle look
// is its own warp's, its one-message receive its lane 0's
// (rk_actor_receive_one); its loop trace goes to its own control block.
// Nothing in a warp actor's path is a block-scope barrier (cuda_out's
// warp_actors_never_use_block_barriers checks the PTX), so a warp actor
// that faults, parks or hangs never holds up its neighbours. Within the
// faulting warp: a lane that faults leaves the handler at once (Rust's
// panic) for the loop's barrier; if the other lanes then reach a warp
// collective in the handler (a shuffle, a vote, sync_threads) the warp's
// synchronising instructions no longer match, which CUDA leaves undefined
// (expect that warp to hang: its heartbeat stops and the watchdog reports
// it; the interpreter instead lets the faulted lane drop out of the
// collective). Handlers that fault only where no collective follows (a
// checked index before any reduction, a leader-only state update) are safe.
// Cluster placement is refused (a cluster's barriers are the whole block's).
#ifndef RK_ACTOR_CUH
#define RK_ACTOR_CUH

#ifndef RK_RUST_CUH
#error "include rk_rust.cuh before rk_actor.cuh"
#endif
#include "ringkernel.cuh"

// Kernel-to-kernel messaging is compiled into system kernels only (the
// transpiler's compose_system defines RK_ACTOR_K2K 1 before the includes):
// a module of one handler has no K2K inbox and no routes, so its loop
// carries none of those paths (they cost NVRTC time), and its ctx.send
// and ctx.try_send fault UNROUTED as every send without a route does.
#ifndef RK_ACTOR_K2K
#define RK_ACTOR_K2K 0
#endif

// Where a system's K2K inboxes live, fixed when compose_system writes the
// kernel (it defines RK_ACTOR_K2K_CLUSTER 1 for a cluster-placed system):
//   0  each inbox in device global memory, routes of tier GLOBAL, .gpu
//      scope; one block per actor anywhere on the device;
//   1  each inbox in its actor's block's dynamic shared memory, after the
//      staging area, routes of tier DSMEM reached through mapa, .cluster
//      scope; the whole system is one thread-block cluster (sm_90+).
// A block-placed system (compose_system defines RK_ACTOR_K2K_BLOCK 1, and
// RK_ACTOR_WARP_STRIDE, the largest staging slice of its handlers) is one
// block of warp actors: each inbox in that block's dynamic shared memory,
// after every warp's staging slice, routes of tier SHARED, .cta scope.
// Specialised at compose time rather than chosen per route at run time:
// a system's routes all have the one tier its placement gives, the
// cluster paths (mapa, barrier.cluster) do not exist below sm_90, where
// the global kernel must still compile, and the loop's K2K functions are
// one text templated over the scope tag (rk_actor_k2k_scope) either way.
#ifndef RK_ACTOR_K2K_CLUSTER
#define RK_ACTOR_K2K_CLUSTER 0
#endif
#ifndef RK_ACTOR_K2K_BLOCK
#define RK_ACTOR_K2K_BLOCK 0
#endif
#if RK_ACTOR_K2K_BLOCK
#if !RK_ACTOR_K2K || RK_ACTOR_K2K_CLUSTER
#error "RK_ACTOR_K2K_BLOCK needs RK_ACTOR_K2K, and excludes RK_ACTOR_K2K_CLUSTER"
#endif
#ifndef RK_ACTOR_WARP_STRIDE
#error "RK_ACTOR_K2K_BLOCK needs RK_ACTOR_WARP_STRIDE (the system's staging slice per warp)"
#endif
typedef rk_scope_cta rk_actor_k2k_scope;
#define RK_ACTOR_K2K_TIER RK_ROUTE_TIER_SHARED
#elif RK_ACTOR_K2K_CLUSTER
#if !RK_ACTOR_K2K
#error "RK_ACTOR_K2K_CLUSTER needs RK_ACTOR_K2K"
#endif
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#error "a cluster-placed actor system needs thread-block clusters (sm_90 or newer)"
#endif
typedef rk_scope_cluster rk_actor_k2k_scope;
#define RK_ACTOR_K2K_TIER RK_ROUTE_TIER_DSMEM
#else
typedef rk_scope_gpu rk_actor_k2k_scope;
#define RK_ACTOR_K2K_TIER RK_ROUTE_TIER_GLOBAL
#endif

static_assert(RK_ACTOR_FAULT_INDEX_OUT_OF_BOUNDS == RK_FAULT_INDEX_OUT_OF_BOUNDS, "fault codes agree");
static_assert(RK_ACTOR_FAULT_DIVISION_BY_ZERO == RK_FAULT_DIVISION_BY_ZERO, "fault codes agree");
static_assert(RK_ACTOR_FAULT_OVERFLOW == RK_FAULT_OVERFLOW, "fault codes agree");
static_assert(RK_ACTOR_FAULT_INVALID_ARGUMENT == RK_FAULT_INVALID_ARGUMENT, "fault codes agree");
static_assert(RK_ACTOR_FAULT_PANIC == RK_FAULT_EXPLICIT, "fault codes agree");

// H::schedule values (ActorSchedule in the back end).
#define RK_ACTOR_SCHEDULE_IN_ORDER 0u
#define RK_ACTOR_SCHEDULE_ISOLATED 1u
#define RK_ACTOR_SCHEDULE_UNIFORM 2u

// What handler code can ask of its actor about the message it runs
// (RingContext intrinsics): one per staged message.
struct rk_actor_env {
    rk_u32 actor_id;
    rk_hlc_timestamp received; // the HLC timestamp of the message's receipt
};
static_assert(sizeof(rk_actor_env) == 24, "rk_actor_env: ENV_BYTES in back/cuda/actor.rs");

// A handler thread's context: the fault context every generated function
// takes, plus the environment of the message it runs. Generated code reads
// the environment through rk_actor_env_of(__rk_f).
struct rk_actor_leader;
struct rk_actor_ctx : rk_fault_ctx {
    const rk_actor_env* env;
    const rk_actor_desc* desc;  // for ctx.send/try_send: the route table
    rk_actor_leader* leader;    // for ctx.send/try_send: the clock (leader thread only)
};

RK_INLINE const rk_actor_env* rk_actor_env_of(const rk_fault_ctx* f) {
    return static_cast<const rk_actor_ctx*>(f)->env;
}

// ---- who runs one actor: a block, or a warp of a block ----

// The most warp actors one block holds (a block of 256 threads).
#define RK_ACTOR_MAX_PACK 8u

// Whether H is a warp actor: H::warp_actor, written only into the adapters
// of `#[ring_kernel(warps = 1)]` handlers.
template <typename H, typename = void>
struct rk_actor_is_warp {
    static constexpr bool value = false;
};
template <typename H>
struct rk_actor_is_warp<H, decltype((void)H::warp_actor)> {
    static constexpr bool value = H::warp_actor;
};

// The threads of one actor: its thread index, thread count, barrier, and
// its place in the launch. A block actor is the block (the barriers are
// __syncthreads); a warp actor is one warp (the barriers are __syncwarp,
// which never wait for the other actors of the block).
template <bool Warp>
struct rk_actor_unit;
template <>
struct rk_actor_unit<false> {
    static __device__ __forceinline__ rk_u32 tid() { return rk_thread_id(); }
    static __device__ __forceinline__ rk_u32 threads() { return rk_block_threads(); }
    static __device__ __forceinline__ rk_u32 slot() { return 0u; }
    static __device__ __forceinline__ rk_u32 index() { return blockIdx.x; }
    static __device__ __forceinline__ void sync() { __syncthreads(); }
    static __device__ __forceinline__ bool sync_or(bool p) { return __syncthreads_or(p) != 0; }
};
template <>
struct rk_actor_unit<true> {
    static __device__ __forceinline__ rk_u32 tid() { return threadIdx.x & 31u; }
    static __device__ __forceinline__ rk_u32 threads() { return 32u; }
    static __device__ __forceinline__ rk_u32 slot() { return threadIdx.x >> 5; }
    static __device__ __forceinline__ rk_u32 index() {
        return blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    }
    static __device__ __forceinline__ void sync() { __syncwarp(); }
    static __device__ __forceinline__ bool sync_or(bool p) {
        __syncwarp();
        return __any_sync(0xFFFFFFFFu, p) != 0;
    }
};
template <typename H>
using rk_actor_unit_of = rk_actor_unit<rk_actor_is_warp<H>::value>;

// Idle backoff: spin this many empty polls, then sleep with exponential
// growth up to RK_ACTOR_MAX_SLEEP_NS. The stop flag is read every
// RK_ACTOR_STOP_POLL empty polls (a PCIe read, so not on every spin).
#define RK_ACTOR_SPIN_POLLS 4096u
#define RK_ACTOR_MAX_SLEEP_NS 20000u
#define RK_ACTOR_STOP_POLL 32u

// Payload bytes rounded up to the 16-byte words the loop copies.
#define RK_ACTOR_WORDS(bytes) (((bytes) + 15u) / 16u)
// The envelope header in 16-byte words.
#define RK_ACTOR_HEADER_WORDS (RK_ENVELOPE_HEADER_SIZE / 16u)

// Per chunk of 32 staged messages, for rk_actor_receive.
struct rk_actor_chunk {
    rk_u64 max_l;       // the chunk's prefix maximum (see rk_actor_receive)
    rk_i64 max_c;
    rk_u32 first_bad;   // the first bad envelope's index, or 0xFFFFFFFF
    rk_u32 pad;
};
static_assert(sizeof(rk_actor_chunk) == 24, "rk_actor_chunk: CHUNK_AREA in back/cuda/actor.rs");

// The most messages a batch may hold (the runtime chooses at most this).
#define RK_ACTOR_MAX_BATCH 512u
// The receive scratch at the start of the staging area: one chunk per 32
// messages of the largest batch.
#define RK_ACTOR_CHUNK_AREA ((RK_ACTOR_MAX_BATCH / 32u) * 24u)

// The staging area: the launch's dynamic shared memory (the runtime sizes
// it for the batch it chose: ActorAbi::staging_bytes).
extern __shared__ __align__(16) unsigned char rk_actor_dynamic[];

// Where a handler's messages sit in the staging area: after the chunk
// scratch, one record per message: the staged request (header and
// payload), the reply the handler leaves, the message's receipt. Every
// address is a constant plus a multiple of the record size, so nothing
// about the area is kept in registers across the loop (ptxas spills when
// too much is live around the handlers' out-of-line fault calls). The
// record takes an odd number of 16-byte words, so that the lanes of a
// warp reading one 16-byte word each of consecutive messages hit different
// banks (a stride of a multiple of 128 bytes puts all 32 on one bank).
// back/cuda/actor.rs computes the same record size.
// A warp actor's slice of the area holds H::batch records and no chunk
// scratch; slice w starts at w * S::stride (constants and %tid.x, so still
// nothing is kept in registers).
template <typename H>
struct rk_actor_shape {
    static constexpr bool warp = rk_actor_is_warp<H>::value;
    static constexpr rk_u32 chunk_area = warp ? 0u : RK_ACTOR_CHUNK_AREA;
    // 16-byte words copied per message: the header, then the payload.
    static constexpr rk_u32 in_words = RK_ACTOR_HEADER_WORDS + RK_ACTOR_WORDS(H::message_size);
    static constexpr rk_u32 reply_words = RK_ACTOR_WORDS(H::reply_size);
    static constexpr rk_u32 reply_offset = in_words * 16u;
    static constexpr rk_u32 env_offset = reply_offset + reply_words * 16u;
    static constexpr rk_u32 record = ((RK_ACTOR_WORDS(env_offset + 24u)) | 1u) * 16u;
    // A warp actor's slice of the staging area: its own records, or in a
    // block-placed system the system's slice (its handlers' largest), so
    // warps of different handlers share one layout.
#if RK_ACTOR_K2K_BLOCK
    // compose_system sizes the slice for the system's roles; a handler of
    // the same module that plays no role never runs here (its entry is not
    // launched), and a role whose records would not fit is refused at
    // start (`fits`, checked with the loop's geometry), never overrun.
    static constexpr rk_u64 stride = RK_ACTOR_WARP_STRIDE;
    static constexpr bool fits = !warp || (rk_u64)H::batch * record <= stride;
#else
    static constexpr bool fits = true;
    static constexpr rk_u64 stride = chunk_area + (rk_u64)H::batch * record;
#endif

    // The calling actor's staging area.
    static __device__ __forceinline__ unsigned char* area() {
        if constexpr (warp) {
            return rk_actor_dynamic + (rk_u64)(threadIdx.x >> 5) * stride;
        } else {
            return rk_actor_dynamic;
        }
    }
    static __device__ __forceinline__ unsigned char* request(rk_u32 i) {
        return area() + chunk_area + (rk_u64)i * record;
    }
    static __device__ __forceinline__ unsigned char* reply(rk_u32 i) {
        return request(i) + reply_offset;
    }
    static __device__ __forceinline__ rk_actor_env* env(rk_u32 i) {
        return reinterpret_cast<rk_actor_env*>(request(i) + env_offset);
    }
    static __device__ __forceinline__ rk_actor_chunk* chunk(rk_u32 c) {
        return reinterpret_cast<rk_actor_chunk*>(area()) + c;
    }
    // The staging area for `batch` messages (one actor's).
    static __device__ __forceinline__ constexpr rk_u64 bytes(rk_u32 batch) {
        return chunk_area + (rk_u64)batch * record;
    }
};

enum rk_actor_command : rk_u32 {
    RK_ACTOR_RUN = 0,  // a batch is published in rk_actor_shared
    RK_ACTOR_LOOK = 1, // idle: warp 0 looks at the inbox (rk_actor_look)
    RK_ACTOR_EXIT = 2, // stop: the inbox is drained
};

// rk_actor_leader::look: what warp 0's last look found, for the next poll.
#define RK_ACTOR_LOOK_NONE 0u  // no look since the last poll used one
#define RK_ACTOR_LOOK_EMPTY 1u // no message in the flagged copy; look_tail read
#define RK_ACTOR_LOOK_GOT 2u   // message `index` staged in record 0 from its copy
// Round trips one look makes while nothing arrives, before the poll's
// bookkeeping (stop flag, heartbeat, backoff) runs again.
#define RK_ACTOR_LOOK_SPINS 8u
// An actor with a K2K inbox looks once per idle poll instead (a look is a
// PCIe round trip, about a microsecond, during which another actor's
// message waits), and polls its K2K inbox for about as long first
// (RK_ACTOR_K2K_SPIN_CYCLES of clock64, ~1 us at 2 GHz): a K2K message is
// then seen within one load most of the time, a host message within two
// microseconds.
#define RK_ACTOR_K2K_LOOK_SPINS 1u
#define RK_ACTOR_K2K_SPIN_CYCLES 2048u

// Diagnostics: with RK_ACTOR_TRACE defined to 1 (the runtime adds
// -DRK_ACTOR_TRACE=1 when RINGKERNEL_ACTOR_TRACE is set), the leader times
// each host batch's stages in SM cycles (clock64) and accumulates them in
// the control block's device_pad, as 16 u32 (RK_ACTOR_TRACE_*, wrapping;
// read by the host with Actor::loop_trace): how many batches, then the
// summed cycles of each stage, and the busy stages in %globaltimer ns. Off by default: the stores cost PCIe writes
// per batch, the timer reads a few nanoseconds each.
#ifndef RK_ACTOR_TRACE
#define RK_ACTOR_TRACE 0
#endif
#define RK_ACTOR_TRACE_BATCHES 0u   // host batches traced
#define RK_ACTOR_TRACE_IDLE 1u      // last batch's end -> this one seen (look or tail)
#define RK_ACTOR_TRACE_LOOKED 2u    // seen -> the look's end (its fence)
#define RK_ACTOR_TRACE_POLL 3u      // -> the poll returned RUN
#define RK_ACTOR_TRACE_PUBLISH 4u   // -> the batch published to the block (B1)
#define RK_ACTOR_TRACE_STAGE 5u     // -> staged (B2)
#define RK_ACTOR_TRACE_RECEIVE 6u   // -> received: header checks, HLC receipts (B3)
#define RK_ACTOR_TRACE_HANDLER 7u   // -> handlers done
#define RK_ACTOR_TRACE_STAMP 8u     // -> reply stamps issued (B4)
#define RK_ACTOR_TRACE_WRITE 9u     // -> replies written (B5)
#define RK_ACTOR_TRACE_COUNTERS 10u // -> counters stored
#define RK_ACTOR_TRACE_FENCE 11u    // -> the closing fence
#define RK_ACTOR_TRACE_TAIL 12u     // -> the reply tail stored
#define RK_ACTOR_TRACE_CLOSE 13u    // -> inbox head and heartbeat stored
#define RK_ACTOR_TRACE_BUSY_NS 14u  // %globaltimer ns from seen to the reply tail
#define RK_ACTOR_TRACE_LOOKS 15u    // look spins that found nothing
#define RK_ACTOR_TRACE_WORDS 16u

// Ports whose reserve starts from the sender's guess (rk_actor_leader).
#define RK_ACTOR_K2K_GUESSES 8u

// The leader's private loop state (in shared memory, used by the leader only).
struct rk_actor_leader {
    rk_ring inbox;
    rk_ring outbox;
    rk_hlc_clock clock;
    rk_u64 heartbeat;
    rk_u64 messages_in;
    rk_u64 messages_out;
    rk_u64 sequence;     // replies and dead letters this actor issued
    // The inbox tail read (relaxed) just before the last batch's closing
    // fence, which made the read an acquire; 0 when there is none.
    rk_u64 tail_ahead;
    // The inbox's flagged copies (rk_ring.cuh), when the ring has them and
    // this handler's messages fit one; null otherwise.
    const rk_u64* ll;
    rk_u32 ll_words;     // 8-byte words per slot of the flagged copies
    rk_u64 tail_seen;    // the largest inbox tail read from memory
    rk_u64 head_stored;  // the inbox head last stored (<= tail_seen)
    rk_u64 look_tail;    // the tail the last look read (fenced when > index)
    rk_u32 look;         // RK_ACTOR_LOOK_*
    rk_u32 empty;        // the poll's empty polls since the last batch
    rk_u32 sleep;        // its backoff sleep (ns)
    rk_u32 batch;        // messages staged per poll at most
    rk_u32 restarts_seen;
    bool failed;
    bool k2k_turn;       // poll the K2K inbox first next time (fairness)
    rk_k2k_header* k2k;  // the K2K inbox (other actors' messages), or null; in a
                         // cluster-placed system in this block's shared memory
    rk_u64 k2k_head;     // its next position to consume
    rk_u64 k2k_mask;
    rk_u64 sent;         // messages this actor sent (ctx.send, ctx.try_send)
    // Per port (the first RK_ACTOR_K2K_GUESSES), where the next reserve in
    // the destination's inbox starts: one past this actor's last claim
    // there, or where it last found the inbox full (rk_k2k_mp: never above
    // the inbox's tail; a port past these starts at 0).
    rk_u64 k2k_guess[RK_ACTOR_K2K_GUESSES];
#if RK_ACTOR_TRACE
    rk_u64 trace_at;     // when the current stage began (clock64)
    rk_u64 trace_seen_clock; // %globaltimer when the batch was seen
    alignas(16) rk_u32 trace[RK_ACTOR_TRACE_WORDS]; // RK_ACTOR_TRACE_* accumulators
#endif
};

// Diagnostics (RK_ACTOR_TRACE): adds the time since the last mark to
// accumulator `k` and marks now. Leader only.
RK_INLINE void rk_actor_trace_mark(rk_actor_leader* l, rk_u32 k) {
#if RK_ACTOR_TRACE
    // Stages in SM cycles (exact, this thread's SM); the busy span also in
    // %globaltimer nanoseconds, which gives the clock rate to convert them.
    const rk_u64 now = (rk_u64)clock64();
    l->trace[k] += (rk_u32)(now - l->trace_at);
    l->trace_at = now;
    if (k == RK_ACTOR_TRACE_IDLE) {
        l->trace_seen_clock = rk_globaltimer_ns();
    } else if (k == RK_ACTOR_TRACE_TAIL) {
        l->trace[RK_ACTOR_TRACE_BUSY_NS] += (rk_u32)(rk_globaltimer_ns() - l->trace_seen_clock);
    }
#else
    (void)l;
    (void)k;
#endif
}

// What the leader publishes to the block for one batch (shared memory).
struct rk_actor_shared {
    rk_ring inbox;          // the leader's ring views at the poll
    rk_ring outbox;
    rk_hlc_timestamp stamp; // the first reply's send stamp
    rk_u64 sequence;        // the sequence number before the first reply's
    rk_u64 pt;              // the batch's receipt time (physical)
    rk_u64 clock_l;         // the leader's clock before the batch
    rk_i64 clock_c;
    rk_u64 last_l;          // ... and after receiving it
    rk_i64 last_c;
    rk_u32 command;         // rk_actor_command
    rk_u32 count;           // messages polled
    rk_u32 good;            // messages before the first bad envelope
    rk_u32 serial_stamps;   // the stamps must be issued one by one (leader)
    rk_u32 source;          // where the batch is: RK_ACTOR_SOURCE_*
};

// Where a batch comes from. A K2K batch is staged through the same ring
// view (`inbox`: slots, index, mask, slot size) as a host batch.
#define RK_ACTOR_SOURCE_HOST 0u
#define RK_ACTOR_SOURCE_K2K 1u
// One host message taken from its slot's flagged copy by the poll, which
// left it staged in record 0 already.
#define RK_ACTOR_SOURCE_HOST_LL 2u

// ---- copies between mapped host memory and shared memory ----

// Starts copying 16 bytes from `src` (mapped or global memory) to `dst`
// (shared memory). sm_80+: cp.async, so every copy of a batch is in flight at
// once without holding registers; older parts load and store. Either way
// rk_actor_copy_wait() completes them. The reads are weak: they are ordered
// after the leader's acquire of the ring's tail by the barrier in between.
RK_INLINE void rk_actor_copy16_async(void* dst, const void* src) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    rk_u64 shared_addr;
    rk_u64 global_addr;
    asm("cvta.to.shared.u64 %0, %1;" : "=l"(shared_addr) : "l"(dst));
    asm("cvta.to.global.u64 %0, %1;" : "=l"(global_addr) : "l"(src));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;"
                 :
                 : "r"((rk_u32)shared_addr), "l"(global_addr)
                 : "memory");
#else
    rk_u32 a, b, c, d;
    asm volatile("ld.relaxed.sys.global.v4.b32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(a), "=r"(b), "=r"(c), "=r"(d)
                 : "l"(src)
                 : "memory");
    rk_u32* out = reinterpret_cast<rk_u32*>(dst);
    out[0] = a;
    out[1] = b;
    out[2] = c;
    out[3] = d;
#endif
}

// Waits for the calling thread's rk_actor_copy16_async copies.
RK_INLINE void rk_actor_copy_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("cp.async.wait_all;" ::: "memory");
#endif
}

// Stages the first `count` published slots of `inbox` into the records
// (S::request): S::in_words 16-byte words each (the header, then the
// payload). Every thread of the block takes every T-th word, so a warp's
// copies cover consecutive bytes of the ring.
template <typename H>
RK_INLINE void rk_actor_stage(const rk_ring* inbox, rk_u32 count) {
    using S = rk_actor_shape<H>;
    using U = rk_actor_unit_of<H>;
    const rk_u32 total = count * S::in_words;
    const rk_u32 threads = U::threads();
    #pragma unroll 1
    for (rk_u32 w = U::tid(); w < total; w += threads) {
        const rk_u32 m = w / S::in_words;
        const rk_u32 o = w - m * S::in_words;
        const unsigned char* src =
            reinterpret_cast<const unsigned char*>(rk_ring_pop_slot(inbox, m)) + 16u * o;
        rk_actor_copy16_async(S::request(m) + 16u * o, src);
    }
    rk_actor_copy_wait();
}

// rk_actor_stage for a batch whose slots are in this block's shared memory
// (a cluster-placed system's K2K inbox; cp.async reads global memory only):
// plain 16-byte copies, ordered after the leader's acquire of the slots by
// the barrier in between, like the host path's reads.
template <typename H>
RK_INLINE void rk_actor_stage_shared(const rk_ring* inbox, rk_u32 count) {
    using S = rk_actor_shape<H>;
    using U = rk_actor_unit_of<H>;
    const rk_u32 total = count * S::in_words;
    const rk_u32 threads = U::threads();
    #pragma unroll 1
    for (rk_u32 w = U::tid(); w < total; w += threads) {
        const rk_u32 m = w / S::in_words;
        const rk_u32 o = w - m * S::in_words;
        const uint4* src = reinterpret_cast<const uint4*>(
            reinterpret_cast<const unsigned char*>(rk_ring_pop_slot(inbox, m)) + 16u * o);
        *reinterpret_cast<uint4*>(S::request(m) + 16u * o) = *src;
    }
}

// Writes `words` 16-byte words from `src` (shared) to `dst` (mapped).
RK_INLINE void rk_actor_store_words(void* dst, const void* src, rk_u32 words) {
    const rk_u32* in = reinterpret_cast<const rk_u32*>(src);
    volatile rk_u32* out = reinterpret_cast<volatile rk_u32*>(dst);
    #pragma unroll 1
    for (rk_u32 i = 0; i < words * 4u; ++i) {
        out[i] = in[i];
    }
}

// ---- the outbox ----

// Free outbox slots, at least one: re-reads the host's head when fewer
// than `wanted` are known free, and waits (backpressure: the host drains
// the outbox; nothing is overwritten) while there is none.
RK_INLINE rk_u32 rk_actor_outbox_space(rk_actor_leader* l, rk_control_block* cb, rk_u32 wanted) {
    const rk_u64 capacity = (rk_u64)l->outbox.mask + 1u;
    rk_u32 space = (rk_u32)(capacity - (l->outbox.index - l->outbox.other));
    rk_u32 sleep = 32u;
    while (space < wanted) {
        l->outbox.other = rk_ld_acquire_sys_u64(&l->outbox.header->head);
        space = (rk_u32)(capacity - (l->outbox.index - l->outbox.other));
        if (space > 0u) {
            break;
        }
        rk_control_heartbeat(cb, ++l->heartbeat);
        rk_nanosleep(sleep);
        sleep = sleep < RK_ACTOR_MAX_SLEEP_NS ? sleep * 2u : sleep;
    }
    return space;
}

// Dead-letters a request (leader): the original header (correlation id,
// sequence) and `payload_bytes` of payload, flagged FAULT, the reason in
// `reserved`; published at once. Inlined: out of line (a cold path with
// several callers) it saved about 0.02 s of NVRTC time, but the call made
// ptxas save live registers to the stack in the loop (spills in
// bench_sources' echo64) once the descriptor moved to shared memory, and
// the saving was within the noise of the same measurement since.
static __device__ __forceinline__ void rk_actor_dead_letter(rk_actor_leader* l,
                                                         const rk_actor_desc* d,
                                                         const rk_envelope_header* request,
                                                         const void* payload, rk_u32 payload_bytes,
                                                         rk_u32 kind, rk_u32 line, rk_u32 column) {
    rk_actor_outbox_space(l, d->control, 1u);
    rk_envelope_header* slot = rk_ring_push_slot(&l->outbox, 0u);
    rk_u32 room = l->outbox.slot_size - RK_ENVELOPE_HEADER_SIZE;
    rk_u32 bytes = payload_bytes < room ? payload_bytes : room;
    rk_hlc_timestamp t = rk_hlc_send(&l->clock, rk_hlc_physical_now(&l->clock));
    slot->type_id = request->type_id;
    slot->payload_size = bytes;
    slot->source_actor = d->actor_id;
    slot->dest_actor = request->source_actor;
    slot->correlation_id = request->correlation_id;
    slot->sequence = request->sequence;
    slot->hlc = t;
    slot->flags = RK_ENVELOPE_FLAG_FAULT | RK_ENVELOPE_FLAG_REPLY;
    slot->reserved[0] = kind;
    slot->reserved[1] = line;
    slot->reserved[2] = column;
    rk_actor_store_words(rk_envelope_payload(slot), payload, bytes / 16u);
    const unsigned char* tail_in = reinterpret_cast<const unsigned char*>(payload) + (bytes & ~15u);
    unsigned char* tail_out = rk_envelope_payload(slot) + (bytes & ~15u);
    #pragma unroll 1
    for (rk_u32 i = 0; i < (bytes & 15u); ++i) {
        tail_out[i] = tail_in[i];
    }
    rk_control_set_counters(d->control, l->messages_in, l->messages_out);
    rk_ring_push_commit(&l->outbox);
}

// 16 bytes, for vector copies.
struct alignas(16) rk_actor_u4 {
    rk_u32 x, y, z, w;
};

// Writes the first `count` reply envelopes of a batch into the outbox's
// free slots. Headers: thread t builds those of replies t, t + T, ... from
// the staged requests (four 16-byte stores each). Payloads: the replies the
// handlers left in shared memory, 16-byte word w of the batch by thread
// w mod T, so a warp's stores cover consecutive words. Stamp m is
// (first.l, first.c + m), or the one the leader left in S::env(m) when it
// had to issue them one by one.
template <typename H>
RK_INLINE void rk_actor_write_replies(const rk_actor_desc* d, const rk_ring* outbox, rk_u32 count,
                                      rk_u64 sequence, rk_hlc_timestamp first, bool serial) {
    using S = rk_actor_shape<H>;
    using U = rk_actor_unit_of<H>;
    const rk_u32 tid = U::tid();
    const rk_u32 threads = U::threads();
    #pragma unroll 1
    for (rk_u32 m = tid; m < count; m += threads) {
        const rk_actor_u4 w0 = *reinterpret_cast<const rk_actor_u4*>(S::request(m));
        const rk_actor_u4 w1 = *reinterpret_cast<const rk_actor_u4*>(S::request(m) + 16u);
        rk_hlc_timestamp t = first;
        if (serial) {
            t = S::env(m)->received;
        } else {
            t.logical = first.logical + m;
        }
        const rk_u64 seq = sequence + 1u + m;
        rk_actor_u4 h[4];
        h[0].x = d->reply_type_id;
        h[0].y = H::reply_size;
        h[0].z = d->actor_id;
        h[0].w = w0.z; // the request's source
        h[1].x = w1.x; // the request's correlation id
        h[1].y = w1.y;
        h[1].z = (rk_u32)seq;
        h[1].w = (rk_u32)(seq >> 32);
        h[2].x = (rk_u32)t.physical_ns;
        h[2].y = (rk_u32)(t.physical_ns >> 32);
        h[2].z = t.logical;
        h[2].w = t.node;
        h[3].x = RK_ENVELOPE_FLAG_REPLY;
        h[3].y = 0u;
        h[3].z = 0u;
        h[3].w = 0u;
        rk_actor_u4* slot = reinterpret_cast<rk_actor_u4*>(rk_ring_push_slot(outbox, m));
        slot[0] = h[0];
        slot[1] = h[1];
        slot[2] = h[2];
        slot[3] = h[3];
    }
    const rk_u32 total = count * S::reply_words;
    #pragma unroll 1
    for (rk_u32 w = tid; w < total; w += threads) {
        const rk_u32 m = w / S::reply_words;
        const rk_u32 o = w - m * S::reply_words;
        const rk_actor_u4 v = *reinterpret_cast<const rk_actor_u4*>(S::reply(m) + 16u * o);
        reinterpret_cast<rk_actor_u4*>(rk_ring_push_slot(outbox, m))[RK_ACTOR_HEADER_WORDS + o] = v;
    }
}

// ---- kernel-to-kernel messages (ctx.send, the K2K inbox) ----
//
// An actor with senders has a K2K inbox (rk_k2k.cuh: a multi-producer
// queue with a sequence number per slot) next to its host inbox; the loop
// takes batches from both in turn. A handler's `ctx.send(port, &msg)`
// (or `ctx.try_send`) goes through route `port` of the actor's table
// (built by the host from the system's wiring), from the leader thread,
// stamped by the actor's clock. Closing: an actor that terminates marks its K2K tail closed
// (RK_ACTOR_K2K_CLOSED, with a CAS that succeeds only when no slot is
// reserved past what it consumed), so a later send fails to reserve and
// reports the destination as gone instead of queueing a message nobody
// will read.
//
// Every function below is a template over the scope tag K (rk_sync.cuh):
// the kernel instantiates them with rk_actor_k2k_scope, gpu or cluster by
// the system's placement; the text is the same for both tiers. In a
// cluster-placed system an actor's inbox is laid out by its own block at
// start (rk_actor_k2k_cluster_open) and senders reach it through mapa;
// since other blocks may touch it until they end, no block of the
// cluster returns before all of them are done (rk_actor_cluster_exit).

// Bit 63 of a K2K tail: the consumer has terminated.
#define RK_ACTOR_K2K_CLOSED 0x8000000000000000ull

// How many consecutive slots from the leader's K2K head are committed (at
// most `most`). Relaxed loads of the sequence words, eight at a time so
// their latencies overlap, then one fence if any is committed: the
// acquire pattern that orders the slot reads after the producers' commits.
template <class K>
RK_INLINE rk_u32 rk_actor_k2k_available(rk_actor_leader* l, rk_u32 most) {
    const rk_u64* seq = rk_k2k_seq_(l->k2k);
    rk_u32 n = 0u;
    #pragma unroll 1
    while (n < most) {
        rk_u64 s[8];
        #pragma unroll
        for (rk_u32 j = 0u; j < 8u; ++j) {
            s[j] = K::ld_relaxed(&seq[(l->k2k_head + n + j) & l->k2k_mask]);
        }
        rk_u32 j = 0u;
        while (j < 8u && n < most && s[j] == l->k2k_head + n + 1u) {
            ++j;
            ++n;
        }
        if (j < 8u) {
            break;
        }
    }
    if (n > 0u) {
        K::fence_acq_rel();
    }
    return n;
}

// The K2K messages the loop may take now: 0 without a K2K inbox (or
// without K2K paths in this kernel).
RK_INLINE rk_u32 rk_actor_k2k_ready(rk_actor_leader* l) {
    if (!RK_ACTOR_K2K || l->k2k == nullptr) {
        return 0u;
    }
    return rk_actor_k2k_available<rk_actor_k2k_scope>(l, l->batch);
}

// Idle with a K2K inbox, before a look at the host inbox: polls the next
// K2K slot's sequence word (a load in the inbox's own memory, never over
// PCIe) for RK_ACTOR_K2K_SPIN_CYCLES; true as soon as a message is
// committed there.
RK_INLINE bool rk_actor_k2k_spin(rk_actor_leader* l) {
    const rk_u64* seq = rk_k2k_seq_(l->k2k);
    const rk_u64 head = l->k2k_head;
    const rk_u64 start = (rk_u64)clock64();
    #pragma unroll 1
    do {
        if (rk_actor_k2k_scope::ld_relaxed(&seq[head & l->k2k_mask]) == head + 1u) {
            return true;
        }
    } while ((rk_u64)clock64() - start < RK_ACTOR_K2K_SPIN_CYCLES);
    return false;
}

// Hands `n` consumed K2K slots back to the producers (their next lap).
// Every read of them (by any thread) happened before the caller's fence.
template <class K>
RK_INLINE void rk_actor_k2k_release(rk_actor_leader* l, rk_u32 n) {
    rk_u64* seq = rk_k2k_seq_(l->k2k);
    const rk_u64 capacity = l->k2k_mask + 1u;
    #pragma unroll 1
    for (rk_u32 i = 0u; i < n; ++i) {
        const rk_u64 pos = l->k2k_head + i;
        K::st_relaxed(&seq[pos & l->k2k_mask], pos + capacity);
    }
    l->k2k_head += n;
    K::st_relaxed(&l->k2k->head, l->k2k_head);
}

// Closes the K2K inbox for good if nothing is reserved past the head;
// false when a producer holds a slot (the loop goes on polling).
template <class K>
RK_INLINE bool rk_actor_k2k_close(rk_actor_leader* l) {
    const rk_u64 head = l->k2k_head;
    return K::cas_acq_rel(&l->k2k->tail, head, head | RK_ACTOR_K2K_CLOSED) == head;
}

// A failed actor asked to stop: nothing will run its K2K messages, so each
// one committed (or being written) is dead-lettered to the host with
// UNDELIVERABLE, until the inbox closes (nothing lost silently).
template <class K>
RK_INLINE void rk_actor_k2k_shutdown(rk_actor_leader* l, const rk_actor_desc* d) {
    rk_u32 sleep = 32u;
    #pragma unroll 1
    while (!rk_actor_k2k_close<K>(l)) {
        if (rk_actor_k2k_available<K>(l, 1u) == 1u) {
            const rk_u32 slot_size = l->k2k->slot_size;
            rk_envelope_header* env = rk_k2k_slot(l->k2k, l->k2k_head);
            const rk_u32 room = slot_size - RK_ENVELOPE_HEADER_SIZE;
            const rk_u32 bytes = env->payload_size < room ? env->payload_size : room;
            l->messages_in += 1u;
            rk_actor_dead_letter(l, d, env, rk_envelope_payload(env), bytes,
                                 RK_ACTOR_FAULT_UNDELIVERABLE, 0u, 0u);
            K::fence_acq_rel();
            rk_actor_k2k_release<K>(l, 1u);
            continue;
        }
        rk_nanosleep(sleep);
        sleep = sleep < RK_ACTOR_MAX_SLEEP_NS ? sleep * 2u : sleep;
    }
}

#if RK_ACTOR_K2K_CLUSTER || RK_ACTOR_K2K_BLOCK
// Bytes of a K2K inbox of this geometry (rk_k2k.cuh's layout).
RK_INLINE rk_u64 rk_actor_k2k_bytes(rk_u32 capacity, rk_u32 slot_size) {
    return RK_K2K_BYTES(capacity, slot_size);
}

// Where this actor's shared-memory K2K inbox goes: the offset the host
// chose (d->k2k_inbox) in the dynamic shared memory, when the descriptor's
// geometry is one the host could have chosen (a line-aligned offset of at
// least `min_offset`, a power-of-two capacity of at least 2, whole 64-byte
// slots that hold a header, the inbox inside the dynamic shared memory).
// Null otherwise, or when the actor has no inbox: nothing is written then,
// and the leader's geometry check fails the actor.
RK_INLINE rk_k2k_header* rk_actor_k2k_shared_place(const rk_actor_desc* d, rk_u64 min_offset) {
    const rk_u64 offset = reinterpret_cast<rk_u64>(d->k2k_inbox);
    const rk_u32 capacity = d->k2k_capacity;
    const rk_u32 slot_size = d->k2k_slot_size;
    if (offset == 0u) {
        return nullptr;
    }
    rk_u32 dynamic_bytes;
    asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(dynamic_bytes));
    const bool fits = offset % RK_LINE == 0u && offset >= min_offset && capacity >= 2u &&
                      (capacity & (capacity - 1u)) == 0u && slot_size >= RK_ENVELOPE_HEADER_SIZE &&
                      slot_size % 64u == 0u &&
                      offset + rk_actor_k2k_bytes(capacity, slot_size) <= dynamic_bytes;
    return fits ? reinterpret_cast<rk_k2k_header*>(rk_actor_dynamic + offset) : nullptr;
}
#endif

#if RK_ACTOR_K2K_BLOCK
// A block-placed warp actor's K2K inbox, laid out by its warp in the
// block's dynamic shared memory at the offset the host chose (d->k2k_inbox,
// after every warp's staging slice): called by every lane at start (the
// block's start barrier, rk_actor_k2k_start, publishes it to the other
// warps). Null when the actor has none or the geometry is not one the host
// could have chosen (then nothing is written and the leader's geometry
// check fails the actor), as rk_actor_k2k_cluster_open.
RK_INLINE rk_k2k_header* rk_actor_k2k_block_open(const rk_actor_desc* d) {
    rk_k2k_header* q =
        rk_actor_k2k_shared_place(d, (rk_u64)(blockDim.x >> 5) * RK_ACTOR_WARP_STRIDE);
    if (q == nullptr) {
        return nullptr;
    }
    const rk_u32 capacity = d->k2k_capacity;
    // rk_k2k_init over the warp's lanes (it spreads over the whole block).
    const rk_u32 lane = threadIdx.x & 31u;
    rk_u64* seq = rk_k2k_seq_(q);
    for (rk_u32 i = lane; i < capacity; i += 32u) {
        seq[i] = i;
    }
    if (lane == 0u) {
        q->tail = 0u;
        q->head = 0u;
        q->capacity = capacity;
        q->slot_size = d->k2k_slot_size;
        q->magic = RK_K2K_MAGIC;
        q->owner_actor = d->actor_id;
    }
    __syncwarp();
    return q;
}
#endif

#if RK_ACTOR_K2K_CLUSTER

// A cluster-placed actor's K2K inbox, laid out in this block's dynamic
// shared memory at the offset the host chose (d->k2k_inbox, after the
// staging area): called by every thread at start. Null when the actor has
// none, or when the geometry is not one the host could have chosen (the
// offset unaligned, the inbox past the dynamic shared memory, a capacity
// that is no power of two): nothing is written then, and the leader's
// geometry check fails the actor. Every block then meets the others at
// the cluster barrier (rk_actor_main) before anyone sends.
RK_INLINE rk_k2k_header* rk_actor_k2k_cluster_open(const rk_actor_desc* d) {
    rk_k2k_header* q = rk_actor_k2k_shared_place(d, 0u);
    if (q == nullptr) {
        return nullptr;
    }
    rk_k2k_init(q, d->k2k_capacity, d->k2k_slot_size, d->actor_id);
    return q;
}
#endif

// Where a route's inbox is, as a generic address the sender can use: the
// device address (global tier), or the destination block's shared memory
// mapped into this block's view (DSMEM tier, mapa). Null for a route this
// kernel cannot follow: no inbox, a tier other than the one the system was
// composed for, a rank outside the cluster or an offset outside the shared
// memory (a send then faults UNROUTED; it never writes anywhere).
RK_INLINE rk_k2k_header* rk_actor_k2k_target(const rk_route* r) {
    if (r->inbox == nullptr || r->tier != RK_ACTOR_K2K_TIER) {
        return nullptr;
    }
#if RK_ACTOR_K2K_CLUSTER
    const rk_u64 offset = reinterpret_cast<rk_u64>(r->inbox);
    rk_u32 dynamic_bytes;
    asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(dynamic_bytes));
    if (r->rank >= rk_cluster_size() || offset % RK_LINE != 0u ||
        offset + RK_K2K_SEQ_OFFSET > dynamic_bytes) {
        return nullptr;
    }
    return rk_cluster_map(reinterpret_cast<rk_k2k_header*>(rk_actor_dynamic + offset), r->rank);
#elif RK_ACTOR_K2K_BLOCK
    // Another warp's inbox in this block's shared memory (rank 0: the
    // system is this block).
    const rk_u64 offset = reinterpret_cast<rk_u64>(r->inbox);
    rk_u32 dynamic_bytes;
    asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(dynamic_bytes));
    if (r->rank != 0u || offset % RK_LINE != 0u || offset + RK_K2K_SEQ_OFFSET > dynamic_bytes) {
        return nullptr;
    }
    return reinterpret_cast<rk_k2k_header*>(rk_actor_dynamic + offset);
#else
    return static_cast<rk_k2k_header*>(r->inbox);
#endif
}

// What the leader's send attempt came to (rk_actor_send_to).
#define RK_ACTOR_SEND_SENT 0u
#define RK_ACTOR_SEND_FULL 1u    // one attempt found the inbox full: nothing written
#define RK_ACTOR_SEND_FAULTED 2u // the fault is recorded in f

// The leader's send of `msg` (`size` bytes) on `port`: the route, a slot of
// the destination's K2K inbox (Wait: retried with backoff while the inbox is
// full; otherwise one reservation attempt), the envelope stamped by the
// actor's clock (only once a slot is held, so a refused try_send leaves the
// clock alone), the commit. Faults (recorded at the Rust line:column):
// UNROUTED when the port has no route (or a route for another message size),
// UNDELIVERABLE when the destination has closed its inbox (terminated): a
// reservation fails on a closed tail, and the closed bit tells it apart from
// a full inbox.
template <bool Wait>
__device__ __forceinline__ rk_u32 rk_actor_send_to(rk_fault_ctx* f, rk_u32 port, const void* msg,
                                                   rk_u32 size, rk_u32 line, rk_u32 column) {
#if !RK_ACTOR_K2K
    (void)port;
    (void)msg;
    (void)size;
    rk_fault(f, RK_FAULT_UNROUTED, line, column);
    return RK_ACTOR_SEND_FAULTED;
#else
    rk_actor_ctx* c = static_cast<rk_actor_ctx*>(f);
    const rk_actor_desc* d = c->desc;
    using K = rk_actor_k2k_scope;
    const rk_route* r = port < d->route_count ? &d->routes[port] : nullptr;
    rk_k2k_header* q = r != nullptr && r->payload_size == size ? rk_actor_k2k_target(r) : nullptr;
    if (q == nullptr) {
        rk_fault(f, RK_FAULT_UNROUTED, line, column);
        return RK_ACTOR_SEND_FAULTED;
    }
    // The geometry once (for a DSMEM inbox each header read is a round
    // trip to the other block).
    const rk_k2k_ref ref = rk_k2k_open(q);
    rk_actor_leader* l = c->leader;
    rk_u64 pos = 0u;
    rk_u32 sleep = 32u;
    // The reserve from this sender's guess of the tail (rk_k2k_mp: no
    // tail load when nobody else claimed since, a relaxed CAS); a closed
    // inbox's tail carries RK_ACTOR_K2K_CLOSED, so no CAS succeeds on it
    // and every reserve reports it full (checked below).
    // (A port past the kept guesses starts at 0 each time: never above tail.)
    rk_u64 scratch = 0u;
    rk_u64* const guess = port < RK_ACTOR_K2K_GUESSES ? &l->k2k_guess[port] : &scratch;
    #pragma unroll 1
    while (!rk_k2k_mp_try_reserve<K>(ref, guess, &pos)) {
        if (K::ld_relaxed(&q->tail) & RK_ACTOR_K2K_CLOSED) {
            rk_fault(f, RK_FAULT_UNDELIVERABLE, line, column);
            return RK_ACTOR_SEND_FAULTED;
        }
        if constexpr (!Wait) {
            return RK_ACTOR_SEND_FULL;
        }
        rk_control_heartbeat(d->control, ++l->heartbeat);
        rk_nanosleep(sleep);
        sleep = sleep < RK_ACTOR_MAX_SLEEP_NS ? sleep * 2u : sleep;
    }
    rk_envelope_header* slot = rk_k2k_slot(ref, pos);
    const rk_hlc_timestamp t = rk_hlc_send(&l->clock, rk_hlc_physical_now(&l->clock));
    l->sent += 1u;
    slot->type_id = r->type_id;
    slot->payload_size = size;
    slot->source_actor = d->actor_id;
    slot->dest_actor = r->dest_actor;
    slot->correlation_id = 0u;
    slot->sequence = l->sent;
    slot->hlc = t;
    slot->flags = 0u;
    slot->reserved[0] = 0u;
    slot->reserved[1] = 0u;
    slot->reserved[2] = 0u;
    memcpy(rk_envelope_payload(slot), msg, size);
    rk_k2k_commit<K>(ref, pos);
    return RK_ACTOR_SEND_SENT;
#endif
}

// ctx.send(port, &msg): called by every thread of the handler; the leader
// (thread 0) sends, the others return at once (only the leader's reply is
// the reply, likewise only its sends are sent). Waits with backoff while
// the destination's inbox is full (backpressure, never an overwrite).
// Returns false after recording a fault: the port has no route (or a route
// for another message size), or the destination has terminated.
static __device__ __noinline__ bool rk_actor_send(rk_fault_ctx* f, rk_u32 port, const void* msg,
                                                  rk_u32 size, rk_u32 line, rk_u32 column) {
    if (rk_thread_id() != 0u) {
        return true;
    }
    return rk_actor_send_to<true>(f, port, msg, size, line, column) == RK_ACTOR_SEND_SENT;
}

// ctx.try_send(port, &msg) -> bool: a block-wide call (every thread of the
// block reaches it, as it would a barrier: it is one). The leader makes one
// attempt to reserve a slot of the destination's inbox; every thread returns
// the leader's outcome (__syncthreads_or broadcasts it): true when the
// message was committed, false when the inbox was full (nothing written,
// no HLC tick: the handler decides what to do). A fault (no route, closed
// destination) is recorded by the leader in the block's fault record before
// the barrier; after it every thread finds the record set and stops
// (__rk_f->faulted, so the handler unwinds) with the leader: were the
// others to go on, a later block-wide call (another try_send, a
// block_reduce) would wait for a leader that is at the loop's barrier.
static __device__ __noinline__ bool rk_actor_try_send(rk_fault_ctx* f, rk_u32 port, const void* msg,
                                                      rk_u32 size, rk_u32 line, rk_u32 column) {
    int sent = 0;
    if (rk_thread_id() == 0u) {
        sent = rk_actor_send_to<false>(f, port, msg, size, line, column) == RK_ACTOR_SEND_SENT;
    }
    if (__syncthreads_or(sent) != 0) {
        return true;
    }
    if (f->record != nullptr && *reinterpret_cast<volatile rk_u32*>(&f->record->state) != 0u) {
        f->faulted = true;
    }
    return false;
}

// ctx.send and ctx.try_send in a warp actor (`#[ring_kernel(warps = 1)]`;
// the back end calls these for its handlers): the same, with the warp for
// the block: lane 0 sends, and try_send's answer reaches the warp's lanes
// by a warp vote after a warp barrier (which also orders lane 0's fault
// record before the other lanes read it), never a block barrier, so the
// other warp actors of the block never wait for it.
static __device__ __noinline__ bool rk_actor_send_warp(rk_fault_ctx* f, rk_u32 port, const void* msg,
                                                       rk_u32 size, rk_u32 line, rk_u32 column) {
    if ((threadIdx.x & 31u) != 0u) {
        return true;
    }
    return rk_actor_send_to<true>(f, port, msg, size, line, column) == RK_ACTOR_SEND_SENT;
}

static __device__ __noinline__ bool rk_actor_try_send_warp(rk_fault_ctx* f, rk_u32 port,
                                                           const void* msg, rk_u32 size, rk_u32 line,
                                                           rk_u32 column) {
    int sent = 0;
    if ((threadIdx.x & 31u) == 0u) {
        sent = rk_actor_send_to<false>(f, port, msg, size, line, column) == RK_ACTOR_SEND_SENT;
    }
    __syncwarp();
    if (__any_sync(0xFFFFFFFFu, sent) != 0) {
        return true;
    }
    if (f->record != nullptr && *reinterpret_cast<volatile rk_u32*>(&f->record->state) != 0u) {
        f->faulted = true;
    }
    return false;
}

// ---- polling ----

// Whether H's calls can take the compact path: a handler of the UNIFORM
// schedule (no state, no shared memory, no thread index, no barriers,
// collectives, atomics or sends: every thread would compute the same
// reply, and the reply is its only effect) that replies. One thread
// running it is exactly the block running it, faults included. Block
// actors only: a warp actor's loop has no block barriers to save (and no
// stateless warp handler in the test suites to prove the path on).
template <typename H>
struct rk_actor_compact {
    static constexpr bool value = H::schedule == RK_ACTOR_SCHEDULE_UNIFORM && H::reply_size > 0u &&
                                  !rk_actor_is_warp<H>::value;
};

// A call alone in the inbox, answered by warp 0 (defined below, with the
// loop's other steps it repeats).
template <typename H>
__device__ __forceinline__ bool rk_actor_call_one(const rk_actor_desc* d, rk_actor_leader* l,
                                                  rk_fault_record* fault, rk_u32 lane,
                                                  rk_u32 threads);


// Warp 0's look at an idle inbox (the poll asked for it: RK_ACTOR_LOOK):
// lane 0 reads the tail while the lanes read the next slot's flagged copy
// (rk_ring_ll_look), all in one round trip, up to RK_ACTOR_LOOK_SPINS
// times while neither shows a message. A message found in its copy is
// staged in record 0, as rk_actor_stage would have staged it, one round
// trip after the host wrote it; the poll that follows takes it
// (RK_ACTOR_SOURCE_HOST_LL) or, when the tail shows more, the batch;
// for a handler with the compact path, a message alone in the inbox is
// answered here by the lanes (rk_actor_call_one) and the poll finds none.
// Called by the first min(32, threads) threads; the leader's state is
// read by all of them and written by lane 0. Out of line: inlined into the
// loop it made ptxas spill (cuda_out's `scale` actor); a call per look
// costs nothing next to the look's round trips.
template <typename H>
__device__ __noinline__ void rk_actor_look(rk_actor_leader* l, const rk_actor_desc* d,
                                           rk_fault_record* fault, rk_u32 lane, rk_u32 threads) {
    using S = rk_actor_shape<H>;
    constexpr rk_u32 words = S::in_words * 4u; // 4 data bytes per flagged word
    if constexpr (words <= 32u) {
        const unsigned mask = threads >= 32u ? 0xFFFFFFFFu : ((1u << threads) - 1u);
        // The index, copy and tail are re-read from the leader's state (shared
        // memory) on every spin rather than held in registers: the look is
        // inlined into the loop, where registers are scarce.
        rk_u64 tail = 0u;
        bool got = false;
        const rk_u32 spins =
            RK_ACTOR_K2K && l->k2k != nullptr ? RK_ACTOR_K2K_LOOK_SPINS : RK_ACTOR_LOOK_SPINS;
#pragma unroll 1
        for (rk_u32 spin = 0u; spin < spins; ++spin) {
            rk_u64 t = 0u;
            if (lane == 0u) {
                t = rk_ld_relaxed_sys_u64(&l->inbox.header->tail);
            }
            const rk_u64 i = l->inbox.index;
            got = rk_ring_ll_look<words>(l->ll + (i & (rk_u64)l->inbox.mask) * l->ll_words, i,
                                         lane, mask, S::request(0));
            tail = __shfl_sync(mask, t, 0);
            if (got || tail > l->inbox.index) {
                break;
            }
        }
        const rk_u64 i = l->inbox.index;
        if (lane == 0u) {
#if RK_ACTOR_TRACE
            if (got) {
                rk_actor_trace_mark(l, RK_ACTOR_TRACE_IDLE);
            }
#endif
            // The relaxed tail read, as an acquire, when the poll may read
            // slots by it: past message i when it came from its copy (record
            // 0 holds it; reading no slot needs no fence, and a system fence
            // costs about half a microsecond on the round trip).
            if (tail > i + (got ? 1u : 0u)) {
                rk_fence_acq_rel_sys();
            }
            l->look_tail = tail;
            l->look = got ? RK_ACTOR_LOOK_GOT : RK_ACTOR_LOOK_EMPTY;
#if RK_ACTOR_TRACE
            if (got) {
                rk_actor_trace_mark(l, RK_ACTOR_TRACE_LOOKED);
            } else {
                l->trace[RK_ACTOR_TRACE_LOOKS] += spins;
            }
#endif
        }
        __syncwarp(mask);
        if constexpr (rk_actor_compact<H>::value) {
            // Alone in the inbox (the tail shows nothing after it): warp 0
            // answers it here (rk_actor_call_one), or leaves it to the poll.
            if (got && tail <= i + 1u) {
                rk_actor_call_one<H>(d, l, fault, lane, threads);
            }
        } else {
            (void)d;
            (void)fault;
        }
    }
}

// Notes a tail read from memory, then stores the inbox head: every slot
// consumed, but never past the last tail read (a message taken from its
// flagged copy may be consumed before the tail store that publishes it
// is seen, and head <= tail must hold in memory for the host). `release`:
// a release store; otherwise the caller fenced after its slot reads.
RK_INLINE void rk_actor_free_inbox(rk_actor_leader* l, rk_u64 tail, bool release) {
    l->tail_seen = tail > l->tail_seen ? tail : l->tail_seen;
    const rk_u64 head = l->inbox.index < l->tail_seen ? l->inbox.index : l->tail_seen;
    if (head != l->head_stored) {
        if (release) {
            rk_st_release_sys_u64(&l->inbox.header->head, head);
        } else {
            rk_st_relaxed_sys_u64(&l->inbox.header->head, head);
        }
        l->head_stored = head;
    }
}

// The leader's wait for the next batch (inlined: a call would make ptxas
// spill what lives across it). Returns RK_ACTOR_RUN with
// *count >= 1 messages published in the inbox (at most l->batch, and at most
// the free outbox slots when the handler replies), or RK_ACTOR_EXIT.
template <typename H>
__device__ __forceinline__ rk_u32 rk_actor_poll(rk_actor_leader* l, const rk_actor_desc* d,
                                             rk_u32* count, rk_u32* source) {
    rk_control_block* cb = d->control;
    // Kept across returns for a look (RK_ACTOR_LOOK), reset by a batch.
    rk_u32& empty = l->empty;
    rk_u32& sleep = l->sleep;
    for (;;) {
        if (RK_UNLIKELY(l->failed)) {
            l->look = RK_ACTOR_LOOK_NONE;
            // Parked after a fault: the host resets the state, then bumps
            // restart_requested (or asks to stop). Messages stay queued.
            if (rk_control_stop_requested(cb)) {
                if constexpr (RK_ACTOR_K2K) {
                    if (l->k2k != nullptr) {
                        rk_actor_k2k_shutdown<rk_actor_k2k_scope>(l, d);
                    }
                }
                // The host dead-letters what is left in the inbox from the
                // stored head: store every message consumed so far, the
                // faulted one included. Taken from its flagged copy, it may
                // still be past the last tail read (head <= tail_seen), and
                // the host publishes every message before it asks to stop.
                const rk_u64 tail = rk_ld_acquire_sys_u64(&l->inbox.header->tail);
                rk_actor_free_inbox(l, tail, true);
                return RK_ACTOR_EXIT;
            }
            rk_u32 restart = rk_control_restart_requested(cb);
            if (restart != l->restarts_seen) {
                l->restarts_seen = restart;
                l->failed = false;
                rk_control_set_state(cb, RK_STATE_ACTIVE);
                continue;
            }
            rk_control_heartbeat(cb, ++l->heartbeat);
            rk_nanosleep(RK_ACTOR_MAX_SLEEP_NS);
            continue;
        }
        // The K2K inbox and the host inbox take turns, so neither starves:
        // the one whose turn it is first, then the other.
        // (A look's result is taken before anything else.)
        const bool k2k_first =
            RK_ACTOR_K2K && l->k2k != nullptr && l->k2k_turn && l->look == RK_ACTOR_LOOK_NONE;
        l->k2k_turn = !l->k2k_turn;
        rk_u32 k = k2k_first ? rk_actor_k2k_ready(l) : 0u;
        rk_u32 from = RK_ACTOR_SOURCE_K2K;
        bool k2k_spun = false; // rk_actor_k2k_spin saw a K2K message
        if (k == 0u) {
            // The tail is re-read (an acquire over PCIe) when the last value
            // read cannot fill a batch, so a busy ring gives full batches;
            // unless the read issued at the last batch's close already shows more.
            rk_u32 available = (rk_u32)(l->inbox.other - l->inbox.index);
            from = RK_ACTOR_SOURCE_HOST;
            if (available < l->batch) {
                rk_u64 tail;
                if (l->tail_ahead > l->inbox.other) {
                    tail = l->tail_ahead;
                } else if (available == 0u && l->ll != nullptr) {
                    // Idle: warp 0 looks at the next slot's flagged copy and
                    // the tail together (rk_actor_look), then polls again;
                    // an actor with a K2K inbox polls that first
                    // (rk_actor_k2k_spin) and takes what arrives there.
                    if (l->look == RK_ACTOR_LOOK_NONE) {
                        if (!(RK_ACTOR_K2K && l->k2k != nullptr && rk_actor_k2k_spin(l))) {
                            return RK_ACTOR_LOOK;
                        }
                        k2k_spun = true;
                        tail = l->tail_seen; // nothing new read: frees nothing more
                    } else {
                        tail = l->look_tail; // the look fenced it when it shows more
                        if (l->look == RK_ACTOR_LOOK_GOT) {
                            l->inbox.other = l->inbox.index + 1u;
                            from = RK_ACTOR_SOURCE_HOST_LL;
                        }
                        l->look = RK_ACTOR_LOOK_NONE;
                    }
                } else {
                    tail = rk_ld_acquire_sys_u64(&l->inbox.header->tail);
                }
                l->tail_ahead = 0u;
                l->inbox.other = tail > l->inbox.other ? tail : l->inbox.other;
                // Relaxed: the slots this frees (below index) were all read
                // before the last batch's closing fence, or the dead-letter
                // path's release store, in program order before this store,
                // which makes the pair a release pattern (PTX memory model,
                // "release patterns": a fence then a strong write).
                rk_actor_free_inbox(l, tail, false);
                available = (rk_u32)(l->inbox.other - l->inbox.index);
            }
            k = available < l->batch ? available : l->batch;
            if (from == RK_ACTOR_SOURCE_HOST_LL) {
                k = 1u; // only message `index` is staged
            }
        }
        if (k == 0u && (!k2k_first || k2k_spun)) {
            k = rk_actor_k2k_ready(l);
            from = RK_ACTOR_SOURCE_K2K;
        }
        if (k > 0u) {
            if constexpr (H::reply_size > 0u) {
                // No more than the outbox can take (waits for one slot).
                const rk_u32 space = rk_actor_outbox_space(l, cb, k);
                k = k < space ? k : space;
            }
            *count = k;
            *source = from;
            if (RK_ACTOR_TRACE && from != RK_ACTOR_SOURCE_K2K) {
                if (from != RK_ACTOR_SOURCE_HOST_LL) {
                    rk_actor_trace_mark(l, RK_ACTOR_TRACE_IDLE); // seen at this poll
                    rk_actor_trace_mark(l, RK_ACTOR_TRACE_LOOKED);
                }
                rk_actor_trace_mark(l, RK_ACTOR_TRACE_POLL);
            }
            empty = 0u;
            sleep = 32u;
            return RK_ACTOR_RUN;
        }
        ++empty;
        if (RK_UNLIKELY(empty % RK_ACTOR_STOP_POLL == 0u) && rk_control_stop_requested(cb)) {
            // The host publishes every message before it asks to stop, so
            // one more look at the tail (acquire) sees all of them.
            const rk_u64 tail = rk_ld_acquire_sys_u64(&l->inbox.header->tail);
            l->inbox.other = tail > l->inbox.other ? tail : l->inbox.other;
            rk_actor_free_inbox(l, tail, true);
            if (l->inbox.other != l->inbox.index) {
                continue;
            }
            // Other actors' messages: exit only once the K2K inbox is
            // empty with no slot reserved, and closed in the same step.
            if (RK_ACTOR_K2K && l->k2k != nullptr && !rk_actor_k2k_close<rk_actor_k2k_scope>(l)) {
                continue;
            }
            return RK_ACTOR_EXIT;
        }
        if (empty % 256u == 0u) {
            rk_control_heartbeat(cb, ++l->heartbeat);
        }
        if (empty > RK_ACTOR_SPIN_POLLS) {
            rk_nanosleep(sleep);
            sleep = sleep < RK_ACTOR_MAX_SLEEP_NS ? sleep * 2u : sleep;
        }
    }
}

// ---- receipt: header checks and the HLC receive rule, by warp 0 ----

// (l, c) pairs in lexicographic order; c is signed here (see below).
RK_INLINE bool rk_actor_lex_less(rk_u64 al, rk_i64 ac, rk_u64 bl, rk_i64 bc) {
    return al < bl || (al == bl && ac < bc);
}

// The receive step for blocks of fewer than 32 threads (rk_actor_receive is
// the same for larger blocks, over all their warps): called by every
// thread after the batch is staged. Checks each staged header (type id
// and payload size) and returns the number of messages before the first bad
// one. For those, writes the receipt timestamps (S::env) and advances the
// leader's clock, exactly as rk_hlc_receive applied to each message in
// order at one physical time pt:
//
//   receiving m maps the clock s = (l, c) to max(s + (0, 1), (A, B)), with
//   A = max(m.l, pt), B = (m.l >= pt) ? m.c + 1 : 0 and max lexicographic
//   (checked case by case against rk_hlc_receive); adding to c commutes
//   with max, so after messages 1..i the clock is
//       r_i = max(s, Q_1, ..., Q_i) + (0, i),  Q_j = (A_j, B_j - j),
//   a prefix maximum: a shuffle scan per 32 messages, carried across chunks.
// rk_hlc_receive's overflow rule (c saturated: l + 1, c = 0) needs c to pass
// 2^32 - 1; if any receipt would, the batch is cut to its first message,
// which is received by rk_hlc_receive itself.
template <typename H>
RK_INLINE rk_u32 rk_actor_receive_narrow(rk_actor_leader* l, const rk_actor_desc* d, rk_u32 count) {
    using S = rk_actor_shape<H>;
    using U = rk_actor_unit_of<H>;
    const rk_u32 lane = U::tid();
    const rk_u32 threads = U::threads();
    const rk_u32 lanes = threads < 32u ? threads : 32u;
    const unsigned mask = lanes == 32u ? 0xFFFFFFFFu : ((1u << lanes) - 1u);
    rk_u64 pt = 0u;
    rk_u64 carry_l = 0u;
    rk_i64 carry_c = 0;
    if (lane == 0u) {
        pt = rk_hlc_physical_now(&l->clock);
        carry_l = l->clock.last.physical_ns;
        carry_c = (rk_i64)l->clock.last.logical;
    }
    pt = __shfl_sync(mask, pt, 0);
    carry_l = __shfl_sync(mask, carry_l, 0);
    carry_c = __shfl_sync(mask, carry_c, 0);
    rk_u32 good = count;
    bool overflow = false;
    for (rk_u32 base = 0u; base < good; base += lanes) {
        const rk_u32 i = base + lane;
        const rk_envelope_header* h =
            reinterpret_cast<const rk_envelope_header*>(S::request(i));
        const bool bad = i < good && (h->type_id != d->message_type_id ||
                                      h->payload_size != H::message_size);
        const unsigned bad_lanes = __ballot_sync(mask, bad);
        if (bad_lanes != 0u) {
            good = base + (rk_u32)(__ffs((int)bad_lanes) - 1);
        }
        const bool valid = i < good;
        rk_u64 ql = 0u;
        rk_i64 qc = (rk_i64)(-9223372036854775807LL - 1LL);
        if (valid) {
            const rk_u64 ml = h->hlc.physical_ns;
            ql = ml > pt ? ml : pt;
            qc = (ml >= pt ? (rk_i64)h->hlc.logical + 1 : 0) - (rk_i64)(i + 1u);
        }
        for (rk_u32 offset = 1u; offset < lanes; offset <<= 1u) {
            const rk_u64 ol = __shfl_up_sync(mask, ql, offset);
            const rk_i64 oc = __shfl_up_sync(mask, qc, offset);
            if (lane >= offset && rk_actor_lex_less(ql, qc, ol, oc)) {
                ql = ol;
                qc = oc;
            }
        }
        if (rk_actor_lex_less(ql, qc, carry_l, carry_c)) {
            ql = carry_l;
            qc = carry_c;
        }
        if (valid) {
            const rk_i64 c = qc + (rk_i64)(i + 1u);
            overflow = overflow || c > (rk_i64)0xFFFFFFFFLL;
            S::env(i)->actor_id = d->actor_id;
            S::env(i)->received.physical_ns = ql;
            S::env(i)->received.logical = (rk_u32)c;
            S::env(i)->received.node = d->actor_id; // the clock's node
        }
        if (good > base) {
            const rk_u32 last = (good - base < lanes ? good - base : lanes) - 1u;
            carry_l = __shfl_sync(mask, ql, last);
            carry_c = __shfl_sync(mask, qc, last);
        }
    }
    overflow = __any_sync(mask, overflow);
    if (lane == 0u && good > 0u) {
        if (overflow) {
            good = 1u;
            const rk_envelope_header* h = reinterpret_cast<const rk_envelope_header*>(S::request(0));
            S::env(0)->received = rk_hlc_receive(&l->clock, &h->hlc, pt);
        } else {
            l->clock.last.physical_ns = carry_l;
            l->clock.last.logical = (rk_u32)(carry_c + (rk_i64)good);
        }
    }
    return __shfl_sync(mask, good, 0);
}

// Called by every thread after the batch is staged (it has barriers; the
// second one is the loop's B3). Checks each staged header (type id and
// payload size) and returns the number of messages before the first bad
// one. For those, writes the receipt timestamps (S::env) and advances the
// leader's clock, exactly as rk_hlc_receive applied to each message in
// order at one physical time pt (ctl->pt, read at the poll):
//
//   receiving m maps the clock s = (l, c) to max(s + (0, 1), (A, B)), with
//   A = max(m.l, pt), B = (m.l >= pt) ? m.c + 1 : 0 and max lexicographic
//   (checked case by case against rk_hlc_receive); adding to c commutes
//   with max, so after messages 1..i the clock is
//       r_i = max(s, Q_1, ..., Q_i) + (0, i),  Q_j = (A_j, B_j - j),
//   a prefix maximum. Each warp scans chunks of 32 messages with shuffles
//   (pass 1), then combines its chunk with the maxima of the chunks before
//   it (pass 2): every warp works, whatever the batch size.
// rk_hlc_receive's overflow rule (c saturated: l + 1, c = 0) needs c to pass
// 2^32 - 1; if any receipt would, the batch is cut to its first message,
// which is received by rk_hlc_receive itself.
template <typename H>
RK_INLINE rk_u32 rk_actor_receive(rk_actor_leader* l, const rk_actor_desc* d, rk_actor_shared* ctl,
                                  rk_u32 count) {
    using S = rk_actor_shape<H>;
    if constexpr (H::threads < 32u) {
        rk_u32 good = 0u;
        if (rk_thread_id() < 32u) {
            good = rk_actor_receive_narrow<H>(l, d, count);
            if (rk_thread_id() == 0u) {
                ctl->good = good;
            }
        }
        __syncthreads();
        return ctl->good;
    }
    if (count == 1u) {
        // One message (a call): the leader checks it and applies
        // rk_hlc_receive itself, the rule the scans below reproduce. Their
        // shuffles and the two barriers around them are a serial chain of
        // about 1,500 cycles, most of a call's time on the device.
        if (rk_thread_id() == 0u) {
            const rk_envelope_header* h = reinterpret_cast<const rk_envelope_header*>(S::request(0));
            const bool ok = h->type_id == d->message_type_id && h->payload_size == H::message_size;
            if (ok) {
                S::env(0)->actor_id = d->actor_id;
                S::env(0)->received = rk_hlc_receive(&l->clock, &h->hlc, ctl->pt);
            }
            ctl->good = ok ? 1u : 0u;
        }
        __syncthreads(); // B3
        return ctl->good;
    }
    constexpr rk_u32 warps = H::threads / 32u; // full warps only
    const rk_u32 tid = rk_thread_id();
    const rk_u32 warp = tid / 32u;
    const rk_u32 lane = tid % 32u;
    const rk_u32 chunk_count = (count + 31u) / 32u;
    const rk_u64 pt = ctl->pt;
    // Pass 1: per chunk, the header checks and the inclusive prefix maximum
    // of Q, kept in S::env (l in physical_ns, c's two halves in logical and
    // node) until pass 2.
    if (warp < warps) {
        #pragma unroll 1
        for (rk_u32 c = warp; c < chunk_count; c += warps) {
            const rk_u32 i = c * 32u + lane;
            const bool in = i < count;
            rk_actor_u4 w0 = {0u, 0u, 0u, 0u};
            rk_actor_u4 w2 = {0u, 0u, 0u, 0u};
            if (in) {
                w0 = *reinterpret_cast<const rk_actor_u4*>(S::request(i));
                w2 = *reinterpret_cast<const rk_actor_u4*>(S::request(i) + 32u);
            }
            const bool bad = in && (w0.x != d->message_type_id || w0.y != H::message_size);
            const unsigned bad_lanes = __ballot_sync(0xFFFFFFFFu, bad);
            rk_u64 ql = 0u;
            rk_i64 qc = (rk_i64)(-9223372036854775807LL - 1LL);
            if (in) {
                const rk_u64 ml = (rk_u64)w2.x | ((rk_u64)w2.y << 32);
                ql = ml > pt ? ml : pt;
                qc = (ml >= pt ? (rk_i64)w2.z + 1 : 0) - (rk_i64)(i + 1u);
            }
            for (rk_u32 offset = 1u; offset < 32u; offset <<= 1u) {
                const rk_u64 ol = __shfl_up_sync(0xFFFFFFFFu, ql, offset);
                const rk_i64 oc = __shfl_up_sync(0xFFFFFFFFu, qc, offset);
                if (lane >= offset && rk_actor_lex_less(ql, qc, ol, oc)) {
                    ql = ol;
                    qc = oc;
                }
            }
            if (in) {
                S::env(i)->received.physical_ns = ql;
                S::env(i)->received.logical = (rk_u32)(rk_u64)qc;
                S::env(i)->received.node = (rk_u32)((rk_u64)qc >> 32);
            }
            if (lane == 31u) {
                S::chunk(c)->max_l = ql;
                S::chunk(c)->max_c = qc;
                S::chunk(c)->first_bad =
                    bad_lanes != 0u ? c * 32u + (rk_u32)(__ffs((int)bad_lanes) - 1) : 0xFFFFFFFFu;
            }
        }
    }
    __syncthreads();
    rk_u32 good = count;
    #pragma unroll 1
    for (rk_u32 c = 0u; c < chunk_count; ++c) {
        const rk_u32 b = S::chunk(c)->first_bad;
        good = b < good ? b : good;
    }
    // Pass 2: combine with the clock and the chunks before; the final
    // receipts. Messages from the first bad one on are not received.
    bool overflow = false;
    if (warp < warps) {
        #pragma unroll 1
        for (rk_u32 c = warp; c * 32u < good; c += warps) {
            rk_u64 carry_l = ctl->clock_l;
            rk_i64 carry_c = ctl->clock_c;
            #pragma unroll 1
            for (rk_u32 k = 0u; k < c; ++k) {
                if (rk_actor_lex_less(carry_l, carry_c, S::chunk(k)->max_l, S::chunk(k)->max_c)) {
                    carry_l = S::chunk(k)->max_l;
                    carry_c = S::chunk(k)->max_c;
                }
            }
            const rk_u32 i = c * 32u + lane;
            if (i < good) {
                rk_u64 ql = S::env(i)->received.physical_ns;
                rk_i64 qc = (rk_i64)((rk_u64)S::env(i)->received.logical |
                                     ((rk_u64)S::env(i)->received.node << 32));
                if (rk_actor_lex_less(ql, qc, carry_l, carry_c)) {
                    ql = carry_l;
                    qc = carry_c;
                }
                const rk_i64 cf = qc + (rk_i64)(i + 1u);
                overflow = overflow || cf > (rk_i64)0xFFFFFFFFLL;
                S::env(i)->actor_id = d->actor_id;
                S::env(i)->received.physical_ns = ql;
                S::env(i)->received.logical = (rk_u32)cf;
                S::env(i)->received.node = d->actor_id; // the clock's node
                if (i + 1u == good) {
                    ctl->last_l = ql;
                    ctl->last_c = cf;
                }
            }
        }
    }
    if (__syncthreads_or(overflow)) { // B3
        if (tid == 0u) {
            const rk_envelope_header* h = reinterpret_cast<const rk_envelope_header*>(S::request(0));
            S::env(0)->actor_id = d->actor_id;
            S::env(0)->received = rk_hlc_receive(&l->clock, &h->hlc, pt);
        }
        __syncthreads();
        return 1u;
    }
    if (tid == 0u && good > 0u) {
        l->clock.last.physical_ns = ctl->last_l;
        l->clock.last.logical = (rk_u32)ctl->last_c;
    }
    return good;
}

// A warp actor's one-message receive, by its leader (lane 0): the check and
// rk_hlc_receive of rk_actor_receive's one-message path; 1 when the message
// is this actor's. (Inlined: ptxas' report on cuda_out's `tally` is 32
// registers, no spill; out of line it saved nothing.)
template <typename H>
RK_INLINE rk_u32 rk_actor_receive_one(rk_actor_leader* l, const rk_actor_desc* d, rk_u64 pt) {
    using S = rk_actor_shape<H>;
    const rk_envelope_header* h = reinterpret_cast<const rk_envelope_header*>(S::request(0));
    const bool ok = h->type_id == d->message_type_id && h->payload_size == H::message_size;
    if (ok) {
        S::env(0)->actor_id = d->actor_id;
        S::env(0)->received = rk_hlc_receive(&l->clock, &h->hlc, pt);
    }
    return ok ? 1u : 0u;
}

// The receive step of a warp actor (rk_actor_receive for its one warp):
// a one-message batch checked and stamped by its leader (lane 0,
// rk_actor_receive_one), a larger one by the warp's scan
// (rk_actor_receive_narrow). Called by every lane; ends with the warp's
// barrier (B3), never the block's.
template <typename H>
RK_INLINE rk_u32 rk_actor_receive_warp(rk_actor_leader* l, const rk_actor_desc* d,
                                       rk_actor_shared* ctl, rk_u32 count) {
    using S = rk_actor_shape<H>;
    using U = rk_actor_unit_of<H>;
    rk_u32 good;
    if (count == 1u) {
        if (U::tid() == 0u) {
            ctl->good = rk_actor_receive_one<H>(l, d, ctl->pt);
        }
        U::sync(); // B3
        good = ctl->good;
    } else {
        good = rk_actor_receive_narrow<H>(l, d, count);
        U::sync(); // B3
    }
    return good;
}

// ---- running the handler over a batch ----

// Runs the handler over staged messages [0, count) under H::schedule, reply
// i into S::reply(i) (shared memory). Returns the index of the message the
// handler faulted on, or `count`; the same value in every thread. `fault`
// is the block's fault record, clear on entry.
template <typename H>
RK_INLINE rk_u32 rk_actor_run_batch(const rk_actor_desc* d, rk_actor_leader* l, rk_u32 count,
                                    rk_fault_record* fault) {
    using S = rk_actor_shape<H>;
    using U = rk_actor_unit_of<H>;
    const rk_u32 tid = U::tid();
    const rk_u32 threads = U::threads();
    if constexpr (H::schedule != RK_ACTOR_SCHEDULE_IN_ORDER) {
        const bool uniform = H::schedule == RK_ACTOR_SCHEDULE_UNIFORM;
        bool faulted = false;
        for (rk_u32 i = uniform ? tid : 0u; i < count && !faulted; i += uniform ? threads : 1u) {
            rk_actor_ctx f;
            f.record = fault;
            f.faulted = false;
            f.env = S::env(i);
            f.desc = d;
            f.leader = l;
            H::run(&f, d->state, S::request(i) + RK_ENVELOPE_HEADER_SIZE, S::reply(i),
                   uniform || tid == 0u);
            faulted = f.faulted;
        }
        if (!U::sync_or(faulted)) {
            return count;
        }
        // Some message faulted: run the batch again in order (below), which
        // stops at the first faulting one and rewrites the replies before it.
        if (tid == 0u) {
            fault->state = 0u;
        }
        U::sync();
    }
    for (rk_u32 i = 0u; i < count; ++i) {
        rk_actor_ctx f;
        f.record = fault;
        f.faulted = false;
        f.env = S::env(i);
        f.desc = d;
        f.leader = l;
        H::run(&f, d->state, S::request(i) + RK_ENVELOPE_HEADER_SIZE, S::reply(i), tid == 0u);
        // The barrier also orders this message's state writes before the
        // next message's reads.
        if (U::sync_or(f.faulted)) {
            return i;
        }
    }
    return count;
}

// ---- one call by warp 0 alone (the compact path) ----

// Diagnostics: the end of a traced call (the loop's close): counts it and,
// every 64 calls, stores the accumulators to the control block's pad in
// four 16-byte stores (fewer PCIe writes perturb less; the host subtracts
// two readings). Leader only.
RK_INLINE void rk_actor_trace_close(rk_actor_leader* l, rk_control_block* cb) {
#if RK_ACTOR_TRACE
    rk_actor_trace_mark(l, RK_ACTOR_TRACE_CLOSE);
    l->trace[RK_ACTOR_TRACE_BATCHES] += 1u;
    if (l->trace[RK_ACTOR_TRACE_BATCHES] % 64u == 0u) {
        rk_actor_u4* out = reinterpret_cast<rk_actor_u4*>(cb->device_pad);
        const rk_actor_u4* in = reinterpret_cast<const rk_actor_u4*>(l->trace);
        for (rk_u32 k = 0u; k < RK_ACTOR_TRACE_WORDS / 4u; ++k) {
            out[k] = in[k];
        }
    }
#else
    (void)l;
    (void)cb;
#endif
}

// A call the look found alone (message `index` staged in record 0 from its
// flagged copy, the tail showing nothing after it), answered by the first
// min(32, threads) threads while the rest of the actor waits at the look's
// barrier: lane 0 checks and receives it (rk_actor_receive_one), runs the
// handler, stamps the reply; the lanes write the reply envelope (one
// 16-byte word each); lane 0 then closes the batch exactly as the loop
// closes a batch of one (counters, the fence, the outbox tail, the inbox
// head, the heartbeat). The same effects, clock steps and order as the
// loop's path for that batch, without its five block barriers, its poll
// and its publication: the round trip's device time is then one thread's
// instructions, a warp's reply stores and the fence.
// Not taken (returns false, nothing changed, the poll takes the message
// as before) when the outbox has no slot known free, the envelope is not
// this actor's message (the loop dead-letters it) or the handler faults
// (the loop runs it again, in order, and dead-letters it: UNIFORM means
// running it again is the same run; the clock is restored, so the
// receipt is issued once).
// Inlined into the look (out of line itself, so the handler's second
// copy here gets the look's registers, not the loop's); a call of its own
// cost about 400 cycles on the call path (H200, loop trace).
template <typename H>
__device__ __forceinline__ bool rk_actor_call_one(const rk_actor_desc* d, rk_actor_leader* l,
                                                  rk_fault_record* fault, rk_u32 lane,
                                                  rk_u32 threads) {
    using S = rk_actor_shape<H>;
    const unsigned mask = threads >= 32u ? 0xFFFFFFFFu : ((1u << threads) - 1u);
    const rk_u32 lanes = threads < 32u ? threads : 32u;
    const rk_u64 capacity = (rk_u64)l->outbox.mask + 1u;
    if (l->outbox.index - l->outbox.other >= capacity) {
        return false; // the poll waits for a slot (rk_actor_outbox_space)
    }
    bool taken = false;
    rk_hlc_timestamp stamp = {};
    if (lane == 0u) {
        rk_actor_trace_mark(l, RK_ACTOR_TRACE_POLL);
        rk_actor_trace_mark(l, RK_ACTOR_TRACE_PUBLISH);
        rk_actor_trace_mark(l, RK_ACTOR_TRACE_STAGE);
        const rk_hlc_clock before = l->clock;
        fault->state = 0u;
        const rk_u64 pt = rk_hlc_physical_now(&l->clock);
        if (rk_actor_receive_one<H>(l, d, pt) != 0u) {
            rk_actor_trace_mark(l, RK_ACTOR_TRACE_RECEIVE);
            rk_actor_ctx f;
            f.record = fault;
            f.faulted = false;
            f.env = S::env(0);
            f.desc = d;
            f.leader = l;
            H::run(&f, d->state, S::request(0) + RK_ENVELOPE_HEADER_SIZE, S::reply(0), true);
            rk_actor_trace_mark(l, RK_ACTOR_TRACE_HANDLER);
            if (RK_LIKELY(!f.faulted)) {
                stamp = rk_hlc_send(&l->clock, rk_hlc_physical_now(&l->clock));
                rk_actor_trace_mark(l, RK_ACTOR_TRACE_STAMP);
                taken = true;
            } else {
                l->clock = before;
            }
        }
    }
    // Lane 0's verdict for the lanes.
    taken = __shfl_sync(mask, taken ? 1u : 0u, 0) != 0u;
    if (!taken) {
        return false;
    }
    // The reply envelope, one 16-byte word per lane: one warp-wide store
    // for a reply of up to 28 words. Lane 0 builds the header's four words
    // (as rk_actor_write_replies builds them) into the receive scratch
    // (free on this path); each lane then copies its word, from there or
    // from the reply the handler left, choosing the address, not the
    // branch. (Lanes building their own header words in a four-way
    // selection compiled to an indirect branch, divergent: 690-770 cycles
    // for this stage in the H200 loop trace.)
    rk_actor_u4* slot = reinterpret_cast<rk_actor_u4*>(rk_ring_push_slot(&l->outbox, 0u));
    rk_actor_u4* header = reinterpret_cast<rk_actor_u4*>(rk_actor_dynamic);
    constexpr rk_u32 words = RK_ACTOR_HEADER_WORDS + S::reply_words;
    if (lane == 0u) {
        const rk_actor_u4 w0 = *reinterpret_cast<const rk_actor_u4*>(S::request(0));
        const rk_actor_u4 w1 = *reinterpret_cast<const rk_actor_u4*>(S::request(0) + 16u);
        const rk_u64 seq = l->sequence + 1u;
        rk_actor_u4 h;
        h.x = d->reply_type_id;
        h.y = H::reply_size;
        h.z = d->actor_id;
        h.w = w0.z; // the request's source
        header[0] = h;
        h.x = w1.x; // the request's correlation id
        h.y = w1.y;
        h.z = (rk_u32)seq;
        h.w = (rk_u32)(seq >> 32);
        header[1] = h;
        h.x = (rk_u32)stamp.physical_ns;
        h.y = (rk_u32)(stamp.physical_ns >> 32);
        h.z = stamp.logical;
        h.w = stamp.node;
        header[2] = h;
        h.x = RK_ENVELOPE_FLAG_REPLY;
        h.y = 0u;
        h.z = 0u;
        h.w = 0u;
        header[3] = h;
    }
    __syncwarp(mask);
    #pragma unroll 1
    for (rk_u32 w = lane; w < words; w += lanes) {
        const unsigned char* from = w < RK_ACTOR_HEADER_WORDS
                                        ? reinterpret_cast<const unsigned char*>(header) + 16u * w
                                        : S::reply(0) + 16u * (w - RK_ACTOR_HEADER_WORDS);
        slot[w] = *reinterpret_cast<const rk_actor_u4*>(from);
    }
    // Orders every lane's slot writes before lane 0's fence (bar.warp.sync
    // orders memory among the lanes it synchronises, as B5 does the block's).
    __syncwarp(mask);
    if (lane == 0u) {
        rk_actor_trace_mark(l, RK_ACTOR_TRACE_WRITE);
        rk_control_block* cb = d->control;
        l->messages_in += 1u;
        l->messages_out += 1u;
        l->sequence += 1u;
        rk_control_set_counters(cb, l->messages_in, l->messages_out);
        rk_actor_trace_mark(l, RK_ACTOR_TRACE_COUNTERS);
        // The release pattern of both rings, as the loop's close: the fence
        // orders the reply's writes and the request's reads (its flagged
        // copy, and the staged record it came from) before both stores.
        rk_fence_acq_rel_sys();
        rk_actor_trace_mark(l, RK_ACTOR_TRACE_FENCE);
        l->outbox.index += 1u;
        rk_st_relaxed_sys_u64(&l->outbox.header->tail, l->outbox.index);
        rk_actor_trace_mark(l, RK_ACTOR_TRACE_TAIL);
        // The poll's bookkeeping for a message taken from its copy: the
        // look's tail (no fence needed: no slot is read by it), then the
        // head, never past a tail read.
        const rk_u64 tail = l->look_tail;
        l->inbox.index += 1u;
        l->inbox.other = tail > l->inbox.index ? tail : l->inbox.index;
        l->tail_ahead = 0u;
        rk_actor_free_inbox(l, tail, false);
        l->look = RK_ACTOR_LOOK_NONE;
        l->empty = 0u;
        l->sleep = 32u;
        rk_control_heartbeat(cb, ++l->heartbeat);
        rk_actor_trace_close(l, cb);
    }
    __syncwarp(mask);
    return true;
}

// The cluster-placed system's exit: a block whose actor is done still
// holds an inbox other blocks may send to (they then find it closed, and
// fault UNDELIVERABLE), so every block waits here until every block of the
// cluster is done, and only then do they return. Called by every thread.
// Nothing in the global tier.
RK_INLINE void rk_actor_cluster_exit() {
#if RK_ACTOR_K2K_CLUSTER
    rk_cluster_sync();
#endif
}

// A block of a cluster-placed system that runs no actor (the host never
// launches one; a role the entry does not know) still takes part in both
// of the cluster's barriers, the start and the exit, so the others do not
// wait for it forever.
RK_INLINE void rk_actor_cluster_absent() {
#if RK_ACTOR_K2K_CLUSTER
    rk_cluster_sync();
    rk_cluster_sync();
#endif
}

// The start of a block-placed system: every warp of the block meets once,
// after each warp actor laid out its K2K inbox (and a refused one closed
// it), before any warp sends: the only block barrier in a block-placed
// system, reached by every warp before any handler runs (warps of
// different handlers reach it from their own instantiation of the loop:
// bar.sync counts arrivals per block, sm_70+), so no fault can keep a warp
// from it. A warp without an actor meets it in rk_actor_block_absent.
// Nothing elsewhere. There is no exit barrier: the block's shared memory
// lives until its last warp returns, so a stopped actor's closed inbox
// outlives every sender.
RK_INLINE void rk_actor_k2k_start() {
#if RK_ACTOR_K2K_BLOCK
    __syncthreads();
#endif
}

// A warp of a block-placed system with no actor (past the system's last,
// or a role the entry does not know): the start barrier, then return.
RK_INLINE void rk_actor_block_absent() {
#if RK_ACTOR_K2K_BLOCK
    __syncthreads();
#endif
}

// The loop of one actor, over its __shared__ loop state (the block's, or
// its warp's slot of the block's arrays). `actor_count`: the launch's
// actors (a cluster-placed system checks that the cluster holds them all).
template <typename H>
__device__ __forceinline__ void rk_actor_loop(const rk_actor_desc* d, rk_u32 actor_count,
                                              rk_fault_record& fault, rk_actor_shared& ctl,
                                              rk_actor_leader& l) {
    using U = rk_actor_unit_of<H>;
    using S = rk_actor_shape<H>;
    static_assert(H::batch >= 1u, "a batch holds at least one message");
    // The batch the runtime chose (more than the handler's default when the
    // launch leaves room), and the staging area it sized for it. A warp
    // actor's slice holds H::batch records, so its batch is at most that.
    const rk_u32 batch = d->batch != 0u ? d->batch : H::batch;
    // For a warp actor: every slice up to and including its own.
    const rk_u64 staging_bytes = S::warp ? (rk_u64)(U::slot() + 1u) * S::stride : S::bytes(batch);
    const rk_u32 tid = U::tid();
    const bool leader = tid == 0u;
    const rk_u32 threads = U::threads();
#if RK_ACTOR_K2K_CLUSTER
    // This actor's K2K inbox, laid out by the whole block in its shared
    // memory; published to the other blocks by the cluster barrier below.
    rk_k2k_header* const k2k_shared = rk_actor_k2k_cluster_open(d);
#elif RK_ACTOR_K2K_BLOCK
    // Likewise by the warp in the block's shared memory; published to the
    // other warps by the block's start barrier below.
    rk_k2k_header* const k2k_shared = rk_actor_k2k_block_open(d);
#else
    (void)actor_count;
#endif
    if (leader) {
        rk_control_block* cb = d->control;
        rk_control_set_state(cb, RK_STATE_INITIALIZING);
        rk_ring_attach_consumer(&l.inbox, d->inbox);
        rk_ring_attach_producer(&l.outbox, d->outbox);
        l.clock.last.physical_ns = 0u;
        l.clock.last.logical = 0u;
        l.clock.last.node = d->actor_id;
        l.clock.offset_ns = d->hlc_offset_ns;
        l.heartbeat = rk_ld_relaxed_sys_u64(&cb->heartbeat);
        l.messages_in = rk_ld_relaxed_sys_u64(&cb->messages_in);
        l.messages_out = rk_ld_relaxed_sys_u64(&cb->messages_out);
        l.sequence = l.messages_out;
        l.tail_ahead = 0u;
        l.tail_seen = l.inbox.other;
        l.head_stored = l.inbox.index;
        // Flagged copies mirror whole slots; the poll reads the staged
        // bytes (header and message) of one, at most 128.
        l.ll_words = rk_ld_relaxed_sys_u32(&d->inbox->ll_words);
        // Looks take a lane per flagged word.
        l.ll = S::in_words * 4u <= 32u && threads >= S::in_words * 4u &&
                       l.ll_words * 4u == l.inbox.slot_size
                   ? rk_ring_ll_base(d->inbox)
                   : nullptr;
        l.look = RK_ACTOR_LOOK_NONE;
        l.look_tail = 0u;
        l.empty = 0u;
        l.sleep = 32u;
        l.restarts_seen = rk_control_restart_requested(cb);
        l.failed = false;
        l.batch = batch;
        l.k2k_turn = true;
#if RK_ACTOR_K2K_CLUSTER || RK_ACTOR_K2K_BLOCK
        l.k2k = k2k_shared;
#else
        l.k2k = RK_ACTOR_K2K ? static_cast<rk_k2k_header*>(d->k2k_inbox) : nullptr;
#endif
        l.k2k_head = l.k2k != nullptr ? rk_actor_k2k_scope::ld_relaxed(&l.k2k->head) : 0u;
        l.k2k_mask = l.k2k != nullptr ? (rk_u64)l.k2k->capacity - 1u : 0u;
        l.sent = 0u;
        for (rk_u32 p = 0u; p < RK_ACTOR_K2K_GUESSES; ++p) {
            l.k2k_guess[p] = 0u;
        }
#if RK_ACTOR_TRACE
        l.trace_at = (rk_u64)clock64();
        for (rk_u32 k = 0u; k < RK_ACTOR_TRACE_WORDS; ++k) {
            l.trace[k] = 0u;
        }
#endif
        constexpr rk_u32 reply_words = RK_ACTOR_WORDS(H::reply_size);
        rk_u32 dynamic_bytes;
        asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(dynamic_bytes));
        bool geometry_ok = l.inbox.slot_size >= S::in_words * 16u &&
                           l.outbox.slot_size >= RK_ENVELOPE_HEADER_SIZE + reply_words * 16u &&
                           batch <= (S::warp ? H::batch : RK_ACTOR_MAX_BATCH) &&
                           dynamic_bytes >= staging_bytes;
#if RK_ACTOR_K2K_CLUSTER
        // The launch is the one cluster of the system, the inbox the host
        // asked for is laid out, and it starts after the staging area.
        geometry_ok = geometry_ok && rk_cluster_size() == actor_count &&
                      (d->k2k_inbox != nullptr) == (l.k2k != nullptr) &&
                      reinterpret_cast<rk_u64>(d->k2k_inbox) >= (l.k2k != nullptr ? staging_bytes : 0u);
#elif RK_ACTOR_K2K_BLOCK
        // The launch is the one block of the system, and the inbox the host
        // asked for is laid out (after every slice: rk_actor_k2k_block_open).
        geometry_ok = geometry_ok && S::fits && gridDim.x == 1u &&
                      actor_count <= (blockDim.x >> 5) &&
                      (d->k2k_inbox != nullptr) == (l.k2k != nullptr);
#endif
        if (!geometry_ok) {
            // The host sized the rings (or the staging area) for another
            // actor: refuse to run. Its K2K inbox is closed at once, so a
            // sender faults UNDELIVERABLE instead of waiting for it forever.
            if (RK_ACTOR_K2K && l.k2k != nullptr) {
                rk_actor_k2k_close<rk_actor_k2k_scope>(&l);
            }
            rk_control_record_fault(cb, RK_ACTOR_FAULT_BAD_MESSAGE, 0u, 0u, 0u, 0u);
            rk_control_set_state(cb, RK_STATE_FAILED);
            ctl.command = RK_ACTOR_EXIT;
        } else {
            rk_control_set_state(cb, RK_STATE_ACTIVE);
            ctl.command = RK_ACTOR_RUN;
        }
    }
    U::sync();
    const rk_u32 start = ctl.command;
    U::sync(); // everyone has read `command` before the leader polls
#if RK_ACTOR_K2K_CLUSTER
    // Every inbox of the cluster is laid out (a refused actor's closed)
    // before any block sends: release by each thread's arrival, acquire
    // by its wait.
    rk_cluster_sync();
#endif
    rk_actor_k2k_start();
    if (start == RK_ACTOR_EXIT) {
        rk_actor_cluster_exit();
        return;
    }
    for (;;) {
        if (leader) {
            rk_u32 count = 0u;
            rk_u32 source = RK_ACTOR_SOURCE_HOST;
            ctl.command = rk_actor_poll<H>(&l, d, &count, &source);
            ctl.count = count;
            ctl.source = source;
            ctl.inbox = l.inbox;
            if (RK_ACTOR_K2K && source == RK_ACTOR_SOURCE_K2K) {
                // The K2K slots, seen through a ring view for staging.
                ctl.inbox.header = nullptr;
                ctl.inbox.slots = reinterpret_cast<unsigned char*>(l.k2k) +
                                  rk_k2k_slots_offset(l.k2k->capacity);
                ctl.inbox.index = l.k2k_head;
                ctl.inbox.other = l.k2k_head + count;
                ctl.inbox.mask = (rk_u32)l.k2k_mask;
                ctl.inbox.slot_size = l.k2k->slot_size;
            }
            ctl.outbox = l.outbox;
            ctl.sequence = l.sequence;
            ctl.pt = rk_hlc_physical_now(&l.clock);
            ctl.clock_l = l.clock.last.physical_ns;
            ctl.clock_c = (rk_i64)l.clock.last.logical;
        }
        U::sync(); // B1
        // (Diagnostics: host batches only; a K2K batch's time counts as idle.)
        const bool traced = RK_ACTOR_TRACE && leader && ctl.command == RK_ACTOR_RUN &&
                            ctl.source != RK_ACTOR_SOURCE_K2K;
        if (traced) {
            rk_actor_trace_mark(&l, RK_ACTOR_TRACE_PUBLISH);
        }
        if (ctl.command == RK_ACTOR_EXIT) {
            break;
        }
        if (ctl.command == RK_ACTOR_LOOK) {
            if (tid < 32u) {
                rk_actor_look<H>(&l, d, &fault, tid, threads);
            }
            U::sync(); // everyone has read `command` before the leader polls again
            continue;
        }
        if ((RK_ACTOR_K2K_CLUSTER || RK_ACTOR_K2K_BLOCK) && ctl.source == RK_ACTOR_SOURCE_K2K) {
            rk_actor_stage_shared<H>(&ctl.inbox, ctl.count);
        } else if (ctl.source != RK_ACTOR_SOURCE_HOST_LL) {
            rk_actor_stage<H>(&ctl.inbox, ctl.count);
        }
        U::sync(); // B2
        if (traced) {
            rk_actor_trace_mark(&l, RK_ACTOR_TRACE_STAGE);
        }
        if (leader) {
            fault.state = 0u;
        }
        rk_u32 good;
        if constexpr (S::warp) {
            good = rk_actor_receive_warp<H>(&l, d, &ctl, ctl.count); // B3
        } else {
            good = rk_actor_receive<H>(&l, d, &ctl, ctl.count); // B3
        }
        if (traced) {
            rk_actor_trace_mark(&l, RK_ACTOR_TRACE_RECEIVE);
        }
        if (RK_UNLIKELY(good == 0u)) {
            // The first envelope is not this actor's message: dead-letter
            // it (from the slot, with whatever payload it carries) and go on.
            U::sync(); // everyone has read `good` before the leader reuses ctl
            if (leader) {
                if (ctl.source == RK_ACTOR_SOURCE_HOST_LL) {
                    // Seen through its flagged copy only: the fence makes the
                    // slot's own bytes (written before the copy) visible.
                    rk_fence_acq_rel_sys();
                }
                rk_envelope_header* env = rk_ring_pop_slot(&ctl.inbox, 0u);
                rk_u32 bytes = env->payload_size;
                rk_u32 room = ctl.inbox.slot_size - RK_ENVELOPE_HEADER_SIZE;
                l.messages_in += 1u;
                rk_actor_dead_letter(&l, d, env, rk_envelope_payload(env), bytes < room ? bytes : room,
                                     RK_ACTOR_FAULT_BAD_MESSAGE, 0u, 0u);
                if ((RK_ACTOR_K2K && ctl.source == RK_ACTOR_SOURCE_K2K)) {
                    rk_actor_k2k_scope::fence_acq_rel();
                    rk_actor_k2k_release<rk_actor_k2k_scope>(&l, 1u);
                } else {
                    l.inbox.index += 1u;
                    rk_actor_free_inbox(&l, l.tail_seen, true);
                }
                l.tail_ahead = 0u; // no acquire fence followed that read
                rk_control_heartbeat(d->control, ++l.heartbeat);
            }
            continue;
        }
        const rk_u32 done = rk_actor_run_batch<H>(d, &l, good, &fault);
        if (traced) {
            rk_actor_trace_mark(&l, RK_ACTOR_TRACE_HANDLER);
        }
        const rk_u32 answered = H::reply_size > 0u ? done : 0u;
        if constexpr (H::reply_size > 0u) {
            if (leader && answered > 0u) {
                rk_hlc_timestamp first = rk_hlc_send(&l.clock, rk_hlc_physical_now(&l.clock));
                const bool serial = (rk_u64)first.logical + (answered - 1u) > 0xFFFFFFFFull;
                if (RK_UNLIKELY(serial)) {
                    // The logical counter is about to wrap: issue each stamp by
                    // the rule (rk_hlc_send bumps the physical part instead),
                    // into the receipts' places (the handlers are done with them).
                    // (Not unrolled: NVVM unrolls a counted loop by
                    // default, and copies of this cold one cost ~0.02 s of
                    // NVRTC time.)
                    S::env(0)->received = first;
                    #pragma unroll 1
                    for (rk_u32 i = 1u; i < answered; ++i) {
                        S::env(i)->received = rk_hlc_send(&l.clock, rk_hlc_physical_now(&l.clock));
                    }
                } else {
                    l.clock.last.logical = first.logical + (answered - 1u);
                }
                ctl.stamp = first;
                ctl.serial_stamps = serial ? 1u : 0u;
            }
        }
        U::sync(); // B4
        if (traced) {
            rk_actor_trace_mark(&l, RK_ACTOR_TRACE_STAMP);
        }
        if constexpr (H::reply_size > 0u) {
            if (answered > 0u) {
                rk_actor_write_replies<H>(d, &ctl.outbox, answered, ctl.sequence, ctl.stamp,
                                          ctl.serial_stamps != 0u);
            }
        }
        U::sync(); // B5
        if (traced) {
            rk_actor_trace_mark(&l, RK_ACTOR_TRACE_WRITE);
        }
        if (leader) {
            rk_control_block* cb = d->control;
            l.messages_in += done;
            l.messages_out += answered;
            l.sequence += answered;
            rk_control_set_counters(cb, l.messages_in, l.messages_out);
            if (traced) {
                rk_actor_trace_mark(&l, RK_ACTOR_TRACE_COUNTERS);
            }
            // After a batch of more than one message (a stream is going),
            // read the inbox tail for the next poll while the fence below
            // waits for the batch's writes: the two PCIe round trips
            // overlap, and the next poll needs none. (Not after a single
            // message: a round trip would wait for the read too.) Relaxed;
            // the fence orders it like an acquire before the next batch's
            // slot reads.
            const bool busy = good > 1u && ctl.source == RK_ACTOR_SOURCE_HOST;
            rk_u64 tail_ahead = 0u;
            if (busy) {
                tail_ahead = rk_ld_relaxed_sys_u64(&l.inbox.header->tail);
            }
            // One fence orders every slot write (all threads', through the
            // barrier) and every slot read before both index stores: the
            // release pattern of the ring protocol, for both rings at once.
            rk_fence_acq_rel_sys();
            if (traced) {
                rk_actor_trace_mark(&l, RK_ACTOR_TRACE_FENCE);
            }
            l.tail_ahead = tail_ahead;
            if (answered > 0u) {
                l.outbox.index += answered;
                rk_st_relaxed_sys_u64(&l.outbox.header->tail, l.outbox.index);
            }
            if (traced) {
                rk_actor_trace_mark(&l, RK_ACTOR_TRACE_TAIL);
            }
            if (RK_UNLIKELY(done < good)) {
                // Message `done` faulted. Fault record and Failed state
                // first: the dead letter's release store publishes them with
                // it, so a host that sees the dead letter sees the actor Failed.
                const rk_envelope_header* req =
                    reinterpret_cast<const rk_envelope_header*>(S::request(done));
                l.messages_in += 1u;
                rk_control_record_fault(cb, fault.kind, 0u, fault.line, fault.column, req->sequence);
                l.failed = true;
                rk_control_set_state(cb, RK_STATE_FAILED);
                rk_actor_dead_letter(&l, d, req, S::request(done) + RK_ENVELOPE_HEADER_SIZE,
                                     H::message_size, fault.kind, fault.line, fault.column);
                if ((RK_ACTOR_K2K && ctl.source == RK_ACTOR_SOURCE_K2K)) {
                    rk_actor_k2k_release<rk_actor_k2k_scope>(&l, done + 1u);
                } else {
                    l.inbox.index += done + 1u;
                    rk_actor_free_inbox(&l, l.tail_seen, true);
                }
            } else if ((RK_ACTOR_K2K && ctl.source == RK_ACTOR_SOURCE_K2K)) {
                rk_actor_k2k_release<rk_actor_k2k_scope>(&l, done);
            } else {
                l.inbox.index += done;
                rk_actor_free_inbox(&l, l.tail_seen, false); // after the fence
            }
            rk_control_heartbeat(cb, ++l.heartbeat);
            if (traced) {
                rk_actor_trace_close(&l, cb);
            }
        }
    }
    if (leader) {
        rk_control_set_counters(d->control, l.messages_in, l.messages_out);
        rk_control_set_state(d->control, RK_STATE_TERMINATED);
    }
    rk_actor_cluster_exit();
}

template <typename H>
__device__ __forceinline__ void rk_actor_main(const rk_actor_desc* actors, rk_u32 actor_count) {
    using U = rk_actor_unit_of<H>;
    if constexpr (rk_actor_is_warp<H>::value) {
        // A cluster's barriers are the whole block's: a warp actor that
        // stopped would hold its neighbours at them (the runtime refuses
        // cluster placement of warp actors before composing).
        static_assert(!(RK_ACTOR_K2K_CLUSTER && rk_actor_is_warp<H>::value),
                      "warp actors cannot be placed in a cluster");
        // A warp past the last actor leaves alone: the others of its block
        // never wait for it (their barriers are warp barriers), but for a
        // block-placed system's start barrier.
        if (U::index() >= actor_count) {
            rk_actor_block_absent();
            return;
        }
        // One of each per warp of the block.
        __shared__ rk_fault_record faults[RK_ACTOR_MAX_PACK];
        __shared__ rk_actor_shared ctls[RK_ACTOR_MAX_PACK];
        __shared__ rk_actor_desc descs[RK_ACTOR_MAX_PACK];
        __shared__ rk_actor_leader leader_states[RK_ACTOR_MAX_PACK];
        const rk_u32 w = U::slot();
        // The warp's descriptor in shared memory, as a block actor's.
        if (U::tid() == 0u) {
            descs[w] = actors[U::index()];
        }
        U::sync();
        rk_actor_loop<H>(&descs[w], actor_count, faults[w], ctls[w], leader_states[w]);
    } else {
        static_assert(!(RK_ACTOR_K2K_BLOCK && !rk_actor_is_warp<H>::value),
                      "a block-placed system holds warp actors only");
        if (blockIdx.x >= actor_count) {
            rk_actor_cluster_absent();
            return;
        }
        __shared__ rk_fault_record fault;
        __shared__ rk_actor_shared ctl;

        // The descriptor, copied into shared memory once: the loop reads its
        // fields on every message (type ids, actor id, control block), and from
        // global memory each read after a batch's closing fence (which empties
        // the L1) is an L2 round trip of several hundred cycles on the call path.
        // The runtime never changes a descriptor while its launch runs.
        __shared__ rk_actor_desc desc_copy;
        if (rk_thread_id() == 0u) {
            desc_copy = actors[blockIdx.x];
        }
        __syncthreads();
        // The leader's loop state lives in shared memory, not registers: kept
        // in registers it is live across every handler call, and ptxas spills
        // around the handler's out-of-line fault calls. Only the leader uses it.
        __shared__ rk_actor_leader leader_state;
        rk_actor_loop<H>(&desc_copy, actor_count, fault, ctl, leader_state);
    }
}

// One role of a block-placed system (compose_system's entry dispatches
// each warp to its role's): rk_actor_main out of line, so each role's loop
// is allocated registers on its own (inlined together into the one entry,
// ptxas spilled).
template <typename H>
__device__ __noinline__ void rk_actor_role(const rk_actor_desc* actors, rk_u32 actor_count) {
    rk_actor_main<H>(actors, actor_count);
}

#endif // RK_ACTOR_CUH
