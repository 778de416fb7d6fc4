//! The memory one actor shares with whatever runs it: its control block,
//! its inbox and its outbox, carved from one allocation.
//!
//! On the GPU the allocation is mapped pinned host memory (both sides reach
//! it without copies; the device addresses go into the actor's
//! `rk_actor_desc`); on the CPU backend it is ordinary heap memory shared
//! with the thread that plays the device. The layout is the same:
//!
//! ```text
//! 0                      control block (256 B, 128-aligned)
//! 256                    inbox ring  (RingLayout::bytes, 128-aligned)
//! 256 + inbox            outbox ring
//! ```

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use ringkernel_device::control::{ActorFault, ControlBlock, Lifecycle};
use ringkernel_device::ring::{RawRing, RingLayout};

use super::error::ActorError;

/// Byte offsets of the three parts of an actor's shared memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ActorLayout {
    pub inbox: RingLayout,
    pub outbox: RingLayout,
}

impl ActorLayout {
    pub const INBOX: usize = 256;

    pub fn outbox_offset(&self) -> usize {
        (Self::INBOX + self.inbox.bytes()).next_multiple_of(128)
    }

    pub fn bytes(&self) -> usize {
        (self.outbox_offset() + self.outbox.bytes()).next_multiple_of(128)
    }
}

/// One actor's shared memory, initialised (control block Dormant, rings
/// empty). `base` must stay valid, 128-aligned and `layout.bytes()` long
/// for as long as this value lives; the owner keeps it alive.
#[derive(Debug)]
pub(crate) struct ActorMemory {
    pub control: *mut ControlBlock,
    pub inbox: RawRing,
    pub outbox: RawRing,
}

// SAFETY: the pointers address memory owned alongside this value for its
// whole life; every shared field is accessed through atomics (control
// block) or the ring protocol (RawRing is Send + Sync by the same argument).
unsafe impl Send for ActorMemory {}
unsafe impl Sync for ActorMemory {}

impl ActorMemory {
    /// Initialises the memory at `base` for actor `actor_id`.
    ///
    /// # Safety
    /// `base` is valid for writes of `layout.bytes()` bytes, 128-aligned,
    /// not used by anything else, and outlives the returned value.
    pub unsafe fn init(
        base: *mut u8,
        layout: ActorLayout,
        actor_id: u32,
    ) -> Result<ActorMemory, ActorError> {
        debug_assert_eq!(base as usize % 128, 0);
        let control = base.cast::<ControlBlock>();
        // SAFETY: in bounds and aligned per the contract.
        unsafe { control.write(ControlBlock::new(actor_id)) };
        // SAFETY: the ring regions are in bounds and 128-aligned.
        let inbox = unsafe { RawRing::init(base.add(ActorLayout::INBOX), layout.inbox) }
            .map_err(|e| ActorError::Layout(e.to_string()))?;
        let outbox = unsafe { RawRing::init(base.add(layout.outbox_offset()), layout.outbox) }
            .map_err(|e| ActorError::Layout(e.to_string()))?;
        Ok(ActorMemory {
            control,
            inbox,
            outbox,
        })
    }

    fn u32_at(&self, offset: usize) -> &AtomicU32 {
        // SAFETY: offset is a u32 field of the live control block; the other
        // side accesses it atomically too (PTX ld/st at .sys scope).
        unsafe { &*self.control.cast::<u8>().add(offset).cast::<AtomicU32>() }
    }

    fn u64_at(&self, offset: usize) -> &AtomicU64 {
        // SAFETY: as u32_at, for an 8-aligned u64 field.
        unsafe { &*self.control.cast::<u8>().add(offset).cast::<AtomicU64>() }
    }

    pub fn state(&self) -> Result<Lifecycle, ActorError> {
        let code = self
            .u32_at(std::mem::offset_of!(ControlBlock, state))
            .load(Ordering::Acquire);
        Lifecycle::try_from(code).map_err(|e| ActorError::Protocol(e.to_string()))
    }

    pub fn set_state(&self, state: Lifecycle) {
        self.u32_at(std::mem::offset_of!(ControlBlock, state))
            .store(state as u32, Ordering::Release);
    }

    pub fn heartbeat(&self) -> u64 {
        self.u64_at(std::mem::offset_of!(ControlBlock, heartbeat))
            .load(Ordering::Relaxed)
    }

