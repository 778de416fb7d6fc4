#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, Default, GpuType)]
#[repr(C)]
pub struct Stats { pub count: u64, pub total: f32 }

fn upload(rt: &Runtime) {
    let _ = rt.upload(&[Stats::default(); 4]);
}

fn main() {}
