#![allow(unused)]
use ringkernel::prelude::*;

#[device_fn]
pub fn norm(x: f32) -> f32 {
    let f: &dyn Fn(f32) -> f32 = &|v| v * v;
    f(x)
}

fn main() {}
