//! Function-level checks (invariants 4, 6, 7, 9, 10) and the derived facts
//! of [`FunctionInfo`].

use crate::arena::Handle;
use crate::ir::{
    AtomicOp, Block, Expression, FloatKind, Function, IntKind, IntrinsicOp, Local, LoopId, Module,
    Scalar, Statement, Type,
};
use crate::span::Span;

use super::expr::resolve_expressions;
use super::layout::{check_handle, is_sized_value};
use super::{
    display_type, FunctionInfo, HandleKind, ModuleInfo, PlaceContext, TypeContext, TypeResolution,
    ValidationError, WithSpan,
};

type Result<T> = std::result::Result<T, WithSpan<ValidationError>>;

pub(super) fn validate_function(
    module: &Module,
    info: &ModuleInfo,
    is_entry: &[bool],
    handle: Handle<Function>,
    function: &Function,
    span: Span,
) -> Result<FunctionInfo> {
    let err = |e| Err(WithSpan::new(e, span));
    for (i, &param) in function.params.iter().enumerate() {
        if !function.locals.contains(param) {
            return err(ValidationError::InvalidHandle {
                kind: HandleKind::Local,
                index: param.index(),
            });
        }
        if function.params[..i].contains(&param) {
            return err(ValidationError::DuplicateParameter {
                local: param.index(),
            });
        }
    }
    for (local, l) in function.locals.iter() {
        let span = function.locals.span(local);
        check_handle(module, l.ty, span)?;
        match module.types[l.ty] {
            Type::Unit => {
                return Err(WithSpan::new(
                    ValidationError::InvalidTypeUse {
                        ty: "()".into(),
                        context: TypeContext::Local,
                    },
                    span,
                ))
            }
            Type::Slice { .. } | Type::Ref { .. } if !function.params.contains(&local) => {
                return Err(WithSpan::new(
                    ValidationError::BorrowedLocal {
                        ty: display_type(module, l.ty),
                        local: local.index(),
                    },
                    span,
                ))
            }
            _ => {}
        }
    }
    if let Some(result) = function.result {
        check_handle(module, result, span)?;
        if matches!(module.types[result], Type::Slice { .. } | Type::Ref { .. }) {
            return err(ValidationError::InvalidTypeUse {
                ty: display_type(module, result),
                context: TypeContext::FunctionResult,
            });
        }
    }
    for (shared, s) in function.shared.iter() {
        let span = function.shared.span(shared);
        check_handle(module, s.ty, span)?;
        if !matches!(module.types[s.ty], Type::Array { .. }) {
            return Err(WithSpan::new(
                ValidationError::SharedNotArray {
                    shared: shared.index(),
                    ty: display_type(module, s.ty),
                },
                span,
            ));
        }
    }

    let expression_types = resolve_expressions(module, function)?;
    let mut checker = BodyChecker {
        module,
        info,
        is_entry,
        handle,
        function,
        types: &expression_types,
        loops: Vec::new(),
        declared_loops: Vec::new(),
        may_fault: false,
        uses_collectives: false,
    };
    checker.block(&function.body)?;

    let returns_value = function
        .result
        .is_some_and(|r| module.types[r] != Type::Unit);
    if returns_value && completes(&function.body) {
        return err(ValidationError::MissingReturn {
            function: function.name.clone(),
        });
    }
    let (may_fault, uses_collectives) = (checker.may_fault, checker.uses_collectives);
    Ok(FunctionInfo {
        expression_types,
        may_fault,
        uses_collectives,
    })
}

/// Whether control can reach the end of `block` (conservatively: a loop
/// completes when some `break` of it exists).
fn completes(block: &Block) -> bool {
    block.statements.iter().all(statement_completes)
}

fn statement_completes(statement: &Statement) -> bool {
    match statement {
        Statement::Return(_)
        | Statement::Fault(_)
        | Statement::Break(_)
        | Statement::Continue(_) => false,
        Statement::If { accept, reject, .. } => completes(accept) || completes(reject),
        Statement::Block(block) => completes(block),
        Statement::Loop { id, body } => breaks_to(body, *id),
        _ => true,
    }
}

fn breaks_to(block: &Block, id: LoopId) -> bool {
    block.statements.iter().any(|s| match s {
        Statement::Break(target) => *target == id,
        Statement::If { accept, reject, .. } => breaks_to(accept, id) || breaks_to(reject, id),
        Statement::Block(b) | Statement::Loop { body: b, .. } => breaks_to(b, id),
        _ => false,
    })
}

