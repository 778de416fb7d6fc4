#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, GpuType)]
#[repr(C)]
pub struct View<'a> { pub data: &'a [f32; 4] }

fn main() {}
