//! The actor-hop ping-pong system (handlers in `hops.rs`), apart from the
//! benchmark's report so the tests can run it too
//! (`runtime/tests/bench_actor_hops.rs` includes this file): two actors A
//! and B running `hop`, each one's port 0 wired to the other and port 1 to
//! a collector (`hops_done`) that hands the finished message to the host.
//!
//! A run: the host sends A one `Hop` with a budget of N hops; A and B pass
//! it to each other with `ctx.send`, one hop less each time; the handler
//! that receives it with none left sends it to the collector. The first
//! handler (A, on the host's message) records its receipt time
//! (`ctx.now()`, HLC physical ns: `%globaltimer` plus the launch's
//! offset) in the message, the last one its own, so one hop =
//! (last - first) / N, timed on the device and free of the host's PCIe
//! round trips (the HLC's physical part moves with `%globaltimer`; it
//! can only lead it by the host's stamp on the first message, a
//! calibration error of microseconds, spread over N hops). A checksum folds in every handler's actor id and hop
//! count: a lost, repeated or misrouted hop changes it, and such a run is
//! reported as wrong, never timed.

use std::time::Duration;

use ringkernel_runtime::actor::{Actor, LoopTrace, Member, Placement, SpawnOptions, System};
use ringkernel_runtime::{KernelSource, Runtime, SourceKind, SourceText};

pub const FILE: &str = "runtime/benches/ringkernel/hops.rs";
pub const HANDLERS: &str = include_str!("hops.rs");

/// `Hop` of hops.rs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Hop {
    pub left: u32,
    pub hops: u32,
    pub checksum: u64,
    pub first_ns: u64,
    pub first_logical: u32,
    pub last_logical: u32,
    pub last_ns: u64,
    pub last_actor: u32,
    pub pad: u32,
}

pub const HOP_TYPE: u32 = 0x484F_5021;
pub const DONE_TYPE: u32 = 0x444F_4E45;
/// K2K inbox slots per receiving actor (k2k.rs's CAPACITY: one message is
/// ever in flight between A and B).
pub const CAPACITY: u32 = 4;

/// The placements in the order of the K2K tiers (shared, DSMEM, global).
pub const PLACEMENTS: [Placement; 3] = [Placement::Block, Placement::Cluster, Placement::Gpu];

/// The K2K tier (k2k.rs `Tier::key`) of a placement's routes.
pub fn tier_key(placement: Placement) -> &'static str {
    match placement {
        Placement::Block => "shared",
        Placement::Cluster => "dsmem",
        _ => "global",
    }
}

/// What the system is, per placement, for the report.
pub fn shape(placement: Placement) -> &'static str {
    match placement {
        Placement::Block => "3 warp actors of 1 block (A, B: warps 0, 1)",
        Placement::Cluster => "3 block actors of a cluster of 3 (A, B: ranks 0, 1)",
        _ => "3 block actors, 1 block each (A, B: blocks 0, 1)",
    }
}

/// Handler `name` of hops.rs, as the placement runs it: under
/// [`Placement::Block`] as a warp actor (`warps = 1` for `block_size =
/// 32`: the handlers are written for one warp, so they mean the same).
pub fn kernel(placement: Placement, name: &str) -> KernelSource {
    let text = if placement == Placement::Block {
        let warp = HANDLERS.replace(
            "#[ring_kernel(block_size = 32)]",
            "#[ring_kernel(warps = 1)]",
        );
        assert_ne!(
            warp, HANDLERS,
            "hops.rs declares its handlers with block_size = 32"
        );
        warp
    } else {
        HANDLERS.to_string()
    };
    KernelSource {
        name: name.into(),
        kind: SourceKind::RingKernel,
        items: vec![SourceText::whole_file(FILE, text)],
        layouts: Vec::new(),
        overflow_checks: true,
    }
}

/// The checksum, hop count and last actor a correct run of `hops` hops
/// from `seed` ends with: the handler of hop k runs on A for even k, on B
/// for odd k (A takes the host's message as hop 0).
pub fn expected(seed: u64, hops: u32, a: u32, b: u32) -> (u64, u32) {
    let mut checksum = seed;
    let mut last = a;
    for k in 0..=hops {
        last = if k % 2 == 0 { a } else { b };
        checksum = (checksum.rotate_left(7) ^ ((u64::from(k) << 32) | u64::from(last)))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    (checksum, last)
}

/// The started system: A, B and the collector.
pub struct HopSystem {
    system: System,
    a: Member<Hop, (), ()>,
    b: Member<Hop, (), ()>,
    collector: Member<Hop, Hop, ()>,
}

/// One checked run.
#[derive(Debug, Clone, Copy)]
pub struct HopRun {
    pub hops: u32,
    /// last - first receipt time, ns.
    pub span_ns: u64,
}

impl HopRun {
    pub fn ns_per_hop(&self) -> f64 {
        self.span_ns as f64 / f64::from(self.hops)
    }
}

/// Why a run is not a measurement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HopError {
    /// The system did not answer (a fault, a timeout): nothing more can
    /// be measured on it.
    Failed(String),
    /// It answered, wrongly: the run is not timed.
    Wrong(String),
}

impl std::fmt::Display for HopError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HopError::Failed(e) => write!(f, "failed: {e}"),
            HopError::Wrong(e) => write!(f, "wrong result: {e}"),
        }
    }
}

