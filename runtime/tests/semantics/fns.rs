// Pure Rust functions, one semantic corner each: the reference side of the
// differential semantics test (tests/semantics.rs). The test compiles this
// file with rustc (through `include!`) and, as text, through the
// transpiler (adding `#[device_fn]` and one `#[gpu_kernel]` wrapper per
// function), then compares both on the same inputs bit for bit.
//
// Keep it plain: no attributes, no `use`, one `pub fn` per corner, scalar
// parameters and result. Name prefixes choose the comparison: `raw_`
// compares NaN payloads too (sign/bit operations), `ulp_` allows the
// per-function ULP bound documented in tests/semantics.rs, anything else
// is bit-exact with NaNs compared as NaNs. Every function is listed, with
// its signature, in table.rs (the test checks that the two agree).
// Division and remainder are guarded: Rust panics on x / 0 and
// MIN / -1 even in release.

pub fn cast_i8_i16(x: i8) -> i16 {
    x as i16
}

pub fn cast_i8_i32(x: i8) -> i32 {
    x as i32
}

pub fn cast_i8_i64(x: i8) -> i64 {
    x as i64
}

pub fn cast_i8_isize(x: i8) -> isize {
    x as isize
}

pub fn cast_i8_u8(x: i8) -> u8 {
    x as u8
}

pub fn cast_i8_u16(x: i8) -> u16 {
    x as u16
}

pub fn cast_i8_u32(x: i8) -> u32 {
    x as u32
}

pub fn cast_i8_u64(x: i8) -> u64 {
    x as u64
}

pub fn cast_i8_usize(x: i8) -> usize {
    x as usize
}

pub fn cast_i8_f32(x: i8) -> f32 {
    x as f32
}

pub fn cast_i8_f64(x: i8) -> f64 {
    x as f64
}

pub fn cast_i16_i8(x: i16) -> i8 {
    x as i8
}

pub fn cast_i16_i32(x: i16) -> i32 {
    x as i32
}

pub fn cast_i16_i64(x: i16) -> i64 {
    x as i64
}

pub fn cast_i16_isize(x: i16) -> isize {
    x as isize
}

pub fn cast_i16_u8(x: i16) -> u8 {
    x as u8
}

pub fn cast_i16_u16(x: i16) -> u16 {
    x as u16
}

pub fn cast_i16_u32(x: i16) -> u32 {
    x as u32
}

pub fn cast_i16_u64(x: i16) -> u64 {
    x as u64
}

pub fn cast_i16_usize(x: i16) -> usize {
    x as usize
}

pub fn cast_i16_f32(x: i16) -> f32 {
    x as f32
}

pub fn cast_i16_f64(x: i16) -> f64 {
    x as f64
}

pub fn cast_i32_i8(x: i32) -> i8 {
    x as i8
}

pub fn cast_i32_i16(x: i32) -> i16 {
    x as i16
}

pub fn cast_i32_i64(x: i32) -> i64 {
    x as i64
}

pub fn cast_i32_isize(x: i32) -> isize {
    x as isize
}

pub fn cast_i32_u8(x: i32) -> u8 {
    x as u8
}

pub fn cast_i32_u16(x: i32) -> u16 {
    x as u16
}

pub fn cast_i32_u32(x: i32) -> u32 {
    x as u32
}

pub fn cast_i32_u64(x: i32) -> u64 {
    x as u64
}

pub fn cast_i32_usize(x: i32) -> usize {
    x as usize
}

pub fn cast_i32_f32(x: i32) -> f32 {
    x as f32
}

pub fn cast_i32_f64(x: i32) -> f64 {
    x as f64
}

pub fn cast_i64_i8(x: i64) -> i8 {
    x as i8
}

pub fn cast_i64_i16(x: i64) -> i16 {
    x as i16
}

pub fn cast_i64_i32(x: i64) -> i32 {
    x as i32
}

pub fn cast_i64_isize(x: i64) -> isize {
    x as isize
}

pub fn cast_i64_u8(x: i64) -> u8 {
    x as u8
}

pub fn cast_i64_u16(x: i64) -> u16 {
    x as u16
}

pub fn cast_i64_u32(x: i64) -> u32 {
    x as u32
}

pub fn cast_i64_u64(x: i64) -> u64 {
    x as u64
}

pub fn cast_i64_usize(x: i64) -> usize {
    x as usize
}

pub fn cast_i64_f32(x: i64) -> f32 {
    x as f32
}

pub fn cast_i64_f64(x: i64) -> f64 {
    x as f64
}

pub fn cast_isize_i8(x: isize) -> i8 {
    x as i8
}

pub fn cast_isize_i16(x: isize) -> i16 {
    x as i16
}

pub fn cast_isize_i32(x: isize) -> i32 {
    x as i32
}

pub fn cast_isize_i64(x: isize) -> i64 {
    x as i64
}

pub fn cast_isize_u8(x: isize) -> u8 {
    x as u8
}

pub fn cast_isize_u16(x: isize) -> u16 {
    x as u16
}

pub fn cast_isize_u32(x: isize) -> u32 {
    x as u32
}

pub fn cast_isize_u64(x: isize) -> u64 {
    x as u64
}

pub fn cast_isize_usize(x: isize) -> usize {
    x as usize
}

pub fn cast_isize_f32(x: isize) -> f32 {
    x as f32
}

pub fn cast_isize_f64(x: isize) -> f64 {
    x as f64
}

pub fn cast_u8_i8(x: u8) -> i8 {
    x as i8
}

pub fn cast_u8_i16(x: u8) -> i16 {
    x as i16
}

pub fn cast_u8_i32(x: u8) -> i32 {
    x as i32
}

pub fn cast_u8_i64(x: u8) -> i64 {
    x as i64
}

pub fn cast_u8_isize(x: u8) -> isize {
    x as isize
}

pub fn cast_u8_u16(x: u8) -> u16 {
    x as u16
}

pub fn cast_u8_u32(x: u8) -> u32 {
    x as u32
}

pub fn cast_u8_u64(x: u8) -> u64 {
    x as u64
}

