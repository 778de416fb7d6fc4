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

/// What went wrong in a handler (`enum rk_fault_kind`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    None = 0,
    /// An explicit `panic!`.
    Panic = 1,
    IndexOutOfBounds = 2,
    DivideByZero = 3,
    RemainderByZero = 4,
    /// Overflow of add, sub, mul, neg or shift with overflow checks on.
    ArithmeticOverflow = 5,
    /// Wrong type id or payload size for this actor.
    BadMessage = 6,
    /// `unreachable!()` was reached.
    Unreachable = 7,
}

impl FaultKind {
    /// Every kind, in code order.
    pub const ALL: [FaultKind; 8] = [
        FaultKind::None,
        FaultKind::Panic,
        FaultKind::IndexOutOfBounds,
        FaultKind::DivideByZero,
        FaultKind::RemainderByZero,
        FaultKind::ArithmeticOverflow,
        FaultKind::BadMessage,
        FaultKind::Unreachable,
    ];

    /// The `RK_FAULT_*` constant for this kind.
    pub fn cuda_name(self) -> &'static str {
        match self {
            FaultKind::None => "RK_FAULT_NONE",
            FaultKind::Panic => "RK_FAULT_PANIC",
            FaultKind::IndexOutOfBounds => "RK_FAULT_INDEX_OUT_OF_BOUNDS",
            FaultKind::DivideByZero => "RK_FAULT_DIVIDE_BY_ZERO",
            FaultKind::RemainderByZero => "RK_FAULT_REMAINDER_BY_ZERO",
            FaultKind::ArithmeticOverflow => "RK_FAULT_ARITHMETIC_OVERFLOW",
            FaultKind::BadMessage => "RK_FAULT_BAD_MESSAGE",
            FaultKind::Unreachable => "RK_FAULT_UNREACHABLE",
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

/// `struct rk_fault_record`: a fault and its location in the Rust source.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FaultRecord {
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
    assert!(size_of::<FaultRecord>() == 24);
    assert!(align_of::<FaultRecord>() == 8);
    assert!(offset_of!(FaultRecord, sequence) == 0);
    assert!(offset_of!(FaultRecord, kind) == 8);
    assert!(offset_of!(FaultRecord, file_id) == 12);
    assert!(offset_of!(FaultRecord, line) == 16);
    assert!(offset_of!(FaultRecord, column) == 20);
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
    pub last_fault: FaultRecord,
    pub device_pad: [u8; 64],
    /// Nonzero asks the actor to drain its inbox and terminate (host-written).
    pub stop_requested: u32,
    pub host_pad: [u8; 124],
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
    assert!(offset_of!(ControlBlock, host_pad) == 132);
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
            last_fault: FaultRecord::default(),
            device_pad: [0; 64],
            stop_requested: 0,
            host_pad: [0; 124],
        }
    }

    /// The decoded lifecycle state.
    pub fn lifecycle(&self) -> Result<Lifecycle, UnknownLifecycle> {
        Lifecycle::try_from(self.state)
    }
}

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
