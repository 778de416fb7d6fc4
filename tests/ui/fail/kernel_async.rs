#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel]
pub async fn k(ctx: &ThreadContext, y: &mut [f32]) {}

fn main() {}