pub fn cast_u8_usize(x: u8) -> usize {
    x as usize
}

pub fn cast_u8_f32(x: u8) -> f32 {
    x as f32
}

pub fn cast_u8_f64(x: u8) -> f64 {
    x as f64
}

pub fn cast_u16_i8(x: u16) -> i8 {
    x as i8
}

pub fn cast_u16_i16(x: u16) -> i16 {
    x as i16
}

pub fn cast_u16_i32(x: u16) -> i32 {
    x as i32
}

pub fn cast_u16_i64(x: u16) -> i64 {
    x as i64
}

pub fn cast_u16_isize(x: u16) -> isize {
    x as isize
}

pub fn cast_u16_u8(x: u16) -> u8 {
    x as u8
}

pub fn cast_u16_u32(x: u16) -> u32 {
    x as u32
}

pub fn cast_u16_u64(x: u16) -> u64 {
    x as u64
}

pub fn cast_u16_usize(x: u16) -> usize {
    x as usize
}

pub fn cast_u16_f32(x: u16) -> f32 {
    x as f32
}

pub fn cast_u16_f64(x: u16) -> f64 {
    x as f64
}

pub fn cast_u32_i8(x: u32) -> i8 {
    x as i8
}

pub fn cast_u32_i16(x: u32) -> i16 {
    x as i16
}

pub fn cast_u32_i32(x: u32) -> i32 {
    x as i32
}

pub fn cast_u32_i64(x: u32) -> i64 {
    x as i64
}

pub fn cast_u32_isize(x: u32) -> isize {
    x as isize
}

pub fn cast_u32_u8(x: u32) -> u8 {
    x as u8
}

pub fn cast_u32_u16(x: u32) -> u16 {
    x as u16
}

pub fn cast_u32_u64(x: u32) -> u64 {
    x as u64
}

pub fn cast_u32_usize(x: u32) -> usize {
    x as usize
}

pub fn cast_u32_f32(x: u32) -> f32 {
    x as f32
}

pub fn cast_u32_f64(x: u32) -> f64 {
    x as f64
}

pub fn cast_u64_i8(x: u64) -> i8 {
    x as i8
}

pub fn cast_u64_i16(x: u64) -> i16 {
    x as i16
}

pub fn cast_u64_i32(x: u64) -> i32 {
    x as i32
}

pub fn cast_u64_i64(x: u64) -> i64 {
    x as i64
}

pub fn cast_u64_isize(x: u64) -> isize {
    x as isize
}

pub fn cast_u64_u8(x: u64) -> u8 {
    x as u8
}

pub fn cast_u64_u16(x: u64) -> u16 {
    x as u16
}

pub fn cast_u64_u32(x: u64) -> u32 {
    x as u32
}

pub fn cast_u64_usize(x: u64) -> usize {
    x as usize
}

pub fn cast_u64_f32(x: u64) -> f32 {
    x as f32
}

pub fn cast_u64_f64(x: u64) -> f64 {
    x as f64
}

pub fn cast_usize_i8(x: usize) -> i8 {
    x as i8
}

pub fn cast_usize_i16(x: usize) -> i16 {
    x as i16
}

pub fn cast_usize_i32(x: usize) -> i32 {
    x as i32
}

pub fn cast_usize_i64(x: usize) -> i64 {
    x as i64
}

pub fn cast_usize_isize(x: usize) -> isize {
    x as isize
}

pub fn cast_usize_u8(x: usize) -> u8 {
    x as u8
}

pub fn cast_usize_u16(x: usize) -> u16 {
    x as u16
}

pub fn cast_usize_u32(x: usize) -> u32 {
    x as u32
}

pub fn cast_usize_u64(x: usize) -> u64 {
    x as u64
}

pub fn cast_usize_f32(x: usize) -> f32 {
    x as f32
}

pub fn cast_usize_f64(x: usize) -> f64 {
    x as f64
}

pub fn cast_f32_i8(x: f32) -> i8 {
    x as i8
}

pub fn cast_f32_i16(x: f32) -> i16 {
    x as i16
}

pub fn cast_f32_i32(x: f32) -> i32 {
    x as i32
}

pub fn cast_f32_i64(x: f32) -> i64 {
    x as i64
}

pub fn cast_f32_isize(x: f32) -> isize {
    x as isize
}

pub fn cast_f32_u8(x: f32) -> u8 {
    x as u8
}

pub fn cast_f32_u16(x: f32) -> u16 {
    x as u16
}

pub fn cast_f32_u32(x: f32) -> u32 {
    x as u32
}

pub fn cast_f32_u64(x: f32) -> u64 {
    x as u64
}

pub fn cast_f32_usize(x: f32) -> usize {
    x as usize
}

pub fn cast_f32_f64(x: f32) -> f64 {
    x as f64
}

pub fn cast_f64_i8(x: f64) -> i8 {
    x as i8
}

pub fn cast_f64_i16(x: f64) -> i16 {
    x as i16
}

pub fn cast_f64_i32(x: f64) -> i32 {
    x as i32
}

pub fn cast_f64_i64(x: f64) -> i64 {
    x as i64
}

pub fn cast_f64_isize(x: f64) -> isize {
    x as isize
}

pub fn cast_f64_u8(x: f64) -> u8 {
    x as u8
}

pub fn cast_f64_u16(x: f64) -> u16 {
    x as u16
}

pub fn cast_f64_u32(x: f64) -> u32 {
    x as u32
}

pub fn cast_f64_u64(x: f64) -> u64 {
    x as u64
}

pub fn cast_f64_usize(x: f64) -> usize {
    x as usize
}

pub fn cast_f64_f32(x: f64) -> f32 {
    x as f32
}

pub fn cast_bool_i8(x: bool) -> i8 {
    x as i8
}

pub fn cast_bool_i16(x: bool) -> i16 {
    x as i16
}

pub fn cast_bool_i32(x: bool) -> i32 {
    x as i32
}

pub fn cast_bool_i64(x: bool) -> i64 {
    x as i64
}

