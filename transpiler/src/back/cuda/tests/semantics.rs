//! One kernel per semantic corner, covering every type the corner applies
//! to, compiled by NVRTC and assembled by ptxas. Each result is stored to an
//! output slice so nothing is optimised away. The small ones are also
//! snapshotted for review; the PTX is checked where the instruction
//! choice is the point (saturating conversions, correctly rounded ones).

use insta::assert_snapshot;

use super::builder::{FunctionBuilder, ModuleBuilder};
use super::{compile_output, emit};
use crate::arena::Handle;
use crate::back::cuda::Output;
use crate::ir::*;

const ALL: [Scalar; 13] = [
    Scalar::Bool,
    Scalar::Int(IntKind::I8),
    Scalar::Int(IntKind::I16),
    Scalar::Int(IntKind::I32),
    Scalar::Int(IntKind::I64),
    Scalar::Int(IntKind::Isize),
    Scalar::Int(IntKind::U8),
    Scalar::Int(IntKind::U16),
    Scalar::Int(IntKind::U32),
    Scalar::Int(IntKind::U64),
    Scalar::Int(IntKind::Usize),
    Scalar::Float(FloatKind::F32),
    Scalar::Float(FloatKind::F64),
];

const U32: Scalar = Scalar::Int(IntKind::U32);
const I32: Scalar = Scalar::Int(IntKind::I32);

/// A kernel with one input parameter and one output slice per scalar type.
struct Corner<'b, 'm> {
    f: &'b mut FunctionBuilder<'m>,
    inputs: Vec<Handle<Local>>,
    outputs: Vec<Handle<Local>>,
    next: Vec<u64>,
}

impl Corner<'_, '_> {
    fn slot(s: Scalar) -> usize {
        ALL.iter().position(|&a| a == s).unwrap()
    }

    fn input(&mut self, s: Scalar) -> Handle<Expression> {
        let local = self.inputs[Self::slot(s)];
        self.f.read(local)
    }

    /// `out_<s>[n] = value;` with the next free `n`.
    fn out(&mut self, s: Scalar, value: Handle<Expression>) {
        let slot = Self::slot(s);
        let n = self.next[slot];
        self.next[slot] += 1;
        let base = self.f.read(self.outputs[slot]);
        let index = self.f.usize(n);
        let place = self.f.index(base, index);
        self.f.store(place, value);
    }
}

fn corner(name: &str, block: u32, body: impl FnOnce(&mut Corner)) -> Output {
    let mut m = ModuleBuilder::new();
    let types: Vec<_> = ALL.iter().map(|&s| m.scalar(s)).collect();
    let slices: Vec<_> = types.iter().map(|&t| m.slice(t, true)).collect();
    m.kernel(name, [block, 1, 1], |f| {
        let inputs = ALL
            .iter()
            .zip(&types)
            .map(|(s, &t)| f.param(&format!("in_{}", s.rust_name()), t))
            .collect();
        let outputs = ALL
            .iter()
            .zip(&slices)
            .map(|(s, &t)| f.param(&format!("out_{}", s.rust_name()), t))
            .collect();
        let mut c = Corner {
            f,
            inputs,
            outputs,
            next: vec![0; ALL.len()],
        };
        body(&mut c);
        c.f.ret(None);
    });
    emit(&m.module)
}

fn ints() -> impl Iterator<Item = (IntKind, Scalar)> {
    IntKind::ALL.into_iter().map(|k| (k, Scalar::Int(k)))
}

fn floats() -> [Scalar; 2] {
    [Scalar::Float(FloatKind::F32), Scalar::Float(FloatKind::F64)]
}

