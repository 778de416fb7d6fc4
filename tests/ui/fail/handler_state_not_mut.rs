#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Ping { pub seq: u64 }

#[derive(Clone, Copy, GpuType)]
#[repr(C)]
pub struct Count { pub n: u64 }

#[ring_kernel]
pub fn h(ctx: &RingContext, state: &Count, msg: &Ping) {}

fn main() {}
