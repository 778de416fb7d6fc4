//! Actor systems: actors of several `#[ring_kernel]` handlers started
//! together and wired to each other, so handlers send with `ctx.send(port,
//! &msg)` or `ctx.try_send(port, &msg)` (kernel-to-kernel, K2K) and never
//! name another actor.
//!
//! The topology lives on the host: [`SystemBuilder::connect`] wires output
//! port `p` of one actor to another actor, checking that the port's message
//! type is the destination's. [`SystemBuilder::start`] refuses a system with
//! an unwired port, then builds each actor's route table from the wiring.
//! On the GPU every actor of the system runs in one persistent launch of one
//! system kernel (the transpiler's `compose_system`: one block per actor,
//! each block dispatched to its handler by the actor's role); every actor
//! that receives from others gets a K2K inbox in device global memory (a
//! multi-producer queue with per-slot sequence numbers, `rk_k2k.cuh`) and
//! each route points at one. On the CPU backend each actor is a thread, K2K
//! inboxes are the same protocol with std atomics (`k2k_queue`, the same
//! capacity), and a handler's sends are pushed when they run (the
//! interpreter asks the executor's ports at the call), as on the device.
//!
//! This module is the builder and the running system; `gpu.rs` and
//! `cpu.rs` start one on each backend.
//!
//! Placement ([`SystemBuilder::placement`], [`Placement`]) decides where
//! the actors run and so the tier of every route. [`Placement::Gpu`] (the
//! default): one block per actor anywhere on the device, inboxes in global
//! memory, global-tier routes. [`Placement::Cluster`]: the whole system is
//! one thread-block cluster (sm_90+, at most 8 actors, or 16 where the
//! driver allows a non-portable cluster for the kernel), launched with
//! `cuLaunchKernelEx`; each receiving actor's inbox lives in its block's
//! dynamic shared memory after the staging area, laid out by that block
//! before a cluster barrier, and routes carry tier DSMEM and the
//! destination's cluster rank (senders write through `mapa`). A stopped
//! actor closes its inbox (later sends fault Undeliverable), and its block
//! waits at the cluster's exit barrier, so its shared memory outlives every
//! sender; dead letters still go to the host through the outbox. In both
//! shared-memory placements (cluster and block) an inbox hands its slots
//! over with mbarriers (`rk_k2k_mbar.cuh`'s multi-producer inbox: a full
//! barrier per slot in the inbox, the empty "credit" barriers in the
//! sender's block, racecheck-visible), so the host also lays out a run of
//! credit arrays at one offset in every block (the cluster's blocks each
//! keep a copy of every inbox's array; the consumer arrives on its
//! senders' copies: `rk_actor_desc::k2k_credit_ranks`), and the block
//! placement needs sm_90 ([`PlacementError::NoMbarriers`]). `start`
//! refuses a system that does not fit (too many actors, no clusters on the
//! device, inboxes too large for shared memory: [`PlacementError`]). The
//! CPU backend accepts every placement and runs the same protocol, with
//! the portable 8 as its cluster limit. [`Placement::Block`]: the whole
//! system is one block of warp actors (`#[ring_kernel(warps = 1)]`, at most
//! 8), one warp each; each receiving actor's inbox lives in that block's
//! shared memory after every warp's staging slice, laid out by its warp
//! before the block's one start barrier, and routes carry tier SHARED
//! (senders write it directly, `.cta` scope); warp actors send and
//! `try_send` warp-wide. Warp actors go only there, and only warp actors
//! go there ([`PlacementError::NotWarpActor`],
//! [`PlacementError::WarpActorNeedsBlock`]).

use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use ringkernel_device::control::Route;
use ringkernel_device::k2k::K2kLayout;
use ringkernel_transpiler::back::cuda::system::{compose_system_tiered, K2kTier, SystemRole};
use ringkernel_transpiler::back::cuda::{ActorAbi, KernelInfo};

use super::cpu::{CpuActor, CpuDriver, CpuK2k, CpuRoute};
use super::error::ActorError;
use super::gpu::{GpuActor, GpuLaunch, GpuLaunchSpec, K2kCredits};
use super::host::{bytes_of, ActorCore, ActorDriver, ActorInfo};
use super::memory::{ActorLayout, ActorMemory};
use super::placement::{
    check_cluster_fit, credit_ranks, route_table, Link, Placement, PlacementError, RouteDest,
    MAX_BLOCK_ACTORS,
};
use super::supervisor::{self, RestartPolicy};
use super::{actor_abi, actor_layout, Actor, SpawnOptions};
use crate::cuda::compile::CudaSource;
use crate::error::{Error, Result};
use crate::kernel::Prepared;
use crate::{KernelSource, MappedBuffer, Runtime};

