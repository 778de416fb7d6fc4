#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel(block_size = 2048)]
pub fn k(ctx: &ThreadContext, y: &mut [f32]) {}

fn main() {}
