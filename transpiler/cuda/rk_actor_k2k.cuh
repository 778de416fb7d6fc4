// rk_actor_k2k.cuh: part of the actor loop, rk_actor.cuh: kernel-to-kernel messages: ctx.send / ctx.try_send through the route table, the
// K2K inbox's consume, release, spin, close and shutdown, the shared-memory tiers' layout.
// Included by rk_actor.cuh only, in order, after its configuration (RK_ACTOR_K2K,
// the tier, the schedules): the parts are one text, split by topic.
#ifndef RK_ACTOR_K2K_CUH
#define RK_ACTOR_K2K_CUH
#ifndef RK_ACTOR_CUH
#error "rk_actor_k2k.cuh is part of rk_actor.cuh: include that"
#endif

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
    rk_actor_copy_message(rk_envelope_payload(slot), msg, size);
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

#endif // RK_ACTOR_K2K_CUH
