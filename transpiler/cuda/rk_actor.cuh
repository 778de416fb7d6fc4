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
//
// The lone path (rk_actor_k2k_one, rk_actor_run.cuh): for a handler the
// back end marks k2k_lone (no state, no reply, no shared memory, no thread
// index, nothing communicating but ctx.send, the leader's effect), the poll
// answers a K2K message with RK_ACTOR_LONE and the leader runs it alone,
// straight from its slot: header check and HLC receipt, the handler, the
// close of a batch of one (counters, read fence, release, heartbeat),
// dead letters as the close's. The rest of the unit stays at B1 as it does
// while the leader polls. Such a handler's K2K messages never come through
// the batch path (`k2k_batches`). RK_ACTOR_K2K_LONE=0 turns it off.

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

// Kernel-to-kernel messaging is compiled into system kernels only (the
// transpiler's compose_system defines RK_ACTOR_K2K 1 before the includes):
// a module of one handler has no K2K inbox and no routes, so its loop
// carries none of those paths (they cost NVRTC time), and its ctx.send
// and ctx.try_send fault UNROUTED as every send without a route does.
#ifndef RK_ACTOR_K2K
#define RK_ACTOR_K2K 0
#endif

// The device library's protocol headers; the K2K inboxes' only with K2K
// paths (RINGKERNEL_NO_K2K).
#if !RK_ACTOR_K2K
#define RINGKERNEL_NO_K2K 1
#endif
#include "ringkernel.cuh"

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
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#error "a block-placed actor system hands its K2K slots over with mbarriers (sm_90 or newer)"
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

// The shared-memory tiers (block and cluster) hand K2K slots over with
// mbarriers (rk_k2k_mbar.cuh, multi-producer): compute-sanitizer's
// racecheck sees an mbarrier handoff with a plain payload as
// synchronisation, where it reports every rk_k2k sequence-word handoff in
// shared memory as a hazard, and the handoff is faster (the benchmark
// ladder's mbar_mp rows). The global tier keeps rk_k2k.cuh (no mbarriers in
// global memory; racecheck checks shared memory only). The inbox type
// follows (rk_actor_k2k_inbox).
#define RK_ACTOR_K2K_MBAR (RK_ACTOR_K2K_BLOCK || RK_ACTOR_K2K_CLUSTER)
#if RK_ACTOR_K2K_MBAR
typedef rk_k2k_mbar_header rk_actor_k2k_inbox;
typedef rk_k2k_mbar_ref rk_actor_k2k_ref; // an inbox as a sender sees it
#elif !RK_ACTOR_K2K
// No K2K paths: the leader's K2K fields keep their names, typed as
// nothing (its inbox pointer is null).
struct rk_actor_no_k2k_inbox;
typedef rk_actor_no_k2k_inbox rk_actor_k2k_inbox;
struct rk_actor_k2k_ref {};
#else
typedef rk_k2k_header rk_actor_k2k_inbox;
typedef rk_k2k_ref rk_actor_k2k_ref;
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

// The loop's parts, in order (each one topic; see the file's first lines).
#include "rk_actor_state.cuh"
#include "rk_actor_io.cuh"
#include "rk_actor_k2k.cuh"
#include "rk_actor_poll.cuh"
#include "rk_actor_receive.cuh"
#include "rk_actor_run.cuh"

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

// The block-placed system's start barrier, as every warp reaches it:
// `barrier.sync 0` without `.aligned`. `__syncthreads()` is `bar.sync 0`,
// which PTX defines as `barrier.sync.aligned 0`: every thread of the block
// at the SAME instruction, and here each warp arrives from its own role's
// function (and an absent warp from rk_actor_block_absent). The hardware
// counts arrivals either way, but the aligned form there is undefined
// behaviour, and compute-sanitizer's synccheck reported it ("barrier error:
// divergent thread(s) in block") in every block-placed system. The
// unaligned form is the one PTX allows at different instructions; it
// orders memory as bar.sync does.
RK_INLINE void rk_actor_block_barrier() {
    asm volatile("barrier.sync 0;" ::: "memory");
}

// The start of a block-placed system: every warp of the block meets once,
// after each warp actor laid out its K2K inbox (and a refused one closed
// it), before any warp sends: the only block barrier in a block-placed
// system, reached by every warp before any handler runs (warps of
// different handlers reach it from their own instantiation of the loop:
// rk_actor_block_barrier), so no fault can keep a warp from it. A warp
// without an actor meets it in rk_actor_block_absent. Nothing elsewhere.
// There is no exit barrier: the block's shared memory lives until its last
// warp returns, so a stopped actor's closed inbox outlives every sender.
RK_INLINE void rk_actor_k2k_start() {
#if RK_ACTOR_K2K_BLOCK
    rk_actor_block_barrier();
#endif
}

