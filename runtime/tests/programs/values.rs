//! The differential program suite's values: a generator per scalar type
//! (random bits, edge values, poison), `with_scalar!` (a scalar's Rust type
//! by name), and one launch's inputs as host bytes.

use super::*;

/// Values of one scalar type: random bits, edge values, poison.
pub trait Gen: Copy + ringkernel_runtime::DeviceCopy + std::fmt::Debug {
    const FLOAT: bool;
    fn from_bits(bits: u64) -> Self;
    fn edges() -> Vec<Self>;
    /// A random value of a moderate size: floats in [-100, 100), integers
    /// any.
    fn moderate(bits: u64) -> Self {
        Self::from_bits(bits)
    }
    fn to_bytes(self) -> Vec<u8>;
    fn from_bytes(bytes: &[u8]) -> Self;
    fn is_nan(self) -> bool {
        false
    }
}

macro_rules! int_gen {
    ($($t:ty),*) => {$(
        impl Gen for $t {
            const FLOAT: bool = false;
            fn from_bits(bits: u64) -> Self {
                bits as $t
            }
            fn edges() -> Vec<Self> {
                #[allow(unused_comparisons)]
                let signed = <$t>::MIN < (0 as $t);
                let mut v = vec![0 as $t, 1 as $t, <$t>::MAX, <$t>::MIN, <$t>::MAX - 1, 2 as $t, 3 as $t];
                v.push(if signed { (0 as $t).wrapping_sub(1) } else { <$t>::MAX / 2 });
                v
            }
            fn to_bytes(self) -> Vec<u8> {
                self.to_le_bytes().to_vec()
            }
            fn from_bytes(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().expect("element size"))
            }
        }
    )*};
}
int_gen!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

macro_rules! float_gen {
    ($($t:ident $bits:ident),*) => {$(
        impl Gen for $t {
            const FLOAT: bool = true;
            fn from_bits(bits: u64) -> Self {
                $t::from_bits(bits as $bits)
            }
            fn moderate(bits: u64) -> Self {
                ((bits >> 11) as f64 / (1u64 << 53) as f64 * 200.0 - 100.0) as $t
            }
            fn edges() -> Vec<Self> {
                vec![
                    0.0, -0.0, 1.0, -1.0, $t::NAN, $t::INFINITY, $t::NEG_INFINITY,
                    $t::MAX, $t::MIN, $t::MIN_POSITIVE, $t::from_bits(1), 0.5, 2.5, -2.5,
                    255.5, 256.0, 2147483648.0, -2147483904.0,
                ]
            }
            fn to_bytes(self) -> Vec<u8> {
                self.to_le_bytes().to_vec()
            }
            fn from_bytes(bytes: &[u8]) -> Self {
                $t::from_le_bytes(bytes.try_into().expect("element size"))
            }
            fn is_nan(self) -> bool {
                $t::is_nan(self)
            }
        }
    )*};
}
float_gen!(f32 u32, f64 u64);

impl Gen for bool {
    const FLOAT: bool = false;
    fn from_bits(bits: u64) -> Self {
        bits & 1 == 1
    }
    fn edges() -> Vec<Self> {
        vec![false, true]
    }
    fn to_bytes(self) -> Vec<u8> {
        vec![u8::from(self)]
    }
    fn from_bytes(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }
}

/// `f!(scalar, T => expr)`: `expr` with `T` the Rust type of `scalar`.
macro_rules! with_scalar {
    ($s:expr, $T:ident => $e:expr) => {
        match $s.rust_name() {
            "bool" => { type $T = bool; $e }
            "i8" => { type $T = i8; $e }
            "i16" => { type $T = i16; $e }
            "i32" => { type $T = i32; $e }
            "i64" => { type $T = i64; $e }
            "isize" => { type $T = isize; $e }
            "u8" => { type $T = u8; $e }
            "u16" => { type $T = u16; $e }
            "u32" => { type $T = u32; $e }
            "u64" => { type $T = u64; $e }
            "usize" => { type $T = usize; $e }
            "f32" => { type $T = f32; $e }
            "f64" => { type $T = f64; $e }
            other => panic!("no generator for `{other}`"),
        }
    };
}

/// One launch's inputs, as host values (little-endian bytes per element).
#[derive(Clone)]
pub enum Input {
    Scalar(Scalar, Vec<u8>),
    Slice {
        elem: Scalar,
        mutable: bool,
        bytes: Vec<u8>,
    },
}

/// `n` random elements, one in eight an edge value; `wild`: the others
/// random bits, else moderate values.
pub fn random_elems<T: Gen>(rng: &mut common::Rng, n: usize, wild: bool) -> Vec<u8> {
    let edges = T::edges();
    (0..n)
        .flat_map(|_| {
            let bits = rng.next_u64();
            // One element in eight is an edge value.
            if bits % 8 == 0 {
                edges[(bits >> 8) as usize % edges.len()].to_bytes()
            } else if wild {
                T::from_bits(rng.next_u64()).to_bytes()
            } else {
                T::moderate(rng.next_u64()).to_bytes()
            }
        })
        .collect()
}

pub fn poison(elem: Scalar, n: usize) -> Vec<u8> {
    if elem == Scalar::Bool {
        return vec![1; n];
    }
    vec![POISON; n * elem.size() as usize]
}
