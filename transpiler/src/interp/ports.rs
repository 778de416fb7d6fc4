//! Where a handler's `ctx.send` and `ctx.try_send` go: the executor's K2K
//! routes, asked by the leader thread *at the call*.
//!
//! On the device a send reserves a slot of the destination's inbox when it
//! runs, so a handler observes each send's outcome where it is made:
//! `try_send` returns whether the inbox had room, a closed destination
//! faults at the send's line before the statements after it run, and the
//! messages of a handler are in the destination's inbox in the order it
//! sent them, interleaved with other producers' as they happened. The
//! interpreter gets the same by calling a [`K2kPorts`] from the send
//! itself; the CPU backend's implementation pushes into the destination's
//! inbox (`runtime/src/actor/cpu.rs`). Without one (plain
//! [`Program::run_function`](super::Program::run_function)), every port the
//! [`ActorEnv::routed`](super::ActorEnv::routed) mask names takes every
//! message (an unbounded inbox) and the report lists them.

/// Why a send delivered nothing; both fault the handler at the send
/// (`CheckKind::Unrouted`, `CheckKind::Undeliverable`), as on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undelivered {
    /// The host wired the port to no actor.
    Unrouted,
    /// The destination has terminated: its inbox is closed.
    Closed,
}

/// The output ports of the actor a handler runs for. The interpreter
/// calls these from the leader thread (thread 0) only, one message at a
/// time, in the handler's order; `message` is the message in its host
/// layout.
pub trait K2kPorts {
    /// `ctx.send`: delivers `message` on `port`, waiting while the
    /// destination's inbox is full (backpressure).
    fn send(&mut self, port: u32, message: &[u8]) -> Result<(), Undelivered>;

    /// `ctx.try_send`: one attempt. `Ok(true)`: delivered; `Ok(false)`: the
    /// inbox was full at that moment and nothing was delivered.
    fn try_send(&mut self, port: u32, message: &[u8]) -> Result<bool, Undelivered>;
}

/// The ports of a handler run without an executor: each port whose bit is
/// set in `routed` takes every message; any other port is unrouted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unbounded {
    pub routed: u64,
}

impl Unbounded {
    fn check(&self, port: u32) -> Result<(), Undelivered> {
        if port < 64 && self.routed & (1u64 << port) != 0 {
            Ok(())
        } else {
            Err(Undelivered::Unrouted)
        }
    }
}

impl K2kPorts for Unbounded {
    fn send(&mut self, port: u32, _message: &[u8]) -> Result<(), Undelivered> {
        self.check(port)
    }

    fn try_send(&mut self, port: u32, _message: &[u8]) -> Result<bool, Undelivered> {
        self.check(port).map(|()| true)
    }
}
