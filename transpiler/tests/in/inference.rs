// Types rustc infers from later uses: ranges of unsuffixed literals typed by
// how the loop variable is used, array literals typed by their expectation.

#[device_fn]
fn sum4(v: [f32; 4]) -> f32 {
    v[0] + v[1] + v[2] + v[3]
}

#[gpu_kernel(block_size = 64)]
pub fn inference(ctx: &ThreadContext, features: &[f32], out: &mut [f32], limit: i64) {
    let row = ctx.global_id() as usize;
    if features.len() < 16 || row >= out.len() {
        return;
    }
    // Every row writes its output; rows past the features wrap around.
    let base = (row % (features.len() / 16)) * 16;
    let mut acc = sum4([0.0; 4]);
    // `usize`, from indexing.
    for k in (0..16).step_by(4) {
        acc += features[base + k];
    }
    // `i64`, from the comparison.
    for j in (0..4).rev() {
        if j < limit {
            acc += 1.0;
        }
    }
    // `u8`, from the annotated binding, up to the type's end.
    for v in 250..=255 {
        let b: u8 = v;
        acc += b as f32;
    }
    // `i32`: nothing constrains it.
    for d in 0..3 {
        acc += d as f32;
    }
    out[row] = acc + sum4([acc; 4]);
}
