#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel]
pub fn k(ctx: &RingContext, y: &mut [f32]) {}

fn main() {}
