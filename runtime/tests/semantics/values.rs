//! Inputs and comparisons per scalar type for the semantics test: edge
//! values, random values that cover every bit pattern class, and how two
//! results are judged equal.

use std::fmt::Debug;

use ringkernel_runtime::DeviceCopy;

use crate::common::Rng;

/// How a result is compared with rustc's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Bit for bit, NaN payloads included (`raw_` functions: sign and bit
    /// operations, which Rust defines on the representation).
    Raw,
    /// Bit for bit, except that any NaN equals any NaN: Rust leaves the
    /// payload of an arithmetic NaN unspecified (x86 propagates an operand's
    /// payload, the GPU returns the canonical NaN).
    Exact,
    /// As `Exact`, and +0 equals -0: `f32::min`/`max` leave the sign of a
    /// zero result unspecified ("the min of +0.0 and -0.0 may return either
    /// operand"); x86 and the GPU choose differently.
    SignlessZero,
    /// Within this many ULPs (`ulp_` functions), NaN equals NaN, infinities
    /// exact, and +0 equals -0 (distance 0).
    Ulp(u64),
}

/// A scalar type the test can generate, upload and compare.
pub trait Val: DeviceCopy + Debug + PartialEq {
    /// Values at the edges of the type's behaviour.
    fn edges() -> Vec<Self>;
    fn random(rng: &mut Rng) -> Self;
    /// A value kernels never produce by accident, for outputs.
    fn poison() -> Self;
    fn same(want: Self, got: Self, policy: Policy) -> bool;
    /// The value for a report (floats with their bits, so NaN payloads show).
    fn show(self) -> String {
        format!("{self:?}")
    }
    /// The result's ULP distance when it is a float (for the report).
    fn ulps(_want: Self, _got: Self) -> Option<u64> {
        None
    }
}

macro_rules! int_val {
    ($($t:ty),*) => {$(
        impl Val for $t {
            fn edges() -> Vec<Self> {
                let bits = <$t>::BITS;
                let mut v: Vec<$t> = vec![0, 1, 2, 3, 7, 100, 127, <$t>::MAX, <$t>::MIN, <$t>::MAX - 1, <$t>::MIN + 1, <$t>::MAX / 2, <$t>::MAX / 2 + 1];
                // Bit-width boundaries, truncated to the type (`as` wraps).
                v.extend([
                    u64::from(bits - 1), u64::from(bits), u64::from(bits + 1), 0x55, 0xaa, 128, 255,
                    256, 0x7fff, 0x8000, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff,
                    0x1_0000_0000, 0x7fff_ffff_ffff_ffff,
                ].map(|x| x as $t));
                #[allow(unused_comparisons)]
                if <$t>::MIN < 0 {
                    v.extend([(0 as $t).wrapping_sub(1), (0 as $t).wrapping_sub(2), (0 as $t).wrapping_sub(100)]);
                }
                v.sort();
                v.dedup();
                v
            }
            fn random(rng: &mut Rng) -> Self {
                let r = rng.next_u64();
                match r % 4 {
                    // Any bit pattern.
                    0 | 1 => rng.next_u64() as $t,
                    // Small magnitudes (shift amounts, exponents, divisors).
                    2 => ((r >> 8) % 130) as i64 as $t ^ (((r >> 20) & 1) as $t).wrapping_neg(),
                    // Next to MIN and MAX.
                    _ => if r & 256 == 0 {
                        <$t>::MAX.wrapping_sub(((r >> 16) % 16) as $t)
                    } else {
                        <$t>::MIN.wrapping_add(((r >> 16) % 16) as $t)
                    },
                }
            }
            fn poison() -> Self {
                0x5a5a_5a5a_5a5a_5a5au64 as $t
            }
            fn same(want: Self, got: Self, _: Policy) -> bool {
                want == got
            }
        }
    )*};
}
int_val!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl Val for bool {
    fn edges() -> Vec<Self> {
        vec![false, true]
    }
    fn random(rng: &mut Rng) -> Self {
        rng.next_u64() & 1 == 1
    }
    fn poison() -> Self {
        true
    }
    fn same(want: Self, got: Self, _: Policy) -> bool {
        want == got
    }
}

