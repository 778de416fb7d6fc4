//! Raw CUDA memory: device allocations ([`DeviceAlloc`], behind
//! [`crate::DeviceBuffer`]) and mapped pinned host memory ([`MappedBuffer`]).
//!
//! Device memory is allocated and freed stream-ordered on the runtime's own
//! stream (`cuMemAllocAsync`/`cuMemFreeAsync`) where the device has memory
//! pools (every Volta-or-newer GPU). Plain `cuMemFree` may synchronise the
//! whole device, which would wait forever for a persistent kernel that is
//! still running; the stream-ordered free never waits for other streams.
//! Copies run on the runtime's stream too (a non-blocking stream, which the
//! legacy default stream of the synchronous `cuMemcpy*` calls would not be
//! ordered with), followed by a stream synchronisation.

use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::Arc;

use cudarc::driver::sys;

use super::device::CudaDevice;
use crate::error::{Error, Result};

/// `bytes` of device memory, freed on drop.
#[derive(Debug)]
pub(crate) struct DeviceAlloc {
    ptr: sys::CUdeviceptr,
    bytes: usize,
    device: Arc<CudaDevice>,
}

impl DeviceAlloc {
    /// Allocates `bytes` (uninitialised; 0 bytes allocates nothing and has
    /// the null pointer).
    pub(crate) fn new(device: &Arc<CudaDevice>, bytes: usize) -> Result<DeviceAlloc> {
        let mut ptr: sys::CUdeviceptr = 0;
        if bytes > 0 {
            device.bind()?;
            // SAFETY: `ptr` is a valid out-pointer; the stream belongs to
            // the context just made current.
            let status = unsafe {
                if device.async_alloc {
                    sys::cuMemAllocAsync(&mut ptr, bytes, device.stream.cu_stream())
                } else {
                    sys::cuMemAlloc_v2(&mut ptr, bytes)
                }
            };
            status
                .result()
                .map_err(|e| Error::driver("cuMemAlloc", e))?;
        }
        Ok(DeviceAlloc {
            ptr,
            bytes,
            device: device.clone(),
        })
    }

    /// Allocates `bytes` of zeros.
    pub(crate) fn zeroed(device: &Arc<CudaDevice>, bytes: usize) -> Result<DeviceAlloc> {
        let alloc = DeviceAlloc::new(device, bytes)?;
        alloc.memset_zero()?;
        Ok(alloc)
    }

