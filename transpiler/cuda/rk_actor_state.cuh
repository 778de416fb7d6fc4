// rk_actor_state.cuh: part of the actor loop, rk_actor.cuh: who runs one actor (a block or a warp: rk_actor_unit), where its messages sit in
// shared memory (rk_actor_shape), the leader's loop state (rk_actor_leader), what it
// publishes to the block per batch (rk_actor_shared), the loop trace's stages.
// Included by rk_actor.cuh only, in order, after its configuration (RK_ACTOR_K2K,
// the tier, the schedules): the parts are one text, split by topic.
#ifndef RK_ACTOR_STATE_CUH
#define RK_ACTOR_STATE_CUH
#ifndef RK_ACTOR_CUH
#error "rk_actor_state.cuh is part of rk_actor.cuh: include that"
#endif

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

// Whether the leader alone may run H's K2K messages (rk_actor_k2k_one):
// H::k2k_lone, written only into the adapters of handlers that have no
// state, no reply, no shared memory, read no thread index and communicate
// through nothing but ctx.send (back/cuda/actor.rs, leader_alone).
template <typename H, typename = void>
struct rk_actor_is_k2k_lone {
    static constexpr bool value = false;
};
template <typename H>
struct rk_actor_is_k2k_lone<H, decltype((void)H::k2k_lone)> {
    static constexpr bool value = H::k2k_lone;
};

// Whether H's K2K messages take the lone path: a K2K system kernel, and a
// handler the back end marked k2k_lone (no state, no reply, no shared
// memory, no thread index, nothing communicating but ctx.send, whose
// effect is the leader's alone): every thread of the unit would compute
// the same thing and fault at the same place, so the leader running it is
// the unit running it.
// (RK_ACTOR_K2K_LONE=0 turns the lone path off: an A/B switch.)
#ifndef RK_ACTOR_K2K_LONE
#define RK_ACTOR_K2K_LONE 1
#endif
template <typename H>
struct rk_actor_k2k_lone {
    static constexpr bool value = RK_ACTOR_K2K && RK_ACTOR_K2K_LONE && rk_actor_is_k2k_lone<H>::value;
};

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
    RK_ACTOR_LONE = 3, // the leader's alone: a K2K message it runs (rk_actor_k2k_one),
                       // never published to the unit
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
// Diagnostics (0, the default, compiles it out): SM cycles warp 0 waits
// after answering a call on the compact path before its next look. A
// closed loop of calls sends the next request only after the reply has
// crossed PCIe and the host has read it, so a look issued at once may
// reach host memory before that request and cost a whole round trip;
// RINGKERNEL_ACTOR_DEFINES measures the trade (BENCHMARKS.md).
#define RK_ACTOR_K2K_SPIN_CYCLES 2048u
// ... and for longer (~4 us) while its last batch came from the K2K inbox:
// a K2K message that lands during a look waits for the look's round trip,
// which the actor-hop anatomy put at up to ~0.8 us per hop (H200, a run in
// which the looks happened to miss the hops: 2.7 us per hop against 3.5);
// a host message then waits up to the longer spin before its look.
#ifndef RK_ACTOR_K2K_SPIN_WARM_CYCLES
#define RK_ACTOR_K2K_SPIN_WARM_CYCLES 8192u
#endif

// Address-space hints on the K2K hop's path (on by default, the inbox hint
// in the block tier only; 0 through RINGKERNEL_ACTOR_DEFINES gives the code
// before them, for an A/B).
// Pointers the loop hands on through memory (the handler's context, ring
// views) reach NVVM as generic addresses, and every access through them is
// a generic LD.E/ST.E that the hardware resolves to shared memory at run
// time, with a longer latency than LDS/STS, serialised against the stores
// around it (the compiler cannot tell the two apart): the hop systems'
// SASS (bench_sources, RINGKERNEL_DUMP_HOP_PTX) had about 25 generic
// accesses per hop on the critical path. A pointer known to be in this
// block's shared memory is told to NVVM with __builtin_assume(__isShared(p))
// (RK_ACTOR_ASSUME_SHARED), which makes its accesses LDS/STS.
//   RK_ACTOR_SEND_SHARED_STATE: in rk_actor_send_to, the leader's state and
//     the descriptor (always the loop's __shared__ copies: rk_actor_main).
//     What it changes is the send out of line (RK_ACTOR_SEND_INLINE=0):
//     inlined, NVVM sees where the pointers come from.
//   RK_ACTOR_K2K_SHARED_INBOX: in the block tier (default; see below for
//     the cluster tier), the consumer's own K2K inbox (this block's dynamic shared memory): its
//     header reads at each K2K batch's publication (B1) and the staging's
//     slot loads. (Not the destination's slot in the block tier's send:
//     STS instead of posted ST.E stores, but ptxas then spilled in three
//     of the K2K suite's block systems, k2k_sources.)
// (Alone, the first made ptxas spill in the K2K-traced block-tier hop
// system, bench_sources; together they assemble without spills.)
#ifndef RK_ACTOR_SEND_SHARED_STATE
#define RK_ACTOR_SEND_SHARED_STATE 1
#endif
// The inbox hint is the block tier's only. In the cluster tier, other
// blocks claim, write and close this inbox over DSMEM, and with the hint
// the consumer's accesses to it became shared::cta ones: the K2K suite's
// `cluster_a_failed_actor_dead_letters_its_k2k_queue_when_stopped` then
// hung at the stop on an H200 in every run (2026-11-22, d9bf27e), and
// passed with the hint off. Why is not established; the hint is left off
// there.
#ifndef RK_ACTOR_K2K_SHARED_INBOX
#define RK_ACTOR_K2K_SHARED_INBOX RK_ACTOR_K2K_BLOCK
#endif
#define RK_ACTOR_ASSUME_SHARED(p) __builtin_assume(__isShared(p))

