//! Which helper families of `rk_rust.cuh` a module names, so that NVRTC
//! parses only those: the header guards each family with an
//! `RK_RUST_NEED_<FAMILY>` macro (its "Which helper families" comment), and
//! parsing all of them costs about 70 M instructions of NVRTC's front end
//! per module (3% of an actor module's cold compile; BENCHMARKS.md).
//!
//! The families are read off the generated text, not recorded where the
//! back end writes each call: a scan of the output cannot miss a call
//! site. A name it maps to a family it does not need only costs parse
//! time; a helper it missed would be an NVRTC error (the back-end tests
//! compile every module).

use std::collections::BTreeSet;

/// Helper suffixes (`types::suffix`) and their macro spelling.
const TYPES: [(&str, &str); 11] = [
    ("bool", "BOOL"),
    ("i8", "I8"),
    ("i16", "I16"),
    ("i32", "I32"),
    ("i64", "I64"),
    ("u8", "U8"),
    ("u16", "U16"),
    ("u32", "U32"),
    ("u64", "U64"),
    ("f32", "F32"),
    ("f64", "F64"),
];

/// `rk_<op>_<T>` of `RK_RUST_NEED_<T>`: the integer and float methods.
const METHOD_OPS: [&str; 31] = [
    "min",
    "max",
    "clamp",
    "wrapping_mul",
    "pow",
    "rotate_left",
    "rotate_right",
    "overflows_pow",
    "count_ones",
    "leading_zeros",
    "trailing_zeros",
    "overflows_add",
    "overflows_sub",
    "overflows_mul",
    "overflows_neg",
    "overflows_abs",
    "overflows_divrem",
    "saturate",
    "saturating_add",
    "saturating_sub",
    "saturating_mul",
    "abs",
    "shift_overflows",
    "is_nan",
    "is_infinite",
    "is_finite",
    "fract",
    "neg",
    "copysign",
    "signum",
    "powi",
];

/// `rk_<op>_<T>` of `RK_RUST_NEED_WARP_<T>`.
const WARP_OPS: [&str; 11] = [
    "shfl",
    "shfl_up",
    "shfl_down",
    "shfl_xor",
    "sum",
    "warp_reduce_sum",
    "warp_reduce_min",
    "warp_reduce_max",
    "block_reduce_sum",
    "block_reduce_min",
    "block_reduce_max",
];

/// `rk_atomic_<op>_<T>` of `RK_RUST_NEED_ATOMIC_<T>`.
const ATOMIC_OPS: [&str; 9] = [
    "add", "sub", "min", "max", "and", "or", "xor", "exch", "cas",
];

/// The family macro of helper `name`, or `None` for any other identifier
/// (types, the loop's functions, user names).
fn family(name: &str) -> Option<String> {
    let rest = name.strip_prefix("rk_")?;
    let (op, ty) = rest.rsplit_once('_')?;
    let ty = TYPES.iter().find(|(s, _)| *s == ty)?.1;
    // `as` casts from a float, rk_cast_<F>_<int>: the float's family.
    if let Some(from) = op.strip_prefix("cast_") {
        let from = TYPES.iter().find(|(s, _)| *s == from)?.1;
        return matches!(from, "F32" | "F64").then(|| format!("RK_RUST_NEED_{from}"));
    }
    if WARP_OPS.contains(&op) {
        return Some(format!("RK_RUST_NEED_WARP_{ty}"));
    }
    if let Some(atomic) = op.strip_prefix("atomic_") {
        return ATOMIC_OPS
            .contains(&atomic)
            .then(|| format!("RK_RUST_NEED_ATOMIC_{ty}"));
    }
    (METHOD_OPS.contains(&op) && ty != "BOOL").then(|| format!("RK_RUST_NEED_{ty}"))
}

