#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Ping { pub seq: u64 }

#[ring_kernel]
pub fn h(ctx: &ThreadContext, msg: &Ping) {}

fn main() {}
