//! How an actor kernel's launch is shaped before it starts: its batch size
//! and staging bytes in dynamic shared memory (opting in past the default
//! limit), warp actors' packing into blocks, and the checks and driver
//! queries that size a cluster- or block-placed system's launch.

use std::sync::Arc;

use cudarc::driver::sys;
use ringkernel_transpiler::back::cuda::ActorAbi;

use crate::actor::error::ActorError;
use crate::cuda::device::CudaDevice;
use crate::cuda::module::KernelFunction;
use crate::error::{Error, Result};
use crate::{Backend, Runtime};

/// The largest batch the message loop is given: past it, a batch's fixed
/// costs (two PCIe round trips, a handful of barriers) are already small
/// next to moving its messages.
const LARGE_BATCH: u32 = 512;

/// Shared memory a block may use without opting in.
const DEFAULT_SHARED_LIMIT: u64 = 48 * 1024;

/// Lets `function` launch with `bytes` of dynamic shared memory: past
/// [`DEFAULT_SHARED_LIMIT`] (with its static part) a kernel must opt in.
fn opt_in(function: &KernelFunction, bytes: u64) -> Result<()> {
    if bytes + u64::from(function.static_shared_bytes) > DEFAULT_SHARED_LIMIT {
        // SAFETY: a live function handle of the current context.
        unsafe {
            sys::cuFuncSetAttribute(
                function.cu_function(),
                sys::CUfunction_attribute::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                bytes as i32,
            )
        }
        .result()
        .map_err(|e| Error::driver("cuFuncSetAttribute", e))?;
    }
    Ok(())
}

/// A device attribute of CUDA device `ordinal` (a negative value reads 0).
fn device_attribute(ordinal: usize, attribute: sys::CUdevice_attribute) -> Result<u64> {
    let mut device: sys::CUdevice = 0;
    let mut value = 0;
    // SAFETY: valid out-pointers; the driver is loaded (a CUDA runtime).
    unsafe {
        sys::cuDeviceGet(&mut device, ordinal as i32)
            .result()
            .map_err(|e| Error::driver("cuDeviceGet", e))?;
        sys::cuDeviceGetAttribute(&mut value, attribute, device)
            .result()
            .map_err(|e| Error::driver("cuDeviceGetAttribute", e))?;
    }
    Ok(value.max(0) as u64)
}

/// The shared memory a block of `function` may add to its static shared
/// memory when opted in: the device's opt-in maximum less the static part.
fn optin_room(ordinal: usize, function: &KernelFunction) -> Result<u64> {
    Ok(device_attribute(
        ordinal,
        sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
    )?
    .saturating_sub(u64::from(function.static_shared_bytes)))
}

/// The batch the actors of a launch stage per poll, and the dynamic shared
/// memory that takes. With at most one actor per multiprocessor, every
/// block can have the room the device allows a block (opt-in), so the
/// batch grows to [`LARGE_BATCH`] where it fits: fewer, fuller batches, so
/// a busy stream pays each batch's fixed costs less often. With more actors, blocks share multiprocessors and all must stay
/// resident (a persistent launch), so the handler's default batch is kept.
pub(super) fn staging(
    rt: &Runtime,
    function: &KernelFunction,
    abi: &ActorAbi,
    count: u32,
) -> Result<(u32, u64)> {
    let default = (abi.batch, abi.staging_bytes(abi.batch));
    let Backend::Cuda { ordinal, .. } = rt.backend() else {
        return Ok(default);
    };
    let sms = device_attribute(
        ordinal,
        sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
    )?;
    if u64::from(count) > sms {
        return Ok(default);
    }
    let room = optin_room(ordinal, function)?;
    let mut batch = LARGE_BATCH;
    while batch > abi.batch && abi.staging_bytes(batch) > room {
        batch -= 32;
    }
    if batch <= abi.batch {
        return Ok(default);
    }
    let bytes = abi.staging_bytes(batch);
    opt_in(function, bytes)?;
    Ok((batch, bytes))
}

