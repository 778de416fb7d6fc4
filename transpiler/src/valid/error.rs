//! Validation errors: one structured variant per broken invariant.

use std::fmt;

use crate::ir::{BinaryOp, IntrinsicOp, MathFunction, OverflowOp, UnaryOp};
use crate::span::Span;

/// An error with the span of the IR node it is about.
///
/// Rendering (codespan-style for the CLI, `syn::Error` in the macro) happens
/// elsewhere; this only carries the data.
#[derive(Debug, Clone, PartialEq)]
pub struct WithSpan<E> {
    pub inner: E,
    pub span: Span,
}

impl<E> WithSpan<E> {
    pub fn new(inner: E, span: Span) -> Self {
        WithSpan { inner, span }
    }

    pub fn into_inner(self) -> E {
        self.inner
    }
}

impl<E: fmt::Display> fmt::Display for WithSpan<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.span.is_known() {
            write!(
                f,
                "{}:{}: {}",
                self.span.start.line,
                self.span.start.column + 1,
                self.inner
            )
        } else {
            self.inner.fmt(f)
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for WithSpan<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.inner)
    }
}

/// What kind of arena a dangling handle pointed into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleKind {
    Type,
    Function,
    Local,
    Expression,
    SharedArray,
}

/// A broken IR invariant. Types are rendered in Rust syntax (`[f32; 4]`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValidationError {
    #[error("{kind:?} handle {index} is out of range")]
    InvalidHandle { kind: HandleKind, index: usize },
    #[error(
        "expression {expression} refers to expression {operand}, which does not come before it"
    )]
    ForwardReference { expression: usize, operand: usize },
    #[error("function `{caller}` calls `{callee}`, which does not come before it (recursion is not supported)")]
    CallOrder { caller: String, callee: String },

    // Types and layouts.
    #[error("`{ty}` cannot be {context}")]
    InvalidTypeUse { ty: String, context: TypeContext },
    #[error("zero-length arrays are not supported on the device")]
    ZeroLengthArray,
    #[error("struct `{name}`: alignment {align} is not a power of two")]
    BadAlignment { name: String, align: u64 },
    #[error("struct `{name}`: size {size} is not a multiple of its alignment {align}")]
    SizeNotMultipleOfAlign { name: String, size: u64, align: u64 },
    #[error("struct `{name}`: member `{member}` at offset {offset} is not aligned to {align}")]
    MisalignedMember {
        name: String,
        member: String,
        offset: u64,
        align: u64,
    },
    #[error(
        "struct `{name}`: member `{member}` overlaps the previous member or the end of the struct"
    )]
    OverlappingMember { name: String, member: String },
    #[error("struct `{name}`: alignment {align} is less than member `{member}`'s alignment {member_align}")]
    UnderalignedStruct {
        name: String,
        align: u64,
        member: String,
        member_align: u64,
    },

    // Functions and entry points.
    #[error("local {local} is listed twice as a parameter")]
    DuplicateParameter { local: usize },
    #[error(
        "`{ty}` local {local} is not a parameter: slices and references only come in as parameters"
    )]
    BorrowedLocal { ty: String, local: usize },
    #[error("shared array {shared} has type `{ty}`, not an array type")]
    SharedNotArray { shared: usize, ty: String },
    #[error("function `{function}` does not return a value on every path")]
    MissingReturn { function: String },
    #[error("entry point `{entry}`: {problem}")]
    EntryPoint {
        entry: String,
        problem: EntryPointProblem,
    },

    // Expressions.
    #[error("literal {value} is out of range for `{ty}`")]
    LiteralOutOfRange { value: i128, ty: String },
    #[error("f32 literal bits {bits:#x} do not fit in 32 bits")]
    BadFloatBits { bits: u64 },
    #[error("`{ty}` has no member {index}")]
    NoSuchMember { ty: String, index: u32 },
    #[error("`{ty}` cannot be indexed")]
    NotIndexable { ty: String },
    #[error("`{ty}` has no length")]
    NoLength { ty: String },
    #[error("index has type `{ty}`, not `usize`")]
    IndexNotUsize { ty: String },
    #[error("`{ty}` cannot be dereferenced")]
    NotAReference { ty: String },
    #[error("`{op:?}` cannot be applied to `{ty}`")]
    UnaryOperand { op: UnaryOp, ty: String },
    #[error("`{op:?}` cannot be applied to `{left}` and `{right}`")]
    BinaryOperands {
        op: BinaryOp,
        left: String,
        right: String,
    },
    #[error("cannot cast `{from}` as `{to}`")]
    InvalidCast { from: String, to: String },
    #[error("`{fun:?}` takes {expected} arguments, got {found}")]
    MathArity {
        fun: MathFunction,
        expected: usize,
        found: usize,
    },
    #[error("`{fun:?}` cannot be applied to ({args})")]
    MathOperands { fun: MathFunction, args: String },
    #[error("overflow predicate `{op:?}` cannot be applied to `{left}` and `{right}`")]
    OverflowOperands {
        op: OverflowOp,
        left: String,
        right: String,
    },
    #[error("`{ty}` is built from {expected} components, got {found}")]
    ComponentCount {
        ty: String,
        expected: usize,
        found: usize,
    },
    #[error("component {index} of `{ty}` expects `{expected}`, got `{found}`")]
    ComponentType {
        ty: String,
        index: usize,
        expected: String,
        found: String,
    },
    #[error("`[_; N]` splat of type `{ty}` is not an array")]
    SplatNotArray { ty: String },

    // Statements.
    #[error("expression {expression} is not a place and cannot be {context}")]
    NotAPlace {
        expression: usize,
        context: PlaceContext,
    },
    #[error("the place is behind an immutable slice or reference and cannot be {context}")]
    ImmutablePlace { context: PlaceContext },
    #[error("cannot store `{value}` into a place of type `{place}`")]
    StoreType { place: String, value: String },
    #[error("condition has type `{ty}`, not `bool`")]
    ConditionNotBool { ty: String },
    #[error("loop {id} is declared twice in one function")]
    DuplicateLoop { id: u32 },
    #[error("`break`/`continue` of loop {id} outside that loop")]
    JumpOutsideLoop { id: u32 },
    #[error("return value of type `{found}` in a function returning `{expected}`")]
    ReturnType { expected: String, found: String },
    #[error("`{callee}` is an entry point and cannot be called")]
    CallOfEntryPoint { callee: String },
    #[error("`{callee}` takes {expected} arguments, got {found}")]
    CallArity {
        callee: String,
        expected: usize,
        found: usize,
    },
    #[error("argument {index} of `{callee}` expects `{expected}`, got `{found}`")]
    ArgumentType {
        callee: String,
        index: usize,
        expected: String,
        found: String,
    },
    #[error("the result of `{callee}` (`{expected}`) cannot go to a local of type `{found}`")]
    ResultType {
        callee: String,
        expected: String,
        found: String,
    },
    #[error("intrinsic `{op:?}` takes {expected} arguments, got {found}")]
    IntrinsicArity {
        op: IntrinsicOp,
        expected: usize,
        found: usize,
    },
    #[error("intrinsic `{op:?}` cannot be applied to ({args})")]
    IntrinsicOperands { op: IntrinsicOp, args: String },
    #[error("atomics on `{ty}` are not supported (32- and 64-bit integers, f32 and f64 are)")]
    AtomicType { ty: String },
}

