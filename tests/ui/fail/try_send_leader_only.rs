#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Job {
    pub value: u32,
}

// `try_send` is block-wide: under `if ctx.is_leader()` the other threads
// never reach it (on the GPU the block would hang at its barrier).
#[ring_kernel(block_size = 64)]
pub fn leader_only(ctx: &RingContext, job: &Job) {
    if ctx.is_leader() {
        let sent = ctx.try_send(0, job);
    }
}

fn main() {}
