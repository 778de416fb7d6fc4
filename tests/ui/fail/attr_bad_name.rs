#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel(name = "2x-scale")]
pub fn k(ctx: &ThreadContext, y: &mut [f32]) {}

fn main() {}
