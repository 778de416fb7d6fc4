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
// An actor with senders has a K2K inbox next to its host inbox; the loop
// takes batches from both in turn. A handler's `ctx.send(port, &msg)`
// (or `ctx.try_send`) goes through route `port` of the actor's table
// (built by the host from the system's wiring), from the leader thread,
// stamped by the actor's clock. The inbox by tier (RK_ACTOR_K2K_MBAR):
//   * global memory (Placement::Gpu): rk_k2k.cuh's credit claim, a
//     multi-producer queue whose slots are committed by a sequence word each
//     (release store, acquire load) and handed back by head: a claim is a
//     CAS on tail under a head credit, one trip to L2 (rk_k2k_credit_try_claim);
//   * shared memory and DSMEM (Placement::Block, Placement::Cluster):
//     rk_k2k_mbar.cuh's multi-producer inbox: a full mbarrier per slot in
//     the inbox, the empty ("credit") barriers in the sender's block (every
//     sending block of a cluster keeps a copy, the consumer arrives on each:
//     rk_actor_desc::k2k_credit_ranks), a claim is a CAS on tail under a
//     head credit, the payload moves by plain stores and loads: racecheck
//     sees every handoff. Every slot read of a batch (the staging copies,
//     by all the actor's threads) is ordered before the empty arrive by the
//     loop's barriers: the leader arrives after them (rk_actor_k2k_release).
// Closing: an actor that terminates marks its K2K tail closed (bit 63:
// RK_ACTOR_K2K_CLOSED, rk_k2k_mbar's RK_K2K_MBAR_CLOSED_BIT), with a CAS
// from its head that succeeds only when no slot is reserved past what it
// consumed, so a later send fails to reserve and reports the destination
// as gone instead of queueing a message nobody will read.
//
// Every function below is a template over the scope tag K (rk_sync.cuh):
// the kernel instantiates them with rk_actor_k2k_scope, cta, cluster or
// gpu by the system's placement. In a cluster-placed system an actor's
// inbox is laid out by its own block at start (rk_actor_k2k_cluster_open,
// with every credit array of the system: rk_actor_k2k_credits_open) and
// senders reach it through mapa; since other blocks may touch it until
// they end, no block of the cluster returns before all of them are done
// (rk_actor_cluster_exit).

// Bit 63 of a K2K tail: the consumer has terminated.
#define RK_ACTOR_K2K_CLOSED 0x8000000000000000ull
#if RK_ACTOR_K2K_MBAR
static_assert(RK_ACTOR_K2K_CLOSED == RK_K2K_MBAR_CLOSED_BIT, "one closed bit");
#elif RK_ACTOR_K2K
static_assert(RK_ACTOR_K2K_CLOSED == RK_K2K_CLOSED_BIT, "one closed bit");
#endif

// The leader's K2K inbox as its consumer reads it: in the shared tiers,
// this block's dynamic shared memory (RK_ACTOR_K2K_SHARED_INBOX tells NVVM
// so: its header reads at every K2K batch's publication are LDS, not
// generic loads).
RK_INLINE const rk_actor_k2k_inbox* rk_actor_k2k_own(const rk_actor_leader* l) {
    const rk_actor_k2k_inbox* q = l->k2k;
#if RK_ACTOR_K2K_MBAR && RK_ACTOR_K2K_SHARED_INBOX
    RK_ACTOR_ASSUME_SHARED(q);
#endif
    return q;
}

// The slots of the leader's K2K inbox, and its slot size.
RK_INLINE unsigned char* rk_actor_k2k_slots(const rk_actor_leader* l) {
#if !RK_ACTOR_K2K
    (void)l;
    return nullptr;
#elif RK_ACTOR_K2K_MBAR
    return reinterpret_cast<unsigned char*>(l->k2k) + RK_K2K_MBAR_SLOTS_OFFSET(rk_actor_k2k_own(l)->capacity);
#else
    return reinterpret_cast<unsigned char*>(l->k2k) + rk_k2k_slots_offset(l->k2k->capacity);
#endif
}
RK_INLINE rk_u32 rk_actor_k2k_slot_size(const rk_actor_leader* l) {
#if !RK_ACTOR_K2K
    (void)l;
    return 0u;
#elif RK_ACTOR_K2K_MBAR
    return rk_actor_k2k_own(l)->msg_bytes;
#else
    return l->k2k->slot_size;
#endif
}

#if RK_ACTOR_K2K_MBAR
// The parity of position `pos`'s lap (rk_k2k_mbar.cuh: the full barrier's
// phase L completes when lap L is committed).
RK_INLINE rk_u32 rk_actor_k2k_parity(const rk_actor_leader* l, rk_u64 pos) {
    return (rk_u32)(pos >> l->k2k_lap_shift) & 1u;
}
#endif

