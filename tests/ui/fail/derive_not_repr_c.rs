#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, GpuType)]
pub struct Stats { pub count: u64, pub total: f32 }

fn main() {}
