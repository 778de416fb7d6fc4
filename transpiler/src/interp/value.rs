//! Host-side values: what a caller hands the interpreter and gets back.
//!
//! Inside the interpreter every scalar is a `u64` in *canonical form*:
//! integers sign- or zero-extended from their width (what `v as u64` does in
//! Rust), `f32` as its bit pattern in the low 32 bits, `f64` as its bits,
//! `bool` as 0 or 1. Canonical form lets one compiled closure type carry every
//! scalar without boxing, and makes `as`-style truncation the decoding step.
//! Memory (locals, shared arrays, buffers) is little-endian bytes laid out
//! exactly as the IR's host layouts say, so a `#[repr(C)]` struct's bytes can
//! be handed in and read back unchanged.

use crate::ir::{FloatKind, IntKind, Scalar};

/// A typed scalar, for kernel arguments and results.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    Isize(i64),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    Usize(u64),
    F32(f32),
    F64(f64),
}

impl Value {
    pub fn scalar(self) -> Scalar {
        match self {
            Value::Bool(_) => Scalar::Bool,
            Value::I8(_) => Scalar::Int(IntKind::I8),
            Value::I16(_) => Scalar::Int(IntKind::I16),
            Value::I32(_) => Scalar::Int(IntKind::I32),
            Value::I64(_) => Scalar::Int(IntKind::I64),
            Value::Isize(_) => Scalar::Int(IntKind::Isize),
            Value::U8(_) => Scalar::Int(IntKind::U8),
            Value::U16(_) => Scalar::Int(IntKind::U16),
            Value::U32(_) => Scalar::Int(IntKind::U32),
            Value::U64(_) => Scalar::Int(IntKind::U64),
            Value::Usize(_) => Scalar::Int(IntKind::Usize),
            Value::F32(_) => Scalar::Float(FloatKind::F32),
            Value::F64(_) => Scalar::Float(FloatKind::F64),
        }
    }

    /// The canonical `u64` form (see the module docs).
    pub(crate) fn to_bits(self) -> u64 {
        match self {
            Value::Bool(v) => u64::from(v),
            Value::I8(v) => v as u64,
            Value::I16(v) => v as u64,
            Value::I32(v) => v as u64,
            Value::I64(v) | Value::Isize(v) => v as u64,
            Value::U8(v) => u64::from(v),
            Value::U16(v) => u64::from(v),
            Value::U32(v) => u64::from(v),
            Value::U64(v) | Value::Usize(v) => v,
            Value::F32(v) => u64::from(v.to_bits()),
            Value::F64(v) => v.to_bits(),
        }
    }

    /// Decodes a canonical `u64` of type `scalar`.
    pub(crate) fn from_bits(scalar: Scalar, bits: u64) -> Value {
        match scalar {
            Scalar::Bool => Value::Bool(bits != 0),
            Scalar::Int(k) => match k {
                IntKind::I8 => Value::I8(bits as i8),
                IntKind::I16 => Value::I16(bits as i16),
                IntKind::I32 => Value::I32(bits as i32),
                IntKind::I64 => Value::I64(bits as i64),
                IntKind::Isize => Value::Isize(bits as i64),
                IntKind::U8 => Value::U8(bits as u8),
                IntKind::U16 => Value::U16(bits as u16),
                IntKind::U32 => Value::U32(bits as u32),
                IntKind::U64 => Value::U64(bits),
                IntKind::Usize => Value::Usize(bits),
            },
            Scalar::Float(FloatKind::F32) => Value::F32(f32::from_bits(bits as u32)),
            Scalar::Float(FloatKind::F64) => Value::F64(f64::from_bits(bits)),
        }
    }

    /// Reads a value of type `scalar` from little-endian bytes (at least
    /// `scalar.size()` of them).
    pub fn from_le_bytes(scalar: Scalar, bytes: &[u8]) -> Option<Value> {
        let size = scalar.size() as usize;
        let bytes = bytes.get(..size)?;
        Some(Value::from_bits(scalar, loader(scalar)(bytes)))
    }

    /// The little-endian bytes of the value.
    pub fn to_le_bytes(self) -> Vec<u8> {
        let mut out = vec![0; self.scalar().size() as usize];
        storer(self.scalar())(&mut out, self.to_bits());
        out
    }
}

/// A function reading a canonical scalar from exactly its bytes.
pub(crate) type LoadFn = fn(&[u8]) -> u64;
/// A function writing a canonical scalar into exactly its bytes.
pub(crate) type StoreFn = fn(&mut [u8], u64);

fn ld_bool(b: &[u8]) -> u64 {
    u64::from(b[0] != 0)
}
fn ld_u8(b: &[u8]) -> u64 {
    u64::from(b[0])
}
fn ld_i8(b: &[u8]) -> u64 {
    b[0] as i8 as u64
}
fn ld_u16(b: &[u8]) -> u64 {
    u64::from(u16::from_le_bytes([b[0], b[1]]))
}
fn ld_i16(b: &[u8]) -> u64 {
    i16::from_le_bytes([b[0], b[1]]) as u64
}
fn ld_u32(b: &[u8]) -> u64 {
    u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}
