//! Constant folding with Rust's exact semantics.
//!
//! Assumes: operands precede their users in the expression arena (true of
//! the front end's output), so one forward sweep folds whole trees.
//!
//! Guarantees: an operator, cast, overflow predicate or comparison whose
//! operands are all literals is replaced by the literal rustc would compute:
//! integer arithmetic wraps (the overflow checks inserted earlier keep their
//! own folded condition, so an overflow still faults); casts use Rust's `as`
//! itself; float arithmetic is done in the operands' own precision (f32 in
//! f32), which is IEEE 754 exact. Nothing is folded algebraically: `x * 0.0`
//! is never `0.0` (it is `-0.0` or NaN for some `x`), and `x - x` stays.
//! Division or remainder by zero and `MIN / -1` are left alone (their checks
//! fault at run time).
//!
//! Invalidates: nothing; folded nodes keep their handles and spans.

use crate::ir::{
    BinaryOp, Expression, FloatKind, Function, IntKind, Literal, Module, OverflowOp, Scalar,
    UnaryOp,
};

pub fn fold_constants(_module: &mut Module, function: &mut Function) {
    let handles: Vec<_> = function.expressions.iter().map(|(h, _)| h).collect();
    for h in handles {
        let literal = |e| match function.expressions[e] {
            Expression::Literal(l) => Some(l),
            _ => None,
        };
        let folded = match &function.expressions[h] {
            Expression::Unary { op, expr } => literal(*expr).and_then(|v| unary(*op, v)),
            Expression::Binary { op, left, right } => match (literal(*left), literal(*right)) {
                (Some(a), Some(b)) => binary(*op, a, b),
                _ => None,
            },
            Expression::Cast { expr, to } => literal(*expr).map(|v| cast(v, *to)),
            Expression::Overflows { op, left, right } => match (literal(*left), literal(*right)) {
                (Some(a), Some(b)) => overflows(*op, a, b).map(Literal::Bool),
                _ => None,
            },
            _ => None,
        };
        if let Some(value) = folded {
            *function.expressions.get_mut(h) = Expression::Literal(value);
        }
    }
}

fn unary(op: UnaryOp, v: Literal) -> Option<Literal> {
    Some(match (op, v) {
        (UnaryOp::Not, Literal::Bool(b)) => Literal::Bool(!b),
        (UnaryOp::Not, Literal::Int(x, k)) => Literal::Int(k.wrap(!x), k),
        (UnaryOp::Neg, Literal::Int(x, k)) => Literal::Int(k.wrap(-x), k),
        (UnaryOp::Neg, Literal::Float(bits, FloatKind::F32)) => {
            Literal::f32(-f32::from_bits(bits as u32))
        }
        (UnaryOp::Neg, Literal::Float(bits, FloatKind::F64)) => Literal::f64(-f64::from_bits(bits)),
        _ => return None,
    })
}

fn binary(op: BinaryOp, a: Literal, b: Literal) -> Option<Literal> {
    match (a, b) {
        (Literal::Int(x, k), Literal::Int(y, ky)) => int_binary(op, x, y, k, ky),
        (Literal::Bool(x), Literal::Bool(y)) => Some(Literal::Bool(match op {
            BinaryOp::BitAnd | BinaryOp::LogicalAnd => x & y,
            BinaryOp::BitOr | BinaryOp::LogicalOr => x | y,
            BinaryOp::BitXor | BinaryOp::Ne => x ^ y,
            BinaryOp::Eq => x == y,
            BinaryOp::Lt => !x & y,
            BinaryOp::Le => x <= y,
            BinaryOp::Gt => x & !y,
            BinaryOp::Ge => x >= y,
            _ => return None,
        })),
        (Literal::Float(x, FloatKind::F32), Literal::Float(y, FloatKind::F32)) => {
            let (x, y) = (f32::from_bits(x as u32), f32::from_bits(y as u32));
            float_binary(op, x, y, Literal::f32)
        }
        (Literal::Float(x, FloatKind::F64), Literal::Float(y, FloatKind::F64)) => {
            float_binary(op, f64::from_bits(x), f64::from_bits(y), Literal::f64)
        }
        _ => None,
    }
}

