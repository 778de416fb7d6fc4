#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel(warps = 1)]
pub fn k(ctx: &ThreadContext, y: &mut [f32]) {}

fn main() {}
