//! `call_async` / `recv_async` (cargo feature `async`): futures over the
//! same non-blocking protocol steps as the blocking calls, woken by one
//! host poller thread per [`Runtime`](crate::Runtime).
//!
//! Nothing on the device can interrupt the host: replies appear in mapped
//! memory. So one thread, the poller, watches the actors that have waiting
//! futures, and wakes a future when anything it could be waiting for has
//! changed since it registered: the outbox (a reply or dead letter was
//! published, or another waiter moved one into the handle's stash), the
//! inbox head (room to send), the lifecycle state, the fault count, the
//! stop request, the hang and restart flags; and, checked every
//! millisecond, whether the executor still runs (a stopped CPU thread, an
//! ended or lost kernel). A future is woken once per registration and then
//! re-runs its step; it never spins, and the poller sleeps on a condition
//! variable while no future waits.
//!
//! Lost wake-ups: a future tries its step, registers its waker with a
//! snapshot of those counters taken *after* the failed try, then tries
//! again before returning `Pending`. A change before the snapshot is seen
//! by the second try; a change after it is seen by the poller.
//!
//! A dropped (cancelled) future deregisters itself. A cancelled `call`'s
//! request was already sent: its reply is kept for `recv`, as after a
//! `call_timeout` that timed out.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use ringkernel_device::ring::{RingIndex, RingMemory};

use super::error::ActorError;
use super::host::ActorCore;

/// How often the poller asks each watched executor whether it still runs
/// (on the GPU a `cuEventQuery`, so not on every pass).
const LIVENESS_PERIOD: Duration = Duration::from_millis(1);

/// After the last wake-up, the poller yields between passes this long
/// (round-trip latency while traffic flows), then sleeps between passes.
const YIELD_PHASE: Duration = Duration::from_micros(200);
const SLEEP: Duration = Duration::from_micros(20);

/// Everything a waiting future could be waiting for, as counters: any
/// difference means "try again".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Snapshot {
    inbox_head: u64,
    outbox_head: u64,
    outbox_tail: u64,
    state: Option<u32>,
    faults: u64,
    stop_requested: bool,
    hung: bool,
    restarts: bool,
}

impl Snapshot {
    fn of(core: &ActorCore) -> Snapshot {
        let m = &core.memory;
        Snapshot {
            inbox_head: m.inbox.load(RingIndex::Head, Ordering::Acquire),
            outbox_head: m.outbox.load(RingIndex::Head, Ordering::Acquire),
            outbox_tail: m.outbox.load(RingIndex::Tail, Ordering::Acquire),
            state: m.state().ok().map(|s| s as u32),
            faults: m.faults().0,
            stop_requested: m.stop_requested(),
            hung: core.hung.load(Ordering::Acquire),
            restarts: core.restarts.load(Ordering::Acquire),
        }
    }
}

struct Waiter {
    core: Arc<ActorCore>,
    seen: Snapshot,
    waker: Waker,
}

#[derive(Default)]
struct State {
    waiters: HashMap<u64, Waiter>,
    next_id: u64,
    started: bool,
    shutdown: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.state.lock().unwrap_or_else(|e| e.into_inner())
}

/// The runtime's poller: a registry of waiting futures and the thread
/// (started on the first registration) that wakes them. It ends when the
/// runtime and every actor handle spawned from it are gone.
pub(crate) struct Poller {
    shared: Arc<Shared>,
}

impl fmt::Debug for Poller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = lock(&self.shared);
        f.debug_struct("Poller")
            .field("waiters", &s.waiters.len())
            .field("started", &s.started)
            .finish()
    }
}

impl Poller {
    pub(crate) fn new() -> Arc<Poller> {
        Arc::new(Poller {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                wake: Condvar::new(),
            }),
        })
    }

    /// Registers (or re-registers, under the same id) a waker for `core`.
    fn register(&self, id: Option<u64>, core: &Arc<ActorCore>, waker: &Waker) -> u64 {
        let seen = Snapshot::of(core);
        let mut s = lock(&self.shared);
        let id = id.unwrap_or_else(|| {
            s.next_id += 1;
            s.next_id
        });
        s.waiters.insert(
            id,
            Waiter {
                core: core.clone(),
                seen,
                waker: waker.clone(),
            },
        );
        if !s.started {
            s.started = true;
            let shared = self.shared.clone();
            std::thread::Builder::new()
                .name("ringkernel-poller".into())
                .spawn(move || run(&shared))
                .expect("spawning the poller thread");
        }
        drop(s);
        self.shared.wake.notify_one();
        id
    }

    fn deregister(&self, id: u64) {
        lock(&self.shared).waiters.remove(&id);
    }

    /// Waits, without blocking a thread, until `step` returns `Some` (or an
    /// error). `step` is one non-blocking attempt of a protocol step.
    pub(crate) fn wait<'a, T, F>(&'a self, core: &'a Arc<ActorCore>, step: F) -> Wait<'a, F>
    where
        F: FnMut() -> Result<Option<T>, ActorError>,
    {
        Wait {
            poller: self,
            core,
            step,
            registration: None,
        }
    }

    /// How many futures are registered now (tests).
    #[cfg(test)]
    fn waiting(&self) -> usize {
        lock(&self.shared).waiters.len()
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        lock(&self.shared).shutdown = true;
        self.shared.wake.notify_one();
    }
}