/// K2K inbox slots per receiving actor unless [`SystemBuilder::k2k_capacity`]
/// says otherwise.
pub const DEFAULT_K2K_CAPACITY: u32 = 256;

/// An actor of a system, typed by its handler's message, reply and state
/// types: what [`SystemBuilder::connect`] wires and [`System::actor`] hands
/// back as a handle.
pub struct Member<M, R, S> {
    index: usize,
    _types: PhantomData<MemberTypes<M, R, S>>,
}

/// `Member`'s marker: names the types without owning any (so a member is
/// `Copy`, `Send` and `Sync` whatever they are).
type MemberTypes<M, R, S> = fn() -> (M, R, S);

impl<M, R, S> Clone for Member<M, R, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M, R, S> Copy for Member<M, R, S> {}

impl<M, R, S> std::fmt::Debug for Member<M, R, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Member({})", self.index)
    }
}

impl<M, R, S> Member<M, R, S> {
    /// The actor's id (its index in the system, also its HLC node).
    pub fn id(&self) -> u32 {
        self.index as u32
    }
}

#[derive(Debug)]
struct MemberSpec {
    kernel: KernelSource,
    prepared: Arc<Prepared>,
    info: KernelInfo,
    abi: ActorAbi,
    layout: ActorLayout,
    state: Vec<u8>,
    options: SpawnOptions,
    /// `Actor<M, R, S>` made from the core, once started.
    make_handle: fn(Arc<ActorCore>, &Runtime) -> Box<dyn Any + Send + Sync>,
}

/// Builds an actor system: add actors, wire ports, start.
#[derive(Debug)]
pub struct SystemBuilder<'rt> {
    rt: &'rt Runtime,
    members: Vec<MemberSpec>,
    links: Vec<Link>,
    k2k_capacity: u32,
    placement: Placement,
}

impl Runtime {
    /// Starts describing an actor system on this runtime.
    pub fn system(&self) -> SystemBuilder<'_> {
        SystemBuilder {
            rt: self,
            members: Vec::new(),
            links: Vec::new(),
            k2k_capacity: DEFAULT_K2K_CAPACITY,
            placement: Placement::Gpu,
        }
    }
}

fn make_handle<M: Copy + 'static, R: Copy + 'static, S: Copy + 'static>(
    core: Arc<ActorCore>,
    rt: &Runtime,
) -> Box<dyn Any + Send + Sync> {
    Box::new(Actor::<M, R, S>::new(core, rt))
}

