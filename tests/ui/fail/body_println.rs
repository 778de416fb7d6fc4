#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel]
pub fn k(ctx: &ThreadContext, y: &mut [f32]) {
    println!("thread {}", ctx.thread_id());
}

fn main() {}