/// Checks a finished run of `hops` hops from `seed` on actors `a`, `b`.
pub fn check(done: &Hop, seed: u64, hops: u32, a: u32, b: u32) -> Result<HopRun, HopError> {
    let (checksum, last) = expected(seed, hops, a, b);
    let wrong = |what: String| Err(HopError::Wrong(what));
    if done.hops != hops || done.left != 0 {
        return wrong(format!(
            "{} hops made, {} left; expected {hops}, 0",
            done.hops, done.left
        ));
    }
    if done.last_actor != last {
        return wrong(format!(
            "last hop on actor {}, expected {last}",
            done.last_actor
        ));
    }
    if done.checksum != checksum {
        return wrong(format!(
            "checksum {:#018x}, expected {checksum:#018x} (a hop lost, repeated or misrouted)",
            done.checksum
        ));
    }
    // The HLC orders causally related receipts strictly; the physical
    // part alone may repeat (a coarse %globaltimer, a short run).
    let (first, last) = (
        (done.first_ns, done.first_logical),
        (done.last_ns, done.last_logical),
    );
    if done.first_ns == 0 || last <= first {
        return wrong(format!(
            "receipt times (physical ns, logical) first {first:?}, last {last:?}: not increasing"
        ));
    }
    Ok(HopRun {
        hops,
        span_ns: done.last_ns - done.first_ns,
    })
}

impl HopSystem {
    /// Builds and starts the ping-pong system under `placement`.
    pub fn start(rt: &Runtime, placement: Placement) -> Result<HopSystem, String> {
        let hop_options = SpawnOptions {
            message_type_id: HOP_TYPE,
            reply_type_id: 0,
            ..SpawnOptions::default()
        };
        let done_options = SpawnOptions {
            message_type_id: HOP_TYPE,
            reply_type_id: DONE_TYPE,
            ..SpawnOptions::default()
        };
        let err = |e: ringkernel_runtime::Error| e.to_string();
        let mut builder = rt.system();
        builder.placement(placement).k2k_capacity(CAPACITY);
        let hop = kernel(placement, "hop");
        let a = builder
            .actor::<Hop, (), ()>(&hop, (), &hop_options)
            .map_err(err)?;
        let b = builder
            .actor::<Hop, (), ()>(&hop, (), &hop_options)
            .map_err(err)?;
        let collector = builder
            .actor::<Hop, Hop, ()>(&kernel(placement, "hops_done"), (), &done_options)
            .map_err(err)?;
        builder.connect(a, 0, b).map_err(err)?;
        builder.connect(b, 0, a).map_err(err)?;
        builder.connect(a, 1, collector).map_err(err)?;
        builder.connect(b, 1, collector).map_err(err)?;
        let system = builder.start().map_err(err)?;
        Ok(HopSystem {
            system,
            a,
            b,
            collector,
        })
    }

    fn collector(&self) -> &Actor<Hop, Hop, ()> {
        self.system.actor(self.collector)
    }

    /// One ping-pong of `hops` hops (at least 1), checked.
    pub fn run(&self, hops: u32, seed: u64, timeout: Duration) -> Result<HopRun, HopError> {
        assert!(hops > 0, "a run makes at least one hop");
        let failed = |e: ringkernel_runtime::actor::ActorError| HopError::Failed(e.to_string());
        self.system
            .actor(self.a)
            .send(&Hop {
                left: hops,
                hops: 0,
                checksum: seed,
                ..Hop::default()
            })
            .map_err(failed)?;
        let done = self
            .collector()
            .recv_timeout(timeout)
            .map_err(|e| HopError::Failed(format!("{e}; {}", self.condition())))?;
        check(&done, seed, hops, self.a.id(), self.b.id())
    }

    /// Each actor's lifecycle state, counters and dead letters, for a
    /// failed run's message (where the message stopped).
    fn condition(&self) -> String {
        let members = [
            ("A", self.a.id()),
            ("B", self.b.id()),
            ("collector", self.collector.id()),
        ];
        members
            .iter()
            .map(|&(name, id)| {
                let (stats, letters) = match name {
                    // (A's and B's outboxes hold nothing but dead letters:
                    // a look at each takes one, if any.)
                    "A" => (
                        self.system.actor(self.a).stats(),
                        format!(
                            "{:?}",
                            self.system.actor(self.a).try_recv().map(|_| "no reply")
                        ),
                    ),
                    "B" => (
                        self.system.actor(self.b).stats(),
                        format!(
                            "{:?}",
                            self.system.actor(self.b).try_recv().map(|_| "no reply")
                        ),
                    ),
                    _ => (
                        self.collector().stats(),
                        format!("{} dead letters", self.collector().dead_letters().len()),
                    ),
                };
                format!("{name} (actor {id}): {stats:?}, outbox: {letters}")
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// A's and B's loop traces (`Actor::loop_trace`; all zero unless the
    /// system was started with `RINGKERNEL_ACTOR_TRACE` set).
    #[allow(dead_code)] // the bench's hop anatomy; the tests including this file trace nothing
    pub fn loop_traces(&self) -> (LoopTrace, LoopTrace) {
        (
            self.system.actor(self.a).loop_trace(),
            self.system.actor(self.b).loop_trace(),
        )
    }

    /// Stops every actor.
    pub fn stop(&self) -> Result<(), String> {
        self.system
            .stop(Duration::from_secs(10))
            .map_err(|e| e.to_string())
    }
}
