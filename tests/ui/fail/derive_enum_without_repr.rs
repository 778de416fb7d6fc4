#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, RingMessage)]
pub enum Command { Start, Stop }

fn main() {}