/// How a cluster-placed system is launched ([`cluster_shape`]).
#[derive(Debug, Clone)]
pub(crate) struct ClusterShape {
    /// Where each K2K inbox and credit array goes in every block's dynamic
    /// shared memory, and its size (staging area, inbox, credit run).
    pub layout: crate::actor::placement::SharedLayout,
    /// The most blocks per cluster the launch may ask for.
    pub max_blocks: u64,
}

/// What a cluster-placed system needs of the device before its kernel is
/// compiled (the cluster kernel does not compile below sm_90): thread-block
/// clusters, and no more actors than any device puts in a cluster.
pub(crate) fn cluster_precheck(rt: &Runtime, actors: u32) -> Result<Arc<CudaDevice>> {
    use crate::actor::placement::{check_cluster_fit, PlacementError, MAX_CLUSTER};
    let placement = |e: PlacementError| Error::Actor(ActorError::Placement(e));
    let device = rt.cuda_device().ok_or(Error::NotCuda {
        operation: "launching a cluster-placed actor system",
    })?;
    if device.arch.0 < 9 {
        return Err(placement(PlacementError::NoClusters { arch: device.arch }));
    }
    check_cluster_fit(actors, Some(MAX_CLUSTER)).map_err(placement)?;
    Ok(device)
}

/// Checks that a system of `actors` blocks of `block` threads, each with
/// `staging` bytes of staging area and (receivers) a K2K inbox of
/// `inboxes[i]`, runs as one thread-block cluster on this device, and sets
/// the kernel up for it: the dynamic shared memory past the default 48 KiB
/// (opt-in), the non-portable cluster size past 8 blocks. The driver is
/// asked for the largest cluster it can co-schedule for this kernel with
/// that block and shared memory (`cuOccupancyMaxPotentialClusterSize`) and
/// whether one such cluster fits the device at all
/// (`cuOccupancyMaxActiveClusters`).
pub(crate) fn cluster_shape(
    rt: &Runtime,
    function: &KernelFunction,
    block: [u32; 3],
    actors: u32,
    staging: u64,
    inboxes: &[Option<ringkernel_device::k2k::K2kLayout>],
) -> Result<ClusterShape> {
    use crate::actor::placement::{check_cluster_fit, cluster_shared_layout, PlacementError};
    let placement = |e: PlacementError| Error::Actor(ActorError::Placement(e));
    let device = cluster_precheck(rt, actors)?;
    let Backend::Cuda { ordinal, .. } = rt.backend() else {
        unreachable!("a CUDA device has a CUDA backend");
    };
    device.bind()?;
    let available = optin_room(ordinal, function)?;
    let layout = cluster_shared_layout(staging, inboxes, available).map_err(placement)?;
    let shared_bytes = layout.bytes;
    let set = |attribute, value: i32| -> Result<()> {
        // SAFETY: a live function handle of the current context.
        unsafe { sys::cuFuncSetAttribute(function.cu_function(), attribute, value) }
            .result()
            .map_err(|e| Error::driver("cuFuncSetAttribute", e))
    };
    opt_in(function, shared_bytes)?;
    let portable = crate::cuda::MAX_PORTABLE_CLUSTER;
    if u64::from(actors) > portable {
        set(
            sys::CUfunction_attribute::CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED,
            1,
        )?;
    }
    // SAFETY: an all-zero attribute is a valid value of the C struct.
    let mut attribute: sys::CUlaunchAttribute = unsafe { std::mem::zeroed() };
    attribute.id = sys::CUlaunchAttributeID::CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    attribute.value.clusterDim = sys::CUlaunchAttributeValue_union__bindgen_ty_1 {
        x: actors,
        y: 1,
        z: 1,
    };
    let mut config = sys::CUlaunchConfig {
        gridDimX: actors,
        gridDimY: 1,
        gridDimZ: 1,
        blockDimX: block[0],
        blockDimY: block[1],
        blockDimZ: block[2],
        sharedMemBytes: shared_bytes as u32,
        hStream: std::ptr::null_mut(),
        attrs: std::ptr::null_mut(),
        numAttrs: 0,
    };
    let mut potential = 0;
    // SAFETY: the config lives across the call; no attributes (the driver
    // reports the largest cluster size for this block and shared memory).
    unsafe {
        sys::cuOccupancyMaxPotentialClusterSize(&mut potential, function.cu_function(), &config)
    }
    .result()
    .map_err(|e| Error::driver("cuOccupancyMaxPotentialClusterSize", e))?;
    let potential = potential.max(0) as u32;
    check_cluster_fit(actors, Some(potential)).map_err(placement)?;
    config.attrs = &raw mut attribute;
    config.numAttrs = 1;
    let mut clusters = 0;
    // SAFETY: the config and its one attribute live across the call.
    unsafe { sys::cuOccupancyMaxActiveClusters(&mut clusters, function.cu_function(), &config) }
        .result()
        .map_err(|e| Error::driver("cuOccupancyMaxActiveClusters", e))?;
    if clusters < 1 {
        return Err(placement(PlacementError::TooManyActors {
            actors,
            limit: potential.min(actors.saturating_sub(1)),
            why: crate::actor::placement::ClusterLimit::Driver,
        }));
    }
    Ok(ClusterShape {
        layout,
        max_blocks: u64::from(actors).max(portable),
    })
}

