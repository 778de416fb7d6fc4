//! The arithmetic of warp and block collectives, in the device's order.
//!
//! Float reductions are not associative, so the order is part of the
//! semantics: the interpreter must produce the CUDA back end's bits. Both
//! implement (and the back end documents) this order:
//!
//! - **warp reduce**: a shuffle-xor butterfly over the 32 lanes. For offset
//!   in 16, 8, 4, 2, 1 every lane computes `v = op(v, shfl_xor(v, offset))`
//!   (own value on the left). Each lane keeps its own result (they agree
//!   bit for bit for `+`, `min`, `max`). Lanes that do not take part (past
//!   the end of a partial warp, finished, or faulted) contribute the
//!   identity: `0` (`+0.0` for floats) for sum, the type's maximum (`+inf`)
//!   for min, its minimum (`-inf`) for max.
//! - **block reduce**: a warp reduce in every warp; lane 0 of warp `w`
//!   holds partial `p[w]`; then the partials are folded left to right,
//!   `r = p[0] op p[1] op ... op p[warps - 1]`, and `r` is every thread's
//!   result (`rk_block_reduce_*` in `transpiler/cuda/rk_rust.cuh`: lane 0s
//!   store to shared scratch, barrier, every thread folds, barrier).
//!
//! Integer sums wrap; float `min`/`max` are Rust's (`fminf`/`fmaxf`: a NaN
//! operand yields the other one).

use crate::ir::{FloatKind, IntKind, MathFunction, ReduceOp, Scalar, ShuffleMode};

use super::math::{math, MathImpl};

/// A reduction's combining function on canonical scalars.
pub(crate) type Combine = fn(u64, u64) -> u64;

/// The combining function and identity of a reduction over `scalar`.
pub(crate) fn reducer(op: ReduceOp, scalar: Scalar) -> Option<(Combine, u64)> {
    let identity = match (op, scalar) {
        (_, Scalar::Bool) => return None,
        (ReduceOp::Sum, _) => 0,
        (ReduceOp::Min, Scalar::Int(k)) => int_bits(k, k.max_value()),
        (ReduceOp::Max, Scalar::Int(k)) => int_bits(k, k.min_value()),
        (ReduceOp::Min, Scalar::Float(FloatKind::F32)) => u64::from(f32::INFINITY.to_bits()),
        (ReduceOp::Max, Scalar::Float(FloatKind::F32)) => u64::from(f32::NEG_INFINITY.to_bits()),
        (ReduceOp::Min, Scalar::Float(FloatKind::F64)) => f64::INFINITY.to_bits(),
        (ReduceOp::Max, Scalar::Float(FloatKind::F64)) => f64::NEG_INFINITY.to_bits(),
    };
    let f: fn(u64, u64) -> u64 = match op {
        ReduceOp::Sum => match scalar {
            Scalar::Float(FloatKind::F32) => {
                |a, b| u64::from((f32::from_bits(a as u32) + f32::from_bits(b as u32)).to_bits())
            }
            Scalar::Float(FloatKind::F64) => {
                |a, b| (f64::from_bits(a) + f64::from_bits(b)).to_bits()
            }
            _ => int_add(scalar)?,
        },
        ReduceOp::Min => match math(MathFunction::Min, scalar)? {
            MathImpl::Bin(f) => f,
            _ => return None,
        },
        ReduceOp::Max => match math(MathFunction::Max, scalar)? {
            MathImpl::Bin(f) => f,
            _ => return None,
        },
    };
    Some((f, identity))
}

fn int_bits(k: IntKind, v: i128) -> u64 {
    k.wrap(v) as u64
}

fn int_add(scalar: Scalar) -> Option<fn(u64, u64) -> u64> {
    let Scalar::Int(k) = scalar else { return None };
    Some(match k.bits() {
        8 if k.signed() => |a, b| (a as i8).wrapping_add(b as i8) as u64,
        8 => |a, b| u64::from((a as u8).wrapping_add(b as u8)),
        16 if k.signed() => |a, b| (a as i16).wrapping_add(b as i16) as u64,
        16 => |a, b| u64::from((a as u16).wrapping_add(b as u16)),
        32 if k.signed() => |a, b| (a as i32).wrapping_add(b as i32) as u64,
        32 => |a, b| u64::from((a as u32).wrapping_add(b as u32)),
        _ => |a, b| a.wrapping_add(b),
    })
}

/// The shuffle-xor butterfly over 32 lanes (see the module docs).
pub(crate) fn butterfly(vals: &mut [u64; 32], f: fn(u64, u64) -> u64) {
    for offset in [16, 8, 4, 2, 1] {
        let prev = *vals;
        for (lane, v) in vals.iter_mut().enumerate() {
            *v = f(prev[lane], prev[lane ^ offset]);
        }
    }
}

/// The source lane of a shuffle by `lane`, or `None` for "keep own value"
/// (CUDA returns the caller's own value when the source is out of range).
/// `arg` is the lane/delta/mask operand as a signed value.
pub(crate) fn shuffle_source(mode: ShuffleMode, lane: u32, arg: i128) -> Option<u32> {
    let lane = i128::from(lane);
    let src = match mode {
        ShuffleMode::Index => arg.rem_euclid(32),
        ShuffleMode::Up => lane - arg,
        ShuffleMode::Down => lane + arg,
        ShuffleMode::Xor => lane ^ arg,
    };
    (0..32).contains(&src).then_some(src as u32)
}

/// The block reduction of per-warp partials (see the module docs).
pub(crate) fn fold_partials(partials: &[u64], f: Combine) -> u64 {
    partials[1..].iter().fold(partials[0], |r, &p| f(r, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn butterfly_float_sum_matches_the_tree_order() {
        let (f, id) = reducer(ReduceOp::Sum, Scalar::Float(FloatKind::F32)).unwrap();
        assert_eq!(id, 0);
        let xs: Vec<f32> = (0..32).map(|i| 1.0 / (i as f32 + 1.0)).collect();
        let mut vals = [0u64; 32];
        for (v, x) in vals.iter_mut().zip(&xs) {
            *v = u64::from(x.to_bits());
        }
        butterfly(&mut vals, f);
        // Reference: the same pairwise tree written out.
        let mut t = xs.clone();
        for off in [16, 8, 4, 2, 1] {
            let p = t.clone();
            for l in 0..32 {
                t[l] = p[l] + p[l ^ off];
            }
        }
        assert_eq!(f32::from_bits(vals[0] as u32), t[0]);
        assert!(vals.iter().all(|&v| v == vals[0]));
    }

    #[test]
    fn shuffle_sources() {
        assert_eq!(shuffle_source(ShuffleMode::Up, 3, 4), None);
        assert_eq!(shuffle_source(ShuffleMode::Down, 3, 4), Some(7));
        assert_eq!(shuffle_source(ShuffleMode::Index, 3, 33), Some(1));
        assert_eq!(shuffle_source(ShuffleMode::Xor, 3, 1), Some(2));
    }
}
