#![allow(unused)]
use ringkernel::prelude::*;

#[ring_kernel]
pub fn h(ctx: &RingContext, msg: &Vec<u8>) {}

fn main() {}
