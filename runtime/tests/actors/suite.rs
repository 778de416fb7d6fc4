//! The actor test suite, generic over the backend that spawns: the
//! messages, handlers and helpers here, the scenarios by topic in `suite/`
//! (traffic, faults, clock, warps), re-exported so a test names
//! `suite::bursts` whichever file holds it. Shared by the CPU test binaries
//! and the GPU ones (`gpu_actors.rs`, `gpu_async_actors.rs`).

#![allow(dead_code, unused_imports)]

#[path = "suite/clock.rs"]
mod clock;
#[path = "suite/faults.rs"]
mod faults;
#[path = "suite/traffic.rs"]
mod traffic;
#[path = "suite/warps.rs"]
mod warps;

pub use clock::*;
pub use faults::*;
pub use traffic::*;
pub use warps::*;

use std::time::{Duration, Instant};

use ringkernel_device::control::{FaultKind, Lifecycle};
use ringkernel_device::hlc::HlcTimestamp;
use ringkernel_runtime::actor::{Actor, ActorError, RestartPolicy, SpawnOptions};
use ringkernel_runtime::testing::patience;
use ringkernel_runtime::Runtime;
use ringkernel_transpiler::source::{KernelSource, SourceKind, SourceText};

pub const FILE: &str = "runtime/tests/actors/handlers.rs";
const HANDLERS: &str = include_str!("handlers.rs");

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Ping {
    pub seq: u64,
    pub payload: [u32; 12],
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Pong {
    pub seq: u64,
    pub actor: u32,
    pub checksum: u32,
    pub hlc_physical_ns: u64,
    pub hlc_logical: u32,
    pub hlc_node: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Counter {
    pub count: u64,
    pub sum: u64,
    pub cells: [u32; 4],
}

pub const PING_TYPE: u32 = 0x5049_4E47;
pub const PONG_TYPE: u32 = 0x504F_4E47;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Job {
    pub seq: u64,
    pub pick: u32,
    pub salt: u32,
    pub values: [u32; 32],
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Verdict {
    pub seq: u64,
    pub actor: u32,
    pub sum: u32,
    pub max: u32,
    pub lanes: u32,
    pub lane_sum: u32,
    pub count: u32,
    pub hlc_node: u32,
    pub salt: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Tally {
    pub count: u64,
    pub total: u32,
    pub cells: [u32; 4],
    pub last_salt: u32,
}

pub const JOB_TYPE: u32 = 0x4A4F_4221;
pub const VERDICT_TYPE: u32 = 0x5645_5244;

/// The backend under test.
pub trait Spawn {
    fn runtime(&self) -> &Runtime;

    /// `count` actors of `echo` (stateful, in-order schedule).
    fn spawn_echo(&self, count: u32, options: &SpawnOptions) -> Vec<Actor<Ping, Pong, Counter>> {
        self.runtime()
            .spawn(&kernel(), count, Counter::default(), options)
            .expect("spawn")
    }
}

/// Every runtime spawns the suite's actors, whatever its backend.
impl Spawn for Runtime {
    fn runtime(&self) -> &Runtime {
        self
    }
}

/// The suite's echo as a warp actor (`warp_echo`, `#[ring_kernel(warps =
/// 1)]`): the runtime packs the actors of one spawn into blocks.
pub struct WarpEcho<'a>(pub &'a Runtime);

impl Spawn for WarpEcho<'_> {
    fn runtime(&self) -> &Runtime {
        self.0
    }

    fn spawn_echo(&self, count: u32, options: &SpawnOptions) -> Vec<Actor<Ping, Pong, Counter>> {
        self.0
            .spawn(
                &kernel_named("warp_echo"),
                count,
                Counter::default(),
                options,
            )
            .expect("spawn")
    }
}

/// The stateless handlers of handlers.rs, by the schedule the GPU loop
/// gives them.
pub const STATELESS: [&str; 2] = ["relay", "spread"];

pub fn kernel() -> KernelSource {
    kernel_named("echo")
}

/// The handler `name` of handlers.rs.
pub fn kernel_named(name: &str) -> KernelSource {
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

pub fn options() -> SpawnOptions {
    SpawnOptions {
        message_type_id: PING_TYPE,
        reply_type_id: PONG_TYPE,
        ..SpawnOptions::default()
    }
}

/// The line of `needle` in the handlers file (1-based).
pub fn line_of(needle: &str) -> u32 {
    HANDLERS
        .lines()
        .position(|l| l.contains(needle))
        .expect("needle in handlers.rs") as u32
        + 1
}

/// A deterministic payload for message `seq` (cell index 0..=3 in word 0, so
/// it never faults).
pub fn ping(seq: u64) -> Ping {
    let mut x = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut payload = [0u32; 12];
    for w in payload.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *w = x as u32;
    }
    payload[0] %= 4;
    payload[1] &= 0x7FFF_FFFF; // never the hang trigger
    Ping { seq, payload }
}

/// What the handler computes, in plain Rust.
pub fn checksum(p: &Ping) -> u32 {
    p.payload.iter().enumerate().fold(0u32, |acc, (i, w)| {
        acc.wrapping_add(w.wrapping_mul(i as u32 + 1))
    })
}

fn hlc(p: &Pong) -> (u64, u32) {
    (p.hlc_physical_ns, p.hlc_logical)
}

/// Spawns one actor of the stateless handler `name`.
pub fn spawn_stateless(
    backend: &dyn Spawn,
    name: &str,
    options: &SpawnOptions,
) -> Actor<Ping, Pong> {
    backend
        .runtime()
        .spawn(&kernel_named(name), 1, (), options)
        .expect("spawn")
        .remove(0)
}

/// Checks one reply of a stream: FIFO, the payload's checksum, the actor,
/// and a receipt stamp after the previous one.
fn check_reply(actor_id: u32, pong: &Pong, expected_seq: u64, last_receipt: &mut (u64, u32)) {
    assert_eq!(pong.seq, expected_seq, "FIFO");
    assert_eq!(
        pong.checksum,
        checksum(&ping(expected_seq)),
        "payload of message {expected_seq}"
    );
    assert_eq!((pong.actor, pong.hlc_node), (actor_id, actor_id));
    let receipt = hlc(pong);
    assert!(receipt > *last_receipt, "receipts strictly increase");
    *last_receipt = receipt;
}
