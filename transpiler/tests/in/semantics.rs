#[gpu_kernel(block_size = 64)]
pub fn semantics(ctx: &ThreadContext, a: &[i32], b: &[i32], f: &[f32], out_i: &mut [i32], out_u8: &mut [u8], out_f: &mut [f32]) {
    let i = ctx.global_id() as usize;
    if i >= a.len() {
        return;
    }
    let x = a[i];
    let y = b[i];
    let small = (x as u8).wrapping_mul(y as u8);
    let shifted = x.wrapping_shl(y as u32) ^ (x >> (y & 31));
    let sat = (x as i16).saturating_add(y as i16) as i32;
    let q = if y != 0 && !(x == i32::MIN && y == -1) { x / y + x % y } else { 0 };
    out_i[i] = shifted.wrapping_add(sat).wrapping_add(q) ^ !x;
    out_u8[i] = small.rotate_left(3) | (x.count_ones() as u8);
    let v = f[i];
    out_f[i] = (v as i32) as f32 + v.mul_add(2.0, 1.0).clamp(-10.0, 10.0) + (v as u8) as f32;
}