pub fn cast_bool_isize(x: bool) -> isize {
    x as isize
}

pub fn cast_bool_u8(x: bool) -> u8 {
    x as u8
}

pub fn cast_bool_u16(x: bool) -> u16 {
    x as u16
}

pub fn cast_bool_u32(x: bool) -> u32 {
    x as u32
}

pub fn cast_bool_u64(x: bool) -> u64 {
    x as u64
}

pub fn cast_bool_usize(x: bool) -> usize {
    x as usize
}

pub fn add_i8(a: i8, b: i8) -> i8 {
    a + b
}

pub fn sub_i8(a: i8, b: i8) -> i8 {
    a - b
}

pub fn mul_i8(a: i8, b: i8) -> i8 {
    a * b
}

pub fn div_i8(a: i8, b: i8) -> i8 {
    if b == 0 || (a == i8::MIN && b == -1) { 0 } else { a / b }
}

pub fn rem_i8(a: i8, b: i8) -> i8 {
    if b == 0 || (a == i8::MIN && b == -1) { 0 } else { a % b }
}

pub fn shl_i8(a: i8, s: u32) -> i8 {
    a << s
}

pub fn shr_i8(a: i8, s: u32) -> i8 {
    a >> s
}

pub fn not_i8(a: i8) -> i8 {
    !a
}

pub fn neg_i8(a: i8) -> i8 {
    -a
}

pub fn bits_i8(a: i8, b: i8, c: i8) -> i8 {
    (a & b) | (!a & c) ^ (b | c)
}

pub fn cmp_i8(a: i8, b: i8) -> u8 {
    (a < b) as u8 | ((a <= b) as u8) << 1 | ((a == b) as u8) << 2 | ((a > b) as u8) << 3 | ((a >= b) as u8) << 4 | ((a != b) as u8) << 5
}

pub fn add_i16(a: i16, b: i16) -> i16 {
    a + b
}

pub fn sub_i16(a: i16, b: i16) -> i16 {
    a - b
}

pub fn mul_i16(a: i16, b: i16) -> i16 {
    a * b
}

pub fn div_i16(a: i16, b: i16) -> i16 {
    if b == 0 || (a == i16::MIN && b == -1) { 0 } else { a / b }
}

pub fn rem_i16(a: i16, b: i16) -> i16 {
    if b == 0 || (a == i16::MIN && b == -1) { 0 } else { a % b }
}

pub fn shl_i16(a: i16, s: u32) -> i16 {
    a << s
}

pub fn shr_i16(a: i16, s: u32) -> i16 {
    a >> s
}

pub fn not_i16(a: i16) -> i16 {
    !a
}

pub fn neg_i16(a: i16) -> i16 {
    -a
}

pub fn bits_i16(a: i16, b: i16, c: i16) -> i16 {
    (a & b) | (!a & c) ^ (b | c)
}

pub fn cmp_i16(a: i16, b: i16) -> u8 {
    (a < b) as u8 | ((a <= b) as u8) << 1 | ((a == b) as u8) << 2 | ((a > b) as u8) << 3 | ((a >= b) as u8) << 4 | ((a != b) as u8) << 5
}

pub fn add_i32(a: i32, b: i32) -> i32 {
    a + b
}

pub fn sub_i32(a: i32, b: i32) -> i32 {
    a - b
}

pub fn mul_i32(a: i32, b: i32) -> i32 {
    a * b
}

pub fn div_i32(a: i32, b: i32) -> i32 {
    if b == 0 || (a == i32::MIN && b == -1) { 0 } else { a / b }
}

pub fn rem_i32(a: i32, b: i32) -> i32 {
    if b == 0 || (a == i32::MIN && b == -1) { 0 } else { a % b }
}

pub fn shl_i32(a: i32, s: u32) -> i32 {
    a << s
}

pub fn shr_i32(a: i32, s: u32) -> i32 {
    a >> s
}

pub fn not_i32(a: i32) -> i32 {
    !a
}

pub fn neg_i32(a: i32) -> i32 {
    -a
}

pub fn bits_i32(a: i32, b: i32, c: i32) -> i32 {
    (a & b) | (!a & c) ^ (b | c)
}

pub fn cmp_i32(a: i32, b: i32) -> u8 {
    (a < b) as u8 | ((a <= b) as u8) << 1 | ((a == b) as u8) << 2 | ((a > b) as u8) << 3 | ((a >= b) as u8) << 4 | ((a != b) as u8) << 5
}

pub fn add_i64(a: i64, b: i64) -> i64 {
    a + b
}

pub fn sub_i64(a: i64, b: i64) -> i64 {
    a - b
}

pub fn mul_i64(a: i64, b: i64) -> i64 {
    a * b
}

pub fn div_i64(a: i64, b: i64) -> i64 {
    if b == 0 || (a == i64::MIN && b == -1) { 0 } else { a / b }
}

pub fn rem_i64(a: i64, b: i64) -> i64 {
    if b == 0 || (a == i64::MIN && b == -1) { 0 } else { a % b }
}

pub fn shl_i64(a: i64, s: u32) -> i64 {
    a << s
}

pub fn shr_i64(a: i64, s: u32) -> i64 {
    a >> s
}

pub fn not_i64(a: i64) -> i64 {
    !a
}

pub fn neg_i64(a: i64) -> i64 {
    -a
}

pub fn bits_i64(a: i64, b: i64, c: i64) -> i64 {
    (a & b) | (!a & c) ^ (b | c)
}

pub fn cmp_i64(a: i64, b: i64) -> u8 {
    (a < b) as u8 | ((a <= b) as u8) << 1 | ((a == b) as u8) << 2 | ((a > b) as u8) << 3 | ((a >= b) as u8) << 4 | ((a != b) as u8) << 5
}

pub fn add_isize(a: isize, b: isize) -> isize {
    a + b
}

pub fn sub_isize(a: isize, b: isize) -> isize {
    a - b
}

pub fn mul_isize(a: isize, b: isize) -> isize {
    a * b
}

