//! The CPU backend's actor executor: a thread per actor that plays the
//! device. It runs the same protocol as `rk_actor.cuh` over the same rings
//! and control block (heap memory instead of mapped pinned memory) and runs
//! the handler on the IR interpreter, one block per message, so ordering,
//! exactly-once, HLC stamps, dead letters and restarts behave as on the GPU.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ringkernel_device::control::{ActorFault, FaultKind, Lifecycle};
use ringkernel_device::envelope::{flags, EnvelopeHeader, ENVELOPE_HEADER_SIZE};
use ringkernel_device::hlc::HlcClock;
use ringkernel_device::ring::RawRing;
use ringkernel_device::ring::{Consumer, Producer};
use ringkernel_transpiler::back::cuda::abi;
use ringkernel_transpiler::interp::{
    ActorEnv, Arg, Buffer, K2kPorts, Launch, Program, Undelivered,
};

/// The prepared kernel whose interpreter program the actors of one spawn
/// share (compiled before they start).
pub(crate) type SharedProgram = Arc<crate::kernel::Prepared>;

use super::error::ActorError;
use super::host::{host_time_ns, ActorDriver, ActorInfo};
use super::k2k_queue::{K2kConsumer, K2kQueue, K2kRefused};
use super::memory::ActorMemory;

/// A CPU thread running one actor.
#[derive(Debug)]
pub(crate) struct CpuDriver {
    state: Arc<Mutex<Vec<u8>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    running: Arc<AtomicBool>,
    failure: Arc<Mutex<Option<String>>>,
    /// The actor's memory: the handle reads the outbox after the thread ended.
    _memory: Arc<Vec<crate::MappedBuffer>>,
}

/// What the executor thread needs.
pub(crate) struct CpuActor {
    pub program: SharedProgram,
    pub handler: String,
    pub block: [u32; 3],
    pub info: ActorInfo,
    pub memory: Arc<ActorMemory>,
    /// `None` for a stateless handler.
    pub state: Option<Vec<u8>>,
    /// The memory `memory` points into, kept until the thread has ended.
    #[allow(dead_code)]
    pub keep_alive: Arc<Vec<crate::MappedBuffer>>,
    /// The consuming side of the actor's K2K inbox, when other actors
    /// send to it.
    pub k2k: Option<K2kConsumer<K2kEnvelope>>,
    /// Where `ctx.send(port, ..)` goes, by port (`None`: not wired).
    pub routes: Vec<Option<CpuRoute>>,
}

/// A route of the CPU backend: the destination's inbox and its entry of
/// the route table (type id, size, actor).
#[derive(Debug, Clone)]
pub(crate) struct CpuRoute {
    pub inbox: Arc<CpuK2k>,
    pub route: ringkernel_device::control::Route,
}

/// A K2K message on the CPU backend: its envelope header and payload.
pub(crate) type K2kEnvelope = (EnvelopeHeader, Vec<u8>);

/// A K2K inbox on the CPU backend: `rk_k2k.cuh`'s bounded multi-producer
/// queue and the actor loop's close, lock-free ([`K2kQueue`]; capacity
/// from the same layout, full is backpressure, a closed inbox refuses
/// sends). Senders hold it through their routes; its one consumer is the
/// owning actor's executor.
pub(crate) type CpuK2k = K2kQueue<K2kEnvelope>;

impl CpuDriver {
    pub fn start(actor: CpuActor) -> CpuDriver {
        let has_state = actor.state.is_some();
        let memory = actor.keep_alive.clone();
        let state = Arc::new(Mutex::new(actor.state.clone().unwrap_or_default()));
        let running = Arc::new(AtomicBool::new(true));
        let failure = Arc::new(Mutex::new(None));
        let thread = {
            let (state, running, failure) = (state.clone(), running.clone(), failure.clone());
            std::thread::Builder::new()
                .name(format!("ringkernel-actor-{}", actor.info.id))
                .spawn(move || {
                    let mut exec = Executor::new(actor, has_state, state, failure);
                    exec.run();
                    running.store(false, Ordering::Release);
                })
                .expect("spawning an actor thread")
        };
        CpuDriver {
            state,
            thread: Mutex::new(Some(thread)),
            running,
            failure,
            _memory: memory,
        }
    }
}

