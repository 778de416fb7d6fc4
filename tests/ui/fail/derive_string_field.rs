#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Hello { pub name: String }

fn main() {}
