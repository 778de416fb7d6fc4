//! A 2-D block, an entry name of its own, checks off, a local constant.

use ringkernel::prelude::*;

#[gpu_kernel(block = (16, 16), name = "box_blur_3x3", checks = false)]
pub fn blur(ctx: &ThreadContext, width: u32, height: u32, input: &[f32], output: &mut [f32]) {
    const R: i32 = 1;
    let x = ctx.global_x() as i32;
    let y = ctx.global_y() as i32;
    if x >= width as i32 || y >= height as i32 {
        return;
    }
    let mut sum = 0.0f32;
    let mut count = 0u32;
    for dy in -R..=R {
        for dx in -R..=R {
            let sx = x + dx;
            let sy = y + dy;
            if sx >= 0 && sy >= 0 && sx < width as i32 && sy < height as i32 {
                sum += input[(sy as u32 * width + sx as u32) as usize];
                count += 1;
            }
        }
    }
    output[(y as u32 * width + x as u32) as usize] = sum / count as f32;
}