    pub(crate) fn ptr(&self) -> sys::CUdeviceptr {
        self.ptr
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn device(&self) -> &Arc<CudaDevice> {
        &self.device
    }

    /// Fills the allocation with zeros and waits for it.
    pub(crate) fn memset_zero(&self) -> Result<()> {
        if self.bytes == 0 {
            return Ok(());
        }
        self.device.bind()?;
        // SAFETY: the range is this live allocation.
        unsafe { sys::cuMemsetD8Async(self.ptr, 0, self.bytes, self.device.stream.cu_stream()) }
            .result()
            .map_err(|e| Error::driver("cuMemsetD8Async", e))?;
        self.device.sync()
    }

    /// Copies `bytes` bytes from `src` into the allocation and waits.
    ///
    /// # Safety
    /// `src` must be valid for reads of `self.bytes()` bytes.
    pub(crate) unsafe fn copy_from_host(&self, src: *const u8) -> Result<()> {
        if self.bytes == 0 {
            return Ok(());
        }
        self.device.bind()?;
        // SAFETY: the caller vouches for `src`; the destination is this
        // allocation; the stream is synchronised before `src` can go away.
        unsafe {
            sys::cuMemcpyHtoDAsync_v2(
                self.ptr,
                src.cast::<c_void>(),
                self.bytes,
                self.device.stream.cu_stream(),
            )
        }
        .result()
        .map_err(|e| Error::driver("cuMemcpyHtoDAsync", e))?;
        self.device.sync()
    }

    /// Copies the allocation into `dst` and waits.
    ///
    /// # Safety
    /// `dst` must be valid for writes of `self.bytes()` bytes.
    pub(crate) unsafe fn copy_to_host(&self, dst: *mut u8) -> Result<()> {
        if self.bytes == 0 {
            return Ok(());
        }
        self.device.bind()?;
        // SAFETY: as in `copy_from_host`, reversed.
        unsafe {
            sys::cuMemcpyDtoHAsync_v2(
                dst.cast::<c_void>(),
                self.ptr,
                self.bytes,
                self.device.stream.cu_stream(),
            )
        }
        .result()
        .map_err(|e| Error::driver("cuMemcpyDtoHAsync", e))?;
        self.device.sync()
    }
}

impl Drop for DeviceAlloc {
    fn drop(&mut self) {
        // After recovery the address may belong to the new context.
        if self.bytes == 0 || self.device.health.retired() || self.device.bind().is_err() {
            return;
        }
        // SAFETY: allocated by `new` on this context, freed only here. The
        // runtime's stream orders the free after every copy and synchronous
        // launch that used it. Errors (a lost context) leave nothing to do.
        unsafe {
            let _ = if self.device.async_alloc {
                sys::cuMemFreeAsync(self.ptr, self.device.stream.cu_stream())
            } else {
                sys::cuMemFree_v2(self.ptr)
            };
        }
    }
}

/// Zeroed host memory that the device reads and writes directly over the
/// bus: `cuMemHostAlloc(DEVICEMAP | PORTABLE)`, page-locked and cached on the
/// host (not write-combined, which makes host reads of device-written data
/// uncached and very slow), with its device address from
/// `cuMemHostGetDevicePointer`.
///
/// This is where the actor runtime puts ring headers, ring slots and control
/// blocks: both sides poll them, neither copies. On the CPU backend the
/// "device" is the host: the memory is an ordinary zeroed host allocation
/// and [`device_ptr`](MappedBuffer::device_ptr) is its host address.
///
/// # Access
/// The host and the device touch the same bytes concurrently, so the buffer
/// never hands out `&[u8]` or `&mut [u8]` safely. Use the atomic views
/// ([`atomic_u32`](MappedBuffer::atomic_u32),
/// [`atomic_u64`](MappedBuffer::atomic_u64)) for indices and flags, and the
/// raw pointer or the `unsafe` slice views for payload bytes that a protocol
/// (such as the ring's publish/consume indices) gives one side at a time.
///
/// # Send and Sync
/// The buffer is an address range that stays valid until drop; it has no
/// thread affinity (`PORTABLE` makes it usable from every context, and a
/// host pointer is valid on every thread). Every access goes through atomics
/// or through `unsafe` functions whose callers take responsibility for
/// synchronisation, so sharing the handle between threads is sound.
///
/// # Drop
/// Frees the memory (`cuMemFreeHost`). The device must no longer use it:
/// the owner stops the kernels that poll it first.
#[derive(Debug)]
pub struct MappedBuffer {
    host: *mut u8,
    device: u64,
    len: usize,
    owner: MappedOwner,
}

#[derive(Debug)]
enum MappedOwner {
    Cuda(Arc<CudaDevice>),
    Host(std::alloc::Layout),
}

// SAFETY: see the type's docs: an address range with no thread affinity,
// reached only through atomics and `unsafe` accessors.
unsafe impl Send for MappedBuffer {}
// SAFETY: as above.
unsafe impl Sync for MappedBuffer {}

/// Alignment of CPU-backend mapped buffers (what `cuMemHostAlloc` gives: a page).
const HOST_ALIGN: usize = 4096;

impl MappedBuffer {
    /// `len` zeroed bytes of mapped pinned memory on `device`.
    pub(crate) fn cuda(device: &Arc<CudaDevice>, len: usize) -> Result<MappedBuffer> {
        let size = len.max(1);
        device.bind()?;
        let mut host: *mut c_void = std::ptr::null_mut();
        let flags = sys::CU_MEMHOSTALLOC_DEVICEMAP | sys::CU_MEMHOSTALLOC_PORTABLE;
        // SAFETY: `host` is a valid out-pointer; the context is current.
        unsafe { sys::cuMemHostAlloc(&mut host, size, flags) }
            .result()
            .map_err(|e| Error::driver("cuMemHostAlloc", e))?;
        let mut dptr: sys::CUdeviceptr = 0;
        // SAFETY: `host` was just allocated with DEVICEMAP; flags must be 0.
        let mapped = unsafe { sys::cuMemHostGetDevicePointer_v2(&mut dptr, host, 0) }.result();
        if let Err(e) = mapped {
            // SAFETY: allocated above, not yet shared.
            unsafe {
                let _ = sys::cuMemFreeHost(host);
            }
            return Err(Error::driver("cuMemHostGetDevicePointer", e));
        }
        // SAFETY: `size` bytes were just allocated at `host`.
        unsafe { std::ptr::write_bytes(host.cast::<u8>(), 0, size) };
        Ok(MappedBuffer {
            host: host.cast(),
            device: dptr,
            len,
            owner: MappedOwner::Cuda(device.clone()),
        })
    }

