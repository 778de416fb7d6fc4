#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel]
pub fn k(ctx: &ThreadContext, f: &dyn Fn(f32) -> f32, y: &mut [f32]) {}

fn main() {}
