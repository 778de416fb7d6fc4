#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy)]
#[repr(C)]
pub struct Pixel { pub r: u8, pub g: u8, pub b: u8, pub a: u8 }

#[gpu_kernel]
pub fn k(ctx: &ThreadContext, image: &mut [Pixel]) {}

fn main() {}