    /// `len` zeroed bytes of host memory for the CPU backend.
    pub(crate) fn host(len: usize) -> MappedBuffer {
        let layout = std::alloc::Layout::from_size_align(len.max(1), HOST_ALIGN)
            .expect("mapped buffer size overflows");
        // SAFETY: the layout has a non-zero size.
        let host = unsafe { std::alloc::alloc_zeroed(layout) };
        if host.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        MappedBuffer {
            host,
            device: host as u64,
            len,
            owner: MappedOwner::Host(layout),
        }
    }

    /// The host address of the first byte.
    pub fn host_ptr(&self) -> *mut u8 {
        self.host
    }

    /// The device address of the first byte (the host address on the CPU backend).
    pub fn device_ptr(&self) -> u64 {
        self.device
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `u64` at byte `offset` as an atomic (offset must be 8-aligned and
    /// in bounds; panics otherwise: a layout bug, not a runtime condition).
    pub fn atomic_u64(&self, offset: usize) -> &AtomicU64 {
        self.check(offset, 8);
        // SAFETY: in bounds and aligned (checked; the base is page-aligned);
        // the memory lives as long as `&self`; all concurrent host accesses
        // to it are atomic or `unsafe` by the type's contract.
        unsafe { &*self.host.add(offset).cast::<AtomicU64>() }
    }

    /// The `u32` at byte `offset` as an atomic (see [`Self::atomic_u64`]).
    pub fn atomic_u32(&self, offset: usize) -> &AtomicU32 {
        self.check(offset, 4);
        // SAFETY: as in `atomic_u64`.
        unsafe { &*self.host.add(offset).cast::<AtomicU32>() }
    }

    /// The bytes `range` as a slice.
    ///
    /// # Safety
    /// Nothing (host thread or device) may write those bytes while the slice lives.
    pub unsafe fn slice(&self, range: std::ops::Range<usize>) -> &[u8] {
        assert!(range.start <= range.end && range.end <= self.len);
        // SAFETY: in bounds; the caller excludes writers.
        unsafe { std::slice::from_raw_parts(self.host.add(range.start), range.len()) }
    }

    /// The bytes `range` as a mutable slice.
    ///
    /// # Safety
    /// Nothing else (host thread or device) may read or write those bytes
    /// while the slice lives.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn slice_mut(&self, range: std::ops::Range<usize>) -> &mut [u8] {
        assert!(range.start <= range.end && range.end <= self.len);
        // SAFETY: in bounds; the caller guarantees exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.host.add(range.start), range.len()) }
    }

    fn check(&self, offset: usize, size: usize) {
        assert!(
            offset % size == 0 && offset.checked_add(size).is_some_and(|end| end <= self.len),
            "mapped buffer access of {size} bytes at offset {offset} is misaligned or out of \
             bounds (len {})",
            self.len
        );
    }
}

impl Drop for MappedBuffer {
    fn drop(&mut self) {
        match &self.owner {
            MappedOwner::Cuda(device) => {
                // After recovery the reset freed it with the old context.
                if !device.health.retired() && device.bind().is_ok() {
                    // SAFETY: allocated by `cuMemHostAlloc`, freed only here;
                    // the owner has stopped the device's use (type docs).
                    unsafe {
                        let _ = sys::cuMemFreeHost(self.host.cast());
                    }
                }
            }
            // SAFETY: allocated with this layout by `host`, freed only here.
            MappedOwner::Host(layout) => unsafe { std::alloc::dealloc(self.host, *layout) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[test]
    fn host_mapped_buffers_are_zeroed_aligned_and_atomic() {
        let buf = MappedBuffer::host(256);
        assert_eq!(buf.len(), 256);
        assert_eq!(buf.host_ptr() as usize % HOST_ALIGN, 0);
        assert_eq!(buf.device_ptr(), buf.host_ptr() as u64);
        // SAFETY: no one else touches the buffer.
        assert!(unsafe { buf.slice(0..256) }.iter().all(|&b| b == 0));
        buf.atomic_u64(8)
            .store(0x1122_3344_5566_7788, Ordering::Release);
        buf.atomic_u32(4).store(7, Ordering::Release);
        // SAFETY: as above.
        let bytes = unsafe { buf.slice(0..16) };
        assert_eq!(&bytes[8..16], &0x1122_3344_5566_7788u64.to_le_bytes());
        assert_eq!(&bytes[4..8], &7u32.to_le_bytes());
    }

    #[test]
    #[should_panic(expected = "misaligned or out of bounds")]
    fn misaligned_atomics_panic() {
        MappedBuffer::host(64).atomic_u64(4);
    }

    #[test]
    #[should_panic(expected = "misaligned or out of bounds")]
    fn out_of_bounds_atomics_panic() {
        MappedBuffer::host(64).atomic_u64(64);
    }
}