pub fn div_isize(a: isize, b: isize) -> isize {
    if b == 0 || (a == isize::MIN && b == -1) { 0 } else { a / b }
}

pub fn rem_isize(a: isize, b: isize) -> isize {
    if b == 0 || (a == isize::MIN && b == -1) { 0 } else { a % b }
}

pub fn shl_isize(a: isize, s: u32) -> isize {
    a << s
}

pub fn shr_isize(a: isize, s: u32) -> isize {
    a >> s
}

pub fn not_isize(a: isize) -> isize {
    !a
}

pub fn neg_isize(a: isize) -> isize {
    -a
}

pub fn bits_isize(a: isize, b: isize, c: isize) -> isize {
    (a & b) | (!a & c) ^ (b | c)
}

pub fn cmp_isize(a: isize, b: isize) -> u8 {
    (a < b) as u8 | ((a <= b) as u8) << 1 | ((a == b) as u8) << 2 | ((a > b) as u8) << 3 | ((a >= b) as u8) << 4 | ((a != b) as u8) << 5
}

pub fn add_u8(a: u8, b: u8) -> u8 {
    a + b
}

pub fn sub_u8(a: u8, b: u8) -> u8 {
    a - b
}

pub fn mul_u8(a: u8, b: u8) -> u8 {
    a * b
}

pub fn div_u8(a: u8, b: u8) -> u8 {
    if b == 0 { 0 } else { a / b }
}

pub fn rem_u8(a: u8, b: u8) -> u8 {
    if b == 0 { 0 } else { a % b }
}

pub fn shl_u8(a: u8, s: u32) -> u8 {
    a << s
}

pub fn shr_u8(a: u8, s: u32) -> u8 {
    a >> s
}

pub fn not_u8(a: u8) -> u8 {
    !a
}

pub fn bits_u8(a: u8, b: u8, c: u8) -> u8 {
    (a & b) | (!a & c) ^ (b | c)
}

pub fn cmp_u8(a: u8, b: u8) -> u8 {
    (a < b) as u8 | ((a <= b) as u8) << 1 | ((a == b) as u8) << 2 | ((a > b) as u8) << 3 | ((a >= b) as u8) << 4 | ((a != b) as u8) << 5
}

pub fn add_u16(a: u16, b: u16) -> u16 {
    a + b
}

pub fn sub_u16(a: u16, b: u16) -> u16 {
    a - b
}

pub fn mul_u16(a: u16, b: u16) -> u16 {
    a * b
}

pub fn div_u16(a: u16, b: u16) -> u16 {
    if b == 0 { 0 } else { a / b }
}

pub fn rem_u16(a: u16, b: u16) -> u16 {
    if b == 0 { 0 } else { a % b }
}

pub fn shl_u16(a: u16, s: u32) -> u16 {
    a << s
}

pub fn shr_u16(a: u16, s: u32) -> u16 {
    a >> s
}

pub fn not_u16(a: u16) -> u16 {
    !a
}

pub fn bits_u16(a: u16, b: u16, c: u16) -> u16 {
    (a & b) | (!a & c) ^ (b | c)
}

pub fn cmp_u16(a: u16, b: u16) -> u8 {
    (a < b) as u8 | ((a <= b) as u8) << 1 | ((a == b) as u8) << 2 | ((a > b) as u8) << 3 | ((a >= b) as u8) << 4 | ((a != b) as u8) << 5
}

pub fn add_u32(a: u32, b: u32) -> u32 {
    a + b
}

pub fn sub_u32(a: u32, b: u32) -> u32 {
    a - b
}

pub fn mul_u32(a: u32, b: u32) -> u32 {
    a * b
}

pub fn div_u32(a: u32, b: u32) -> u32 {
    if b == 0 { 0 } else { a / b }
}

pub fn rem_u32(a: u32, b: u32) -> u32 {
    if b == 0 { 0 } else { a % b }
}

pub fn shl_u32(a: u32, s: u32) -> u32 {
    a << s
}

pub fn shr_u32(a: u32, s: u32) -> u32 {
    a >> s
}

pub fn not_u32(a: u32) -> u32 {
    !a
}

pub fn bits_u32(a: u32, b: u32, c: u32) -> u32 {
    (a & b) | (!a & c) ^ (b | c)
}

pub fn cmp_u32(a: u32, b: u32) -> u8 {
    (a < b) as u8 | ((a <= b) as u8) << 1 | ((a == b) as u8) << 2 | ((a > b) as u8) << 3 | ((a >= b) as u8) << 4 | ((a != b) as u8) << 5
}

pub fn add_u64(a: u64, b: u64) -> u64 {
    a + b
}

pub fn sub_u64(a: u64, b: u64) -> u64 {
    a - b
}

pub fn mul_u64(a: u64, b: u64) -> u64 {
    a * b
}

pub fn div_u64(a: u64, b: u64) -> u64 {
    if b == 0 { 0 } else { a / b }
}

pub fn rem_u64(a: u64, b: u64) -> u64 {
    if b == 0 { 0 } else { a % b }
}

pub fn shl_u64(a: u64, s: u32) -> u64 {
    a << s
}

pub fn shr_u64(a: u64, s: u32) -> u64 {
    a >> s
}

pub fn not_u64(a: u64) -> u64 {
    !a
}

pub fn bits_u64(a: u64, b: u64, c: u64) -> u64 {
    (a & b) | (!a & c) ^ (b | c)
}

pub fn cmp_u64(a: u64, b: u64) -> u8 {
    (a < b) as u8 | ((a <= b) as u8) << 1 | ((a == b) as u8) << 2 | ((a > b) as u8) << 3 | ((a >= b) as u8) << 4 | ((a != b) as u8) << 5
}

pub fn add_usize(a: usize, b: usize) -> usize {
    a + b
}

pub fn sub_usize(a: usize, b: usize) -> usize {
    a - b
}

pub fn mul_usize(a: usize, b: usize) -> usize {
    a * b
}

pub fn div_usize(a: usize, b: usize) -> usize {
    if b == 0 { 0 } else { a / b }
}

