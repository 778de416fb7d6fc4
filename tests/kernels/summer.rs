//! DESIGN.md §2's actor.

use ringkernel::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Request {
    pub id: u32,
    pub values: [f32; 64],
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Response {
    pub id: u32,
    pub sum: f32,
}

#[derive(Clone, Copy, Debug, Default, GpuType)]
#[repr(C)]
pub struct Stats {
    pub count: u64,
    pub total: f32,
}

/// Runs on every thread of the actor's block, once per message.
#[ring_kernel(block_size = 64)]
pub fn summer(ctx: &RingContext, state: &mut Stats, msg: &Request) -> Response {
    let tid = ctx.thread_id() as usize;
    let sum = ctx.block_reduce_sum(msg.values[tid]);
    if ctx.is_leader() {
        state.count += 1;
        state.total += sum;
    }
    Response { id: msg.id, sum }
}
