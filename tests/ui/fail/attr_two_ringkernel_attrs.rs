#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel]
#[device_fn]
pub fn k(ctx: &ThreadContext, y: &mut [f32]) {}

fn main() {}
