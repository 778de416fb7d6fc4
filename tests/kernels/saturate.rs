//! A kernel calling DESIGN.md §2's `#[device_fn]`.

use ringkernel::prelude::*;

/// A helper callable from handlers and kernels; becomes a `__device__` function.
#[device_fn]
pub fn clamp01(x: f32) -> f32 {
    if x < 0.0 {
        0.0
    } else if x > 1.0 {
        1.0
    } else {
        x
    }
}

/// `y = clamp01(y)`, through the helper.
#[gpu_kernel(block_size = 128)]
pub fn saturate(ctx: &ThreadContext, y: &mut [f32]) {
    let i = ctx.global_id() as usize;
    if i < y.len() {
        y[i] = clamp01(y[i]);
    }
}