fn float_binary<F>(op: BinaryOp, x: F, y: F, make: fn(F) -> Literal) -> Option<Literal>
where
    F: Copy
        + PartialOrd
        + std::ops::Add<Output = F>
        + std::ops::Sub<Output = F>
        + std::ops::Mul<Output = F>
        + std::ops::Div<Output = F>
        + std::ops::Rem<Output = F>,
{
    Some(match op {
        BinaryOp::Add => make(x + y),
        BinaryOp::Sub => make(x - y),
        BinaryOp::Mul => make(x * y),
        BinaryOp::Div => make(x / y),
        BinaryOp::Rem => make(x % y),
        BinaryOp::Eq => Literal::Bool(x == y),
        BinaryOp::Ne => Literal::Bool(x != y),
        BinaryOp::Lt => Literal::Bool(x < y),
        BinaryOp::Le => Literal::Bool(x <= y),
        BinaryOp::Gt => Literal::Bool(x > y),
        BinaryOp::Ge => Literal::Bool(x >= y),
        _ => return None,
    })
}

fn int_binary(op: BinaryOp, x: i128, y: i128, k: IntKind, ky: IntKind) -> Option<Literal> {
    let bits = i128::from(k.bits());
    let int = |v: i128| Some(Literal::Int(k.wrap(v), k));
    match op {
        BinaryOp::Add => int(x + y),
        BinaryOp::Sub => int(x - y),
        BinaryOp::Mul => int(x.wrapping_mul(y)),
        BinaryOp::Div | BinaryOp::Rem => {
            if y == 0 || (k.signed() && x == k.min_value() && y == -1) {
                return None;
            }
            int(if op == BinaryOp::Div { x / y } else { x % y })
        }
        BinaryOp::BitAnd => int(x & y),
        BinaryOp::BitOr => int(x | y),
        BinaryOp::BitXor => int(x ^ y),
        BinaryOp::Shl | BinaryOp::Shr => {
            // The amount, as its own type's bits, masked to the width.
            let amount = (ky.wrap(y) & (bits - 1)) as u32;
            if op == BinaryOp::Shl {
                int(x << amount)
            } else {
                int(x >> amount) // i128 holds the value exactly: arithmetic for signed, logical for unsigned (non-negative)
            }
        }
        BinaryOp::Eq => Some(Literal::Bool(x == y)),
        BinaryOp::Ne => Some(Literal::Bool(x != y)),
        BinaryOp::Lt => Some(Literal::Bool(x < y)),
        BinaryOp::Le => Some(Literal::Bool(x <= y)),
        BinaryOp::Gt => Some(Literal::Bool(x > y)),
        BinaryOp::Ge => Some(Literal::Bool(x >= y)),
        BinaryOp::LogicalAnd | BinaryOp::LogicalOr => None,
    }
}

fn overflows(op: OverflowOp, a: Literal, b: Literal) -> Option<bool> {
    let (Literal::Int(x, k), Literal::Int(y, ky)) = (a, b) else {
        return None;
    };
    let out = |v: i128| v < k.min_value() || v > k.max_value();
    Some(match op {
        OverflowOp::Add => out(x + y),
        OverflowOp::Sub => out(x - y),
        OverflowOp::Mul => x.checked_mul(y).is_none_or(out),
        OverflowOp::Neg => out(-x),
        OverflowOp::Abs => out(x.abs()),
        OverflowOp::Shl | OverflowOp::Shr => {
            let _ = ky;
            y < 0 || y >= i128::from(k.bits())
        }
        OverflowOp::DivRem => k.signed() && x == k.min_value() && y == -1,
        OverflowOp::Pow => {
            let mut acc: i128 = 1;
            for _ in 0..y {
                acc = match acc.checked_mul(x) {
                    Some(v) if !out(v) => v,
                    _ => return Some(true),
                };
            }
            false
        }
    })
}

