//! Actors: spawning `#[ring_kernel]` handlers and talking to them.
//!
//! - `host`: the host side of one actor's protocol (`ActorCore`: rings,
//!   envelopes, host HLC, dead letters, stop, restart), untyped.
//! - `handle`: the typed [`Actor`] handle (call, send, recv, state,
//!   stats, stop, restart, dead letters), the same on every backend.
//! - `memory`: the control block and rings one actor shares with its
//!   executor, carved from one allocation.
//! - `cpu`: the CPU backend's executor (a thread per actor running the
//!   interpreter under the device protocol).
//! - `k2k_queue`: the CPU backend's K2K inbox, `rk_k2k.cuh`'s lock-free
//!   multi-producer queue with the actor loop's close.
//! - `gpu`: the GPU executor: one persistent launch of the kernel the
//!   transpiler's CUDA back end wrote over `rk_actor.cuh`, one block per
//!   actor.
//! - `async_io` (feature `async`): the poller thread that wakes
//!   `call_async`/`recv_async` futures.
//! - `supervisor`: the watchdog: restart policy, hang detection.
//! - `spawn`: `Runtime::spawn`, which lays out the memory (mapped pinned
//!   memory on the GPU, the heap on the CPU) and starts the executor.

#[cfg(feature = "async")]
pub(crate) mod async_io;
mod cpu;
mod error;
mod gpu;
mod handle;
mod host;
mod k2k_queue;
mod memory;
mod placement;
mod spawn;
mod supervisor;
mod system;

use ringkernel_device::ring::RingLayout;
use ringkernel_transpiler::back::cuda::{ActorAbi, KernelInfo};

pub use error::{ActorError, SourceLocation};
pub use handle::Actor;
pub use host::{ActorStats, DeadLetter, Envelope, LoopTrace};
pub use placement::{ClusterLimit, Placement, PlacementError, MAX_BLOCK_ACTORS, MAX_CLUSTER};
pub use supervisor::RestartPolicy;
pub use system::{Member, System, SystemBuilder, DEFAULT_K2K_CAPACITY};

use memory::ActorLayout;

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
    /// What the supervisor does when a handler faults.
    pub restart: RestartPolicy,
    /// Report an actor as hung when its heartbeat stands still this long
    /// while messages wait; `None` turns the hang watchdog off.
    pub hang_timeout: Option<std::time::Duration>,
    /// How many `#[ring_kernel(warps = 1)]` actors of one spawn share a
    /// block on the GPU (1 to 8, one warp each): `None` lets the runtime
    /// choose (as many as the spawn has, up to 8, as the shared memory
    /// allows). Packed actors cost one block between them but share its
    /// multiprocessor; `Some(1)` gives each its own block. Handlers whose
    /// actor is a block take only `None` or `Some(1)`. The CPU backend runs
    /// every actor on its own thread either way.
    pub actors_per_block: Option<u32>,
}

impl Default for SpawnOptions {
    fn default() -> Self {
        SpawnOptions {
            inbox_capacity: 256,
            outbox_capacity: 256,
            message_type_id: 0,
            reply_type_id: 0,
            restart: RestartPolicy::Never,
            hang_timeout: Some(std::time::Duration::from_secs(5)),
            actors_per_block: None,
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

/// The actors per block `options` ask for, checked against what the
/// handler allows (`None`: the runtime chooses).
pub(crate) fn requested_packing(
    kernel: &KernelInfo,
    abi: &ActorAbi,
    options: &SpawnOptions,
) -> Result<Option<u32>, ActorError> {
    match options.actors_per_block {
        Some(p) if p == 0 || p > abi.max_per_block() => Err(ActorError::Packing {
            kernel: kernel.name.clone(),
            requested: p,
            max: abi.max_per_block(),
        }),
        other => Ok(other),
    }
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
        // Flagged copies (rk_ring.cuh) let an idle GPU actor take a call in
        // one PCIe round trip; the CPU backend reads the slots and ignores them.
        inbox: ring(options.inbox_capacity, abi.inbox_slot_size())?.with_flagged_copy(),
        // The device writes a lone call's reply to its copy as well, so the
        // host takes it before the closing fence and the tail (rk_actor_call_one).
        outbox: ring(options.outbox_capacity, abi.outbox_slot_size())?.with_flagged_copy(),
    })
}
