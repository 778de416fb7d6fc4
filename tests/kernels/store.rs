//! A stateful actor without replies, overflow checks off.

use ringkernel::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, GpuType)]
#[repr(C)]
pub struct Table {
    pub cells: [u32; 8],
    pub writes: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Put {
    pub index: u32,
    pub value: u32,
}

#[ring_kernel(block_size = 32, checks = false)]
pub fn store(ctx: &RingContext, state: &mut Table, msg: &Put) {
    if ctx.is_leader() {
        state.cells[(msg.index % 8) as usize] = msg.value;
        state.writes += 1;
    }
}