pub fn rem_usize(a: usize, b: usize) -> usize {
    if b == 0 { 0 } else { a % b }
}

pub fn shl_usize(a: usize, s: u32) -> usize {
    a << s
}

pub fn shr_usize(a: usize, s: u32) -> usize {
    a >> s
}

pub fn not_usize(a: usize) -> usize {
    !a
}

pub fn bits_usize(a: usize, b: usize, c: usize) -> usize {
    (a & b) | (!a & c) ^ (b | c)
}

pub fn cmp_usize(a: usize, b: usize) -> u8 {
    (a < b) as u8 | ((a <= b) as u8) << 1 | ((a == b) as u8) << 2 | ((a > b) as u8) << 3 | ((a >= b) as u8) << 4 | ((a != b) as u8) << 5
}

pub fn shr_i32_by_i8(a: i32, s: i8) -> i32 {
    a >> s
}

pub fn shl_u8_by_i64(a: u8, s: i64) -> u8 {
    a << s
}

pub fn shl_i64_by_u8(a: i64, s: u8) -> i64 {
    a << s
}

pub fn compound_i16(a: i16, b: i16) -> i16 {
    let mut x = a;
    x += b;
    x *= 3;
    x -= a;
    x <<= 2;
    x >>= 1;
    x ^= b;
    x
}

pub fn promote_mul_shr_u8(a: u8, b: u8) -> u8 {
    (a * b) >> 3
}

pub fn promote_add_lt_u8(a: u8, b: u8) -> bool {
    a + b < a
}

pub fn promote_not_shr_u8(a: u8) -> u8 {
    !a >> 4
}

pub fn promote_sub_div_u16(a: u16, b: u16) -> u16 {
    (a - b) / 3
}

pub fn promote_mul_eq_u16(a: u16, b: u16) -> bool {
    a * b == b * a && a * b >= a.wrapping_mul(b)
}

pub fn promote_neg_shr_i8(a: i8) -> i8 {
    (-a) >> 1
}

pub fn promote_mul_cmp_i16(a: i16, b: i16) -> bool {
    a * b < 0
}

pub fn promote_shl_back_u16(a: u16) -> u16 {
    (a << 8) >> 8
}

pub fn promote_cast_chain(a: i8, b: u16) -> i32 {
    ((a as u16).wrapping_add(b) as i16 as i32) * 3
}

pub fn wrapping_i8(a: i8, b: i8, s: u32) -> i8 {
    a.wrapping_add(b) ^ a.wrapping_sub(b).wrapping_mul(b) ^ a.wrapping_neg() ^ a.wrapping_shl(s) ^ b.wrapping_shr(s)
}

pub fn saturating_add_i8(a: i8, b: i8) -> i8 {
    a.saturating_add(b)
}

pub fn saturating_sub_i8(a: i8, b: i8) -> i8 {
    a.saturating_sub(b)
}

pub fn saturating_mul_i8(a: i8, b: i8) -> i8 {
    a.saturating_mul(b)
}

pub fn count_i8(a: i8) -> u32 {
    a.count_ones() * 10000 + a.leading_zeros() * 100 + a.trailing_zeros()
}

pub fn rotate_left_i8(a: i8, s: u32) -> i8 {
    a.rotate_left(s)
}

pub fn rotate_right_i8(a: i8, s: u32) -> i8 {
    a.rotate_right(s)
}

pub fn pow_i8(a: i8, e: u32) -> i8 {
    a.pow(e)
}

pub fn minmax_i8(a: i8, b: i8, c: i8) -> i8 {
    let lo = b.min(c);
    let hi = b.max(c);
    a.min(b) ^ a.max(c) ^ a.clamp(lo, hi)
}

pub fn abs_i8(a: i8) -> i8 {
    a.abs()
}

pub fn wrapping_i16(a: i16, b: i16, s: u32) -> i16 {
    a.wrapping_add(b) ^ a.wrapping_sub(b).wrapping_mul(b) ^ a.wrapping_neg() ^ a.wrapping_shl(s) ^ b.wrapping_shr(s)
}

pub fn saturating_add_i16(a: i16, b: i16) -> i16 {
    a.saturating_add(b)
}

pub fn saturating_sub_i16(a: i16, b: i16) -> i16 {
    a.saturating_sub(b)
}

pub fn saturating_mul_i16(a: i16, b: i16) -> i16 {
    a.saturating_mul(b)
}

pub fn count_i16(a: i16) -> u32 {
    a.count_ones() * 10000 + a.leading_zeros() * 100 + a.trailing_zeros()
}

pub fn rotate_left_i16(a: i16, s: u32) -> i16 {
    a.rotate_left(s)
}

pub fn rotate_right_i16(a: i16, s: u32) -> i16 {
    a.rotate_right(s)
}

pub fn pow_i16(a: i16, e: u32) -> i16 {
    a.pow(e)
}

pub fn minmax_i16(a: i16, b: i16, c: i16) -> i16 {
    let lo = b.min(c);
    let hi = b.max(c);
    a.min(b) ^ a.max(c) ^ a.clamp(lo, hi)
}

pub fn abs_i16(a: i16) -> i16 {
    a.abs()
}

pub fn wrapping_i32(a: i32, b: i32, s: u32) -> i32 {
    a.wrapping_add(b) ^ a.wrapping_sub(b).wrapping_mul(b) ^ a.wrapping_neg() ^ a.wrapping_shl(s) ^ b.wrapping_shr(s)
}

pub fn saturating_add_i32(a: i32, b: i32) -> i32 {
    a.saturating_add(b)
}

pub fn saturating_sub_i32(a: i32, b: i32) -> i32 {
    a.saturating_sub(b)
}

pub fn saturating_mul_i32(a: i32, b: i32) -> i32 {
    a.saturating_mul(b)
}

pub fn count_i32(a: i32) -> u32 {
    a.count_ones() * 10000 + a.leading_zeros() * 100 + a.trailing_zeros()
}

pub fn rotate_left_i32(a: i32, s: u32) -> i32 {
    a.rotate_left(s)
}

