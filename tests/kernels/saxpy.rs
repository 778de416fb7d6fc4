//! DESIGN.md §2's data-parallel kernel.

use ringkernel::prelude::*;

/// A plain data-parallel kernel, launched like any CUDA kernel.
#[gpu_kernel(block_size = 256)]
pub fn saxpy(ctx: &ThreadContext, a: f32, x: &[f32], y: &mut [f32]) {
    let i = ctx.global_id() as usize;
    if i >= y.len() {
        return;
    }
    y[i] = a * x[i] + y[i];
}