/// Where a type was used when it was not allowed there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeContext {
    ArrayElement,
    StructMember,
    Local,
    SliceElement,
    ReferenceTarget,
    FunctionResult,
}

impl fmt::Display for TypeContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TypeContext::ArrayElement => "an array element",
            TypeContext::StructMember => "a struct member",
            TypeContext::Local => "the type of a local",
            TypeContext::SliceElement => "a slice element",
            TypeContext::ReferenceTarget => "the target of a reference",
            TypeContext::FunctionResult => "a function result",
        })
    }
}

/// What a place was needed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceContext {
    Stored,
    UsedAtomically,
}

impl fmt::Display for PlaceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PlaceContext::Stored => "stored to",
            PlaceContext::UsedAtomically => "updated atomically",
        })
    }
}

/// Why an entry point is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryPointProblem {
    /// Two entry points use the same function.
    FunctionUsedTwice,
    /// Two entry points have the same name.
    DuplicateName,
    /// Kernels return nothing.
    ReturnsValue,
    /// Each block dimension is at least 1 and the product at most 1024.
    BadBlockShape,
    /// A handler's parameters are `(&mut S)?, &M` and its result is the
    /// reply type, as its [`crate::ir::ActorEntry`] says.
    HandlerSignature,
}

impl fmt::Display for EntryPointProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntryPointProblem::FunctionUsedTwice => "its function is already an entry point",
            EntryPointProblem::DuplicateName => "another entry point has the same name",
            EntryPointProblem::ReturnsValue => "a kernel cannot return a value",
            EntryPointProblem::BadBlockShape => {
                "block dimensions must be at least 1 and multiply to at most 1024 threads"
            }
            EntryPointProblem::HandlerSignature => {
                "the handler's parameters and result do not match its actor entry"
            }
        })
    }
}
