//! The function lowerer: state shared by statement, expression,
//! control-flow and call lowering (scopes, the block being built, inference
//! fix-ups, literals), and finishing a function; statements and blocks are
//! `stmt.rs`.
//!
//! Lowering appends expressions to the function's arena and statements to
//! the innermost open block. Types of expressions are tracked as [`Ty`]s in
//! a side vector; literals and locals whose type is still an inference
//! variable get a placeholder and are patched in [`FnLowerer::finish`].

use std::collections::HashMap;

use super::consts::{ConstEnv, ConstValue};
use super::error::{Diagnostics, FrontError, FrontErrorKind, Result};
use super::infer::{Infer, Ty, VarClass};
use super::types::TypeEnv;
use super::Signature;
use crate::arena::Handle;
use crate::ir::{
    Block, Expression, FloatKind, Function, IntKind, Literal, Local, LoopId, Module, Scalar,
    Statement, Type,
};
use crate::span::Span;

/// What a name in scope stands for.
#[derive(Debug, Clone)]
pub(super) enum Binding {
    Local {
        local: Handle<Local>,
        ty: Ty,
    },
    /// A name for a place (`let r = &mut a[i];`, `let tile = ctx.shared_array()`):
    /// uses of the name are uses of the place. Index operands inside the
    /// place were spilled to immutable temporaries when the alias was made,
    /// so re-evaluating the place always denotes the same location.
    Alias {
        place: Handle<Expression>,
        ty: Ty,
        mutable: bool,
    },
    /// The kernel's context parameter: only usable as a method receiver.
    Context {
        ring: bool,
    },
    Const(ConstValue),
    /// A name whose `let` failed (and was reported): its uses fail
    /// silently instead of reporting a cascade of follow-on errors.
    Poisoned,
}

/// The result of lowering an expression.
#[derive(Debug, Clone, Copy)]
pub(super) struct Val {
    /// `None` for `()` and `!`.
    pub expr: Option<Handle<Expression>>,
    pub ty: Ty,
}

pub(super) struct LoopFrame {
    pub id: LoopId,
    pub label: Option<String>,
    /// Where `break value` stores its value (for `loop` expressions).
    pub result: Option<(Handle<Local>, Ty)>,
}

/// A literal whose type was an inference variable when it was lowered.
struct LiteralFixup {
    expr: Handle<Expression>,
    ty: Ty,
    /// The source value: an integer (already negated when the literal was
    /// under a `-`), or float digits to parse in the final precision.
    value: PendingLiteral,
    span: proc_macro2::Span,
}

enum PendingLiteral {
    Int(i128),
    Float { digits: String, negative: bool },
}

pub(super) struct FnLowerer<'a> {
    pub module: &'a mut Module,
    pub env: &'a TypeEnv,
    pub signatures: &'a HashMap<String, Signature>,
    pub func: Function,
    pub infer: Infer,
    pub types: Vec<Ty>,
    pub scopes: Vec<HashMap<String, Binding>>,
    pub consts: Vec<ConstEnv>,
    pub blocks: Vec<Block>,
    pub loops: Vec<LoopFrame>,
    pub next_loop: u32,
    pub result_ty: Ty,
    pub errors: Diagnostics,
    literal_fixups: Vec<LiteralFixup>,
    local_fixups: Vec<(Handle<Local>, Ty)>,
    /// Integer casts whose target is the (still unknown) integer type `Ty`,
    /// or its unsigned counterpart when the flag is set.
    cast_fixups: Vec<(Handle<Expression>, Ty, bool)>,
    /// Operators whose validity depends on a type still unknown
    /// (`-x` needs a signed or float type).
    pub deferred_neg: Vec<(Ty, proc_macro2::Span)>,
    /// The output ports `ctx.send`/`ctx.try_send` used so far, with the message type each
    /// carries (one type per port).
    pub ports: Vec<(u32, Handle<Type>)>,
    /// Each `ctx.try_send` lowered so far: its result local and the call's
    /// tokens ([`super::uniform`] checks every thread reaches it).
    pub try_sends: Vec<(Handle<Local>, proc_macro2::Span)>,
    /// Lowering a `#[ring_kernel(warps = 1)]` handler: its actor is one
    /// warp packed with others into a block, so intrinsics that expose the
    /// block itself are rejected (`intrinsics::warp_actor_rejects`).
    pub warp_actor: bool,
}

