#![allow(unused)]
use ringkernel::prelude::*;

#[derive(GpuType)]
#[repr(C)]
pub struct Stats { pub count: u64 }

fn main() {}
