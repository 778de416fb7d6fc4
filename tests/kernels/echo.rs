//! A stateless warp actor that replies; an explicit type id.

use ringkernel::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
#[ring_message(type_id = 0x5049_4e47)]
pub struct Ping {
    pub seq: u64,
    pub payload: [u32; 12],
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Pong {
    pub seq: u64,
    pub checksum: u32,
    pub actor: u32,
}

#[ring_kernel(warps = 1)]
pub fn echo(ctx: &RingContext, msg: &Ping) -> Pong {
    let lane = ctx.thread_id() as usize;
    let part = if lane < 12 { msg.payload[lane] } else { 0 };
    let checksum = ctx.warp_reduce_sum(part);
    Pong {
        seq: msg.seq,
        checksum,
        actor: ctx.actor_id(),
    }
}
