//! The GPU executor: one persistent launch of an actor kernel.
//!
//! `spawn` lays out each actor's control block and rings in mapped pinned
//! memory; this module adds the rest of what `rk_actor_desc` points at (the
//! state, in device memory), calibrates the HLC offset (host time minus
//! `%globaltimer`), and launches the kernel on its own non-blocking stream
//! with one block per actor. The launch and every allocation it uses live
//! in one [`GpuLaunch`], shared by the actors' drivers and dropped with the
//! last of them, only after the kernel has ended.

use std::ffi::c_void;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cudarc::driver::sys;
use ringkernel_device::control::ActorDesc;
use ringkernel_transpiler::back::cuda::{ActorAbi, KernelInfo};

use super::error::ActorError;
use super::host::{host_time_ns, ActorDriver};
use super::memory::ActorLayout;
use crate::cuda::device::CudaDevice;
use crate::cuda::module::{KernelFunction, LoadedModule};
use crate::error::{Error, Result};
use crate::{Backend, DeviceBuffer, KernelSource, LaunchHandle, MappedBuffer, Runtime, Stream};

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
fn staging(
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
    pub layout: super::placement::SharedLayout,
    /// The most blocks per cluster the launch may ask for.
    pub max_blocks: u64,
}

/// What a cluster-placed system needs of the device before its kernel is
/// compiled (the cluster kernel does not compile below sm_90): thread-block
/// clusters, and no more actors than any device puts in a cluster.
pub(crate) fn cluster_precheck(rt: &Runtime, actors: u32) -> Result<Arc<CudaDevice>> {
    use super::placement::{check_cluster_fit, PlacementError, MAX_CLUSTER};
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
    use super::placement::{check_cluster_fit, cluster_shared_layout, PlacementError};
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
            why: super::placement::ClusterLimit::Driver,
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
    use super::placement::PlacementError;
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
/// [`block_shared_layout`]: super::placement::block_shared_layout
pub(crate) fn block_shape(
    rt: &Runtime,
    function: &KernelFunction,
    stride: u64,
    inboxes: &[Option<ringkernel_device::k2k::K2kLayout>],
) -> Result<super::placement::SharedLayout> {
    use super::placement::{block_shared_layout, PlacementError};
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
fn packing(
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

/// What `spawn` hands the GPU executor.
pub(crate) struct GpuStart<'a> {
    pub kernel: &'a KernelSource,
    pub info: &'a KernelInfo,
    pub layout: ActorLayout,
    /// One per actor, initialised by `ActorMemory::init`.
    pub buffers: Vec<MappedBuffer>,
    /// The initial state bytes (empty when stateless).
    pub state: &'a [u8],
    pub message_type_id: u32,
    pub reply_type_id: u32,
    /// `SpawnOptions::actors_per_block`, checked against the handler.
    pub actors_per_block: Option<u32>,
}

/// A running persistent launch and everything it uses.
#[derive(Debug)]
pub(crate) struct GpuLaunch {
    handle: Arc<LaunchHandle>,
    /// The device, for its health (lost context) and launch count.
    device: Arc<CudaDevice>,
    states: Mutex<Vec<DeviceBuffer<u8>>>,
    // Kept alive until the kernel has ended (see Drop).
    resources: Option<Resources>,
}

#[derive(Debug)]
struct Resources {
    _buffers: Mutex<Vec<MappedBuffer>>,
    _device: Vec<DeviceBuffer<u8>>,
    _descs: DeviceBuffer<u8>,
    _stream: Stream,
    _function: KernelFunction,
    _module: Arc<LoadedModule>,
}

/// `rk_read_globaltimer(u64* out)`, hand-written PTX: no NVRTC needed.
const CLOCK_PTX: &str = include_str!("globaltimer.ptx");

/// Host time minus `%globaltimer`, from a one-thread kernel timed by the
/// host: the device reading is taken to be at the middle of the launch.
fn calibrate_hlc_offset(rt: &Runtime) -> Result<i64> {
    let module = rt.load_runtime_ptx("rk_globaltimer", CLOCK_PTX)?;
    let function = module.function("rk_read_globaltimer")?;
    let out = rt.alloc_mapped(8)?;
    let stream = rt.new_stream()?;
    let mut best: Option<(u64, i64)> = None;
    for _ in 0..5 {
        let mut ptr = out.device_ptr();
        let mut params = [(&mut ptr as *mut u64).cast::<c_void>()];
        let t0 = host_time_ns();
        // SAFETY: one pointer parameter, the mapped buffer's device address.
        let handle =
            unsafe { rt.launch_raw(&function, [1, 1, 1], [1, 1, 1], 0, &stream, &mut params) }?;
        handle.wait()?;
        let t1 = host_time_ns();
        let device = out.atomic_u64(0).load(std::sync::atomic::Ordering::Acquire);
        let width = t1.saturating_sub(t0);
        let offset = (t0 + width / 2) as i64 - device as i64;
        if best.is_none_or(|(w, _)| width < w) {
            best = Some((width, offset));
        }
    }
    Ok(best.map_or(0, |(_, o)| o))
}

/// One actor of a launch, as its descriptor will describe it.
pub(crate) struct GpuActor<'a> {
    /// Its control block and rings (`ActorMemory::init`).
    pub buffer: &'a MappedBuffer,
    pub layout: ActorLayout,
    /// The initial state bytes (empty when stateless).
    pub state: &'a [u8],
    pub actor_id: u32,
    pub message_type_id: u32,
    pub reply_type_id: u32,
    pub batch: u32,
    pub role: u32,
    /// Its K2K inbox, 0 when nothing sends to it: a device address, or in
    /// a cluster launch the byte offset in its block's dynamic shared memory.
    pub k2k_inbox: u64,
    /// The inbox's slots and slot size (0, 0: none).
    pub k2k_capacity: u32,
    pub k2k_slot_size: u32,
    /// The shared-memory tiers' credit arrays (`rk_k2k_mbar`): default
    /// (zeros) in the global tier.
    pub k2k_credits: K2kCredits,
    /// Device address of its route table and its entries (0, 0: none).
    pub routes: u64,
    pub route_count: u32,
}

/// Where an actor of a shared-memory tier finds the credit arrays
/// (`rk_k2k_mbar`'s empty barriers; `rk_actor_desc::k2k_credit*`): byte
/// offsets in the dynamic shared memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct K2kCredits {
    /// Its inbox's credit array (0: none).
    pub credit: u32,
    /// Cluster: the ranks holding a copy (its senders').
    pub ranks: u32,
    /// The system's run of credit arrays, and its bytes.
    pub run: u32,
    pub run_bytes: u32,
}

