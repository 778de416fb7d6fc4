//! The persistent wrapper of a `#[ring_kernel]` handler.
//!
//! The message loop itself is hand-written CUDA (`cuda/rk_actor.cuh`, a
//! template over the handler) so that it is reviewed and tested once; per
//! handler the back end writes only the adapter the template calls:
//!
//! ```text
//! struct rk_handler_<name> {               // sizes of M, R (0: no reply), S (0: stateless)
//!     static constexpr rk_u32 message_size = ..., reply_size = ..., state_size = ...;
//!     static constexpr rk_u32 threads = ...;   // the block's thread count
//!     static constexpr rk_u32 batch = ...;     // messages staged per poll
//!     static constexpr rk_u32 schedule = RK_ACTOR_SCHEDULE_...;
//!     static __device__ void run(rk_fault_ctx* f, void* state, const void* msg, void* reply, bool writer);
//! };
//! extern "C" __global__ void __launch_bounds__(B) <name>(const rk_actor_desc*, rk_u32 actor_count);
//! ```
//!
//! A `#[ring_kernel(warps = 1)]` handler's adapter also says
//! `static constexpr bool warp_actor = true;` (`threads` is then 32): the
//! loop runs one actor per warp, up to [`MAX_PACK`](super::MAX_PACK) of them in a block of
//! `32 * P` threads (`B` = `32 * MAX_PACK`), each with its own slice of the
//! staging area ([`ActorAbi::staging_bytes`] per warp, no chunk scratch).
//!
//! A handler the leader alone may run (stateless, no reply, no shared
//! memory or thread index, nothing communicating but `ctx.send`:
//! [`leader_alone`]) also says `static constexpr bool k2k_lone = true;`:
//! its K2K messages skip the loop's barriers (`rk_actor_k2k_one`).
//!
//! Two facts about the handler are decided here, where the IR is at hand:
//! the [`ActorSchedule`] (may messages of a batch run without barriers in
//! between, or even one per thread?) and the batch size (how many messages
//! the loop's shared-memory staging area holds, next to the handler's own
//! shared memory).

use std::fmt::Write as _;

use super::function::visit_statements;
use super::writer::Writer;
use super::{ActorAbi, ActorSchedule, ActorWiring, Error, KernelInfo, PortInfo, MAX_PACK};
use crate::arena::Handle;
use crate::ir::{
    ActorEntry, Builtin, EntryKind, Expression, Function, IntrinsicOp, Statement, Type,
};
use crate::valid::{type_align, type_size};

/// Envelope header bytes in front of every payload (`RK_ENVELOPE_HEADER_SIZE`).
const HEADER: u64 = 64;
/// `sizeof(rk_actor_env)`: the per-message receipt the loop stages.
const ENV_BYTES: u64 = 24;
/// `RK_ACTOR_CHUNK_AREA`: the receive scratch (one 24-byte chunk per 32
/// messages of the largest batch, 512) at the start of the staging area.
const CHUNK_AREA: u64 = 512 / 32 * 24;
/// `sizeof(rk_fault_record)`.
const FAULT_RECORD_BYTES: u64 = 40;
/// The most shared memory the loop's staging area takes.
const STAGING_BUDGET: u64 = 40 * 1024;
/// Static shared memory a block may declare, less room for the loop's
/// own variables.
const STATIC_SHARED_LIMIT: u64 = 48 * 1024 - 512;
/// The most messages per batch.
const MAX_BATCH: u64 = 256;
/// The staging area of one warp actor: the block's budget shared by a
/// full block of them.
const WARP_STAGING_BUDGET: u64 = STAGING_BUDGET / MAX_PACK as u64;
/// The most messages per batch of a warp actor: one per lane.
const WARP_MAX_BATCH: u64 = 32;

/// Registers a persistent kernel's thread may use (sm_70 on: 64 K
/// registers per multiprocessor, at most 32 blocks on one).
const PERSISTENT_REGISTERS: u32 = 64;