// How many consecutive slots from the leader's K2K head are committed (at
// most `most`), each read afterwards ordered after its producer's writes.
// mbarrier tiers: test_wait.acquire on each slot's full barrier in turn.
// Global tier: the head's sequence word by an acquire load; when it is
// committed and more may be taken, the next words by relaxed loads, eight
// at a time so their latencies overlap, then one fence if any of those is
// committed: the acquire pattern that orders their slot reads after their
// producers' commits. Why the head's word apart: a GPU-scope fence is a
// MEMBAR.ALL.GPU (~710 cycles on an H100, in the receipt of every K2K
// message before), an acquire load a strong load and an L1 invalidate, so a
// message that arrives alone (a hop) is taken without the fence. When the
// idle spin (rk_actor_k2k_spin) has just acquire-loaded the head's word
// committed (l->k2k_seen), it is not loaded again: one trip to L2 less on
// the way from a hop's arrival to its handler.
template <class K>
RK_INLINE rk_u32 rk_actor_k2k_available(rk_actor_leader* l, rk_u32 most) {
#if !RK_ACTOR_K2K
    (void)l;
    (void)most;
    return 0u;
#elif RK_ACTOR_K2K_MBAR
    rk_u32 n = 0u;
    #pragma unroll 1
    while (n < most) {
        const rk_u64 pos = l->k2k_head + n;
        const rk_u32 sa = l->k2k_full_sa + 8u * (rk_u32)(pos & l->k2k_mask);
        if (!rk_mbar_io<K>::test(sa, rk_actor_k2k_parity(l, pos))) {
            break;
        }
        ++n;
    }
    return n;
#else
    const rk_u64* seq = rk_k2k_seq_(l->k2k);
    const rk_u64 head = l->k2k_head;
    // The first eight words in one round trip: the seven after the head's
    // first (relaxed loads may be issued before the acquire; loads after it
    // may not), then the head's (acquire).
    rk_u64 s[8];
    #pragma unroll
    for (rk_u32 j = 1u; j < 8u; ++j) {
        s[j] = most > 1u ? K::ld_relaxed(&seq[(head + j) & l->k2k_mask]) : 0u;
    }
    s[0] = l->k2k_seen == head + 1u ? head + 1u : K::ld_acquire(&seq[head & l->k2k_mask]);
    if (most == 0u || s[0] != head + 1u) {
        return 0u;
    }
    rk_u32 n = 1u;
    rk_u32 j = 1u;
    while (j < 8u && n < most && s[j] == head + n + 1u) {
        ++j;
        ++n;
    }
    #pragma unroll 1
    while (j == 8u && n < most) {
        #pragma unroll
        for (rk_u32 k = 0u; k < 8u; ++k) {
            s[k] = K::ld_relaxed(&seq[(head + n + k) & l->k2k_mask]);
        }
        j = 0u;
        while (j < 8u && n < most && s[j] == head + n + 1u) {
            ++j;
            ++n;
        }
    }
    if (n > 1u) {
        K::fence_acq_rel();
    }
    return n;
#endif
}

// The K2K messages the loop may take now, at most `most`: 0 without a K2K
// inbox (or without K2K paths in this kernel).
RK_INLINE rk_u32 rk_actor_k2k_ready(rk_actor_leader* l, rk_u32 most) {
#if !RK_ACTOR_K2K
    (void)l;
    (void)most;
    return 0u;
#else
    if (l->k2k == nullptr) {
        return 0u;
    }
    return rk_actor_k2k_available<rk_actor_k2k_scope>(l, most);
#endif
}

// Idle with a K2K inbox, before a look at the host inbox: polls the next
// K2K slot (its full barrier, test_wait; in the global tier its sequence
// word by acquire loads, in the inbox's own memory, never over PCIe: the
// one that finds it committed is the acquire rk_actor_k2k_available would
// make, so it records that in l->k2k_seen) for
// RK_ACTOR_K2K_SPIN_CYCLES, or RK_ACTOR_K2K_SPIN_WARM_CYCLES while the
// last batch came from there (the traffic is K2K: look at the host inbox
// less often); true as soon as a message is committed there.
RK_INLINE bool rk_actor_k2k_spin(rk_actor_leader* l) {
#if !RK_ACTOR_K2K
    (void)l;
    return false;
#else
    const rk_u64 head = l->k2k_head;
#if RK_ACTOR_K2K_MBAR
    const rk_u32 sa = l->k2k_full_sa + 8u * (rk_u32)(head & l->k2k_mask);
    const rk_u32 parity = rk_actor_k2k_parity(l, head);
#else
    const rk_u64* seq = rk_k2k_seq_(l->k2k);
#endif
    const rk_u64 start = (rk_u64)clock64();
    const rk_u64 cycles = l->k2k_last ? RK_ACTOR_K2K_SPIN_WARM_CYCLES : RK_ACTOR_K2K_SPIN_CYCLES;
    #pragma unroll 1
    do {
#if RK_ACTOR_K2K_MBAR
        if (rk_mbar_io<rk_actor_k2k_scope>::test(sa, parity)) {
            return true;
        }
#else
        if (rk_actor_k2k_scope::ld_acquire(&seq[head & l->k2k_mask]) == head + 1u) {
            l->k2k_seen = head + 1u;
            return true;
        }
#endif
    } while ((rk_u64)clock64() - start < cycles);
    return false;
#endif
}

