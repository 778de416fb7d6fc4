// rk_actor_receive.cuh: part of the actor loop, rk_actor.cuh: receipt: header checks and the HLC receive rule for a batch (warp scans, or the
// leader alone for one message).
// Included by rk_actor.cuh only, in order, after its configuration (RK_ACTOR_K2K,
// the tier, the schedules): the parts are one text, split by topic.
#ifndef RK_ACTOR_RECEIVE_CUH
#define RK_ACTOR_RECEIVE_CUH
#ifndef RK_ACTOR_CUH
#error "rk_actor_receive.cuh is part of rk_actor.cuh: include that"
#endif

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
        #pragma unroll 1
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
    if (count > 1u) {
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
                #pragma unroll 1
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
        if (!__syncthreads_or(overflow)) { // B3
            if (tid == 0u && good > 0u) {
                l->clock.last.physical_ns = ctl->last_l;
                l->clock.last.logical = (rk_u32)ctl->last_c;
            }
            return good;
        }
        // A receipt would pass the logical counter's 2^32 - 1: the batch
        // is cut to its first message (good, since a receipt was issued),
        // received as a call's below.
    }
    // One message (a call), or the first of a batch cut by the overflow
    // rule: the leader checks it and applies rk_hlc_receive itself, the
    // rule the scans above reproduce (one place for both: NVRTC time).
    // Their shuffles and the two barriers around them are a serial chain of
    // about 1,500 cycles, most of a call's time on the device.
    if (rk_thread_id() == 0u) {
        ctl->good = rk_actor_receive_one<H>(l, d, ctl->pt);
    }
    __syncthreads(); // B3, or after it for a cut batch
    return ctl->good;
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

#endif // RK_ACTOR_RECEIVE_CUH