/// The `__launch_bounds__` of a persistent kernel (an actor's, a system's)
/// of `threads` per block: the block size, and as many resident blocks per
/// multiprocessor as leave each thread [`PERSISTENT_REGISTERS`]. Without a
/// minimum ptxas weighs occupancy against spills and at the margin takes
/// both (32 registers and 4-16 bytes spilled for a few actors of the
/// tests, after an unrelated edit of the loop); a persistent kernel's
/// blocks are one per actor whatever the occupancy, and a spill in its
/// loop costs on every message. The cap keeps a block of 256 threads to
/// 16 K registers, so several actors still share a multiprocessor.
pub(super) fn persistent_launch_bounds(threads: u32) -> String {
    let blocks = (65536 / (threads.max(1) * PERSISTENT_REGISTERS)).clamp(1, 32);
    format!("__launch_bounds__({threads}, {blocks})")
}

impl<W: std::fmt::Write> Writer<'_, W> {
    /// Writes the adapter and `__global__` wrapper of actor entry `index`.
    pub(super) fn write_actor(&mut self, index: usize) -> Result<KernelInfo, Error> {
        let module = self.module;
        let entry = &module.entry_points[index];
        let EntryKind::Actor(actor) = &entry.kind else {
            unreachable!("write_actor is called for actor entry points")
        };
        let ActorEntry {
            block,
            warp,
            state,
            message,
            reply,
        } = actor.clone();
        let threads = block.iter().product::<u32>();
        if threads % 32 != 0 && self.info.function(entry.function).uses_collectives {
            return Err(Error::PartialWarp {
                kernel: entry.name.clone(),
                threads,
            });
        }
        let symbol = self.names.kernels[index].clone();
        let body = self.names.functions[entry.function.index()].clone();
        let adapter = self.namer.call(&format!("{}_handler", entry.name));
        let has_reply = module.types[reply] != Type::Unit;
        let size = |ty| type_size(module, ty);
        let align = |ty| type_align(module, ty);
        let handler_shared = self.static_shared_bytes(entry.function);
        let reply_bytes = if has_reply {
            size(reply).next_multiple_of(16)
        } else {
            0
        };
        let record = record_size(size(message), reply_bytes);
        let batch = if warp {
            // The front end rejects shared arrays in warp actors, and their
            // block reductions are warp reductions: no handler shared memory.
            (WARP_STAGING_BUDGET / record).clamp(1, WARP_MAX_BATCH)
        } else {
            batch_size(record, handler_shared)
        };
        // A warp actor's block holds up to MAX_PACK of them.
        let launch_threads = if warp { threads * MAX_PACK } else { threads };
        let abi = ActorAbi {
            message_size: size(message),
            message_align: align(message),
            reply_size: if has_reply { size(reply) } else { 0 },
            reply_align: if has_reply { align(reply) } else { 1 },
            state_size: state.map_or(0, size),
            state_align: state.map_or(1, align),
            schedule: schedule(module, entry.function, state.is_some()),
            batch: batch as u32,
            record,
            warp,
        };
        let message_c = self.type_name(message).to_string();
        let reply_c = self.type_name(reply).to_string();

        writeln!(self.out)?;
        if warp {
            writeln!(
                self.out,
                "// Actor `{}`: one warp per actor, up to {MAX_PACK} actors per block.",
                entry.name
            )?;
        } else {
            writeln!(
                self.out,
                "// Actor `{}`: block {}x{}x{}, one actor per block.",
                entry.name, block[0], block[1], block[2]
            )?;
        }
        writeln!(self.out, "struct {adapter} {{")?;
        if warp {
            writeln!(self.out, "    static constexpr bool warp_actor = true;")?;
        }
        if leader_alone(module, entry.function, state.is_some(), has_reply) {
            writeln!(self.out, "    static constexpr bool k2k_lone = true;")?;
        }
        writeln!(
            self.out,
            "    static constexpr rk_u32 message_size = {};",
            abi.message_size
        )?;
        writeln!(
            self.out,
            "    static constexpr rk_u32 reply_size = {};",
            abi.reply_size
        )?;
        writeln!(
            self.out,
            "    static constexpr rk_u32 state_size = {};",
            abi.state_size
        )?;
        writeln!(self.out, "    static constexpr rk_u32 threads = {threads};")?;
        writeln!(
            self.out,
            "    static constexpr rk_u32 batch = {};",
            abi.batch
        )?;
        writeln!(
            self.out,
            "    static constexpr rk_u32 schedule = {};",
            abi.schedule.c_name()
        )?;
        writeln!(
            self.out,
            "    static __device__ __forceinline__ void run(rk_fault_ctx* f, void* state, const void* msg, void* reply, bool writer) {{"
        )?;
        let mut args = String::from("f");
        if let Some(state) = state {
            write!(args, ", static_cast<{}*>(state)", self.type_name(state))?;
        } else {
            writeln!(self.out, "        (void)state;")?;
        }
        write!(args, ", static_cast<const {message_c}*>(msg)")?;
        if has_reply {
            writeln!(self.out, "        {reply_c} r = {body}({args});")?;
            writeln!(
                self.out,
                "        if (writer && !f->faulted) {{ *static_cast<{reply_c}*>(reply) = r; }}"
            )?;
        } else {
            writeln!(self.out, "        (void)reply;")?;
            writeln!(self.out, "        (void)writer;")?;
            writeln!(self.out, "        {body}({args});")?;
        }
        writeln!(self.out, "    }}")?;
        writeln!(self.out, "}};")?;
        self.write_line_directive(module.functions.span(entry.function))?;
        writeln!(
            self.out,
            "extern \"C\" __global__ void {} {symbol}(const rk_actor_desc* actors, rk_u32 actor_count) {{",
            persistent_launch_bounds(launch_threads)
        )?;
        writeln!(
            self.out,
            "    rk_actor_main<{adapter}>(actors, actor_count);"
        )?;
        writeln!(self.out, "}}")?;

        Ok(KernelInfo {
            name: entry.name.clone(),
            symbol,
            params: Vec::new(),
            block,
            max_threads_per_block: launch_threads,
            // A lower bound: the fault record (one per warp actor); ptxas
            // adds the loop's scalars. The staging area is dynamic shared
            // memory (ActorAbi::staging_bytes, given at launch).
            static_shared_bytes: handler_shared
                + FAULT_RECORD_BYTES * if warp { u64::from(MAX_PACK) } else { 1 },
            actor: Some(abi),
            wiring: Some(ActorWiring {
                adapter,
                message_type: struct_name(module, message),
                ports: ports(module, self.info, entry.function),
            }),
        })
    }
}

