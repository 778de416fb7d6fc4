//! The per-actor control block, mirrored from `cuda/rk_control.cuh`.
//!
//! It is how the runtime supervises an actor it cannot otherwise see: the
//! lifecycle state, a heartbeat for the hang watchdog, message counters, and
//! the last fault with its Rust source location, plus the stop request the
//! host writes. The device writes line 0, the host writes line 1, so the two
//! writers never share a 128-byte line.

use core::mem::{align_of, offset_of, size_of};

/// Lifecycle state of an actor (`enum rk_lifecycle`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lifecycle {
    /// Allocated, not yet started.
    Dormant = 0,
    /// The kernel is attaching rings and state.
    Initializing = 1,
    /// Processing messages.
    Active = 2,
    /// Stop requested: finishing the inbox.
    Draining = 3,
    /// Stopped cleanly.
    Terminated = 4,
    /// A handler faulted; see [`ControlBlock::last_fault`].
    Failed = 5,
}

impl Lifecycle {
    /// Every state, in code order (for tests and tables).
    pub const ALL: [Lifecycle; 6] = [
        Lifecycle::Dormant,
        Lifecycle::Initializing,
        Lifecycle::Active,
        Lifecycle::Draining,
        Lifecycle::Terminated,
        Lifecycle::Failed,
    ];

    /// The `RK_STATE_*` constant for this state.
    pub fn cuda_name(self) -> &'static str {
        match self {
            Lifecycle::Dormant => "RK_STATE_DORMANT",
            Lifecycle::Initializing => "RK_STATE_INITIALIZING",
            Lifecycle::Active => "RK_STATE_ACTIVE",
            Lifecycle::Draining => "RK_STATE_DRAINING",
            Lifecycle::Terminated => "RK_STATE_TERMINATED",
            Lifecycle::Failed => "RK_STATE_FAILED",
        }
    }
}

/// A `state` word that is not a known [`Lifecycle`] code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown lifecycle state code {0}")]
pub struct UnknownLifecycle(pub u32);

impl TryFrom<u32> for Lifecycle {
    type Error = UnknownLifecycle;
    fn try_from(code: u32) -> Result<Self, Self::Error> {
        Lifecycle::ALL
            .into_iter()
            .find(|s| *s as u32 == code)
            .ok_or(UnknownLifecycle(code))
    }
}

/// What went wrong in a handler (`enum rk_actor_fault_kind`). Codes 1-5 are
/// the transpiler's kernel fault codes (`rk_rust.cuh`), copied by the actor
/// loop from the handler's fault record.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    None = 0,
    IndexOutOfBounds = 1,
    /// Division or remainder by zero, or `MIN / -1`.
    DivisionByZero = 2,
    /// Overflow of add, sub, mul, neg or shift with overflow checks on.
    Overflow = 3,
    /// An intrinsic's argument out of its domain.
    InvalidArgument = 4,
    /// `panic!`, a failed `assert!`, `unreachable!`.
    Panic = 5,
    /// Wrong type id or payload size for this actor.
    BadMessage = 6,
    /// `ctx.send` on a port the host wired to no actor.
    Unrouted = 7,
    /// `ctx.send` to an actor that has terminated.
    Undeliverable = 8,
}

impl FaultKind {
    /// Every kind, in code order.
    pub const ALL: [FaultKind; 9] = [
        FaultKind::None,
        FaultKind::IndexOutOfBounds,
        FaultKind::DivisionByZero,
        FaultKind::Overflow,
        FaultKind::InvalidArgument,
        FaultKind::Panic,
        FaultKind::BadMessage,
        FaultKind::Unrouted,
        FaultKind::Undeliverable,
    ];

