//! Literals that mean exactly the IR value in C.
//!
//! Integers carry their C type (`5u`, `5ll`, `5ull`, `((rk_i8)5)`), so a
//! large value is never re-typed (`2147483648` alone is a `long`) and the
//! minimum of a signed type, whose magnitude does not fit, is written as
//! `(-MAX - 1)`. Floats are written as the shortest decimal that round-trips
//! (Rust's `Debug`), with `f` for f32, but only if parsing it both directly
//! and through f64 gives the same bits (so no C front end can round it
//! differently); otherwise, and for infinities and NaNs (payload included),
//! as a bit cast. Negative zero is written `(-0.0f)`.

use std::fmt::{self, Write};

use crate::ir::{FloatKind, IntKind, Literal};

pub(super) fn write_literal(out: &mut impl Write, literal: Literal) -> fmt::Result {
    match literal {
        Literal::Bool(b) => out.write_str(if b { "true" } else { "false" }),
        Literal::Int(value, kind) => write_int(out, value, kind),
        Literal::Float(bits, FloatKind::F32) => write_f32(out, bits as u32),
        Literal::Float(bits, FloatKind::F64) => write_f64(out, bits),
    }
}

pub(super) fn write_int(out: &mut impl Write, value: i128, kind: IntKind) -> fmt::Result {
    match kind {
        IntKind::I8 | IntKind::I16 | IntKind::U8 | IntKind::U16 => {
            write!(
                out,
                "(({}){value})",
                super::types::c_scalar(crate::ir::Scalar::Int(kind))
            )
        }
        IntKind::I32 if value == i128::from(i32::MIN) => out.write_str("(-2147483647 - 1)"),
        IntKind::I32 if value < 0 => write!(out, "({value})"),
        IntKind::I32 => write!(out, "{value}"),
        IntKind::U32 => write!(out, "{value}u"),
        IntKind::I64 | IntKind::Isize if value == i128::from(i64::MIN) => {
            out.write_str("(-9223372036854775807ll - 1)")
        }
        IntKind::I64 | IntKind::Isize if value < 0 => write!(out, "({value}ll)"),
        IntKind::I64 | IntKind::Isize => write!(out, "{value}ll"),
        IntKind::U64 | IntKind::Usize => write!(out, "{value}ull"),
    }
}

fn write_f32(out: &mut impl Write, bits: u32) -> fmt::Result {
    let value = f32::from_bits(bits);
    if value.is_finite() {
        let text = format!("{value:?}");
        let direct = text.parse::<f32>().map(f32::to_bits);
        let via_f64 = text.parse::<f64>().map(|v| (v as f32).to_bits());
        if direct == Ok(bits) && via_f64 == Ok(bits) {
            return if text.starts_with('-') {
                write!(out, "({text}f)")
            } else {
                write!(out, "{text}f")
            };
        }
    }
    write!(out, "__uint_as_float({bits:#010x}u)")
}

fn write_f64(out: &mut impl Write, bits: u64) -> fmt::Result {
    let value = f64::from_bits(bits);
    if value.is_finite() {
        let text = format!("{value:?}");
        if text.parse::<f64>().map(f64::to_bits) == Ok(bits) {
            return if text.starts_with('-') {
                write!(out, "({text})")
            } else {
                out.write_str(&text)
            };
        }
    }
    write!(out, "__longlong_as_double((long long){bits:#018x}ull)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(l: Literal) -> String {
        let mut s = String::new();
        write_literal(&mut s, l).unwrap();
        s
    }

    #[test]
    fn integers_keep_their_type() {
        assert_eq!(lit(Literal::Int(5, IntKind::I32)), "5");
        assert_eq!(lit(Literal::Int(-5, IntKind::I32)), "(-5)");
        assert_eq!(
            lit(Literal::Int(i32::MIN.into(), IntKind::I32)),
            "(-2147483647 - 1)"
        );
        assert_eq!(lit(Literal::Int(4294967295, IntKind::U32)), "4294967295u");
        assert_eq!(
            lit(Literal::Int(i64::MIN.into(), IntKind::I64)),
            "(-9223372036854775807ll - 1)"
        );
        assert_eq!(
            lit(Literal::Int(u64::MAX.into(), IntKind::Usize)),
            "18446744073709551615ull"
        );
        assert_eq!(lit(Literal::Int(-128, IntKind::I8)), "((rk_i8)-128)");
        assert_eq!(lit(Literal::Int(65535, IntKind::U16)), "((rk_u16)65535)");
    }

    #[test]
    fn floats_round_trip() {
        assert_eq!(lit(Literal::f32(1.0)), "1.0f");
        assert_eq!(lit(Literal::f32(0.1)), "0.1f");
        assert_eq!(lit(Literal::f32(-0.0)), "(-0.0f)");
        assert_eq!(lit(Literal::f32(f32::MAX)), "3.4028235e38f");
        assert_eq!(lit(Literal::f32(f32::from_bits(1))), "1e-45f");
        assert_eq!(
            lit(Literal::f32(f32::INFINITY)),
            "__uint_as_float(0x7f800000u)"
        );
        assert_eq!(
            lit(Literal::f32(f32::NEG_INFINITY)),
            "__uint_as_float(0xff800000u)"
        );
        assert_eq!(
            lit(Literal::Float(0x7fc0_0001, FloatKind::F32)),
            "__uint_as_float(0x7fc00001u)"
        );
        assert_eq!(lit(Literal::f64(0.1)), "0.1");
        assert_eq!(lit(Literal::f64(-2.5e-300)), "(-2.5e-300)");
        assert_eq!(
            lit(Literal::f64(f64::NAN)),
            "__longlong_as_double((long long)0x7ff8000000000000ull)"
        );
        assert_eq!(lit(Literal::f64(5e-324)), "5e-324");
    }

    /// Every f32 that is printed as decimal parses back to its bits, over a
    /// sweep of bit patterns (subnormals, both signs, all exponents).
    #[test]
    fn f32_decimal_round_trips_on_a_sweep() {
        let mut bits = 0u32;
        while let Some(next) = bits.checked_add(0x0001_3579) {
            let text = lit(Literal::Float(u64::from(bits), FloatKind::F32));
            if let Some(decimal) = text.strip_suffix('f') {
                let decimal = decimal.trim_start_matches('(');
                assert_eq!(decimal.parse::<f32>().unwrap().to_bits(), bits, "{text}");
            } else if let Some(decimal) = text.strip_suffix("f)") {
                let decimal = decimal.trim_start_matches('(');
                assert_eq!(decimal.parse::<f32>().unwrap().to_bits(), bits, "{text}");
            }
            bits = next;
        }
    }
}
