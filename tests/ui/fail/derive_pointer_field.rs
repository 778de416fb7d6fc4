#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, GpuType)]
#[repr(C)]
pub struct Node { pub value: u32, pub next: *const Node }

fn main() {}
