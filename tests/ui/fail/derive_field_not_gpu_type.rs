#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy)]
#[repr(C)]
pub struct Inner { pub x: f32 }

#[derive(Clone, Copy, GpuType)]
#[repr(C)]
pub struct Outer { pub inner: Inner, pub n: u32 }

fn main() {}
