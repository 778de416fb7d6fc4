// rk_hlc.cuh: the hybrid logical clock, one per actor.
//
// Kulkarni, Demirbas et al., "Logical Physical Clocks" (OPODIS 2014),
// Figure 5, with l = physical_ns and c = logical:
//   send or local event:  l' = max(l, pt);
//                         c' = (l' == l) ? c + 1 : 0
//   receive of m:         l' = max(l, m.l, pt);
//                         c' = (l' == l && l' == m.l) ? max(c, m.c) + 1
//                            : (l' == l)              ? c + 1
//                            : (l' == m.l)            ? m.c + 1
//                            : 0
// so every timestamp an actor issues is strictly greater, in (l, c) order,
// than every timestamp it issued or received before. One addition: c is 32
// bits, and if it would overflow, l' = l + 1 and c' = 0 instead (still
// strictly greater; needs 2^32 events within one nanosecond of pt).
// pt = %globaltimer + offset_ns, where the host calibrates offset_ns at
// launch so device and host clocks agree. The Rust mirror
// (`ringkernel_device::hlc`) implements the same rules for the host and the
// CPU backend.
#ifndef RK_HLC_CUH
#define RK_HLC_CUH

#include "rk_types.cuh"
#include "rk_sync.cuh"
#include "rk_envelope.cuh"

// One actor's clock: the last timestamp it issued (or merged), and the
// offset from %globaltimer to host time.
struct rk_hlc_clock {
    rk_hlc_timestamp last;
    rk_i64 offset_ns;
};

RK_ASSERT_SIZE(rk_hlc_clock, 24);
RK_ASSERT_OFFSET(rk_hlc_clock, last, 0);
RK_ASSERT_OFFSET(rk_hlc_clock, offset_ns, 16);

// Strict order on timestamps: (physical_ns, logical, node) lexicographically.
RK_DEVICE bool rk_hlc_less(const rk_hlc_timestamp* a, const rk_hlc_timestamp* b) {
    if (a->physical_ns != b->physical_ns) return a->physical_ns < b->physical_ns;
    if (a->logical != b->logical) return a->logical < b->logical;
    return a->node < b->node;
}

// Physical time for this clock: %globaltimer plus the calibrated offset
// (two's-complement wrapping add, as in Rust's wrapping_add_signed).
RK_DEVICE rk_u64 rk_hlc_physical_now(const rk_hlc_clock* clock) {
    return rk_globaltimer_ns() + (rk_u64)clock->offset_ns;
}

// c + 1 at physical time l, or (l + 1, 0) when c is saturated.
RK_DEVICE void rk_hlc_bump_(rk_hlc_timestamp* t, rk_u64 l, rk_u32 c) {
    if (c == 0xFFFFFFFFu) {
        t->physical_ns = l + 1u;
        t->logical = 0u;
    } else {
        t->physical_ns = l;
        t->logical = c + 1u;
    }
}

// A send or local event at physical time `pt`; returns the new timestamp.
RK_DEVICE rk_hlc_timestamp rk_hlc_send(rk_hlc_clock* clock, rk_u64 pt) {
    rk_hlc_timestamp* t = &clock->last;
    if (pt > t->physical_ns) {
        t->physical_ns = pt;
        t->logical = 0u;
    } else {
        rk_hlc_bump_(t, t->physical_ns, t->logical);
    }
    return *t;
}

// Receipt of a message stamped `remote` at physical time `pt`; returns the
// new timestamp (which is greater than both the clock's and `remote`).
// Unless pt is past both: l' = max(l, m.l), and c is bumped from the
// counter of whichever is the larger (the larger counter of the two when
// they are equal), the header's rule above, with one rk_hlc_bump_ (it is
// inlined into every receive site; three copies cost NVRTC time).
RK_DEVICE rk_hlc_timestamp rk_hlc_receive(rk_hlc_clock* clock, const rk_hlc_timestamp* remote,
                                          rk_u64 pt) {
    rk_hlc_timestamp* t = &clock->last;
    rk_u64 l = t->physical_ns;
    rk_u64 ml = remote->physical_ns;
    rk_u64 lmax = l > ml ? l : ml;
    if (pt > lmax) {
        t->physical_ns = pt;
        t->logical = 0u;
    } else {
        rk_u32 tc = t->logical;
        rk_u32 rc = remote->logical;
        rk_u32 c = l > ml ? tc : (l < ml ? rc : (tc > rc ? tc : rc));
        rk_hlc_bump_(t, lmax, c);
    }
    return *t;
}

#endif // RK_HLC_CUH