/// `as` between every pair of scalars Rust allows.
#[test]
fn casts_of_every_kind_pair() {
    let output = corner("casts", 32, |c| {
        for from in ALL {
            for to in ALL {
                let allowed = match from {
                    Scalar::Bool => !matches!(to, Scalar::Float(_)),
                    _ => to != Scalar::Bool,
                };
                if allowed {
                    let x = c.input(from);
                    let cast = c.f.cast(x, to);
                    c.out(to, cast);
                }
            }
        }
    });
    assert_snapshot!("casts", output.source);
    let Some(ptx) = compile_output("casts", &output) else {
        return;
    };
    // Saturating, NaN→0 conversions; correctly rounded ones.
    for instruction in [
        "cvt.rzi.s32.f32",
        "cvt.rzi.u32.f32",
        "cvt.rzi.s64.f32",
        "cvt.rzi.u64.f32",
        "cvt.rzi.s32.f64",
        "cvt.rzi.u32.f64",
        "cvt.rzi.s64.f64",
        "cvt.rzi.u64.f64",
        "cvt.rn.f32.u64",
        "cvt.rn.f32.s64",
        "cvt.rn.f64.u64",
        "cvt.rn.f64.s64",
        "cvt.rn.f32.f64",
    ] {
        assert!(ptx.contains(instruction), "no {instruction} in the PTX");
    }
}

/// `<<`, `>>`, `wrapping_shl/shr` and the shift overflow predicates for
/// every integer type with every amount type.
#[test]
fn shifts_for_every_width_and_amount_type() {
    let output = corner("shifts", 32, |c| {
        for (_, value) in ints() {
            for (_, amount) in ints() {
                let x = c.input(value);
                let n = c.input(amount);
                for op in [BinaryOp::Shl, BinaryOp::Shr] {
                    let shifted = c.f.bin(op, x, n);
                    c.out(value, shifted);
                }
                for op in [OverflowOp::Shl, OverflowOp::Shr] {
                    let overflows = c.f.expr(Expression::Overflows {
                        op,
                        left: x,
                        right: n,
                    });
                    c.out(Scalar::Bool, overflows);
                }
            }
            let x = c.input(value);
            let n = c.input(U32);
            for fun in [MathFunction::WrappingShl, MathFunction::WrappingShr] {
                let shifted = c.f.math(fun, &[x, n]);
                c.out(value, shifted);
            }
        }
    });
    compile_output("shifts", &output);
    // Narrow and signed shifts go through 32-bit types with the mask.
    assert!(output
        .source
        .contains("out_i8[0ull] = (rk_i8)((rk_u32)in_i8 << ((rk_u32)in_i8 & 7u));"));
    assert!(output
        .source
        .contains("out_i8[1ull] = (rk_i8)((rk_i32)in_i8 >> ((rk_u32)in_i8 & 7u));"));
    assert!(output
        .source
        .contains("out_u16[1ull] = (rk_u16)((rk_u32)in_u16 >> ((rk_u32)in_i8 & 15u));"));
    assert!(output
        .source
        .contains("out_i64[0ull] = (rk_i64)((rk_u64)in_i64 << ((rk_u32)in_i8 & 63u));"));
}

/// Wrapping arithmetic, division, bit operations, negation and the
/// wrapping/saturating methods on every integer type.
#[test]
fn integer_arithmetic_for_every_width() {
    let output = corner("int_arith", 32, |c| {
        for (k, s) in ints() {
            let a = c.input(s);
            for op in [
                BinaryOp::Add,
                BinaryOp::Sub,
                BinaryOp::Mul,
                BinaryOp::Div,
                BinaryOp::Rem,
                BinaryOp::BitAnd,
                BinaryOp::BitOr,
                BinaryOp::BitXor,
            ] {
                let r = c.f.bin(op, a, a);
                c.out(s, r);
            }
            if k.signed() {
                let neg = c.f.expr(Expression::Unary {
                    op: UnaryOp::Neg,
                    expr: a,
                });
                c.out(s, neg);
            }
            let not = c.f.expr(Expression::Unary {
                op: UnaryOp::Not,
                expr: a,
            });
            c.out(s, not);
            for fun in [
                MathFunction::WrappingAdd,
                MathFunction::WrappingSub,
                MathFunction::WrappingMul,
                MathFunction::SaturatingAdd,
                MathFunction::SaturatingSub,
                MathFunction::SaturatingMul,
                MathFunction::Min,
                MathFunction::Max,
            ] {
                let r = c.f.math(fun, &[a, a]);
                c.out(s, r);
            }
            let neg = c.f.math(MathFunction::WrappingNeg, &[a]);
            c.out(s, neg);
            let clamp = c.f.math(MathFunction::Clamp, &[a, a, a]);
            c.out(s, clamp);
            if k.signed() {
                let abs = c.f.math(MathFunction::Abs, &[a]);
                c.out(s, abs);
            }
            let e = c.input(U32);
            for fun in [
                MathFunction::Pow,
                MathFunction::RotateLeft,
                MathFunction::RotateRight,
            ] {
                let r = c.f.math(fun, &[a, e]);
                c.out(s, r);
            }
            for fun in [
                MathFunction::CountOnes,
                MathFunction::LeadingZeros,
                MathFunction::TrailingZeros,
            ] {
                let r = c.f.math(fun, &[a]);
                c.out(U32, r);
            }
        }
    });
    assert_snapshot!("int_arith", output.source);
    compile_output("int_arith", &output);
}