impl ActorAbi {
    /// Dynamic shared memory the message loop needs to stage `batch`
    /// messages (`rk_actor_shape::bytes`): the receive scratch, then one
    /// record per message. For a warp actor, one warp's slice: no scratch
    /// (its receive is one warp's scan); a block of `P` of them takes
    /// [`ActorAbi::block_staging_bytes`].
    pub fn staging_bytes(&self, batch: u32) -> u64 {
        let scratch = if self.warp { 0 } else { CHUNK_AREA };
        scratch + u64::from(batch) * self.record
    }

    /// The dynamic shared memory of a block of `actors` actors at the
    /// default batch: one staging area, or for warp actors one slice of
    /// [`ActorAbi::batch`] records per warp (`rk_actor_shape::stride`).
    pub fn block_staging_bytes(&self, actors: u32) -> u64 {
        if self.warp {
            u64::from(actors) * self.staging_bytes(self.batch)
        } else {
            self.staging_bytes(self.batch)
        }
    }

    /// The most actors one block of the launch holds: [`MAX_PACK`](super::MAX_PACK) for warp
    /// actors, else 1.
    pub fn max_per_block(&self) -> u32 {
        if self.warp {
            MAX_PACK
        } else {
            1
        }
    }
}

/// `rk_actor_shape::record`: the staged request (header, payload rounded
/// to 16 bytes), the reply (rounded to 16), the receipt, rounded up to an
/// odd number of 16-byte words (bank-conflict-free across a warp).
fn record_size(message_size: u64, reply_bytes: u64) -> u64 {
    let bytes = HEADER + message_size.next_multiple_of(16) + reply_bytes + ENV_BYTES;
    ((bytes.div_ceil(16)) | 1) * 16
}

