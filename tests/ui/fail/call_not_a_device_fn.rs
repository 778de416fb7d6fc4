#![allow(unused)]
use ringkernel::prelude::*;

pub fn helper(x: f32) -> f32 {
    x * 2.0
}

#[gpu_kernel]
pub fn k(ctx: &ThreadContext, y: &mut [f32]) {
    y[0] = helper(y[0]);
}

fn main() {}
