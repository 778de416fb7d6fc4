//! Expressions: pure computations over places and values.
//!
//! Some expressions denote *places* (memory locations): [`Expression::Local`],
//! [`Expression::Shared`], and [`Expression::Field`], [`Expression::Index`]
//! and [`Expression::Deref`] over a place. A place in value position is a
//! read of it; [`super::Statement::Store`] and the atomics take a place as
//! their target.

use crate::arena::Handle;

use super::{FloatKind, IntKind, Local, Scalar, SharedArray, Type};

#[derive(Debug, Clone, PartialEq)]
pub enum Expression {
    Literal(Literal),
    /// A local variable or parameter (a place).
    Local(Handle<Local>),
    /// A block-shared array (a place).
    Shared(Handle<SharedArray>),
    /// A struct member of a struct-typed place or value.
    Field {
        base: Handle<Expression>,
        index: u32,
    },
    /// An element of an array or slice. The index has type `usize`; it must
    /// be in bounds (a bounds check precedes the statement when checks are
    /// inserted).
    Index {
        base: Handle<Expression>,
        index: Handle<Expression>,
    },
    /// The place a `Ref`-typed expression points to.
    Deref(Handle<Expression>),
    /// The length of a slice (a `usize`).
    Len(Handle<Expression>),
    Unary {
        op: UnaryOp,
        expr: Handle<Expression>,
    },
    Binary {
        op: BinaryOp,
        left: Handle<Expression>,
        right: Handle<Expression>,
    },
    /// `expr as to`, with Rust's semantics: int→int wraps or extends,
    /// float→int saturates (NaN → 0), int→float and f64→f32 round to nearest.
    Cast {
        expr: Handle<Expression>,
        to: Scalar,
    },
    /// A pure function of its arguments (math and integer methods).
    Math {
        fun: MathFunction,
        args: Vec<Handle<Expression>>,
    },
    /// A read of a launch-geometry register.
    Builtin(Builtin),
    /// True when `left op right` overflows the operands' type (for `Neg`,
    /// `right` is ignored and may equal `left`; for `Shl`/`Shr`, when the
    /// shift amount is not below the bit width). Used to build checks.
    Overflows {
        op: OverflowOp,
        left: Handle<Expression>,
        right: Handle<Expression>,
    },
    /// A struct value from one expression per member, in member order.
    Compose {
        ty: Handle<Type>,
        components: Vec<Handle<Expression>>,
    },
    /// `[value; count]` for an array type.
    Splat {
        ty: Handle<Type>,
        value: Handle<Expression>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Literal {
    Bool(bool),
    /// The value, already in the type's range.
    Int(i128, IntKind),
    /// The bit pattern (`f32::to_bits` widened, or `f64::to_bits`), so NaN
    /// payloads and signed zeros survive.
    Float(u64, FloatKind),
}

impl Literal {
    pub fn scalar(self) -> Scalar {
        match self {
            Literal::Bool(_) => Scalar::Bool,
            Literal::Int(_, k) => Scalar::Int(k),
            Literal::Float(_, k) => Scalar::Float(k),
        }
    }

    pub fn f32(value: f32) -> Literal {
        Literal::Float(u64::from(value.to_bits()), FloatKind::F32)
    }

    pub fn f64(value: f64) -> Literal {
        Literal::Float(value.to_bits(), FloatKind::F64)
    }

    /// The value as f64 (exact for both float kinds), if a float.
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Literal::Float(bits, FloatKind::F32) => Some(f64::from(f32::from_bits(bits as u32))),
            Literal::Float(bits, FloatKind::F64) => Some(f64::from_bits(bits)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// Wrapping negation on signed integers, IEEE negation on floats.
    Neg,
    /// Logical not on `bool`, bitwise not on integers.
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    BitAnd,
    BitOr,
    BitXor,
    /// The right operand is any integer type; the amount is taken modulo the
    /// left operand's bit width.
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Only on `bool` operands whose evaluation cannot fault or have effects
    /// (both are pure expressions anyway); evaluates both sides.
    LogicalAnd,
    LogicalOr,
}

impl BinaryOp {
    /// The operator as written in source: Rust and C spell every binary
    /// operator the same, so the front end's messages and the CUDA writer
    /// both use this.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
            BinaryOp::Shl => "<<",
            BinaryOp::Shr => ">>",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::LogicalAnd => "&&",
            BinaryOp::LogicalOr => "||",
        }
    }
}

impl BinaryOp {
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OverflowOp {
    Add,
    Sub,
    Mul,
    Neg,
    Shl,
    Shr,
    /// Signed `MIN / -1` (and `MIN % -1`).
    DivRem,
    /// `pow(base, exp)` with an `u32` exponent.
    Pow,
    /// `abs()` of `MIN`.
    Abs,
}

/// Pure functions of scalars. Float functions use the argument's precision
/// (f64 code uses double-precision functions); integer functions have Rust's
/// exact semantics for the argument's width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MathFunction {
    // Shared by ints and floats.
    Min,
    Max,
    Abs,
    /// `clamp(x, lo, hi)`; the caller checks `lo <= hi` (Rust panics otherwise).
    Clamp,
    // Floats.
    Sqrt,
    Floor,
    Ceil,
    Round,
    Trunc,
    Fract,
    Exp,
    Exp2,
    Ln,
    Log2,
    Log10,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Atan2,
    Sinh,
    Cosh,
    Tanh,
    Powf,
    /// `powi(x, n: i32)`.
    Powi,
    MulAdd,
    Hypot,
    Cbrt,
    Recip,
    Signum,
    Copysign,
    IsNan,
    IsInfinite,
    IsFinite,
    ToBits,
    // Integers.
    /// Wrapping `pow(x, exp: u32)`.
    Pow,
    WrappingAdd,
    WrappingSub,
    WrappingMul,
    WrappingNeg,
    WrappingShl,
    WrappingShr,
    SaturatingAdd,
    SaturatingSub,
    SaturatingMul,
    /// `u32` results.
    CountOnes,
    LeadingZeros,
    TrailingZeros,
    RotateLeft,
    RotateRight,
}

/// Launch-geometry reads. All are `u32` except the `Global*` ones, which are
/// computed in 64 bits and have type `u64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    ThreadX,
    ThreadY,
    ThreadZ,
    BlockX,
    BlockY,
    BlockZ,
    BlockDimX,
    BlockDimY,
    BlockDimZ,
    GridDimX,
    GridDimY,
    GridDimZ,
    /// Linear thread index within the block.
    ThreadId,
    /// Linear block index within the grid.
    BlockId,
    /// Linear thread index within the grid.
    GlobalId,
    GlobalX,
    GlobalY,
    GlobalZ,
    LaneId,
    /// Warp index within the block.
    WarpId,
    /// The actor's id (`RingContext::actor_id`); handlers only.
    ActorId,
    /// The HLC timestamp of the current message's receipt
    /// (`RingContext::now`), by component; handlers only.
    HlcPhysicalNs,
    HlcLogical,
    HlcNode,
}
