//! Places: field and index access (auto-deref, bounds checks), assignable
//! places and their mutability, and stabilising a place's operands so it
//! denotes the same element however often it is evaluated.

use syn::spanned::Spanned;

use super::body::{Binding, FnLowerer, Val};
use super::error::{FrontError, FrontErrorKind, Result};
use super::expr::not_a_value;
use super::infer::Ty;
use crate::arena::Handle;
use crate::ir::{Expression, Type};

impl FnLowerer<'_> {
    /// `base.member`, auto-dereferencing references.
    pub fn field_of(
        &mut self,
        base: Val,
        member: &syn::Member,
        span: proc_macro2::Span,
    ) -> Result<Val> {
        let base = self.auto_deref(base, span)?;
        let syn::Member::Named(name) = member else {
            return Err(FrontError::unsupported(
                "tuple fields",
                "use structs with named fields",
                member.span(),
            ));
        };
        let Some(Type::Struct(st)) = self.type_of(base.ty).cloned() else {
            return Err(FrontError::new(
                FrontErrorKind::NotFound {
                    what: "field",
                    name: format!("{} on type `{}`", name, self.describe(base.ty)),
                },
                member.span(),
            ));
        };
        let Some(index) = st.members.iter().position(|m| *name == m.name) else {
            return Err(FrontError::new(
                FrontErrorKind::NotFound {
                    what: "field",
                    name: format!("{} on type `{}`", name, st.name),
                },
                member.span(),
            ));
        };
        let ty = Ty::Known(st.members[index].ty);
        let b = base.expr.expect("a struct value");
        Ok(Val {
            expr: Some(self.expr(
                Expression::Field {
                    base: b,
                    index: index as u32,
                },
                ty,
                span,
            )),
            ty,
        })
    }

    /// `base[index]` on arrays and slices; the index must be `usize`.
    pub fn index_of(
        &mut self,
        base: Val,
        index: &syn::Expr,
        span: proc_macro2::Span,
    ) -> Result<Val> {
        let base = self.auto_deref(base, span)?;
        let elem = match self.type_of(base.ty) {
            Some(Type::Array { elem, .. }) | Some(Type::Slice { elem, .. }) => *elem,
            _ => return Err(self.invalid_operand("[]", base.ty, span)),
        };
        if let syn::Expr::Range(_) = index {
            return Err(FrontError::unsupported(
                "range indexing (sub-slices)",
                "index elements one at a time",
                index.span(),
            ));
        }
        // Bases are places (locals, parameters, fields): an index operand
        // that emits statements cannot change which place they denote.
        let base_expr = base.expr.expect("an array value");
        let i = self.lower_expr(index)?;
        let usize_ty = self.usize_ty();
        self.unify(usize_ty, i.ty, index.span()).map_err(|_| {
            FrontError::new(
                FrontErrorKind::TypeMismatch {
                    expected: "usize".into(),
                    found: self.describe(i.ty),
                },
                index.span(),
            )
        })?;
        let i = i.expr.ok_or_else(|| not_a_value(index))?;
        let ty = Ty::Known(elem);
        Ok(Val {
            expr: Some(self.expr(
                Expression::Index {
                    base: base_expr,
                    index: i,
                },
                ty,
                span,
            )),
            ty,
        })
    }

    /// Follows references until a non-reference value (Rust's auto-deref for
    /// field access, indexing and method receivers).
    pub fn auto_deref(&mut self, mut value: Val, span: proc_macro2::Span) -> Result<Val> {
        while let Some(Type::Ref { target, .. }) = self.type_of(value.ty).cloned() {
            let e = value.expr.expect("a reference value");
            let ty = Ty::Known(target);
            value = Val {
                expr: Some(self.expr(Expression::Deref(e), ty, span)),
                ty,
            };
        }
        Ok(value)
    }

    /// Lowers an assignment target or borrowed place; returns the place, its
    /// type and whether it may be written.
    pub fn lower_place(
        &mut self,
        expr: &syn::Expr,
        for_write: bool,
    ) -> Result<(Handle<Expression>, Ty, bool)> {
        let span = expr.span();
        match expr {
            syn::Expr::Paren(p) => self.lower_place(&p.expr, for_write),
            syn::Expr::Path(path) if path.path.get_ident().is_some() => {
                let name = path.path.get_ident().unwrap().to_string();
                match self.lookup(&name).cloned() {
                    Some(Binding::Local { local, ty }) => {
                        let mutable = self.func.locals[local].mutable;
                        Ok((self.expr(Expression::Local(local), ty, span), ty, mutable))
                    }
                    Some(Binding::Alias { place, ty, mutable }) => Ok((place, ty, mutable)),
                    Some(Binding::Poisoned) => Err(FrontError::new(FrontErrorKind::Cascade, span)),
                    _ => Err(FrontError::new(
                        FrontErrorKind::NotAPlace {
                            action: if for_write { "assigned" } else { "borrowed" },
                        },
                        span,
                    )),
                }
            }
            syn::Expr::Field(field) => {
                let (base, ty, mutable) = self.lower_place(&field.base, for_write)?;
                let (base_ty, mutable) = self.through_refs(base, ty, mutable, span);
                let value = self.field_of(
                    Val {
                        expr: Some(base_ty.0),
                        ty: base_ty.1,
                    },
                    &field.member,
                    span,
                )?;
                Ok((value.expr.expect("a field"), value.ty, mutable))
            }
            syn::Expr::Index(index) => {
                let (base, ty, mutable) = self.lower_place(&index.expr, for_write)?;
                let (base_ty, mutable) = self.through_refs(base, ty, mutable, span);
                let slice_mutable = match self.type_of(base_ty.1) {
                    Some(Type::Slice { mutable, .. }) => *mutable,
                    _ => mutable,
                };
                let value = self.index_of(
                    Val {
                        expr: Some(base_ty.0),
                        ty: base_ty.1,
                    },
                    &index.index,
                    span,
                )?;
                Ok((value.expr.expect("an element"), value.ty, slice_mutable))
            }
            syn::Expr::Unary(syn::ExprUnary {
                op: syn::UnOp::Deref(_),
                expr: inner,
                ..
            }) => {
                let value = self.lower_expr(inner)?;
                let mutable = match self.type_of(value.ty) {
                    Some(Type::Ref { mutable, .. }) => *mutable,
                    _ => match value.expr.map(|e| self.alias_mutability(e)) {
                        Some(Some(m)) => m,
                        _ => false,
                    },
                };
                let place = self.deref(value, span)?;
                Ok((place.expr.expect("a place"), place.ty, mutable))
            }
            _ => Err(FrontError::new(
                FrontErrorKind::NotAPlace {
                    action: if for_write { "assigned" } else { "borrowed" },
                },
                span,
            )),
        }
    }

    pub(super) fn alias_mutability(&self, e: Handle<Expression>) -> Option<bool> {
        self.scopes
            .iter()
            .flat_map(|s| s.values())
            .find_map(|b| match b {
                Binding::Alias { place, mutable, .. } if *place == e => Some(*mutable),
                _ => None,
            })
    }

    /// Dereferences reference-typed places; the mutability becomes the
    /// reference's (`state: &mut S` makes `state.x` writable).
    pub(super) fn through_refs(
        &mut self,
        mut place: Handle<Expression>,
        mut ty: Ty,
        mut mutable: bool,
        span: proc_macro2::Span,
    ) -> ((Handle<Expression>, Ty), bool) {
        while let Some(Type::Ref { target, mutable: m }) = self.type_of(ty).cloned() {
            mutable = m;
            ty = Ty::Known(target);
            place = self.expr(Expression::Deref(place), ty, span);
        }
        ((place, ty), mutable)
    }

    pub fn require_mutable(&self, mutable: bool, target: &syn::Expr) -> Result<()> {
        if mutable {
            return Ok(());
        }
        Err(FrontError::new(
            FrontErrorKind::NotMutable {
                name: quote::quote!(#target).to_string(),
            },
            target.span(),
        ))
    }

    /// Replaces non-trivial index operands inside a place by immutable
    /// temporaries holding their current values, so the place can be
    /// evaluated again later (by a compound assignment or an alias) and
    /// still denote the same location.
    pub fn stabilise_place(
        &mut self,
        place: Handle<Expression>,
        span: proc_macro2::Span,
    ) -> Handle<Expression> {
        match self.func.expressions[place].clone() {
            Expression::Index { base, index } => {
                let base = self.stabilise_place(base, span);
                let index = if self.is_stable_operand(index) {
                    index
                } else {
                    let ty = self.ty_of_expr(index);
                    self.spill(
                        Val {
                            expr: Some(index),
                            ty,
                        },
                        span,
                    )
                    .expr
                    .expect("a value")
                };
                let ty = self.ty_of_expr(place);
                self.expr(Expression::Index { base, index }, ty, span)
            }
            Expression::Field { base, index } => {
                let new_base = self.stabilise_place(base, span);
                if new_base == base {
                    return place;
                }
                let ty = self.ty_of_expr(place);
                self.expr(
                    Expression::Field {
                        base: new_base,
                        index,
                    },
                    ty,
                    span,
                )
            }
            Expression::Deref(inner) => {
                let new_inner = self.stabilise_place(inner, span);
                if new_inner == inner {
                    return place;
                }
                let ty = self.ty_of_expr(place);
                self.expr(Expression::Deref(new_inner), ty, span)
            }
            _ => place,
        }
    }

    /// Literals and immutable locals never change value.
    pub(super) fn is_stable_operand(&self, e: Handle<Expression>) -> bool {
        match &self.func.expressions[e] {
            Expression::Literal(_) => true,
            Expression::Local(l) => !self.func.locals[*l].mutable,
            _ => false,
        }
    }
}
