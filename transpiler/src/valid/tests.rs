//! Negative tests: one broken invariant each, with the error and its span;
//! and the positive facts (types, may_fault, collectives).

use crate::arena::Handle;
use crate::ir::*;
use crate::span::{LineCol, Span};

use super::{validate, TypeResolution, ValidationError};

fn span(line: u32) -> Span {
    Span {
        start: LineCol { line, column: 0 },
        end: LineCol { line, column: 1 },
    }
}

struct Fixture {
    module: Module,
    function: Function,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            module: Module::default(),
            function: Function {
                name: "f".into(),
                ..Function::default()
            },
        }
    }

    fn scalar(&mut self, s: Scalar) -> Handle<Type> {
        self.module.ty(Type::Scalar(s))
    }

    fn local(&mut self, name: &str, s: Scalar) -> Handle<Local> {
        let ty = self.scalar(s);
        self.function.locals.append(
            Local {
                name: Some(name.into()),
                ty,
                mutable: true,
            },
            span(1),
        )
    }

    fn expr(&mut self, e: Expression, line: u32) -> Handle<Expression> {
        self.function.expressions.append(e, span(line))
    }

    fn push(&mut self, s: Statement, line: u32) {
        self.function.body.push(s, span(line));
    }

    fn validate(mut self) -> Result<super::ModuleInfo, super::WithSpan<ValidationError>> {
        let f = std::mem::take(&mut self.function);
        self.module.functions.append(f, span(1));
        validate(&self.module)
    }
}

const I32: Scalar = Scalar::Int(IntKind::I32);
const U8: Scalar = Scalar::Int(IntKind::U8);

#[test]
fn types_every_expression_and_records_faults() {
    let mut fx = Fixture::new();
    let x = fx.local("x", I32);
    let read = fx.expr(Expression::Local(x), 2);
    let lit = fx.expr(Expression::Literal(Literal::Int(3, IntKind::I32)), 2);
    let lt = fx.expr(
        Expression::Binary {
            op: BinaryOp::Lt,
            left: read,
            right: lit,
        },
        2,
    );
    fx.push(
        Statement::Check {
            kind: CheckKind::Explicit,
            condition: lt,
        },
        2,
    );
    let info = fx.validate().unwrap();
    let f = &info.functions[0];
    assert_eq!(f.expression_types[0], TypeResolution::Scalar(I32));
    assert_eq!(f.expression_types[2], TypeResolution::Scalar(Scalar::Bool));
    assert!(f.may_fault);
    assert!(!f.uses_collectives);
}