// The close of a K2K batch without replies stores the message counters and
// the heartbeat to the control block: three writes to mapped host memory
// (PCIe) per hop, issued while the peer's part of the hop runs (on the same
// SM in the block tier). With RK_ACTOR_K2K_STATS_CYCLES > 0 they are
// stored only when that many clock64 cycles have passed since the last
// store, and otherwise owed (rk_actor_leader::stats_owed) until then or
// until the poll finds nothing (the K2K spin ends without a message, an
// empty poll: rk_actor_pay_stats), so under K2K traffic the host sees
// them at most that late and exact once the actor idles; the heartbeat
// still moves at least that often (the watchdog's hang timeout is
// milliseconds or more). Nothing orders them: a K2K batch without replies
// publishes nothing to the host (dead letters store the counters
// themselves). 0, the default, stores them every batch, as before: the A/B
// (RINGKERNEL_ACTOR_DEFINES=RK_ACTOR_K2K_STATS_CYCLES=65536, ~35 us at
// 1.9 GHz; H200, BENCHMARKS.md) gained 1.5 % in the global tier and
// nothing in the shared ones, not worth a staler heartbeat.
#ifndef RK_ACTOR_K2K_STATS_CYCLES
#define RK_ACTOR_K2K_STATS_CYCLES 0u
#endif

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
// RK_ACTOR_TRACE 2 (RINGKERNEL_ACTOR_TRACE=k2k) times the K2K batches
// instead, with the same stages (a K2K batch is "seen" when the poll takes
// it; its handlers' sends are in the handler stage); host batches then
// count as idle. One kind at a time: the two share the accumulators.
#define RK_ACTOR_TRACE_K2K (RK_ACTOR_TRACE == 2)
// Whether a batch from `source` (RK_ACTOR_SOURCE_*) is traced.
#define RK_ACTOR_TRACED_SOURCE(source) \
    (RK_ACTOR_TRACE && (((source) == RK_ACTOR_SOURCE_K2K) == RK_ACTOR_TRACE_K2K))
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
// rk_actor_leader::route_port before any send has opened a route.
#define RK_ACTOR_NO_ROUTE 0xFFFFFFFFu

// Whether a sole route's sender (RK_ROUTE_SOLE_PRODUCER) claims by its own
// count and announces the position on tail after issuing its stores
// (rk_actor_send_to), instead of a CAS before them: the global tier, where
// that CAS is a trip to L2. (RK_ACTOR_K2K_SOLE=0 claims every route by CAS:
// an A/B switch.) Not the shared tiers: in one block the CAS is a short
// trip and the roles are at their register bound; across a cluster the
// 64-bit DSMEM atomic measured slower (+66 ns a hop, H100), its result
// waited for at once.
#ifndef RK_ACTOR_K2K_SOLE
#define RK_ACTOR_K2K_SOLE 1
#endif
#define RK_ACTOR_K2K_SOLE_ROUTES (RK_ACTOR_K2K && !RK_ACTOR_K2K_MBAR && RK_ACTOR_K2K_SOLE)

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
    // The outbox's flagged copies, when it has them and a warp's lanes
    // cover a slot's words; null otherwise (rk_actor_call_one).
    rk_u64* out_ll;
    // Batches invalidate the flagged copies of outbox indices below this
    // one only: one lap past the last copy rk_actor_call_one wrote (and,
    // from the start, one lap past the first index, whatever the copies
    // held). Every copy is then invalidated when its slot is first reused
    // by a batch, which is all the 2^32 wrap needs (rk_actor_write_replies),
    // and a stream writes no invalidations after its first lap.
    rk_u64 copy_until;
    rk_u64 tail_seen;    // the largest inbox tail read from memory
    rk_u64 head_stored;  // the inbox head last stored (<= tail_seen)
    rk_u64 look_tail;    // the tail the last look read (fenced when > index)
    rk_u32 look;         // RK_ACTOR_LOOK_*
    rk_u32 empty;        // the poll's empty polls since the last batch
    rk_u32 sleep;        // its backoff sleep (ns)
    rk_u32 batch;        // messages staged per poll at most
    rk_u32 restarts_seen;
    bool failed;
    bool stats_owed;     // counters and heartbeat not stored yet (RK_ACTOR_K2K_STATS_CYCLES)
    bool k2k_turn;       // poll the K2K inbox first next time (fairness)
    bool k2k_last;       // the last batch came from the K2K inbox (rk_actor_k2k_spin)
    rk_actor_k2k_inbox* k2k; // the K2K inbox (other actors' messages), or null; in a
                             // cluster- or block-placed system in this block's shared memory
    rk_u64 k2k_head;     // its next position to consume
    rk_u64 k2k_mask;
    rk_u64 sent;         // messages this actor sent (ctx.send, ctx.try_send)
    rk_u64 stats_at;     // clock64 at the last counters and heartbeat store (RK_ACTOR_K2K_STATS_CYCLES)
    // The route the last send opened (rk_actor_send_to): its port and
    // message size (RK_ACTOR_NO_ROUTE: none yet), the header fields it
    // gives and the inbox as the sender sees it. The route table and every
    // inbox's geometry are fixed from the start (a closed inbox is told by
    // its tail, at the claim), so the next send on that port skips the
    // route checks and the header reads: measured 0.4-0.8 us per send
    // (H200 loop trace, BENCHMARKS.md). One entry: a handler that sends on
    // one port (a pipeline stage) hits it every time; others pay the
    // checks as before.
    rk_u32 route_port;
    rk_u32 route_size;
    rk_u32 route_type_id;
    rk_u32 route_dest;
    rk_actor_k2k_ref route_ref;
