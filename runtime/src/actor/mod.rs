//! Actors: spawning `#[ring_kernel]` handlers and talking to them.
//!
//! - [`handle`]: the typed [`Actor`] handle (call, send, recv, state,
//!   stats, stop, restart, dead letters), the same on every backend.
//! - [`memory`]: the control block and rings one actor shares with its
//!   executor, carved from one allocation.
//! - [`cpu`]: the CPU backend's executor (a thread per actor running the
//!   interpreter under the device protocol).
//!
//! The GPU executor is the persistent kernel written by the transpiler's
//! CUDA back end over `rk_actor.cuh`.

mod cpu;
mod error;
mod handle;
mod memory;

use std::alloc::Layout;
use std::sync::Arc;

use ringkernel_device::ring::RingLayout;
use ringkernel_transpiler::back::cuda::{ActorAbi, KernelInfo};
use ringkernel_transpiler::interp::Program;
use ringkernel_transpiler::source::KernelSource;

pub use error::{ActorError, SourceLocation};
pub use handle::{Actor, ActorStats, DeadLetter, Envelope};

use cpu::{CpuActor, CpuDriver};
use handle::{bytes_of as value_bytes, ActorCore, ActorInfo};
use memory::{ActorLayout, ActorMemory};

/// How to spawn actors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnOptions {
    /// Inbox slots (a power of two): how many requests may be queued before
    /// `send` waits and `try_send` fails.
    pub inbox_capacity: u32,
    /// Outbox slots (a power of two): replies the host has not read yet.
    pub outbox_capacity: u32,
    /// The type id requests carry (`RingMessage::TYPE_ID` of `M`).
    pub message_type_id: u32,
    /// The type id replies carry.
    pub reply_type_id: u32,
}

impl Default for SpawnOptions {
    fn default() -> Self {
        SpawnOptions {
            inbox_capacity: 256,
            outbox_capacity: 256,
            message_type_id: 0,
            reply_type_id: 0,
        }
    }
}

/// The kernel's actor ABI, after checking that the Rust types match it.
pub(crate) fn actor_abi<M, R, S>(kernel: &KernelInfo) -> Result<ActorAbi, ActorError> {
    let abi = kernel.actor.ok_or_else(|| ActorError::TypeMismatch {
        kernel: kernel.name.clone(),
        problem: "not a #[ring_kernel] handler".into(),
    })?;
    let check = |what: &str, rust: usize, device: u64| {
        if rust as u64 == device {
            Ok(())
        } else {
            Err(ActorError::TypeMismatch {
                kernel: kernel.name.clone(),
                problem: format!(
                    "the {what} type is {rust} bytes in Rust but {device} bytes in the kernel"
                ),
            })
        }
    };
    check("message", size_of::<M>(), abi.message_size)?;
    check("reply", size_of::<R>(), abi.reply_size)?;
    check("state", size_of::<S>(), abi.state_size)?;
    Ok(abi)
}

/// The ring geometry of an actor with `abi`.
pub(crate) fn actor_layout(
    abi: &ActorAbi,
    options: &SpawnOptions,
) -> Result<ActorLayout, ActorError> {
    let ring = |capacity, slot: u64| {
        RingLayout::new(capacity, slot as u32).map_err(|e| ActorError::Layout(e.to_string()))
    };
    Ok(ActorLayout {
        inbox: ring(options.inbox_capacity, abi.inbox_slot_size())?,
        outbox: ring(options.outbox_capacity, abi.outbox_slot_size())?,
    })
}

/// Heap memory for one actor on the CPU backend (128-aligned, zeroed).
#[derive(Debug)]
struct HeapBlock {
    ptr: *mut u8,
    layout: Layout,
}

// SAFETY: a plain allocation; access is coordinated by ActorMemory.
unsafe impl Send for HeapBlock {}
unsafe impl Sync for HeapBlock {}

impl HeapBlock {
    fn new(bytes: usize) -> HeapBlock {
        let layout = Layout::from_size_align(bytes.max(128), 128).expect("actor memory layout");
        // SAFETY: nonzero size.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        if ptr.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        HeapBlock { ptr, layout }
    }
}