pub fn rotate_right_i32(a: i32, s: u32) -> i32 {
    a.rotate_right(s)
}

pub fn pow_i32(a: i32, e: u32) -> i32 {
    a.pow(e)
}

pub fn minmax_i32(a: i32, b: i32, c: i32) -> i32 {
    let lo = b.min(c);
    let hi = b.max(c);
    a.min(b) ^ a.max(c) ^ a.clamp(lo, hi)
}

pub fn abs_i32(a: i32) -> i32 {
    a.abs()
}

pub fn wrapping_i64(a: i64, b: i64, s: u32) -> i64 {
    a.wrapping_add(b) ^ a.wrapping_sub(b).wrapping_mul(b) ^ a.wrapping_neg() ^ a.wrapping_shl(s) ^ b.wrapping_shr(s)
}

pub fn saturating_add_i64(a: i64, b: i64) -> i64 {
    a.saturating_add(b)
}

pub fn saturating_sub_i64(a: i64, b: i64) -> i64 {
    a.saturating_sub(b)
}

pub fn saturating_mul_i64(a: i64, b: i64) -> i64 {
    a.saturating_mul(b)
}

pub fn count_i64(a: i64) -> u32 {
    a.count_ones() * 10000 + a.leading_zeros() * 100 + a.trailing_zeros()
}

pub fn rotate_left_i64(a: i64, s: u32) -> i64 {
    a.rotate_left(s)
}

pub fn rotate_right_i64(a: i64, s: u32) -> i64 {
    a.rotate_right(s)
}

pub fn pow_i64(a: i64, e: u32) -> i64 {
    a.pow(e)
}

pub fn minmax_i64(a: i64, b: i64, c: i64) -> i64 {
    let lo = b.min(c);
    let hi = b.max(c);
    a.min(b) ^ a.max(c) ^ a.clamp(lo, hi)
}

pub fn abs_i64(a: i64) -> i64 {
    a.abs()
}

pub fn wrapping_u8(a: u8, b: u8, s: u32) -> u8 {
    a.wrapping_add(b) ^ a.wrapping_sub(b).wrapping_mul(b) ^ a.wrapping_neg() ^ a.wrapping_shl(s) ^ b.wrapping_shr(s)
}

pub fn saturating_add_u8(a: u8, b: u8) -> u8 {
    a.saturating_add(b)
}

pub fn saturating_sub_u8(a: u8, b: u8) -> u8 {
    a.saturating_sub(b)
}

pub fn saturating_mul_u8(a: u8, b: u8) -> u8 {
    a.saturating_mul(b)
}

pub fn count_u8(a: u8) -> u32 {
    a.count_ones() * 10000 + a.leading_zeros() * 100 + a.trailing_zeros()
}

pub fn rotate_left_u8(a: u8, s: u32) -> u8 {
    a.rotate_left(s)
}

pub fn rotate_right_u8(a: u8, s: u32) -> u8 {
    a.rotate_right(s)
}

pub fn pow_u8(a: u8, e: u32) -> u8 {
    a.pow(e)
}

pub fn minmax_u8(a: u8, b: u8, c: u8) -> u8 {
    let lo = b.min(c);
    let hi = b.max(c);
    a.min(b) ^ a.max(c) ^ a.clamp(lo, hi)
}

pub fn wrapping_u16(a: u16, b: u16, s: u32) -> u16 {
    a.wrapping_add(b) ^ a.wrapping_sub(b).wrapping_mul(b) ^ a.wrapping_neg() ^ a.wrapping_shl(s) ^ b.wrapping_shr(s)
}

pub fn saturating_add_u16(a: u16, b: u16) -> u16 {
    a.saturating_add(b)
}

pub fn saturating_sub_u16(a: u16, b: u16) -> u16 {
    a.saturating_sub(b)
}

pub fn saturating_mul_u16(a: u16, b: u16) -> u16 {
    a.saturating_mul(b)
}

pub fn count_u16(a: u16) -> u32 {
    a.count_ones() * 10000 + a.leading_zeros() * 100 + a.trailing_zeros()
}

pub fn rotate_left_u16(a: u16, s: u32) -> u16 {
    a.rotate_left(s)
}

pub fn rotate_right_u16(a: u16, s: u32) -> u16 {
    a.rotate_right(s)
}

pub fn pow_u16(a: u16, e: u32) -> u16 {
    a.pow(e)
}

pub fn minmax_u16(a: u16, b: u16, c: u16) -> u16 {
    let lo = b.min(c);
    let hi = b.max(c);
    a.min(b) ^ a.max(c) ^ a.clamp(lo, hi)
}

pub fn wrapping_u32(a: u32, b: u32, s: u32) -> u32 {
    a.wrapping_add(b) ^ a.wrapping_sub(b).wrapping_mul(b) ^ a.wrapping_neg() ^ a.wrapping_shl(s) ^ b.wrapping_shr(s)
}

pub fn saturating_add_u32(a: u32, b: u32) -> u32 {
    a.saturating_add(b)
}

pub fn saturating_sub_u32(a: u32, b: u32) -> u32 {
    a.saturating_sub(b)
}

pub fn saturating_mul_u32(a: u32, b: u32) -> u32 {
    a.saturating_mul(b)
}

pub fn count_u32(a: u32) -> u32 {
    a.count_ones() * 10000 + a.leading_zeros() * 100 + a.trailing_zeros()
}

pub fn rotate_left_u32(a: u32, s: u32) -> u32 {
    a.rotate_left(s)
}

pub fn rotate_right_u32(a: u32, s: u32) -> u32 {
    a.rotate_right(s)
}

pub fn pow_u32(a: u32, e: u32) -> u32 {
    a.pow(e)
}

pub fn minmax_u32(a: u32, b: u32, c: u32) -> u32 {
    let lo = b.min(c);
    let hi = b.max(c);
    a.min(b) ^ a.max(c) ^ a.clamp(lo, hi)
}

