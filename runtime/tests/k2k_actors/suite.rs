//! The actor-system (K2K) suite, generic over the backend and the
//! placement (`Placement::Gpu`: global-memory inboxes; `Placement::Cluster`:
//! one thread-block cluster, inboxes in shared memory over DSMEM): fan-in
//! exactly once through a small (backpressured) inbox, HLC causality across
//! actors, `try_send` flooding a small inbox (what it reported sent arrives
//! exactly once, nothing it reported refused arrives), a send on an unwired
//! port, wiring and placement errors, stop draining every stage, a stop
//! racing senders that wait on the stopped actor's full inbox
//! (`Placement::Block`: warp actors of one block, inboxes in its shared
//! memory). The messages, handlers and helpers are here, the scenarios by
//! topic in `suite/` (delivery, lifecycle, wiring), re-exported.

#![allow(dead_code, unused_imports)]

#[path = "suite/delivery.rs"]
mod delivery;
#[path = "suite/lifecycle.rs"]
mod lifecycle;
#[path = "suite/wiring.rs"]
mod wiring;

pub use delivery::*;
pub use lifecycle::*;
pub use wiring::*;

pub use ringkernel_runtime::testing::patience;

use std::collections::HashSet;
use std::time::Duration;

use ringkernel_device::control::FaultKind;
use ringkernel_runtime::actor::{
    ActorError, ClusterLimit, Member, Placement, PlacementError, SpawnOptions, System,
};
use ringkernel_runtime::{Error, Runtime};
use ringkernel_transpiler::source::{KernelSource, SourceKind, SourceText};

pub const FILE: &str = "runtime/tests/k2k_actors/handlers.rs";
const HANDLERS: &str = include_str!("handlers.rs");

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Work {
    pub producer: u32,
    pub index: u32,
    pub words: [u32; 14],
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Stamped {
    pub producer: u32,
    pub index: u32,
    pub words: [u32; 14],
    pub sent_by: u32,
    pub cause_logical: u32,
    pub cause_physical: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Receipt {
    pub producer: u32,
    pub index: u32,
    pub checksum: u64,
    pub sent_by: u32,
    pub cause_logical: u32,
    pub cause_physical: u64,
    pub physical: u64,
    pub logical: u32,
    pub node: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Tally {
    pub received: u64,
    pub checksum_sum: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Burst {
    pub first: u32,
    pub count: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct BurstResult {
    pub first: u32,
    pub count: u32,
    pub accepted: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Item {
    pub producer: u32,
    pub index: u32,
    pub check: u32,
    pub pad: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct FloodTally {
    pub accepted: u64,
    pub refused: u64,
}

pub const BURST_TYPE: u32 = 0x4255_5253;
pub const BURST_RESULT_TYPE: u32 = 0x4252_5354;
pub const ITEM_TYPE: u32 = 0x4954_454D;
pub const WORK_TYPE: u32 = 0x574F_524B;
pub const STAMPED_TYPE: u32 = 0x5354_4D50;
pub const RECEIPT_TYPE: u32 = 0x5243_5054;

pub fn kernel(name: &str) -> KernelSource {
    KernelSource {
        name: name.into(),
        kind: SourceKind::RingKernel,
        items: vec![SourceText {
            attr: String::new(),
            text: HANDLERS.into(),
            file: FILE.into(),
            line: 1,
            column: 0,
        }],
        layouts: Vec::new(),
        overflow_checks: true,
    }
}

/// `kernel(name)` for `placement`: under [`Placement::Block`] the same
/// handler as a warp actor (`#[ring_kernel(warps = 1)]` for
/// `block_size = 32`: every handler of the suite is written for one warp,
/// so it means the same; lines and columns of the bodies are unchanged).
pub fn kernel_in(placement: Placement, name: &str) -> KernelSource {
    let mut k = kernel(name);
    if placement == Placement::Block {
        let warp = HANDLERS.replace(
            "#[ring_kernel(block_size = 32)]",
            "#[ring_kernel(warps = 1)]",
        );
        assert_ne!(warp, HANDLERS);
        k.items[0].text = warp;
    }
    k
}

pub fn forward_options() -> SpawnOptions {
    SpawnOptions {
        message_type_id: WORK_TYPE,
        reply_type_id: 0,
        ..SpawnOptions::default()
    }
}

pub fn relay_options() -> SpawnOptions {
    SpawnOptions {
        message_type_id: STAMPED_TYPE,
        reply_type_id: 0,
        ..SpawnOptions::default()
    }
}

pub fn collect_options() -> SpawnOptions {
    SpawnOptions {
        message_type_id: STAMPED_TYPE,
        reply_type_id: RECEIPT_TYPE,
        outbox_capacity: 2048,
        ..SpawnOptions::default()
    }
}

/// Payload word `w` of item `index` of `producer`: distinct per item, so a
/// torn or misplaced slot shows in the checksum.
pub fn word(producer: u32, index: u32, w: u32) -> u32 {
    (producer.wrapping_mul(0x9E37_79B9) ^ index.wrapping_mul(0x85EB_CA6B))
        .rotate_left(w)
        .wrapping_add(w)
}

fn checksum(words: &[u32; 14]) -> u64 {
    words
        .iter()
        .enumerate()
        .map(|(i, &w)| u64::from(w) * (i as u64 + 1))
        .sum()
}
