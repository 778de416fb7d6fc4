//! `Runtime::spawn`: actors of one handler, started together.

use std::sync::Arc;

use crate::actor::cpu::{CpuActor, CpuDriver};
use crate::actor::gpu::{GpuLaunch, GpuStart};
use crate::actor::host::{bytes_of, ActorCore, ActorDriver, ActorInfo};
use crate::actor::memory::ActorMemory;
use crate::actor::supervisor::{self, RestartPolicy};
use crate::actor::{actor_abi, actor_layout, requested_packing, Actor, SpawnOptions};
use crate::error::Result;
use crate::{KernelSource, MappedBuffer, Runtime};

impl Runtime {
    /// Spawns `count` actors of the `#[ring_kernel]` handler `kernel` in one
    /// launch (one block each on the GPU, or one warp each for a
    /// `#[ring_kernel(warps = 1)]` handler, up to
    /// [`SpawnOptions::actors_per_block`] of them per block; one thread each
    /// on the CPU), with
    /// ids `0..count`, each with its own rings, control block and state
    /// (starting as `state`).
    ///
    /// `M`, `R` and `S` must be the handler's message, reply and state types
    /// (`()` for none): plain `#[repr(C)]` data whose sizes are checked
    /// against the kernel's layout here.
    pub fn spawn<M: Copy, R: Copy, S: Copy>(
        &self,
        kernel: &KernelSource,
        count: u32,
        state: S,
        options: &SpawnOptions,
    ) -> Result<Vec<Actor<M, R, S>>> {
        let prepared = self.prepared(kernel)?;
        let spec = prepared.kernel(&kernel.name)?;
        let info = spec.info.clone();
        let abi = actor_abi::<M, R, S>(&info)?;
        let layout = actor_layout(&abi, options)?;
        let packing = requested_packing(&info, &abi, options)?;
        if count == 0 {
            return Ok(Vec::new());
        }
        let source_file = prepared
            .transpiled
            .module
            .source_file
            .clone()
            .unwrap_or_default();
        let state_bytes = bytes_of(&state);
        let mut buffers: Vec<MappedBuffer> = Vec::new();
        let mut memories = Vec::new();
        let mut infos = Vec::new();
        for id in 0..count {
            let buffer = self.alloc_mapped(layout.bytes())?;
            // SAFETY: a fresh, zeroed allocation of layout.bytes() bytes,
            // page-aligned, kept alive with the executor (`buffers`).
            let memory = unsafe { ActorMemory::init(buffer.host_ptr(), layout, id) }?;
            memories.push(Arc::new(memory));
            buffers.push(buffer);
            infos.push(ActorInfo {
                id,
                kernel: kernel.name.clone(),
                source_file: source_file.clone(),
                abi,
                message_type_id: options.message_type_id,
                reply_type_id: options.reply_type_id,
            });
        }
        let drivers: Vec<Box<dyn ActorDriver>> = if self.is_cuda() {
            let state: &[u8] = if abi.state_size > 0 {
                &state_bytes
            } else {
                &[]
            };
            let launch = GpuLaunch::start(
                self,
                GpuStart {
                    kernel,
                    info: &info,
                    layout,
                    buffers,
                    state,
                    message_type_id: options.message_type_id,
                    reply_type_id: options.reply_type_id,
                    actors_per_block: packing,
                },
            )?;
            (0..count)
                .map(|id| Box::new(launch.driver(id)) as Box<dyn ActorDriver>)
                .collect()
        } else {
            crate::cpu::program(&prepared, &kernel.name)?;
            let program = prepared.clone();
            let buffers = Arc::new(buffers);
            memories
                .iter()
                .zip(&infos)
                .map(|(memory, info_of)| {
                    let driver = CpuDriver::start(CpuActor {
                        program: program.clone(),
                        handler: kernel.name.clone(),
                        block: info.block,
                        info: info_of.clone(),
                        memory: memory.clone(),
                        state: (abi.state_size > 0).then(|| state_bytes.clone()),
                        keep_alive: buffers.clone(),
                        k2k: None,
                        routes: Vec::new(),
                    });
                    Box::new(driver) as Box<dyn ActorDriver>
                })
                .collect()
        };
        let restarts = matches!(options.restart, RestartPolicy::OneForOne { max_restarts, .. } if max_restarts > 0);
        let cores: Vec<Arc<ActorCore>> = memories
            .into_iter()
            .zip(infos)
            .zip(drivers)
            .map(|((memory, info), driver)| {
                // SAFETY: the rings were just initialised; the executor holds
                // the device halves, this handle the host halves.
                let core = unsafe { ActorCore::new(info, memory, driver) };
                core.restarts
                    .store(restarts, std::sync::atomic::Ordering::Release);
                Arc::new(core)
            })
            .collect();
        supervisor::watch(&cores, options.restart, options.hang_timeout, state_bytes);
        Ok(cores.into_iter().map(|c| Actor::new(c, self)).collect())
    }
}