impl Drop for HeapBlock {
    fn drop(&mut self) {
        // SAFETY: allocated in new with this layout.
        unsafe { std::alloc::dealloc(self.ptr, self.layout) }
    }
}

/// Actor memory and the heap block it lives in (dropped together, memory
/// first).
#[derive(Debug)]
struct OwnedMemory {
    memory: ActorMemory,
    _block: HeapBlock,
}

/// Spawns `count` actors of the handler `kernel` on the CPU backend, each
/// with its own state (starting as `state`), rings and control block, and
/// ids `0..count`.
pub fn spawn_cpu<M: Copy, R: Copy, S: Copy>(
    kernel: &KernelSource,
    count: u32,
    state: S,
    options: &SpawnOptions,
) -> Result<Vec<Actor<M, R, S>>, crate::actor::ActorError> {
    let transpiled = kernel.transpile().map_err(|e| ActorError::TypeMismatch {
        kernel: kernel.name.clone(),
        problem: e.to_string(),
    })?;
    let info = transpiled
        .cuda
        .kernels
        .iter()
        .find(|k| k.name == kernel.name)
        .ok_or_else(|| ActorError::TypeMismatch {
            kernel: kernel.name.clone(),
            problem: "no such entry point".into(),
        })?
        .clone();
    let abi = actor_abi::<M, R, S>(&info)?;
    let layout = actor_layout(&abi, options)?;
    let program =
        Arc::new(
            Program::compile(&transpiled.module).map_err(|e| ActorError::Interpreter {
                actor: 0,
                detail: e.to_string(),
            })?,
        );
    let source_file = transpiled.module.source_file.clone().unwrap_or_default();
    let mut actors = Vec::new();
    for id in 0..count {
        let block = HeapBlock::new(layout.bytes());
        // SAFETY: a fresh, zeroed, 128-aligned block of layout.bytes().
        let memory = unsafe { ActorMemory::init(block.ptr, layout, id) }?;
        let owned = Arc::new(OwnedMemory {
            memory,
            _block: block,
        });
        let memory = Arc::new(ActorMemory {
            control: owned.memory.control,
            inbox: owned.memory.inbox,
            outbox: owned.memory.outbox,
        });
        let actor_info = ActorInfo {
            id,
            kernel: kernel.name.clone(),
            source_file: source_file.clone(),
            abi,
            message_type_id: options.message_type_id,
            reply_type_id: options.reply_type_id,
        };
        let driver = CpuDriver::start(CpuActor {
            program: program.clone(),
            handler: kernel.name.clone(),
            block: info.block,
            info: actor_info.clone(),
            memory: memory.clone(),
            state: (abi.state_size > 0).then(|| value_bytes(&state)),
        });
        let driver = KeepAlive {
            driver,
            _memory: owned,
        };
        // SAFETY: the rings were just initialised; the executor thread holds
        // the device halves, the handle the host halves.
        let core = unsafe { ActorCore::new(actor_info, memory, Box::new(driver)) };
        actors.push(Actor::new(Arc::new(core)));
    }
    Ok(actors)
}

/// A driver that also keeps its actor's memory alive until it is dropped
/// (after the executor has been joined).
#[derive(Debug)]
struct KeepAlive<D> {
    driver: D,
    _memory: Arc<OwnedMemory>,
}

impl<D: handle::ActorDriver> handle::ActorDriver for KeepAlive<D> {
    fn read_state(&self, out: &mut [u8]) -> Result<(), ActorError> {
        self.driver.read_state(out)
    }
    fn write_state(&self, bytes: &[u8]) -> Result<(), ActorError> {
        self.driver.write_state(bytes)
    }
    fn running(&self) -> bool {
        self.driver.running()
    }
    fn join(&self) -> Result<(), ActorError> {
        self.driver.join()
    }
    fn failure(&self) -> Option<String> {
        self.driver.failure()
    }
}
