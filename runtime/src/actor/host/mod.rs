//! [`ActorCore`]: the host side of one actor's protocol, untyped (bytes in,
//! bytes out); the typed [`Actor`](super::Actor) handle wraps it.
//!
//! The core owns the host halves of the actor's rings: it produces into
//! the inbox and consumes the outbox through device-lib's SPSC ring code
//! (model-checked by TLA+ and loom), stamps requests with the host's HLC and
//! merges the replies' stamps into it. Sends (and stop) are serialised per
//! actor by one lock, receives by another, which is what the lifecycle model
//! in `verification/` assumes. Whatever runs the actor (a persistent CUDA
//! kernel, or a CPU thread driving the interpreter) is behind [`ActorDriver`].
//!
//! Here: the core's state, its sends and liveness checks; `stream.rs` the
//! batched path, `receive.rs` replies and dead letters, `lifecycle.rs`
//! stats, stop, give-up and restart, `trace.rs` the loop trace.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ringkernel_device::control::{FaultKind, Lifecycle};
use ringkernel_device::envelope::{flags, EnvelopeHeader, ACTOR_HOST, ENVELOPE_HEADER_SIZE};
use ringkernel_device::hlc::{HlcClock, HlcTimestamp};
use ringkernel_device::ring::{Consumer, Producer};
use ringkernel_device::ring::{RawRing, RingIndex, RingMemory};
use ringkernel_transpiler::back::cuda::ActorAbi;

use super::error::{ActorError, SourceLocation};
use super::memory::ActorMemory;

mod lifecycle;
mod receive;
mod stream;
mod trace;

pub use trace::LoopTrace;

/// Host physical time for HLC stamps: nanoseconds since the Unix epoch.
pub(crate) fn host_time_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// What runs an actor: a persistent CUDA kernel or a CPU thread.
pub(crate) trait ActorDriver: Send + Sync + fmt::Debug {
    /// Copies the actor's state (the bytes of `S`) into `out`.
    fn read_state(&self, out: &mut [u8]) -> Result<(), ActorError>;
    /// Overwrites the actor's state; only while it cannot run (Failed).
    fn write_state(&self, bytes: &[u8]) -> Result<(), ActorError>;
    /// Whether the actor's executor is still running (false once the kernel
    /// or thread ended, for whatever reason).
    fn running(&self) -> bool;
    /// Waits for the executor to end after the actor terminated.
    fn join(&self) -> Result<(), ActorError>;
    /// Details of an executor-level failure (CPU backend: an interpreter
    /// error such as a data race), if any.
    fn failure(&self) -> Option<String>;
    /// Why the executor's device context is lost, once it is (GPU: a hard
    /// fault anywhere in the context). Cheap: one atomic load while fine.
    fn context_lost(&self) -> Option<String> {
        None
    }
}

/// An envelope taken from the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub header: EnvelopeHeader,
    pub payload: Vec<u8>,
}

/// A message the actor did not answer, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The request's header as the actor saw it (correlation id, sequence).
    pub header: EnvelopeHeader,
    /// The request's payload bytes.
    pub payload: Vec<u8>,
    pub kind: FaultKind,
    /// Where the handler faulted; line 0 when the message was rejected
    /// before the handler ran.
    pub location: SourceLocation,
}

/// A snapshot of an actor's counters, as the executor last published them.
/// They follow replies by up to about a microsecond on the GPU: a lone
/// call's reply is taken from its flagged copy before the executor's
/// closing fence, which publishes the counters with the outbox tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActorStats {
    pub state: Lifecycle,
    pub messages_in: u64,
    pub messages_out: u64,
    pub faults: u64,
    pub heartbeat: u64,
}

/// What the handle needs to know about the kernel behind it.
#[derive(Debug, Clone)]
pub(crate) struct ActorInfo {
    pub id: u32,
    /// The handler's Rust name, for messages.
    #[allow(dead_code)]
    pub kernel: String,
    pub source_file: String,
    pub abi: ActorAbi,
    pub message_type_id: u32,
    pub reply_type_id: u32,
}

struct Tx {
    producer: Producer<RawRing>,
    next_correlation: u64,
    stopped: bool,
}

struct Rx {
    consumer: Consumer<RawRing>,
    /// Envelopes taken from the outbox while `call` looked for its own
    /// reply, in outbox order.
    stash: VecDeque<Envelope>,
    dead_letters: VecDeque<DeadLetter>,
    /// The HLC stamps of a batch being received (a reused buffer).
    stamps: Vec<HlcTimestamp>,
}