macro_rules! float_val {
    ($t:ty, $bits:ty, $int_edges:expr) => {
        impl Val for $t {
            fn edges() -> Vec<Self> {
                let mut v: Vec<$t> = vec![
                    0.0,
                    -0.0,
                    1.0,
                    -1.0,
                    0.5,
                    -0.5,
                    1.5,
                    -1.5,
                    2.5,
                    -2.5,
                    0.49999997,
                    3.0,
                    10.0,
                    <$t>::MAX,
                    <$t>::MIN,
                    <$t>::MIN_POSITIVE,
                    -<$t>::MIN_POSITIVE,
                    <$t>::EPSILON,
                    <$t>::INFINITY,
                    <$t>::NEG_INFINITY,
                    <$t>::NAN,
                    -<$t>::NAN,
                    <$t>::from_bits(1),
                    -<$t>::from_bits(1),
                    <$t>::from_bits((<$t>::MIN_POSITIVE).to_bits() - 1),
                    <$t>::from_bits(<$t>::NAN.to_bits() | 0x1234),
                    std::f64::consts::PI as $t,
                    -std::f64::consts::FRAC_PI_2 as $t,
                    1e10,
                    -1e-10,
                    127.5,
                    128.0,
                    -128.5,
                    -129.0,
                    255.5,
                    256.0,
                    32767.5,
                    -32768.5,
                    65535.5,
                    65536.0,
                ];
                v.extend($int_edges.iter().map(|&x: &f64| x as $t));
                v.extend($int_edges.iter().map(|&x: &f64| -(x as $t)));
                v
            }
            fn random(rng: &mut Rng) -> Self {
                let r = rng.next_u64();
                let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                match r % 4 {
                    // Any bit pattern: NaN payloads, subnormals, infinities.
                    0 => <$t>::from_bits(rng.next_u64() as $bits),
                    // Where the elementary functions are interesting.
                    1 => ((u * 16.0 - 8.0) as $t),
                    // Any magnitude from 2^-30 to 2^70, either sign (casts).
                    2 => {
                        let e = ((r >> 8) % 100) as i32 - 30;
                        let v = (1.0 + u) * 2f64.powi(e);
                        (if r & (1 << 40) == 0 { v } else { -v }) as $t
                    }
                    // Integers and halves up to 2^24 (rounding, casts).
                    _ => (((r >> 8) % (1 << 25)) as f64 / 2.0 - (1 << 23) as f64) as $t,
                }
            }
            fn poison() -> Self {
                <$t>::from_bits(0x5a5a_5a5a_5a5a_5a5au64 as $bits)
            }
            fn show(self) -> String {
                format!("{self:?} ({:#x})", self.to_bits())
            }
            fn same(want: Self, got: Self, policy: Policy) -> bool {
                if want.to_bits() == got.to_bits() {
                    return true;
                }
                match policy {
                    Policy::Raw => false,
                    Policy::Exact => want.is_nan() && got.is_nan(),
                    Policy::SignlessZero => {
                        (want.is_nan() && got.is_nan()) || (want == 0.0 && got == 0.0)
                    }
                    Policy::Ulp(max) => {
                        (want.is_nan() && got.is_nan())
                            || (!want.is_nan()
                                && !got.is_nan()
                                && (want.is_finite() || want == got)
                                && <$t as Val>::ulps(want, got).is_some_and(|d| d <= max))
                    }
                }
            }
            fn ulps(want: Self, got: Self) -> Option<u64> {
                if want.is_nan() || got.is_nan() {
                    return None;
                }
                let ordered = |x: $t| -> i128 {
                    let b = x.to_bits();
                    let sign = b >> (<$bits>::BITS - 1);
                    let mag = (b << 1 >> 1) as i128;
                    if sign == 1 {
                        -mag
                    } else {
                        mag
                    }
                };
                Some((ordered(want) - ordered(got)).unsigned_abs() as u64)
            }
        }
    };
}

const INT_EDGES: [f64; 12] = [
    2147483520.0,
    2147483647.0,
    2147483648.0,
    2147483904.0,
    4294967295.0,
    4294967296.0,
    9223372036854774784.0,
    9223372036854775807.0,
    9223372036854775808.0,
    18446744073709549568.0,
    18446744073709551615.0,
    18446744073709551616.0,
];
float_val!(f32, u32, INT_EDGES);
float_val!(f64, u64, INT_EDGES);
