//! What can go wrong with an actor, as its handle reports it.

use std::fmt;

use ringkernel_device::control::FaultKind;

/// Where in the user's Rust source a handler faulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// An actor operation that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActorError {
    /// The handler faulted on the message with this sequence number; the
    /// message is in the dead-letter queue. Until the supervisor restarts
    /// the actor (or forever, with no restart policy) it processes nothing.
    #[error("actor {actor}: handler fault ({kind:?}) at {location} on message {sequence}")]
    Fault {
        actor: u32,
        kind: FaultKind,
        location: SourceLocation,
        sequence: u64,
    },
    /// A message the actor did not accept (wrong type id or size), dead-lettered.
    #[error("actor {actor}: message {sequence} was rejected as {kind:?}")]
    Rejected {
        actor: u32,
        kind: FaultKind,
        sequence: u64,
    },
    /// The actor is Failed (after the fault reported for an earlier
    /// message) and will not be restarted by the supervisor: its policy is
    /// `Never` or its restarts are exhausted. Queued messages wait for
    /// `Actor::restart`.
    #[error("actor {actor}: failed and not restarting (restart it with Actor::restart)")]
    Failed { actor: u32 },
    /// The watchdog saw no heartbeat for longer than the hang timeout while
    /// messages were waiting.
    #[error("actor {actor}: hung (no heartbeat with messages pending)")]
    Hung { actor: u32 },
    /// The actor's CUDA context was lost to a hard device fault: the actor
    /// is gone with its state. `unanswered` requests were still in its
    /// inbox (not answered, and never will be on this handle; replies
    /// published before the fault are received first). Drop the handle,
    /// call `Runtime::recover`, and spawn again.
    #[error(
        "actor {actor}: the CUDA context is lost ({cause}); {unanswered} request(s) unanswered"
    )]
    ContextLost {
        actor: u32,
        cause: String,
        unanswered: u64,
    },
    /// `try_send` found the inbox full (backpressure; nothing was sent).
    #[error("actor {actor}: inbox full")]
    Full { actor: u32 },
    /// Nothing arrived within the timeout.
    #[error("actor {actor}: no reply within {millis} ms")]
    Timeout { actor: u32, millis: u128 },
    /// The actor has stopped (or its kernel ended); no more messages.
    #[error("actor {actor}: stopped")]
    Stopped { actor: u32 },
    /// The handler cannot reply (it returns `()`), so there is nothing to receive.
    #[error("actor {actor}: the handler returns nothing, so there are no replies to receive")]
    NoReplies { actor: u32 },
    /// The Rust types do not match the kernel's (sizes from the derives
    /// against the sizes the transpiler laid out).
    #[error("actor `{kernel}`: {problem}")]
    TypeMismatch { kernel: String, problem: String },
    /// `SpawnOptions::actors_per_block` asks for a packing the handler
    /// does not allow.
    #[error(
        "actor `{kernel}`: {requested} actors per block requested; this handler allows 1 to {max} \
         (only `#[ring_kernel(warps = 1)]` actors share a block, up to 8)"
    )]
    Packing {
        kernel: String,
        requested: u32,
        max: u32,
    },
    /// The ring geometry could not be built.
    #[error("actor memory layout: {0}")]
    Layout(String),
    /// An actor system's wiring is wrong (a port that does not exist or
    /// carries another type, a port wired twice or not at all).
    #[error("actor system wiring: {problem}")]
    Wiring { problem: String },
    /// An actor system cannot run with the placement it asked for (too
    /// many actors for a cluster, no clusters on the device, inboxes too
    /// large for shared memory).
    #[error("actor system placement: {0}")]
    Placement(#[from] super::placement::PlacementError),
    /// The other side broke the protocol (an unknown state code, a reply
    /// to no request): a runtime or device bug.
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// The CPU backend found an error the GPU would hide (a divergent
    /// barrier, a data race) or could not run the handler.
    #[error("actor {actor}: {detail}")]
    Interpreter { actor: u32, detail: String },
}
