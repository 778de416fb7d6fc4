#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, GpuType)]
#[repr(C)]
pub struct Pair<T> { pub a: T, pub b: T }

fn main() {}
