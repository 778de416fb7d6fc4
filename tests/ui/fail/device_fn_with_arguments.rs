#![allow(unused)]
use ringkernel::prelude::*;

#[device_fn(inline)]
pub fn twice(x: f32) -> f32 {
    x * 2.0
}

fn main() {}
