//! The streaming path of [`ActorCore`]: typed messages pushed and replies
//! taken in batches, with one release store of a ring index per batch and
//! one host clock reading per batch of stamps (what the streaming
//! benchmark measures); `send_value` is the single-message form the round
//! trip uses.

use super::*;

impl ActorCore {
    /// Pushes the longest prefix of `msgs` the inbox has room for, with one
    /// release store of the tail for all of them; `Ok(0)` when it is full.
    /// One host clock reading stamps the batch (the HLC send rule per
    /// message, so the stamps still strictly increase).
    pub fn try_send_batch<M: Copy>(&self, msgs: &[M]) -> Result<usize, ActorError> {
        self.push_values(msgs.len(), |i| msgs[i])
            .map(|(sent, _)| sent)
    }

    /// [`ActorCore::try_send_batch`] of the messages `make(0)`,
    /// `make(1)`, ... up to `n` of them: each is written straight into its
    /// slot, and `make` is called once for each message sent, in order.
    pub fn try_send_with<M: Copy>(
        &self,
        n: usize,
        make: impl FnMut(usize) -> M,
    ) -> Result<usize, ActorError> {
        self.push_values(n, make).map(|(sent, _)| sent)
    }

    /// Pushes one typed message, waiting while the inbox is full; returns
    /// its correlation id. (No intermediate byte buffer: the round-trip path.)
    pub fn send_value<M: Copy>(&self, msg: &M) -> Result<u64, ActorError> {
        poll(None, |full| {
            let (sent, correlation) = self.push_values(1, |_| *msg)?;
            if sent == 1 {
                return Ok(Some(correlation));
            }
            if full {
                self.check_alive()?;
            }
            Ok(None)
        })
        .map(|c| c.expect("no deadline"))
    }

    /// Pushes up to `count` messages, the i-th `make(i)` written straight
    /// into its slot, as many as there is room for; returns how many and the
    /// first one's correlation id (the others follow it).
    fn push_values<M: Copy>(
        &self,
        count: usize,
        mut make: impl FnMut(usize) -> M,
    ) -> Result<(usize, u64), ActorError> {
        let mut tx = lock(&self.tx);
        if tx.stopped {
            return Err(ActorError::Stopped {
                actor: self.actor(),
            });
        }
        self.check_context()?;
        if count == 0 {
            return Ok((0, tx.next_correlation));
        }
        let size = std::mem::size_of::<M>();
        let max = tx.producer.memory().layout().max_payload();
        if size > max {
            return Err(ActorError::Protocol(format!(
                "actor {}: a {size}-byte message does not fit a slot's {max} payload bytes",
                self.actor()
            )));
        }
        let first = tx.next_correlation;
        let n = (tx.producer.space() as usize).min(count);
        if n == 0 {
            return Ok((0, first));
        }
        // The n send stamps, taken from the clock under one short lock (a
        // receiving thread may need it meanwhile): the send rule at one
        // physical time gives (l, c), (l, c + 1), ... unless the logical
        // counter would wrap, when they are issued one by one.
        let pt = host_time_ns();
        let mut stamps = Vec::new();
        let stamp0 = {
            let mut clock = lock(&self.clock);
            let stamp0 = clock.send(pt);
            if u64::from(stamp0.logical) + (n as u64 - 1) <= u64::from(u32::MAX) {
                clock.last.logical = stamp0.logical + (n as u32 - 1);
            } else {
                stamps.push(stamp0);
                stamps.extend((1..n).map(|_| clock.send(pt)));
            }
            stamp0
        };
        let template = EnvelopeHeader {
            type_id: self.info.message_type_id,
            payload_size: size as u32,
            source_actor: ACTOR_HOST,
            dest_actor: self.info.id,
            correlation_id: 0,
            sequence: 0,
            hlc: stamp0,
            flags: if self.info.abi.reply_size == 0 {
                flags::NO_REPLY
            } else {
                0
            },
            reserved: [0; 3],
        };
        let sent = tx.producer.push_batch(n, |i, slot| {
            let correlation = first + i as u64;
            let hlc = if stamps.is_empty() {
                HlcTimestamp {
                    logical: stamp0.logical + i as u32,
                    ..stamp0
                }
            } else {
                stamps[i]
            };
            EnvelopeHeader {
                correlation_id: correlation,
                sequence: correlation,
                hlc,
                ..template
            }
            .write_to(slot);
            let payload = &mut slot[ENVELOPE_HEADER_SIZE..ENVELOPE_HEADER_SIZE + size];
            // SAFETY: `payload` is `size_of::<M>()` writable bytes; the
            // unaligned write assumes no alignment of the slot. (M is plain
            // data: its padding bytes are copied as they are, never
            // interpreted.)
            unsafe { payload.as_mut_ptr().cast::<M>().write_unaligned(make(i)) };
        });
        debug_assert_eq!(sent, n, "space() promised the slots");
        tx.next_correlation += sent as u64;
        Ok((sent, first))
    }