    /// The `RK_ACTOR_FAULT_*` constant for this kind.
    pub fn cuda_name(self) -> &'static str {
        match self {
            FaultKind::None => "RK_ACTOR_FAULT_NONE",
            FaultKind::IndexOutOfBounds => "RK_ACTOR_FAULT_INDEX_OUT_OF_BOUNDS",
            FaultKind::DivisionByZero => "RK_ACTOR_FAULT_DIVISION_BY_ZERO",
            FaultKind::Overflow => "RK_ACTOR_FAULT_OVERFLOW",
            FaultKind::InvalidArgument => "RK_ACTOR_FAULT_INVALID_ARGUMENT",
            FaultKind::Panic => "RK_ACTOR_FAULT_PANIC",
            FaultKind::BadMessage => "RK_ACTOR_FAULT_BAD_MESSAGE",
            FaultKind::Unrouted => "RK_ACTOR_FAULT_UNROUTED",
            FaultKind::Undeliverable => "RK_ACTOR_FAULT_UNDELIVERABLE",
        }
    }
}

/// A `kind` word that is not a known [`FaultKind`] code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault kind code {0}")]
pub struct UnknownFaultKind(pub u32);

impl TryFrom<u32> for FaultKind {
    type Error = UnknownFaultKind;
    fn try_from(code: u32) -> Result<Self, Self::Error> {
        FaultKind::ALL
            .into_iter()
            .find(|k| *k as u32 == code)
            .ok_or(UnknownFaultKind(code))
    }
}

/// `struct rk_actor_fault`: a fault and its location in the Rust source.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ActorFault {
    /// Envelope sequence number of the faulting message.
    pub sequence: u64,
    /// A [`FaultKind`] code.
    pub kind: u32,
    /// Index into the module's source-file table.
    pub file_id: u32,
    /// 1-based Rust line.
    pub line: u32,
    /// 1-based Rust column.
    pub column: u32,
}

const _: () = {
    assert!(size_of::<ActorFault>() == 24);
    assert!(align_of::<ActorFault>() == 8);
    assert!(offset_of!(ActorFault, sequence) == 0);
    assert!(offset_of!(ActorFault, kind) == 8);
    assert!(offset_of!(ActorFault, file_id) == 12);
    assert!(offset_of!(ActorFault, line) == 16);
    assert!(offset_of!(ActorFault, column) == 20);
};

/// `struct rk_control_block`: 256 bytes, 128-byte aligned.
///
/// Access from the host goes through atomics of the field's width (the
/// device writes these concurrently): read `fault_count` with an acquire
/// load before `last_fault`, and `state` with an acquire load; write
/// `stop_requested` with a release store.
#[repr(C, align(128))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlBlock {
    /// A [`Lifecycle`] code (device-written).
    pub state: u32,
    /// The actor's id (host-written before launch).
    pub actor_id: u32,
    /// Grows while the actor's loop runs.
    pub heartbeat: u64,
    /// Messages taken from the inbox.
    pub messages_in: u64,
    /// Replies published to the outbox.
    pub messages_out: u64,
    /// Faults recorded; stored (release) after `last_fault`.
    pub fault_count: u64,
    pub last_fault: ActorFault,
    pub device_pad: [u8; 64],
    /// Nonzero asks the actor to drain its inbox and terminate (host-written).
    pub stop_requested: u32,
    /// A counter: each increment restarts a Failed actor (host-written).
    pub restart_requested: u32,
    pub host_pad: [u8; 120],
}

const _: () = {
    assert!(size_of::<ControlBlock>() == 256);
    assert!(align_of::<ControlBlock>() == 128);
    assert!(offset_of!(ControlBlock, state) == 0);
    assert!(offset_of!(ControlBlock, actor_id) == 4);
    assert!(offset_of!(ControlBlock, heartbeat) == 8);
    assert!(offset_of!(ControlBlock, messages_in) == 16);
    assert!(offset_of!(ControlBlock, messages_out) == 24);
    assert!(offset_of!(ControlBlock, fault_count) == 32);
    assert!(offset_of!(ControlBlock, last_fault) == 40);
    assert!(offset_of!(ControlBlock, device_pad) == 64);
    assert!(offset_of!(ControlBlock, stop_requested) == 128);
    assert!(offset_of!(ControlBlock, restart_requested) == 132);
    assert!(offset_of!(ControlBlock, host_pad) == 136);
};

