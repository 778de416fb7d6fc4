#![allow(unused)]
use ringkernel::prelude::*;

#[device_fn]
pub fn lane(ctx: &ThreadContext) -> u32 {
    ctx.lane_id()
}

fn main() {}