/// What a block-placed system needs of the device before its kernel is
/// compiled (the block kernel does not compile below sm_90): the
/// mbarrier handoffs of its shared-memory inboxes (`rk_k2k_mbar`).
pub(crate) fn block_precheck(rt: &Runtime) -> Result<()> {
    use crate::actor::placement::PlacementError;
    let device = rt.cuda_device().ok_or(Error::NotCuda {
        operation: "launching a block-placed actor system",
    })?;
    if device.arch.0 < 9 {
        return Err(Error::Actor(ActorError::Placement(
            PlacementError::NoMbarriers { arch: device.arch },
        )));
    }
    Ok(())
}

/// The dynamic shared memory of a block-placed system (one block, a warp
/// per actor): every warp's staging slice of `stride` bytes, then each
/// receiver's K2K inbox on a line, then their credit arrays
/// ([`block_shared_layout`]); the kernel is opted in past 48 KiB when it
/// needs more.
///
/// [`block_shared_layout`]: crate::actor::placement::block_shared_layout
pub(crate) fn block_shape(
    rt: &Runtime,
    function: &KernelFunction,
    stride: u64,
    inboxes: &[Option<ringkernel_device::k2k::K2kLayout>],
) -> Result<crate::actor::placement::SharedLayout> {
    use crate::actor::placement::{block_shared_layout, PlacementError};
    let placement = |e: PlacementError| Error::Actor(ActorError::Placement(e));
    let Backend::Cuda { ordinal, .. } = rt.backend() else {
        unreachable!("block_shape is asked on a CUDA runtime");
    };
    let available = optin_room(ordinal, function)?;
    let layout = block_shared_layout(stride, inboxes, available).map_err(placement)?;
    opt_in(function, layout.bytes)?;
    Ok(layout)
}

/// How many warp actors share a block: what the spawn asked for, else as
/// many as it has up to `MAX_PACK`; fewer while their staging slices and
/// the kernel's static shared memory exceed what a block may have (opting
/// in past 48 KiB when needed).
pub(super) fn packing(
    rt: &Runtime,
    function: &KernelFunction,
    abi: &ActorAbi,
    count: u32,
    requested: Option<u32>,
) -> Result<u32> {
    let mut p = requested
        .unwrap_or(abi.max_per_block())
        .clamp(1, abi.max_per_block());
    if requested.is_none() {
        p = p.min(count.max(1));
    }
    let Backend::Cuda { ordinal, .. } = rt.backend() else {
        return Ok(p);
    };
    let room = optin_room(ordinal, function)?;
    while p > 1 && abi.block_staging_bytes(p) > room {
        p -= 1;
    }
    let bytes = abi.block_staging_bytes(p);
    opt_in(function, bytes)?;
    Ok(p)
}
