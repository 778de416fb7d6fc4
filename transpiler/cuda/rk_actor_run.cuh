// rk_actor_run.cuh: part of the actor loop, rk_actor.cuh: running the handler over a batch under its schedule, the compact path
// (rk_actor_call_one: one call answered by warp 0), and the lone path (rk_actor_k2k_one: one
// K2K message run by the leader alone).
// Included by rk_actor.cuh only, in order, after its configuration (RK_ACTOR_K2K,
// the tier, the schedules): the parts are one text, split by topic.
#ifndef RK_ACTOR_RUN_CUH
#define RK_ACTOR_RUN_CUH
#ifndef RK_ACTOR_CUH
#error "rk_actor_run.cuh is part of rk_actor.cuh: include that"
#endif

// ---- running the handler over a batch ----

// Runs the handler over staged messages [0, count) under H::schedule, reply
// i into S::reply(i) (shared memory). Returns the index of the message the
// handler faulted on, or `count`; the same value in every thread. `fault`
// is the block's fault record, clear on entry.
// One loop for both passes (the handler inlined once: NVRTC compiles each
// copy): the schedule's pass, then, if a message faulted there, the
// in-order pass, which stops at the first faulting message and rewrites the
// replies before it (an IN_ORDER handler's first pass is that one).
template <typename H>
RK_INLINE rk_u32 rk_actor_run_batch(const rk_actor_desc* d, rk_actor_leader* l, rk_u32 count,
                                    rk_fault_record* fault) {
    using S = rk_actor_shape<H>;
    using U = rk_actor_unit_of<H>;
    const rk_u32 tid = U::tid();
    const rk_u32 threads = U::threads();
    const bool uniform = H::schedule == RK_ACTOR_SCHEDULE_UNIFORM;
    bool in_order = H::schedule == RK_ACTOR_SCHEDULE_IN_ORDER;
    for (;;) {
        const rk_u32 first = !in_order && uniform ? tid : 0u;
        const rk_u32 step = !in_order && uniform ? threads : 1u;
        bool faulted = false;
        for (rk_u32 i = first; i < count && !faulted; i += step) {
            rk_actor_ctx f;
            f.record = fault;
            f.faulted = false;
            f.env = S::env(i);
            f.desc = d;
            f.leader = l;
            H::run(&f, d->state, S::request(i) + RK_ENVELOPE_HEADER_SIZE, S::reply(i),
                   (!in_order && uniform) || tid == 0u);
            if (in_order) {
                // The barrier also orders this message's state writes before
                // the next message's reads.
                if (U::sync_or(f.faulted)) {
                    return i;
                }
            } else {
                faulted = f.faulted;
            }
        }
        if (in_order || !U::sync_or(faulted)) {
            return count;
        }
        // Some message faulted: the batch again, in order.
        if (tid == 0u) {
            fault->state = 0u;
        }
        U::sync();
        in_order = true;
    }
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
        rk_actor_trace_host_mark(l, RK_ACTOR_TRACE_POLL);
        rk_actor_trace_host_mark(l, RK_ACTOR_TRACE_PUBLISH);
        rk_actor_trace_host_mark(l, RK_ACTOR_TRACE_STAGE);
        const rk_hlc_clock before = l->clock;
        fault->state = 0u;
        const rk_u64 pt = rk_hlc_physical_now(&l->clock);
        if (rk_actor_receive_one<H>(l, d, pt) != 0u) {
            rk_actor_trace_host_mark(l, RK_ACTOR_TRACE_RECEIVE);
            rk_actor_ctx f;
            f.record = fault;
            f.faulted = false;
            f.env = S::env(0);
            f.desc = d;
            f.leader = l;
            H::run(&f, d->state, S::request(0) + RK_ENVELOPE_HEADER_SIZE, S::reply(0), true);
            rk_actor_trace_host_mark(l, RK_ACTOR_TRACE_HANDLER);
            if (RK_LIKELY(!f.faulted)) {
                stamp = rk_hlc_send(&l->clock, rk_hlc_physical_now(&l->clock));
                rk_actor_trace_host_mark(l, RK_ACTOR_TRACE_STAMP);
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
    rk_actor_u4 mine = {0u, 0u, 0u, 0u}; // this lane's word of the slot (the last, if several)
    #pragma unroll 1
    for (rk_u32 w = lane; w < words; w += lanes) {
        const unsigned char* from = w < RK_ACTOR_HEADER_WORDS
                                        ? reinterpret_cast<const unsigned char*>(header) + 16u * w
                                        : S::reply(0) + 16u * (w - RK_ACTOR_HEADER_WORDS);
        mine = *reinterpret_cast<const rk_actor_u4*>(from);
        slot[w] = mine;
    }
    // The reply's flagged copy too, when the outbox has them (rk_ring.cuh;
    // slots of at most 128 bytes, so one pass of the loop above; a lane per
    // copy word, or the host takes the reply by the tail): copy word k is 4-byte part k % 4 of slot word
    // k / 4, taken from the lane that wrote it, with the flag
    // (u32)(index + 1); words past the envelope copy zeros. One 8-byte
    // store per lane, one warp-wide store (two full 128-byte lines: lanes
    // storing 16-byte halves of the copy made the round trip 0.4 us
    // slower). The host takes the reply from it as soon as every word has
    // landed, without waiting for the fence and the tail below: H200,
    // alternating processes, echo64 round trip 2.9-3.1 us (0.94-1.13x the
    // floor) with it, 4.0-4.3 us (1.30-1.54x) without (BENCHMARKS.md). (32-bit index arithmetic: the
    // slot and the flag need only the low bits, and the look's registers
    // are few.)
    const rk_u32 cw = l->outbox.slot_size / 4u; // copy words (<= 32 with a copy)
    if (l->out_ll != nullptr && lanes >= cw) {
        const rk_u32 index = (rk_u32)l->outbox.index;
        const rk_u32 from = (lane / 4u) & 7u;
        const rk_u32 x = __shfl_sync(mask, mine.x, from);
        const rk_u32 y = __shfl_sync(mask, mine.y, from);
        const rk_u32 z = __shfl_sync(mask, mine.z, from);
        const rk_u32 w = __shfl_sync(mask, mine.w, from);
        const rk_u32 part = lane % 4u;
        const rk_u32 v = part == 0u ? x : part == 1u ? y : part == 2u ? z : w;
        if (lane < cw) {
            rk_st_relaxed_sys_u64(l->out_ll + ((index & l->outbox.mask) * cw + lane),
                                  ((rk_u64)(index + 1u) << 32) | (lane / 4u < words ? v : 0u));
        }
        if (lane == 0u) {
            // Batches invalidate this copy when they first reuse its slot.
            l->copy_until = rk_actor_copy_lap_end(l);
        }
    }
    // Orders every lane's slot writes before lane 0's fence (bar.warp.sync
    // orders memory among the lanes it synchronises, as B5 does the block's).
    __syncwarp(mask);
    if (lane == 0u) {
        rk_actor_trace_host_mark(l, RK_ACTOR_TRACE_WRITE);
        rk_control_block* cb = d->control;
        l->messages_in += 1u;
        l->messages_out += 1u;
        l->sequence += 1u;
        rk_control_set_counters(cb, l->messages_in, l->messages_out);
        rk_actor_trace_host_mark(l, RK_ACTOR_TRACE_COUNTERS);
        // The release pattern of both rings, as the loop's close: the fence
        // orders the reply's writes and the request's reads (its flagged
        // copy, and the staged record it came from) before both stores.
        rk_fence_acq_rel_sys();
        rk_actor_trace_host_mark(l, RK_ACTOR_TRACE_FENCE);
        l->outbox.index += 1u;
        rk_st_relaxed_sys_u64(&l->outbox.header->tail, l->outbox.index);
        rk_actor_trace_host_mark(l, RK_ACTOR_TRACE_TAIL);
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
        if (!RK_ACTOR_TRACE_K2K) {
            rk_actor_trace_close(l, cb);
        }
    }
    __syncwarp(mask);
    return true;
}

// ---- one K2K message by the leader alone (the lone path) ----

// The slot at the leader's K2K head (the next message to consume). No
// address-space assumption here, though the block tier's slot is in
// shared memory: with RK_ACTOR_ASSUME_SHARED on it, NVVM compiled the
// block tier's rk_actor_k2k_one to nothing but the fault record's reset
// (bench_sources checks its body), and the actor spun on its first message.
RK_INLINE const unsigned char* rk_actor_k2k_head_slot(const rk_actor_leader* l) {
    const unsigned char* slot =
        rk_actor_k2k_slots(l) + (rk_u64)(l->k2k_head & l->k2k_mask) * rk_actor_k2k_slot_size(l);
    return slot;
}

// The next K2K message (committed at the leader's K2K head, its reads
// ordered after the producer's writes by rk_actor_k2k_available), run by
// the leader alone while the rest of the unit waits at the loop's B1, as
// it waits while the leader polls: the header check and the HLC receive
// rule of rk_actor_receive_one, the handler on the message in its slot
// (no staging copy: only this thread reads the slot, before it releases
// it, as rk_actor_stage_shared's copy did), then the loop's close for a
// batch of one without replies (counters, the K2K read fence, the slot's
// release, the heartbeat). A message that is not this actor's is
// dead-lettered with BAD_MESSAGE, one the handler faulted on with the
// fault (recorded, the actor Failed, its sends before the fault stand), as
// the loop's close dead-letters them. The same effects, clock steps and
// order as the loop's IN_ORDER run of a batch of one (its sends are the
// leader's there too), without the five barriers, the publication, the
// staging copy and the other threads' copy of the handler.
// Inlined into the loop (RK_ACTOR_K2K_ONE_INLINE=0 puts it out of line,
// as the look is): the call and the registers saved around it cost 113 /
// 46 / 104 ns a hop (shared / DSMEM / global; H100, one process per
// setting, `--quick --only k2k`), and every hop and suite system compiles
// without spills inlined (bench_sources, k2k_sources). (It was kept out of
// line for a while because the K2K suite hung with it inlined, 3 runs in
// 12; the hang was the host's: a handle's drop racing the supervisor's
// watchdog skipped a stop, inlined or not, 1 run in 40 out of line.)
#ifndef RK_ACTOR_K2K_ONE_INLINE
#define RK_ACTOR_K2K_ONE_INLINE 1
#endif
#if RK_ACTOR_K2K_ONE_INLINE
#define RK_ACTOR_K2K_ONE_LINKAGE __forceinline__
#else
#define RK_ACTOR_K2K_ONE_LINKAGE __noinline__
#endif

template <typename H>
__device__ RK_ACTOR_K2K_ONE_LINKAGE void rk_actor_k2k_one(const rk_actor_desc* d, rk_actor_leader* l,
                                              rk_fault_record* fault) {
#if RK_ACTOR_K2K
    using S = rk_actor_shape<H>;
    using K = rk_actor_k2k_scope;
    rk_actor_trace_k2k_mark(l, RK_ACTOR_TRACE_PUBLISH);
    rk_actor_trace_k2k_mark(l, RK_ACTOR_TRACE_STAGE);
    fault->state = 0u;
    // Nothing of the receipt is kept across the handler (the slot is found
    // again from the head after it): registers live across its calls are
    // saved around them, and the loop's roles are at their register limit.
    bool good;
    bool faulted = false;
    {
        const unsigned char* slot = rk_actor_k2k_head_slot(l);
        const rk_envelope_header* h = reinterpret_cast<const rk_envelope_header*>(slot);
        good = h->type_id == d->message_type_id && h->payload_size == H::message_size;
        if (good) {
            rk_actor_env* env = S::env(0);
            env->actor_id = d->actor_id;
            env->received = rk_hlc_receive(&l->clock, &h->hlc, rk_hlc_physical_now(&l->clock));
            rk_actor_trace_k2k_mark(l, RK_ACTOR_TRACE_RECEIVE);
            rk_actor_ctx f;
            f.record = fault;
            f.faulted = false;
            f.env = env;
            f.desc = d;
            f.leader = l;
#if RK_ACTOR_TRACE_K2K
            l->trace_send = true; // its send marks its steps (rk_actor_send_mark)
#endif
            H::run(&f, d->state, slot + RK_ENVELOPE_HEADER_SIZE, S::reply(0), true);
#if RK_ACTOR_TRACE_K2K
            l->trace_send = false;
#endif
            faulted = f.faulted;
        } else {
            rk_actor_trace_k2k_mark(l, RK_ACTOR_TRACE_RECEIVE);
        }
    }
    rk_actor_trace_k2k_mark(l, RK_ACTOR_TRACE_HANDLER);
    rk_actor_trace_k2k_mark(l, RK_ACTOR_TRACE_STAMP);
    rk_actor_trace_k2k_mark(l, RK_ACTOR_TRACE_WRITE);
    rk_control_block* cb = d->control;
    l->messages_in += 1u;
    // The counters as the loop's close stores them (owed under
    // RK_ACTOR_K2K_STATS_CYCLES, never by default).
    const bool owe_stats = RK_ACTOR_K2K_STATS_CYCLES > 0u && good && !faulted &&
                           (rk_u64)clock64() - l->stats_at < RK_ACTOR_K2K_STATS_CYCLES;
    if (owe_stats) {
        l->stats_owed = true;
    } else {
        rk_control_set_counters(cb, l->messages_in, l->messages_out);
    }
    rk_actor_trace_k2k_mark(l, RK_ACTOR_TRACE_COUNTERS);
    if (RK_UNLIKELY(!good || faulted)) {
        // Dead-lettered from its slot (the payload the envelope says, at
        // most the slot's; the message's own size when it faulted), after
        // the fault record and the Failed state, which the dead letter's
        // release store publishes with it.
        const unsigned char* slot = rk_actor_k2k_head_slot(l);
        const rk_envelope_header* h = reinterpret_cast<const rk_envelope_header*>(slot);
        const rk_u32 room = rk_actor_k2k_slot_size(l) - RK_ENVELOPE_HEADER_SIZE;
        rk_u32 bytes = h->payload_size < room ? h->payload_size : room;
        rk_u32 kind = RK_ACTOR_FAULT_BAD_MESSAGE;
        rk_u32 line = 0u;
        rk_u32 column = 0u;
        if (faulted) {
            bytes = H::message_size;
            kind = fault->kind;
            line = fault->line;
            column = fault->column;
            rk_control_record_fault(cb, kind, 0u, line, column, h->sequence);
            l->failed = true;
            rk_control_set_state(cb, RK_STATE_FAILED);
        }
        rk_actor_dead_letter(l, d, h, slot + RK_ENVELOPE_HEADER_SIZE, bytes, kind, line, column,
                             true);
    }
    // Every read of the slot (the handler's, the dead letter's) before its
    // release: the global tier's fence; the mbarrier tiers' empty arrive
    // is a release.
    rk_actor_k2k_fence_reads<K>();
    rk_actor_trace_k2k_mark(l, RK_ACTOR_TRACE_FENCE);
    rk_actor_trace_k2k_mark(l, RK_ACTOR_TRACE_TAIL);
    rk_actor_k2k_release<K>(l, 1u);
    ++l->heartbeat;
    if (!owe_stats) {
        rk_control_heartbeat(cb, l->heartbeat);
        if (RK_ACTOR_K2K_STATS_CYCLES > 0u) {
            l->stats_owed = false;
            l->stats_at = (rk_u64)clock64();
        }
    }
    if (RK_ACTOR_TRACE_K2K) {
        rk_actor_trace_close(l, cb);
    }
#else
    (void)d;
    (void)l;
    (void)fault;
#endif
}

#endif // RK_ACTOR_RUN_CUH