// Orders the leader's (and, through the barrier before it, every thread's)
// reads of consumed K2K slots before their release. The mbarrier tiers
// need nothing: the empty arrive is a release (cumulative over the
// barrier), and that arrive is what racecheck sees.
template <class K>
RK_INLINE void rk_actor_k2k_fence_reads() {
#if RK_ACTOR_K2K && !RK_ACTOR_K2K_MBAR
    K::fence_acq_rel();
#endif
}

// Hands `n` consumed K2K slots back to the producers (their next lap).
// Every read of them happened before: the global tier's reads (by any
// thread) before the caller's barrier and fence; the mbarrier tiers' by the
// leader itself (rk_actor_stage_shared, the dead letters), in program
// order before this. mbarrier tiers: the empty arrive
// (release) on each slot's credit barrier, in every block holding a copy
// (cluster) or this block's (block), then head + n (red.release: a
// producer that reads it sees the arrives). Global tier: head + n alone
// (rk_k2k_credit_release: the producers' credit; the caller's fence made
// it a release).
template <class K>
RK_INLINE void rk_actor_k2k_release(rk_actor_leader* l, rk_u32 n) {
#if !RK_ACTOR_K2K
    (void)l;
    (void)n;
#elif RK_ACTOR_K2K_MBAR
    #pragma unroll 1
    for (rk_u32 i = 0u; i < n; ++i) {
        const rk_u32 sa = l->k2k_credit_sa + 8u * (rk_u32)((l->k2k_head + i) & l->k2k_mask);
#if RK_ACTOR_K2K_CLUSTER
        for (rk_u32 ranks = l->k2k_credit_ranks; ranks != 0u; ranks &= ranks - 1u) {
            rk_mbar_io<K>::arrive(sa, (rk_u32)(__ffs((int)ranks) - 1));
        }
#else
        rk_mbar_io<K>::arrive(sa, 0u);
#endif
    }
    l->k2k_head += n;
    rk_mbar_atom<K>::add_release(&l->k2k->head, n);
#else
    l->k2k_head += n;
    rk_k2k_credit_release<K>(l->k2k, l->k2k_head);
#endif
}

// Closes the K2K inbox for good if nothing is reserved past the head;
// false when a producer holds a slot (the loop goes on polling).
template <class K>
RK_INLINE bool rk_actor_k2k_close(rk_actor_leader* l) {
    const rk_u64 head = l->k2k_head;
#if !RK_ACTOR_K2K
    (void)head;
    return true;
#elif RK_ACTOR_K2K_MBAR
    return rk_k2k_mbar_close<K>(l->k2k, head);
#else
    return rk_k2k_credit_close<K>(l->k2k, head);
#endif
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
            const rk_u32 slot_size = rk_actor_k2k_slot_size(l);
            rk_envelope_header* env = reinterpret_cast<rk_envelope_header*>(
                rk_actor_k2k_slots(l) + (rk_u64)(rk_u32)(l->k2k_head & l->k2k_mask) * slot_size);
            const rk_u32 room = slot_size - RK_ENVELOPE_HEADER_SIZE;
            const rk_u32 bytes = env->payload_size < room ? env->payload_size : room;
            l->messages_in += 1u;
            rk_actor_dead_letter(l, d, env, rk_envelope_payload(env), bytes,
                                 RK_ACTOR_FAULT_UNDELIVERABLE, 0u, 0u);
            rk_actor_k2k_fence_reads<K>();
            rk_actor_k2k_release<K>(l, 1u);
            continue;
        }
        rk_nanosleep(sleep);
        sleep = sleep < RK_ACTOR_MAX_SLEEP_NS ? sleep * 2u : sleep;
    }
}

#if RK_ACTOR_K2K_MBAR
// Bytes of a K2K inbox of this geometry (rk_k2k_mbar.cuh's layout; the
// same bytes as rk_k2k.cuh's: a 384-byte header, 8 bytes per slot padded
// to a line, the slots).
RK_INLINE rk_u64 rk_actor_k2k_bytes(rk_u32 capacity, rk_u32 slot_size) {
    return RK_K2K_MBAR_BYTES(capacity, slot_size);
}

// The dynamic shared memory's size.
RK_INLINE rk_u64 rk_actor_dynamic_bytes() {
    rk_u32 dynamic_bytes;
    asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(dynamic_bytes));
    return dynamic_bytes;
}

// Whether the system's credit run the descriptor names is one the host
// could have chosen: 8-byte aligned, at least `min_offset` (past the
// staging area), inside the dynamic shared memory. An empty run (no inbox
// in the system) is fine.
RK_INLINE bool rk_actor_k2k_credits_fit(const rk_actor_desc* d, rk_u64 min_offset) {
    const rk_u64 at = d->k2k_credits;
    const rk_u64 bytes = d->k2k_credits_bytes;
    return bytes == 0u ||
           (at % 8u == 0u && bytes % 8u == 0u && at >= min_offset && at + bytes <= rk_actor_dynamic_bytes());
}

// Whether `capacity` credit barriers at byte offset `credit` lie inside the
// system's credit run (so they are ones some block lays out), 8-byte aligned.
RK_INLINE bool rk_actor_k2k_credit_inside(const rk_actor_desc* d, rk_u64 credit, rk_u64 capacity) {
    return credit % 8u == 0u && credit >= d->k2k_credits &&
           credit + capacity * 8u <= (rk_u64)d->k2k_credits + d->k2k_credits_bytes;
}

