// Warp actors: `#[ring_kernel(warps = 1)]` handlers, one actor per warp,
// several packed into one block. The handler sees a 32-thread block: its
// thread index is the lane, its block size 32, `sync_threads` and block
// reductions span its warp only.

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Sample {
    pub id: u32,
    pub values: [i32; 32],
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Summary {
    pub id: u32,
    pub sum: i32,
    pub max: i32,
    pub threads: u32,
}

#[derive(Clone, Copy, Debug, Default, GpuType)]
#[repr(C)]
pub struct Totals {
    pub count: u64,
    pub sum: i64,
}

/// Stateful: a block reduction (over the warp), a barrier (the warp's), the
/// block size (32), state updated by the leader.
#[ring_kernel(warps = 1)]
pub fn tally(ctx: &RingContext, state: &mut Totals, msg: &Sample) -> Summary {
    let lane = ctx.thread_id() as usize;
    let v = msg.values[lane];
    let sum = ctx.block_reduce_sum(v);
    ctx.sync_threads();
    let max = ctx.block_reduce_max(v);
    if ctx.is_leader() {
        state.count += 1;
        state.sum += sum as i64;
    }
    Summary {
        id: msg.id,
        sum,
        max,
        threads: ctx.block_dim_x(),
    }
}

/// Stateless, the same on every lane: the loop spreads a batch over the
/// warp, one message per lane.
#[ring_kernel(warps = 1)]
pub fn first(ctx: &RingContext, msg: &Sample) -> Summary {
    let mut max = msg.values[0];
    for i in 1..32usize {
        max = max.max(msg.values[i]);
    }
    Summary {
        id: msg.id + ctx.actor_id(),
        sum: msg.values[0],
        max,
        threads: 32,
    }
}
