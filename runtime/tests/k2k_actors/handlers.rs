// Handlers of the actor-system (K2K) tests, on the CPU backend in CI and on
// the GPU with the device tool. Read as text by the tests and transpiled;
// the message types are mirrored in suite.rs.

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Work {
    pub producer: u32,
    pub index: u32,
    pub words: [u32; 14],
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Stamped {
    pub producer: u32,
    pub index: u32,
    pub words: [u32; 14],
    pub sent_by: u32,
    pub cause_logical: u32,
    pub cause_physical: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Receipt {
    pub producer: u32,
    pub index: u32,
    pub checksum: u64,
    pub sent_by: u32,
    pub cause_logical: u32,
    pub cause_physical: u64,
    pub physical: u64,
    pub logical: u32,
    pub node: u32,
}

#[derive(Clone, Copy, Debug, Default, GpuType)]
#[repr(C)]
pub struct Tally {
    pub received: u64,
    pub checksum_sum: u64,
}

/// Forwards every work item on port 0, stamped with its own receipt time
/// (the cause of the message it sends).
#[ring_kernel(block_size = 32)]
pub fn forward(ctx: &RingContext, w: &Work) {
    let now = ctx.now();
    ctx.send(
        0,
        &Stamped {
            producer: w.producer,
            index: w.index,
            words: w.words,
            sent_by: ctx.actor_id(),
            cause_logical: now.logical,
            cause_physical: now.physical_ns,
        },
    );
}

/// Forwards work item i on port i % 2 (two collectors), stamped as
/// `forward` stamps it: a sender whose port changes with every message,
/// so no route opened for one port may carry the next message.
#[ring_kernel(block_size = 32)]
pub fn split(ctx: &RingContext, w: &Work) {
    let now = ctx.now();
    let s = Stamped {
        producer: w.producer,
        index: w.index,
        words: w.words,
        sent_by: ctx.actor_id(),
        cause_logical: now.logical,
        cause_physical: now.physical_ns,
    };
    if w.index % 2 == 0 {
        ctx.send(0, &s);
    } else {
        ctx.send(1, &s);
    }
}

/// Relays every stamped item on port 0, stamped with its own receipt time,
/// after checking that the receipt is later than the item's cause (a fault
/// if not). Stateless, no reply, nothing shared: the leader alone runs its
/// K2K messages (rk_actor_k2k_one). Word 0 goes on as word index / 100000
/// of the item (itself for items below 100000), so an item of index
/// 1400000 or more faults: its word index is out of bounds.
#[ring_kernel(block_size = 32)]
pub fn relay(ctx: &RingContext, s: &Stamped) {
    let now = ctx.now();
    assert!(
        now.physical_ns > s.cause_physical
            || (now.physical_ns == s.cause_physical && now.logical > s.cause_logical)
    );
    let mut words = s.words;
    words[0] = s.words[(s.index / 100_000) as usize];
    ctx.send(
        0,
        &Stamped {
            producer: s.producer,
            index: s.index,
            words,
            sent_by: ctx.actor_id(),
            cause_logical: now.logical,
            cause_physical: now.physical_ns,
        },
    );
}

/// Counts every forwarded item and answers the host with a checksum of its
/// words (the whole warp reads them) and both timestamps.
#[ring_kernel(block_size = 32)]
pub fn collect(ctx: &RingContext, state: &mut Tally, s: &Stamped) -> Receipt {
    let lane = ctx.lane_id() as usize;
    let word = if lane < 14 { s.words[lane] as u64 } else { 0 };
    let checksum = ctx.warp_reduce_sum(word * (lane as u64 + 1));
    let now = ctx.now();
    if ctx.is_leader() {
        state.received += 1;
        state.checksum_sum = state.checksum_sum.wrapping_add(checksum);
    }
    Receipt {
        producer: s.producer,
        index: s.index,
        checksum,
        sent_by: s.sent_by,
        cause_logical: s.cause_logical,
        cause_physical: s.cause_physical,
        physical: now.physical_ns,
        logical: now.logical,
        node: now.node,
    }
}

/// Faults on every message (its index past the words: out of bounds), so
/// it parks Failed on the first with the rest still in its K2K inbox.
#[ring_kernel(block_size = 32)]
pub fn picky(ctx: &RingContext, s: &Stamped) -> Receipt {
    let now = ctx.now();
    let word = s.words[(s.index + 14) as usize];
    Receipt {
        producer: s.producer,
        index: s.index,
        checksum: word as u64,
        sent_by: s.sent_by,
        cause_logical: s.cause_logical,
        cause_physical: s.cause_physical,
        physical: now.physical_ns,
        logical: now.logical,
        node: now.node,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Burst {
    pub first: u32,
    pub count: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct BurstResult {
    pub first: u32,
    pub count: u32,
    pub accepted: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Item {
    pub producer: u32,
    pub index: u32,
    pub check: u32,
    pub pad: u32,
}

#[derive(Clone, Copy, Debug, Default, GpuType)]
#[repr(C)]
pub struct FloodTally {
    pub accepted: u64,
    pub refused: u64,
}

/// Offers items `first .. first + count` (count at most 64) on port 0 with
/// `try_send`, never waiting, and answers with a bit per item: set when
/// the destination's inbox took it. Every thread must see the leader's
/// answer (a split ballot faults).
#[ring_kernel(block_size = 32)]
pub fn flood(ctx: &RingContext, state: &mut FloodTally, b: &Burst) -> BurstResult {
    let producer = ctx.actor_id();
    let mut accepted = 0u64;
    for i in 0..b.count {
        let index = b.first + i;
        let item = Item {
            producer,
            index,
            check: producer.wrapping_mul(0x9E37_79B9) ^ index,
            pad: 0,
        };
        let sent = ctx.try_send(0, &item);
        let votes = ctx.warp_ballot(sent);
        assert!(votes == 0 || votes == 0xFFFF_FFFF);
        if sent {
            accepted |= 1u64 << i;
        }
    }
    let taken = accepted.count_ones() as u64;
    if ctx.is_leader() {
        state.accepted += taken;
        state.refused += b.count as u64 - taken;
    }
    BurstResult {
        first: b.first,
        count: b.count,
        accepted,
    }
}

/// Takes each item slowly (about 20 us), so that the flooders find its
/// inbox full, and hands it back to the host.
#[ring_kernel(block_size = 32)]
pub fn drain(ctx: &RingContext, it: &Item) -> Item {
    let start = ctx.clock_ns();
    while ctx.clock_ns() - start < 20_000 {}
    Item {
        producer: it.producer,
        index: it.index,
        check: it.check,
        pad: 0,
    }
}
