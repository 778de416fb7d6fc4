#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel(block = (64, 64))]
pub fn k(ctx: &ThreadContext, y: &mut [f32]) {}

fn main() {}