impl ControlBlock {
    /// The image the host writes before launch: Dormant, zero counters.
    pub fn new(actor_id: u32) -> ControlBlock {
        ControlBlock {
            state: Lifecycle::Dormant as u32,
            actor_id,
            heartbeat: 0,
            messages_in: 0,
            messages_out: 0,
            fault_count: 0,
            last_fault: ActorFault::default(),
            device_pad: [0; 64],
            stop_requested: 0,
            restart_requested: 0,
            host_pad: [0; 120],
        }
    }

    /// The decoded lifecycle state.
    pub fn lifecycle(&self) -> Result<Lifecycle, UnknownLifecycle> {
        Lifecycle::try_from(self.state)
    }
}

/// `struct rk_actor_desc`: what the host gives the persistent kernel for
/// each actor (one per block, in device memory). The pointers are device
/// addresses (of mapped pinned host memory for the control block and the
/// rings, of device memory for the state).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ActorDesc {
    pub control: u64,
    pub inbox: u64,
    pub outbox: u64,
    /// Zero when the actor is stateless.
    pub state: u64,
    /// Host time minus `%globaltimer`, calibrated at launch.
    pub hlc_offset_ns: i64,
    /// The actor's id, also its HLC node id.
    pub actor_id: u32,
    /// The type id every request must carry.
    pub message_type_id: u32,
    /// The type id replies carry.
    pub reply_type_id: u32,
    /// Messages the loop stages per poll: the capacity of the dynamic
    /// shared memory the launch gives each block (0: the handler's default,
    /// in static shared memory terms; see `rk_actor.cuh`).
    pub batch: u32,
    /// The actor's K2K inbox (`rk_k2k_header`), zero when no actor sends
    /// to it: its device address, or, in a cluster-placed system, its byte
    /// offset in the block's dynamic shared memory (as [`Route::inbox`]).
    pub k2k_inbox: u64,
    /// The route table (`rk_route` per port, device memory), zero when the
    /// actor sends nothing.
    pub routes: u64,
    /// Entries in `routes`.
    pub route_count: u32,
    /// Which handler of a system kernel runs this actor.
    pub role: u32,
    /// The K2K inbox's slots (0 without one): a block whose inbox lives in
    /// its shared memory lays it out from these.
    pub k2k_capacity: u32,
    /// The K2K inbox's slot size in bytes.
    pub k2k_slot_size: u32,
    /// The shared-memory tiers (block and cluster placements, whose inboxes
    /// are `rk_k2k_mbar`'s): the byte offset of this actor's inbox's credit
    /// array (its empty barriers) in the dynamic shared memory; 0 without an
    /// inbox and in the global tier.
    pub k2k_credit: u32,
    /// Cluster placement: the ranks (bit r: block r) holding a copy of the
    /// credit array, one per block that sends to this inbox; 0 otherwise.
    pub k2k_credit_ranks: u32,
    /// The system's credit arrays, one run of 8-byte barriers at this
    /// offset in every block's dynamic shared memory (a cluster block lays
    /// all of it out; in a block-placed system each receiver its own array);
    /// 0 in the global tier.
    pub k2k_credits: u32,
    /// Bytes of that run.
    pub k2k_credits_bytes: u32,
}

/// `struct rk_route`: where `ctx.send(port, ..)` goes (one per port).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Route {
    /// The destination's K2K inbox; zero for a port with no route (a send
    /// on it faults with [`FaultKind::Unrouted`]). A send gives up with
    /// [`FaultKind::Undeliverable`] once the destination closed it
    /// (terminated). [`ROUTE_TIER_GLOBAL`]: its device address;
    /// [`ROUTE_TIER_DSMEM`]: its byte offset in the dynamic shared memory
    /// of the cluster's block `rank`; [`ROUTE_TIER_SHARED`]: its byte
    /// offset in the sender's own block's dynamic shared memory.
    pub inbox: u64,
    pub dest_actor: u32,
    /// The type id the destination accepts.
    pub type_id: u32,
    /// The destination's message size.
    pub payload_size: u32,
    /// [`ROUTE_TIER_GLOBAL`], [`ROUTE_TIER_DSMEM`] or [`ROUTE_TIER_SHARED`].
    pub tier: u32,
    /// [`ROUTE_TIER_DSMEM`]: the destination block's rank in the cluster.
    pub rank: u32,
    /// [`ROUTE_TIER_DSMEM`], [`ROUTE_TIER_SHARED`]: the byte offset of the
    /// destination inbox's credit array (`rk_k2k_mbar`'s empty barriers) in
    /// the sender's own block's dynamic shared memory; 0 for the global tier.
    pub credit: u32,
    /// [`ROUTE_SOLE_PRODUCER`] when this route is the only one into its
    /// destination's inbox (one sending actor, one port), else 0.
    pub flags: u32,
    /// Zero.
    pub reserved: u32,
}