impl<'a> FnLowerer<'a> {
    pub fn new(
        module: &'a mut Module,
        env: &'a TypeEnv,
        signatures: &'a HashMap<String, Signature>,
        name: String,
    ) -> Self {
        let func = Function {
            name,
            overflow_checks: true,
            ..Function::default()
        };
        FnLowerer {
            module,
            env,
            signatures,
            func,
            infer: Infer::default(),
            types: Vec::new(),
            scopes: vec![HashMap::new()],
            consts: vec![ConstEnv::default()],
            blocks: vec![Block::new()],
            loops: Vec::new(),
            next_loop: 0,
            result_ty: Ty::Never,
            errors: Diagnostics::default(),
            literal_fixups: Vec::new(),
            local_fixups: Vec::new(),
            cast_fixups: Vec::new(),
            deferred_neg: Vec::new(),
            ports: Vec::new(),
            try_sends: Vec::new(),
            warp_actor: false,
        }
    }

    // ----- types -------------------------------------------------------

    /// Resolves a written type with the constants in scope.
    pub fn resolve_type(&mut self, ty: &syn::Type) -> Result<Handle<Type>> {
        let consts = self.consts.last().expect("a const scope is open");
        self.env.resolve(self.module, ty, consts)
    }

    pub fn known(&mut self, ty: Type) -> Ty {
        Ty::Known(self.module.ty(ty))
    }

    pub fn scalar(&mut self, s: Scalar) -> Ty {
        self.known(Type::Scalar(s))
    }

    pub fn unit(&mut self) -> Ty {
        self.known(Type::Unit)
    }

    pub fn bool_ty(&mut self) -> Ty {
        self.scalar(Scalar::Bool)
    }

    pub fn usize_ty(&mut self) -> Ty {
        self.scalar(Scalar::Int(IntKind::Usize))
    }

    /// The IR type behind a `Ty`, if it is known now.
    pub fn type_of(&self, ty: Ty) -> Option<&Type> {
        match self.infer.resolve(ty) {
            Ty::Known(t) => Some(&self.module.types[t]),
            _ => None,
        }
    }

    /// The scalar behind a `Ty`, if known.
    pub fn scalar_of(&self, ty: Ty) -> Option<Scalar> {
        match self.type_of(ty) {
            Some(Type::Scalar(s)) => Some(*s),
            _ => None,
        }
    }

    pub fn is_unit(&self, ty: Ty) -> bool {
        matches!(self.type_of(ty), Some(Type::Unit))
    }

    pub fn describe(&self, ty: Ty) -> String {
        self.infer.describe(self.module, ty)
    }

    /// Unifies, turning a mismatch into a spanned error.
    pub fn unify(&mut self, expected: Ty, found: Ty, span: proc_macro2::Span) -> Result<Ty> {
        self.infer.unify(self.module, expected, found).map_err(|m| {
            FrontError::new(
                FrontErrorKind::TypeMismatch {
                    expected: m.expected,
                    found: m.found,
                },
                span,
            )
        })
    }

    /// Whether `ty` is an integer (known or variable).
    pub fn is_int(&self, ty: Ty) -> bool {
        matches!(self.scalar_of(ty), Some(Scalar::Int(_)))
            || self.infer.class(ty) == Some(VarClass::Int)
    }

    pub fn is_float(&self, ty: Ty) -> bool {
        matches!(self.scalar_of(ty), Some(Scalar::Float(_)))
            || self.infer.class(ty) == Some(VarClass::Float)
    }

    // ----- emission ----------------------------------------------------

    pub fn expr(&mut self, e: Expression, ty: Ty, span: proc_macro2::Span) -> Handle<Expression> {
        let handle = self
            .func
            .expressions
            .append(e, Span::from_proc_macro2(span));
        self.types.push(ty);
        handle
    }

    pub fn ty_of_expr(&self, e: Handle<Expression>) -> Ty {
        self.types[e.index()]
    }

    pub fn emit(&mut self, statement: Statement, span: proc_macro2::Span) {
        self.blocks
            .last_mut()
            .expect("a block is open")
            .push(statement, Span::from_proc_macro2(span));
    }

    /// Lowers into a fresh block and returns it (not emitted).
    pub fn in_block<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> (Block, T) {
        self.blocks.push(Block::new());
        self.scopes.push(HashMap::new());
        self.consts
            .push(self.consts.last().cloned().unwrap_or_default());
        let value = f(self);
        self.consts.pop();
        self.scopes.pop();
        (self.blocks.pop().expect("pushed above"), value)
    }

    pub fn new_local(
        &mut self,
        name: Option<String>,
        ty: Ty,
        mutable: bool,
        span: proc_macro2::Span,
    ) -> Handle<Local> {
        let placeholder = self.module.ty(Type::Unit);
        let ir_ty = match self.infer.resolve(ty) {
            Ty::Known(t) => t,
            _ => placeholder,
        };
        let local = self.func.locals.append(
            Local {
                name,
                ty: ir_ty,
                mutable,
            },
            Span::from_proc_macro2(span),
        );
        if !matches!(self.infer.resolve(ty), Ty::Known(_)) {
            self.local_fixups.push((local, ty));
        }
        local
    }

