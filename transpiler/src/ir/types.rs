//! IR types. Interned in [`super::Module::types`], so equal types have equal
//! handles.

use crate::arena::Handle;

/// Integer types. `Isize`/`Usize` are 64-bit on the device but distinct
/// types, as in Rust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IntKind {
    I8,
    I16,
    I32,
    I64,
    Isize,
    U8,
    U16,
    U32,
    U64,
    Usize,
}

impl IntKind {
    pub const ALL: [IntKind; 10] = [
        IntKind::I8,
        IntKind::I16,
        IntKind::I32,
        IntKind::I64,
        IntKind::Isize,
        IntKind::U8,
        IntKind::U16,
        IntKind::U32,
        IntKind::U64,
        IntKind::Usize,
    ];

    pub fn bits(self) -> u32 {
        match self {
            IntKind::I8 | IntKind::U8 => 8,
            IntKind::I16 | IntKind::U16 => 16,
            IntKind::I32 | IntKind::U32 => 32,
            IntKind::I64 | IntKind::U64 | IntKind::Isize | IntKind::Usize => 64,
        }
    }

    pub fn signed(self) -> bool {
        matches!(
            self,
            IntKind::I8 | IntKind::I16 | IntKind::I32 | IntKind::I64 | IntKind::Isize
        )
    }

    pub fn min_value(self) -> i128 {
        if self.signed() {
            -(1i128 << (self.bits() - 1))
        } else {
            0
        }
    }

    pub fn max_value(self) -> i128 {
        if self.signed() {
            (1i128 << (self.bits() - 1)) - 1
        } else {
            (1i128 << self.bits()) - 1
        }
    }

    /// Reduces `value` modulo 2^bits into this type's range (what `as` does).
    pub fn wrap(self, value: i128) -> i128 {
        let bits = self.bits();
        let mask = (1i128 << bits) - 1;
        let low = value & mask;
        if self.signed() && low > self.max_value() {
            low - (1i128 << bits)
        } else {
            low
        }
    }

    /// The Rust spelling.
    pub fn rust_name(self) -> &'static str {
        match self {
            IntKind::I8 => "i8",
            IntKind::I16 => "i16",
            IntKind::I32 => "i32",
            IntKind::I64 => "i64",
            IntKind::Isize => "isize",
            IntKind::U8 => "u8",
            IntKind::U16 => "u16",
            IntKind::U32 => "u32",
            IntKind::U64 => "u64",
            IntKind::Usize => "usize",
        }
    }

    pub fn from_rust_name(name: &str) -> Option<IntKind> {
        IntKind::ALL.into_iter().find(|k| k.rust_name() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FloatKind {
    F32,
    F64,
}

impl FloatKind {
    pub fn rust_name(self) -> &'static str {
        match self {
            FloatKind::F32 => "f32",
            FloatKind::F64 => "f64",
        }
    }
}

/// A scalar: what casts, literals and arithmetic work on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scalar {
    Bool,
    Int(IntKind),
    Float(FloatKind),
}

impl Scalar {
    pub fn rust_name(self) -> &'static str {
        match self {
            Scalar::Bool => "bool",
            Scalar::Int(k) => k.rust_name(),
            Scalar::Float(k) => k.rust_name(),
        }
    }

    pub fn from_rust_name(name: &str) -> Option<Scalar> {
        match name {
            "bool" => Some(Scalar::Bool),
            "f32" => Some(Scalar::Float(FloatKind::F32)),
            "f64" => Some(Scalar::Float(FloatKind::F64)),
            _ => IntKind::from_rust_name(name).map(Scalar::Int),
        }
    }

    /// Size in bytes on host and device.
    pub fn size(self) -> u64 {
        match self {
            Scalar::Bool => 1,
            Scalar::Int(k) => u64::from(k.bits() / 8),
            Scalar::Float(FloatKind::F32) => 4,
            Scalar::Float(FloatKind::F64) => 8,
        }
    }
}

/// An IR type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// `()`: the result of functions that return nothing.
    Unit,
    Scalar(Scalar),
    /// `[T; N]`.
    Array {
        elem: Handle<Type>,
        len: u64,
    },
    /// A `#[repr(C)]` struct whose layout came from the host (the derives).
    Struct(StructType),
    /// `&[T]` / `&mut [T]` kernel parameters: a device pointer and a length.
    Slice {
        elem: Handle<Type>,
        mutable: bool,
    },
    /// `&T` / `&mut T`: handler parameters (message, state). Places through a
    /// reference are reached with [`super::Expression::Deref`].
    Ref {
        target: Handle<Type>,
        mutable: bool,
    },
}

/// A struct with its host layout. The back end emits the CUDA struct from it
/// and pins size and every offset with `static_assert`s.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StructType {
    pub name: String,
    pub size: u64,
    pub align: u64,
    pub members: Vec<StructMember>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StructMember {
    pub name: String,
    pub ty: Handle<Type>,
    pub offset: u64,
}