// Where this actor's shared-memory K2K inbox goes: the offset the host
// chose (d->k2k_inbox) in the dynamic shared memory, when the descriptor's
// geometry is one the host could have chosen (a line-aligned offset of at
// least `min_offset`, a power-of-two capacity of at least 2, whole 64-byte
// slots that hold a header, the inbox inside the dynamic shared memory,
// its credit array inside the system's credit run and clear of the inbox,
// that run past `min_offset` too; a cluster inbox's credit ranks inside
// the cluster). Null otherwise, or when the actor has no inbox: nothing is
// written then, and the leader's geometry check fails the actor.
RK_INLINE rk_k2k_mbar_header* rk_actor_k2k_shared_place(const rk_actor_desc* d, rk_u64 min_offset) {
    const rk_u64 offset = reinterpret_cast<rk_u64>(d->k2k_inbox);
    const rk_u32 capacity = d->k2k_capacity;
    const rk_u32 slot_size = d->k2k_slot_size;
    if (offset == 0u) {
        return nullptr;
    }
    const rk_u64 end = offset + rk_actor_k2k_bytes(capacity, slot_size);
    const rk_u64 credit = d->k2k_credit;
    bool fits = offset % RK_LINE == 0u && offset >= min_offset && capacity >= 2u &&
                (capacity & (capacity - 1u)) == 0u && slot_size >= RK_ENVELOPE_HEADER_SIZE &&
                slot_size % 64u == 0u && end <= rk_actor_dynamic_bytes() &&
                rk_actor_k2k_credits_fit(d, min_offset) &&
                rk_actor_k2k_credit_inside(d, credit, capacity) &&
                (credit >= end || credit + (rk_u64)capacity * 8u <= offset);
#if RK_ACTOR_K2K_CLUSTER
    const rk_u32 ranks = d->k2k_credit_ranks;
    fits = fits && ranks != 0u && (rk_cluster_size() >= 32u || (ranks >> rk_cluster_size()) == 0u);
#endif
    return fits ? reinterpret_cast<rk_k2k_mbar_header*>(rk_actor_dynamic + offset) : nullptr;
}

// The inbox's header (multi-producer: producers claim with a CAS on tail,
// the consumer keeps head) and full barriers, over `threads` threads of
// which this is `t`: t == 0 writes the header, each thread initialises a
// share of the barriers. The caller's barrier (the block's start barrier,
// the cluster barrier) publishes them.
RK_INLINE void rk_actor_k2k_lay_out(rk_k2k_mbar_header* q, const rk_actor_desc* d, rk_u32 t,
                                    rk_u32 threads, rk_u32 credit_ranks) {
    const rk_u32 capacity = d->k2k_capacity;
    if (t == 0u) {
        q->tail = 0u;
        q->head = 0u;
        q->capacity = capacity;
        q->msg_bytes = d->k2k_slot_size;
        q->magic = RK_K2K_MBAR_MAGIC;
        q->owner_actor = d->actor_id;
        q->multi_producer = 1u;
        q->credit_ranks = credit_ranks;
    }
    rk_u64* full = reinterpret_cast<rk_u64*>(reinterpret_cast<unsigned char*>(q) + RK_K2K_MBAR_FULL_OFFSET);
    for (rk_u32 i = t; i < capacity; i += threads) {
        rk_mbar_init_(&full[i], 1u);
    }
    rk_mbar_fence_init_();
}

// Initialises `bytes / 8` credit barriers (arrival count 1) at byte offset
// `at` of the dynamic shared memory, over `threads` threads of which this
// is `t`.
RK_INLINE void rk_actor_k2k_credit_lay_out(rk_u64 at, rk_u64 bytes, rk_u32 t, rk_u32 threads) {
    rk_u64* credit = reinterpret_cast<rk_u64*>(rk_actor_dynamic + at);
    for (rk_u32 i = t; i < bytes / 8u; i += threads) {
        rk_mbar_init_(&credit[i], 1u);
    }
    rk_mbar_fence_init_();
}
#endif

