// rk_actor_poll.cuh: part of the actor loop, rk_actor.cuh: the leader's poll: the idle look at the host inbox's flagged copies (which answers a
// lone call on the compact path), freeing inbox slots, the wait for the next batch.
// Included by rk_actor.cuh only, in order, after its configuration (RK_ACTOR_K2K,
// the tier, the schedules): the parts are one text, split by topic.
#ifndef RK_ACTOR_POLL_CUH
#define RK_ACTOR_POLL_CUH
#ifndef RK_ACTOR_CUH
#error "rk_actor_poll.cuh is part of rk_actor.cuh: include that"
#endif

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
                rk_actor_trace_host_mark(l, RK_ACTOR_TRACE_IDLE);
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
                rk_actor_trace_host_mark(l, RK_ACTOR_TRACE_LOOKED);
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

// Stores the counters and the heartbeat that K2K batches left owed
// (RK_ACTOR_K2K_STATS_CYCLES); nothing when none are (or never, by default).
RK_INLINE void rk_actor_pay_stats(rk_actor_leader* l, rk_control_block* cb) {
    if (RK_ACTOR_K2K_STATS_CYCLES > 0u && l->stats_owed) {
        rk_control_set_counters(cb, l->messages_in, l->messages_out);
        rk_control_heartbeat(cb, l->heartbeat);
        l->stats_owed = false;
        l->stats_at = (rk_u64)clock64();
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
// the free outbox slots when the handler replies), RK_ACTOR_LONE (the K2K
// message at the head is the leader's alone to run: rk_actor_k2k_lone), or
// RK_ACTOR_EXIT.
template <typename H>
__device__ __forceinline__ rk_u32 rk_actor_poll(rk_actor_leader* l, const rk_actor_desc* d,
                                             rk_u32* count, rk_u32* source) {
    rk_control_block* cb = d->control;
    // Kept across returns for a look (RK_ACTOR_LOOK), reset by a batch.
    rk_u32& empty = l->empty;
    rk_u32& sleep = l->sleep;
    // A K2K message the leader runs alone is taken one at a time.
    const rk_u32 k2k_most = rk_actor_k2k_lone<H>::value ? 1u : l->batch;
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
        rk_u32 k = k2k_first ? rk_actor_k2k_ready(l, k2k_most) : 0u;
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
                            rk_actor_pay_stats(l, cb); // idle
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
            k = rk_actor_k2k_ready(l, k2k_most);
            from = RK_ACTOR_SOURCE_K2K;
        }
        if (k > 0u) {
            if (rk_actor_k2k_lone<H>::value && from == RK_ACTOR_SOURCE_K2K) {
                // The leader runs it alone (rk_actor_k2k_one, called by the
                // loop) and polls again: the unit stays at B1.
                rk_actor_trace_k2k_mark(l, RK_ACTOR_TRACE_IDLE);
                rk_actor_trace_k2k_mark(l, RK_ACTOR_TRACE_LOOKED);
                rk_actor_trace_k2k_mark(l, RK_ACTOR_TRACE_POLL);
                l->k2k_last = true;
                empty = 0u;
                sleep = 32u;
                return RK_ACTOR_LONE;
            }
            if constexpr (H::reply_size > 0u) {
                // No more than the outbox can take (waits for one slot).
                const rk_u32 space = rk_actor_outbox_space(l, cb, k);
                k = k < space ? k : space;
            }
            *count = k;
            *source = from;
            l->k2k_last = from == RK_ACTOR_SOURCE_K2K;
            if (RK_ACTOR_TRACED_SOURCE(from)) {
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
        rk_actor_pay_stats(l, cb); // idle
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

#endif // RK_ACTOR_POLL_CUH
