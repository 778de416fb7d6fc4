#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, GpuType)]
#[repr(C)]
pub struct Ping { pub seq: u64 }

#[ring_kernel]
pub fn h(ctx: &RingContext, msg: &Ping) {}

fn main() {}