#if RK_ACTOR_K2K_BLOCK
// A block-placed warp actor's K2K inbox, laid out by its warp in the
// block's dynamic shared memory at the offset the host chose (d->k2k_inbox,
// after every warp's staging slice), with its credit array (d->k2k_credit,
// in the system's credit run: the one block's only copy, which every
// sending warp waits on): called by every lane at start (the block's start
// barrier, rk_actor_k2k_start, publishes it to the other warps). Null when
// the actor has none or the geometry is not one the host could have chosen
// (then nothing is written and the leader's geometry check fails the
// actor), as rk_actor_k2k_cluster_open.
RK_INLINE rk_k2k_mbar_header* rk_actor_k2k_block_open(const rk_actor_desc* d) {
    rk_k2k_mbar_header* q =
        rk_actor_k2k_shared_place(d, (rk_u64)(blockDim.x >> 5) * RK_ACTOR_WARP_STRIDE);
    if (q == nullptr) {
        return nullptr;
    }
    const rk_u32 lane = threadIdx.x & 31u;
    rk_actor_k2k_lay_out(q, d, lane, 32u, 0u);
    rk_actor_k2k_credit_lay_out(d->k2k_credit, (rk_u64)d->k2k_capacity * 8u, lane, 32u);
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
// that is no power of two, its credit array outside the system's credit
// run): nothing is written then, and the leader's geometry check fails the
// actor. Every block then meets the others at the cluster barrier
// (rk_actor_main) before anyone sends.
RK_INLINE rk_k2k_mbar_header* rk_actor_k2k_cluster_open(const rk_actor_desc* d) {
    rk_k2k_mbar_header* q = rk_actor_k2k_shared_place(d, 0u);
    if (q == nullptr) {
        return nullptr;
    }
    rk_actor_k2k_lay_out(q, d, rk_thread_id(), blockDim.x * blockDim.y * blockDim.z,
                         d->k2k_credit_ranks);
    return q;
}

// Every credit array of the system in this block (d->k2k_credits, the same
// run at the same offset in every block: a sender here waits on its own
// copy of a destination's empty barriers, the destination's consumer
// arrives on each copy through mapa): called by every thread at start,
// before the cluster barrier, whether or not this actor has an inbox.
// False (nothing written) when the run is not one the host could have
// chosen (past the staging area, `min_offset`); the leader's geometry
// check then fails the actor.
RK_INLINE bool rk_actor_k2k_credits_open(const rk_actor_desc* d, rk_u64 min_offset) {
    if (!rk_actor_k2k_credits_fit(d, min_offset)) {
        return false;
    }
    rk_actor_k2k_credit_lay_out(d->k2k_credits, d->k2k_credits_bytes, rk_thread_id(),
                                blockDim.x * blockDim.y * blockDim.z);
    return true;
}
#endif

#if RK_ACTOR_K2K // the routes (the sends of a kernel without K2K paths fault UNROUTED)
// Where a route's inbox is, as an address the sender can use: the device
// address (global tier); in the mbarrier tiers the inbox's offset in THIS
// block's shared memory (rk_k2k_mbar_open maps it into the destination
// block, rank r->rank, for DSMEM: mapa maps by offset). Null for a route
// this kernel cannot follow: no inbox, a tier other than the one the
// system was composed for, a rank outside the cluster (or other than 0 in
// one block) or an offset outside the shared memory (a send then faults
// UNROUTED; it never writes anywhere).
RK_INLINE rk_actor_k2k_inbox* rk_actor_k2k_target(const rk_route* r) {
    if (r->inbox == nullptr || r->tier != RK_ACTOR_K2K_TIER) {
        return nullptr;
    }
#if RK_ACTOR_K2K_MBAR
    const rk_u64 offset = reinterpret_cast<rk_u64>(r->inbox);
#if RK_ACTOR_K2K_CLUSTER
    const bool rank_ok = r->rank < rk_cluster_size();
#else
    // Another warp's inbox in this block's shared memory (rank 0: the
    // system is this block).
    const bool rank_ok = r->rank == 0u;
#endif
    if (!rank_ok || offset % RK_LINE != 0u || offset + RK_K2K_MBAR_FULL_OFFSET > rk_actor_dynamic_bytes()) {
        return nullptr;
    }
    return reinterpret_cast<rk_k2k_mbar_header*>(rk_actor_dynamic + offset);
#else
    return static_cast<rk_k2k_header*>(r->inbox);
#endif
}

#if RK_ACTOR_K2K_MBAR
// A route's mbarrier inbox as this sender sees it (rk_k2k_mbar_open: the
// destination's geometry, read once; for DSMEM each header read is a round
// trip), when the inbox is laid out as the host said (the magic, a
// power-of-two capacity of at least 2, whole 64-byte slots holding the
// message) and the route's credit array lies inside the system's credit
// run and, in a cluster, this block holds a copy of it (its rank is in the
// inbox's credit ranks: the consumer returns the slots here). False
// otherwise (the send faults UNROUTED, nothing written).
RK_INLINE bool rk_actor_k2k_open_route(const rk_actor_desc* d, const rk_route* r,
                                       rk_k2k_mbar_header* local, rk_u32 size, rk_k2k_mbar_ref* out) {
    rk_u64* const credit = reinterpret_cast<rk_u64*>(rk_actor_dynamic + r->credit);
    const rk_k2k_mbar_ref ref = rk_k2k_mbar_open<rk_actor_k2k_scope>(local, credit, r->rank);
    const rk_u64 capacity = (rk_u64)ref.mask + 1u;
    const rk_u32 magic = ref.q->magic;
    bool ok = magic == RK_K2K_MBAR_MAGIC && capacity >= 2u && (capacity & ref.mask) == 0u &&
              ref.msg_bytes % 64u == 0u && ref.msg_bytes >= RK_ENVELOPE_HEADER_SIZE + size &&
              rk_actor_k2k_credit_inside(d, r->credit, capacity);
#if RK_ACTOR_K2K_CLUSTER
    ok = ok && ((ref.credit_ranks >> rk_cluster_rank()) & 1u) != 0u;
#endif
    *out = ref;
    return ok;
}
#endif

// The route on `port` for a `size`-byte message, opened: the inbox as
// this sender sees it and the header fields the route gives; false (the
// send faults UNROUTED, nothing written) when the port has no route, a
// route for another message size, or one this kernel cannot follow
// (rk_actor_k2k_target, rk_actor_k2k_open_route). The last route opened is
// kept in the leader's state (route_port): the checks and the header reads
// run once per change of port.
RK_INLINE bool rk_actor_k2k_route(const rk_actor_desc* d, rk_actor_leader* l, rk_u32 port,
                                  rk_u32 size) {
    if (l->route_port == port && l->route_size == size) {
        return true;
    }
    const rk_route* r = port < d->route_count ? &d->routes[port] : nullptr;
    rk_actor_k2k_inbox* q = r != nullptr && r->payload_size == size ? rk_actor_k2k_target(r) : nullptr;
    if (q == nullptr) {
        return false;
    }
    rk_actor_k2k_ref ref;
#if RK_ACTOR_K2K_MBAR
    if (!rk_actor_k2k_open_route(d, r, q, size, &ref)) {
        return false;
    }
#else
    // The geometry once.
    ref = rk_k2k_open(q);
#endif
    l->route_ref = ref;
    l->route_type_id = r->type_id;
    l->route_dest = r->dest_actor;
#if RK_ACTOR_K2K_SOLE_ROUTES
    l->route_sole = r->flags & RK_ROUTE_SOLE_PRODUCER;
#endif
    l->route_size = size;
    l->route_port = port;
    return true;
}
#endif // RK_ACTOR_K2K

// Diagnostics: a trace mark by a send the lone path's handler makes
// (RK_ACTOR_TRACE=2 only; nothing otherwise).
RK_INLINE void rk_actor_send_mark(rk_actor_leader* l, rk_u32 k) {
#if RK_ACTOR_TRACE_K2K
    if (l->trace_send) {
        rk_actor_trace_mark(l, k);
    }
#else
    (void)l;
    (void)k;
#endif
}

// The cluster tier's sends commit by st.async (rk_k2k_mbar.cuh: a relaxed
// arrive expecting the message's bytes, then the bytes by st.async, no
// fence) when the message takes the send's 16-byte path; otherwise, and
// with RK_ACTOR_K2K_ST_ASYNC=0 (an A/B switch), by stores and the full
// barrier's arrive.release.cluster (a MEMBAR that waits for them).
#ifndef RK_ACTOR_K2K_ST_ASYNC
#define RK_ACTOR_K2K_ST_ASYNC 1
#endif

// What a claim came to, in either protocol (the same values).
#if RK_ACTOR_K2K_MBAR
#define RK_ACTOR_CLAIMED RK_K2K_MBAR_CLAIMED
#define RK_ACTOR_CLAIM_CLOSED RK_K2K_MBAR_CLOSED
#elif RK_ACTOR_K2K
#define RK_ACTOR_CLAIMED RK_K2K_CREDIT_CLAIMED
#define RK_ACTOR_CLAIM_CLOSED RK_K2K_CREDIT_CLOSED
#endif

// What the leader's send attempt came to (rk_actor_send_to).
#define RK_ACTOR_SEND_SENT 0u
#define RK_ACTOR_SEND_FULL 1u    // one attempt found the inbox full: nothing written
#define RK_ACTOR_SEND_FAULTED 2u // the fault is recorded in f

// The leader's send of `msg` (`size` bytes) on `port`: the route
// (rk_actor_k2k_route), a slot of the destination's K2K inbox (Wait:
// retried with backoff while the inbox is full; otherwise one reservation
// attempt), the envelope stamped by the actor's clock (only once a slot is
// held, so a refused try_send leaves the clock alone), the commit. Faults
// (recorded at the Rust line:column): UNROUTED when the port has no route
// (or a route for another message size), UNDELIVERABLE when the
// destination has closed its inbox (terminated): a reservation fails on a
// closed tail, and the closed bit tells it apart from a full inbox.
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
    rk_actor_leader* l = c->leader;
#if RK_ACTOR_SEND_SHARED_STATE
    // Both are the loop's __shared__ copies (rk_actor_main, the only maker
    // of a context): their accesses below are LDS/STS, not generic loads.
    RK_ACTOR_ASSUME_SHARED(l);
    RK_ACTOR_ASSUME_SHARED(d);
#endif
    using K = rk_actor_k2k_scope;
    // Diagnostics (RK_ACTOR_TRACE=2): a send of the lone path marks its
    // steps, into trace rows the lone path leaves empty (rk_actor_k2k_one):
    // the handler before its send (STAGE), the route and claim (STAMP),
    // the envelope's stores (WRITE); the commit and the handler's rest fall
    // in its HANDLER row. (Not TAIL: that mark also ends the busy span.)
    rk_actor_send_mark(l, RK_ACTOR_TRACE_STAGE);
    if (!rk_actor_k2k_route(d, l, port, size)) {
        rk_fault(f, RK_FAULT_UNROUTED, line, column);
        return RK_ACTOR_SEND_FAULTED;
    }
    const rk_actor_k2k_ref ref = l->route_ref;
    rk_u64 pos = 0u;
    rk_u32 sleep = 32u;
    // The claim from this sender's guess of the tail and its head credit
    // (a relaxed CAS under the credit, no head read while it lasts:
    // rk_k2k_mbar_mp_try_claim, and in the global tier
    // rk_k2k_credit_try_claim); a closed inbox's tail carries the closed
    // bit, so no CAS succeeds on it and the claim says CLOSED, apart from
    // FULL. (A port past the kept guesses starts at 0 each time: never
    // above tail.) A sole route's sender is the inbox's only producer
    // thread: its guess is its exact count, so it claims by the credit
    // alone and announces the position on tail after issuing the message's
    // stores (below): the announce's trip overlaps them instead of the
    // CAS's trip preceding them (the global tier: RK_ACTOR_K2K_SOLE_ROUTES).
#if RK_ACTOR_K2K_MBAR
    rk_k2k_mbar_mp mp;
#else
    rk_k2k_credit mp;
#endif
    mp.r = ref;
    const bool kept = port < RK_ACTOR_K2K_GUESSES;
#if RK_ACTOR_K2K_SOLE_ROUTES
    const bool sole = kept && l->route_sole != 0u;
#else
    const bool sole = false;
#endif
    mp.tail_guess = kept ? l->k2k_guess[port] : 0u;
    mp.free_until = kept ? l->k2k_free[port] : 0u;
    #pragma unroll 1
    for (;;) {
#if RK_ACTOR_K2K_MBAR
        const rk_u32 claim = rk_k2k_mbar_mp_try_claim<K>(mp, &pos);
#else
        const rk_u32 claim =
            sole ? rk_k2k_credit_sole_claim<K>(mp, &pos) : rk_k2k_credit_try_claim<K>(mp, &pos);
#endif
        if (kept) {
            l->k2k_guess[port] = mp.tail_guess;
            l->k2k_free[port] = mp.free_until;
        }
        if (claim == RK_ACTOR_CLAIMED) {
            break;
        }
        if (claim == RK_ACTOR_CLAIM_CLOSED) {
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
    // Plain stores into the claimed slot (through the mapped address, in
    // a cluster), published by the commit: the full arrive (release), in
    // the global tier the sequence word's release store.
#if RK_ACTOR_K2K_MBAR
    rk_envelope_header* slot = static_cast<rk_envelope_header*>(rk_k2k_mbar_slot(ref, pos));
#else
    rk_envelope_header* slot = rk_k2k_slot(ref, pos);
#endif
    // The sole producer's announce, issued now and waited for only at the
    // commit (its old value is not needed before).
    rk_u64 announced = 0u;
#if RK_ACTOR_K2K_SOLE_ROUTES
    if (sole) {
        announced = rk_k2k_credit_announce(mp);
    }
#endif
    rk_actor_send_mark(l, RK_ACTOR_TRACE_STAMP);
    const rk_hlc_timestamp t = rk_hlc_send(&l->clock, rk_hlc_physical_now(&l->clock));
    const rk_u64 sequence = l->sent + 1u;
    l->sent = sequence;
    // The envelope is built in registers and stored in 16-byte words, the
    // message's words all loaded before any is stored: field by field, each
    // store through the slot's generic pointer (which, for all the compiler
    // knows, may alias the leader's state or the message) held up the loads
    // after it, a chain of dependent accesses (the lone path's trace: ~360 ns
    // of stores in the shared tier, H100).
    rk_actor_u4* const words = reinterpret_cast<rk_actor_u4*>(slot);
    bool committed = false; // by the st.async path (RK_ACTOR_K2K_ST_ASYNC)
    const rk_actor_u4 w0 = {l->route_type_id, size, d->actor_id, l->route_dest};
    const rk_actor_u4 w1 = {0u, 0u, (rk_u32)sequence, (rk_u32)(sequence >> 32)};
    const rk_actor_u4 w2 = {(rk_u32)t.physical_ns, (rk_u32)(t.physical_ns >> 32), t.logical, t.node};
    const rk_actor_u4 w3 = {0u, 0u, 0u, 0u}; // flags, reserved
    static_assert(RK_ENVELOPE_HEADER_SIZE == 64u, "four 16-byte header words");
    if ((reinterpret_cast<rk_u64>(msg) & 7u) == 0u && size % 16u == 0u && size <= 64u) {
        // (Slots are 16-byte aligned: whole 64-byte granules; a message
        // struct is at least 8-byte aligned when it holds a u64.)
        const rk_u64* from = static_cast<const rk_u64*>(msg);
        const rk_u32 n = size / 8u;
        rk_u64 m[8];
        #pragma unroll
        for (rk_u32 i = 0u; i < 8u; ++i) {
            if (i < n) {
                m[i] = from[i];
            }
        }
        // In a cluster, another block's inbox: committed before its bytes,
        // relaxed, expecting them, the bytes by st.async (rk_k2k_mbar.cuh:
        // the phase completes when all have landed). PTX documents st.async
        // for a peer block's shared memory, so an actor's send to itself
        // takes the stores and the release arrive below.
#if RK_ACTOR_K2K_CLUSTER && RK_ACTOR_K2K_ST_ASYNC
        const bool async_commit = ref.rank != rk_cluster_rank();
#else
        const bool async_commit = false;
#endif
        if (async_commit) {
#if RK_ACTOR_K2K_CLUSTER && RK_ACTOR_K2K_ST_ASYNC
            const rk_u32 bar = rk_k2k_mbar_full_at_(ref, pos);
            const rk_u32 at = rk_k2k_mbar_slot_at_(ref, pos);
            rk_k2k_mbar_commit_expecting(bar, RK_ENVELOPE_HEADER_SIZE + size);
            rk_k2k_mbar_put_async(at, bar, w0.x, w0.y, w0.z, w0.w);
            rk_k2k_mbar_put_async(at + 16u, bar, w1.x, w1.y, w1.z, w1.w);
            rk_k2k_mbar_put_async(at + 32u, bar, w2.x, w2.y, w2.z, w2.w);
            rk_k2k_mbar_put_async(at + 48u, bar, w3.x, w3.y, w3.z, w3.w);
            #pragma unroll
            for (rk_u32 i = 0u; i < 4u; ++i) {
                if (2u * i < n) {
                    rk_k2k_mbar_put_async(at + 64u + 16u * i, bar, (rk_u32)m[2u * i],
                                          (rk_u32)(m[2u * i] >> 32), (rk_u32)m[2u * i + 1u],
                                          (rk_u32)(m[2u * i + 1u] >> 32));
                }
            }
            committed = true;
#endif
        } else {
            words[0] = w0;
            words[1] = w1;
            words[2] = w2;
            words[3] = w3;
            #pragma unroll
            for (rk_u32 i = 0u; i < 4u; ++i) {
                if (2u * i < n) {
                    const rk_actor_u4 w = {(rk_u32)m[2u * i], (rk_u32)(m[2u * i] >> 32),
                                           (rk_u32)m[2u * i + 1u], (rk_u32)(m[2u * i + 1u] >> 32)};
                    words[4u + i] = w;
                }
            }
        }
    } else {
        words[0] = w0;
        words[1] = w1;
        words[2] = w2;
        words[3] = w3;
        rk_actor_copy_message(rk_envelope_payload(slot), msg, size);
    }
    rk_actor_send_mark(l, RK_ACTOR_TRACE_WRITE);
    if (sole) {
        if (announced & RK_ACTOR_K2K_CLOSED) {
            // The consumer closed before this position: nothing committed
            // (the stores went into a slot nobody will read), the sequence
            // as it was, the count unmoved (every later send finds the
            // closed bit again). The clock keeps its tick: a local event,
            // which a hybrid logical clock may always count.
            l->sent = sequence - 1u;
            rk_fault(f, RK_FAULT_UNDELIVERABLE, line, column);
            return RK_ACTOR_SEND_FAULTED;
        }
        if (announced != pos) {
            // Another producer moved tail: the host's wiring said this
            // route was the only one into the inbox. Never reached; if it
            // were, the message stores may have hit a slot another
            // producer owns, so stop the kernel loudly rather than commit.
            __trap();
        }
        l->k2k_guess[port] = pos + 1u;
    }
#if RK_ACTOR_K2K_MBAR
    if (!committed) {
        rk_k2k_mbar_commit<K>(ref, pos);
    }
#else
    rk_k2k_commit<K>(ref, pos);
#endif
    return RK_ACTOR_SEND_SENT;
#endif
}

// ctx.send(port, &msg): called by every thread of the handler; the leader
// (thread 0) sends, the others return at once (only the leader's reply is
// the reply, likewise only its sends are sent). Waits with backoff while
// the destination's inbox is full (backpressure, never an overwrite).
// Returns false after recording a fault: the port has no route (or a route
// for another message size), or the destination has terminated.
// ctx.send inlined into the handler (RK_ACTOR_SEND_INLINE=0 calls it out
// of line, an A/B switch): the call stored the context and the message to
// local memory for the send to load back, and saved registers around it; a
// hop's send is the handler's whole work. Inlined, the hop went 1097 /
// 1633 / 2586 -> 966 / 1451 / 2463 ns (shared / DSMEM / global; H100,
// `--quick --only k2k`, alternating processes), every hop and K2K suite
// system assembling without spills (bench_sources, k2k_sources).
// (try_send stays out of line: a block-wide call with its own barrier.)
#ifndef RK_ACTOR_SEND_INLINE
#define RK_ACTOR_SEND_INLINE 1
#endif
#if RK_ACTOR_SEND_INLINE
#define RK_ACTOR_SEND_LINKAGE __forceinline__
#else
#define RK_ACTOR_SEND_LINKAGE __noinline__
#endif
static __device__ RK_ACTOR_SEND_LINKAGE bool rk_actor_send(rk_fault_ctx* f, rk_u32 port, const void* msg,
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
static __device__ RK_ACTOR_SEND_LINKAGE bool rk_actor_send_warp(rk_fault_ctx* f, rk_u32 port, const void* msg,
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
