//! What a launch is made of, independent of the backend: the [`Grid`]
//! (how many threads), the [`KernelArg`]s, and the check of those arguments
//! against the kernel's signature. A mismatch is an [`Error`] before
//! anything runs, never undefined behaviour on the device.

use ringkernel_transpiler::ir::Scalar;

use crate::buffer::{bytes_of, DeviceBuffer, DeviceCopy, Storage};
use crate::error::{Error, LaunchConfigError, Result};
use crate::kernel::{KernelSpec, ParamKind};

/// The most blocks along x (`2^31 - 1`) and along y and z (`65535`).
const MAX_GRID: [u64; 3] = [(1 << 31) - 1, 65535, 65535];

/// How many threads a launch runs. The block shape is the kernel's own (its
/// `block_size` or `block = (x, y, z)` attribute); the grid is made of
/// enough blocks to cover the threads asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid(Shape);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// At least this many threads in a 1-D grid.
    Elements(u64),
    /// At least this many threads along each axis.
    Threads([u64; 3]),
    /// Exactly this many blocks along each axis.
    Blocks([u32; 3]),
}

impl Grid {
    /// One thread per element: `ceil(n / block threads)` blocks along x.
    /// A grid of zero elements launches nothing.
    pub fn for_elements(n: usize) -> Grid {
        Grid(Shape::Elements(n as u64))
    }

    /// Exactly `blocks` blocks along x (for kernels that loop over their
    /// data with a grid stride, or want one block per item).
    pub fn d1(blocks: u32) -> Grid {
        Grid(Shape::Blocks([blocks, 1, 1]))
    }

    /// At least `w × h` threads: `ceil(w / block.x) × ceil(h / block.y)` blocks.
    pub fn d2(w: u32, h: u32) -> Grid {
        Grid(Shape::Threads([u64::from(w), u64::from(h), 1]))
    }

    /// At least `w × h × d` threads, rounded up to whole blocks per axis.
    pub fn d3(w: u32, h: u32, d: u32) -> Grid {
        Grid(Shape::Threads([u64::from(w), u64::from(h), u64::from(d)]))
    }

    /// Exactly `x × y × z` blocks.
    pub fn blocks(x: u32, y: u32, z: u32) -> Grid {
        Grid(Shape::Blocks([x, y, z]))
    }

    /// The grid in blocks for a kernel with `block`, or `None` when there
    /// is nothing to run (a zero size).
    pub fn dims(&self, block: [u32; 3]) -> Result<Option<[u32; 3]>, LaunchConfigError> {
        if block.contains(&0) {
            return Err(LaunchConfigError::EmptyBlock);
        }
        let blocks: [u64; 3] = match self.0 {
            Shape::Elements(n) => {
                let per_block: u64 = block.iter().map(|&d| u64::from(d)).product();
                [n.div_ceil(per_block), 1, 1]
            }
            Shape::Threads(t) => [0, 1, 2].map(|i| t[i].div_ceil(u64::from(block[i]))),
            Shape::Blocks(b) => b.map(u64::from),
        };
        if blocks.contains(&0) {
            return Ok(None);
        }
        let mut out = [0u32; 3];
        for (i, axis) in ['x', 'y', 'z'].into_iter().enumerate() {
            if blocks[i] > MAX_GRID[i] {
                return Err(LaunchConfigError::GridTooLarge {
                    axis,
                    blocks: blocks[i],
                    limit: MAX_GRID[i],
                });
            }
            out[i] = blocks[i] as u32;
        }
        Ok(Some(out))
    }
}

/// Rust scalar types that kernels take by value.
pub trait ScalarArg: DeviceCopy + sealed::Sealed {}

mod sealed {
    pub trait Sealed {}
}

macro_rules! scalar_args {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl ScalarArg for $t {}
    )*};
}
scalar_args!(bool, i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);

/// A slice argument's element type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Elem {
    pub(crate) size: usize,
    pub(crate) scalar: Option<Scalar>,
    pub(crate) name: &'static str,
}

impl Elem {
    fn of<T: DeviceCopy>() -> Elem {
        Elem {
            size: size_of::<T>(),
            scalar: T::SCALAR,
            name: std::any::type_name::<T>(),
        }
    }
}

/// One launch argument, in the kernel's parameter order.
#[derive(Debug)]
pub struct KernelArg<'a>(pub(crate) ArgKind<'a>);

#[derive(Debug)]
pub(crate) enum ArgKind<'a> {
    Scalar {
        scalar: Scalar,
        /// The value's little-endian bytes, zero-padded.
        bytes: [u8; 8],
    },
    Value {
        bytes: Vec<u8>,
        name: &'static str,
    },
    Slice {
        storage: &'a Storage,
        len: usize,
        elem: Elem,
    },
    SliceMut {
        storage: &'a mut Storage,
        len: usize,
        elem: Elem,
    },
}