pub(crate) struct ActorCore {
    pub info: ActorInfo,
    pub memory: Arc<ActorMemory>,
    pub driver: Box<dyn ActorDriver>,
    tx: Mutex<Tx>,
    rx: Mutex<Rx>,
    clock: Mutex<HlcClock>,
    /// Set by the watchdog while the actor looks hung.
    pub hung: AtomicBool,
    /// Whether the supervisor will restart this actor when it fails (its
    /// policy restarts and the restarts are not exhausted).
    pub restarts: AtomicBool,
    /// The fault count when the last restart was requested: while the
    /// count is unchanged and the actor still reads Failed, the device has
    /// not picked the restart up yet (not a new failure).
    restarted_at_faults: AtomicU64,
    /// Handler-fault dead letters taken from the outbox. The executor marks
    /// the actor Failed just before it publishes the dead letter, so
    /// "Failed" is only final once the dead letter of every fault arrived.
    faults_delivered: AtomicU64,
}

impl fmt::Debug for ActorCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorCore")
            .field("info", &self.info)
            .field("driver", &self.driver)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Polls `f` until it returns `Some`, spinning first (round-trip latency),
/// then yielding, then sleeping briefly; `None` at the deadline.
///
/// `f(full)` always looks for what it waits for; only when `full` is set
/// does it also run the liveness checks that cost a driver call (whether
/// the launch ended: `cuEventQuery`, about a microsecond under the driver's
/// lock). While spinning, those run on one iteration in
/// [`LIVENESS_EVERY`], so a reply that lands is seen within one cheap
/// iteration instead of after the driver call in flight: measured on the
/// H200, checking on every spin put the round trip's p50 microseconds
/// above the protocol's (BENCHMARKS.md). The deadline and the backoff
/// phase are also only read then (each reads the clock).
fn poll<T>(
    deadline: Option<Instant>,
    mut f: impl FnMut(bool) -> Result<Option<T>, ActorError>,
) -> Result<Option<T>, ActorError> {
    let start = Instant::now();
    let mut spins = 0u32;
    let mut spinning = true;
    loop {
        let full = !spinning || spins % LIVENESS_EVERY == LIVENESS_EVERY - 1;
        if let Some(v) = f(full)? {
            return Ok(Some(v));
        }
        spins = spins.wrapping_add(1);
        if !full {
            std::hint::spin_loop();
            continue;
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            return Ok(None);
        }
        let waited = now - start;
        if waited < Duration::from_micros(200) {
            std::hint::spin_loop();
        } else if waited < Duration::from_millis(2) {
            spinning = false;
            std::thread::yield_now();
        } else {
            spinning = false;
            std::thread::sleep(Duration::from_micros(50));
        }
    }
}

/// While spinning, the iterations of [`poll`] per liveness check.
const LIVENESS_EVERY: u32 = 64;

impl ActorCore {
    /// # Safety
    /// `memory`'s rings are initialised and nothing else acts as the host
    /// producer of the inbox or the host consumer of the outbox.
    pub unsafe fn new(
        info: ActorInfo,
        memory: Arc<ActorMemory>,
        driver: Box<dyn ActorDriver>,
    ) -> ActorCore {
        // SAFETY: per the contract, the handle is the only inbox producer and
        // the only outbox consumer.
        let producer = unsafe { Producer::attach(memory.inbox) };
        let consumer = unsafe { Consumer::attach(memory.outbox) };
        ActorCore {
            info,
            memory,
            driver,
            tx: Mutex::new(Tx {
                producer,
                next_correlation: 1,
                stopped: false,
            }),
            rx: Mutex::new(Rx {
                consumer,
                stash: VecDeque::new(),
                dead_letters: VecDeque::new(),
                stamps: Vec::new(),
            }),
            clock: Mutex::new(HlcClock::new(ACTOR_HOST)),
            hung: AtomicBool::new(false),
            restarts: AtomicBool::new(false),
            restarted_at_faults: AtomicU64::new(u64::MAX),
            faults_delivered: AtomicU64::new(0),
        }
    }

    fn actor(&self) -> u32 {
        self.info.id
    }

    /// Pushes one request; `Ok(None)` when the inbox is full.
    fn try_send_bytes(&self, payload: &[u8]) -> Result<Option<u64>, ActorError> {
        self.try_send_envelope(self.info.message_type_id, payload, None)
    }

    /// Pushes one envelope of type `type_id` carrying `payload` as it is
    /// (its size is the envelope's payload size), stamped `stamp` or, when
    /// None, by the host clock's send rule; `Ok(None)` when the inbox is
    /// full. [`ActorCore::send_unchecked`] with another type id or size
    /// sends a message the actor must reject.
    fn try_send_envelope(
        &self,
        type_id: u32,
        payload: &[u8],
        stamp: Option<HlcTimestamp>,
    ) -> Result<Option<u64>, ActorError> {
        let mut tx = lock(&self.tx);
        if tx.stopped {
            return Err(ActorError::Stopped {
                actor: self.actor(),
            });
        }
        // Nothing is accepted into the ring of a lost context.
        self.check_context()?;
        let correlation = tx.next_correlation;
        let hlc = stamp.unwrap_or_else(|| lock(&self.clock).send(host_time_ns()));
        let header = EnvelopeHeader {
            type_id,
            payload_size: payload.len() as u32,
            source_actor: ACTOR_HOST,
            dest_actor: self.info.id,
            correlation_id: correlation,
            sequence: correlation,
            hlc,
            flags: if self.info.abi.reply_size == 0 {
                flags::NO_REPLY
            } else {
                0
            },
            reserved: [0; 3],
        };
        match tx.producer.try_push_envelope(&header, payload) {
            Ok(()) => {
                tx.next_correlation += 1;
                Ok(Some(correlation))
            }
            Err(ringkernel_device::ring::PushError::Full(_)) => Ok(None),
            Err(e) => Err(ActorError::Protocol(e.to_string())),
        }
    }

