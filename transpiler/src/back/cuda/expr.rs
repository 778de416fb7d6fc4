//! Expressions: each IR expression becomes one fully parenthesised C
//! expression of exactly its Rust type.
//!
//! Expressions are pure and evaluated completely when their statement runs
//! (IR doc), so the writer inlines each tree at its statement; C's
//! unspecified operand order cannot matter.
//!
//! Integer rules (C differs from Rust in each):
//! - `+ - *`: `(T)((U)a op (U)b)` with U the unsigned type of at least 32
//!   bits (signed overflow is UB in C; `u16 * u16` promotes to `int` and
//!   can overflow); plain for unsigned 32/64-bit.
//! - `/ %`: C truncates like Rust; operands are valid (checks precede them);
//!   narrow results are cast back.
//! - shifts: the amount converted to `rk_u32` and masked to `bits - 1`;
//!   left shifts through the unsigned type; right shifts arithmetic for
//!   signed (through `int` for 8/16 bits), logical for unsigned.
//! - `-x`: `(T)(0u - (U)x)`; `!x`: `(T)~x` on integers, `!x` on bool.
//! - results of 8/16-bit operations are cast back to their type, so every
//!   subexpression has its Rust type, never C's promoted `int`.
//!
//! Casts: int→int C conversion (modular); bool→int 0/1; float→int through
//! the saturating `rk_cast_*` helpers; int→float and f64→f32 through the
//! `_rn` intrinsics (round to nearest even, correctly rounded even from
//! 64-bit integers: `cvt.rn.f32.u64`).

use std::fmt::{self, Write as _};

use crate::arena::Handle;
use crate::ir::{
    BinaryOp, Builtin, Expression, FloatKind, IntKind, MathFunction, OverflowOp, Scalar, Type,
    UnaryOp,
};

use super::function::FunctionCtx;
use super::literal::write_literal;
use super::types::{c_scalar, suffix, wide_unsigned};
use super::writer::Writer;