impl<'a> KernelArg<'a> {
    /// A scalar parameter (`a: f32`, `n: u32`, `flag: bool`, …).
    pub fn scalar<T: ScalarArg>(value: T) -> KernelArg<'static> {
        let mut bytes = [0u8; 8];
        let src = bytes_of(std::slice::from_ref(&value));
        bytes[..src.len()].copy_from_slice(src);
        let scalar = T::SCALAR.expect("every ScalarArg is a scalar");
        KernelArg(ArgKind::Scalar { scalar, bytes })
    }

    /// A struct or array parameter passed by value.
    pub fn value<T: DeviceCopy>(value: T) -> KernelArg<'static> {
        KernelArg(ArgKind::Value {
            bytes: bytes_of(std::slice::from_ref(&value)).to_vec(),
            name: std::any::type_name::<T>(),
        })
    }

    /// A `&[T]` parameter.
    pub fn slice<T: DeviceCopy>(buffer: &'a DeviceBuffer<T>) -> KernelArg<'a> {
        KernelArg(ArgKind::Slice {
            storage: &buffer.storage,
            len: buffer.len(),
            elem: Elem::of::<T>(),
        })
    }

    /// A `&mut [T]` parameter.
    pub fn slice_mut<T: DeviceCopy>(buffer: &'a mut DeviceBuffer<T>) -> KernelArg<'a> {
        let len = buffer.len();
        KernelArg(ArgKind::SliceMut {
            storage: &mut buffer.storage,
            len,
            elem: Elem::of::<T>(),
        })
    }

    fn describe(&self) -> String {
        match &self.0 {
            ArgKind::Scalar { scalar, .. } => scalar.rust_name().to_string(),
            ArgKind::Value { name, .. } => format!("a `{name}` by value"),
            ArgKind::Slice { elem, .. } => format!("&[{}] (KernelArg::slice)", elem.name),
            ArgKind::SliceMut { elem, .. } => {
                format!("&mut [{}] (KernelArg::slice_mut)", elem.name)
            }
        }
    }
}

/// Checks `args` against `spec`'s parameters: count, kind, type, size.
pub(crate) fn check_args(kernel: &str, spec: &KernelSpec, args: &[KernelArg]) -> Result<()> {
    if args.len() != spec.params.len() {
        return Err(Error::ArgumentCount {
            kernel: kernel.to_string(),
            expected: spec.params.len(),
            found: args.len(),
        });
    }
    for (index, (param, arg)) in spec.params.iter().zip(args).enumerate() {
        let expected = match (&param.kind, &arg.0) {
            (ParamKind::Scalar(s), ArgKind::Scalar { scalar, .. }) if s == scalar => None,
            (ParamKind::Scalar(s), _) => Some(s.rust_name().to_string()),
            (ParamKind::Value { size, .. }, ArgKind::Value { bytes, .. })
                if bytes.len() as u64 == *size =>
            {
                None
            }
            (ParamKind::Value { ty, size }, _) => Some(format!("a `{ty}` ({size} bytes) by value")),
            (
                ParamKind::Slice {
                    elem_size,
                    elem_scalar,
                    elem_ty,
                    mutable,
                },
                arg,
            ) => {
                let (elem, is_mut) = match arg {
                    ArgKind::Slice { elem, .. } => (Some(elem), false),
                    ArgKind::SliceMut { elem, .. } => (Some(elem), true),
                    _ => (None, false),
                };
                let elem_ok =
                    elem.is_some_and(|e| e.scalar == *elem_scalar && e.size as u64 == *elem_size);
                // A `&mut` buffer may be passed where `&[T]` is expected.
                if elem_ok && (is_mut || !mutable) {
                    None
                } else if *mutable {
                    Some(format!("&mut [{elem_ty}] (KernelArg::slice_mut)"))
                } else {
                    Some(format!("&[{elem_ty}] (KernelArg::slice)"))
                }
            }
            (ParamKind::Reference { ty }, _) => Some(format!(
                "a reference to `{ty}` (handler parameters cannot be passed to a launch)"
            )),
        };
        if let Some(expected) = expected {
            return Err(Error::ArgumentMismatch {
                kernel: kernel.to_string(),
                index,
                param: param.name.clone(),
                expected,
                found: arg.describe(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_cover_their_threads_in_whole_blocks() {
        let b = [256, 1, 1];
        assert_eq!(Grid::for_elements(1000).dims(b), Ok(Some([4, 1, 1])));
        assert_eq!(Grid::for_elements(1024).dims(b), Ok(Some([4, 1, 1])));
        assert_eq!(Grid::for_elements(0).dims(b), Ok(None));
        assert_eq!(Grid::for_elements(100).dims([8, 8, 2]), Ok(Some([1, 1, 1])));
        assert_eq!(Grid::d1(7).dims(b), Ok(Some([7, 1, 1])));
        assert_eq!(Grid::d2(100, 33).dims([16, 16, 1]), Ok(Some([7, 3, 1])));
        assert_eq!(Grid::d3(8, 8, 9).dims([8, 8, 4]), Ok(Some([1, 1, 3])));
        assert_eq!(Grid::blocks(2, 3, 4).dims(b), Ok(Some([2, 3, 4])));
        assert_eq!(Grid::d2(0, 5).dims(b), Ok(None));
    }

    #[test]
    fn oversized_grids_and_empty_blocks_are_errors() {
        assert_eq!(
            Grid::for_elements(usize::MAX).dims([1, 1, 1]),
            Err(LaunchConfigError::GridTooLarge {
                axis: 'x',
                blocks: u64::MAX,
                limit: (1 << 31) - 1
            })
        );
        assert_eq!(
            Grid::d2(1, 70000).dims([1, 1, 1]),
            Err(LaunchConfigError::GridTooLarge {
                axis: 'y',
                blocks: 70000,
                limit: 65535
            })
        );
        assert_eq!(
            Grid::d1(1).dims([0, 1, 1]),
            Err(LaunchConfigError::EmptyBlock)
        );
    }

    #[test]
    fn scalars_keep_their_type_and_bytes() {
        let KernelArg(ArgKind::Scalar { scalar, bytes }) = KernelArg::scalar(-2i16) else {
            panic!("not a scalar");
        };
        assert_eq!(scalar.rust_name(), "i16");
        assert_eq!(bytes, [0xfe, 0xff, 0, 0, 0, 0, 0, 0]);
        let KernelArg(ArgKind::Scalar { bytes, .. }) = KernelArg::scalar(1.0f64) else {
            panic!("not a scalar");
        };
        assert_eq!(bytes, 1.0f64.to_le_bytes());
    }
}
