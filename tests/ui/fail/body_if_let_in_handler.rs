#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Ping { pub seq: u64 }

#[ring_kernel]
pub fn h(ctx: &RingContext, msg: &Ping) -> Ping {
    let found = Some(msg.seq);
    if let Some(seq) = found {
        return Ping { seq };
    }
    *msg
}

fn main() {}
