// Array values: list literals `[a, b, c]` (element type from the expected
// type), repeat literals, arrays passed to and returned from device
// functions, and element writes through indices.

#[device_fn]
fn weights(scale: f32) -> [f32; 4] {
    [0.5 * scale, -1.25, 2.0 / scale, scale]
}

#[device_fn]
fn dot4(a: [f32; 4], b: [f32; 4]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]
}

#[gpu_kernel(block_size = 128)]
pub fn mix(ctx: &ThreadContext, scale: f32, x: &[f32], out: &mut [f32], bytes: &mut [u8]) {
    let i = ctx.global_id() as usize;
    if i >= out.len() || i + 3 >= x.len() || i >= bytes.len() {
        return;
    }
    let v = [x[i], x[i + 1], x[i + 2], x[i + 3]];
    let mut w = weights(scale);
    w[3] = w[3] - 1.0;
    out[i] = dot4(v, w);
    let small: [u8; 3] = [1, 200, (i % 251) as u8];
    let mut acc = 0u8;
    for k in 0..3 {
        acc = acc.wrapping_add(small[k]);
    }
    bytes[i] = acc;
}
