#[device_fn]
pub fn classify(x: i32) -> u8 {
    match x {
        i32::MIN..=-1 => 0,
        0 => 1,
        1 | 2 | 3 => 2,
        n if n % 2 == 0 => 3,
        _ => 4,
    }
}

#[device_fn]
pub fn collatz_steps(mut n: u64) -> u32 {
    let mut steps = 0u32;
    while n != 1 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

#[gpu_kernel(block_size = 128)]
pub fn control_flow(ctx: &ThreadContext, input: &[i32], out: &mut [u32]) {
    let i = ctx.global_id() as usize;
    if i >= input.len() || i >= out.len() {
        return;
    }
    let v = input[i];
    let mut acc = 0u32;
    'outer: for a in 0..4 {
        for b in (0..=a).rev() {
            if b == 2 {
                continue 'outer;
            }
            if a * b > 6 {
                break 'outer;
            }
            acc = acc.wrapping_add((a * 10 + b) as u32);
        }
    }
    for s in (0..10i32).step_by(3) {
        acc += s as u32;
    }
    let found = loop {
        if acc > 1000 {
            break acc - 1000;
        }
        acc *= 2;
    };
    let c = classify(v) as u32;
    let steps = collatz_steps(((v as i64 & 0xff) as u64) + 1);
    out[i] = found + c + steps;
}
