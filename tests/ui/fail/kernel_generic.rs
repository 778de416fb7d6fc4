#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel]
pub fn k<T: Copy>(ctx: &ThreadContext, y: &mut [T]) {}

fn main() {}