struct BodyChecker<'a> {
    module: &'a Module,
    info: &'a ModuleInfo,
    is_entry: &'a [bool],
    handle: Handle<Function>,
    function: &'a Function,
    types: &'a [TypeResolution],
    loops: Vec<LoopId>,
    declared_loops: Vec<LoopId>,
    may_fault: bool,
    uses_collectives: bool,
}

impl BodyChecker<'_> {
    fn ty(&self, expr: Handle<Expression>, span: Span) -> Result<TypeResolution> {
        self.types.get(expr.index()).copied().ok_or_else(|| {
            WithSpan::new(
                ValidationError::InvalidHandle {
                    kind: HandleKind::Expression,
                    index: expr.index(),
                },
                span,
            )
        })
    }

    fn show(&self, ty: TypeResolution) -> String {
        ty.display(self.module)
    }

    fn local(&self, local: Handle<Local>, span: Span) -> Result<TypeResolution> {
        if !self.function.locals.contains(local) {
            return Err(WithSpan::new(
                ValidationError::InvalidHandle {
                    kind: HandleKind::Local,
                    index: local.index(),
                },
                span,
            ));
        }
        Ok(TypeResolution::of(
            self.module,
            self.function.locals[local].ty,
        ))
    }

    fn condition(&self, condition: Handle<Expression>, span: Span) -> Result<()> {
        let ty = self.ty(condition, span)?;
        if ty != TypeResolution::Scalar(Scalar::Bool) {
            return Err(WithSpan::new(
                ValidationError::ConditionNotBool { ty: self.show(ty) },
                span,
            ));
        }
        Ok(())
    }

    fn block(&mut self, block: &Block) -> Result<()> {
        for (statement, span) in block.iter() {
            self.statement(statement, span)?;
        }
        Ok(())
    }

    fn statement(&mut self, statement: &Statement, span: Span) -> Result<()> {
        let err = |e| Err(WithSpan::new(e, span));
        match statement {
            Statement::Store { place, value } => {
                let place_ty = self.place(*place, PlaceContext::Stored, span)?;
                let value_ty = self.ty(*value, span)?;
                let sized = match place_ty {
                    TypeResolution::Scalar(_) => true,
                    TypeResolution::Handle(h) => is_sized_value(self.module, h),
                };
                if place_ty != value_ty || !sized {
                    return err(ValidationError::StoreType {
                        place: self.show(place_ty),
                        value: self.show(value_ty),
                    });
                }
            }
            Statement::If {
                condition,
                accept,
                reject,
            } => {
                self.condition(*condition, span)?;
                self.block(accept)?;
                self.block(reject)?;
            }
            Statement::Loop { id, body } => {
                if self.declared_loops.contains(id) {
                    return err(ValidationError::DuplicateLoop { id: id.0 });
                }
                self.declared_loops.push(*id);
                self.loops.push(*id);
                self.block(body)?;
                self.loops.pop();
            }
            Statement::Break(id) | Statement::Continue(id) => {
                if !self.loops.contains(id) {
                    return err(ValidationError::JumpOutsideLoop { id: id.0 });
                }
            }
            Statement::Return(value) => {
                let expected = self
                    .function
                    .result
                    .filter(|&r| self.module.types[r] != Type::Unit);
                let show_expected = |e: Option<Handle<Type>>| {
                    e.map_or("()".to_string(), |e| display_type(self.module, e))
                };
                match (expected, value) {
                    (None, None) => {}
                    (Some(e), Some(v)) => {
                        let found = self.ty(*v, span)?;
                        if found != TypeResolution::of(self.module, e) {
                            return err(ValidationError::ReturnType {
                                expected: show_expected(expected),
                                found: self.show(found),
                            });
                        }
                    }
                    (_, v) => {
                        let found = match v {
                            Some(v) => self.show(self.ty(*v, span)?),
                            None => "()".to_string(),
                        };
                        return err(ValidationError::ReturnType {
                            expected: show_expected(expected),
                            found,
                        });
                    }
                }
            }
            Statement::Call {
                function,
                arguments,
                result,
            } => self.call(*function, arguments, *result, span)?,
            Statement::Intrinsic {
                op,
                arguments,
                result,
            } => self.intrinsic(*op, arguments, *result, span)?,
            Statement::Check { condition, .. } => {
                self.condition(*condition, span)?;
                self.may_fault = true;
            }
            Statement::Fault(_) => self.may_fault = true,
            Statement::Block(block) => self.block(block)?,
        }
        Ok(())
    }

    /// Checks that `expr` is a writable place and returns its type.
    fn place(
        &self,
        expr: Handle<Expression>,
        context: PlaceContext,
        span: Span,
    ) -> Result<TypeResolution> {
        let ty = self.ty(expr, span)?;
        match self.writable(expr) {
            Some(true) => Ok(ty),
            Some(false) => Err(WithSpan::new(
                ValidationError::ImmutablePlace { context },
                span,
            )),
            None => Err(WithSpan::new(
                ValidationError::NotAPlace {
                    expression: expr.index(),
                    context,
                },
                span,
            )),
        }
    }

    /// `None` if `expr` is not a place, else whether it may be written.
    fn writable(&self, expr: Handle<Expression>) -> Option<bool> {
        match self.function.expressions[expr] {
            Expression::Local(_) | Expression::Shared(_) => Some(true),
            Expression::Field { base, .. } => self.writable(base),
            Expression::Index { base, .. } => match self.types[base.index()].inner(self.module) {
                Some(Type::Slice { mutable, .. }) => Some(*mutable),
                _ => self.writable(base),
            },
            Expression::Deref(reference) => {
                match self.types[reference.index()].inner(self.module) {
                    Some(Type::Ref { mutable, .. }) => Some(*mutable),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn call(
        &mut self,
        callee: Handle<Function>,
        arguments: &[Handle<Expression>],
        result: Option<Handle<Local>>,
        span: Span,
    ) -> Result<()> {
        let err = |e| Err(WithSpan::new(e, span));
        if !self.module.functions.contains(callee) {
            return err(ValidationError::InvalidHandle {
                kind: HandleKind::Function,
                index: callee.index(),
            });
        }
        let target = &self.module.functions[callee];
        if callee.index() >= self.handle.index() {
            return err(ValidationError::CallOrder {
                caller: self.function.name.clone(),
                callee: target.name.clone(),
            });
        }
        if self.is_entry[callee.index()] {
            return err(ValidationError::CallOfEntryPoint {
                callee: target.name.clone(),
            });
        }
        if arguments.len() != target.params.len() {
            return err(ValidationError::CallArity {
                callee: target.name.clone(),
                expected: target.params.len(),
                found: arguments.len(),
            });
        }
        for (index, (&arg, &param)) in arguments.iter().zip(&target.params).enumerate() {
            let found = self.ty(arg, span)?;
            let expected = TypeResolution::of(self.module, target.locals[param].ty);
            if found != expected {
                return err(ValidationError::ArgumentType {
                    callee: target.name.clone(),
                    index,
                    expected: self.show(expected),
                    found: self.show(found),
                });
            }
        }
        if let Some(local) = result {
            let found = self.local(local, span)?;
            let expected = target
                .result
                .filter(|&r| self.module.types[r] != Type::Unit)
                .map(|r| TypeResolution::of(self.module, r));
            if expected != Some(found) {
                return err(ValidationError::ResultType {
                    callee: target.name.clone(),
                    expected: expected.map_or("()".to_string(), |e| self.show(e)),
                    found: self.show(found),
                });
            }
        }
        let callee_info = self.info.function(callee);
        self.may_fault |= callee_info.may_fault;
        self.uses_collectives |= callee_info.uses_collectives;
        Ok(())
    }

    fn intrinsic(
        &mut self,
        op: IntrinsicOp,
        arguments: &[Handle<Expression>],
        result: Option<Handle<Local>>,
        span: Span,
    ) -> Result<()> {
        let err = |e| Err(WithSpan::new(e, span));
        let expected_arity = match op {
            IntrinsicOp::SyncThreads
            | IntrinsicOp::SyncWarp
            | IntrinsicOp::ThreadFence
            | IntrinsicOp::ThreadFenceBlock
            | IntrinsicOp::ThreadFenceSystem
            | IntrinsicOp::ClockNs => 0,
            IntrinsicOp::Atomic(AtomicOp::CompareExchange) => 3,
            IntrinsicOp::Atomic(_) | IntrinsicOp::WarpShuffle(_) => 2,
            IntrinsicOp::WarpBallot
            | IntrinsicOp::WarpAll
            | IntrinsicOp::WarpAny
            | IntrinsicOp::WarpReduce(_)
            | IntrinsicOp::BlockReduce(_)
            | IntrinsicOp::Send { .. }
            | IntrinsicOp::TrySend { .. } => 1,
        };
        if arguments.len() != expected_arity {
            return err(ValidationError::IntrinsicArity {
                op,
                expected: expected_arity,
                found: arguments.len(),
            });
        }
        let mut types = Vec::with_capacity(arguments.len());
        for (i, &arg) in arguments.iter().enumerate() {
            // The atomic's place is checked as a place below.
            if i == 0 && matches!(op, IntrinsicOp::Atomic(_)) {
                types.push(self.place(arg, PlaceContext::UsedAtomically, span)?);
            } else {
                types.push(self.ty(arg, span)?);
            }
        }
        let scalars: Vec<Option<Scalar>> = types.iter().map(|t| t.scalar()).collect();
        let bad = || {
            Err(WithSpan::new(
                ValidationError::IntrinsicOperands {
                    op,
                    args: types
                        .iter()
                        .map(|t| t.display(self.module))
                        .collect::<Vec<_>>()
                        .join(", "),
                },
                span,
            ))
        };
        let is_int = |s: Option<Scalar>| matches!(s, Some(Scalar::Int(_)));
        let is_num = |s: Option<Scalar>| matches!(s, Some(Scalar::Int(_) | Scalar::Float(_)));
        let produced: Option<Scalar> = match op {
            IntrinsicOp::SyncThreads
            | IntrinsicOp::SyncWarp
            | IntrinsicOp::ThreadFence
            | IntrinsicOp::ThreadFenceBlock
            | IntrinsicOp::ThreadFenceSystem => None,
            IntrinsicOp::ClockNs => Some(Scalar::Int(IntKind::U64)),
            IntrinsicOp::Atomic(atomic) => {
                let ty = scalars[0];
                let Some(scalar) = ty.filter(|s| atomic_supported(*s)) else {
                    return err(ValidationError::AtomicType {
                        ty: self.show(types[0]),
                    });
                };
                let float_ok = !matches!(atomic, AtomicOp::And | AtomicOp::Or | AtomicOp::Xor);
                if scalars[1..].iter().any(|&s| s != ty)
                    || (matches!(scalar, Scalar::Float(_)) && !float_ok)
                {
                    return bad();
                }
                Some(scalar)
            }
            IntrinsicOp::WarpShuffle(_) => {
                if scalars[0].is_none() || !is_int(scalars[1]) {
                    return bad();
                }
                scalars[0]
            }
            IntrinsicOp::WarpBallot | IntrinsicOp::WarpAll | IntrinsicOp::WarpAny => {
                if scalars[0] != Some(Scalar::Bool) {
                    return bad();
                }
                Some(if op == IntrinsicOp::WarpBallot {
                    Scalar::Int(IntKind::U32)
                } else {
                    Scalar::Bool
                })
            }
            IntrinsicOp::WarpReduce(_) | IntrinsicOp::BlockReduce(_) => {
                if !is_num(scalars[0]) {
                    return bad();
                }
                scalars[0]
            }
            IntrinsicOp::Send { .. } | IntrinsicOp::TrySend { .. } => {
                let is_struct = matches!(
                    types[0],
                    TypeResolution::Handle(t) if matches!(self.module.types[t], Type::Struct(_))
                );
                if !is_struct {
                    return bad();
                }
                self.may_fault = true; // an unrouted port, a terminated destination
                                       // `try_send` answers whether the message went out. (A block
                                       // barrier, not a warp collective: partial warps are fine.)
                matches!(op, IntrinsicOp::TrySend { .. }).then_some(Scalar::Bool)
            }
        };
        if matches!(
            op,
            IntrinsicOp::WarpShuffle(_)
                | IntrinsicOp::WarpBallot
                | IntrinsicOp::WarpAll
                | IntrinsicOp::WarpAny
                | IntrinsicOp::WarpReduce(_)
                | IntrinsicOp::BlockReduce(_)
        ) {
            self.uses_collectives = true;
        }
        if let Some(local) = result {
            let found = self.local(local, span)?;
            if produced.map(TypeResolution::Scalar) != Some(found) {
                return err(ValidationError::ResultType {
                    callee: format!("{op:?}"),
                    expected: produced.map_or("()", |s| s.rust_name()).to_string(),
                    found: self.show(found),
                });
            }
        }
        Ok(())
    }
}

/// Atomics work on 32- and 64-bit integers and on floats (CUDA has no
/// narrower atomics, and emulating them is not worth a wrong width).
fn atomic_supported(scalar: Scalar) -> bool {
    match scalar {
        Scalar::Int(k) => k.bits() >= 32,
        Scalar::Float(FloatKind::F32 | FloatKind::F64) => true,
        Scalar::Bool => false,
    }
}