    pub fn set_heartbeat(&self, beat: u64) {
        self.u64_at(std::mem::offset_of!(ControlBlock, heartbeat))
            .store(beat, Ordering::Relaxed);
    }

    pub fn counters(&self) -> (u64, u64) {
        (
            self.u64_at(std::mem::offset_of!(ControlBlock, messages_in))
                .load(Ordering::Relaxed),
            self.u64_at(std::mem::offset_of!(ControlBlock, messages_out))
                .load(Ordering::Relaxed),
        )
    }

    /// The loop trace's accumulators (`RK_ACTOR_TRACE` in rk_actor.cuh):
    /// the control block's device-written pad, read as 16 u32.
    pub fn trace_words(&self) -> [u32; 16] {
        let base = std::mem::offset_of!(ControlBlock, device_pad);
        std::array::from_fn(|k| self.u32_at(base + 4 * k).load(Ordering::Relaxed))
    }

    pub fn set_counters(&self, messages_in: u64, messages_out: u64) {
        self.u64_at(std::mem::offset_of!(ControlBlock, messages_in))
            .store(messages_in, Ordering::Relaxed);
        self.u64_at(std::mem::offset_of!(ControlBlock, messages_out))
            .store(messages_out, Ordering::Relaxed);
    }

    /// The fault count and, when nonzero, the last fault (read after the
    /// count with acquire, as the device publishes them).
    pub fn faults(&self) -> (u64, Option<ActorFault>) {
        let count = self
            .u64_at(std::mem::offset_of!(ControlBlock, fault_count))
            .load(Ordering::Acquire);
        if count == 0 {
            return (0, None);
        }
        let base = std::mem::offset_of!(ControlBlock, last_fault);
        let fault = ActorFault {
            sequence: self
                .u64_at(base + std::mem::offset_of!(ActorFault, sequence))
                .load(Ordering::Relaxed),
            kind: self
                .u32_at(base + std::mem::offset_of!(ActorFault, kind))
                .load(Ordering::Relaxed),
            file_id: self
                .u32_at(base + std::mem::offset_of!(ActorFault, file_id))
                .load(Ordering::Relaxed),
            line: self
                .u32_at(base + std::mem::offset_of!(ActorFault, line))
                .load(Ordering::Relaxed),
            column: self
                .u32_at(base + std::mem::offset_of!(ActorFault, column))
                .load(Ordering::Relaxed),
        };
        (count, Some(fault))
    }

    /// Device side of `rk_control_record_fault`.
    pub fn record_fault(&self, fault: ActorFault) {
        let base = std::mem::offset_of!(ControlBlock, last_fault);
        let count = self
            .u64_at(std::mem::offset_of!(ControlBlock, fault_count))
            .load(Ordering::Relaxed);
        self.u64_at(base + std::mem::offset_of!(ActorFault, sequence))
            .store(fault.sequence, Ordering::Relaxed);
        self.u32_at(base + std::mem::offset_of!(ActorFault, kind))
            .store(fault.kind, Ordering::Relaxed);
        self.u32_at(base + std::mem::offset_of!(ActorFault, file_id))
            .store(fault.file_id, Ordering::Relaxed);
        self.u32_at(base + std::mem::offset_of!(ActorFault, line))
            .store(fault.line, Ordering::Relaxed);
        self.u32_at(base + std::mem::offset_of!(ActorFault, column))
            .store(fault.column, Ordering::Relaxed);
        self.u64_at(std::mem::offset_of!(ControlBlock, fault_count))
            .store(count + 1, Ordering::Release);
    }

    pub fn stop_requested(&self) -> bool {
        self.u32_at(std::mem::offset_of!(ControlBlock, stop_requested))
            .load(Ordering::Acquire)
            != 0
    }

    pub fn request_stop(&self) {
        self.u32_at(std::mem::offset_of!(ControlBlock, stop_requested))
            .store(1, Ordering::Release);
    }

    pub fn restart_requested(&self) -> u32 {
        self.u32_at(std::mem::offset_of!(ControlBlock, restart_requested))
            .load(Ordering::Acquire)
    }

    pub fn request_restart(&self) {
        self.u32_at(std::mem::offset_of!(ControlBlock, restart_requested))
            .fetch_add(1, Ordering::AcqRel);
    }
}
