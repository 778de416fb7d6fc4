//! The GPU executor: one persistent launch of an actor kernel.
//!
//! `spawn` lays out each actor's control block and rings in mapped pinned
//! memory; this module adds the rest of what `rk_actor_desc` points at (the
//! state, in device memory), calibrates the HLC offset (host time minus
//! `%globaltimer`), and launches the kernel on its own non-blocking stream
//! with one block per actor. The launch and every allocation it uses live
//! in one [`GpuLaunch`], shared by the actors' drivers and dropped with the
//! last of them, only after the kernel has ended. How the launch is shaped
//! (batch, staging, packing, cluster and block sizes) is `shape.rs`.

use std::ffi::c_void;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ringkernel_device::control::ActorDesc;
use ringkernel_transpiler::back::cuda::KernelInfo;

use super::error::ActorError;
use super::host::{host_time_ns, ActorDriver};
use super::memory::ActorLayout;
use crate::cuda::device::CudaDevice;
use crate::cuda::module::{KernelFunction, LoadedModule};
use crate::error::{Error, Result};
use crate::{DeviceBuffer, KernelSource, LaunchHandle, MappedBuffer, Runtime, Stream};

mod shape;

pub(crate) use shape::{block_precheck, block_shape, cluster_precheck, cluster_shape};
use shape::{packing, staging};

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
