//! Scalar operators on canonical `u64`s, with Rust's exact semantics.
//!
//! Each operator is chosen once, at compile time, as a plain `fn` pointer
//! monomorphised for the operand type (`i8` arithmetic really is done on
//! `i8`, `f32` arithmetic on `f32`), so the hot path never matches on types.
//! Integer arithmetic wraps, shift amounts are masked (`wrapping_shl`),
//! division truncates; division by zero returns `None` (the check pass
//! guards it, so `None` means unguarded IR). Casts are Rust's `as`.

use crate::ir::{BinaryOp, FloatKind, IntKind, OverflowOp, Scalar, UnaryOp};

pub(crate) type Bin = fn(u64, u64) -> Option<u64>;
pub(crate) type Un = fn(u64) -> u64;

/// Integer types as the interpreter needs them.
pub(crate) trait IntT: Copy + Ord {
    const BITS: u32;
    const MIN: Self;
    fn from_u(v: u64) -> Self;
    fn to_u(self) -> u64;
    fn to_i128(self) -> i128;
    fn w_add(self, o: Self) -> Self;
    fn w_sub(self, o: Self) -> Self;
    fn w_mul(self, o: Self) -> Self;
    fn w_div(self, o: Self) -> Option<Self>;
    fn w_rem(self, o: Self) -> Option<Self>;
    fn w_neg(self) -> Self;
    fn w_shl(self, n: u32) -> Self;
    fn w_shr(self, n: u32) -> Self;
    fn w_pow(self, n: u32) -> Self;
    fn w_abs(self) -> Self;
    fn s_add(self, o: Self) -> Self;
    fn s_sub(self, o: Self) -> Self;
    fn s_mul(self, o: Self) -> Self;
    fn c_add(self, o: Self) -> bool;
    fn c_sub(self, o: Self) -> bool;
    fn c_mul(self, o: Self) -> bool;
    fn c_neg(self) -> bool;
    fn c_pow(self, n: u32) -> bool;
    fn and(self, o: Self) -> Self;
    fn or(self, o: Self) -> Self;
    fn xor(self, o: Self) -> Self;
    fn not(self) -> Self;
    fn ones(self) -> u32;
    fn lz(self) -> u32;
    fn tz(self) -> u32;
    fn rotl(self, n: u32) -> Self;
    fn rotr(self, n: u32) -> Self;
}

macro_rules! int_t {
    ($($t:ty, $abs:expr;)*) => {$(
        impl IntT for $t {
            const BITS: u32 = <$t>::BITS;
            const MIN: Self = <$t>::MIN;
            fn from_u(v: u64) -> Self { v as $t }
            fn to_u(self) -> u64 { self as u64 }
            fn to_i128(self) -> i128 { self as i128 }
            fn w_add(self, o: Self) -> Self { self.wrapping_add(o) }
            fn w_sub(self, o: Self) -> Self { self.wrapping_sub(o) }
            fn w_mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            fn w_div(self, o: Self) -> Option<Self> { (o != 0).then(|| self.wrapping_div(o)) }
            fn w_rem(self, o: Self) -> Option<Self> { (o != 0).then(|| self.wrapping_rem(o)) }
            fn w_neg(self) -> Self { self.wrapping_neg() }
            fn w_shl(self, n: u32) -> Self { self.wrapping_shl(n) }
            fn w_shr(self, n: u32) -> Self { self.wrapping_shr(n) }
            fn w_pow(self, n: u32) -> Self { self.wrapping_pow(n) }
            fn w_abs(self) -> Self { let f: fn($t) -> $t = $abs; f(self) }
            fn s_add(self, o: Self) -> Self { self.saturating_add(o) }
            fn s_sub(self, o: Self) -> Self { self.saturating_sub(o) }
            fn s_mul(self, o: Self) -> Self { self.saturating_mul(o) }
            fn c_add(self, o: Self) -> bool { self.checked_add(o).is_none() }
            fn c_sub(self, o: Self) -> bool { self.checked_sub(o).is_none() }
            fn c_mul(self, o: Self) -> bool { self.checked_mul(o).is_none() }
            fn c_neg(self) -> bool { self.checked_neg().is_none() }
            fn c_pow(self, n: u32) -> bool { self.checked_pow(n).is_none() }
            fn and(self, o: Self) -> Self { self & o }
            fn or(self, o: Self) -> Self { self | o }
            fn xor(self, o: Self) -> Self { self ^ o }
            fn not(self) -> Self { !self }
            fn ones(self) -> u32 { self.count_ones() }
            fn lz(self) -> u32 { self.leading_zeros() }
            fn tz(self) -> u32 { self.trailing_zeros() }
            fn rotl(self, n: u32) -> Self { self.rotate_left(n) }
            fn rotr(self, n: u32) -> Self { self.rotate_right(n) }
        }
    )*};
}

