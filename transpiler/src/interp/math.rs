//! [`MathFunction`]s on canonical scalars, with Rust's std semantics.
//!
//! Float functions are Rust's `f32`/`f64` methods in the argument's own
//! precision, never computed in `f64` and rounded. Two choices are made to
//! agree with the CUDA back end rather than with std:
//! - `powi` is binary exponentiation by repeated squaring (see [`powi`]),
//!   the algorithm the back end emits, because std's `powi` is an LLVM
//!   intrinsic whose rounding differs between platforms.
//! - `clamp` and `min`/`max` never panic here: the check pass guards
//!   `clamp`'s precondition, so the interpreter just computes.

use crate::ir::{FloatKind, IntKind, MathFunction, Scalar};

use super::ops::{dispatch_float, dispatch_int, IntT};

/// A compiled math function of one, two or three canonical operands.
#[derive(Clone, Copy)]
pub(crate) enum MathImpl {
    Un(fn(u64) -> u64),
    Bin(fn(u64, u64) -> u64),
    Tern(fn(u64, u64, u64) -> u64),
}

/// `x.powi(n)` as the CUDA back end computes it: binary exponentiation over
/// `|n|` (multiply the result by the running square for each set bit, low
/// bit first; square after every bit), then one reciprocal `1 / r` for a
/// negative exponent.
pub fn powi<F>(x: F, n: i32, one: F) -> F
where
    F: Copy + std::ops::Mul<Output = F> + std::ops::Div<Output = F>,
{
    let mut base = x;
    let mut e = n.unsigned_abs();
    let mut r = one;
    while e != 0 {
        if e & 1 != 0 {
            r = r * base;
        }
        e >>= 1;
        if e != 0 {
            base = base * base;
        }
    }
    if n < 0 {
        one / r
    } else {
        r
    }
}

macro_rules! float_math {
    ($name:ident, $t:ty) => {
        fn $name(fun: MathFunction) -> Option<MathImpl> {
            type T = $t;
            fn f(v: u64) -> T {
                <T>::from_bits(v as _)
            }
            fn u(v: T) -> u64 {
                u64::from(v.to_bits())
            }
            fn bo(v: bool) -> u64 {
                u64::from(v)
            }
            use MathFunction as M;
            use MathImpl::{Bin, Tern, Un};
            Some(match fun {
                M::Min => Bin(|a, b| u(f(a).min(f(b)))),
                M::Max => Bin(|a, b| u(f(a).max(f(b)))),
                M::Abs => Un(|a| u(f(a).abs())),
                M::Clamp => Tern(|x, lo, hi| {
                    let (mut x, lo, hi) = (f(x), f(lo), f(hi));
                    if x < lo {
                        x = lo;
                    }
                    if x > hi {
                        x = hi;
                    }
                    u(x)
                }),
                M::Sqrt => Un(|a| u(f(a).sqrt())),
                M::Floor => Un(|a| u(f(a).floor())),
                M::Ceil => Un(|a| u(f(a).ceil())),
                M::Round => Un(|a| u(f(a).round())),
                M::Trunc => Un(|a| u(f(a).trunc())),
                M::Fract => Un(|a| u(f(a).fract())),
                M::Exp => Un(|a| u(f(a).exp())),
                M::Exp2 => Un(|a| u(f(a).exp2())),
                M::Ln => Un(|a| u(f(a).ln())),
                M::Log2 => Un(|a| u(f(a).log2())),
                M::Log10 => Un(|a| u(f(a).log10())),
                M::Sin => Un(|a| u(f(a).sin())),
                M::Cos => Un(|a| u(f(a).cos())),
                M::Tan => Un(|a| u(f(a).tan())),
                M::Asin => Un(|a| u(f(a).asin())),
                M::Acos => Un(|a| u(f(a).acos())),
                M::Atan => Un(|a| u(f(a).atan())),
                M::Atan2 => Bin(|a, b| u(f(a).atan2(f(b)))),
                M::Sinh => Un(|a| u(f(a).sinh())),
                M::Cosh => Un(|a| u(f(a).cosh())),
                M::Tanh => Un(|a| u(f(a).tanh())),
                M::Powf => Bin(|a, b| u(f(a).powf(f(b)))),
                M::Powi => Bin(|a, n| u(powi(f(a), n as i32, 1.0))),
                M::MulAdd => Tern(|a, b, c| u(f(a).mul_add(f(b), f(c)))),
                M::Hypot => Bin(|a, b| u(f(a).hypot(f(b)))),
                M::Cbrt => Un(|a| u(f(a).cbrt())),
                M::Recip => Un(|a| u(f(a).recip())),
                M::Signum => Un(|a| u(f(a).signum())),
                M::Copysign => Bin(|a, b| u(f(a).copysign(f(b)))),
                M::IsNan => Un(|a| bo(f(a).is_nan())),
                M::IsInfinite => Un(|a| bo(f(a).is_infinite())),
                M::IsFinite => Un(|a| bo(f(a).is_finite())),
                M::ToBits => Un(|a| a),
                _ => return None,
            })
        }
    };
}

