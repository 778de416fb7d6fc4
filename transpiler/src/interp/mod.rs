//! The IR interpreter: runs kernels and handlers on the CPU with the GPU's
//! SIMT semantics. It is the CPU backend (`Runtime::cpu()`), and the oracle
//! that makes transpiler tests meaningful on machines without a GPU.
//!
//! # How it runs
//!
//! [`Program::compile`] turns every function once into a flat instruction
//! list (`stmt.rs`) whose expressions are pre-resolved closure trees
//! (`expr.rs`): operator, width, layout offset and builtin are chosen at
//! compile time, so evaluation never matches on types. A launch runs the
//! grid's blocks one after another; inside a block each thread is a
//! resumable continuation (a stack of frames with program counters), stepped
//! in linear-id order until it parks at a barrier or warp collective
//! (`block.rs` completes those for the whole block or warp at once, in
//! lockstep), finishes, or faults. No OS threads: runs are deterministic.
//!
//! # Semantics
//!
//! - Arithmetic is Rust's: integers wrap at their own width, `Overflows`
//!   predicates are exact, casts are Rust's `as`, float operations are done
//!   in the operand's precision with Rust's std functions (`powi` excepted:
//!   binary exponentiation, as the CUDA back end emits; see [`math::powi`]).
//! - Memory is little-endian bytes in the IR's host layouts: locals in
//!   per-thread frames, shared arrays per block (zeroed at block start),
//!   slices and references over caller [`Buffer`]s.
//! - Warp and block reductions follow the order documented in
//!   `collective.rs`, which the CUDA back end shares.
//! - A failed `Check` or a `Fault` stops its thread (the others go on) and
//!   the first is reported as a [`Fault`] with its Rust location.
//! - Errors the GPU would hide are [`InterpError`]s: a divergent barrier or
//!   warp collective, and a data race on shared memory or on `&T`/`&mut T`
//!   parameter memory (actor state) between threads of a block with no
//!   barrier between the accesses. Slices (global memory) are not
//!   race-checked: per-byte shadow state for million-element buffers would
//!   cost more than the run.
//! - Atomics execute when reached, in the deterministic thread order.
//! - `ClockNs` reads a monotonic host clock (nanoseconds since the first
//!   read in the process).

mod block;
mod collective;
mod cx;
mod error;
mod expr;
mod launch;
mod layout;
mod machine;
pub mod math;
mod ops;
mod ports;
mod program;
mod race;
mod stmt;
mod value;

pub use cx::ActorEnv;
pub use error::{
    Access, AccessKind, BarrierParty, DataRace, DivergentBarrier, DivergentWarp, Fault,
    InterpError, Location, RaceSpace, ThreadRef, UncheckedOp,
};
pub use launch::{Launch, LaunchReport, Sent};
pub use ports::{K2kPorts, Undelivered};
pub use program::Program;
pub use value::{Arg, Buffer, HostScalar, Value};

use crate::ir::Module;

impl Program {
    /// Runs the kernel entry point `entry` over `launch`.
    pub fn run_kernel(
        &self,
        entry: &str,
        launch: Launch,
        args: &mut [Arg],
    ) -> Result<LaunchReport, InterpError> {
        let f = self
            .entries
            .iter()
            .find(|(n, _, _)| n == entry)
            .map(|&(_, f, _)| f)
            .ok_or_else(|| InterpError::UnknownEntry(entry.to_owned()))?;
        self.launch(f, launch, args)
    }

    /// Runs any function (a handler, a device function) by name over
    /// `launch`; the leader's return value is in the report. Handlers run on
    /// every thread of one block: use [`Launch::block`].
    pub fn run_function(
        &self,
        function: &str,
        launch: Launch,
        args: &mut [Arg],
    ) -> Result<LaunchReport, InterpError> {
        let f = self
            .lookup(function)
            .ok_or_else(|| InterpError::UnknownEntry(function.to_owned()))?;
        self.launch(f, launch, args)
    }

    /// Runs the handler `function` as [`Program::run_function`] does, with
    /// its `ctx.send`/`ctx.try_send` going to `ports` at the call (the
    /// executor's routes): `try_send` returns what the destination's inbox
    /// answered, and a refused send faults there.
    pub fn run_handler(
        &self,
        function: &str,
        launch: Launch,
        args: &mut [Arg],
        ports: &mut dyn K2kPorts,
    ) -> Result<LaunchReport, InterpError> {
        let f = self
            .lookup(function)
            .ok_or_else(|| InterpError::UnknownEntry(function.to_owned()))?;
        self.launch_with(f, launch, args, ports)
    }
}

/// Compiles `module` and runs kernel entry point `entry` (see
/// [`Program::run_kernel`]; compile once with [`Program::compile`] to run
/// many times).
pub fn run_kernel(
    module: &Module,
    entry: &str,
    launch: Launch,
    args: &mut [Arg],
) -> Result<LaunchReport, InterpError> {
    Program::compile(module)?.run_kernel(entry, launch, args)
}

/// Compiles `module` and runs `function` (see [`Program::run_function`]).
pub fn run_function(
    module: &Module,
    function: &str,
    launch: Launch,
    args: &mut [Arg],
) -> Result<LaunchReport, InterpError> {
    Program::compile(module)?.run_function(function, launch, args)
}
