//! Kernel launches on a CUDA device: the synchronous launch that
//! [`crate::Runtime::launch`] uses (fault record in, fault record out), and
//! the asynchronous one the actor runtime uses for persistent kernels.

use std::ffi::c_void;
use std::mem::ManuallyDrop;
use std::sync::Arc;

use cudarc::driver::{sys, CudaEvent, CudaStream};
use ringkernel_transpiler::back::cuda::abi::FaultRecord;

use super::device::CudaDevice;
use super::memory::DeviceAlloc;
use super::module::KernelFunction;
use crate::error::{Error, LaunchConfigError, Result};

/// A CUDA stream of a runtime's device (non-blocking: never implicitly
/// ordered with the legacy default stream).
#[derive(Debug, Clone)]
pub struct Stream {
    stream: Arc<CudaStream>,
    device: Arc<CudaDevice>,
}

impl Stream {
    pub(crate) fn new(device: &Arc<CudaDevice>) -> Result<Stream> {
        let stream = device
            .ctx
            .new_stream()
            .map_err(|e| Error::driver("cuStreamCreate", e))?;
        Ok(Stream {
            stream,
            device: device.clone(),
        })
    }

    /// Waits for everything queued on the stream.
    pub fn synchronize(&self) -> Result<()> {
        self.stream
            .synchronize()
            .map_err(|e| Error::driver("cuStreamSynchronize", e))
    }

    /// The raw stream, for driver calls the runtime does not wrap. Valid
    /// while `self` lives.
    pub fn cu_stream(&self) -> sys::CUstream {
        self.stream.cu_stream()
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        if self.device.health.retired() {
            // Never destroy a stream of a reset context (its handle may
            // name a stream of the new one): leak it.
            std::mem::forget(self.stream.clone());
        }
    }
}

/// A launch in flight, from [`crate::Runtime::launch_raw`].
#[derive(Debug)]
pub struct LaunchHandle {
    event: ManuallyDrop<CudaEvent>,
    kernel: String,
    device: Arc<CudaDevice>,
}

impl Drop for LaunchHandle {
    fn drop(&mut self) {
        if !self.device.health.retired() {
            // SAFETY: dropped once, here; never used again.
            unsafe { ManuallyDrop::drop(&mut self.event) };
        }
    }
}

impl LaunchHandle {
    /// Whether the kernel has finished (without waiting). An error means
    /// the kernel failed; a hard fault (the context is lost) is also
    /// recorded on the device, which fails every actor handle of it.
    pub fn is_complete(&self) -> Result<bool> {
        if let Some(cause) = self.device.health.lost() {
            return Err(Error::ContextLost { cause });
        }
        self.event
            .try_is_complete()
            .map_err(|e| self.failed("cuEventQuery", e))
    }

    /// Waits until the kernel has finished.
    pub fn wait(&self) -> Result<()> {
        self.event
            .synchronize()
            .map_err(|e| self.failed("cuEventSynchronize", e))
    }

    /// The error of a failed query; a hard fault marks the context lost.
    fn failed(&self, call: &'static str, e: cudarc::driver::result::DriverError) -> Error {
        if super::recover::is_sticky(e.0) {
            let error = Error::driver(call, e);
            self.device
                .health
                .mark_lost(|| format!("kernel `{}` ended with a hard fault: {error}", self.kernel));
        }
        Error::driver(call, e)
    }

    pub fn kernel(&self) -> &str {
        &self.kernel
    }
}

/// Checks `block` against the kernel's limit and the device's.
pub(crate) fn check_block(kernel: &str, function: &KernelFunction, block: [u32; 3]) -> Result<()> {
    let threads: u64 = block.iter().map(|&d| u64::from(d)).product();
    let config = |reason| Error::LaunchConfig {
        kernel: kernel.to_string(),
        reason,
    };
    if threads == 0 {
        return Err(config(LaunchConfigError::EmptyBlock));
    }
    let limit = u64::from(function.max_threads_per_block);
    if threads > limit {
        return Err(config(LaunchConfigError::BlockTooLarge { threads, limit }));
    }
    Ok(())
}

