#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Ping { pub seq: u64 }

#[ring_kernel]
pub fn h<'a>(ctx: &RingContext, msg: &'a Ping) -> &'a Ping {
    msg
}

fn main() {}