int_t! {
    i8, |x| x.wrapping_abs();
    i16, |x| x.wrapping_abs();
    i32, |x| x.wrapping_abs();
    i64, |x| x.wrapping_abs();
    u8, |x| x;
    u16, |x| x;
    u32, |x| x;
    u64, |x| x;
}

/// Calls `$f::<T>(args)` with `T` the Rust type of integer kind `$k`.
macro_rules! dispatch_int {
    ($k:expr, $f:ident ( $($a:expr),* )) => {
        match $k {
            IntKind::I8 => $f::<i8>($($a),*),
            IntKind::I16 => $f::<i16>($($a),*),
            IntKind::I32 => $f::<i32>($($a),*),
            IntKind::I64 | IntKind::Isize => $f::<i64>($($a),*),
            IntKind::U8 => $f::<u8>($($a),*),
            IntKind::U16 => $f::<u16>($($a),*),
            IntKind::U32 => $f::<u32>($($a),*),
            IntKind::U64 | IntKind::Usize => $f::<u64>($($a),*),
        }
    };
}
pub(crate) use dispatch_int;

/// Float types as the interpreter needs them.
pub(crate) trait FloatT: Copy + PartialOrd + std::ops::Add<Output = Self> {
    fn from_u(v: u64) -> Self;
    fn to_u(self) -> u64;
}

impl FloatT for f32 {
    fn from_u(v: u64) -> Self {
        f32::from_bits(v as u32)
    }
    fn to_u(self) -> u64 {
        u64::from(self.to_bits())
    }
}

impl FloatT for f64 {
    fn from_u(v: u64) -> Self {
        f64::from_bits(v)
    }
    fn to_u(self) -> u64 {
        self.to_bits()
    }
}

/// Calls `$f::<T>(args)` with `T` the Rust type of float kind `$k`.
macro_rules! dispatch_float {
    ($k:expr, $f:ident ( $($a:expr),* )) => {
        match $k {
            FloatKind::F32 => $f::<f32>($($a),*),
            FloatKind::F64 => $f::<f64>($($a),*),
        }
    };
}
pub(crate) use dispatch_float;

fn b(v: bool) -> u64 {
    u64::from(v)
}

fn int_bin<T: IntT>(op: BinaryOp) -> Option<Bin> {
    use BinaryOp as B;
    let f: Bin = match op {
        B::Add => |a, c| Some(T::from_u(a).w_add(T::from_u(c)).to_u()),
        B::Sub => |a, c| Some(T::from_u(a).w_sub(T::from_u(c)).to_u()),
        B::Mul => |a, c| Some(T::from_u(a).w_mul(T::from_u(c)).to_u()),
        B::Div => |a, c| T::from_u(a).w_div(T::from_u(c)).map(T::to_u),
        B::Rem => |a, c| T::from_u(a).w_rem(T::from_u(c)).map(T::to_u),
        B::BitAnd => |a, c| Some(T::from_u(a).and(T::from_u(c)).to_u()),
        B::BitOr => |a, c| Some(T::from_u(a).or(T::from_u(c)).to_u()),
        B::BitXor => |a, c| Some(T::from_u(a).xor(T::from_u(c)).to_u()),
        B::Shl => |a, c| Some(T::from_u(a).w_shl(c as u32).to_u()),
        B::Shr => |a, c| Some(T::from_u(a).w_shr(c as u32).to_u()),
        B::Eq => |a, c| Some(b(T::from_u(a) == T::from_u(c))),
        B::Ne => |a, c| Some(b(T::from_u(a) != T::from_u(c))),
        B::Lt => |a, c| Some(b(T::from_u(a) < T::from_u(c))),
        B::Le => |a, c| Some(b(T::from_u(a) <= T::from_u(c))),
        B::Gt => |a, c| Some(b(T::from_u(a) > T::from_u(c))),
        B::Ge => |a, c| Some(b(T::from_u(a) >= T::from_u(c))),
        B::LogicalAnd | B::LogicalOr => return None,
    };
    Some(f)
}