impl<W: fmt::Write> Writer<'_, W> {
    pub(super) fn scalar_of(&self, ctx: &FunctionCtx, expr: Handle<Expression>) -> Scalar {
        ctx.info
            .expression_type(expr)
            .scalar()
            .unwrap_or(Scalar::Bool)
    }

    pub(super) fn write_expr(
        &mut self,
        ctx: &FunctionCtx,
        handle: Handle<Expression>,
    ) -> fmt::Result {
        let function = ctx.function;
        match function.expressions[handle] {
            Expression::Literal(literal) => write_literal(&mut self.out, literal),
            Expression::Local(local) => self.out.write_str(&ctx.names.locals[local.index()]),
            Expression::Shared(shared) => self.out.write_str(&ctx.names.shared[shared.index()]),
            Expression::Field { base, index } => {
                let struct_ty = match ctx.info.expression_type(base) {
                    crate::valid::TypeResolution::Handle(h) => h,
                    crate::valid::TypeResolution::Scalar(_) => return Err(fmt::Error),
                };
                let member = &self.names.members[struct_ty.index()][index as usize];
                let member = member.clone();
                if let Expression::Deref(reference) = function.expressions[base] {
                    self.write_expr(ctx, reference)?;
                    write!(self.out, "->{member}")
                } else {
                    self.write_expr(ctx, base)?;
                    write!(self.out, ".{member}")
                }
            }
            Expression::Index { base, index } => {
                self.write_expr(ctx, base)?;
                let is_slice = matches!(
                    ctx.info.expression_type(base).inner(self.module),
                    Some(Type::Slice { .. })
                );
                self.out.write_str(if is_slice { "[" } else { ".e[" })?;
                self.write_expr(ctx, index)?;
                self.out.write_str("]")
            }
            Expression::Deref(reference) => {
                self.out.write_str("(*")?;
                self.write_expr(ctx, reference)?;
                self.out.write_str(")")
            }
            Expression::Len(base) => match ctx.info.expression_type(base).inner(self.module) {
                Some(Type::Array { len, .. }) => write!(self.out, "{len}ull"),
                _ => self.write_slice_len(ctx, base),
            },
            Expression::Unary { op, expr } => self.write_unary(ctx, op, expr),
            Expression::Binary { op, left, right } => self.write_binary(ctx, op, left, right),
            Expression::Cast { expr, to } => self.write_cast(ctx, expr, to),
            Expression::Math { fun, ref args } => self.write_math(ctx, fun, args),
            Expression::Builtin(builtin) => self.out.write_str(builtin_c(builtin, ctx.warp_actor)),
            Expression::Overflows { op, left, right } => self.write_overflows(ctx, op, left, right),
            Expression::Compose { ty, ref components } => {
                if let Type::Array { .. } = self.module.types[ty] {
                    // `[a, b, c]`: an aggregate of the array wrapper (the
                    // components have the element type exactly, so no
                    // conversion happens).
                    let name = self.type_name(ty).to_string();
                    write!(self.out, "{name}{{{{")?;
                    for (i, &c) in components.iter().enumerate() {
                        if i > 0 {
                            self.out.write_str(", ")?;
                        }
                        self.write_expr(ctx, c)?;
                    }
                    return self.out.write_str("}}");
                }
                let name = self.constructor_name(ty);
                self.write_call(ctx, &name, components)
            }
            Expression::Splat { ty, value } => {
                let name = self.constructor_name(ty);
                self.write_call(ctx, &name, &[value])
            }
        }
    }

    /// The length of a slice-typed expression, which the validator
    /// guarantees is a parameter's `Local`.
    pub(super) fn write_slice_len(
        &mut self,
        ctx: &FunctionCtx,
        slice: Handle<Expression>,
    ) -> fmt::Result {
        match ctx.function.expressions[slice] {
            Expression::Local(local) => match &ctx.names.slice_lens[local.index()] {
                Some(len) => self.out.write_str(len),
                None => Err(fmt::Error),
            },
            _ => Err(fmt::Error),
        }
    }

    /// `name(a, b, …)`.
    pub(super) fn write_call(
        &mut self,
        ctx: &FunctionCtx,
        name: &str,
        args: &[Handle<Expression>],
    ) -> fmt::Result {
        write!(self.out, "{name}(")?;
        for (i, &arg) in args.iter().enumerate() {
            if i > 0 {
                self.out.write_str(", ")?;
            }
            self.write_expr(ctx, arg)?;
        }
        self.out.write_str(")")
    }

    fn write_unary(
        &mut self,
        ctx: &FunctionCtx,
        op: UnaryOp,
        expr: Handle<Expression>,
    ) -> fmt::Result {
        let scalar = self.scalar_of(ctx, expr);
        match (op, scalar) {
            (UnaryOp::Neg, Scalar::Int(k)) => self.write_wrapping_neg(ctx, k, expr),
            (UnaryOp::Not, Scalar::Int(_)) => {
                write!(self.out, "(({})~", c_scalar(scalar))?;
                self.write_expr(ctx, expr)?;
                self.out.write_str(")")
            }
            (UnaryOp::Neg, Scalar::Float(_)) => {
                // A sign-bit flip, as Rust's `-` on floats (NaNs included).
                write!(self.out, "rk_neg_{}(", suffix(scalar))?;
                self.write_expr(ctx, expr)?;
                self.out.write_str(")")
            }
            (UnaryOp::Neg, _) => {
                self.out.write_str("(-")?;
                self.write_expr(ctx, expr)?;
                self.out.write_str(")")
            }
            (UnaryOp::Not, _) => {
                self.out.write_str("(!")?;
                self.write_expr(ctx, expr)?;
                self.out.write_str(")")
            }
        }
    }

    /// `(T)(0u - (U)x)`: two's-complement negation without signed overflow.
    fn write_wrapping_neg(
        &mut self,
        ctx: &FunctionCtx,
        k: IntKind,
        expr: Handle<Expression>,
    ) -> fmt::Result {
        let zero = if k.bits() == 64 { "0ull" } else { "0u" };
        write!(
            self.out,
            "(({})({zero} - ({})",
            c_scalar(Scalar::Int(k)),
            wide_unsigned(k)
        )?;
        self.write_expr(ctx, expr)?;
        self.out.write_str("))")
    }

    fn write_binary(
        &mut self,
        ctx: &FunctionCtx,
        op: BinaryOp,
        left: Handle<Expression>,
        right: Handle<Expression>,
    ) -> fmt::Result {
        let scalar = self.scalar_of(ctx, left);
        let c_op = op.symbol();
        match (op, scalar) {
            (BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul, Scalar::Int(k)) => {
                self.write_wrapping(ctx, k, c_op, left, right)
            }
            (BinaryOp::Shl | BinaryOp::Shr, Scalar::Int(k)) => {
                self.write_shift(ctx, k, op == BinaryOp::Shl, left, right)
            }
            (BinaryOp::Rem, Scalar::Float(f)) => {
                let fmod = if f == FloatKind::F32 { "fmodf" } else { "fmod" };
                self.write_call(ctx, fmod, &[left, right])
            }
            // Bool bit ops: both sides are evaluated anyway (pure).
            (BinaryOp::BitAnd, Scalar::Bool) => self.write_infix(ctx, "&&", left, right),
            (BinaryOp::BitOr, Scalar::Bool) => self.write_infix(ctx, "||", left, right),
            (BinaryOp::BitXor, Scalar::Bool) => self.write_infix(ctx, "!=", left, right),
            (
                BinaryOp::Div
                | BinaryOp::Rem
                | BinaryOp::BitAnd
                | BinaryOp::BitOr
                | BinaryOp::BitXor,
                Scalar::Int(k),
            ) if k.bits() < 32 => {
                write!(self.out, "(({})", c_scalar(scalar))?;
                self.write_infix(ctx, c_op, left, right)?;
                self.out.write_str(")")
            }
            _ => self.write_infix(ctx, c_op, left, right),
        }
    }

    fn write_infix(
        &mut self,
        ctx: &FunctionCtx,
        op: &str,
        left: Handle<Expression>,
        right: Handle<Expression>,
    ) -> fmt::Result {
        self.out.write_str("(")?;
        self.write_expr(ctx, left)?;
        write!(self.out, " {op} ")?;
        self.write_expr(ctx, right)?;
        self.out.write_str(")")
    }

    /// Wrapping `+ - *` on an integer type.
    pub(super) fn write_wrapping(
        &mut self,
        ctx: &FunctionCtx,
        k: IntKind,
        op: &str,
        left: Handle<Expression>,
        right: Handle<Expression>,
    ) -> fmt::Result {
        if !k.signed() && k.bits() >= 32 {
            return self.write_infix(ctx, op, left, right);
        }
        let wide = wide_unsigned(k);
        write!(self.out, "(({})(({wide})", c_scalar(Scalar::Int(k)))?;
        self.write_expr(ctx, left)?;
        write!(self.out, " {op} ({wide})")?;
        self.write_expr(ctx, right)?;
        self.out.write_str("))")
    }

    /// A shift with the amount masked to the width (`wrapping_shl/shr`).
    pub(super) fn write_shift(
        &mut self,
        ctx: &FunctionCtx,
        k: IntKind,
        left_shift: bool,
        value: Handle<Expression>,
        amount: Handle<Expression>,
    ) -> fmt::Result {
        let ty = c_scalar(Scalar::Int(k));
        // The type the shift is done in: unsigned for left shifts (shifting
        // a negative value left is UB in C++17), the signedness of the
        // operand for right shifts, at least 32 bits.
        let through = match (left_shift, k.signed(), k.bits()) {
            (true, _, 64) => "rk_u64",
            (true, _, _) => "rk_u32",
            (false, true, 64) => "rk_i64",
            (false, true, _) => "rk_i32",
            (false, false, 64) => "rk_u64",
            (false, false, _) => "rk_u32",
        };
        let op = if left_shift { "<<" } else { ">>" };
        write!(self.out, "(({ty})(({through})")?;
        self.write_expr(ctx, value)?;
        write!(self.out, " {op} (")?;
        if self.scalar_of(ctx, amount) != Scalar::Int(IntKind::U32) {
            self.out.write_str("(rk_u32)")?;
        }
        self.write_expr(ctx, amount)?;
        write!(self.out, " & {}u)))", k.bits() - 1)
    }

    fn write_cast(
        &mut self,
        ctx: &FunctionCtx,
        expr: Handle<Expression>,
        to: Scalar,
    ) -> fmt::Result {
        let from = self.scalar_of(ctx, expr);
        if from == to {
            return self.write_expr(ctx, expr);
        }
        let open: String = match (from, to) {
            (Scalar::Bool | Scalar::Int(_), Scalar::Int(_)) => format!("(({})", c_scalar(to)),
            (Scalar::Float(f), Scalar::Int(_)) => {
                let f = if f == FloatKind::F32 { "f32" } else { "f64" };
                format!("rk_cast_{f}_{}(", suffix(to))
            }
            (Scalar::Int(k), Scalar::Float(f)) => {
                let target = if f == FloatKind::F32 {
                    "float"
                } else {
                    "double"
                };
                let source = match (k.signed(), k.bits()) {
                    (true, 64) => "ll",
                    (false, 64) => "ull",
                    (true, _) => "int",
                    (false, _) => "uint",
                };
                let widen = match (k.signed(), k.bits()) {
                    (true, 8 | 16) => "(rk_i32)",
                    (false, 8 | 16) => "(rk_u32)",
                    _ => "",
                };
                format!("__{source}2{target}_rn({widen}")
            }
            (Scalar::Float(FloatKind::F64), Scalar::Float(FloatKind::F32)) => {
                "__double2float_rn(".to_string()
            }
            (Scalar::Float(_), Scalar::Float(_)) => "((double)".to_string(),
            // Rejected by the validator (`as bool`, `bool as f32`).
            _ => return Err(fmt::Error),
        };
        self.out.write_str(&open)?;
        self.write_expr(ctx, expr)?;
        self.out.write_str(")")
    }

    fn write_overflows(
        &mut self,
        ctx: &FunctionCtx,
        op: OverflowOp,
        left: Handle<Expression>,
        right: Handle<Expression>,
    ) -> fmt::Result {
        let scalar = self.scalar_of(ctx, left);
        let s = suffix(scalar);
        match op {
            OverflowOp::Add => {
                self.write_call(ctx, &format!("rk_overflows_add_{s}"), &[left, right])
            }
            OverflowOp::Sub => {
                self.write_call(ctx, &format!("rk_overflows_sub_{s}"), &[left, right])
            }
            OverflowOp::Mul => {
                self.write_call(ctx, &format!("rk_overflows_mul_{s}"), &[left, right])
            }
            OverflowOp::DivRem => {
                self.write_call(ctx, &format!("rk_overflows_divrem_{s}"), &[left, right])
            }
            OverflowOp::Pow => {
                self.write_call(ctx, &format!("rk_overflows_pow_{s}"), &[left, right])
            }
            OverflowOp::Neg => self.write_call(ctx, &format!("rk_overflows_neg_{s}"), &[left]),
            OverflowOp::Abs => self.write_call(ctx, &format!("rk_overflows_abs_{s}"), &[left]),
            OverflowOp::Shl | OverflowOp::Shr => {
                let bits = match scalar {
                    Scalar::Int(k) => k.bits(),
                    _ => return Err(fmt::Error),
                };
                let amount = suffix(self.scalar_of(ctx, right));
                write!(self.out, "rk_shift_overflows_{amount}(")?;
                self.write_expr(ctx, right)?;
                write!(self.out, ", {bits}u)")
            }
        }
    }

    fn write_math(
        &mut self,
        ctx: &FunctionCtx,
        fun: MathFunction,
        args: &[Handle<Expression>],
    ) -> fmt::Result {
        use MathFunction as M;
        let scalar = self.scalar_of(ctx, args[0]);
        let s = suffix(scalar);
        if let Scalar::Float(kind) = scalar {
            let f32 = kind == FloatKind::F32;
            // libdevice names: the f32 version has an `f` suffix.
            let libm = |base: &str| {
                if f32 {
                    format!("{base}f")
                } else {
                    base.to_string()
                }
            };
            let name = match fun {
                M::Min => libm("fmin"),
                M::Max => libm("fmax"),
                // Sign-bit operations, exact on NaNs (see rk_rust.cuh).
                M::Abs => format!("rk_abs_{s}"),
                M::Sqrt => libm("sqrt"),
                M::Floor => libm("floor"),
                M::Ceil => libm("ceil"),
                // roundf rounds half away from zero, like f32::round.
                M::Round => libm("round"),
                M::Trunc => libm("trunc"),
                M::Exp => libm("exp"),
                M::Exp2 => libm("exp2"),
                M::Ln => libm("log"),
                M::Log2 => libm("log2"),
                M::Log10 => libm("log10"),
                M::Sin => libm("sin"),
                M::Cos => libm("cos"),
                M::Tan => libm("tan"),
                M::Asin => libm("asin"),
                M::Acos => libm("acos"),
                M::Atan => libm("atan"),
                M::Atan2 => libm("atan2"),
                M::Sinh => libm("sinh"),
                M::Cosh => libm("cosh"),
                M::Tanh => libm("tanh"),
                M::Powf => libm("pow"),
                M::MulAdd => libm("fma"),
                M::Hypot => libm("hypot"),
                M::Cbrt => libm("cbrt"),
                M::Copysign => format!("rk_copysign_{s}"),
                M::Fract => format!("rk_fract_{s}"),
                M::Signum => format!("rk_signum_{s}"),
                M::Clamp => format!("rk_clamp_{s}"),
                M::Powi => format!("rk_powi_{s}"),
                M::IsNan => format!("rk_is_nan_{s}"),
                M::IsInfinite => format!("rk_is_infinite_{s}"),
                M::IsFinite => format!("rk_is_finite_{s}"),
                M::ToBits if f32 => "__float_as_uint".to_string(),
                M::ToBits => {
                    self.out.write_str("((rk_u64)__double_as_longlong(")?;
                    self.write_expr(ctx, args[0])?;
                    return self.out.write_str("))");
                }
                M::Recip => {
                    self.out
                        .write_str(if f32 { "(1.0f / " } else { "(1.0 / " })?;
                    self.write_expr(ctx, args[0])?;
                    return self.out.write_str(")");
                }
                _ => return Err(fmt::Error),
            };
            return self.write_call(ctx, &name, args);
        }
        let Scalar::Int(k) = scalar else {
            return Err(fmt::Error);
        };
        let name = match fun {
            M::Min => "min",
            M::Max => "max",
            M::Abs => "abs",
            M::Clamp => "clamp",
            M::Pow => "pow",
            M::SaturatingAdd => "saturating_add",
            M::SaturatingSub => "saturating_sub",
            M::SaturatingMul => "saturating_mul",
            M::CountOnes => "count_ones",
            M::LeadingZeros => "leading_zeros",
            M::TrailingZeros => "trailing_zeros",
            M::RotateLeft => "rotate_left",
            M::RotateRight => "rotate_right",
            M::WrappingAdd => return self.write_wrapping(ctx, k, "+", args[0], args[1]),
            M::WrappingSub => return self.write_wrapping(ctx, k, "-", args[0], args[1]),
            M::WrappingMul => return self.write_wrapping(ctx, k, "*", args[0], args[1]),
            M::WrappingNeg => return self.write_wrapping_neg(ctx, k, args[0]),
            M::WrappingShl => return self.write_shift(ctx, k, true, args[0], args[1]),
            M::WrappingShr => return self.write_shift(ctx, k, false, args[0], args[1]),
            _ => return Err(fmt::Error),
        };
        self.write_call(ctx, &format!("rk_{name}_{s}"), args)
    }
}

