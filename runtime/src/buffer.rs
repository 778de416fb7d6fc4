//! [`DeviceBuffer`]: a typed array in the runtime's device memory (GPU
//! memory on CUDA, host memory on the CPU backend), and [`DeviceCopy`], the
//! promise that makes copying its elements as bytes sound.

use std::marker::PhantomData;
use std::sync::Arc;

use ringkernel_transpiler::ir::{FloatKind, IntKind, Scalar};

use crate::cuda::device::CudaDevice;
use crate::cuda::memory::DeviceAlloc;
use crate::error::{Error, Result};

/// Plain data that can be copied to and from a device as raw bytes.
///
/// # Safety
/// Implementors promise that
/// - every byte of a value is initialised (no padding): buffers are copied
///   byte for byte, and the CPU backend reads those bytes;
/// - every byte pattern a kernel can write for the type is a valid value.
///   For `bool` that is 0 and 1, the only values generated code stores.
///
/// The scalars, `bool` and arrays of `DeviceCopy` types implement it. The
/// `GpuType`/`RingMessage` derives implement it for `#[repr(C)]` structs
/// whose layout has no padding.
pub unsafe trait DeviceCopy: Copy + Send + Sync + 'static {
    /// The scalar this type is, so argument checks can tell `f32` from
    /// `i32`; `None` for arrays and structs (checked by size).
    const SCALAR: Option<Scalar> = None;
}

macro_rules! device_copy_scalars {
    ($($t:ty => $s:expr),* $(,)?) => {$(
        // SAFETY: a primitive without padding; kernels store only valid
        // values of it (see the trait docs for `bool`).
        unsafe impl DeviceCopy for $t {
            const SCALAR: Option<Scalar> = Some($s);
        }
    )*};
}

device_copy_scalars! {
    bool => Scalar::Bool,
    i8 => Scalar::Int(IntKind::I8),
    i16 => Scalar::Int(IntKind::I16),
    i32 => Scalar::Int(IntKind::I32),
    i64 => Scalar::Int(IntKind::I64),
    isize => Scalar::Int(IntKind::Isize),
    u8 => Scalar::Int(IntKind::U8),
    u16 => Scalar::Int(IntKind::U16),
    u32 => Scalar::Int(IntKind::U32),
    u64 => Scalar::Int(IntKind::U64),
    usize => Scalar::Int(IntKind::Usize),
    f32 => Scalar::Float(FloatKind::F32),
    f64 => Scalar::Float(FloatKind::F64),
}

// SAFETY: an array of padding-free elements has no padding, and its valid
// byte patterns are its elements'.
unsafe impl<T: DeviceCopy, const N: usize> DeviceCopy for [T; N] {}

/// The bytes of `values` (sound by [`DeviceCopy`]'s no-padding promise).
pub(crate) fn bytes_of<T: DeviceCopy>(values: &[T]) -> &[u8] {
    // SAFETY: `T: DeviceCopy` has no uninitialised bytes; the slice covers
    // exactly `values`' memory, borrowed for as long as `values`.
    unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), size_of_val(values)) }
}

/// Where a buffer's bytes live.
#[derive(Debug)]
pub(crate) enum Storage {
    Cuda(DeviceAlloc),
    /// CPU backend: host bytes in the element layout.
    Host(Vec<u8>),
}

/// A typed array in device memory. Created by [`crate::Runtime::upload`] or
/// [`crate::Runtime::alloc_zeroed`]; passed to kernels with
/// [`crate::KernelArg::slice`] / [`crate::KernelArg::slice_mut`].
#[derive(Debug)]
pub struct DeviceBuffer<T: DeviceCopy> {
    pub(crate) storage: Storage,
    len: usize,
    _elem: PhantomData<T>,
}

impl<T: DeviceCopy> DeviceBuffer<T> {
    pub(crate) fn upload_cuda(device: &Arc<CudaDevice>, values: &[T]) -> Result<Self> {
        let alloc = DeviceAlloc::new(device, size_of_val(values))?;
        // SAFETY: `values` has exactly the allocation's size in bytes.
        unsafe { alloc.copy_from_host(values.as_ptr().cast()) }?;
        Ok(Self::new(Storage::Cuda(alloc), values.len()))
    }

    pub(crate) fn zeroed_cuda(device: &Arc<CudaDevice>, len: usize) -> Result<Self> {
        let bytes = len
            .checked_mul(size_of::<T>())
            .expect("buffer size overflows usize");
        Ok(Self::new(
            Storage::Cuda(DeviceAlloc::zeroed(device, bytes)?),
            len,
        ))
    }

    pub(crate) fn upload_host(values: &[T]) -> Self {
        Self::new(Storage::Host(bytes_of(values).to_vec()), values.len())
    }

    pub(crate) fn zeroed_host(len: usize) -> Self {
        let bytes = len
            .checked_mul(size_of::<T>())
            .expect("buffer size overflows usize");
        Self::new(Storage::Host(vec![0; bytes]), len)
    }

    fn new(storage: Storage, len: usize) -> Self {
        DeviceBuffer {
            storage,
            len,
            _elem: PhantomData,
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The device address of the first element (CUDA buffers only; null
    /// for an empty buffer).
    pub fn device_ptr(&self) -> Option<u64> {
        match &self.storage {
            Storage::Cuda(alloc) => Some(alloc.ptr()),
            Storage::Host(_) => None,
        }
    }

    /// Copies the buffer to the host.
    pub fn to_vec(&self) -> Result<Vec<T>> {
        let mut out = Vec::<T>::with_capacity(self.len);
        let dst = out.as_mut_ptr().cast::<u8>();
        match &self.storage {
            // SAFETY: `out` has room for `len` elements = the allocation's bytes.
            Storage::Cuda(alloc) => unsafe { alloc.copy_to_host(dst) }?,
            // SAFETY: as above; `bytes` holds exactly `len` elements.
            Storage::Host(bytes) => unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len());
            },
        }
        // SAFETY: all `len` elements were written with bytes that came from
        // values of `T` or from a kernel, valid by `DeviceCopy`.
        unsafe { out.set_len(self.len) };
        Ok(out)
    }

    /// Overwrites the buffer with `values` (same length).
    pub fn copy_from(&mut self, values: &[T]) -> Result<()> {
        if values.len() != self.len {
            return Err(Error::LengthMismatch {
                buffer: self.len,
                host: values.len(),
            });
        }
        match &mut self.storage {
            // SAFETY: `values` has exactly the allocation's size in bytes.
            Storage::Cuda(alloc) => unsafe { alloc.copy_from_host(values.as_ptr().cast()) },
            Storage::Host(bytes) => {
                bytes.copy_from_slice(bytes_of(values));
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_buffers_round_trip() {
        let mut buf = DeviceBuffer::upload_host(&[1.5f32, -2.0, f32::NAN]);
        assert_eq!(buf.len(), 3);
        let back = buf.to_vec().unwrap();
        assert_eq!(back[..2], [1.5, -2.0]);
        assert!(back[2].is_nan());
        buf.copy_from(&[0.0, 1.0, 2.0]).unwrap();
        assert_eq!(buf.to_vec().unwrap(), [0.0, 1.0, 2.0]);
        assert!(matches!(
            buf.copy_from(&[1.0]),
            Err(Error::LengthMismatch { buffer: 3, host: 1 })
        ));
        let zeros = DeviceBuffer::<[u16; 3]>::zeroed_host(2);
        assert_eq!(zeros.to_vec().unwrap(), [[0; 3]; 2]);
        assert_eq!(zeros.device_ptr(), None);
    }
}