/// What [`GpuLaunch::launch`] runs: a loaded actor kernel and its actors.
pub(crate) struct GpuLaunchSpec<'a> {
    pub module: Arc<LoadedModule>,
    pub function: KernelFunction,
    /// The block shape of the launch (for warp actors: `32 * P` threads).
    pub block: [u32; 3],
    /// Dynamic shared memory per block (the largest staging area, for warp
    /// actors every warp's slice; in a cluster launch the K2K inboxes after it).
    pub staging_bytes: u64,
    /// `Some(n)`: launch the grid as one thread-block cluster, allowed up
    /// to `n` blocks (more than the portable 8 only when the caller set the
    /// kernel's non-portable attribute and the driver agreed).
    pub cluster: Option<u64>,
    /// Actors per block: 1, or `P` warp actors (actor `i` is warp `i % P`
    /// of block `i / P`).
    pub actors_per_block: u32,
    pub hlc_offset_ns: i64,
    pub actors: Vec<GpuActor<'a>>,
}

impl GpuLaunch {
    pub(crate) fn start(rt: &Runtime, start: GpuStart<'_>) -> Result<Arc<GpuLaunch>> {
        let count = start.buffers.len() as u32;
        let offset = calibrate_hlc_offset(rt)?;
        let (module, _) = rt.load_kernel_module(start.kernel)?;
        let function = module.function(&start.info.symbol)?;
        let abi = start.info.actor.ok_or_else(|| Error::UnknownKernel {
            kernel: start.info.name.clone(),
        })?;
        let (batch, staging_bytes, actors_per_block) = if abi.warp {
            let p = packing(rt, &function, &abi, count, start.actors_per_block)?;
            (abi.batch, abi.block_staging_bytes(p), p)
        } else {
            let (batch, bytes) = staging(rt, &function, &abi, count)?;
            (batch, bytes, 1)
        };
        let block = if abi.warp {
            [32 * actors_per_block, 1, 1]
        } else {
            start.info.block
        };
        let actors = start
            .buffers
            .iter()
            .enumerate()
            .map(|(id, buffer)| GpuActor {
                buffer,
                layout: start.layout,
                state: start.state,
                actor_id: id as u32,
                message_type_id: start.message_type_id,
                reply_type_id: start.reply_type_id,
                batch,
                role: 0,
                k2k_inbox: 0,
                k2k_capacity: 0,
                k2k_slot_size: 0,
                k2k_credits: K2kCredits::default(),
                routes: 0,
                route_count: 0,
            })
            .collect();
        let launch = GpuLaunch::launch(
            rt,
            GpuLaunchSpec {
                module,
                function,
                block,
                staging_bytes,
                cluster: None,
                actors_per_block,
                hlc_offset_ns: offset,
                actors,
            },
            Vec::new(),
        )?;
        // The mapped buffers live as long as the launch.
        launch.keep_buffers(start.buffers);
        Ok(launch)
    }

