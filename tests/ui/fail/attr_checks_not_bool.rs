#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel(checks = "off")]
pub fn k(ctx: &ThreadContext, y: &mut [f32]) {}

fn main() {}
