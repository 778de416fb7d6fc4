//! The IR validator: checks a [`Module`] once and hands the back ends a
//! [`ModuleInfo`] of derived facts (the type of every expression, which
//! functions can fault, which use warp collectives).
//!
//! **Promise:** a module that validates never makes the CUDA back end (or
//! the interpreter) panic. Back ends index arenas with the handles they
//! find and `unwrap` the facts recorded here; every such access is covered
//! by an invariant below.
//!
//! # Invariants checked
//!
//! Module:
//! 1. Every type handle (in types, locals, shared arrays, results, compose
//!    and splat expressions) is in range.
//! 2. Array elements and struct members are sized values (not unit, slices
//!    or references); arrays have at least one element; slice elements and
//!    reference targets are sized values too.
//! 3. Struct layouts are sound: power-of-two alignment at least each
//!    member's, size a multiple of it, members in increasing, aligned,
//!    non-overlapping order inside the size.
//! 4. A function only calls functions that come before it (so there is no
//!    recursion) and never calls an entry point's function.
//! 5. Entry points: function in range and used once, unique names, no
//!    result, block dimensions >= 1 with at most 1024 threads.
//!
//! Function:
//! 6. Parameters are distinct locals in range; locals are not unit; slice-
//!    and reference-typed locals are parameters (so such values only ever
//!    appear as a parameter's `Local` expression).
//! 7. Shared arrays have array types.
//! 8. Every expression refers only to expressions before it (no cycles) and
//!    has a type by the rules of [`expr`]: operand types agree, indices are
//!    `usize`, casts are ones Rust allows, math functions get their arity and
//!    types, literals are in range.
//! 9. Stores and atomics target places; places behind `&[T]`/`&T` are never
//!    written; stored values have the place's type; atomics are on 32/64-bit
//!    integers or floats.
//! 10. Conditions are `bool`; loop ids are unique; `break`/`continue` are
//!     inside their loop; returns match the result type; a function with a
//!     result returns on every path; calls and intrinsics get their arity,
//!     argument and result types.

mod error;
mod expr;
mod function;
mod layout;

pub use error::{
    EntryPointProblem, HandleKind, PlaceContext, TypeContext, ValidationError, WithSpan,
};
pub use expr::builtin_type;
pub use layout::{type_align, type_size};

use crate::arena::Handle;
use crate::ir::{EntryKind, Function, Module, Scalar, Type};
use crate::span::Span;

/// The type of an expression. Scalars are kept by value so that a module
/// need not have interned `bool` for a comparison to have a type; every other
/// type comes from a node that names its handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeResolution {
    Scalar(Scalar),
    /// A non-scalar type (array, struct, slice, reference).
    Handle(Handle<Type>),
}

impl TypeResolution {
    /// Normalises a type handle: scalar types resolve to `Scalar`.
    pub fn of(module: &Module, ty: Handle<Type>) -> Self {
        match module.types[ty] {
            Type::Scalar(s) => TypeResolution::Scalar(s),
            _ => TypeResolution::Handle(ty),
        }
    }

    pub fn scalar(self) -> Option<Scalar> {
        match self {
            TypeResolution::Scalar(s) => Some(s),
            TypeResolution::Handle(_) => None,
        }
    }

    /// The non-scalar type, if this is one.
    pub fn inner(self, module: &Module) -> Option<&Type> {
        match self {
            TypeResolution::Scalar(_) => None,
            TypeResolution::Handle(h) => Some(&module.types[h]),
        }
    }

    /// The Rust spelling, for messages and comments.
    pub fn display(self, module: &Module) -> String {
        match self {
            TypeResolution::Scalar(s) => s.rust_name().to_string(),
            TypeResolution::Handle(h) => display_type(module, h),
        }
    }
}

/// The Rust spelling of a type (`[f32; 4]`, `&mut [u32]`, `Stats`).
pub fn display_type(module: &Module, ty: Handle<Type>) -> String {
    if ty.index() >= module.types.len() {
        return format!("<type {}>", ty.index());
    }
    match &module.types[ty] {
        Type::Unit => "()".to_string(),
        Type::Scalar(s) => s.rust_name().to_string(),
        Type::Array { elem, len } => format!("[{}; {len}]", display_type(module, *elem)),
        Type::Struct(s) => s.name.clone(),
        Type::Slice { elem, mutable } => format!(
            "&{}[{}]",
            if *mutable { "mut " } else { "" },
            display_type(module, *elem)
        ),
        Type::Ref { target, mutable } => format!(
            "&{}{}",
            if *mutable { "mut " } else { "" },
            display_type(module, *target)
        ),
    }
}

