#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Job {
    pub value: u32,
}

#[ring_kernel]
pub fn router(ctx: &RingContext, job: &Job) {
    let copy = *job;
    let sent = ctx.try_send(0, copy);
}

fn main() {}