    /// Host time minus `%globaltimer` (see `calibrate_hlc_offset`).
    pub(crate) fn hlc_offset(rt: &Runtime) -> Result<i64> {
        calibrate_hlc_offset(rt)
    }

    /// Uploads each actor's state and the descriptors, and launches one
    /// block per `actors_per_block` actors on a stream of its own. `keep` holds device memory
    /// the descriptors point at (K2K inboxes, route tables) until the
    /// kernel has ended.
    pub(crate) fn launch(
        rt: &Runtime,
        spec: GpuLaunchSpec<'_>,
        keep: Vec<DeviceBuffer<u8>>,
    ) -> Result<Arc<GpuLaunch>> {
        let count = spec.actors.len() as u32;
        let mut states = Vec::new();
        let mut descs = Vec::new();
        for actor in &spec.actors {
            let mut bytes = actor.state.to_vec();
            bytes.resize(actor.state.len().max(1), 0);
            let state = rt.upload(&bytes)?;
            let base = actor.buffer.device_ptr();
            let desc = ActorDesc {
                control: base,
                inbox: base + ActorLayout::INBOX as u64,
                outbox: base + actor.layout.outbox_offset() as u64,
                state: if actor.state.is_empty() {
                    0
                } else {
                    state.device_ptr().unwrap_or(0)
                },
                hlc_offset_ns: spec.hlc_offset_ns,
                actor_id: actor.actor_id,
                message_type_id: actor.message_type_id,
                reply_type_id: actor.reply_type_id,
                batch: actor.batch,
                k2k_inbox: actor.k2k_inbox,
                routes: actor.routes,
                route_count: actor.route_count,
                role: actor.role,
                k2k_capacity: actor.k2k_capacity,
                k2k_slot_size: actor.k2k_slot_size,
                k2k_credit: actor.k2k_credits.credit,
                k2k_credit_ranks: actor.k2k_credits.ranks,
                k2k_credits: actor.k2k_credits.run,
                k2k_credits_bytes: actor.k2k_credits.run_bytes,
            };
            states.push(state);
            descs.push(desc);
        }
        let desc_bytes: Vec<u8> = descs.iter().flat_map(bytes_of_desc).collect();
        let desc_buffer = rt.upload(&desc_bytes)?;
        let stream = rt.new_stream()?;
        let mut desc_ptr = desc_buffer.device_ptr().unwrap_or(0);
        let mut actor_count = count;
        let mut params = [
            (&mut desc_ptr as *mut u64).cast::<c_void>(),
            (&mut actor_count as *mut u32).cast::<c_void>(),
        ];
        // SAFETY: the actor kernel's C parameters are (const rk_actor_desc*,
        // rk_u32): params point at a u64 device address and a u32. Every
        // device address in the descriptors stays valid until the kernel has
        // ended (Resources outlive it, see Drop). The dynamic shared memory
        // is the staging area for `batch` messages (the kernel checks it),
        // and in a cluster launch the K2K inboxes after it.
        // Warp actors: `actors_per_block` to a block (the last one may hold
        // fewer; its idle warps return at once). Clusters hold block actors.
        let blocks = count.div_ceil(spec.actors_per_block.max(1));
        debug_assert!(spec.cluster.is_none() || spec.actors_per_block == 1);
        let handle = match spec.cluster {
            None => unsafe {
                rt.launch_raw(
                    &spec.function,
                    [blocks, 1, 1],
                    spec.block,
                    spec.staging_bytes as u32,
                    &stream,
                    &mut params,
                )
            }?,
            // SAFETY: as above; the grid is the one cluster.
            Some(max_blocks) => unsafe {
                crate::cuda::launch_cluster_async(
                    &spec.function,
                    [blocks, 1, 1],
                    spec.block,
                    [blocks, 1, 1],
                    max_blocks,
                    spec.staging_bytes as u32,
                    &stream,
                    &mut params,
                )
            }?,
        };
        let device = rt.cuda_device().ok_or(Error::NotCuda {
            operation: "spawning GPU actors",
        })?;
        device.health.launch_started();
        let handle = Arc::new(handle);
        device
            .persistent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::downgrade(&handle));
        Ok(Arc::new(GpuLaunch {
            handle,
            device,
            states: Mutex::new(states),
            resources: Some(Resources {
                _buffers: Mutex::new(Vec::new()),
                _device: keep,
                _descs: desc_buffer,
                _stream: stream,
                _function: spec.function,
                _module: spec.module,
            }),
        }))
    }

    /// Keeps `buffers` (memory the running kernel uses) alive with the launch.
    pub(crate) fn keep_buffers(&self, buffers: Vec<MappedBuffer>) {
        if let Some(r) = &self.resources {
            r._buffers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(buffers);
        }
    }

    pub(crate) fn driver(self: &Arc<Self>, id: u32) -> GpuDriver {
        GpuDriver {
            launch: self.clone(),
            id: id as usize,
        }
    }
}