/// Launch geometry: CUDA registers, or `rk_rust.cuh` helpers for the
/// linear and 64-bit indices. In a warp actor's handler (`warp_actor`) the
/// actor's "block" is its warp of a 1-D block: the thread index is the
/// lane, the block is 32 threads, one warp (the front end rejects the block
/// and grid indices there; what is written for them is CUDA's own).
fn builtin_c(builtin: Builtin, warp_actor: bool) -> &'static str {
    if warp_actor {
        match builtin {
            Builtin::ThreadX | Builtin::ThreadId | Builtin::LaneId => return "rk_lane_id()",
            Builtin::WarpId => return "0u",
            Builtin::BlockDimX => return "32u",
            _ => {}
        }
    }
    match builtin {
        Builtin::ThreadX => "threadIdx.x",
        Builtin::ThreadY => "threadIdx.y",
        Builtin::ThreadZ => "threadIdx.z",
        Builtin::BlockX => "blockIdx.x",
        Builtin::BlockY => "blockIdx.y",
        Builtin::BlockZ => "blockIdx.z",
        Builtin::BlockDimX => "blockDim.x",
        Builtin::BlockDimY => "blockDim.y",
        Builtin::BlockDimZ => "blockDim.z",
        Builtin::GridDimX => "gridDim.x",
        Builtin::GridDimY => "gridDim.y",
        Builtin::GridDimZ => "gridDim.z",
        Builtin::ThreadId => "rk_thread_id()",
        Builtin::BlockId => "rk_block_id()",
        Builtin::GlobalId => "rk_global_id()",
        Builtin::GlobalX => "rk_global_x()",
        Builtin::GlobalY => "rk_global_y()",
        Builtin::GlobalZ => "rk_global_z()",
        // The message's environment travels with the thread's context
        // (rk_actor.cuh), so messages of one batch each see their own.
        Builtin::ActorId => "rk_actor_env_of(__rk_f)->actor_id",
        Builtin::HlcPhysicalNs => "rk_actor_env_of(__rk_f)->received.physical_ns",
        Builtin::HlcLogical => "rk_actor_env_of(__rk_f)->received.logical",
        Builtin::HlcNode => "rk_actor_env_of(__rk_f)->received.node",
        Builtin::LaneId => "rk_lane_id()",
        Builtin::WarpId => "rk_warp_id()",
    }
}