/// The poller thread.
fn run(shared: &Shared) {
    let mut last_wake = Instant::now();
    let mut last_liveness = Instant::now();
    loop {
        let mut woken = Vec::new();
        {
            let mut s = lock(shared);
            while s.waiters.is_empty() && !s.shutdown {
                s = shared.wake.wait(s).unwrap_or_else(|e| e.into_inner());
                last_wake = Instant::now();
            }
            if s.shutdown {
                // The runtime and every handle are gone, so no future can
                // still be waiting: any left were dropped with their actor.
                return;
            }
            let check_liveness = last_liveness.elapsed() >= LIVENESS_PERIOD;
            if check_liveness {
                last_liveness = Instant::now();
            }
            // One snapshot (and one liveness query) per actor per pass.
            let mut cores: Vec<(*const ActorCore, Snapshot, bool)> = Vec::new();
            let mut ready = Vec::new();
            for (&id, w) in &s.waiters {
                let key = Arc::as_ptr(&w.core);
                let (now, running) = match cores.iter().find(|c| c.0 == key) {
                    Some(&(_, snap, running)) => (snap, running),
                    None => {
                        let snap = Snapshot::of(&w.core);
                        let running = !check_liveness || w.core.driver.running();
                        cores.push((key, snap, running));
                        (snap, running)
                    }
                };
                if now != w.seen || !running {
                    ready.push(id);
                }
            }
            for id in ready {
                if let Some(w) = s.waiters.remove(&id) {
                    woken.push(w.waker);
                }
            }
        }
        if woken.is_empty() {
            if last_wake.elapsed() < YIELD_PHASE {
                std::thread::yield_now();
            } else {
                std::thread::sleep(SLEEP);
            }
        } else {
            last_wake = Instant::now();
            for w in woken {
                w.wake();
            }
        }
    }
}

/// A future that retries one protocol step each time the poller sees a
/// change on its actor.
pub(crate) struct Wait<'a, F> {
    poller: &'a Poller,
    core: &'a Arc<ActorCore>,
    step: F,
    registration: Option<u64>,
}

// The future never pins its fields (the step is called through `&mut`).
impl<F> Unpin for Wait<'_, F> {}

impl<T, F> Future for Wait<'_, F>
where
    F: FnMut() -> Result<Option<T>, ActorError>,
{
    type Output = Result<T, ActorError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let done = |this: &mut Self, r| {
            if let Some(id) = this.registration.take() {
                this.poller.deregister(id);
            }
            Poll::Ready(r)
        };
        match (this.step)() {
            Ok(Some(v)) => return done(this, Ok(v)),
            Err(e) => return done(this, Err(e)),
            Ok(None) => {}
        }
        // Register, then re-check: a change between the failed try and the
        // snapshot is seen here, one after it by the poller.
        this.registration = Some(
            this.poller
                .register(this.registration, this.core, cx.waker()),
        );
        match (this.step)() {
            Ok(Some(v)) => done(this, Ok(v)),
            Err(e) => done(this, Err(e)),
            Ok(None) => Poll::Pending,
        }
    }
}

impl<F> Drop for Wait<'_, F> {
    fn drop(&mut self) {
        if let Some(id) = self.registration.take() {
            self.poller.deregister(id);
        }
    }
}

/// One non-blocking attempt of a blocking step whose "not yet" is a
/// zero-timeout [`ActorError::Timeout`].
pub(crate) fn attempt<T>(r: Result<T, ActorError>) -> Result<Option<T>, ActorError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(ActorError::Timeout { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_map_a_zero_timeout_to_not_yet_and_keep_other_errors() {
        assert_eq!(attempt(Ok(3)), Ok(Some(3)));
        assert_eq!(
            attempt::<()>(Err(ActorError::Timeout {
                actor: 1,
                millis: 0
            })),
            Ok(None)
        );
        assert_eq!(
            attempt::<()>(Err(ActorError::Stopped { actor: 1 })),
            Err(ActorError::Stopped { actor: 1 })
        );
    }

    #[test]
    fn a_poller_without_waiters_starts_no_thread() {
        let p = Poller::new();
        assert_eq!(p.waiting(), 0);
        assert!(!lock(&p.shared).started);
    }
}