/// Rust's `as`, applied to a literal.
fn cast(v: Literal, to: Scalar) -> Literal {
    macro_rules! from_value {
        ($value:expr) => {
            match to {
                Scalar::Bool => unreachable!("the front end rejects casts to bool"),
                Scalar::Int(IntKind::I8) => Literal::Int(i128::from($value as i8), IntKind::I8),
                Scalar::Int(IntKind::I16) => Literal::Int(i128::from($value as i16), IntKind::I16),
                Scalar::Int(IntKind::I32) => Literal::Int(i128::from($value as i32), IntKind::I32),
                Scalar::Int(IntKind::I64) => Literal::Int(i128::from($value as i64), IntKind::I64),
                Scalar::Int(IntKind::Isize) => {
                    Literal::Int(i128::from($value as i64), IntKind::Isize)
                }
                Scalar::Int(IntKind::U8) => Literal::Int(i128::from($value as u8), IntKind::U8),
                Scalar::Int(IntKind::U16) => Literal::Int(i128::from($value as u16), IntKind::U16),
                Scalar::Int(IntKind::U32) => Literal::Int(i128::from($value as u32), IntKind::U32),
                Scalar::Int(IntKind::U64) => Literal::Int(i128::from($value as u64), IntKind::U64),
                Scalar::Int(IntKind::Usize) => {
                    Literal::Int(i128::from($value as u64), IntKind::Usize)
                }
                Scalar::Float(FloatKind::F32) => Literal::f32($value as f32),
                Scalar::Float(FloatKind::F64) => Literal::f64($value as f64),
            }
        };
    }
    match v {
        Literal::Bool(b) => from_value!(u8::from(b)),
        // Widen to the source type first so `as` sees Rust's operand type.
        Literal::Int(x, k) if k.signed() => from_value!(x as i64),
        Literal::Int(x, _) => from_value!(x as u64),
        Literal::Float(bits, FloatKind::F32) => from_value!(f32::from_bits(bits as u32)),
        Literal::Float(bits, FloatKind::F64) => from_value!(f64::from_bits(bits)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_follow_rust() {
        assert_eq!(
            cast(Literal::f32(f32::NAN), Scalar::Int(IntKind::I32)),
            Literal::Int(0, IntKind::I32)
        );
        assert_eq!(
            cast(Literal::f32(1e10), Scalar::Int(IntKind::I32)),
            Literal::Int(i128::from(i32::MAX), IntKind::I32)
        );
        assert_eq!(
            cast(Literal::f32(-1.5), Scalar::Int(IntKind::U8)),
            Literal::Int(0, IntKind::U8)
        );
        assert_eq!(
            cast(Literal::Int(-1, IntKind::I32), Scalar::Int(IntKind::U64)),
            Literal::Int(i128::from(u64::MAX), IntKind::U64)
        );
        assert_eq!(
            cast(Literal::Int(300, IntKind::I32), Scalar::Int(IntKind::U8)),
            Literal::Int(44, IntKind::U8)
        );
        assert_eq!(
            cast(
                Literal::Int(i128::from(u64::MAX), IntKind::U64),
                Scalar::Float(FloatKind::F32)
            ),
            Literal::f32(u64::MAX as f32)
        );
    }

    #[test]
    fn float_folding_is_ieee_and_never_algebraic() {
        // -0.0 * 0.0 is -0.0; 0.1 + 0.2 in f32 rounds in f32.
        assert_eq!(
            binary(BinaryOp::Mul, Literal::f32(-0.0), Literal::f32(0.0)),
            Some(Literal::f32(-0.0))
        );
        assert_eq!(
            binary(BinaryOp::Add, Literal::f32(0.1), Literal::f32(0.2)),
            Some(Literal::f32(0.1f32 + 0.2f32))
        );
        assert_eq!(
            binary(
                BinaryOp::Mul,
                Literal::f64(f64::INFINITY),
                Literal::f64(0.0)
            )
            .and_then(|l| l.as_f64())
            .map(f64::is_nan),
            Some(true)
        );
    }

    #[test]
    fn integer_folding_wraps_and_leaves_faults() {
        assert_eq!(
            binary(
                BinaryOp::Add,
                Literal::Int(250, IntKind::U8),
                Literal::Int(10, IntKind::U8)
            ),
            Some(Literal::Int(4, IntKind::U8))
        );
        assert_eq!(
            binary(
                BinaryOp::Div,
                Literal::Int(1, IntKind::I32),
                Literal::Int(0, IntKind::I32)
            ),
            None
        );
        assert_eq!(
            binary(
                BinaryOp::Div,
                Literal::Int(-128, IntKind::I8),
                Literal::Int(-1, IntKind::I8)
            ),
            None
        );
        assert_eq!(
            binary(
                BinaryOp::Shl,
                Literal::Int(1, IntKind::U8),
                Literal::Int(9, IntKind::U32)
            ),
            Some(Literal::Int(2, IntKind::U8))
        );
        assert_eq!(
            binary(
                BinaryOp::Shr,
                Literal::Int(-16, IntKind::I8),
                Literal::Int(2, IntKind::U32)
            ),
            Some(Literal::Int(-4, IntKind::I8))
        );
        assert_eq!(
            overflows(
                OverflowOp::Add,
                Literal::Int(250, IntKind::U8),
                Literal::Int(10, IntKind::U8)
            ),
            Some(true)
        );
        assert_eq!(
            overflows(
                OverflowOp::Pow,
                Literal::Int(2, IntKind::I32),
                Literal::Int(31, IntKind::U32)
            ),
            Some(true)
        );
        assert_eq!(
            overflows(
                OverflowOp::Pow,
                Literal::Int(2, IntKind::I32),
                Literal::Int(30, IntKind::U32)
            ),
            Some(false)
        );
    }
}
