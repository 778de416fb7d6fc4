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
    Actor, ActorError, ClusterLimit, Member, Placement, PlacementError, SpawnOptions, System,
    SystemBuilder,
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

// ---- the suite's actors, added to a system under construction ----
//
// Each adds one actor with the handler of `kernel_in(placement, ..)` and
// the types and options the scenarios use; the scenarios and
// `k2k_sources.rs` (which compiles every system the scenarios start)
// build their systems from these, so the two cannot drift apart.

pub fn add_collector(
    b: &mut SystemBuilder<'_>,
    placement: Placement,
) -> Member<Stamped, Receipt, Tally> {
    b.actor::<Stamped, Receipt, Tally>(
        &kernel_in(placement, "collect"),
        Tally::default(),
        &collect_options(),
    )
    .expect("collector")
}

pub fn add_forwarder(b: &mut SystemBuilder<'_>, placement: Placement) -> Member<Work, (), ()> {
    b.actor::<Work, (), ()>(&kernel_in(placement, "forward"), (), &forward_options())
        .expect("forwarder")
}

pub fn add_splitter(b: &mut SystemBuilder<'_>, placement: Placement) -> Member<Work, (), ()> {
    b.actor::<Work, (), ()>(&kernel_in(placement, "split"), (), &forward_options())
        .expect("splitter")
}

pub fn add_relay(b: &mut SystemBuilder<'_>, placement: Placement) -> Member<Stamped, (), ()> {
    b.actor::<Stamped, (), ()>(&kernel_in(placement, "relay"), (), &relay_options())
        .expect("relay")
}

pub fn add_picky(b: &mut SystemBuilder<'_>, placement: Placement) -> Member<Stamped, Receipt, ()> {
    b.actor::<Stamped, Receipt, ()>(&kernel_in(placement, "picky"), (), &collect_options())
        .expect("picky")
}

/// The drain, with room for `outbox_capacity` replies (the default's
/// when `None`).
pub fn add_drain(
    b: &mut SystemBuilder<'_>,
    placement: Placement,
    outbox_capacity: Option<u32>,
) -> Member<Item, Item, ()> {
    let defaults = SpawnOptions::default();
    let options = SpawnOptions {
        message_type_id: ITEM_TYPE,
        reply_type_id: ITEM_TYPE,
        outbox_capacity: outbox_capacity.unwrap_or(defaults.outbox_capacity),
        ..defaults
    };
    b.actor::<Item, Item, ()>(&kernel_in(placement, "drain"), (), &options)
        .expect("drain")
}

pub fn add_flooder(
    b: &mut SystemBuilder<'_>,
    placement: Placement,
) -> Member<Burst, BurstResult, FloodTally> {
    b.actor::<Burst, BurstResult, FloodTally>(
        &kernel_in(placement, "flood"),
        FloodTally::default(),
        &SpawnOptions {
            message_type_id: BURST_TYPE,
            reply_type_id: BURST_RESULT_TYPE,
            ..SpawnOptions::default()
        },
    )
    .expect("flooder")
}

/// A relay chain's members: (collector, relay, forwarder).
pub type RelayChain = (
    Member<Stamped, Receipt, Tally>,
    Member<Stamped, (), ()>,
    Member<Work, (), ()>,
);

/// `forward` -> `relay` -> `collect`, wired.
pub fn add_relay_chain(b: &mut SystemBuilder<'_>, placement: Placement) -> RelayChain {
    let collector = add_collector(b, placement);
    let relay = add_relay(b, placement);
    let forwarder = add_forwarder(b, placement);
    b.connect(forwarder, 0, relay).expect("wire");
    b.connect(relay, 0, collector).expect("wire");
    (collector, relay, forwarder)
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

/// Item `index`'s payload words for `producer` (`word` each).
pub fn words_of(producer: u32, index: u32) -> [u32; 14] {
    let mut words = [0u32; 14];
    for (w, x) in words.iter_mut().enumerate() {
        *x = word(producer, index, w as u32);
    }
    words
}

/// Receives from `actor` until it reports Stopped, counting the
/// Undeliverable dead letters before that (a stopped actor's queue); any
/// other answer fails the test.
pub fn undeliverable_until_stopped<M, R, S>(actor: &Actor<M, R, S>) -> u32
where
    M: Copy,
    R: Copy + std::fmt::Debug,
    S: Copy,
{
    let mut undeliverable = 0;
    loop {
        match actor.recv_timeout(patience(10)) {
            Err(ActorError::Fault {
                kind: FaultKind::Undeliverable,
                ..
            }) => undeliverable += 1,
            Err(ActorError::Stopped { .. }) => break,
            other => panic!("expected dead letters, then Stopped; got {other:?}"),
        }
    }
    undeliverable
}

fn checksum(words: &[u32; 14]) -> u64 {
    words
        .iter()
        .enumerate()
        .map(|(i, &w)| u64::from(w) * (i as u64 + 1))
        .sum()
}
