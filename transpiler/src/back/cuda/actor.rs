//! The persistent wrapper of a `#[ring_kernel]` handler.
//!
//! The message loop itself is hand-written CUDA (`cuda/rk_actor.cuh`, a
//! template over the handler) so that it is reviewed and tested once; per
//! handler the back end writes only the adapter the template calls:
//!
//! ```text
//! struct rk_handler_<name> {               // sizes of M, R (0: no reply), S (0: stateless)
//!     static constexpr rk_u32 message_size = ..., reply_size = ..., state_size = ...;
//!     static __device__ void run(rk_fault_ctx* f, void* state, const void* msg, void* reply);
//! };
//! extern "C" __global__ void __launch_bounds__(B) <name>(const rk_actor_desc*, rk_u32 actor_count);
//! ```

use std::fmt::Write as _;

use super::writer::Writer;
use super::{ActorAbi, Error, KernelInfo};
use crate::ir::{ActorEntry, EntryKind, Type};
use crate::valid::{type_align, type_size};

/// Envelope header bytes in front of every payload (`RK_ENVELOPE_HEADER_SIZE`).
const HEADER: u64 = 64;

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
        let abi = ActorAbi {
            message_size: size(message),
            message_align: align(message),
            reply_size: if has_reply { size(reply) } else { 0 },
            reply_align: if has_reply { align(reply) } else { 1 },
            state_size: state.map_or(0, size),
            state_align: state.map_or(1, align),
        };
        let message_c = self.type_name(message).to_string();
        let reply_c = self.type_name(reply).to_string();

        writeln!(self.out)?;
        writeln!(
            self.out,
            "// Actor `{}`: block {}x{}x{}, one actor per block.",
            entry.name, block[0], block[1], block[2]
        )?;
        writeln!(self.out, "struct {adapter} {{")?;
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
        writeln!(
            self.out,
            "    static __device__ __forceinline__ void run(rk_fault_ctx* f, void* state, const void* msg, void* reply) {{"
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
                "        if (rk_thread_id() == 0u && !f->faulted) {{ *static_cast<{reply_c}*>(reply) = r; }}"
            )?;
        } else {
            writeln!(self.out, "        (void)reply;")?;
            writeln!(self.out, "        {body}({args});")?;
        }
        writeln!(self.out, "    }}")?;
        writeln!(self.out, "}};")?;
        self.write_line_directive(module.functions.span(entry.function))?;
        writeln!(
            self.out,
            "extern \"C\" __global__ void __launch_bounds__({threads}) {symbol}(const rk_actor_desc* actors, rk_u32 actor_count) {{"
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
            max_threads_per_block: threads,
            static_shared_bytes: self.static_shared_bytes(entry.function)
                + abi.message_size.next_multiple_of(16)
                + abi.reply_size.next_multiple_of(16).max(16)
                + 64,
            actor: Some(abi),
        })
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
