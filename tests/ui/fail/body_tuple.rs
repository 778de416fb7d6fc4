#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel]
pub fn k(ctx: &ThreadContext, y: &mut [f32]) {
    let pair = (ctx.thread_id(), ctx.block_id());
    y[0] = pair.0 as f32;
}

fn main() {}