impl SystemBuilder<'_> {
    /// Adds an actor running the `#[ring_kernel]` handler `kernel`, starting
    /// from `state`. `M`, `R`, `S` are checked against the handler like
    /// [`Runtime::spawn`] does.
    pub fn actor<M: Copy + 'static, R: Copy + 'static, S: Copy + 'static>(
        &mut self,
        kernel: &KernelSource,
        state: S,
        options: &SpawnOptions,
    ) -> Result<Member<M, R, S>> {
        let prepared = self.rt.prepared(kernel)?;
        let info = prepared.kernel(&kernel.name)?.info.clone();
        let abi = actor_abi::<M, R, S>(&info)?;
        let layout = actor_layout(&abi, options)?;
        let index = self.members.len();
        self.members.push(MemberSpec {
            kernel: kernel.clone(),
            prepared,
            info,
            abi,
            layout,
            state: if abi.state_size > 0 {
                bytes_of(&state)
            } else {
                Vec::new()
            },
            options: options.clone(),
            make_handle: make_handle::<M, R, S>,
        });
        Ok(Member {
            index,
            _types: PhantomData,
        })
    }

    /// Slots of each receiving actor's K2K inbox (a power of two, at least 2).
    pub fn k2k_capacity(&mut self, capacity: u32) -> &mut Self {
        self.k2k_capacity = capacity;
        self
    }

    /// Where the actors run, and so the tier of every K2K route:
    /// [`Placement::Gpu`] (the default) or [`Placement::Cluster`]. Checked
    /// at [`start`](Self::start).
    pub fn placement(&mut self, placement: Placement) -> &mut Self {
        self.placement = placement;
        self
    }

    /// Wires output port `port` of `from` (its `ctx.send(port, ..)`) to
    /// `to`. The port must be one `from`'s handler sends on, with `to`'s
    /// message type; each port goes to one actor.
    pub fn connect<A, B, C, D, E, F>(
        &mut self,
        from: Member<A, B, C>,
        port: u32,
        to: Member<D, E, F>,
    ) -> Result<&mut Self> {
        let wiring_error = |problem: String| Error::Actor(ActorError::Wiring { problem });
        let source = &self.members[from.index];
        let dest = &self.members[to.index];
        let ports = &source.info.wiring.as_ref().expect("an actor kernel").ports;
        let Some(out) = ports.iter().find(|p| p.port == port) else {
            let known: Vec<String> = ports.iter().map(|p| p.port.to_string()).collect();
            return Err(wiring_error(format!(
                "`{}` (actor {}) sends on no port {port} (its ports: {})",
                source.info.name,
                from.index,
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            )));
        };
        let dest_type = &dest
            .info
            .wiring
            .as_ref()
            .expect("an actor kernel")
            .message_type;
        if out.message_type != *dest_type || out.message_size != dest.abi.message_size {
            return Err(wiring_error(format!(
                "port {port} of `{}` (actor {}) carries `{}` ({} bytes), but `{}` (actor {}) receives `{}` ({} bytes)",
                source.info.name,
                from.index,
                out.message_type,
                out.message_size,
                dest.info.name,
                to.index,
                dest_type,
                dest.abi.message_size
            )));
        }
        if self
            .links
            .iter()
            .any(|l| l.from == from.index && l.port == port)
        {
            return Err(wiring_error(format!(
                "port {port} of `{}` (actor {}) is already wired",
                source.info.name, from.index
            )));
        }
        self.links.push(Link {
            from: from.index,
            port,
            to: to.index,
        });
        Ok(self)
    }

    /// Checks the wiring and starts every actor.
    pub fn start(self) -> Result<System> {
        self.check_wiring()?;
        self.check_actor_kinds()?;
        if self.placement == Placement::Cluster && !self.rt.is_cuda() {
            // The GPU asks the driver (start_gpu); the CPU backend holds a
            // system to what every cluster-capable device runs.
            check_cluster_fit(self.members.len() as u32, None)
                .map_err(|e| Error::Actor(ActorError::Placement(e)))?;
        }
        let receives: Vec<bool> = (0..self.members.len())
            .map(|i| self.links.iter().any(|l| l.to == i))
            .collect();
        let k2k_layouts: Vec<Option<K2kLayout>> = self
            .members
            .iter()
            .zip(&receives)
            .map(|(m, &r)| {
                r.then(|| {
                    K2kLayout::new(self.k2k_capacity, m.abi.inbox_slot_size() as u32)
                        .map_err(|e| Error::Actor(ActorError::Layout(e.to_string())))
                })
                .transpose()
            })
            .collect::<Result<_>>()?;
        let mut buffers: Vec<MappedBuffer> = Vec::new();
        let mut memories = Vec::new();
        let mut infos = Vec::new();
        for (id, m) in self.members.iter().enumerate() {
            let id = id as u32;
            let buffer = self.rt.alloc_mapped(m.layout.bytes())?;
            // SAFETY: a fresh, zeroed allocation of layout.bytes() bytes,
            // page-aligned, kept alive with the executor.
            let memory = unsafe { ActorMemory::init(buffer.host_ptr(), m.layout, id) }?;
            memories.push(Arc::new(memory));
            buffers.push(buffer);
            infos.push(ActorInfo {
                id,
                kernel: m.kernel.name.clone(),
                source_file: m
                    .prepared
                    .transpiled
                    .module
                    .source_file
                    .clone()
                    .unwrap_or_default(),
                abi: m.abi,
                message_type_id: m.options.message_type_id,
                reply_type_id: m.options.reply_type_id,
            });
        }
        let drivers: Vec<Box<dyn ActorDriver>> = if self.rt.is_cuda() {
            self.start_gpu(buffers, &k2k_layouts)?
        } else {
            self.start_cpu(&memories, &infos, buffers, &k2k_layouts)?
        };
        let mut cores = Vec::new();
        for (((memory, info), driver), m) in memories
            .into_iter()
            .zip(infos)
            .zip(drivers)
            .zip(&self.members)
        {
            // SAFETY: the rings were just initialised; the executor holds
            // the device halves, this handle the host halves.
            let core = Arc::new(unsafe { ActorCore::new(info, memory, driver) });
            let restarts = matches!(m.options.restart, RestartPolicy::OneForOne { max_restarts, .. } if max_restarts > 0);
            core.restarts
                .store(restarts, std::sync::atomic::Ordering::Release);
            supervisor::watch(
                std::slice::from_ref(&core),
                m.options.restart,
                m.options.hang_timeout,
                m.state.clone(),
            );
            cores.push(core);
        }
        let handles = cores
            .iter()
            .zip(&self.members)
            .map(|(c, m)| (m.make_handle)(c.clone(), self.rt))
            .collect();
        Ok(System { cores, handles })
    }

    /// The CUDA source of the system kernel that [`start`](Self::start)
    /// compiles (NVRTC) and launches on a GPU for these actors, this wiring
    /// and this placement, byte for byte: the same composition (one role
    /// per distinct handler, the placement's K2K tier, the entry symbol
    /// `rk_system_*`, `rk_cluster_system_*` or `rk_block_system_*`), headers
    /// and options, including the loop trace's and
    /// `RINGKERNEL_ACTOR_DEFINES`' options when they are set. Nothing is
    /// compiled, started or asked of the device, so it works on any backend.
    ///
    /// It exists so that a machine without a GPU (CI) can check the kernel
    /// of every system a program starts: compile it with NVRTC and assemble
    /// it with ptxas (`runtime/tests/k2k_sources.rs` does that for the K2K
    /// suites' systems, `tests/pipeline_sources.rs` for the pipeline
    /// example's), checking exactly what `start` would compile rather than
    /// a re-implementation of it. The wiring and placement checks that
    /// `start` makes before composing are made here too (a system `start`
    /// refuses has no kernel); the device's own limits (cluster size,
    /// shared memory, compute capability) are not, as no device is asked.
    pub fn cuda_source(&self) -> Result<CudaSource> {
        self.check_wiring()?;
        self.check_actor_kinds()?;
        Ok(self.compose()?.cuda)
    }

    /// At least one actor, and every port of every actor wired.
    fn check_wiring(&self) -> Result<()> {
        let wiring_error = |problem: String| Error::Actor(ActorError::Wiring { problem });
        if self.members.is_empty() {
            return Err(wiring_error("the system has no actors".into()));
        }
        for (i, m) in self.members.iter().enumerate() {
            for p in &m.info.wiring.as_ref().expect("an actor kernel").ports {
                if !self.links.iter().any(|l| l.from == i && l.port == p.port) {
                    return Err(wiring_error(format!(
                        "port {} of `{}` (actor {i}) is not wired to any actor",
                        p.port, m.info.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// Warp actors only in a block, and a block of at most
    /// [`MAX_BLOCK_ACTORS`] of them (both backends: the CPU backend holds a
    /// system to what the GPU runs).
    fn check_actor_kinds(&self) -> Result<()> {
        let placement = |e: PlacementError| Error::Actor(ActorError::Placement(e));
        for (i, m) in self.members.iter().enumerate() {
            let (actor, kernel) = (i as u32, m.kernel.name.clone());
            match (self.placement, m.abi.warp) {
                (Placement::Block, false) => {
                    return Err(placement(PlacementError::NotWarpActor { actor, kernel }))
                }
                (Placement::Gpu | Placement::Cluster, true) => {
                    return Err(placement(PlacementError::WarpActorNeedsBlock {
                        actor,
                        kernel,
                    }))
                }
                _ => {}
            }
        }
        let actors = self.members.len() as u32;
        if self.placement == Placement::Block && actors > MAX_BLOCK_ACTORS {
            return Err(placement(PlacementError::TooManyWarpActors {
                actors,
                limit: MAX_BLOCK_ACTORS,
            }));
        }
        Ok(())
    }

    /// Actor `from`'s route table, indexed by port ([`route_table`]: the
    /// destination, its type id and size, the placement's tier and rank;
    /// the backend fills the inbox in).
    fn routes(&self, from: usize) -> Vec<Option<Route>> {
        let dests: Vec<RouteDest> = self
            .members
            .iter()
            .map(|m| RouteDest {
                type_id: m.options.message_type_id,
                payload_size: m.abi.message_size as u32,
            })
            .collect();
        route_table(&self.links, &dests, from, self.placement)
    }
}

/// A running actor system. Dropping it stops every actor, in the order
/// they were added (so a pipeline added source first drains stage by stage).
pub struct System {
    cores: Vec<Arc<ActorCore>>,
    handles: Vec<Box<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("System")
            .field("actors", &self.cores.len())
            .finish()
    }
}

impl System {
    /// The handle of `member` (call, send, recv, state, stats, ...).
    pub fn actor<M: 'static, R: 'static, S: 'static>(
        &self,
        member: Member<M, R, S>,
    ) -> &Actor<M, R, S> {
        self.handles[member.index]
            .downcast_ref()
            .expect("a Member is typed by the actor it names")
    }

    /// Stops every actor in the order they were added: each drains its
    /// host and K2K inboxes (answering or dead-lettering every message)
    /// before the next one is asked, so nothing in flight between stages
    /// is lost.
    pub fn stop(&self, timeout: Duration) -> Result<()> {
        for core in &self.cores {
            core.stop(timeout).map_err(Error::Actor)?;
        }
        Ok(())
    }
}

impl Drop for System {
    fn drop(&mut self) {
        for core in &self.cores {
            let _ = core.stop(Duration::from_secs(10));
        }
    }
}

mod cpu;
mod gpu;