/// Facts about one function, indexed like its arenas.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionInfo {
    /// The type of each expression, indexed by `Handle<Expression>::index()`.
    pub expression_types: Vec<TypeResolution>,
    /// Whether calling the function can fault (it contains a check or a
    /// fault, or calls a function that can), so callers must test the fault
    /// flag after the call.
    pub may_fault: bool,
    /// Whether the function (or a callee) uses warp or block collectives,
    /// which need every lane of every warp present.
    pub uses_collectives: bool,
}

impl FunctionInfo {
    pub fn expression_type(&self, expr: Handle<crate::ir::Expression>) -> TypeResolution {
        self.expression_types[expr.index()]
    }
}

/// Facts about a module, indexed like [`Module::functions`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModuleInfo {
    pub functions: Vec<FunctionInfo>,
}

impl ModuleInfo {
    pub fn function(&self, function: Handle<Function>) -> &FunctionInfo {
        &self.functions[function.index()]
    }
}

/// Checks every invariant of the module doc and computes the [`ModuleInfo`].
pub fn validate(module: &Module) -> Result<ModuleInfo, WithSpan<ValidationError>> {
    layout::check_types(module)?;
    let entry_functions = check_entry_points(module)?;
    let mut info = ModuleInfo::default();
    for (handle, function) in module.functions.iter() {
        let span = module.functions.span(handle);
        let function_info =
            function::validate_function(module, &info, &entry_functions, handle, function, span)?;
        info.functions.push(function_info);
    }
    Ok(info)
}

fn check_entry_points(module: &Module) -> Result<Vec<bool>, WithSpan<ValidationError>> {
    let mut is_entry = vec![false; module.functions.len()];
    let mut names: Vec<&str> = Vec::new();
    for entry in &module.entry_points {
        let fail = |problem| {
            WithSpan::new(
                ValidationError::EntryPoint {
                    entry: entry.name.clone(),
                    problem,
                },
                Span::UNKNOWN,
            )
        };
        if !module.functions.contains(entry.function) {
            return Err(WithSpan::new(
                ValidationError::InvalidHandle {
                    kind: HandleKind::Function,
                    index: entry.function.index(),
                },
                Span::UNKNOWN,
            ));
        }
        let span = module.functions.span(entry.function);
        let fail = |problem| WithSpan {
            span,
            ..fail(problem)
        };
        if std::mem::replace(&mut is_entry[entry.function.index()], true) {
            return Err(fail(EntryPointProblem::FunctionUsedTwice));
        }
        if names.contains(&entry.name.as_str()) {
            return Err(fail(EntryPointProblem::DuplicateName));
        }
        names.push(&entry.name);
        let function = &module.functions[entry.function];
        let block = entry.kind.block();
        let threads = block.iter().map(|&d| u64::from(d)).product::<u64>();
        if block.contains(&0) || threads > 1024 {
            return Err(fail(EntryPointProblem::BadBlockShape));
        }
        match &entry.kind {
            EntryKind::Kernel { .. } => {
                if let Some(result) = function.result {
                    if result.index() < module.types.len() && module.types[result] != Type::Unit {
                        return Err(fail(EntryPointProblem::ReturnsValue));
                    }
                }
            }
            EntryKind::Actor(actor) => {
                let param_type = |i: usize| {
                    function
                        .params
                        .get(i)
                        .map(|&p| function.locals[p].ty)
                        .map(|t| module.types[t].clone())
                };
                let expected_params = usize::from(actor.state.is_some()) + 1;
                let state_ok = actor.state.is_none_or(|s| {
                    param_type(0)
                        == Some(Type::Ref {
                            target: s,
                            mutable: true,
                        })
                });
                let message_ok = param_type(expected_params - 1)
                    == Some(Type::Ref {
                        target: actor.message,
                        mutable: false,
                    });
                if function.params.len() != expected_params
                    || !state_ok
                    || !message_ok
                    || function.result != Some(actor.reply)
                {
                    return Err(fail(EntryPointProblem::HandlerSignature));
                }
            }
        }
    }
    Ok(is_entry)
}

#[cfg(test)]
mod tests;