fn ld_i32(b: &[u8]) -> u64 {
    i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64
}
fn ld_u64(b: &[u8]) -> u64 {
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}
fn st_1(b: &mut [u8], v: u64) {
    b[0] = v as u8;
}
fn st_2(b: &mut [u8], v: u64) {
    b[..2].copy_from_slice(&(v as u16).to_le_bytes());
}
fn st_4(b: &mut [u8], v: u64) {
    b[..4].copy_from_slice(&(v as u32).to_le_bytes());
}
fn st_8(b: &mut [u8], v: u64) {
    b[..8].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn loader(scalar: Scalar) -> LoadFn {
    match scalar {
        Scalar::Bool => ld_bool,
        Scalar::Int(k) => match (k.bits(), k.signed()) {
            (8, false) => ld_u8,
            (8, true) => ld_i8,
            (16, false) => ld_u16,
            (16, true) => ld_i16,
            (32, false) => ld_u32,
            (32, true) => ld_i32,
            _ => ld_u64,
        },
        Scalar::Float(FloatKind::F32) => ld_u32,
        Scalar::Float(FloatKind::F64) => ld_u64,
    }
}

pub(crate) fn storer(scalar: Scalar) -> StoreFn {
    match scalar.size() {
        1 => st_1,
        2 => st_2,
        4 => st_4,
        _ => st_8,
    }
}

/// Rust scalar types that can fill and read [`Buffer`]s.
pub trait HostScalar: Copy {
    const SCALAR: Scalar;
    fn to_value(self) -> Value;
    fn from_value(value: Value) -> Option<Self>;
}

macro_rules! host_scalar {
    ($($t:ty => $variant:ident, $scalar:expr;)*) => {$(
        impl HostScalar for $t {
            const SCALAR: Scalar = $scalar;
            fn to_value(self) -> Value {
                Value::$variant(self)
            }
            fn from_value(value: Value) -> Option<Self> {
                match value {
                    Value::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    )*};
}

host_scalar! {
    bool => Bool, Scalar::Bool;
    i8 => I8, Scalar::Int(IntKind::I8);
    i16 => I16, Scalar::Int(IntKind::I16);
    i32 => I32, Scalar::Int(IntKind::I32);
    i64 => I64, Scalar::Int(IntKind::I64);
    u8 => U8, Scalar::Int(IntKind::U8);
    u16 => U16, Scalar::Int(IntKind::U16);
    u32 => U32, Scalar::Int(IntKind::U32);
    u64 => U64, Scalar::Int(IntKind::U64);
    f32 => F32, Scalar::Float(FloatKind::F32);
    f64 => F64, Scalar::Float(FloatKind::F64);
}

/// Host memory behind a slice (`&[T]`, `&mut [T]`) or reference (`&T`,
/// `&mut T`) parameter: little-endian bytes in the IR's layout, optionally
/// tagged with the scalar element type so mismatches are reported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Buffer {
    pub(crate) bytes: Vec<u8>,
    pub(crate) elem: Option<Scalar>,
}

impl Buffer {
    /// Raw bytes (structs, or anything laid out by the caller).
    pub fn from_bytes(bytes: Vec<u8>) -> Buffer {
        Buffer { bytes, elem: None }
    }

    pub fn from_slice<T: HostScalar>(values: &[T]) -> Buffer {
        let size = T::SCALAR.size() as usize;
        let store = storer(T::SCALAR);
        let mut bytes = vec![0; values.len() * size];
        for (chunk, v) in bytes.chunks_exact_mut(size).zip(values) {
            store(chunk, v.to_value().to_bits());
        }
        Buffer {
            bytes,
            elem: Some(T::SCALAR),
        }
    }

    /// The contents as `T`s, if the byte length is a multiple of `T`'s size.
    pub fn to_vec<T: HostScalar>(&self) -> Option<Vec<T>> {
        let size = T::SCALAR.size() as usize;
        if self.bytes.len() % size != 0 {
            return None;
        }
        let load = loader(T::SCALAR);
        self.bytes
            .chunks_exact(size)
            .map(|c| T::from_value(Value::from_bits(T::SCALAR, load(c))))
            .collect()
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The scalar element type the buffer was made from, if any.
    pub fn elem(&self) -> Option<Scalar> {
        self.elem
    }
}

/// One kernel or function argument, in parameter order.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A scalar parameter.
    Value(Value),
    /// A slice or reference parameter. Written back in place after the run.
    Buffer(Buffer),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_round_trip() {
        for v in [
            Value::I8(-3),
            Value::U16(65535),
            Value::I32(i32::MIN),
            Value::F32(-0.0),
            Value::F64(f64::NAN),
            Value::Bool(true),
        ] {
            let back = Value::from_le_bytes(v.scalar(), &v.to_le_bytes()).unwrap();
            assert_eq!(back.to_bits(), v.to_bits());
        }
        let b = Buffer::from_slice(&[1.5f32, -2.0]);
        assert_eq!(b.to_vec::<f32>().unwrap(), [1.5, -2.0]);
    }
}
