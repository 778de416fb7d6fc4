#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, GpuType)]
#[repr(C, packed)]
pub struct Header { pub tag: u8, pub len: u32 }

fn main() {}