impl Drop for GpuLaunch {
    fn drop(&mut self) {
        self.wait_for_end();
        // Free (or, after recovery, leak) the memory before the launch
        // stops counting: recovery resets the context only at zero.
        drop(self.resources.take());
        drop(std::mem::take(
            &mut *self.states.lock().unwrap_or_else(|e| e.into_inner()),
        ));
        self.device.health.launch_ended();
    }
}

impl GpuLaunch {
    fn wait_for_end(&mut self) {
        // Every actor was asked to stop when its handle dropped; wait for the
        // kernel to end before freeing memory it may still touch. If it does
        // not end (a hung handler), leak the memory rather than free it
        // under a running kernel.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.handle.is_complete() {
                Ok(true) | Err(_) => return,
                Ok(false) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_micros(200))
                }
                Ok(false) => {
                    eprintln!(
                        "ringkernel: actor kernel `{}` still running 10 s after its actors were stopped; leaking its memory",
                        self.handle.kernel()
                    );
                    std::mem::forget(self.resources.take());
                    std::mem::forget(std::mem::take(
                        &mut *self.states.lock().unwrap_or_else(|e| e.into_inner()),
                    ));
                    return;
                }
            }
        }
    }
}

/// The bytes of a descriptor, as the kernel reads them.
fn bytes_of_desc(d: &ActorDesc) -> [u8; size_of::<ActorDesc>()] {
    let mut b = [0u8; size_of::<ActorDesc>()];
    // SAFETY: ActorDesc is repr(C) with no padding (pinned by its layout
    // assertions), so every byte is initialised.
    unsafe {
        std::ptr::copy_nonoverlapping(
            (d as *const ActorDesc).cast::<u8>(),
            b.as_mut_ptr(),
            b.len(),
        )
    };
    b
}

/// One actor of a [`GpuLaunch`].
#[derive(Debug)]
pub(crate) struct GpuDriver {
    launch: Arc<GpuLaunch>,
    id: usize,
}

impl ActorDriver for GpuDriver {
    fn read_state(&self, out: &mut [u8]) -> std::result::Result<(), ActorError> {
        let states = self.launch.states.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = states[self.id]
            .to_vec()
            .map_err(|e| ActorError::Protocol(e.to_string()))?;
        out.copy_from_slice(&bytes[..out.len()]);
        Ok(())
    }

    fn write_state(&self, bytes: &[u8]) -> std::result::Result<(), ActorError> {
        let mut states = self.launch.states.lock().unwrap_or_else(|e| e.into_inner());
        let buffer = &mut states[self.id];
        let mut full = bytes.to_vec();
        full.resize(buffer.len(), 0);
        buffer
            .copy_from(&full)
            .map_err(|e| ActorError::Protocol(e.to_string()))
    }

    fn running(&self) -> bool {
        matches!(self.launch.handle.is_complete(), Ok(false))
    }

    fn join(&self) -> std::result::Result<(), ActorError> {
        // The actor's block exits right after it publishes Terminated; the
        // launch ends with the last actor and is awaited when dropped.
        Ok(())
    }

    fn context_lost(&self) -> Option<String> {
        self.launch.device.health.lost()
    }

    fn failure(&self) -> Option<String> {
        self.launch
            .handle
            .is_complete()
            .err()
            .map(|e| format!("the actor kernel failed: {e}"))
    }
}
