#![allow(unused)]
use ringkernel::prelude::*;

#[ring_kernel]
pub fn h(ctx: &RingContext) {}

fn main() {}
