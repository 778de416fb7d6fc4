//! The receiving path of [`ActorCore`]: replies and dead letters taken
//! from the outbox (the stash first), each stamp received by the host's
//! clock, dead letters turned into errors, and the waits for a reply or
//! for a particular correlation id.

use super::*;

impl ActorCore {
    /// The next outbox envelope, if one is there (stash first).
    pub(super) fn try_take(&self, rx: &mut Rx) -> Option<Envelope> {
        if let Some(e) = rx.stash.pop_front() {
            return Some(e);
        }
        self.pop_outbox(rx)
    }

    /// The next envelope from the outbox ring itself (the stash aside), its
    /// stamp received by the host's clock.
    pub(super) fn pop_outbox(&self, rx: &mut Rx) -> Option<Envelope> {
        rx.consumer
            .try_pop(|slot| {
                let header = EnvelopeHeader::read_from(slot);
                let len = (header.payload_size as usize).min(slot.len() - ENVELOPE_HEADER_SIZE);
                Envelope {
                    header,
                    payload: slot[ENVELOPE_HEADER_SIZE..ENVELOPE_HEADER_SIZE + len].to_vec(),
                }
            })
            .inspect(|e| {
                lock(&self.clock).receive(&e.header.hlc, host_time_ns());
            })
    }

    /// Turns an envelope into a reply payload, or a dead letter into an error.
    pub(super) fn accept(&self, rx: &mut Rx, envelope: Envelope) -> Result<Envelope, ActorError> {
        let h = envelope.header;
        if h.flags & flags::FAULT != 0 {
            let kind = FaultKind::try_from(h.reserved[0]).unwrap_or(FaultKind::Panic);
            let location = SourceLocation {
                file: self.info.source_file.clone(),
                line: h.reserved[1],
                column: h.reserved[2],
            };
            rx.dead_letters.push_back(DeadLetter {
                header: h,
                payload: envelope.payload,
                kind,
                location: location.clone(),
            });
            if kind != FaultKind::BadMessage {
                self.faults_delivered.fetch_add(1, Ordering::AcqRel);
            }
            if h.reserved[1] == 0 && kind == FaultKind::Panic {
                // The CPU backend's interpreter refused the handler (a data
                // race, a divergent barrier): say what it found.
                if let Some(detail) = self.driver.failure() {
                    return Err(ActorError::Interpreter {
                        actor: self.actor(),
                        detail,
                    });
                }
            }
            return Err(if kind == FaultKind::BadMessage {
                ActorError::Rejected {
                    actor: self.actor(),
                    kind,
                    sequence: h.sequence,
                }
            } else {
                ActorError::Fault {
                    actor: self.actor(),
                    kind,
                    location,
                    sequence: h.sequence,
                }
            });
        }
        if h.type_id != self.info.reply_type_id || h.payload_size as u64 != self.info.abi.reply_size
        {
            return Err(ActorError::Protocol(format!(
                "actor {}: reply with type id {:#x} and {} bytes, expected {:#x} and {}",
                self.actor(),
                h.type_id,
                h.payload_size,
                self.info.reply_type_id,
                self.info.abi.reply_size
            )));
        }
        Ok(envelope)
    }

    /// Whether nothing more can ever arrive: the actor terminated (or its
    /// executor ended) and the outbox is empty.
    pub(super) fn finished(&self, rx: &mut Rx) -> bool {
        rx.stash.is_empty()
            && rx.consumer.available() == 0
            && (matches!(self.memory.state(), Ok(Lifecycle::Terminated)) || !self.driver.running())
            && rx.consumer.available() == 0
    }

    /// The next reply in outbox order. A handler that returns `()` has no
    /// replies, but its dead letters still come back: for it, `recv` waits
    /// for the next fault (an error) or the timeout.
    pub fn recv(&self, timeout: Option<Duration>) -> Result<Envelope, ActorError> {
        self.wait_for(timeout, |rx| self.try_take(rx))
    }

    /// The reply to request `correlation`; other envelopes met on the way
    /// are kept, in order, for `recv`.
    pub fn wait_reply(
        &self,
        correlation: u64,
        timeout: Option<Duration>,
    ) -> Result<Envelope, ActorError> {
        self.wait_for(timeout, |rx| {
            if let Some(i) = rx
                .stash
                .iter()
                .position(|e| e.header.correlation_id == correlation)
            {
                return rx.stash.remove(i);
            }
            while let Some(e) = self.pop_outbox(rx) {
                if e.header.correlation_id == correlation {
                    return Some(e);
                }
                rx.stash.push_back(e);
            }
            None
        })
    }

    /// Polls `find` (under the receive lock) until it yields an envelope,
    /// accepted as a reply or turned into its dead letter's error; on the
    /// liveness iterations, `Stopped` once nothing more can arrive and the
    /// actor's failure if it has one; `Timeout` at the deadline.
    pub(super) fn wait_for(
        &self,
        timeout: Option<Duration>,
        mut find: impl FnMut(&mut Rx) -> Option<Envelope>,
    ) -> Result<Envelope, ActorError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let found = poll(deadline, |full| {
            let mut rx = lock(&self.rx);
            if let Some(e) = find(&mut rx) {
                return self.accept(&mut rx, e).map(Some);
            }
            if !full {
                return Ok(None);
            }
            let finished = self.finished(&mut rx);
            drop(rx);
            if let Err(error) = self.check_alive() {
                // The actor may have published the envelope and ended (or
                // failed on a later message) between the look above and
                // the check: one more look, so that an answer in the outbox
                // is never reported as the actor's end.
                let mut rx = lock(&self.rx);
                if let Some(e) = find(&mut rx) {
                    return self.accept(&mut rx, e).map(Some);
                }
                return Err(error);
            }
            if finished {
                return Err(ActorError::Stopped {
                    actor: self.actor(),
                });
            }
            Ok(None)
        })?;
        found.ok_or(ActorError::Timeout {
            actor: self.actor(),
            millis: timeout.unwrap_or_default().as_millis(),
        })
    }

    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        lock(&self.rx).dead_letters.drain(..).collect()
    }
}