pub fn wrapping_u64(a: u64, b: u64, s: u32) -> u64 {
    a.wrapping_add(b) ^ a.wrapping_sub(b).wrapping_mul(b) ^ a.wrapping_neg() ^ a.wrapping_shl(s) ^ b.wrapping_shr(s)
}

pub fn saturating_add_u64(a: u64, b: u64) -> u64 {
    a.saturating_add(b)
}

pub fn saturating_sub_u64(a: u64, b: u64) -> u64 {
    a.saturating_sub(b)
}

pub fn saturating_mul_u64(a: u64, b: u64) -> u64 {
    a.saturating_mul(b)
}

pub fn count_u64(a: u64) -> u32 {
    a.count_ones() * 10000 + a.leading_zeros() * 100 + a.trailing_zeros()
}

pub fn rotate_left_u64(a: u64, s: u32) -> u64 {
    a.rotate_left(s)
}

pub fn rotate_right_u64(a: u64, s: u32) -> u64 {
    a.rotate_right(s)
}

pub fn pow_u64(a: u64, e: u32) -> u64 {
    a.pow(e)
}

pub fn minmax_u64(a: u64, b: u64, c: u64) -> u64 {
    let lo = b.min(c);
    let hi = b.max(c);
    a.min(b) ^ a.max(c) ^ a.clamp(lo, hi)
}

pub fn wrapping_usize(a: usize, b: usize, s: u32) -> usize {
    a.wrapping_add(b) ^ a.wrapping_sub(b).wrapping_mul(b) ^ a.wrapping_neg() ^ a.wrapping_shl(s) ^ b.wrapping_shr(s)
}

pub fn saturating_add_usize(a: usize, b: usize) -> usize {
    a.saturating_add(b)
}

pub fn saturating_sub_usize(a: usize, b: usize) -> usize {
    a.saturating_sub(b)
}

pub fn saturating_mul_usize(a: usize, b: usize) -> usize {
    a.saturating_mul(b)
}

pub fn count_usize(a: usize) -> u32 {
    a.count_ones() * 10000 + a.leading_zeros() * 100 + a.trailing_zeros()
}

pub fn rotate_left_usize(a: usize, s: u32) -> usize {
    a.rotate_left(s)
}

pub fn rotate_right_usize(a: usize, s: u32) -> usize {
    a.rotate_right(s)
}

pub fn pow_usize(a: usize, e: u32) -> usize {
    a.pow(e)
}

pub fn minmax_usize(a: usize, b: usize, c: usize) -> usize {
    let lo = b.min(c);
    let hi = b.max(c);
    a.min(b) ^ a.max(c) ^ a.clamp(lo, hi)
}

pub fn std_min_max_u32(a: u32, b: u32) -> u32 {
    core::cmp::min(a, b) ^ core::cmp::max(a, b).rotate_left(7)
}

pub fn bool_ops(a: bool, b: bool) -> u8 {
    (a && b) as u8 | ((a || b) as u8) << 1 | ((a ^ b) as u8) << 2 | ((!a) as u8) << 3 | ((a & !b) as u8) << 4 | ((a == b) as u8) << 5
}

pub fn add_f32(a: f32, b: f32) -> f32 {
    a + b
}

pub fn sub_f32(a: f32, b: f32) -> f32 {
    a - b
}

pub fn mul_f32(a: f32, b: f32) -> f32 {
    a * b
}

pub fn div_f32(a: f32, b: f32) -> f32 {
    a / b
}

pub fn rem_f32(a: f32, b: f32) -> f32 {
    a % b
}

pub fn no_fma_f32(a: f32, b: f32, c: f32) -> f32 {
    a * b + c
}

pub fn raw_neg_f32(a: f32) -> f32 {
    -a
}

pub fn raw_abs_f32(a: f32) -> f32 {
    a.abs()
}

pub fn raw_copysign_f32(a: f32, b: f32) -> f32 {
    a.copysign(b)
}

pub fn raw_to_bits_f32(a: f32) -> u32 {
    a.to_bits()
}

pub fn cmp_f32(a: f32, b: f32) -> u8 {
    (a < b) as u8 | ((a <= b) as u8) << 1 | ((a == b) as u8) << 2 | ((a > b) as u8) << 3 | ((a >= b) as u8) << 4 | ((a != b) as u8) << 5
}

pub fn classify_f32(a: f32) -> u8 {
    a.is_nan() as u8 | (a.is_infinite() as u8) << 1 | (a.is_finite() as u8) << 2
}

pub fn sqrt_f32(a: f32) -> f32 {
    a.sqrt()
}

pub fn floor_f32(a: f32) -> f32 {
    a.floor()
}

pub fn ceil_f32(a: f32) -> f32 {
    a.ceil()
}

pub fn round_f32(a: f32) -> f32 {
    a.round()
}

pub fn trunc_f32(a: f32) -> f32 {
    a.trunc()
}

pub fn fract_f32(a: f32) -> f32 {
    a.fract()
}

pub fn signum_f32(a: f32) -> f32 {
    a.signum()
}

pub fn recip_f32(a: f32) -> f32 {
    a.recip()
}

pub fn min_f32(a: f32, b: f32) -> f32 {
    a.min(b)
}

pub fn max_f32(a: f32, b: f32) -> f32 {
    a.max(b)
}

pub fn mul_add_f32(a: f32, b: f32, c: f32) -> f32 {
    a.mul_add(b, c)
}

pub fn clamp_f32(a: f32, b: f32, c: f32) -> f32 {
    if b.is_nan() || c.is_nan() { a } else if b <= c { a.clamp(b, c) } else { a.clamp(c, b) }
}

pub fn powi_f32(a: f32, n: i32) -> f32 {
    a.powi(n % 64)
}

pub fn literal_f32(a: f32) -> f32 {
    a * 0.1 + 1e-7 - 3.4028234e38 / 2.0
}

pub fn add_f64(a: f64, b: f64) -> f64 {
    a + b
}

pub fn sub_f64(a: f64, b: f64) -> f64 {
    a - b
}

pub fn mul_f64(a: f64, b: f64) -> f64 {
    a * b
}