#[test]
fn mismatched_operands_are_rejected_with_their_span() {
    let mut fx = Fixture::new();
    let x = fx.local("x", I32);
    let y = fx.local("y", U8);
    let a = fx.expr(Expression::Local(x), 3);
    let b = fx.expr(Expression::Local(y), 3);
    fx.expr(
        Expression::Binary {
            op: BinaryOp::Add,
            left: a,
            right: b,
        },
        7,
    );
    let error = fx.validate().unwrap_err();
    assert_eq!(error.span.start.line, 7);
    assert_eq!(
        error.inner,
        ValidationError::BinaryOperands {
            op: BinaryOp::Add,
            left: "i32".into(),
            right: "u8".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "7:1: `Add` cannot be applied to `i32` and `u8`"
    );
}

#[test]
fn forward_references_are_rejected() {
    let mut fx = Fixture::new();
    let later = Handle::new(1);
    fx.expr(
        Expression::Unary {
            op: UnaryOp::Not,
            expr: later,
        },
        2,
    );
    fx.expr(Expression::Literal(Literal::Bool(true)), 2);
    assert!(matches!(
        fx.validate().unwrap_err().inner,
        ValidationError::ForwardReference {
            expression: 0,
            operand: 1
        }
    ));
}

#[test]
fn float_to_bool_cast_and_unsigned_negation_are_rejected() {
    let mut fx = Fixture::new();
    let lit = fx.expr(Expression::Literal(Literal::f32(1.0)), 2);
    fx.expr(
        Expression::Cast {
            expr: lit,
            to: Scalar::Bool,
        },
        2,
    );
    assert!(matches!(
        fx.validate().unwrap_err().inner,
        ValidationError::InvalidCast { .. }
    ));

    let mut fx = Fixture::new();
    let lit = fx.expr(Expression::Literal(Literal::Int(1, IntKind::U32)), 2);
    fx.expr(
        Expression::Unary {
            op: UnaryOp::Neg,
            expr: lit,
        },
        2,
    );
    assert!(matches!(
        fx.validate().unwrap_err().inner,
        ValidationError::UnaryOperand { .. }
    ));
}

#[test]
fn stores_need_places_and_matching_types() {
    let mut fx = Fixture::new();
    let x = fx.local("x", I32);
    let lit = fx.expr(Expression::Literal(Literal::Int(1, IntKind::I32)), 2);
    fx.push(
        Statement::Store {
            place: lit,
            value: lit,
        },
        2,
    );
    assert!(matches!(
        fx.validate().unwrap_err().inner,
        ValidationError::NotAPlace { .. }
    ));

    let mut fx = Fixture::new();
    let x2 = fx.local("x", I32);
    let _ = x;
    let place = fx.expr(Expression::Local(x2), 2);
    let value = fx.expr(Expression::Literal(Literal::Int(1, IntKind::U8)), 2);
    fx.push(Statement::Store { place, value }, 2);
    assert!(matches!(
        fx.validate().unwrap_err().inner,
        ValidationError::StoreType { .. }
    ));
}

#[test]
fn writes_through_immutable_slices_are_rejected() {
    let mut fx = Fixture::new();
    let elem = fx.scalar(I32);
    let slice_ty = fx.module.ty(Type::Slice {
        elem,
        mutable: false,
    });
    let xs = fx.function.locals.append(
        Local {
            name: Some("xs".into()),
            ty: slice_ty,
            mutable: false,
        },
        span(1),
    );
    fx.function.params.push(xs);
    let base = fx.expr(Expression::Local(xs), 2);
    let index = fx.expr(Expression::Literal(Literal::Int(0, IntKind::Usize)), 2);
    let place = fx.expr(Expression::Index { base, index }, 2);
    let value = fx.expr(Expression::Literal(Literal::Int(1, IntKind::I32)), 2);
    fx.push(Statement::Store { place, value }, 2);
    assert!(matches!(
        fx.validate().unwrap_err().inner,
        ValidationError::ImmutablePlace { .. }
    ));
}

#[test]
fn slices_are_only_parameters() {
    let mut fx = Fixture::new();
    let elem = fx.scalar(I32);
    let slice_ty = fx.module.ty(Type::Slice {
        elem,
        mutable: false,
    });
    fx.function.locals.append(
        Local {
            name: Some("xs".into()),
            ty: slice_ty,
            mutable: false,
        },
        span(4),
    );
    let error = fx.validate().unwrap_err();
    assert!(matches!(error.inner, ValidationError::BorrowedLocal { .. }));
    assert_eq!(error.span.start.line, 4);
}

#[test]
fn break_outside_its_loop_is_rejected() {
    let mut fx = Fixture::new();
    fx.push(Statement::Break(LoopId(3)), 5);
    let error = fx.validate().unwrap_err();
    assert_eq!(error.inner, ValidationError::JumpOutsideLoop { id: 3 });
    assert_eq!(error.span.start.line, 5);
}

#[test]
fn functions_with_results_must_return_on_every_path() {
    let mut fx = Fixture::new();
    let i32_t = fx.scalar(I32);
    fx.function.result = Some(i32_t);
    let cond = fx.expr(Expression::Literal(Literal::Bool(true)), 2);
    let one = fx.expr(Expression::Literal(Literal::Int(1, IntKind::I32)), 2);
    let mut accept = Block::new();
    accept.push(Statement::Return(Some(one)), span(3));
    fx.push(
        Statement::If {
            condition: cond,
            accept,
            reject: Block::new(),
        },
        2,
    );
    assert_eq!(
        fx.validate().unwrap_err().inner,
        ValidationError::MissingReturn {
            function: "f".into()
        }
    );
}

#[test]
fn narrow_atomics_are_rejected() {
    let mut fx = Fixture::new();
    let x = fx.local("x", U8);
    let place = fx.expr(Expression::Local(x), 2);
    let one = fx.expr(Expression::Literal(Literal::Int(1, IntKind::U8)), 2);
    fx.push(
        Statement::Intrinsic {
            op: IntrinsicOp::Atomic(AtomicOp::Add),
            arguments: vec![place, one],
            result: None,
        },
        2,
    );
    assert_eq!(
        fx.validate().unwrap_err().inner,
        ValidationError::AtomicType { ty: "u8".into() }
    );
}

#[test]
fn struct_layouts_must_be_sound() {
    let mut module = Module::default();
    let u32_t = module.ty(Type::Scalar(Scalar::Int(IntKind::U32)));
    module.ty(Type::Struct(StructType {
        name: "Packed".into(),
        size: 5,
        align: 1,
        members: vec![StructMember {
            name: "x".into(),
            ty: u32_t,
            offset: 1,
        }],
    }));
    assert!(matches!(
        validate(&module).unwrap_err().inner,
        ValidationError::MisalignedMember { .. }
    ));
}

#[test]
fn recursion_and_calls_of_kernels_are_rejected() {
    let mut module = Module::default();
    let f = module.functions.append(
        Function {
            name: "f".into(),
            ..Function::default()
        },
        span(1),
    );
    let mut body = Block::new();
    body.push(
        Statement::Call {
            function: f,
            arguments: vec![],
            result: None,
        },
        span(2),
    );
    module.functions.get_mut(f).body = body;
    assert!(matches!(
        validate(&module).unwrap_err().inner,
        ValidationError::CallOrder { .. }
    ));
}
