//! Stable C names for IR entities.
//!
//! One namer per scope: the module scope (types, functions, kernels) and,
//! cloned from it, one per function (parameters, locals, shared arrays) and
//! one per struct (members). Names are handed out in arena order, so the
//! same IR always gets the same names.
//!
//! Rules: a Rust name is kept when it is a usable C identifier; characters C
//! does not accept become `_`; C++ keywords, CUDA built-ins and the library
//! functions the generated code calls are reserved, as are `rk_`/`RK_`
//! (this crate's helpers) and anything C++ reserves (`__` anywhere, `_` and a
//! capital). A collision gets a suffix: `x`, `x_1`, `x_2`. Unnamed
//! temporaries are `_t0`, `_t1`, ….

use std::collections::HashSet;

/// Hands out unique, non-reserved C identifiers within one scope.
#[derive(Debug, Clone, Default)]
pub struct Namer {
    used: HashSet<String>,
    next_temp: u32,
}

const CPP_KEYWORDS: &[&str] = &[
    "alignas",
    "alignof",
    "and",
    "and_eq",
    "asm",
    "auto",
    "bitand",
    "bitor",
    "bool",
    "break",
    "case",
    "catch",
    "char",
    "char8_t",
    "char16_t",
    "char32_t",
    "class",
    "compl",
    "concept",
    "const",
    "consteval",
    "constexpr",
    "constinit",
    "const_cast",
    "continue",
    "co_await",
    "co_return",
    "co_yield",
    "decltype",
    "default",
    "delete",
    "do",
    "double",
    "dynamic_cast",
    "else",
    "enum",
    "explicit",
    "export",
    "extern",
    "false",
    "float",
    "for",
    "friend",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "mutable",
    "namespace",
    "new",
    "noexcept",
    "not",
    "not_eq",
    "nullptr",
    "operator",
    "or",
    "or_eq",
    "private",
    "protected",
    "public",
    "register",
    "reinterpret_cast",
    "requires",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "static_assert",
    "static_cast",
    "struct",
    "switch",
    "template",
    "this",
    "thread_local",
    "throw",
    "true",
    "try",
    "typedef",
    "typeid",
    "typename",
    "union",
    "unsigned",
    "using",
    "virtual",
    "void",
    "volatile",
    "wchar_t",
    "while",
    "xor",
    "xor_eq",
    "restrict",
    "main",
    "NULL",
    "final",
    "override",
    "import",
    "module",
];

/// CUDA built-in variables and functions, and every library function the
/// generated code calls by name (a local of that name would shadow it).
const CUDA_NAMES: &[&str] = &[
    "threadIdx",
    "blockIdx",
    "blockDim",
    "gridDim",
    "warpSize",
    "dim3",
    "uint3",
    "printf",
    "malloc",
    "free",
    "memcpy",
    "memset",
    "assert",
    "clock",
    "clock64",
    "atomicAdd",
    "atomicSub",
    "atomicExch",
    "atomicMin",
    "atomicMax",
    "atomicInc",
    "atomicDec",
    "atomicCAS",
    "atomicAnd",
    "atomicOr",
    "atomicXor",
    "min",
    "max",
    "abs",
    "isnan",
    "isinf",
    "isfinite",
    "signbit",
    "sqrt",
    "sqrtf",
    "floor",
    "floorf",
    "ceil",
    "ceilf",
    "round",
    "roundf",
    "trunc",
    "truncf",
    "exp",
    "expf",
    "exp2",
    "exp2f",
    "log",
    "logf",
    "log2",
    "log2f",
    "log10",
    "log10f",
    "sin",
    "sinf",
    "cos",
    "cosf",
    "tan",
    "tanf",
    "asin",
    "asinf",
    "acos",
    "acosf",
    "atan",
    "atanf",
    "atan2",
    "atan2f",
    "sinh",
    "sinhf",
    "cosh",
    "coshf",
    "tanh",
    "tanhf",
    "pow",
    "powf",
    "fma",
    "fmaf",
    "hypot",
    "hypotf",
    "cbrt",
    "cbrtf",
    "fmin",
    "fminf",
    "fmax",
    "fmaxf",
    "copysign",
    "copysignf",
    "fabs",
    "fabsf",
    "fmod",
    "fmodf",
];

/// Whether `name` is reserved in every scope.
fn is_reserved(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    CPP_KEYWORDS.contains(&name)
        || CUDA_NAMES.contains(&name)
        || lower.starts_with("rk_")
        || name.contains("__")
        || (name.starts_with('_') && name[1..].starts_with(|c: char| c.is_ascii_uppercase()))
        || is_vector_type(name)
}

