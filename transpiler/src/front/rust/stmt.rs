//! Lowering of statements and blocks: `let` (patterns, type annotations,
//! shadowing), expression statements, items inside a function body, and
//! a block's tail value.

use std::collections::HashMap;

use syn::spanned::Spanned;

use super::body::{Binding, FnLowerer, Val};
use super::error::{FrontError, FrontErrorKind, Result};
use super::infer::Ty;
use crate::ir::{Expression, Statement, Type};

impl FnLowerer<'_> {
    /// Lowers the statements of a Rust block into the current IR block and
    /// returns the value of its tail expression.
    pub fn lower_block_contents(&mut self, block: &syn::Block) -> Val {
        self.lower_block_contents_expecting(block, None)
    }

    /// [`Self::lower_block_contents`] with the type the context expects of
    /// the tail expression (a function body's result type).
    pub fn lower_block_contents_expecting(
        &mut self,
        block: &syn::Block,
        expected: Option<Ty>,
    ) -> Val {
        let count = block.stmts.len();
        let mut diverged = false;
        for (i, stmt) in block.stmts.iter().enumerate() {
            let last = i + 1 == count;
            match self.lower_stmt(stmt, last, expected) {
                Ok(Some(value)) if last => return value,
                Ok(Some(value)) => diverged |= value.ty == Ty::Never,
                Ok(None) => {}
                Err(error) => {
                    self.errors.push(error);
                    if let syn::Stmt::Local(local) = stmt {
                        self.poison_names(&local.pat);
                    }
                }
            }
        }
        if diverged {
            return Val {
                expr: None,
                ty: Ty::Never,
            };
        }
        let unit = self.unit();
        Val {
            expr: None,
            ty: unit,
        }
    }

    /// Binds the names a failed `let` would have bound as [`Binding::Poisoned`].
    pub(super) fn poison_names(&mut self, pat: &syn::Pat) {
        match pat {
            syn::Pat::Ident(ident) => self.bind(ident.ident.to_string(), Binding::Poisoned),
            syn::Pat::Type(typed) => self.poison_names(&typed.pat),
            _ => {}
        }
    }

    /// A Rust block as an expression, in its own scope.
    pub fn lower_block_expr(&mut self, block: &syn::Block) -> Val {
        self.scopes.push(HashMap::new());
        self.consts.push(self.const_env().clone());
        let value = self.lower_block_contents(block);
        self.consts.pop();
        self.scopes.pop();
        value
    }

    /// Returns the statement's value when it is a tail expression (no
    /// semicolon) or diverges.
    pub(super) fn lower_stmt(
        &mut self,
        stmt: &syn::Stmt,
        last: bool,
        expected: Option<Ty>,
    ) -> Result<Option<Val>> {
        match stmt {
            syn::Stmt::Local(local) => self.lower_let(local).map(|_| None),
            syn::Stmt::Item(item) => self.lower_inner_item(item).map(|_| None),
            syn::Stmt::Expr(expr, semi) => {
                let value = match expected {
                    Some(e) if semi.is_none() && last => self.lower_expr_expecting(expr, e)?,
                    _ => self.lower_expr(expr)?,
                };
                if semi.is_none() && last {
                    return Ok(Some(value));
                }
                if semi.is_none() && !self.is_unit(value.ty) && value.ty != Ty::Never {
                    // A block-like expression statement without `;` must be `()`.
                    let unit = self.unit();
                    self.unify(unit, value.ty, expr.span())?;
                }
                Ok(Some(value))
            }
            syn::Stmt::Macro(mac) => {
                let value = self.lower_macro(&mac.mac, mac.span())?;
                Ok(Some(value))
            }
        }
    }

    pub(super) fn lower_inner_item(&mut self, item: &syn::Item) -> Result<()> {
        match item {
            syn::Item::Const(c) => {
                let ty = self.resolve_type(&c.ty)?;
                let Type::Scalar(scalar) = self.module.types[ty] else {
                    return Err(FrontError::unsupported(
                        "constants of non-scalar type",
                        "declare scalar constants (integers, floats, bool)",
                        c.ty.span(),
                    ));
                };
                let value = self.const_env().eval_typed(&c.expr, scalar)?;
                self.consts
                    .last_mut()
                    .expect("open")
                    .insert(c.ident.to_string(), value);
                self.bind(c.ident.to_string(), Binding::Const(value));
                Ok(())
            }
            syn::Item::Fn(f) => Err(FrontError::unsupported(
                "nested functions",
                "move the function out and mark it `#[device_fn]`",
                f.sig.ident.span(),
            )),
            syn::Item::Use(_) => Ok(()),
            other => Err(FrontError::unsupported(
                "items inside a kernel body",
                "declare them outside the kernel",
                other.span(),
            )),
        }
    }

    pub(super) fn lower_let(&mut self, local: &syn::Local) -> Result<()> {
        let (pat, annotation) = match &local.pat {
            syn::Pat::Type(typed) => (&*typed.pat, Some(&*typed.ty)),
            other => (other, None),
        };
        if let Some(init) = &local.init {
            if init.diverge.is_some() {
                return Err(FrontError::unsupported(
                    "`let … else`",
                    "use `if`/`match` and an early `return`",
                    local.span(),
                ));
            }
        }
        let (name, mutable) = match pat {
            syn::Pat::Ident(ident) if ident.subpat.is_none() => {
                if ident.by_ref.is_some() {
                    return Err(FrontError::unsupported(
                        "`ref` bindings",
                        "bind by value or use `&mut place`",
                        ident.span(),
                    ));
                }
                (Some(ident.ident.to_string()), ident.mutability.is_some())
            }
            syn::Pat::Wild(_) => (None, false),
            syn::Pat::Tuple(_)
            | syn::Pat::TupleStruct(_)
            | syn::Pat::Struct(_)
            | syn::Pat::Slice(_) => {
                return Err(FrontError::unsupported(
                    "destructuring patterns in `let`",
                    "bind the value to one name and access its fields",
                    pat.span(),
                ))
            }
            other => {
                return Err(FrontError::unsupported(
                    "this pattern",
                    "use a plain name: `let x = …;`",
                    other.span(),
                ))
            }
        };
        let declared = match annotation {
            Some(ty) => Some(Ty::Known(self.resolve_type(ty)?)),
            None => None,
        };
        let Some(init) = &local.init else {
            let Some(ty) = declared else {
                return Err(FrontError::new(
                    FrontErrorKind::AnnotationNeeded {
                        what: format!("`{}`", name.unwrap_or_default()),
                        suggestion: "give it a type: `let x: u32;` or an initial value",
                    },
                    local.span(),
                ));
            };
            let local_handle = self.new_local(name.clone(), ty, true, local.span());
            if let Some(name) = name {
                self.bind(
                    name,
                    Binding::Local {
                        local: local_handle,
                        ty,
                    },
                );
            }
            return Ok(());
        };
        // `let r = &mut place;` and `let tile = ctx.shared_array::<T, N>();` name places.
        if let syn::Expr::Reference(reference) = &*init.expr {
            let (place, ty, place_mutable) =
                self.lower_place(&reference.expr, reference.mutability.is_some())?;
            let place = self.stabilise_place(place, reference.span());
            if let Some(declared) = declared {
                // `let r: &mut f32 = &mut a[i];`
                if let Some(Type::Ref { target, .. }) = self.type_of(declared).cloned() {
                    self.unify(Ty::Known(target), ty, init.expr.span())?;
                }
            }
            if let Some(name) = name {
                self.bind(
                    name,
                    Binding::Alias {
                        place,
                        ty,
                        mutable: reference.mutability.is_some() && place_mutable,
                    },
                );
            }
            return Ok(());
        }
        if let Some((place, ty)) = self.try_shared_array(&init.expr)? {
            if let Some(name) = name {
                self.bind(
                    name,
                    Binding::Alias {
                        place,
                        ty,
                        mutable: true,
                    },
                );
            }
            return Ok(());
        }
        let value = match declared {
            Some(d) => self.lower_expr_expecting(&init.expr, d)?,
            None => self.lower_expr(&init.expr)?,
        };
        let ty = match declared {
            Some(d) => self.unify(d, value.ty, init.expr.span())?,
            None => value.ty,
        };
        if ty == Ty::Never {
            return Ok(());
        }
        if self.is_unit(ty) {
            if let Some(name) = name {
                let unit = self.unit();
                let local = self.new_local(Some(name.clone()), unit, mutable, local.span());
                self.bind(name, Binding::Local { local, ty: unit });
            }
            return Ok(());
        }
        if let Some(Type::Slice { .. } | Type::Ref { .. }) = self.type_of(ty) {
            return Err(FrontError::unsupported(
                "binding a slice or reference to a new name",
                "use the parameter directly, or `let r = &mut place;` for an element",
                local.span(),
            ));
        }
        let local_handle = self.new_local(name.clone(), ty, mutable, local.pat.span());
        let place = self.expr(Expression::Local(local_handle), ty, local.pat.span());
        if let Some(expr) = value.expr {
            self.emit(Statement::Store { place, value: expr }, local.span());
        }
        if let Some(name) = name {
            self.bind(
                name,
                Binding::Local {
                    local: local_handle,
                    ty,
                },
            );
        }
        Ok(())
    }
}
