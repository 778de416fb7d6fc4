#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, GpuType)]
#[repr(C)]
pub struct Params { pub scale: f32 }

#[gpu_kernel]
pub fn k(ctx: &ThreadContext, p: Params, y: &mut [f32]) {}

fn main() {}
