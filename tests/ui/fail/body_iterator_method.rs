#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel]
pub fn k(ctx: &ThreadContext, x: &[f32], y: &mut [f32]) {
    y[0] = x.iter().sum();
}

fn main() {}