float_math!(f32_math, f32);
float_math!(f64_math, f64);

fn int_math<T: IntT>(fun: MathFunction) -> Option<MathImpl> {
    use MathFunction as M;
    use MathImpl::{Bin, Tern, Un};
    fn t<T: IntT>(v: u64) -> T {
        T::from_u(v)
    }
    Some(match fun {
        M::Min => Bin(|a, b| t::<T>(a).min(t(b)).to_u()),
        M::Max => Bin(|a, b| t::<T>(a).max(t(b)).to_u()),
        M::Abs => Un(|a| t::<T>(a).w_abs().to_u()),
        M::Clamp => Tern(|x, lo, hi| {
            let (mut x, lo, hi) = (t::<T>(x), t::<T>(lo), t::<T>(hi));
            if x < lo {
                x = lo;
            }
            if x > hi {
                x = hi;
            }
            x.to_u()
        }),
        M::Pow => Bin(|a, n| t::<T>(a).w_pow(n as u32).to_u()),
        M::WrappingAdd => Bin(|a, b| t::<T>(a).w_add(t(b)).to_u()),
        M::WrappingSub => Bin(|a, b| t::<T>(a).w_sub(t(b)).to_u()),
        M::WrappingMul => Bin(|a, b| t::<T>(a).w_mul(t(b)).to_u()),
        M::WrappingNeg => Un(|a| t::<T>(a).w_neg().to_u()),
        M::WrappingShl => Bin(|a, n| t::<T>(a).w_shl(n as u32).to_u()),
        M::WrappingShr => Bin(|a, n| t::<T>(a).w_shr(n as u32).to_u()),
        M::SaturatingAdd => Bin(|a, b| t::<T>(a).s_add(t(b)).to_u()),
        M::SaturatingSub => Bin(|a, b| t::<T>(a).s_sub(t(b)).to_u()),
        M::SaturatingMul => Bin(|a, b| t::<T>(a).s_mul(t(b)).to_u()),
        M::CountOnes => Un(|a| u64::from(t::<T>(a).ones())),
        M::LeadingZeros => Un(|a| u64::from(t::<T>(a).lz())),
        M::TrailingZeros => Un(|a| u64::from(t::<T>(a).tz())),
        M::RotateLeft => Bin(|a, n| t::<T>(a).rotl(n as u32).to_u()),
        M::RotateRight => Bin(|a, n| t::<T>(a).rotr(n as u32).to_u()),
        _ => return None,
    })
}

fn float_dispatch<T: FloatPick>(fun: MathFunction) -> Option<MathImpl> {
    T::pick(fun)
}

trait FloatPick {
    fn pick(fun: MathFunction) -> Option<MathImpl>;
}
impl FloatPick for f32 {
    fn pick(fun: MathFunction) -> Option<MathImpl> {
        f32_math(fun)
    }
}
impl FloatPick for f64 {
    fn pick(fun: MathFunction) -> Option<MathImpl> {
        f64_math(fun)
    }
}

/// The implementation of `fun` for a first argument of type `scalar`;
/// `None` when the function does not exist for that type.
pub(crate) fn math(fun: MathFunction, scalar: Scalar) -> Option<MathImpl> {
    match scalar {
        Scalar::Int(k) => dispatch_int!(k, int_math(fun)),
        Scalar::Float(k) => dispatch_float!(k, float_dispatch(fun)),
        Scalar::Bool => None,
    }
}

/// The result type of `fun` applied to a first argument of type `arg`.
pub(crate) fn result_scalar(fun: MathFunction, arg: Scalar) -> Scalar {
    use MathFunction as M;
    match fun {
        M::CountOnes | M::LeadingZeros | M::TrailingZeros => Scalar::Int(IntKind::U32),
        M::IsNan | M::IsInfinite | M::IsFinite => Scalar::Bool,
        M::ToBits => match arg {
            Scalar::Float(FloatKind::F64) => Scalar::Int(IntKind::U64),
            _ => Scalar::Int(IntKind::U32),
        },
        _ => arg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powi_by_squaring() {
        assert_eq!(powi(2.0f32, 10, 1.0), 1024.0);
        assert_eq!(powi(2.0f64, -2, 1.0), 0.25);
        assert_eq!(powi(3.0f32, 0, 1.0), 1.0);
        assert_eq!(powi(-1.5f32, 3, 1.0), -3.375);
    }

    #[test]
    fn int_functions_have_rust_semantics() {
        let Some(MathImpl::Un(abs)) = math(MathFunction::Abs, Scalar::Int(IntKind::I8)) else {
            panic!()
        };
        assert_eq!(abs(i8::MIN as u64), i8::MIN as u64);
        let Some(MathImpl::Un(lz)) = math(MathFunction::LeadingZeros, Scalar::Int(IntKind::U16))
        else {
            panic!()
        };
        assert_eq!(lz(1), 15);
    }
}
