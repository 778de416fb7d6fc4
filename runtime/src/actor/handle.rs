//! [`Actor`]: the typed handle to a running actor, the same on every
//! backend. It turns Rust values into payload bytes and back and forwards
//! to [`ActorCore`], which runs the host side of the protocol.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use ringkernel_device::envelope::EnvelopeHeader;
use ringkernel_device::hlc::HlcTimestamp;

use super::error::ActorError;
use super::host::{bytes_of, from_bytes, ActorCore, ActorStats, DeadLetter, LoopTrace};

/// A running actor with message type `M`, reply type `R` and state `S`.
///
/// `M`, `R` and `S` are `#[repr(C)]` plain data (the derives check it); the
/// handle checks at spawn that their sizes match the kernel's layout.
pub struct Actor<M, R, S = ()> {
    pub(crate) core: Arc<ActorCore>,
    /// The runtime's poller, which wakes `call_async`/`recv_async`.
    #[cfg(feature = "async")]
    pub(crate) poller: Arc<super::async_io::Poller>,
    _types: PhantomData<fn(M) -> (R, S)>,
}

impl<M, R, S> fmt::Debug for Actor<M, R, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Actor").field("core", &self.core).finish()
    }
}

impl<M: Copy, R: Copy, S: Copy> Actor<M, R, S> {
    pub(crate) fn new(core: Arc<ActorCore>, rt: &crate::Runtime) -> Self {
        #[cfg(not(feature = "async"))]
        let _ = rt;
        Actor {
            core,
            #[cfg(feature = "async")]
            poller: rt.poller(),
            _types: PhantomData,
        }
    }

    /// The actor's id (its HLC node id).
    pub fn id(&self) -> u32 {
        self.core.info.id
    }

    /// Sends `msg` and waits for its reply (the round trip).
    pub fn call(&self, msg: &M) -> Result<R, ActorError> {
        self.call_timeout(msg, None)
    }

    /// [`Actor::call`] with a deadline for the reply.
    pub fn call_timeout(&self, msg: &M, timeout: Option<Duration>) -> Result<R, ActorError> {
        if self.core.info.abi.reply_size == 0 {
            return Err(ActorError::NoReplies { actor: self.id() });
        }
        let correlation = self.core.send_value(msg)?;
        let e = self.core.wait_reply(correlation, timeout)?;
        // SAFETY: accept() checked the reply's type id and size.
        Ok(unsafe { from_bytes(&e.payload) })
    }

    /// Sends `msg`, waiting while the inbox is full (backpressure). Returns
    /// the request's correlation id.
    pub fn send(&self, msg: &M) -> Result<u64, ActorError> {
        self.core.send_value(msg)
    }

    /// Tests and diagnostics: sends `payload` as an envelope of type
    /// `type_id` without the typed checks, waiting while the inbox is full;
    /// returns its correlation id. For checking that an actor rejects what
    /// is not its message (another type id, another size): the actor
    /// dead-letters it as `FaultKind::BadMessage`, the reply in its place
    /// is [`ActorError::Rejected`], and the actor goes on. A well-formed
    /// message goes through [`Actor::send`].
    #[doc(hidden)]
    pub fn send_unchecked(&self, type_id: u32, payload: &[u8]) -> Result<u64, ActorError> {
        self.core.send_unchecked(type_id, payload, None)
    }

    /// Tests and diagnostics: sends `msg` stamped `stamp` instead of by the
    /// host clock (a sender whose clock is far ahead, a logical counter
    /// about to wrap), waiting while the inbox is full; returns its
    /// correlation id. The actor's receipts and replies must still follow
    /// the HLC rules: each after what caused it, strictly increasing.
    #[doc(hidden)]
    pub fn send_stamped(&self, msg: &M, stamp: HlcTimestamp) -> Result<u64, ActorError> {
        self.core
            .send_unchecked(self.core.info.message_type_id, &bytes_of(msg), Some(stamp))
    }

    /// Sends `msg` if the inbox has room, else [`ActorError::Full`].
    pub fn try_send(&self, msg: &M) -> Result<u64, ActorError> {
        self.core.try_send(&bytes_of(msg))
    }

