//! The lifecycle of [`ActorCore`]: statistics, the loop trace, stop, the
//! supervisor's give-up (what is queued is dead-lettered), restart, and
//! the state and clock read for tests.

use super::*;

impl ActorCore {
    pub fn stats(&self) -> Result<ActorStats, ActorError> {
        let (messages_in, messages_out) = self.memory.counters();
        Ok(ActorStats {
            state: self.memory.state()?,
            messages_in,
            messages_out,
            faults: self.memory.faults().0,
            heartbeat: self.memory.heartbeat(),
        })
    }

    pub fn loop_trace(&self) -> LoopTrace {
        let w = self.memory.trace_words();
        LoopTrace {
            batches: w[0],
            stages_cycles: std::array::from_fn(|k| w[k + 1]),
            busy_ns: w[14],
            empty_looks: w[15],
        }
    }

    /// Asks the actor to drain its inbox and terminate, and waits for it.
    pub fn stop(&self, timeout: Duration) -> Result<(), ActorError> {
        {
            let mut tx = lock(&self.tx);
            if !tx.stopped {
                tx.stopped = true;
                self.memory.request_stop();
            }
        }
        let deadline = Instant::now() + timeout;
        let done = poll(Some(deadline), |full| {
            Ok((matches!(self.memory.state(), Ok(Lifecycle::Terminated))
                || (full && !self.driver.running()))
            .then_some(()))
        })?;
        if done.is_none() {
            return Err(ActorError::Timeout {
                actor: self.actor(),
                millis: timeout.as_millis(),
            });
        }
        self.driver.join()?;
        self.dead_letter_unprocessed();
        Ok(())
    }

    /// The restart policy is exhausted: the supervisor gives the actor up
    /// (the lifecycle model's GiveUp). Later sends are refused, the actor
    /// terminates, and every request still queued becomes a dead letter.
    pub fn give_up(&self, timeout: Duration) -> Result<(), ActorError> {
        self.stop(timeout)
    }

    /// After the executor terminated: requests still in the inbox (an actor
    /// stopped while Failed leaves them there) become dead letters with
    /// [`FaultKind::Undeliverable`], so nothing accepted is lost silently.
    /// (A normally stopped actor drained its inbox; a lost context's
    /// memory is not read.)
    pub(super) fn dead_letter_unprocessed(&self) {
        if self.driver.context_lost().is_some()
            || !matches!(self.memory.state(), Ok(Lifecycle::Terminated))
        {
            return;
        }
        // SAFETY: the executor has terminated (its consumer half is gone),
        // so this is the inbox's only consumer; the memory lives with self.
        let mut inbox = unsafe { Consumer::attach(self.memory.inbox) };
        let mut letters = Vec::new();
        while let Some(letter) = inbox.try_pop(|slot| {
            let header = EnvelopeHeader::read_from(slot);
            let len = (header.payload_size as usize).min(slot.len() - ENVELOPE_HEADER_SIZE);
            DeadLetter {
                header,
                payload: slot[ENVELOPE_HEADER_SIZE..ENVELOPE_HEADER_SIZE + len].to_vec(),
                kind: FaultKind::Undeliverable,
                location: SourceLocation {
                    file: self.info.source_file.clone(),
                    line: 0,
                    column: 0,
                },
            }
        }) {
            letters.push(letter);
        }
        if !letters.is_empty() {
            lock(&self.rx).dead_letters.extend(letters);
        }
    }

    /// Restarts a Failed actor in place from `state` (its `Default`): the
    /// queued messages after the faulting one are then processed.
    pub fn restart(&self, state: &[u8]) -> Result<(), ActorError> {
        // Serialised with sends and stop (the lifecycle model's assumption).
        let tx = lock(&self.tx);
        if tx.stopped {
            return Err(ActorError::Stopped {
                actor: self.actor(),
            });
        }
        match self.memory.state()? {
            Lifecycle::Failed => {}
            other => {
                return Err(ActorError::Protocol(format!(
                    "actor {}: restart of an actor that is {other:?}, not Failed",
                    self.actor()
                )))
            }
        }
        // One restart per fault: a second request for the same fault (a
        // user's racing the supervisor's, say) would bump the executor's
        // restart counter twice, and the executor, having taken up the
        // first, would take the second as a restart of its next fault,
        // which nobody asked for or counted.
        let faults = self.memory.faults().0;
        if self.restarted_at_faults.load(Ordering::Acquire) == faults {
            return Err(ActorError::Protocol(format!(
                "actor {}: a restart was already requested for its fault {faults}",
                self.actor()
            )));
        }
        self.driver.write_state(state)?;
        self.restarted_at_faults.store(faults, Ordering::Release);
        self.memory.request_restart();
        Ok(())
    }

    /// Whether a restart was requested for the actor's latest fault,
    /// whether or not the executor has taken it up since: that fault wants
    /// no more decisions. Deliberately not conditioned on the state (a
    /// caller that saw Failed and then asks may find the actor Active again
    /// because it took the restart up in between; see `supervisor::check`).
    pub fn restart_requested_for_last_fault(&self) -> bool {
        self.restarted_at_faults.load(Ordering::Acquire) == self.memory.faults().0
    }

    pub fn read_state(&self, out: &mut [u8]) -> Result<(), ActorError> {
        self.driver.read_state(out)
    }

    /// The host's HLC (for tests of causality).
    pub fn host_clock(&self) -> HlcTimestamp {
        lock(&self.clock).last
    }
}

/// The actor stops when the last reference to it goes, whoever holds it.
/// A handle stops its actor when it drops as the last one
/// (`Arc::strong_count == 1`), but the supervisor's watchdog upgrades its
/// weak reference for a moment every period: a handle that dropped in that
/// moment saw two, skipped the stop, and the watchdog's reference was then
/// the last. The actor stayed parked, its kernel ran on after everything
/// was dropped (on the GPU, "still running 10 s after its actors were
/// stopped", and the next test's runtime hung; on the CPU the driver's
/// join would wait forever). Here, before the driver drops, an actor
/// nobody stopped is stopped (its memory lives with the driver, which drops
/// after this).
impl Drop for ActorCore {
    fn drop(&mut self) {
        if !lock(&self.tx).stopped {
            let _ = self.stop(Duration::from_secs(10));
        }
    }
}
