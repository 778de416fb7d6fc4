#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel(threads = 64)]
pub fn k(ctx: &ThreadContext, y: &mut [f32]) {}

fn main() {}