/// Every overflow predicate on every integer type.
#[test]
fn overflow_predicates_for_every_width() {
    let output = corner("overflows", 32, |c| {
        for (_, s) in ints() {
            let a = c.input(s);
            let e = c.input(U32);
            for op in [
                OverflowOp::Add,
                OverflowOp::Sub,
                OverflowOp::Mul,
                OverflowOp::Neg,
                OverflowOp::DivRem,
                OverflowOp::Abs,
                OverflowOp::Pow,
            ] {
                let right = if op == OverflowOp::Pow { e } else { a };
                let r = c.f.expr(Expression::Overflows { op, left: a, right });
                c.out(Scalar::Bool, r);
            }
        }
    });
    compile_output("overflows", &output);
}

/// Every float method, arithmetic and comparison in f32 and f64.
#[test]
fn float_math_in_both_precisions() {
    use MathFunction as M;
    let output = corner("float_math", 32, |c| {
        for s in floats() {
            let x = c.input(s);
            for op in [
                BinaryOp::Add,
                BinaryOp::Sub,
                BinaryOp::Mul,
                BinaryOp::Div,
                BinaryOp::Rem,
            ] {
                let r = c.f.bin(op, x, x);
                c.out(s, r);
            }
            for op in [BinaryOp::Eq, BinaryOp::Ne, BinaryOp::Lt, BinaryOp::Ge] {
                let r = c.f.bin(op, x, x);
                c.out(Scalar::Bool, r);
            }
            let neg = c.f.expr(Expression::Unary {
                op: UnaryOp::Neg,
                expr: x,
            });
            c.out(s, neg);
            for fun in [
                M::Abs,
                M::Sqrt,
                M::Floor,
                M::Ceil,
                M::Round,
                M::Trunc,
                M::Fract,
                M::Exp,
                M::Exp2,
                M::Ln,
                M::Log2,
                M::Log10,
                M::Sin,
                M::Cos,
                M::Tan,
                M::Asin,
                M::Acos,
                M::Atan,
                M::Sinh,
                M::Cosh,
                M::Tanh,
                M::Cbrt,
                M::Recip,
                M::Signum,
            ] {
                let r = c.f.math(fun, &[x]);
                c.out(s, r);
            }
            for fun in [M::Min, M::Max, M::Atan2, M::Powf, M::Hypot, M::Copysign] {
                let r = c.f.math(fun, &[x, x]);
                c.out(s, r);
            }
            for fun in [M::MulAdd, M::Clamp] {
                let r = c.f.math(fun, &[x, x, x]);
                c.out(s, r);
            }
            let n = c.input(I32);
            let powi = c.f.math(M::Powi, &[x, n]);
            c.out(s, powi);
            for fun in [M::IsNan, M::IsInfinite, M::IsFinite] {
                let r = c.f.math(fun, &[x]);
                c.out(Scalar::Bool, r);
            }
            let bits = c.f.math(M::ToBits, &[x]);
            let bits_ty = if s == Scalar::Float(FloatKind::F32) {
                U32
            } else {
                Scalar::Int(IntKind::U64)
            };
            c.out(bits_ty, bits);
        }
    });
    assert_snapshot!("float_math", output.source);
    let Some(ptx) = compile_output("float_math", &output) else {
        return;
    };
    // mul_add is the only fused operation.
    assert!(ptx.contains("fma.rn.f32") && ptx.contains("fma.rn.f64"));
}

