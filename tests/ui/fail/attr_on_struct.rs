#![allow(unused)]
use ringkernel::prelude::*;

#[gpu_kernel]
pub struct NotAFunction {
    pub x: f32,
}

fn main() {}
