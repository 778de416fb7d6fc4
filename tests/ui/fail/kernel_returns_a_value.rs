#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel]
pub fn k(ctx: &ThreadContext, x: &[f32]) -> f32 {
    x[0]
}

fn main() {}