    /// Tests and diagnostics: one envelope of type `type_id` with `payload`
    /// as it is, without the typed handle's checks (waits while the inbox
    /// is full), stamped `stamp` instead of by the host clock when given. An envelope that is not the actor's message (another type
    /// id, another size) must be rejected: dead-lettered as
    /// `FaultKind::BadMessage` (its reply in order is
    /// [`ActorError::Rejected`]) while the actor goes on answering.
    pub fn send_unchecked(
        &self,
        type_id: u32,
        payload: &[u8],
        stamp: Option<HlcTimestamp>,
    ) -> Result<u64, ActorError> {
        let max = lock(&self.tx).producer.memory().layout().max_payload();
        if payload.len() > max {
            return Err(ActorError::Protocol(format!(
                "actor {}: a {}-byte payload does not fit a slot's {max} payload bytes",
                self.actor(),
                payload.len()
            )));
        }
        poll(None, |full| {
            if let Some(c) = self.try_send_envelope(type_id, payload, stamp)? {
                return Ok(Some(c));
            }
            if full {
                self.check_alive()?;
            }
            Ok(None)
        })
        .map(|c| c.expect("no deadline"))
    }

    pub fn try_send(&self, payload: &[u8]) -> Result<u64, ActorError> {
        self.try_send_bytes(payload)?.ok_or(ActorError::Full {
            actor: self.actor(),
        })
    }

    /// An error if the actor can no longer answer.
    /// [`ActorError::ContextLost`] once the executor's context is lost.
    fn check_context(&self) -> Result<(), ActorError> {
        match self.driver.context_lost() {
            None => Ok(()),
            Some(cause) => {
                let inbox = &self.memory.inbox;
                let unanswered = inbox
                    .load(RingIndex::Tail, Ordering::Acquire)
                    .wrapping_sub(inbox.load(RingIndex::Head, Ordering::Acquire));
                Err(ActorError::ContextLost {
                    actor: self.actor(),
                    cause,
                    unanswered,
                })
            }
        }
    }

    pub(crate) fn check_alive(&self) -> Result<(), ActorError> {
        self.check_context()?;
        if self.hung.load(Ordering::Acquire) {
            return Err(ActorError::Hung {
                actor: self.actor(),
            });
        }
        // State first: the executor records the fault, then publishes
        // Failed, so a count read after seeing Failed includes this fault
        // (read the other way round, a Failed seen between the two reads
        // was reported before its dead letter arrived: a flaky test found it).
        let failed = matches!(self.memory.state(), Ok(Lifecycle::Failed));
        let faults = self.memory.faults().0;
        if failed
            && !self.restarts.load(Ordering::Acquire)
            && self.restarted_at_faults.load(Ordering::Acquire) != faults
            && self.faults_delivered.load(Ordering::Acquire) >= faults
        {
            return Err(ActorError::Failed {
                actor: self.actor(),
            });
        }
        if !self.driver.running() {
            // Not running because the context was just found lost?
            self.check_context()?;
            if let Some(detail) = self.driver.failure() {
                return Err(ActorError::Interpreter {
                    actor: self.actor(),
                    detail,
                });
            }
            return Err(ActorError::Stopped {
                actor: self.actor(),
            });
        }
        Ok(())
    }
}

/// The bytes of a plain-data value, as they go into a payload.
pub(crate) fn bytes_of<T: Copy>(value: &T) -> Vec<u8> {
    let mut out = vec![0u8; std::mem::size_of::<T>()];
    // SAFETY: copies size_of::<T>() bytes of a live T (padding bytes, if
    // any, are copied as they are; the receiver never interprets them).
    unsafe {
        std::ptr::copy_nonoverlapping(
            (value as *const T).cast::<u8>(),
            out.as_mut_ptr(),
            out.len(),
        )
    };
    out
}

/// A plain-data value from payload bytes.
///
/// # Safety
/// `bytes` holds a valid `T` (plain data written by the kernel for `T`).
pub(crate) unsafe fn from_bytes<T: Copy>(bytes: &[u8]) -> T {
    assert_eq!(bytes.len(), std::mem::size_of::<T>());
    // SAFETY: length checked; validity per the contract.
    unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) }
}
