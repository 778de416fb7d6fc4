// Senders the back end marks `k2k_lone` (the leader alone runs their K2K
// messages: rk_actor_k2k_one) and ones it must not: cuda_out's
// `only_handlers_one_thread_can_run_are_marked_lone`.

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Note {
    pub value: u32,
    pub hops: u32,
}

#[derive(Clone, Copy, Debug, Default, GpuType)]
#[repr(C)]
pub struct Count {
    pub seen: u64,
}

/// Stateless, no reply, nothing but `ctx.send`: lone.
#[ring_kernel(block_size = 32)]
pub fn pass_on(ctx: &RingContext, n: &Note) {
    let now = ctx.now();
    ctx.send(
        0,
        &Note {
            value: n.value ^ now.logical,
            hops: n.hops + 1,
        },
    );
}

/// Reads its lane: each thread computes something else.
#[ring_kernel(block_size = 32)]
pub fn pass_lane(ctx: &RingContext, n: &Note) {
    let lane = ctx.lane_id();
    ctx.send(
        0,
        &Note {
            value: n.value + lane,
            hops: n.hops,
        },
    );
}

/// Replies: the reply is the block's (written by the loop).
#[ring_kernel(block_size = 32)]
pub fn pass_and_answer(ctx: &RingContext, n: &Note) -> Note {
    ctx.send(0, n);
    Note {
        value: n.value,
        hops: n.hops,
    }
}

/// Keeps state: messages are run in order by the block.
#[ring_kernel(block_size = 32)]
pub fn pass_counted(ctx: &RingContext, count: &mut Count, n: &Note) {
    count.seen += 1;
    ctx.send(0, n);
}

/// `try_send` is a block-wide call (a barrier).
#[ring_kernel(block_size = 32)]
pub fn pass_if_room(ctx: &RingContext, n: &Note) {
    let _sent = ctx.try_send(0, n);
}