/// Messages per batch by default: as many records as fit the staging
/// budget (less the receive scratch) next to the handler's own shared
/// memory; a multiple of a warp when that many fit.
fn batch_size(record: u64, handler_shared: u64) -> u64 {
    let budget = STAGING_BUDGET.min(STATIC_SHARED_LIMIT.saturating_sub(handler_shared));
    let batch = (budget.saturating_sub(CHUNK_AREA) / record).clamp(1, MAX_BATCH);
    if batch >= 32 {
        batch - batch % 32
    } else {
        batch
    }
}

/// What the handler `root` (and every function it calls) can observe of
/// other messages and other threads, and what it does beyond its reply.
struct Observed {
    /// Shared memory, or an intrinsic through which threads or
    /// consecutive messages see each other (barriers, collectives,
    /// atomics, `try_send`), other than `ctx.send`.
    shares: bool,
    /// `ctx.send`: the leader's effect, in message order.
    sends: bool,
    /// A builtin whose value differs between the threads of a block.
    reads_thread_index: bool,
}

fn observe(module: &crate::ir::Module, root: Handle<Function>) -> Observed {
    let mut reached = vec![false; module.functions.len()];
    let mut stack = vec![root];
    let mut seen = Observed {
        shares: false,
        sends: false,
        reads_thread_index: false,
    };
    while let Some(f) = stack.pop() {
        if std::mem::replace(&mut reached[f.index()], true) {
            continue;
        }
        let function = &module.functions[f];
        seen.shares |= !function.shared.is_empty();
        seen.reads_thread_index |= function
            .expressions
            .iter()
            .any(|(_, e)| matches!(e, Expression::Builtin(b) if thread_dependent(*b)));
        visit_statements(&function.body, &mut |statement| match statement {
            Statement::Call { function, .. } => stack.push(*function),
            Statement::Intrinsic {
                op: IntrinsicOp::Send { .. },
                ..
            } => seen.sends = true,
            Statement::Intrinsic { op, .. } => seen.shares |= communicates(*op),
            _ => {}
        });
    }
    seen
}

/// The [`ActorSchedule`] of the handler `root`: what it (and every function
/// it calls) can observe of other messages and other threads. Sends are
/// the leader's, in message order: a handler that sends runs in order.
fn schedule(module: &crate::ir::Module, root: Handle<Function>, stateful: bool) -> ActorSchedule {
    if stateful {
        return ActorSchedule::InOrder;
    }
    let seen = observe(module, root);
    match (seen.shares || seen.sends, seen.reads_thread_index) {
        (true, _) => ActorSchedule::InOrder,
        (false, true) => ActorSchedule::Isolated,
        (false, false) => ActorSchedule::Uniform,
    }
}

/// Whether the leader alone may run a K2K message of the handler `root`
/// (`rk_actor_k2k_lone` in `rk_actor_run.cuh`): no state, no shared
/// memory, no thread index, nothing communicating but `ctx.send` (whose
/// effect is the leader's alone), no reply. Every thread would compute
/// the same thing and fault at the same place, so one thread running it
/// is the block running it, with none of the loop's barriers.
fn leader_alone(
    module: &crate::ir::Module,
    root: Handle<Function>,
    stateful: bool,
    replies: bool,
) -> bool {
    if stateful || replies {
        return false;
    }
    let seen = observe(module, root);
    !seen.shares && !seen.reads_thread_index
}