    /// The next reply in order, waiting as long as it takes (an error once
    /// the actor stopped and nothing is left).
    pub fn recv(&self) -> Result<R, ActorError> {
        self.recv_envelope(None).map(|(r, _)| r)
    }

    /// The next reply, or [`ActorError::Timeout`].
    pub fn recv_timeout(&self, timeout: Duration) -> Result<R, ActorError> {
        self.recv_envelope(Some(timeout)).map(|(r, _)| r)
    }

    /// The next reply if one is already there.
    pub fn try_recv(&self) -> Result<Option<R>, ActorError> {
        match self.recv_envelope(Some(Duration::ZERO)) {
            Ok((r, _)) => Ok(Some(r)),
            Err(ActorError::Timeout { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The next reply with its envelope header (correlation id, sequence,
    /// HLC timestamp).
    pub fn recv_envelope(
        &self,
        timeout: Option<Duration>,
    ) -> Result<(R, EnvelopeHeader), ActorError> {
        let e = self.core.recv(timeout)?;
        // SAFETY: accept() checked the reply's type id and size.
        Ok((unsafe { from_bytes(&e.payload) }, e.header))
    }

    /// Sends as many of `msgs` (from the first, in order) as the inbox has
    /// room for now, published together with one release store; returns how
    /// many were sent (0 when the inbox is full). The streaming path: the
    /// actor takes a batch per poll as well.
    pub fn try_send_batch(&self, msgs: &[M]) -> Result<usize, ActorError> {
        self.core.try_send_batch(msgs)
    }

    /// [`Actor::try_send_batch`] without the slice: sends up to `n`
    /// messages, the i-th being `make(i)`, each written straight into its
    /// inbox slot, as many as the inbox has room for now; returns how many
    /// (0 when it is full). `make` is called exactly once for each message
    /// sent, in order, and never for one that is not. The fastest way to
    /// stream from one thread: no buffer of messages is filled and read
    /// again.
    pub fn try_send_with(
        &self,
        n: usize,
        make: impl FnMut(usize) -> M,
    ) -> Result<usize, ActorError> {
        self.core.try_send_with(n, make)
    }

    /// Sends all of `msgs` in order, waiting while the inbox is full.
    pub fn send_batch(&self, msgs: &[M]) -> Result<(), ActorError> {
        self.core.send_batch(msgs)
    }

    /// Appends up to `max` replies that are already there to `out`, in
    /// order, and returns how many; 0 when there is none. A dead letter is
    /// returned as the error of the first call that finds it at the front
    /// (replies before it are returned first), as [`Actor::recv`] would.
    pub fn try_recv_batch(&self, out: &mut Vec<R>, max: usize) -> Result<usize, ActorError> {
        self.core.try_recv_batch(out, max)
    }

    /// [`Actor::try_recv_batch`] without the `Vec`: hands up to `max`
    /// replies that are already there to `each`, in order, each read
    /// straight from its outbox slot, and returns how many. Dead letters
    /// are reported as [`Actor::try_recv_batch`] reports them: the replies
    /// before one are handed over first, then the call that finds it at
    /// the front returns it as its error.
    pub fn try_recv_with(&self, max: usize, each: impl FnMut(R)) -> Result<usize, ActorError> {
        self.core.try_recv_with(max, each)
    }

    /// [`Actor::try_recv_batch`], waiting for at least one reply (or
    /// [`ActorError::Timeout`] at the deadline).
    pub fn recv_batch(
        &self,
        out: &mut Vec<R>,
        max: usize,
        timeout: Option<Duration>,
    ) -> Result<usize, ActorError> {
        self.core.recv_batch(out, max, timeout)
    }

    /// Messages the actor did not answer (handler faults, rejected
    /// envelopes), oldest first; reading them empties the queue.
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.core.dead_letters()
    }

    /// A copy of the device-resident state. It is copied while the actor
    /// runs: to see the effect of a message, read it after its reply.
    pub fn state(&self) -> Result<S, ActorError> {
        let mut bytes = vec![0u8; std::mem::size_of::<S>()];
        self.core.read_state(&mut bytes)?;
        // SAFETY: the state memory holds an S (initialised from the host's
        // value and written only by the handler as an S).
        Ok(unsafe { from_bytes(&bytes) })
    }

    /// The actor's state and counters ([`ActorStats`]: the counters may
    /// trail a reply just received by about a microsecond).
    pub fn stats(&self) -> Result<ActorStats, ActorError> {
        self.core.stats()
    }

    /// Diagnostics: where the actor's loop spent its time, summed over its
    /// host batches (zero unless its module was compiled with
    /// `RINGKERNEL_ACTOR_TRACE` set; see [`LoopTrace`]).
    pub fn loop_trace(&self) -> LoopTrace {
        self.core.loop_trace()
    }

    /// Drains the inbox, then terminates the actor. Replies already in the
    /// outbox stay readable.
    pub fn stop(&self) -> Result<(), ActorError> {
        self.core.stop(Duration::from_secs(10))
    }

    /// Restarts a Failed actor in place from `state`, without relaunching.
    pub fn restart_with(&self, state: &S) -> Result<(), ActorError> {
        self.core.restart(&bytes_of(state))
    }

    /// The host's HLC after everything this handle sent and received.
    pub fn host_clock(&self) -> HlcTimestamp {
        self.core.host_clock()
    }
}

#[cfg(feature = "async")]
impl<M: Copy, R: Copy, S: Copy> Actor<M, R, S> {
    /// [`Actor::call`] as a future (feature `async`): sends `msg` (waiting
    /// without blocking while the inbox is full) and resolves to its reply.
    /// The runtime's one poller thread wakes it; no thread blocks per call.
    /// Concurrent calls on one handle each get their own reply (by
    /// correlation id). Dropping the future after the request went out
    /// leaves its reply for [`Actor::recv`].
    pub async fn call_async(&self, msg: &M) -> Result<R, ActorError> {
        use super::async_io::attempt;
        if self.core.info.abi.reply_size == 0 {
            return Err(ActorError::NoReplies { actor: self.id() });
        }
        let payload = bytes_of(msg);
        let correlation = self
            .poller
            .wait(&self.core, || match self.core.try_send(&payload) {
                Ok(c) => Ok(Some(c)),
                Err(ActorError::Full { .. }) => self.core.check_alive().map(|()| None),
                Err(e) => Err(e),
            })
            .await?;
        let e = self
            .poller
            .wait(&self.core, || {
                attempt(self.core.wait_reply(correlation, Some(Duration::ZERO)))
            })
            .await?;
        // SAFETY: accept() checked the reply's type id and size.
        Ok(unsafe { from_bytes(&e.payload) })
    }

    /// [`Actor::recv`] as a future (feature `async`): the next reply in
    /// order; an error once the actor stopped and nothing is left, or when
    /// it faulted, hung or lost its context.
    pub async fn recv_async(&self) -> Result<R, ActorError> {
        self.recv_envelope_async().await.map(|(r, _)| r)
    }

    /// [`Actor::recv_envelope`] as a future (feature `async`).
    pub async fn recv_envelope_async(&self) -> Result<(R, EnvelopeHeader), ActorError> {
        use super::async_io::attempt;
        let e = self
            .poller
            .wait(&self.core, || attempt(self.core.recv(Some(Duration::ZERO))))
            .await?;
        // SAFETY: accept() checked the reply's type id and size.
        Ok((unsafe { from_bytes(&e.payload) }, e.header))
    }

    /// [`Actor::send`] as a future (feature `async`): waits without
    /// blocking while the inbox is full; resolves to the correlation id.
    pub async fn send_async(&self, msg: &M) -> Result<u64, ActorError> {
        let payload = bytes_of(msg);
        self.poller
            .wait(&self.core, || match self.core.try_send(&payload) {
                Ok(c) => Ok(Some(c)),
                Err(ActorError::Full { .. }) => self.core.check_alive().map(|()| None),
                Err(e) => Err(e),
            })
            .await
    }
}

impl<M: Copy, R: Copy, S: Copy + Default> Actor<M, R, S> {
    /// Restarts a Failed actor in place from `S::default()`.
    pub fn restart(&self) -> Result<(), ActorError> {
        self.restart_with(&S::default())
    }
}

impl<M, R, S> Drop for Actor<M, R, S> {
    fn drop(&mut self) {
        if Arc::strong_count(&self.core) == 1 {
            let _ = self.core.stop(Duration::from_secs(10));
        }
    }
}
