//! The example's kernels: one `#[gpu_kernel]` calling a `#[device_fn]` on
//! a struct buffer, and one `#[ring_kernel]` actor with state.

use ringkernel::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, GpuType)]
#[repr(C)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Sample {
    pub id: u32,
    pub values: [f32; 32],
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Summary {
    pub id: u32,
    pub sum: f32,
    pub count: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, GpuType)]
#[repr(C)]
pub struct Totals {
    pub count: u64,
    pub total: f32,
    pub largest: f32,
}

/// `p` scaled by `s` about the origin, then moved by `dx`.
#[device_fn]
pub fn transform(p: Point, s: f32, dx: f32) -> Point {
    Point {
        x: p.x * s + dx,
        y: p.y * s,
    }
}

/// Every point through `transform`.
#[gpu_kernel(block_size = 128)]
pub fn transform_points(ctx: &ThreadContext, s: f32, dx: f32, points: &mut [Point]) {
    let i = ctx.global_id() as usize;
    if i >= points.len() {
        return;
    }
    points[i] = transform(points[i], s, dx);
}

/// Sums each sample over the block and keeps running totals.
#[ring_kernel(block_size = 32)]
pub fn accumulate(ctx: &RingContext, state: &mut Totals, msg: &Sample) -> Summary {
    let tid = ctx.thread_id() as usize;
    let sum = ctx.block_reduce_sum(msg.values[tid]);
    // The leader's reply is the actor's: only it touches the state.
    let mut count = 0;
    if ctx.is_leader() {
        state.count += 1;
        state.total += sum;
        state.largest = state.largest.max(sum);
        count = state.count;
    }
    Summary {
        id: msg.id,
        sum,
        count,
    }
}
