//! Supervision: a watchdog thread per spawn that restarts Failed actors by
//! policy and reports hangs.
//!
//! A handler's soft fault marks its actor Failed; the device (or CPU
//! executor) parks it, with the messages behind the faulting one still
//! queued, and the dead letter tells the handle which message and where.
//! The supervisor then applies the [`RestartPolicy`]: one-for-one restarts
//! reset only that actor's state to its initial value and resume it in
//! place (no relaunch), at most `max_restarts` within `window`; past that,
//! or with [`RestartPolicy::Never`], the actor stays Failed and every call
//! on its handle says so.
//!
//! A hang is an actor whose heartbeat does not move for `hang_timeout`
//! while its inbox holds messages; the handle then fails waits with
//! [`ActorError::Hung`](super::ActorError::Hung) instead of blocking
//! forever. A lost context (the kernel died) shows up as the executor no
//! longer running, which every handle reports.
//!
//! Restarts go through the handle's send lock, so sends, stop and restarts
//! of one actor are serialised, as the lifecycle model in `verification/`
//! assumes.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use ringkernel_device::control::Lifecycle;
use ringkernel_device::ring::{RingIndex, RingMemory};

use super::host::ActorCore;

/// What the supervisor does when an actor's handler faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    /// Leave it Failed; the host may call `Actor::restart`.
    Never,
    /// Restart only the failed actor, from its initial state, at most
    /// `max_restarts` times within any `window`.
    OneForOne { max_restarts: u32, window: Duration },
}

/// How often the watchdog looks.
const PERIOD: Duration = Duration::from_micros(100);

struct Watched {
    core: Weak<ActorCore>,
    restarts: VecDeque<Instant>,
    last_beat: u64,
    beat_moved: Instant,
    initial_state: Vec<u8>,
}

/// Starts the watchdog for `cores`; it ends when they are all dropped.
pub(crate) fn watch(
    cores: &[Arc<ActorCore>],
    policy: RestartPolicy,
    hang_timeout: Option<Duration>,
    initial_state: Vec<u8>,
) {
    if policy == RestartPolicy::Never && hang_timeout.is_none() {
        return;
    }
    let mut watched: Vec<Watched> = cores
        .iter()
        .map(|c| Watched {
            core: Arc::downgrade(c),
            restarts: VecDeque::new(),
            last_beat: c.memory.heartbeat(),
            beat_moved: Instant::now(),
            initial_state: initial_state.clone(),
        })
        .collect();
    std::thread::Builder::new()
        .name("ringkernel-supervisor".into())
        .spawn(move || loop {
            let mut alive = false;
            for w in &mut watched {
                let Some(core) = w.core.upgrade() else {
                    continue;
                };
                alive = true;
                check(&core, w, policy, hang_timeout);
            }
            if !alive {
                return;
            }
            std::thread::sleep(PERIOD);
        })
        .expect("spawning the supervisor thread");
}

/// How long a give-up waits for the Failed actor to terminate (it only has
/// to notice the stop request while parked).
const GIVE_UP_TIMEOUT: Duration = Duration::from_secs(5);

fn check(core: &ActorCore, w: &mut Watched, policy: RestartPolicy, hang_timeout: Option<Duration>) {
    let now = Instant::now();
    let state = core.memory.state();
    if let (
        Ok(Lifecycle::Failed),
        RestartPolicy::OneForOne {
            max_restarts,
            window,
        },
        false,
    ) = (&state, policy, core.restart_pending())
    {
        while w
            .restarts
            .front()
            .is_some_and(|t| now.duration_since(*t) > window)
        {
            w.restarts.pop_front();
        }
        if (w.restarts.len() as u32) < max_restarts {
            if core.restart(&w.initial_state).is_ok() {
                w.restarts.push_back(now);
                w.beat_moved = now;
            }
        } else {
            // Exhausted: give the actor up (the lifecycle model's GiveUp):
            // waiting handles learn it, later sends are refused, and what
            // is still queued is dead-lettered.
            core.restarts.store(false, Ordering::Release);
            let _ = core.give_up(GIVE_UP_TIMEOUT);
        }
    }
    let beat = core.memory.heartbeat();
    if beat != w.last_beat {
        w.last_beat = beat;
        w.beat_moved = now;
        core.hung.store(false, Ordering::Release);
    }
    if let Some(limit) = hang_timeout {
        let inbox = &core.memory.inbox;
        let pending = inbox.load(RingIndex::Tail, Ordering::Acquire)
            != inbox.load(RingIndex::Head, Ordering::Acquire);
        let running = matches!(state, Ok(Lifecycle::Active | Lifecycle::Draining));
        if pending && running && now.duration_since(w.beat_moved) > limit {
            core.hung.store(true, Ordering::Release);
        }
    }
}
