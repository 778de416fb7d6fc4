#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Batch { pub id: u32, pub values: Vec<f32> }

fn main() {}