// A warp of a block-placed system with no actor (past the system's last,
// or a role the entry does not know): the start barrier, then return.
RK_INLINE void rk_actor_block_absent() {
#if RK_ACTOR_K2K_BLOCK
    rk_actor_block_barrier();
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
    // Whether K2K messages come through the loop's batches: not when the
    // leader runs each alone (rk_actor_k2k_one), so none of the batch
    // path's K2K branches is compiled then.
    constexpr bool k2k_batches = RK_ACTOR_K2K && !rk_actor_k2k_lone<H>::value;
#if RK_ACTOR_K2K_CLUSTER
    // This actor's K2K inbox, laid out by the whole block in its shared
    // memory; published to the other blocks by the cluster barrier below.
    rk_k2k_mbar_header* const k2k_shared = rk_actor_k2k_cluster_open(d);
    // Every block lays out the system's credit arrays (its copies of each
    // inbox's empty barriers), also published by the cluster barrier.
    const bool credits_ok = rk_actor_k2k_credits_open(d, staging_bytes);
#elif RK_ACTOR_K2K_BLOCK
    // Likewise by the warp in the block's shared memory; published to the
    // other warps by the block's start barrier below.
    rk_k2k_mbar_header* const k2k_shared = rk_actor_k2k_block_open(d);
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
        l.out_ll = rk_ld_relaxed_sys_u32(&d->outbox->ll_words) * 4u == l.outbox.slot_size &&
                           l.outbox.slot_size <= 128u
                       ? rk_ring_ll_base_mut(d->outbox)
                       : nullptr;
        l.copy_until = rk_actor_copy_lap_end(&l);
        l.look = RK_ACTOR_LOOK_NONE;
        l.look_tail = 0u;
        l.empty = 0u;
        l.sleep = 32u;
        l.restarts_seen = rk_control_restart_requested(cb);
        l.failed = false;
        l.stats_owed = false;
        l.stats_at = (rk_u64)clock64();
        l.batch = batch;
        l.k2k_turn = true;
        l.k2k_last = false;
#if RK_ACTOR_K2K_CLUSTER || RK_ACTOR_K2K_BLOCK
        l.k2k = k2k_shared;
#elif RK_ACTOR_K2K
        l.k2k = static_cast<rk_k2k_header*>(d->k2k_inbox);
#else
        l.k2k = nullptr;
#endif
#if RK_ACTOR_K2K_MBAR
        // Laid out afresh at start: head 0, every barrier at phase 0.
        l.k2k_head = 0u;
        l.k2k_full_sa = l.k2k != nullptr ? rk_mbar_sa_(l.k2k) + RK_K2K_MBAR_FULL_OFFSET : 0u;
        l.k2k_credit_sa = rk_mbar_sa_(rk_actor_dynamic + d->k2k_credit);
        l.k2k_credit_ranks = d->k2k_credit_ranks;
        l.k2k_lap_shift = l.k2k != nullptr ? (rk_u32)(__ffs((int)d->k2k_capacity) - 1) : 0u;
#elif RK_ACTOR_K2K
        l.k2k_head = l.k2k != nullptr ? rk_actor_k2k_scope::ld_relaxed(&l.k2k->head) : 0u;
        l.k2k_seen = 0u; // never head + 1: the receipt loads the word
#else
        l.k2k_head = 0u;
#endif
#if RK_ACTOR_K2K
        l.k2k_mask = l.k2k != nullptr ? (rk_u64)l.k2k->capacity - 1u : 0u;
#else
        l.k2k_mask = 0u;
#endif
        l.sent = 0u;
        l.route_port = RK_ACTOR_NO_ROUTE;
        for (rk_u32 p = 0u; p < RK_ACTOR_K2K_GUESSES; ++p) {
            l.k2k_guess[p] = 0u;
            l.k2k_free[p] = 0u;
        }
#if RK_ACTOR_TRACE
        l.trace_send = false;
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
        geometry_ok = geometry_ok && rk_cluster_size() == actor_count && credits_ok &&
                      (d->k2k_inbox != nullptr) == (l.k2k != nullptr) &&
                      reinterpret_cast<rk_u64>(d->k2k_inbox) >= (l.k2k != nullptr ? staging_bytes : 0u);
#elif RK_ACTOR_K2K_BLOCK
        // The launch is the one block of the system, and the inbox the host
        // asked for is laid out (after every slice: rk_actor_k2k_block_open).
        geometry_ok = geometry_ok && S::fits && gridDim.x == 1u &&
                      actor_count <= (blockDim.x >> 5) &&
                      (d->k2k_inbox != nullptr) == (l.k2k != nullptr) &&
                      rk_actor_k2k_credits_fit(d, (rk_u64)(blockDim.x >> 5) * RK_ACTOR_WARP_STRIDE);
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
            rk_u32 command;
            if constexpr (rk_actor_k2k_lone<H>::value) {
                // K2K messages the leader runs alone; the unit waits at B1.
                #pragma unroll 1
                while ((command = rk_actor_poll<H>(&l, d, &count, &source)) == RK_ACTOR_LONE) {
                    rk_actor_k2k_one<H>(d, &l, &fault);
                }
            } else {
                command = rk_actor_poll<H>(&l, d, &count, &source);
            }
            ctl.command = command;
            ctl.count = count;
            ctl.source = source;
            ctl.inbox = l.inbox;
            if (k2k_batches && source == RK_ACTOR_SOURCE_K2K) {
                // The K2K slots, seen through a ring view for staging.
                ctl.inbox.header = nullptr;
                ctl.inbox.slots = rk_actor_k2k_slots(&l);
                ctl.inbox.index = l.k2k_head;
                ctl.inbox.other = l.k2k_head + count;
                ctl.inbox.mask = (rk_u32)l.k2k_mask;
                ctl.inbox.slot_size = rk_actor_k2k_slot_size(&l);
            }
            ctl.outbox = l.outbox;
            ctl.sequence = l.sequence;
            ctl.pt = rk_hlc_physical_now(&l.clock);
            ctl.clock_l = l.clock.last.physical_ns;
            ctl.clock_c = (rk_i64)l.clock.last.logical;
        }
        U::sync(); // B1
        // (Diagnostics: host batches, or K2K batches with RK_ACTOR_TRACE 2;
        // the other kind's time counts as idle.)
        const bool traced =
            leader && ctl.command == RK_ACTOR_RUN && RK_ACTOR_TRACED_SOURCE(ctl.source);
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
        if (k2k_batches && (RK_ACTOR_K2K_CLUSTER || RK_ACTOR_K2K_BLOCK) &&
            ctl.source == RK_ACTOR_SOURCE_K2K) {
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
        // good == 0: the first envelope is not this actor's message. It
        // goes through the rest of the loop as a batch of none (no handler
        // runs, nothing is answered), and the close dead-letters it from
        // its slot: one dead-letter site for both reasons (NVRTC time).
        const rk_u32 done = rk_actor_run_batch<H>(d, &l, good, &fault);
        if (traced) {
            rk_actor_trace_mark(&l, RK_ACTOR_TRACE_HANDLER);
        }
        const rk_u32 answered = H::reply_size > 0u ? done : 0u;
        if constexpr (H::reply_size > 0u) {
            if (leader && answered > 0u) {
                rk_hlc_timestamp first = rk_hlc_send(&l.clock, rk_hlc_physical_now(&l.clock));
                // Reply m is stamped (first.l, first.c + m), unless the
                // logical counter is about to wrap: then the close below
                // issues stamps 1.. one by one, by the rule (rk_hlc_send
                // bumps the physical part instead), into the written replies.
                const bool serial = (rk_u64)first.logical + (answered - 1u) > 0xFFFFFFFFull;
                if (RK_LIKELY(!serial)) {
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
                // The copies need invalidating only up to copy_until; a
                // batch that straddles it invalidates all its replies' (harmless).
                rk_actor_write_replies<H>(d, &ctl.outbox, answered, ctl.sequence, ctl.stamp,
                                          l.out_ll);
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
            // A K2K batch without replies or dead letters may leave its
            // counters and heartbeat owed (RK_ACTOR_K2K_STATS_CYCLES; never
            // by default), stored by a later batch or when the poll idles.
            const bool owe_stats =
                k2k_batches && RK_ACTOR_K2K_STATS_CYCLES > 0u &&
                ctl.source == RK_ACTOR_SOURCE_K2K && answered == 0u && done == good &&
                good != 0u && (rk_u64)clock64() - l.stats_at < RK_ACTOR_K2K_STATS_CYCLES;
            if (owe_stats) {
                l.stats_owed = true;
            } else {
                rk_control_set_counters(cb, l.messages_in, l.messages_out);
            }
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
            // A K2K batch that wrote nothing to the host (no reply) orders
            // only its K2K slot reads before their release, at the K2K
            // inbox's scope: a system fence waits for every store to mapped
            // memory to land (about 0.6 us), and the next K2K message,
            // often already there, would wait for it. (The counters are
            // statistics; dead letters and fault records publish themselves
            // with their own release stores.) The mbarrier tiers need no
            // fence for the slot reads: the empty arrives are releases.
            if (H::reply_size > 0u && RK_UNLIKELY(answered > 0u && ctl.serial_stamps != 0u)) {
                // The logical counter was about to wrap (the stamp step):
                // stamp replies 1.. by the rule, in order, over the stamps
                // written (the barrier B5 orders the block's writes before
                // these, and the fence below publishes them with the tail).
                // Out of the reply writes, whose loop NVVM would otherwise
                // compile twice (NVRTC time). (Not unrolled: a cold loop.)
                #pragma unroll 1
                for (rk_u32 m = 1u; m < answered; ++m) {
                    rk_ring_push_slot(&l.outbox, m)->hlc =
                        rk_hlc_send(&l.clock, rk_hlc_physical_now(&l.clock));
                }
            }
            if (k2k_batches && ctl.source == RK_ACTOR_SOURCE_K2K && answered == 0u) {
                rk_actor_k2k_fence_reads<rk_actor_k2k_scope>();
            } else {
                rk_fence_acq_rel_sys();
            }
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
            if (RK_UNLIKELY(done < good || good == 0u)) {
                // Dead-letter message `done`: with good == 0 the first
                // envelope, which is not this actor's message, from its slot
                // (with whatever payload it carries, read after the fence
                // above, which also makes a message taken from its flagged
                // copy visible in its slot); otherwise the message the
                // handler faulted on, from its staged record, after the
                // fault record and the Failed state (the dead letter's
                // release store publishes them with it, so a host that sees
                // the dead letter sees the actor Failed).
                const rk_envelope_header* req;
                const unsigned char* payload;
                rk_u32 bytes;
                rk_u32 kind = RK_ACTOR_FAULT_BAD_MESSAGE;
                rk_u32 line = 0u;
                rk_u32 column = 0u;
                if (good == 0u) {
                    req = rk_ring_pop_slot(&ctl.inbox, 0u);
                    payload = rk_envelope_payload_const(req);
                    const rk_u32 room = ctl.inbox.slot_size - RK_ENVELOPE_HEADER_SIZE;
                    const rk_u32 size = req->payload_size;
                    bytes = size < room ? size : room;
                } else {
                    req = reinterpret_cast<const rk_envelope_header*>(S::request(done));
                    payload = S::request(done) + RK_ENVELOPE_HEADER_SIZE;
                    bytes = H::message_size;
                    kind = fault.kind;
                    line = fault.line;
                    column = fault.column;
                    rk_control_record_fault(cb, kind, 0u, line, column, req->sequence);
                    l.failed = true;
                    rk_control_set_state(cb, RK_STATE_FAILED);
                }
                l.messages_in += 1u;
                // A handler that replies had the poll take no more messages
                // than free outbox slots (rk_actor_outbox_space), and message
                // `done`'s slot is unused: no wait for one.
                rk_actor_dead_letter(&l, d, req, payload, bytes, kind, line, column,
                                     H::reply_size == 0u);
                if (k2k_batches && ctl.source == RK_ACTOR_SOURCE_K2K) {
                    if (good == 0u) {
                        // The dead letter read the K2K slot itself.
                        rk_actor_k2k_fence_reads<rk_actor_k2k_scope>();
                    }
                    rk_actor_k2k_release<rk_actor_k2k_scope>(&l, done + 1u);
                } else {
                    l.inbox.index += done + 1u;
                    rk_actor_free_inbox(&l, l.tail_seen, true);
                }
            } else if (k2k_batches && ctl.source == RK_ACTOR_SOURCE_K2K) {
                rk_actor_k2k_release<rk_actor_k2k_scope>(&l, done);
            } else {
                l.inbox.index += done;
                rk_actor_free_inbox(&l, l.tail_seen, false); // after the fence
            }
            ++l.heartbeat;
            if (!owe_stats) {
                rk_control_heartbeat(cb, l.heartbeat);
                if (RK_ACTOR_K2K_STATS_CYCLES > 0u) {
                    l.stats_owed = false;
                    l.stats_at = (rk_u64)clock64();
                }
            }
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

// Copies a descriptor into shared memory, a word per thread (`t` of
// `threads`): one struct assignment by one thread kept the whole 104 bytes
// live in its registers, and ptxas spilled in a packed warp actor's entry.
RK_INLINE void rk_actor_desc_copy(rk_actor_desc* dst, const rk_actor_desc* src, rk_u32 t,
                                  rk_u32 threads) {
    static_assert(sizeof(rk_actor_desc) % 8u == 0u, "whole words");
    const rk_u64* from = reinterpret_cast<const rk_u64*>(src);
    rk_u64* to = reinterpret_cast<rk_u64*>(dst);
    for (rk_u32 i = t; i < sizeof(rk_actor_desc) / 8u; i += threads) {
        to[i] = from[i];
    }
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
        rk_actor_desc_copy(&descs[w], &actors[U::index()], U::tid(), 32u);
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
        rk_actor_desc_copy(&desc_copy, &actors[blockIdx.x], rk_thread_id(),
                           blockDim.x * blockDim.y * blockDim.z);
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
