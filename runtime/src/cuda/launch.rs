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

/// The most blocks per cluster every cluster-capable device accepts (more
/// needs the non-portable opt-in, which the runtime does not make).
pub const MAX_PORTABLE_CLUSTER: u64 = 8;

/// Checks a cluster launch shape against the rules of the hardware: the
/// device has clusters (compute capability 9.0 or newer, `arch` being
/// (major, minor)), no cluster dimension is zero, the grid is a whole number
/// of clusters along every axis, and a cluster has at most
/// [`MAX_PORTABLE_CLUSTER`] blocks. Needs no device.
pub fn check_cluster(
    grid: [u32; 3],
    cluster: [u32; 3],
    arch: (u32, u32),
) -> std::result::Result<(), LaunchConfigError> {
    check_cluster_within(grid, cluster, arch, MAX_PORTABLE_CLUSTER)
}

/// [`check_cluster`] with another most blocks per cluster: a launch whose
/// kernel was allowed a non-portable cluster size (the actor systems,
/// after the driver said the size fits).
pub(crate) fn check_cluster_within(
    grid: [u32; 3],
    cluster: [u32; 3],
    arch: (u32, u32),
    limit: u64,
) -> std::result::Result<(), LaunchConfigError> {
    if arch.0 < 9 {
        return Err(LaunchConfigError::ClusterUnsupported { arch });
    }
    if cluster.contains(&0) {
        return Err(LaunchConfigError::EmptyCluster);
    }
    let blocks: u64 = cluster.iter().map(|&d| u64::from(d)).product();
    if blocks > limit {
        return Err(LaunchConfigError::ClusterTooLarge { blocks, limit });
    }
    for ((axis, g), c) in ['x', 'y', 'z'].into_iter().zip(grid).zip(cluster) {
        if g % c != 0 {
            return Err(LaunchConfigError::ClusterDoesNotDivideGrid {
                axis,
                grid: g,
                cluster: c,
            });
        }
    }
    Ok(())
}

/// Launches with thread-block cluster dimensions (`cuLaunchKernelEx` with
/// `CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION`), without waiting; at most
/// `max_blocks` blocks per cluster ([`MAX_PORTABLE_CLUSTER`] unless the
/// caller set the kernel's non-portable attribute).
///
/// # Safety
/// As [`launch_async`].
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn launch_cluster_async(
    function: &KernelFunction,
    grid: [u32; 3],
    block: [u32; 3],
    cluster: [u32; 3],
    max_blocks: u64,
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
    check_cluster_within(grid, cluster, stream.device.arch, max_blocks).map_err(|reason| {
        Error::LaunchConfig {
            kernel: function.symbol().to_string(),
            reason,
        }
    })?;
    stream.device.bind()?;
    // SAFETY: an all-zero attribute is a valid value of the C struct (the
    // union's padding included); the fields that matter are set below.
    let mut attribute: sys::CUlaunchAttribute = unsafe { std::mem::zeroed() };
    attribute.id = sys::CUlaunchAttributeID::CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    attribute.value.clusterDim = sys::CUlaunchAttributeValue_union__bindgen_ty_1 {
        x: cluster[0],
        y: cluster[1],
        z: cluster[2],
    };
    let config = sys::CUlaunchConfig {
        gridDimX: grid[0],
        gridDimY: grid[1],
        gridDimZ: grid[2],
        blockDimX: block[0],
        blockDimY: block[1],
        blockDimZ: block[2],
        sharedMemBytes: shared_bytes,
        hStream: stream.cu_stream(),
        attrs: &raw mut attribute,
        numAttrs: 1,
    };
    // SAFETY: the config and its one attribute live across the call; the
    // parameters are forwarded from the caller's contract; the function and
    // stream belong to the context just made current.
    let status = unsafe {
        sys::cuLaunchKernelEx(
            &config,
            function.cu_function(),
            params.as_mut_ptr(),
            std::ptr::null_mut(),
        )
    };
    status
        .result()
        .map_err(|e| launch_error(function, "cuLaunchKernelEx", e))?;
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

fn launch_error(
    function: &KernelFunction,
    call: &'static str,
    e: cudarc::driver::DriverError,
) -> Error {
    match e.0 {
        sys::CUresult::CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES => Error::LaunchConfig {
            kernel: function.symbol().to_string(),
            reason: LaunchConfigError::OutOfResources,
        },
        _ => Error::driver(call, e),
    }
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
    status
        .result()
        .map_err(|e| launch_error(function, "cuLaunchKernel", e))
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

#[cfg(test)]
mod tests {
    use super::*;

    const HOPPER: (u32, u32) = (9, 0);

    #[test]
    fn cluster_shapes_that_divide_the_grid_are_accepted() {
        assert_eq!(check_cluster([2, 1, 1], [2, 1, 1], HOPPER), Ok(()));
        assert_eq!(check_cluster([132, 4, 1], [4, 2, 1], (10, 0)), Ok(()));
        assert_eq!(check_cluster([5, 1, 1], [5, 1, 1], HOPPER), Ok(()));
        assert_eq!(check_cluster([16, 1, 1], [8, 1, 1], HOPPER), Ok(()));
    }

    #[test]
    fn clusters_need_compute_capability_9() {
        for arch in [(8, 0), (8, 9), (7, 5)] {
            assert_eq!(
                check_cluster([2, 1, 1], [2, 1, 1], arch),
                Err(LaunchConfigError::ClusterUnsupported { arch })
            );
        }
        let e = check_cluster([2, 1, 1], [2, 1, 1], (8, 6)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "thread-block clusters need compute capability 9.0 or newer; the device is 8.6"
        );
    }

    #[test]
    fn a_cluster_must_divide_the_grid_on_every_axis() {
        assert_eq!(
            check_cluster([3, 1, 1], [2, 1, 1], HOPPER),
            Err(LaunchConfigError::ClusterDoesNotDivideGrid {
                axis: 'x',
                grid: 3,
                cluster: 2
            })
        );
        let e = check_cluster([4, 3, 1], [2, 2, 1], HOPPER).unwrap_err();
        assert_eq!(
            e,
            LaunchConfigError::ClusterDoesNotDivideGrid {
                axis: 'y',
                grid: 3,
                cluster: 2
            }
        );
        assert_eq!(
            e.to_string(),
            "grid dimension y (3 blocks) is not a multiple of the cluster's 2"
        );
    }

    #[test]
    fn clusters_beyond_the_portable_eight_and_empty_ones_are_refused() {
        assert_eq!(
            check_cluster([16, 1, 1], [16, 1, 1], HOPPER),
            Err(LaunchConfigError::ClusterTooLarge {
                blocks: 16,
                limit: 8
            })
        );
        // The product counts, not each axis.
        assert_eq!(
            check_cluster([4, 4, 1], [4, 4, 1], HOPPER),
            Err(LaunchConfigError::ClusterTooLarge {
                blocks: 16,
                limit: 8
            })
        );
        assert_eq!(
            check_cluster([2, 1, 1], [2, 0, 1], HOPPER),
            Err(LaunchConfigError::EmptyCluster)
        );
    }
}