impl ActorDriver for CpuDriver {
    fn read_state(&self, out: &mut [u8]) -> Result<(), ActorError> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        out.copy_from_slice(&state[..out.len()]);
        Ok(())
    }

    fn write_state(&self, bytes: &[u8]) -> Result<(), ActorError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state[..bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    fn running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    fn join(&self) -> Result<(), ActorError> {
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = thread {
            t.join()
                .map_err(|_| ActorError::Protocol("the actor thread panicked".into()))?;
        }
        Ok(())
    }

    fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for CpuDriver {
    fn drop(&mut self) {
        // The handle stops the actor before dropping its driver; a thread
        // still running here would outlive its memory, so wait for it.
        let _ = self.join();
    }
}

/// A handler's output ports on the CPU backend (the interpreter's
/// [`K2kPorts`]): each send is pushed into the destination's inbox at the
/// call, as `rk_actor_send_to` reserves a slot when the send runs, so
/// `try_send` answers from the inbox's room at that moment and a closed
/// destination faults at the send.
struct Ports<'a> {
    routes: &'a [Option<CpuRoute>],
    actor_id: u32,
    clock: &'a mut HlcClock,
    /// Messages this actor sent (the envelopes' sequence numbers).
    sent: &'a mut u64,
    memory: &'a ActorMemory,
    heartbeat: &'a mut u64,
}

impl Ports<'_> {
    /// One attempt: `Ok(true)` pushed, `Ok(false)` full.
    fn attempt(&mut self, port: u32, message: &[u8]) -> Result<bool, Undelivered> {
        let route = match self.routes.get(port as usize) {
            Some(Some(r)) if r.route.payload_size as usize == message.len() => r,
            _ => return Err(Undelivered::Unrouted),
        };
        let (clock, sent, actor_id) = (&mut *self.clock, &mut *self.sent, self.actor_id);
        let mut header = || {
            *sent += 1;
            EnvelopeHeader {
                type_id: route.route.type_id,
                payload_size: message.len() as u32,
                source_actor: actor_id,
                dest_actor: route.route.dest_actor,
                correlation_id: 0,
                sequence: *sent,
                hlc: clock.send(host_time_ns()),
                flags: 0,
                reserved: [0; 3],
            }
        };
        // The header (the clock's send stamp) and the payload's copy are
        // made only once a slot is held.
        match route.inbox.try_push_with(|| (header(), message.to_vec())) {
            Ok(()) => Ok(true),
            Err(K2kRefused::Full) => Ok(false),
            Err(K2kRefused::Closed) => Err(Undelivered::Closed),
        }
    }
}

impl K2kPorts for Ports<'_> {
    fn send(&mut self, port: u32, message: &[u8]) -> Result<(), Undelivered> {
        while !self.attempt(port, message)? {
            // Backpressure: wait for the destination to consume.
            *self.heartbeat += 1;
            self.memory.set_heartbeat(*self.heartbeat);
            std::thread::sleep(Duration::from_micros(20));
        }
        Ok(())
    }

    fn try_send(&mut self, port: u32, message: &[u8]) -> Result<bool, Undelivered> {
        self.attempt(port, message)
    }
}

/// Waits a little longer each time (`idle` counts the calls): spins, then
/// yields, then sleeps.
fn backoff(idle: &mut u32) {
    *idle = idle.saturating_add(1);
    if *idle < 64 {
        std::hint::spin_loop();
    } else if *idle < 128 {
        std::thread::yield_now();
    } else {
        std::thread::sleep(Duration::from_micros(20));
    }
}

struct Executor {
    actor: CpuActor,
    has_state: bool,
    state: Arc<Mutex<Vec<u8>>>,
    failure: Arc<Mutex<Option<String>>>,
    inbox: Consumer<RawRing>,
    outbox: Producer<RawRing>,
    clock: HlcClock,
    heartbeat: u64,
    messages_in: u64,
    messages_out: u64,
    sequence: u64,
    failed: bool,
    restarts_seen: u32,
    /// Take the next message from the K2K inbox first (the two take turns).
    k2k_turn: bool,
    /// Messages sent with `ctx.send` and `ctx.try_send`.
    sent: u64,
}

impl Executor {
    fn new(
        actor: CpuActor,
        has_state: bool,
        state: Arc<Mutex<Vec<u8>>>,
        failure: Arc<Mutex<Option<String>>>,
    ) -> Executor {
        let memory = actor.memory.clone();
        // SAFETY: this thread is the only consumer of the inbox and the only
        // producer of the outbox (the handle holds the other halves).
        let inbox = unsafe { Consumer::attach(memory.inbox) };
        let outbox = unsafe { Producer::attach(memory.outbox) };
        let (messages_in, messages_out) = memory.counters();
        Executor {
            clock: HlcClock::new(actor.info.id),
            heartbeat: memory.heartbeat(),
            restarts_seen: memory.restart_requested(),
            actor,
            has_state,
            state,
            failure,
            inbox,
            outbox,
            messages_in,
            messages_out,
            sequence: messages_out,
            failed: false,
            k2k_turn: true,
            sent: 0,
        }
    }

