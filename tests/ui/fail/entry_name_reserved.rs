#![allow(unused)]
use ringkernel::prelude::*;

#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Value { pub v: f64 }

#[ring_kernel]
pub fn double(ctx: &RingContext, msg: &Value) -> Value {
    Value { v: msg.v * 2.0 }
}

fn main() {}
