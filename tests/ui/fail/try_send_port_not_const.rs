#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Job {
    pub value: u32,
}

#[ring_kernel]
pub fn router(ctx: &RingContext, job: &Job) {
    let port = if ctx.actor_id() == 0 { 1 } else { 2 };
    if !ctx.try_send(port, job) {
        ctx.send(0, job);
    }
}

fn main() {}