    fn memory(&self) -> &ActorMemory {
        &self.actor.memory
    }

    fn run(&mut self) {
        self.memory().set_state(Lifecycle::Initializing);
        self.memory().set_state(Lifecycle::Active);
        let mut idle_since: Option<Instant> = None;
        loop {
            if self.failed {
                if self.memory().stop_requested() {
                    self.shutdown_k2k();
                    break;
                }
                let restart = self.memory().restart_requested();
                if restart != self.restarts_seen {
                    self.restarts_seen = restart;
                    self.failed = false;
                    self.memory().set_state(Lifecycle::Active);
                    continue;
                }
                self.beat();
                std::thread::sleep(Duration::from_micros(200));
                continue;
            }
            if let Some(message) = self.pop() {
                idle_since = None;
                self.process(message);
                continue;
            }
            if self.memory().stop_requested() {
                // Every message was published before the stop request.
                match self.pop() {
                    Some(message) => {
                        self.process(message);
                        continue;
                    }
                    None => {
                        // Other actors' messages: closed only when nothing
                        // is reserved past what this actor took.
                        if self.actor.k2k.as_mut().is_none_or(|k| k.try_close()) {
                            break;
                        }
                        // A sender is between its reserve and its commit.
                        std::thread::yield_now();
                        continue;
                    }
                }
            }
            self.beat();
            let idle = idle_since.get_or_insert_with(Instant::now).elapsed();
            if idle < Duration::from_micros(100) {
                std::hint::spin_loop();
            } else if idle < Duration::from_millis(2) {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(50));
            }
        }
        self.memory()
            .set_counters(self.messages_in, self.messages_out);
        self.memory().set_state(Lifecycle::Terminated);
    }

    fn beat(&mut self) {
        self.heartbeat += 1;
        self.memory().set_heartbeat(self.heartbeat);
    }

    /// The next message: the K2K inbox and the host inbox take turns.
    fn pop(&mut self) -> Option<(EnvelopeHeader, Vec<u8>)> {
        let k2k_first = self.actor.k2k.is_some() && self.k2k_turn;
        self.k2k_turn = !self.k2k_turn;
        if k2k_first {
            if let Some(m) = self.actor.k2k.as_mut().and_then(|k| k.pop()) {
                return Some(m);
            }
        }
        if let Some(m) = self.pop_host() {
            return Some(m);
        }
        if !k2k_first {
            return self.actor.k2k.as_mut().and_then(|k| k.pop());
        }
        None
    }

    /// A failed actor asked to stop: its K2K messages are dead-lettered to
    /// the host (UNDELIVERABLE) until the inbox closes, as on the device
    /// (`rk_actor_k2k_shutdown`): the close fails while a sender holds a
    /// slot, whose message is then dead-lettered too.
    fn shutdown_k2k(&mut self) {
        let Some(mut k2k) = self.actor.k2k.take() else {
            return;
        };
        let mut idle = 0u32;
        while !k2k.try_close() {
            match k2k.pop() {
                Some((header, payload)) => {
                    idle = 0;
                    self.messages_in += 1;
                    self.dead_letter(&header, &payload, FaultKind::Undeliverable, 0, 0);
                }
                // A sender is between its reserve and its commit.
                None => backoff(&mut idle),
            }
        }
        self.actor.k2k = Some(k2k);
    }

    fn pop_host(&mut self) -> Option<(EnvelopeHeader, Vec<u8>)> {
        self.inbox.try_pop(|slot| {
            let header = EnvelopeHeader::read_from(slot);
            let len = (header.payload_size as usize).min(slot.len() - ENVELOPE_HEADER_SIZE);
            (
                header,
                slot[ENVELOPE_HEADER_SIZE..ENVELOPE_HEADER_SIZE + len].to_vec(),
            )
        })
    }

    /// Publishes an envelope, waiting while the outbox is full.
    fn publish(&mut self, header: EnvelopeHeader, payload: &[u8]) {
        loop {
            match self.outbox.try_push_envelope(&header, payload) {
                Ok(()) => return,
                Err(_) => {
                    self.beat();
                    std::thread::sleep(Duration::from_micros(20));
                }
            }
        }
    }

    fn dead_letter(
        &mut self,
        request: &EnvelopeHeader,
        payload: &[u8],
        kind: FaultKind,
        line: u32,
        column: u32,
    ) {
        let hlc = self.clock.send(host_time_ns());
        let header = EnvelopeHeader {
            source_actor: self.actor.info.id,
            dest_actor: request.source_actor,
            hlc,
            flags: flags::FAULT | flags::REPLY,
            reserved: [kind as u32, line, column],
            ..*request
        };
        self.memory()
            .set_counters(self.messages_in, self.messages_out);
        self.publish(header, payload);
    }

    fn process(&mut self, (request, payload): (EnvelopeHeader, Vec<u8>)) {
        self.messages_in += 1;
        let info = self.actor.info.clone();
        if request.type_id != info.message_type_id
            || u64::from(request.payload_size) != info.abi.message_size
        {
            self.dead_letter(&request, &payload, FaultKind::BadMessage, 0, 0);
            return;
        }
        let received = self.clock.receive(&request.hlc, host_time_ns());
        let env = ActorEnv {
            actor_id: info.id,
            received: [
                received.physical_ns,
                received.logical.into(),
                received.node.into(),
            ],
            routed: self
                .actor
                .routes
                .iter()
                .enumerate()
                .filter(|(p, r)| r.is_some() && *p < 64)
                .fold(0u64, |m, (p, _)| m | (1u64 << p)),
        };
        let mut args = Vec::new();
        if self.has_state {
            let state = self.state.lock().unwrap_or_else(|e| e.into_inner()).clone();
            args.push(Arg::Buffer(Buffer::from_bytes(state)));
        }
        args.push(Arg::Buffer(Buffer::from_bytes(payload.clone())));
        let launch = Launch::block(self.actor.block).with_actor(env);
        let program: &Program = self
            .actor
            .program
            .program
            .get()
            .expect("compiled before the actors start");
        let mut ports = Ports {
            routes: &self.actor.routes,
            actor_id: info.id,
            clock: &mut self.clock,
            sent: &mut self.sent,
            memory: &self.actor.memory,
            heartbeat: &mut self.heartbeat,
        };
        let report = program.run_handler(&self.actor.handler, launch, &mut args, &mut ports);
        if self.has_state {
            if let Arg::Buffer(b) = &args[0] {
                let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                state.copy_from_slice(b.bytes());
            }
        }
        let fault = match report {
            Err(error) => {
                // An error the GPU would hide (divergent barrier, data race)
                // or an interpreter limit: the actor fails loudly.
                *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(error.to_string());
                Some((FaultKind::Panic, 0, 0))
            }
            // The leader's sends were made when they ran (before a fault).
            Ok(report) => match report.fault {
                Some(f) => {
                    let kind = abi::FaultKind::from(f.kind).code();
                    let kind = FaultKind::try_from(kind).unwrap_or(FaultKind::Panic);
                    Some((kind, f.location.line, f.location.column))
                }
                None => {
                    if info.abi.reply_size > 0 {
                        let reply = report.return_value.unwrap_or_default();
                        let hlc = self.clock.send(host_time_ns());
                        self.sequence += 1;
                        self.messages_out += 1;
                        let header = EnvelopeHeader {
                            type_id: info.reply_type_id,
                            payload_size: reply.len() as u32,
                            source_actor: info.id,
                            dest_actor: request.source_actor,
                            correlation_id: request.correlation_id,
                            sequence: self.sequence,
                            hlc,
                            flags: flags::REPLY,
                            reserved: [0; 3],
                        };
                        self.memory()
                            .set_counters(self.messages_in, self.messages_out);
                        self.publish(header, &reply);
                    } else {
                        self.memory()
                            .set_counters(self.messages_in, self.messages_out);
                    }
                    None
                }
            },
        };
        if let Some((kind, line, column)) = fault {
            self.memory().record_fault(ActorFault {
                sequence: request.sequence,
                kind: kind as u32,
                file_id: 0,
                line,
                column,
            });
            // Failed before the dead letter is published (as on the device):
            // a host that sees the dead letter sees the actor Failed.
            self.failed = true;
            self.memory().set_state(Lifecycle::Failed);
            self.dead_letter(&request, &payload, kind, line, column);
        }
        self.beat();
    }
}