#if RK_ACTOR_K2K_SOLE_ROUTES
    // The route's RK_ROUTE_SOLE_PRODUCER: its sends claim by count and
    // announce (rk_actor_send_to).
    rk_u32 route_sole;
#endif
    // Per port (the first RK_ACTOR_K2K_GUESSES), where the next reserve in
    // the destination's inbox starts: one past this actor's last claim
    // there, or where it last found the inbox full (rk_k2k_credit's and
    // rk_k2k_mbar_mp's tail_guess: never above the inbox's tail; a port past
    // these starts at 0).
    rk_u64 k2k_guess[RK_ACTOR_K2K_GUESSES];
    // Per port likewise, the claim's free_until (rk_k2k_mbar_mp,
    // rk_k2k_credit): positions below it are known free (a head read +
    // capacity; 0: read head first).
    rk_u64 k2k_free[RK_ACTOR_K2K_GUESSES];
#if RK_ACTOR_K2K && !RK_ACTOR_K2K_MBAR
    // Global tier: head + 1 when the idle spin acquire-loaded the head's
    // sequence word committed (rk_actor_k2k_spin), so the receipt need not
    // load it again; anything else otherwise.
    rk_u64 k2k_seen;
#endif
#if RK_ACTOR_K2K_MBAR
    // The consumer's view of its mbarrier inbox (rk_k2k_mbar_rx): the
    // shared::cta addresses of full[0] and of its credit array (in this
    // block's layout; a cluster inbox's copies are at the same offset in
    // every rank of credit_ranks), log2(capacity).
    rk_u32 k2k_full_sa;
    rk_u32 k2k_credit_sa;
    rk_u32 k2k_credit_ranks;
    rk_u32 k2k_lap_shift;
#endif
#if RK_ACTOR_TRACE
    rk_u64 trace_at;     // when the current stage began (clock64)
    rk_u64 trace_seen_clock; // %globaltimer when the batch was seen
    alignas(16) rk_u32 trace[RK_ACTOR_TRACE_WORDS]; // RK_ACTOR_TRACE_* accumulators
    bool trace_send;     // the lone path runs the handler: its send marks its steps
#endif
};

// `copy_until` for a copy about to be written at the outbox's next index
// (or, at the start, for whatever the copies hold): the index one lap
// later, that copy's slot's first reuse, is the last a batch invalidates.
RK_INLINE rk_u64 rk_actor_copy_lap_end(const rk_actor_leader* l) {
    return l->outbox.index + (rk_u64)l->outbox.mask + 2u;
}

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

// rk_actor_trace_mark on a path only host messages take (the look, the
// compact call path): nothing when the trace times K2K batches.
RK_INLINE void rk_actor_trace_host_mark(rk_actor_leader* l, rk_u32 k) {
    if (!RK_ACTOR_TRACE_K2K) {
        rk_actor_trace_mark(l, k);
    }
}

// Diagnostics: rk_actor_trace_mark on the lone path, which only K2K
// messages take: nothing unless the trace times K2K batches.
RK_INLINE void rk_actor_trace_k2k_mark(rk_actor_leader* l, rk_u32 k) {
    if (RK_ACTOR_TRACE_K2K) {
        rk_actor_trace_mark(l, k);
    }
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

#endif // RK_ACTOR_STATE_CUH