pub fn div_f64(a: f64, b: f64) -> f64 {
    a / b
}

pub fn rem_f64(a: f64, b: f64) -> f64 {
    a % b
}

pub fn no_fma_f64(a: f64, b: f64, c: f64) -> f64 {
    a * b + c
}

pub fn raw_neg_f64(a: f64) -> f64 {
    -a
}

pub fn raw_abs_f64(a: f64) -> f64 {
    a.abs()
}

pub fn raw_copysign_f64(a: f64, b: f64) -> f64 {
    a.copysign(b)
}

pub fn raw_to_bits_f64(a: f64) -> u64 {
    a.to_bits()
}

pub fn cmp_f64(a: f64, b: f64) -> u8 {
    (a < b) as u8 | ((a <= b) as u8) << 1 | ((a == b) as u8) << 2 | ((a > b) as u8) << 3 | ((a >= b) as u8) << 4 | ((a != b) as u8) << 5
}

pub fn classify_f64(a: f64) -> u8 {
    a.is_nan() as u8 | (a.is_infinite() as u8) << 1 | (a.is_finite() as u8) << 2
}

pub fn sqrt_f64(a: f64) -> f64 {
    a.sqrt()
}

pub fn floor_f64(a: f64) -> f64 {
    a.floor()
}

pub fn ceil_f64(a: f64) -> f64 {
    a.ceil()
}

pub fn round_f64(a: f64) -> f64 {
    a.round()
}

pub fn trunc_f64(a: f64) -> f64 {
    a.trunc()
}

pub fn fract_f64(a: f64) -> f64 {
    a.fract()
}

pub fn signum_f64(a: f64) -> f64 {
    a.signum()
}

pub fn recip_f64(a: f64) -> f64 {
    a.recip()
}

pub fn min_f64(a: f64, b: f64) -> f64 {
    a.min(b)
}

pub fn max_f64(a: f64, b: f64) -> f64 {
    a.max(b)
}

pub fn mul_add_f64(a: f64, b: f64, c: f64) -> f64 {
    a.mul_add(b, c)
}

pub fn clamp_f64(a: f64, b: f64, c: f64) -> f64 {
    if b.is_nan() || c.is_nan() { a } else if b <= c { a.clamp(b, c) } else { a.clamp(c, b) }
}

pub fn powi_f64(a: f64, n: i32) -> f64 {
    a.powi(n % 64)
}

pub fn literal_f64(a: f64) -> f64 {
    a * 0.1 + 1e-300 - 1.7976931348623157e308 / 2.0
}

pub fn mixed_f32_f64(a: f32, b: f64) -> f64 {
    (a as f64) * b + (b as f32 * a) as f64
}

pub fn ulp_exp_f32(a: f32) -> f32 {
    a.exp()
}

pub fn ulp_exp2_f32(a: f32) -> f32 {
    a.exp2()
}

pub fn ulp_ln_f32(a: f32) -> f32 {
    a.ln()
}

pub fn ulp_log2_f32(a: f32) -> f32 {
    a.log2()
}

pub fn ulp_log10_f32(a: f32) -> f32 {
    a.log10()
}

pub fn ulp_sin_f32(a: f32) -> f32 {
    a.sin()
}

pub fn ulp_cos_f32(a: f32) -> f32 {
    a.cos()
}

pub fn ulp_tan_f32(a: f32) -> f32 {
    a.tan()
}

pub fn ulp_asin_f32(a: f32) -> f32 {
    a.asin()
}

pub fn ulp_acos_f32(a: f32) -> f32 {
    a.acos()
}

pub fn ulp_atan_f32(a: f32) -> f32 {
    a.atan()
}

pub fn ulp_sinh_f32(a: f32) -> f32 {
    a.sinh()
}

pub fn ulp_cosh_f32(a: f32) -> f32 {
    a.cosh()
}

pub fn ulp_tanh_f32(a: f32) -> f32 {
    a.tanh()
}

pub fn ulp_cbrt_f32(a: f32) -> f32 {
    a.cbrt()
}

pub fn ulp_powf_f32(a: f32, b: f32) -> f32 {
    a.powf(b)
}

pub fn ulp_atan2_f32(a: f32, b: f32) -> f32 {
    a.atan2(b)
}

pub fn ulp_hypot_f32(a: f32, b: f32) -> f32 {
    a.hypot(b)
}

pub fn ulp_exp_f64(a: f64) -> f64 {
    a.exp()
}

pub fn ulp_exp2_f64(a: f64) -> f64 {
    a.exp2()
}

pub fn ulp_ln_f64(a: f64) -> f64 {
    a.ln()
}

pub fn ulp_log2_f64(a: f64) -> f64 {
    a.log2()
}

pub fn ulp_log10_f64(a: f64) -> f64 {
    a.log10()
}

pub fn ulp_sin_f64(a: f64) -> f64 {
    a.sin()
}

pub fn ulp_cos_f64(a: f64) -> f64 {
    a.cos()
}

pub fn ulp_tan_f64(a: f64) -> f64 {
    a.tan()
}

pub fn ulp_asin_f64(a: f64) -> f64 {
    a.asin()
}

pub fn ulp_acos_f64(a: f64) -> f64 {
    a.acos()
}

pub fn ulp_atan_f64(a: f64) -> f64 {
    a.atan()
}

pub fn ulp_sinh_f64(a: f64) -> f64 {
    a.sinh()
}

pub fn ulp_cosh_f64(a: f64) -> f64 {
    a.cosh()
}

pub fn ulp_tanh_f64(a: f64) -> f64 {
    a.tanh()
}

pub fn ulp_cbrt_f64(a: f64) -> f64 {
    a.cbrt()
}

pub fn ulp_powf_f64(a: f64, b: f64) -> f64 {
    a.powf(b)
}

pub fn ulp_atan2_f64(a: f64, b: f64) -> f64 {
    a.atan2(b)
}

pub fn ulp_hypot_f64(a: f64, b: f64) -> f64 {
    a.hypot(b)
}
