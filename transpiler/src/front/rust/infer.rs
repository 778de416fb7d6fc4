//! Type inference for the Rust subset, with rustc's rules.
//!
//! Every expression gets a [`Ty`]: a known IR type, `!` (for `return`,
//! `break`, `continue`, `panic!`), or an inference variable created by an
//! unsuffixed literal. Variables are integer or float variables, as in
//! rustc: unifying one with a concrete type of its class binds it, with the
//! other class is an error (`1 + 1.0` does not compile), and variables left
//! unbound when the function is done default to `i32` and `f64`. Nothing is
//! ever inferred from a name.

use crate::arena::Handle;
use crate::ir::{FloatKind, IntKind, Module, Scalar, Type};

use super::types::type_name;

/// The type of an expression while its function is being lowered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Known(Handle<Type>),
    /// An integer (`{integer}`) or float (`{float}`) variable.
    Var(u32),
    /// `!`: the expression never produces a value.
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarClass {
    Int,
    Float,
}

#[derive(Debug, Clone)]
struct Var {
    class: VarClass,
    /// Union-find parent (itself when a root).
    parent: u32,
    bound: Option<Handle<Type>>,
}

/// The variables of one function.
#[derive(Debug, Default)]
pub struct Infer {
    vars: Vec<Var>,
}

/// Two types that had to be equal and are not, spelled for the user.
#[derive(Debug)]
pub struct Mismatch {
    pub expected: String,
    pub found: String,
}

impl Infer {
    pub fn new_var(&mut self, class: VarClass) -> Ty {
        let id = self.vars.len() as u32;
        self.vars.push(Var {
            class,
            parent: id,
            bound: None,
        });
        Ty::Var(id)
    }

    fn root(&self, mut id: u32) -> u32 {
        while self.vars[id as usize].parent != id {
            id = self.vars[id as usize].parent;
        }
        id
    }

    /// `ty` with bound variables replaced by their types.
    pub fn resolve(&self, ty: Ty) -> Ty {
        match ty {
            Ty::Var(id) => {
                let root = self.root(id);
                match self.vars[root as usize].bound {
                    Some(t) => Ty::Known(t),
                    None => Ty::Var(root),
                }
            }
            other => other,
        }
    }

    /// The class of an unbound variable.
    pub fn class(&self, ty: Ty) -> Option<VarClass> {
        match self.resolve(ty) {
            Ty::Var(id) => Some(self.vars[id as usize].class),
            _ => None,
        }
    }

    /// Makes `found` equal to `expected`, binding variables as needed.
    /// `!` unifies with anything and yields the other side.
    pub fn unify(&mut self, module: &Module, expected: Ty, found: Ty) -> Result<Ty, Mismatch> {
        let (a, b) = (self.resolve(expected), self.resolve(found));
        match (a, b) {
            (Ty::Never, other) | (other, Ty::Never) => Ok(other),
            (Ty::Known(x), Ty::Known(y)) if x == y => Ok(a),
            (Ty::Var(x), Ty::Var(y)) => {
                if x == y {
                    return Ok(a);
                }
                if self.vars[x as usize].class != self.vars[y as usize].class {
                    return Err(self.mismatch(module, a, b));
                }
                self.vars[y as usize].parent = x;
                Ok(a)
            }
            (Ty::Var(v), Ty::Known(t)) | (Ty::Known(t), Ty::Var(v)) => {
                if self.fits(module, v, t) {
                    self.vars[v as usize].bound = Some(t);
                    Ok(Ty::Known(t))
                } else {
                    Err(self.mismatch(module, a, b))
                }
            }
            _ => Err(self.mismatch(module, a, b)),
        }
    }

    fn fits(&self, module: &Module, var: u32, ty: Handle<Type>) -> bool {
        matches!(
            (self.vars[var as usize].class, &module.types[ty]),
            (VarClass::Int, Type::Scalar(Scalar::Int(_)))
                | (VarClass::Float, Type::Scalar(Scalar::Float(_)))
        )
    }

    fn mismatch(&self, module: &Module, expected: Ty, found: Ty) -> Mismatch {
        Mismatch {
            expected: self.describe(module, expected),
            found: self.describe(module, found),
        }
    }

    /// The type as rustc would print it (`{integer}` for an int variable).
    pub fn describe(&self, module: &Module, ty: Ty) -> String {
        match self.resolve(ty) {
            Ty::Known(t) => type_name(module, t),
            Ty::Never => "!".into(),
            Ty::Var(id) => match self.vars[id as usize].class {
                VarClass::Int => "{integer}".into(),
                VarClass::Float => "{float}".into(),
            },
        }
    }

    /// The final type: variables still unbound take rustc's defaults.
    pub fn finish(&self, module: &mut Module, ty: Ty) -> Option<Handle<Type>> {
        match self.resolve(ty) {
            Ty::Known(t) => Some(t),
            Ty::Never => None,
            Ty::Var(id) => Some(match self.vars[id as usize].class {
                VarClass::Int => module.ty(Type::Scalar(Scalar::Int(IntKind::I32))),
                VarClass::Float => module.ty(Type::Scalar(Scalar::Float(FloatKind::F64))),
            }),
        }
    }
}