/// The Rust name of a struct type (the message types are structs).
fn struct_name(module: &crate::ir::Module, ty: Handle<Type>) -> String {
    match &module.types[ty] {
        Type::Struct(s) => s.name.clone(),
        _ => crate::front::rust::types::type_name(module, ty),
    }
}

/// The ports `root` (and what it calls) sends on, each with its message
/// type (the front end allows one type per port), sorted by port.
fn ports(
    module: &crate::ir::Module,
    info: &crate::valid::ModuleInfo,
    root: Handle<Function>,
) -> Vec<PortInfo> {
    let mut reached = vec![false; module.functions.len()];
    let mut stack = vec![root];
    let mut out: Vec<PortInfo> = Vec::new();
    while let Some(f) = stack.pop() {
        if std::mem::replace(&mut reached[f.index()], true) {
            continue;
        }
        let function = &module.functions[f];
        visit_statements(&function.body, &mut |statement| match statement {
            Statement::Call { function, .. } => stack.push(*function),
            Statement::Intrinsic { op, arguments, .. } if op.send_port().is_some() => {
                let port = &op.send_port().expect("a send");
                if out.iter().any(|p| p.port == *port) {
                    return;
                }
                if let crate::valid::TypeResolution::Handle(ty) =
                    info.function(f).expression_type(arguments[0])
                {
                    out.push(PortInfo {
                        port: *port,
                        message_type: struct_name(module, ty),
                        message_size: type_size(module, ty),
                    });
                }
            }
            _ => {}
        });
    }
    out.sort_by_key(|p| p.port);
    out
}

/// Builtins whose value differs between the threads of a block.
fn thread_dependent(builtin: Builtin) -> bool {
    use Builtin as B;
    match builtin {
        B::ThreadX
        | B::ThreadY
        | B::ThreadZ
        | B::ThreadId
        | B::GlobalId
        | B::GlobalX
        | B::GlobalY
        | B::GlobalZ
        | B::LaneId
        | B::WarpId => true,
        B::BlockX
        | B::BlockY
        | B::BlockZ
        | B::BlockDimX
        | B::BlockDimY
        | B::BlockDimZ
        | B::GridDimX
        | B::GridDimY
        | B::GridDimZ
        | B::BlockId
        | B::ActorId
        | B::HlcPhysicalNs
        | B::HlcLogical
        | B::HlcNode => false,
    }
}

/// Intrinsics through which threads (or consecutive messages) see each
/// other: barriers, warp and block collectives, atomics. Fences and clock
/// reads order or observe nothing another message wrote.
fn communicates(op: IntrinsicOp) -> bool {
    use IntrinsicOp as I;
    match op {
        I::SyncThreads
        | I::SyncWarp
        | I::Atomic(_)
        | I::WarpShuffle(_)
        | I::WarpBallot
        | I::WarpAll
        | I::WarpAny
        | I::WarpReduce(_)
        | I::BlockReduce(_)
        | I::Send { .. }
        | I::TrySend { .. } => true,
        I::ThreadFence | I::ThreadFenceBlock | I::ThreadFenceSystem | I::ClockNs => false,
    }
}

impl ActorAbi {
    /// The smallest inbox slot the loop accepts: header plus the message
    /// rounded up to the 16-byte words it copies, in 64-byte granules.
    pub fn inbox_slot_size(&self) -> u64 {
        (HEADER + self.message_size.next_multiple_of(16)).next_multiple_of(64)
    }

    /// The smallest outbox slot: room for a reply or a dead-lettered request.
    pub fn outbox_slot_size(&self) -> u64 {
        (HEADER + self.message_size.max(self.reply_size).next_multiple_of(16)).next_multiple_of(64)
    }
}