/// CUDA's vector types: `int2`, `float4`, `ulonglong3`, ….
fn is_vector_type(name: &str) -> bool {
    const BASES: &[&str] = &[
        "char",
        "uchar",
        "short",
        "ushort",
        "int",
        "uint",
        "long",
        "ulong",
        "longlong",
        "ulonglong",
        "float",
        "double",
    ];
    let Some(digit) = name.chars().last() else {
        return false;
    };
    matches!(digit, '1'..='4') && BASES.contains(&&name[..name.len() - 1])
}

/// `name` as a C identifier: strips `r#`, maps other characters to `_`,
/// prefixes a leading digit.
fn sanitize(name: &str) -> String {
    let name = name.strip_prefix("r#").unwrap_or(name);
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    while out.contains("__") {
        out = out.replace("__", "_");
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'v');
    }
    out
}

impl Namer {
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh name for the Rust identifier `name`.
    pub fn call(&mut self, name: &str) -> String {
        let mut base = sanitize(name);
        if is_reserved(&base) {
            // Keywords and built-ins get a trailing `_`; reserved prefixes a
            // leading `v`.
            let suffixed = format!("{base}_");
            base = if is_reserved(&suffixed) {
                format!("v{}{base}", if base.starts_with('_') { "" } else { "_" })
            } else {
                suffixed
            };
        }
        self.unique(base)
    }

    /// A fresh name for an internal entity whose base name is already a C
    /// identifier, possibly with a reserved prefix (`rk_arr4_f32`).
    pub fn internal(&mut self, base: &str) -> String {
        self.unique(base.to_string())
    }

    /// A fresh temporary: `_t0`, `_t1`, ….
    pub fn temp(&mut self) -> String {
        loop {
            let name = format!("_t{}", self.next_temp);
            self.next_temp += 1;
            if self.used.insert(name.clone()) {
                return name;
            }
        }
    }

    /// Marks `name` as taken exactly (an entry symbol). Returns `false` if it
    /// was already taken.
    pub fn reserve_exact(&mut self, name: &str) -> bool {
        self.used.insert(name.to_string())
    }

    /// Whether `name` could be used verbatim: a C identifier, not reserved.
    pub fn is_usable(name: &str) -> bool {
        !name.is_empty()
            && sanitize(name) == name
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && !is_reserved(name)
    }

    fn unique(&mut self, base: String) -> String {
        if self.used.insert(base.clone()) {
            return base;
        }
        let mut n = 1u32;
        loop {
            let name = format!("{base}_{n}");
            if self.used.insert(name.clone()) {
                return name;
            }
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_plain_names_and_suffixes_collisions() {
        let mut namer = Namer::new();
        assert_eq!(namer.call("x"), "x");
        assert_eq!(namer.call("x"), "x_1");
        assert_eq!(namer.call("x_1"), "x_1_1");
        assert_eq!(namer.call("x"), "x_2");
    }

    #[test]
    fn reserved_names_are_renamed() {
        let mut namer = Namer::new();
        assert_eq!(namer.call("class"), "class_");
        assert_eq!(namer.call("threadIdx"), "threadIdx_");
        assert_eq!(namer.call("sqrtf"), "sqrtf_");
        assert_eq!(namer.call("float4"), "float4_");
        assert_eq!(namer.call("rk_x"), "v_rk_x");
        assert!(!namer.call("RK_X").to_ascii_lowercase().starts_with("rk_"));
        assert_eq!(namer.call("a__b"), "a_b");
        assert_eq!(namer.call("_Foo"), "v_Foo");
        assert_eq!(namer.call("r#type"), "type");
        assert_eq!(namer.call("größe"), "gr_e");
        assert_eq!(namer.call("9lives"), "v9lives");
    }

    #[test]
    fn temporaries_skip_taken_names() {
        let mut namer = Namer::new();
        assert_eq!(namer.call("_t0"), "_t0");
        assert_eq!(namer.temp(), "_t1");
        assert_eq!(namer.temp(), "_t2");
    }

    #[test]
    fn usable_entry_names() {
        assert!(Namer::is_usable("saxpy"));
        assert!(!Namer::is_usable("class"));
        assert!(!Namer::is_usable("rk_main"));
        assert!(!Namer::is_usable("a-b"));
        assert!(!Namer::is_usable("1a"));
    }
}