/// The `RK_RUST_NEED_*` macros for the helpers `text` names, sorted. Only
/// identifiers `rk_<op>_<T>` can name one, so the scan jumps from one `rk_`
/// to the next (it runs on every transpile: a byte-by-byte walk of a 10 KB
/// module added 2.5 % to a transpile's instructions (valgrind, the
/// transpile bench), this scan and the define lines 1 %).
pub fn rust_header_needs(text: &str) -> Vec<String> {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = text.as_bytes();
    // Each name once (a module names few helpers, many times each).
    let mut names = BTreeSet::new();
    let mut from = 0;
    for start in memchr::memmem::find_iter(bytes, b"rk_") {
        // Inside the identifier just read, or inside another (`xrk_...`).
        if start < from || (start > 0 && is_word(bytes[start - 1])) {
            continue;
        }
        let mut end = start + 3;
        while end < bytes.len() && is_word(bytes[end]) {
            end += 1;
        }
        from = end;
        // A helper is rk_<op>_<T>: most `rk_` names are types (`rk_u32`).
        if !bytes[start + 3..end].contains(&b'_') {
            continue;
        }
        // ASCII boundaries: slicing the str there is valid.
        names.insert(&text[start..end]);
    }
    let needs: BTreeSet<String> = names.into_iter().filter_map(family).collect();
    needs.into_iter().collect()
}

/// `text` with a `#define <macro> 1` line for each of `needs` inserted
/// before its first `#include "rk_rust.cuh"` (unchanged when there is none).
pub fn with_rust_needs(text: String, needs: &[String]) -> String {
    let include = format!("#include \"{}\"", super::RUST_HEADER.name);
    let Some(at) = text
        .match_indices(&include)
        .map(|(at, _)| at)
        .find(|&at| at == 0 || text.as_bytes()[at - 1] == b'\n')
    else {
        return text;
    };
    let mut out = String::with_capacity(text.len() + needs.len() * 32);
    out.push_str(&text[..at]);
    for need in needs {
        out.push_str("#define ");
        out.push_str(need);
        out.push_str(" 1\n");
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_map_to_their_family() {
        let cases = [
            ("rk_overflows_add_u32", Some("RK_RUST_NEED_U32")),
            ("rk_shift_overflows_i32", Some("RK_RUST_NEED_I32")),
            ("rk_saturating_mul_i64", Some("RK_RUST_NEED_I64")),
            ("rk_cast_f32_i8", Some("RK_RUST_NEED_F32")),
            ("rk_cast_f64_u64", Some("RK_RUST_NEED_F64")),
            ("rk_is_nan_f32", Some("RK_RUST_NEED_F32")),
            ("rk_powi_f64", Some("RK_RUST_NEED_F64")),
            ("rk_shfl_xor_bool", Some("RK_RUST_NEED_WARP_BOOL")),
            ("rk_block_reduce_max_u32", Some("RK_RUST_NEED_WARP_U32")),
            ("rk_sum_f64", Some("RK_RUST_NEED_WARP_F64")),
            ("rk_atomic_cas_f32", Some("RK_RUST_NEED_ATOMIC_F32")),
            ("rk_atomic_add_u64", Some("RK_RUST_NEED_ATOMIC_U64")),
            // Types, wrappers and the loop's functions are no helpers.
            ("rk_u32", None),
            ("rk_usize", None),
            ("rk_arr14_u32", None),
            ("rk_make_Msg64", None),
            ("rk_fault", None),
            ("rk_thread_id", None),
            ("rk_actor_send", None),
            ("rk_min_bool", None),
            ("rk_cast_i32_f32", None),
            ("rk_atomic_load_u32", None),
        ];
        for (name, want) in cases {
            assert_eq!(family(name).as_deref(), want, "{name}");
        }
    }

    #[test]
    fn needs_are_read_off_identifiers_only() {
        let text = "x = rk_overflows_add_u32(a, b) + rk_min_u32(a, rk_min_u32(b, c));\n\
                    // not_rk_min_i8 is one identifier\n\
                    y = rk_warp_reduce_sum_f32(v);";
        assert_eq!(
            rust_header_needs(text),
            ["RK_RUST_NEED_U32", "RK_RUST_NEED_WARP_F32"]
        );
        assert!(rust_header_needs("rk_u32 x = 1u;").is_empty());
    }

    #[test]
    fn defines_go_before_the_first_include() {
        let text = "// c\n#include \"rk_rust.cuh\"\n#include \"rk_actor.cuh\"\n".to_string();
        let out = with_rust_needs(text, &["RK_RUST_NEED_U32".into()]);
        assert_eq!(
            out,
            "// c\n#define RK_RUST_NEED_U32 1\n#include \"rk_rust.cuh\"\n#include \"rk_actor.cuh\"\n"
        );
        assert_eq!(with_rust_needs("int x;".into(), &["A".into()]), "int x;");
    }
}