    /// `expr as T` where `T` is the integer type `ty` (or, with `unsigned`,
    /// the unsigned integer of its width), which may still be a variable.
    pub fn int_cast(
        &mut self,
        expr: Handle<Expression>,
        ty: Ty,
        unsigned: bool,
        span: proc_macro2::Span,
    ) -> Handle<Expression> {
        let kind = match self.scalar_of(ty) {
            Some(Scalar::Int(k)) => Some(if unsigned { unsigned_of(k) } else { k }),
            _ => None,
        };
        let result_ty = match kind {
            Some(k) => self.scalar(Scalar::Int(k)),
            // Only the IR node's type matters; it is patched in `finish`.
            None if unsigned => self.infer.new_var(VarClass::Int),
            None => ty,
        };
        let cast = self.expr(
            Expression::Cast {
                expr,
                to: Scalar::Int(kind.unwrap_or(IntKind::I32)),
            },
            result_ty,
            span,
        );
        if kind.is_none() {
            self.cast_fixups.push((cast, ty, unsigned));
        }
        cast
    }

    /// A temporary holding `value` (evaluated now).
    pub fn spill(&mut self, value: Val, span: proc_macro2::Span) -> Val {
        let Some(expr) = value.expr else { return value };
        let local = self.new_local(None, value.ty, false, span);
        let place = self.expr(Expression::Local(local), value.ty, span);
        self.emit(Statement::Store { place, value: expr }, span);
        Val {
            expr: Some(place),
            ty: value.ty,
        }
    }

    pub fn bind(&mut self, name: String, binding: Binding) {
        self.scopes
            .last_mut()
            .expect("a scope is open")
            .insert(name, binding);
    }