fn float_bin<T>(op: BinaryOp) -> Option<Bin>
where
    T: FloatT
        + std::ops::Sub<Output = T>
        + std::ops::Mul<Output = T>
        + std::ops::Div<Output = T>
        + std::ops::Rem<Output = T>,
{
    use BinaryOp as B;
    let f: Bin = match op {
        B::Add => |a, c| Some((T::from_u(a) + T::from_u(c)).to_u()),
        B::Sub => |a, c| Some((T::from_u(a) - T::from_u(c)).to_u()),
        B::Mul => |a, c| Some((T::from_u(a) * T::from_u(c)).to_u()),
        B::Div => |a, c| Some((T::from_u(a) / T::from_u(c)).to_u()),
        B::Rem => |a, c| Some((T::from_u(a) % T::from_u(c)).to_u()),
        B::Eq => |a, c| Some(b(T::from_u(a) == T::from_u(c))),
        B::Ne => |a, c| Some(b(T::from_u(a) != T::from_u(c))),
        B::Lt => |a, c| Some(b(T::from_u(a) < T::from_u(c))),
        B::Le => |a, c| Some(b(T::from_u(a) <= T::from_u(c))),
        B::Gt => |a, c| Some(b(T::from_u(a) > T::from_u(c))),
        B::Ge => |a, c| Some(b(T::from_u(a) >= T::from_u(c))),
        _ => return None,
    };
    Some(f)
}

fn bool_bin(op: BinaryOp) -> Option<Bin> {
    use BinaryOp as B;
    let f: Bin = match op {
        B::BitAnd | B::LogicalAnd => |a, c| Some(a & c),
        B::BitOr | B::LogicalOr => |a, c| Some(a | c),
        B::BitXor | B::Ne => |a, c| Some(a ^ c),
        B::Eq => |a, c| Some(b(a == c)),
        B::Lt => |a, c| Some(b(a < c)),
        B::Le => |a, c| Some(b(a <= c)),
        B::Gt => |a, c| Some(b(a > c)),
        B::Ge => |a, c| Some(b(a >= c)),
        _ => return None,
    };
    Some(f)
}

/// The operator `op` on operands of type `scalar` (the left operand's type;
/// for shifts the right operand may be any integer). `None` when the IR
/// applies an operator to a type that has no such operator.
pub(crate) fn binary(op: BinaryOp, scalar: Scalar) -> Option<Bin> {
    match scalar {
        Scalar::Bool => bool_bin(op),
        Scalar::Int(k) => dispatch_int!(k, int_bin(op)),
        Scalar::Float(k) => dispatch_float!(k, float_bin(op)),
    }
}

fn int_neg<T: IntT>() -> Un {
    |a| T::from_u(a).w_neg().to_u()
}
fn int_not<T: IntT>() -> Un {
    |a| T::from_u(a).not().to_u()
}

pub(crate) fn unary(op: UnaryOp, scalar: Scalar) -> Option<Un> {
    match (op, scalar) {
        (UnaryOp::Not, Scalar::Bool) => Some(|a| a ^ 1),
        (UnaryOp::Not, Scalar::Int(k)) => Some(dispatch_int!(k, int_not())),
        (UnaryOp::Neg, Scalar::Int(k)) => Some(dispatch_int!(k, int_neg())),
        (UnaryOp::Neg, Scalar::Float(FloatKind::F32)) => {
            Some(|a| u64::from((-f32::from_bits(a as u32)).to_bits()))
        }
        (UnaryOp::Neg, Scalar::Float(FloatKind::F64)) => Some(|a| (-f64::from_bits(a)).to_bits()),
        (UnaryOp::Neg, Scalar::Bool) | (UnaryOp::Not, Scalar::Float(_)) => None,
    }
}

/// An overflow predicate; `right_signed` is the signedness of the right
/// operand's type (shift amounts may have any integer type).
pub(crate) type OverflowFn = Box<dyn Fn(u64, u64) -> bool + Send + Sync>;

fn int_overflow<T: IntT + 'static>(op: OverflowOp, right_signed: bool) -> OverflowFn {
    match op {
        OverflowOp::Add => Box::new(|a, c| T::from_u(a).c_add(T::from_u(c))),
        OverflowOp::Sub => Box::new(|a, c| T::from_u(a).c_sub(T::from_u(c))),
        OverflowOp::Mul => Box::new(|a, c| T::from_u(a).c_mul(T::from_u(c))),
        OverflowOp::Neg => Box::new(|a, _| T::from_u(a).c_neg()),
        OverflowOp::Shl | OverflowOp::Shr => Box::new(move |_, c| {
            if right_signed {
                (c as i64) < 0 || c as i64 >= i64::from(T::BITS)
            } else {
                c >= u64::from(T::BITS)
            }
        }),
        OverflowOp::DivRem => Box::new(|a, c| {
            T::MIN.to_i128() < 0 && T::from_u(a) == T::MIN && T::from_u(c).to_i128() == -1
        }),
        OverflowOp::Pow => Box::new(|a, c| T::from_u(a).c_pow(c as u32)),
        OverflowOp::Abs => Box::new(|a, _| T::MIN.to_i128() < 0 && T::from_u(a) == T::MIN),
    }
}

