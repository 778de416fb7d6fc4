#![allow(unused)]
use ringkernel::prelude::*;

#[ring_kernel(block_size = 64, warps = 1)]
pub fn h(ctx: &RingContext, msg: &Ping) {}

#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Ping { pub seq: u64 }

fn main() {}