    /// Sends all of `msgs` in order, in batches, waiting while the inbox is full.
    pub fn send_batch<M: Copy>(&self, msgs: &[M]) -> Result<(), ActorError> {
        let mut sent = 0;
        while sent < msgs.len() {
            let n = poll(None, |full| {
                let n = self.try_send_batch(&msgs[sent..])?;
                if n > 0 {
                    return Ok(Some(n));
                }
                if full {
                    self.check_alive()?;
                }
                Ok(None)
            })?
            .expect("no deadline");
            sent += n;
        }
        Ok(())
    }

    /// Takes up to `max` replies that are there now, in order, appending
    /// them to `out`: first those a `call` set aside, then a batch from the
    /// outbox with one release store of its head. Stops before a dead
    /// letter: it is returned as the error of the call that finds it first
    /// in line (as `recv` would), so no reply before it is lost.
    pub fn try_recv_batch<R: Copy>(
        &self,
        out: &mut Vec<R>,
        max: usize,
    ) -> Result<usize, ActorError> {
        self.try_recv_with(max, |r| out.push(r))
    }

    /// [`ActorCore::try_recv_batch`] handing each reply to `each`, in
    /// order, read straight from its slot (no intermediate buffer).
    pub fn try_recv_with<R: Copy>(
        &self,
        max: usize,
        mut each: impl FnMut(R),
    ) -> Result<usize, ActorError> {
        if self.info.abi.reply_size == 0 {
            return Err(ActorError::NoReplies {
                actor: self.actor(),
            });
        }
        let size = std::mem::size_of::<R>();
        let reply_type = self.info.reply_type_id;
        let is_reply = move |h: &EnvelopeHeader| {
            h.flags & flags::FAULT == 0
                && h.type_id == reply_type
                && h.payload_size as usize == size
        };
        let mut rx = lock(&self.rx);
        let mut taken = 0;
        loop {
            while taken < max {
                let Some(front) = rx.stash.front() else { break };
                if !is_reply(&front.header) && taken > 0 {
                    return Ok(taken);
                }
                let e = rx.stash.pop_front().expect("front exists");
                let e = self.accept(&mut rx, e)?;
                // SAFETY: accept() checked the reply's type id and size.
                each(unsafe { from_bytes(&e.payload) });
                taken += 1;
            }
            if taken == max || !rx.stash.is_empty() {
                return Ok(taken);
            }
            let Rx {
                consumer,
                stash,
                stamps,
                ..
            } = &mut *rx;
            stamps.clear();
            let popped = consumer.pop_batch(max - taken, |_, slot| {
                let header = EnvelopeHeader::read_from(slot);
                stamps.push(header.hlc);
                if stash.is_empty() && is_reply(&header) {
                    let payload = &slot[ENVELOPE_HEADER_SIZE..ENVELOPE_HEADER_SIZE + size];
                    // SAFETY: `size` bytes of a reply of type `R` (its type
                    // id and size checked), written by the kernel as an `R`.
                    each(unsafe { payload.as_ptr().cast::<R>().read_unaligned() });
                } else {
                    // A dead letter, and everything behind it, waits in order.
                    let len = (header.payload_size as usize).min(slot.len() - ENVELOPE_HEADER_SIZE);
                    stash.push_back(Envelope {
                        header,
                        payload: slot[ENVELOPE_HEADER_SIZE..ENVELOPE_HEADER_SIZE + len].to_vec(),
                    });
                }
            });
            if popped > 0 {
                // The receive rule for each, in order, at one physical time,
                // under one short lock (a sending thread may need the clock).
                let pt = host_time_ns();
                lock(&self.clock).receive_all(stamps, pt);
            }
            taken += popped - rx.stash.len();
            if rx.stash.is_empty() || taken > 0 {
                return Ok(taken);
            }
            // The first envelope was a dead letter: report it now.
        }
    }

    /// [`ActorCore::try_recv_batch`], waiting until at least one reply is
    /// there (or the deadline passes, or the actor can no longer answer).
    pub fn recv_batch<R: Copy>(
        &self,
        out: &mut Vec<R>,
        max: usize,
        timeout: Option<Duration>,
    ) -> Result<usize, ActorError> {
        if max == 0 {
            return Ok(0);
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let found = poll(deadline, |full| {
            let n = self.try_recv_batch(out, max)?;
            if n > 0 || !full {
                return Ok((n > 0).then_some(n));
            }
            let mut rx = lock(&self.rx);
            if self.finished(&mut rx) {
                drop(rx);
                self.check_alive()?;
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
}