/// Launches without waiting.
///
/// # Safety
/// `params` must point at one value per C parameter of the kernel, each of
/// the parameter's type, valid until the call returns (the driver copies
/// them); pointers inside must be device addresses valid for as long as the
/// kernel uses them.
pub(crate) unsafe fn launch_async(
    function: &KernelFunction,
    grid: [u32; 3],
    block: [u32; 3],
    shared_bytes: u32,
    stream: &Stream,
    params: &mut [*mut c_void],
) -> Result<LaunchHandle> {
    check_block(function.symbol(), function, block)?;
    if !Arc::ptr_eq(function.module().device(), &stream.device) {
        return Err(Error::DeviceMismatch {
            what: "the stream and the kernel",
        });
    }
    stream.device.bind()?;
    // SAFETY: forwarded to the caller; the function and stream are live and
    // belong to the context just made current.
    unsafe {
        raw_launch(
            function,
            grid,
            block,
            shared_bytes,
            stream.cu_stream(),
            params,
        )
    }?;
    let event = stream
        .stream
        .record_event(None)
        .map_err(|e| Error::driver("cuEventRecord", e))?;
    Ok(LaunchHandle {
        event: ManuallyDrop::new(event),
        kernel: function.symbol().to_string(),
        device: stream.device.clone(),
    })
}

/// # Safety
/// As [`launch_async`].
unsafe fn raw_launch(
    function: &KernelFunction,
    grid: [u32; 3],
    block: [u32; 3],
    shared_bytes: u32,
    stream: sys::CUstream,
    params: &mut [*mut c_void],
) -> Result<()> {
    // SAFETY: forwarded to the caller.
    let status = unsafe {
        sys::cuLaunchKernel(
            function.cu_function(),
            grid[0],
            grid[1],
            grid[2],
            block[0],
            block[1],
            block[2],
            shared_bytes,
            stream,
            params.as_mut_ptr(),
            std::ptr::null_mut(),
        )
    };
    status.result().map_err(|e| match e.0 {
        sys::CUresult::CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES => Error::LaunchConfig {
            kernel: function.symbol().to_string(),
            reason: LaunchConfigError::OutOfResources,
        },
        _ => Error::driver("cuLaunchKernel", e),
    })
}

/// Launches on the runtime's stream with a zeroed fault record as the last
/// parameter, waits, and returns the record.
///
/// # Safety
/// `params` must hold one value per C parameter except the last (the fault
/// record pointer, which this appends), as for [`launch_async`].
pub(crate) unsafe fn launch_sync(
    device: &Arc<CudaDevice>,
    function: &KernelFunction,
    grid: [u32; 3],
    block: [u32; 3],
    params: &mut Vec<*mut c_void>,
) -> Result<FaultRecord> {
    check_block(function.symbol(), function, block)?;
    // One fault record per launch: a launch after a failed one must not
    // see its record, and concurrent launches from other threads must not
    // share one. A 40-byte stream-ordered allocation is cheap.
    let record = DeviceAlloc::new(device, std::mem::size_of::<FaultRecord>())?;
    let stream = device.stream.cu_stream();
    device.bind()?;
    // SAFETY: the record is a live allocation of its size.
    unsafe { sys::cuMemsetD8Async(record.ptr(), 0, record.bytes(), stream) }
        .result()
        .map_err(|e| Error::driver("cuMemsetD8Async", e))?;
    let mut record_ptr: sys::CUdeviceptr = record.ptr();
    params.push((&raw mut record_ptr).cast::<c_void>());
    // SAFETY: the caller vouches for the other parameters; the last is the
    // record's device address, alive until after the synchronisation.
    let launched = unsafe { raw_launch(function, grid, block, 0, stream, params) };
    params.pop();
    launched?;
    let mut fault = FaultRecord::default();
    // SAFETY: copies the record into `fault`, which has its size; the
    // stream is synchronised before `fault` is read.
    unsafe {
        sys::cuMemcpyDtoHAsync_v2(
            (&raw mut fault).cast::<c_void>(),
            record.ptr(),
            record.bytes(),
            stream,
        )
    }
    .result()
    .map_err(|e| Error::driver("cuMemcpyDtoHAsync", e))?;
    device
        .stream
        .synchronize()
        .map_err(|e| Error::driver("kernel execution (cuStreamSynchronize)", e))?;
    Ok(fault)
}