/// `RK_ROUTE_SOLE_PRODUCER`: the route is the only one into its
/// destination's inbox, so the sender's leader thread is the inbox's only
/// producer: it takes positions by its own count and announces each on
/// the inbox's tail, with no claim CAS on the way to the message's stores.
pub const ROUTE_SOLE_PRODUCER: u32 = 1;

/// `RK_ROUTE_TIER_GLOBAL`: the inbox is in device global memory.
pub const ROUTE_TIER_GLOBAL: u32 = 0;
/// `RK_ROUTE_TIER_DSMEM`: the inbox is in the shared memory of another
/// block of the sender's thread-block cluster.
pub const ROUTE_TIER_DSMEM: u32 = 1;
/// `RK_ROUTE_TIER_SHARED`: the inbox is in the shared memory of the
/// sender's own block (warp actors of one block).
pub const ROUTE_TIER_SHARED: u32 = 2;

const _: () = {
    assert!(size_of::<Route>() == 40);
    assert!(offset_of!(Route, inbox) == 0);
    assert!(offset_of!(Route, dest_actor) == 8);
    assert!(offset_of!(Route, type_id) == 12);
    assert!(offset_of!(Route, payload_size) == 16);
    assert!(offset_of!(Route, tier) == 20);
    assert!(offset_of!(Route, rank) == 24);
    assert!(offset_of!(Route, credit) == 28);
    assert!(offset_of!(Route, flags) == 32);
    assert!(offset_of!(Route, reserved) == 36);
};

const _: () = {
    assert!(size_of::<ActorDesc>() == 104);
    assert!(align_of::<ActorDesc>() == 8);
    assert!(offset_of!(ActorDesc, control) == 0);
    assert!(offset_of!(ActorDesc, inbox) == 8);
    assert!(offset_of!(ActorDesc, outbox) == 16);
    assert!(offset_of!(ActorDesc, state) == 24);
    assert!(offset_of!(ActorDesc, hlc_offset_ns) == 32);
    assert!(offset_of!(ActorDesc, actor_id) == 40);
    assert!(offset_of!(ActorDesc, message_type_id) == 44);
    assert!(offset_of!(ActorDesc, reply_type_id) == 48);
    assert!(offset_of!(ActorDesc, batch) == 52);
    assert!(offset_of!(ActorDesc, k2k_inbox) == 56);
    assert!(offset_of!(ActorDesc, routes) == 64);
    assert!(offset_of!(ActorDesc, route_count) == 72);
    assert!(offset_of!(ActorDesc, role) == 76);
    assert!(offset_of!(ActorDesc, k2k_capacity) == 80);
    assert!(offset_of!(ActorDesc, k2k_slot_size) == 84);
    assert!(offset_of!(ActorDesc, k2k_credit) == 88);
    assert!(offset_of!(ActorDesc, k2k_credit_ranks) == 92);
    assert!(offset_of!(ActorDesc, k2k_credits) == 96);
    assert!(offset_of!(ActorDesc, k2k_credits_bytes) == 100);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_errors() {
        for state in Lifecycle::ALL {
            assert_eq!(Lifecycle::try_from(state as u32), Ok(state));
        }
        assert_eq!(Lifecycle::try_from(6), Err(UnknownLifecycle(6)));
        for kind in FaultKind::ALL {
            assert_eq!(FaultKind::try_from(kind as u32), Ok(kind));
        }
        assert_eq!(FaultKind::try_from(99), Err(UnknownFaultKind(99)));
        assert_eq!(
            ControlBlock::new(3).lifecycle(),
            Ok(Lifecycle::Dormant),
            "a fresh block is dormant"
        );
    }
}