    pub fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|scope| scope.get(name))
    }

    pub fn const_env(&self) -> &ConstEnv {
        self.consts.last().expect("a const scope is open")
    }

    pub fn fresh_loop(&mut self) -> LoopId {
        self.next_loop += 1;
        LoopId(self.next_loop - 1)
    }

    // ----- literals ----------------------------------------------------

    /// An integer literal of type `ty` (possibly a variable), `value` already
    /// negated if it sat under a unary minus.
    pub fn int_literal(&mut self, value: i128, ty: Ty, span: proc_macro2::Span) -> Result<Val> {
        let kind = match self.scalar_of(ty) {
            Some(Scalar::Int(k)) => Some(k),
            _ => None,
        };
        let expr = self.expr(
            Expression::Literal(Literal::Int(value, kind.unwrap_or(IntKind::I32))),
            ty,
            span,
        );
        match kind {
            Some(k) => check_int_range(value, k, span)?,
            None => self.literal_fixups.push(LiteralFixup {
                expr,
                ty,
                value: PendingLiteral::Int(value),
                span,
            }),
        }
        Ok(Val {
            expr: Some(expr),
            ty,
        })
    }

    /// A float literal from its decimal digits, parsed in its final precision.
    pub fn float_literal(
        &mut self,
        digits: &str,
        negative: bool,
        ty: Ty,
        span: proc_macro2::Span,
    ) -> Val {
        let literal = match self.scalar_of(ty) {
            Some(Scalar::Float(kind)) => Some(float_from_digits(digits, negative, kind)),
            _ => None,
        };
        let expr = self.expr(
            Expression::Literal(literal.unwrap_or(Literal::f64(0.0))),
            ty,
            span,
        );
        if literal.is_none() {
            self.literal_fixups.push(LiteralFixup {
                expr,
                ty,
                value: PendingLiteral::Float {
                    digits: digits.to_string(),
                    negative,
                },
                span,
            });
        }
        Val {
            expr: Some(expr),
            ty,
        }
    }

    /// A literal for a constant value.
    pub fn const_literal(&mut self, value: ConstValue, span: proc_macro2::Span) -> Result<Val> {
        match value {
            ConstValue::Bool(b) => {
                let ty = self.bool_ty();
                Ok(Val {
                    expr: Some(self.expr(Expression::Literal(Literal::Bool(b)), ty, span)),
                    ty,
                })
            }
            ConstValue::Int(v, kind) => {
                let ty = match kind {
                    Some(k) => self.scalar(Scalar::Int(k)),
                    None => self.infer.new_var(VarClass::Int),
                };
                self.int_literal(v, ty, span)
            }
            ConstValue::Float(v, kind) => {
                let ty = match kind {
                    Some(k) => self.scalar(Scalar::Float(k)),
                    None => self.infer.new_var(VarClass::Float),
                };
                let digits = format!("{v:?}");
                let (negative, digits) = match digits.strip_prefix('-') {
                    Some(rest) => (true, rest.to_string()),
                    None => (false, digits),
                };
                Ok(self.float_literal(&digits, negative, ty, span))
            }
        }
    }

    // ----- finishing ---------------------------------------------------

    /// Resolves the remaining inference variables (rustc's defaults), patches
    /// literals and locals, and checks literal ranges and deferred operators.
    pub fn finish(mut self) -> std::result::Result<Function, Diagnostics> {
        for fixup in std::mem::take(&mut self.literal_fixups) {
            let ty = self.infer.finish(self.module, fixup.ty);
            let Some(ty) = ty else { continue };
            let literal = match (&self.module.types[ty], &fixup.value) {
                (Type::Scalar(Scalar::Int(kind)), PendingLiteral::Int(v)) => {
                    if let Err(e) = check_int_range(*v, *kind, fixup.span) {
                        self.errors.push(e);
                    }
                    Literal::Int(*v, *kind)
                }
                (Type::Scalar(Scalar::Float(kind)), PendingLiteral::Float { digits, negative }) => {
                    float_from_digits(digits, *negative, *kind)
                }
                _ => continue,
            };
            *self.func.expressions.get_mut(fixup.expr) = Expression::Literal(literal);
        }
        for (local, ty) in std::mem::take(&mut self.local_fixups) {
            if let Some(t) = self.infer.finish(self.module, ty) {
                self.func.locals.get_mut(local).ty = t;
            }
        }
        for (cast, ty, unsigned) in std::mem::take(&mut self.cast_fixups) {
            let Some(t) = self.infer.finish(self.module, ty) else {
                continue;
            };
            if let Type::Scalar(Scalar::Int(kind)) = self.module.types[t] {
                let kind = if unsigned { unsigned_of(kind) } else { kind };
                if let Expression::Cast { to, .. } = self.func.expressions.get_mut(cast) {
                    *to = Scalar::Int(kind);
                }
            }
        }
        for (ty, span) in std::mem::take(&mut self.deferred_neg) {
            let final_ty = self.infer.finish(self.module, ty);
            if let Some(t) = final_ty {
                if let Type::Scalar(Scalar::Int(kind)) = self.module.types[t] {
                    if !kind.signed() {
                        self.errors.push(FrontError::new(
                            FrontErrorKind::InvalidOperand {
                                op: "-",
                                ty: kind.rust_name().into(),
                            },
                            span,
                        ));
                    }
                }
            }
        }
        if !self.try_sends.is_empty() {
            let body = self.blocks.last().expect("the body block");
            for (local, cause) in super::uniform::divergent_try_sends(&self.func, body) {
                let Some(&(_, span)) = self.try_sends.iter().find(|(l, _)| *l == local) else {
                    continue;
                };
                self.errors.push(FrontError::new(
                    FrontErrorKind::Send {
                        method: "try_send",
                        problem: format!(
                            "only some threads of the block reach this call ({}); \
                             `try_send` is block-wide (every thread gets the leader's answer), \
                             so every thread must reach it: call it where all threads do \
                             (not under `if ctx.is_leader()`) and branch on its answer",
                            cause.describe()
                        ),
                    },
                    span,
                ));
            }
        }
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        self.func.body = self.blocks.pop().expect("the body block");
        Ok(self.func)
    }
}

/// The unsigned integer type of the same width.
pub(super) fn unsigned_of(kind: IntKind) -> IntKind {
    match kind {
        IntKind::I8 | IntKind::U8 => IntKind::U8,
        IntKind::I16 | IntKind::U16 => IntKind::U16,
        IntKind::I32 | IntKind::U32 => IntKind::U32,
        IntKind::I64 | IntKind::U64 => IntKind::U64,
        IntKind::Isize | IntKind::Usize => IntKind::Usize,
    }
}

pub(super) fn check_int_range(value: i128, kind: IntKind, span: proc_macro2::Span) -> Result<()> {
    if value < kind.min_value() || value > kind.max_value() {
        return Err(FrontError::new(
            FrontErrorKind::LiteralOutOfRange {
                ty: kind.rust_name(),
                literal: value.to_string(),
            },
            span,
        ));
    }
    Ok(())
}

/// Parses float digits once, in the target precision (no double rounding).
pub(super) fn float_from_digits(digits: &str, negative: bool, kind: FloatKind) -> Literal {
    match kind {
        FloatKind::F32 => {
            let v = super::consts::parse_f32(digits);
            Literal::f32(if negative { -v } else { v })
        }
        FloatKind::F64 => {
            let v: f64 = digits.parse().unwrap_or(f64::NAN);
            Literal::f64(if negative { -v } else { v })
        }
    }
}
