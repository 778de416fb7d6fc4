#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel]
pub fn k(ctx: &ThreadContext, y: &mut [f32]) {
    let double = |v: f32| v * 2.0;
    let i = ctx.global_id() as usize;
    y[i] = double(y[i]);
}

fn main() {}
