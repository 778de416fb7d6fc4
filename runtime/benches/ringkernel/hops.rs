// The actor-hop benchmark's handlers (actor_hops.rs), in a module of their
// own (as a user's crate would give them to NVRTC). Read as text and
// transpiled at load time; the message type is mirrored in actor_hops.rs.
// Written for one warp: under Placement::Block the same text runs as warp
// actors (`#[ring_kernel(warps = 1)]`, swapped in by actor_hops.rs).

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Hop {
    /// K2K hops still to make.
    pub left: u32,
    /// K2K hops made so far.
    pub hops: u32,
    /// Every handler that ran folds its actor id and `hops` in.
    pub checksum: u64,
    /// The first handler's receipt time (HLC physical ns, logical).
    pub first_ns: u64,
    pub first_logical: u32,
    /// The last handler's receipt time (HLC physical ns, logical), 0
    /// until then.
    pub last_logical: u32,
    pub last_ns: u64,
    /// The actor that ran the last handler.
    pub last_actor: u32,
    pub pad: u32,
}

/// One side of the ping-pong: port 0 is the peer, port 1 the collector.
/// Passes the message on to the peer with one hop less, or, with none
/// left, to the collector with the time of its own receipt.
#[ring_kernel(block_size = 32)]
pub fn hop(ctx: &RingContext, h: &Hop) {
    let now = ctx.now();
    let me = ctx.actor_id();
    let first = h.hops == 0;
    let first_ns = if first { now.physical_ns } else { h.first_ns };
    let first_logical = if first { now.logical } else { h.first_logical };
    let checksum = (h.checksum.rotate_left(7) ^ (((h.hops as u64) << 32) | me as u64))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    if h.left == 0 {
        ctx.send(
            1,
            &Hop {
                left: 0,
                hops: h.hops,
                checksum,
                first_ns,
                first_logical,
                last_logical: now.logical,
                last_ns: now.physical_ns,
                last_actor: me,
                pad: 0,
            },
        );
    } else {
        ctx.send(
            0,
            &Hop {
                left: h.left - 1,
                hops: h.hops + 1,
                checksum,
                first_ns,
                first_logical,
                last_logical: 0,
                last_ns: 0,
                last_actor: me,
                pad: 0,
            },
        );
    }
}

/// Hands the finished ping-pong back to the host.
#[ring_kernel(block_size = 32)]
pub fn hops_done(ctx: &RingContext, h: &Hop) -> Hop {
    Hop {
        left: h.left,
        hops: h.hops,
        checksum: h.checksum,
        first_ns: h.first_ns,
        first_logical: h.first_logical,
        last_logical: h.last_logical,
        last_ns: h.last_ns,
        last_actor: h.last_actor,
        pad: h.pad,
    }
}