pub(crate) fn overflow(op: OverflowOp, kind: IntKind, right_signed: bool) -> OverflowFn {
    dispatch_int!(kind, int_overflow(op, right_signed))
}

/// A scalar as a number, for casts.
enum Num {
    Int(i128),
    F32(f32),
    F64(f64),
}

fn decode(v: u64, from: Scalar) -> Num {
    match from {
        Scalar::Bool => Num::Int(i128::from(v & 1)),
        Scalar::Int(k) if k.signed() => Num::Int(i128::from(v as i64)),
        Scalar::Int(_) => Num::Int(i128::from(v)),
        Scalar::Float(FloatKind::F32) => Num::F32(f32::from_bits(v as u32)),
        Scalar::Float(FloatKind::F64) => Num::F64(f64::from_bits(v)),
    }
}

/// `v as to`, Rust's `as`: int→int wraps, float→int saturates (NaN → 0),
/// int→float and f64→f32 round to nearest. Every path uses Rust's own `as`
/// from a type wide enough to hold the value exactly (i128 for integers), so
/// the rounding is the one rustc performs.
pub(crate) fn cast(v: u64, from: Scalar, to: Scalar) -> u64 {
    let n = decode(v, from);
    match to {
        Scalar::Bool => u64::from(!matches!(n, Num::Int(0))),
        Scalar::Int(k) => {
            let i = match n {
                Num::Int(i) => k.wrap(i),
                Num::F32(f) => (f as i128).clamp(k.min_value(), k.max_value()),
                Num::F64(f) => (f as i128).clamp(k.min_value(), k.max_value()),
            };
            i as u64
        }
        Scalar::Float(FloatKind::F32) => {
            let f = match n {
                Num::Int(i) => i as f32,
                Num::F32(f) => f,
                Num::F64(f) => f as f32,
            };
            u64::from(f.to_bits())
        }
        Scalar::Float(FloatKind::F64) => match n {
            Num::Int(i) => (i as f64).to_bits(),
            Num::F32(f) => f64::from(f).to_bits(),
            Num::F64(f) => f.to_bits(),
        },
    }
}

/// Whether `from as to` is a cast Rust accepts (bool only casts to ints).
pub(crate) fn cast_allowed(from: Scalar, to: Scalar) -> bool {
    match (from, to) {
        (Scalar::Bool, Scalar::Int(_) | Scalar::Bool) => true,
        (Scalar::Bool, _) | (_, Scalar::Bool) => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const I32: Scalar = Scalar::Int(IntKind::I32);
    const U8: Scalar = Scalar::Int(IntKind::U8);
    const F32: Scalar = Scalar::Float(FloatKind::F32);

    #[test]
    fn small_ints_wrap_at_their_width() {
        let add = binary(BinaryOp::Add, U8).unwrap();
        assert_eq!(add(200, 100), Some(44));
        let shl = binary(BinaryOp::Shl, Scalar::Int(IntKind::I8)).unwrap();
        assert_eq!(shl(1, 9), Some(2));
        let div = binary(BinaryOp::Div, I32).unwrap();
        assert_eq!(div((-7i32) as u64, 2), Some((-3i32) as u64));
        assert_eq!(div(1, 0), None);
    }

    #[test]
    fn casts_are_rusts() {
        assert_eq!(cast(f32::NAN.to_bits().into(), F32, I32), 0);
        assert_eq!(cast(3e9f32.to_bits().into(), F32, I32), i32::MAX as u64);
        assert_eq!(cast(300, I32, U8), 44);
        assert_eq!(
            cast(u64::MAX, Scalar::Int(IntKind::U64), F32),
            u64::from((u64::MAX as f32).to_bits())
        );
        assert_eq!(
            cast((-1i32) as u64, I32, Scalar::Int(IntKind::U64)),
            u64::MAX
        );
    }

    #[test]
    fn overflow_predicates() {
        let add = overflow(OverflowOp::Add, IntKind::I8, true);
        assert!(add(127, 1));
        assert!(!add(126, 1));
        let shl = overflow(OverflowOp::Shl, IntKind::U32, true);
        assert!(shl(1, (-1i32) as u64));
        assert!(shl(1, 32));
        assert!(!shl(1, 31));
        let dr = overflow(OverflowOp::DivRem, IntKind::I32, true);
        assert!(dr(i32::MIN as u64, (-1i32) as u64));
    }
}