/// Edge literals of every type, stored so each must be exact.
#[test]
fn literals_of_every_type() {
    let output = corner("literals", 32, |c| {
        for (k, s) in ints() {
            for value in [k.min_value(), -1, 0, 1, k.max_value()] {
                if value >= k.min_value() {
                    let lit = c.f.int(value, k);
                    c.out(s, lit);
                }
            }
        }
        for value in [
            0.0f32,
            -0.0,
            0.1,
            1.0e-45,
            3.402_823_5e38,
            f32::INFINITY,
            f32::NAN,
        ] {
            let lit = c.f.lit(Literal::f32(value));
            c.out(Scalar::Float(FloatKind::F32), lit);
        }
        for value in [-0.0f64, 0.1, 5e-324, f64::MAX, f64::NEG_INFINITY, f64::NAN] {
            let lit = c.f.lit(Literal::f64(value));
            c.out(Scalar::Float(FloatKind::F64), lit);
        }
        for value in [true, false] {
            let lit = c.f.lit(Literal::Bool(value));
            c.out(Scalar::Bool, lit);
        }
    });
    assert_snapshot!("literals", output.source);
    compile_output("literals", &output);
}

/// Atomics on every supported type and operation.
#[test]
fn atomics_on_every_supported_type() {
    let output = corner("atomics", 32, |c| {
        for s in ALL {
            let supported = match s {
                Scalar::Int(k) => k.bits() >= 32,
                Scalar::Float(_) => true,
                Scalar::Bool => false,
            };
            if !supported {
                continue;
            }
            let slot = Corner::slot(s);
            let v = c.input(s);
            let ty = c.f.scalar(s);
            let result = c.f.temp(ty);
            for op in [
                AtomicOp::Add,
                AtomicOp::Sub,
                AtomicOp::Min,
                AtomicOp::Max,
                AtomicOp::And,
                AtomicOp::Or,
                AtomicOp::Xor,
                AtomicOp::Exchange,
                AtomicOp::CompareExchange,
            ] {
                if matches!(s, Scalar::Float(_))
                    && matches!(op, AtomicOp::And | AtomicOp::Or | AtomicOp::Xor)
                {
                    continue;
                }
                let base = c.f.read(c.outputs[slot]);
                let zero = c.f.usize(0);
                let place = c.f.index(base, zero);
                let mut args = vec![place, v];
                if op == AtomicOp::CompareExchange {
                    args.push(v);
                }
                c.f.intrinsic(IntrinsicOp::Atomic(op), &args, Some(result));
            }
            let r = c.f.read(result);
            c.out(s, r);
        }
    });
    compile_output("atomics", &output);
}

/// Warp and block reductions and shuffles of every numeric type.
#[test]
fn collectives_on_every_type() {
    let output = corner("collectives", 64, |c| {
        for s in ALL {
            let v = c.input(s);
            let ty = c.f.scalar(s);
            let result = c.f.temp(ty);
            let lane = c.input(U32);
            for mode in [
                ShuffleMode::Index,
                ShuffleMode::Up,
                ShuffleMode::Down,
                ShuffleMode::Xor,
            ] {
                c.f.intrinsic(IntrinsicOp::WarpShuffle(mode), &[v, lane], Some(result));
            }
            if s != Scalar::Bool {
                for op in [ReduceOp::Sum, ReduceOp::Min, ReduceOp::Max] {
                    c.f.intrinsic(IntrinsicOp::WarpReduce(op), &[v], Some(result));
                    c.f.intrinsic(IntrinsicOp::BlockReduce(op), &[v], Some(result));
                }
            }
            let r = c.f.read(result);
            c.out(s, r);
        }
    });
    compile_output("collectives", &output);
}
