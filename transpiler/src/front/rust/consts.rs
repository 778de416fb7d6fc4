//! Constant expressions: `const` items in a body, array lengths, and the
//! associated constants of primitive types (`u32::MAX`, `f32::consts::PI`).
//!
//! Evaluation is exact: integers in i128 checked against their type's range,
//! floats in their own precision. A constant whose value overflows its type
//! is an error, as in rustc.

use std::collections::HashMap;

use syn::spanned::Spanned;

use super::error::{FrontError, FrontErrorKind, Result};
use crate::ir::{FloatKind, IntKind, Scalar};

/// A constant value; a `None` kind is an unsuffixed literal not yet typed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConstValue {
    Int(i128, Option<IntKind>),
    Float(f64, Option<FloatKind>),
    Bool(bool),
}

/// Named constants in scope.
#[derive(Debug, Default, Clone)]
pub struct ConstEnv {
    values: HashMap<String, ConstValue>,
}

impl ConstEnv {
    pub fn insert(&mut self, name: String, value: ConstValue) {
        self.values.insert(name, value);
    }

    pub fn get(&self, name: &str) -> Option<ConstValue> {
        self.values.get(name).copied()
    }

    /// Evaluates an array length or other `usize` constant.
    pub fn eval_usize(&self, expr: &syn::Expr) -> Result<u64> {
        match self.eval(expr)? {
            ConstValue::Int(v, None | Some(IntKind::Usize))
                if (0..=i128::from(u32::MAX)).contains(&v) =>
            {
                Ok(v as u64)
            }
            _ => Err(FrontError::new(
                FrontErrorKind::NotConst {
                    name: quote::quote!(#expr).to_string(),
                    problem: "expected a `usize` constant below 2^32",
                },
                expr.span(),
            )),
        }
    }

    /// Evaluates `expr` and converts it to `ty` (the `const` item's type).
    pub fn eval_typed(&self, expr: &syn::Expr, ty: Scalar) -> Result<ConstValue> {
        let expect = match ty {
            Scalar::Float(kind) => Some(kind),
            _ => None,
        };
        let value = self.eval_with(expr, expect)?;
        let mismatch = |found: &str| {
            FrontError::new(
                FrontErrorKind::TypeMismatch {
                    expected: ty.rust_name().into(),
                    found: found.into(),
                },
                expr.span(),
            )
        };
        match (value, ty) {
            (ConstValue::Int(v, kind), Scalar::Int(target)) => {
                if kind.is_some_and(|k| k != target) {
                    return Err(mismatch(kind.unwrap().rust_name()));
                }
                if v < target.min_value() || v > target.max_value() {
                    return Err(FrontError::new(
                        FrontErrorKind::LiteralOutOfRange {
                            ty: target.rust_name(),
                            literal: v.to_string(),
                        },
                        expr.span(),
                    ));
                }
                Ok(ConstValue::Int(v, Some(target)))
            }
            (ConstValue::Float(v, kind), Scalar::Float(target)) => {
                if kind.is_some_and(|k| k != target) {
                    return Err(mismatch(kind.unwrap().rust_name()));
                }
                let v = if target == FloatKind::F32 {
                    f64::from(v as f32)
                } else {
                    v
                };
                Ok(ConstValue::Float(v, Some(target)))
            }
            (ConstValue::Bool(b), Scalar::Bool) => Ok(ConstValue::Bool(b)),
            (ConstValue::Int(..), _) => Err(mismatch("{integer}")),
            (ConstValue::Float(..), _) => Err(mismatch("{float}")),
            (ConstValue::Bool(_), _) => Err(mismatch("bool")),
        }
    }

    pub fn eval(&self, expr: &syn::Expr) -> Result<ConstValue> {
        self.eval_with(expr, None)
    }

    /// Evaluates with an expected float kind, so unsuffixed float literals
    /// meant as `f32` are parsed (and computed on) as `f32`, rounding once
    /// per operation as rustc does.
    fn eval_with(&self, expr: &syn::Expr, expect: Option<FloatKind>) -> Result<ConstValue> {
        let not_const = |problem| {
            FrontError::new(
                FrontErrorKind::NotConst {
                    name: quote::quote!(#expr).to_string(),
                    problem,
                },
                expr.span(),
            )
        };
        match expr {
            syn::Expr::Lit(lit) => match (literal(&lit.lit)?, &lit.lit, expect) {
                (ConstValue::Float(_, None), syn::Lit::Float(f), Some(FloatKind::F32)) => {
                    Ok(ConstValue::Float(
                        f64::from(parse_f32(f.base10_digits())),
                        Some(FloatKind::F32),
                    ))
                }
                (value, ..) => Ok(value),
            },
            syn::Expr::Paren(p) => self.eval_with(&p.expr, expect),
            syn::Expr::Group(g) => self.eval_with(&g.expr, expect),
            syn::Expr::Path(path) => {
                let segments: Vec<String> = path
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                if let [name] = segments.as_slice() {
                    return self
                        .get(name)
                        .ok_or_else(|| not_const("only constants and literals can be used here"));
                }
                associated_const(&segments).ok_or_else(|| not_const("unknown constant"))
            }
            syn::Expr::Unary(unary) => {
                let value = self.eval_with(&unary.expr, expect)?;
                match (&unary.op, value) {
                    (syn::UnOp::Neg(_), ConstValue::Int(v, k)) if k.is_none_or(IntKind::signed) => {
                        Ok(ConstValue::Int(-v, k))
                    }
                    (syn::UnOp::Neg(_), ConstValue::Float(v, k)) => Ok(ConstValue::Float(-v, k)),
                    (syn::UnOp::Not(_), ConstValue::Bool(b)) => Ok(ConstValue::Bool(!b)),
                    (syn::UnOp::Not(_), ConstValue::Int(v, Some(k))) => {
                        Ok(ConstValue::Int(k.wrap(!v), Some(k)))
                    }
                    _ => Err(not_const("this operator is not supported in constants")),
                }
            }
            syn::Expr::Binary(binary) => {
                let (mut l, mut r) = (
                    self.eval_with(&binary.left, expect)?,
                    self.eval_with(&binary.right, expect)?,
                );
                let is_f32 =
                    |v: ConstValue| matches!(v, ConstValue::Float(_, Some(FloatKind::F32)));
                if expect.is_none() && (is_f32(l) || is_f32(r)) {
                    // One side fixes the kind: evaluate the other as f32 too.
                    l = self.eval_with(&binary.left, Some(FloatKind::F32))?;
                    r = self.eval_with(&binary.right, Some(FloatKind::F32))?;
                }
                match (l, r) {
                    (ConstValue::Int(a, ka), ConstValue::Int(b, kb)) => {
                        let kind = match (ka, kb) {
                            (Some(x), Some(y))
                                if x != y
                                    && !matches!(
                                        binary.op,
                                        syn::BinOp::Shl(_) | syn::BinOp::Shr(_)
                                    ) =>
                            {
                                return Err(not_const("operands have different integer types"))
                            }
                            (Some(x), _) => Some(x),
                            (None, y) => y,
                        };
                        let v = match binary.op {
                            syn::BinOp::Add(_) => a.checked_add(b),
                            syn::BinOp::Sub(_) => a.checked_sub(b),
                            syn::BinOp::Mul(_) => a.checked_mul(b),
                            syn::BinOp::Div(_) if b != 0 => a.checked_div(b),
                            syn::BinOp::Rem(_) if b != 0 => a.checked_rem(b),
                            syn::BinOp::Shl(_) if (0..64).contains(&b) => a.checked_shl(b as u32),
                            syn::BinOp::Shr(_) if (0..64).contains(&b) => Some(a >> b),
                            syn::BinOp::BitAnd(_) => Some(a & b),
                            syn::BinOp::BitOr(_) => Some(a | b),
                            syn::BinOp::BitXor(_) => Some(a ^ b),
                            _ => None,
                        }
                        .ok_or_else(|| {
                            not_const(
                                "the operation overflows, divides by zero or is not supported",
                            )
                        })?;
                        let in_range =
                            kind.is_none_or(|k| (k.min_value()..=k.max_value()).contains(&v));
                        if !in_range {
                            return Err(not_const("the result overflows its type"));
                        }
                        Ok(ConstValue::Int(v, kind))
                    }
                    (ConstValue::Float(a, ka), ConstValue::Float(b, kb)) => {
                        if ka.is_some() && kb.is_some() && ka != kb {
                            return Err(not_const("operands have different float types"));
                        }
                        let kind = ka.or(kb).or(expect);
                        let v = match binary.op {
                            syn::BinOp::Add(_) => a + b,
                            syn::BinOp::Sub(_) => a - b,
                            syn::BinOp::Mul(_) => a * b,
                            syn::BinOp::Div(_) => a / b,
                            _ => {
                                return Err(not_const(
                                    "this operator is not supported on float constants",
                                ))
                            }
                        };
                        // An f32 constant computed in f64 then rounded can
                        // differ from f32 arithmetic; only exact cases pass.
                        if kind == Some(FloatKind::F32) {
                            let exact = match binary.op {
                                syn::BinOp::Add(_) => (a as f32) + (b as f32),
                                syn::BinOp::Sub(_) => (a as f32) - (b as f32),
                                syn::BinOp::Mul(_) => (a as f32) * (b as f32),
                                _ => (a as f32) / (b as f32),
                            };
                            return Ok(ConstValue::Float(f64::from(exact), kind));
                        }
                        Ok(ConstValue::Float(v, kind))
                    }
                    _ => Err(not_const("operands must both be integers or both floats")),
                }
            }
            _ => Err(not_const(
                "only literals, constants and arithmetic on them are allowed",
            )),
        }
    }
}

/// An integer, float or bool literal.
pub fn literal(lit: &syn::Lit) -> Result<ConstValue> {
    match lit {
        syn::Lit::Int(int) => {
            let value: i128 = int.base10_parse().map_err(|_| {
                FrontError::new(
                    FrontErrorKind::LiteralOutOfRange {
                        ty: "i128",
                        literal: int.to_string(),
                    },
                    int.span(),
                )
            })?;
            match int.suffix() {
                "" => Ok(ConstValue::Int(value, None)),
                "f32" => Ok(ConstValue::Float(
                    f64::from(value as f32),
                    Some(FloatKind::F32),
                )),
                "f64" => Ok(ConstValue::Float(value as f64, Some(FloatKind::F64))),
                suffix => match IntKind::from_rust_name(suffix) {
                    Some(kind) => Ok(ConstValue::Int(value, Some(kind))),
                    None => Err(FrontError::unsupported(
                        "this literal suffix",
                        "use a suffix like `u32`, `i64`, `f32`",
                        int.span(),
                    )),
                },
            }
        }
        syn::Lit::Float(float) => {
            let digits = float.base10_digits();
            match float.suffix() {
                "f32" => Ok(ConstValue::Float(
                    f64::from(parse_f32(digits)),
                    Some(FloatKind::F32),
                )),
                "f64" => Ok(ConstValue::Float(
                    digits.parse().unwrap_or(f64::NAN),
                    Some(FloatKind::F64),
                )),
                // Unsuffixed: keep the f64 value; if it becomes f32 it is
                // re-parsed from the digits to round once, as rustc does.
                _ => Ok(ConstValue::Float(digits.parse().unwrap_or(f64::NAN), None)),
            }
        }
        syn::Lit::Bool(b) => Ok(ConstValue::Bool(b.value)),
        _ => Err(FrontError::unsupported(
            "string, byte and char literals",
            "use integer, float or bool literals: the device has no strings",
            lit.span(),
        )),
    }
}

/// Parses decimal digits straight to f32 (rounding once, like rustc).
pub fn parse_f32(digits: &str) -> f32 {
    digits.parse().unwrap_or(f32::NAN)
}

/// `u32::MAX`, `f32::EPSILON`, `std::f64::consts::PI`, …
pub fn associated_const(segments: &[String]) -> Option<ConstValue> {
    let tail: Vec<&str> = segments
        .iter()
        .map(String::as_str)
        .skip_while(|s| matches!(*s, "std" | "core"))
        .collect();
    match tail.as_slice() {
        [ty, name] => {
            if let Some(kind) = IntKind::from_rust_name(ty) {
                return match *name {
                    "MAX" => Some(ConstValue::Int(kind.max_value(), Some(kind))),
                    "MIN" => Some(ConstValue::Int(kind.min_value(), Some(kind))),
                    "BITS" => Some(ConstValue::Int(i128::from(kind.bits()), Some(IntKind::U32))),
                    _ => None,
                };
            }
            let kind = float_kind(ty)?;
            let v = |a: f32, b: f64| {
                Some(ConstValue::Float(
                    if kind == FloatKind::F32 {
                        f64::from(a)
                    } else {
                        b
                    },
                    Some(kind),
                ))
            };
            match *name {
                "INFINITY" => v(f32::INFINITY, f64::INFINITY),
                "NEG_INFINITY" => v(f32::NEG_INFINITY, f64::NEG_INFINITY),
                "NAN" => v(f32::NAN, f64::NAN),
                "MAX" => v(f32::MAX, f64::MAX),
                "MIN" => v(f32::MIN, f64::MIN),
                "MIN_POSITIVE" => v(f32::MIN_POSITIVE, f64::MIN_POSITIVE),
                "EPSILON" => v(f32::EPSILON, f64::EPSILON),
                _ => None,
            }
        }
        [ty, "consts", name] => {
            let kind = float_kind(ty)?;
            use std::f32::consts as c32;
            use std::f64::consts as c64;
            let (a, b) = match *name {
                "PI" => (c32::PI, c64::PI),
                "TAU" => (c32::TAU, c64::TAU),
                "E" => (c32::E, c64::E),
                "SQRT_2" => (c32::SQRT_2, c64::SQRT_2),
                "FRAC_1_SQRT_2" => (c32::FRAC_1_SQRT_2, c64::FRAC_1_SQRT_2),
                "LN_2" => (c32::LN_2, c64::LN_2),
                "LN_10" => (c32::LN_10, c64::LN_10),
                "LOG2_E" => (c32::LOG2_E, c64::LOG2_E),
                "LOG10_E" => (c32::LOG10_E, c64::LOG10_E),
                "FRAC_PI_2" => (c32::FRAC_PI_2, c64::FRAC_PI_2),
                "FRAC_PI_4" => (c32::FRAC_PI_4, c64::FRAC_PI_4),
                "FRAC_1_PI" => (c32::FRAC_1_PI, c64::FRAC_1_PI),
                "FRAC_2_PI" => (c32::FRAC_2_PI, c64::FRAC_2_PI),
                _ => return None,
            };
            Some(ConstValue::Float(
                if kind == FloatKind::F32 {
                    f64::from(a)
                } else {
                    b
                },
                Some(kind),
            ))
        }
        _ => None,
    }
}

fn float_kind(name: &str) -> Option<FloatKind> {
    match name {
        "f32" => Some(FloatKind::F32),
        "f64" => Some(FloatKind::F64),
        _ => None,
    }
}
