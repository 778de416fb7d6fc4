//! The CUDA C back end: validated IR → CUDA C text plus the metadata the
//! runtime launches from (it never parses CUDA).
//!
//! # What the output looks like
//!
//! ```text
//! // header comment, #define RK_RUST_NEED_<FAMILY> 1 for each rk_rust.cuh
//! //   helper family the module names (needs.rs), #include "rk_rust.cuh"
//! // array wrapper structs and user structs (host layout, static_asserts),
//! //   each with its rk_make_* / rk_splat_* constructor
//! // one `static __device__` function per IR function, callees first;
//! //   entry-point bodies are named `<rust name>_body`
//! // one `extern "C" __global__` wrapper per entry point
//! ```
//!
//! Every IR function becomes a device function whose first parameter is the
//! thread's `rk_fault_ctx*` (`__rk_f`); kernels are thin wrappers that
//! create the context from their hidden last parameter (`rk_fault_record*`)
//! and call the body. The persistent actor wrapper calls handler bodies the
//! same way.
//!
//! # Rust semantics
//!
//! Every operation whose C meaning differs from Rust's goes through
//! `rk_rust.cuh` ([`RUST_HEADER`]) or is spelled with explicit casts (see
//! `expr.rs`): wrapping arithmetic through unsigned types at least 32 bits
//! wide, masked shifts, saturating float→int casts, correctly rounded
//! int→float casts, exact float literals. [`Output::nvrtc_options`] carries
//! the options the code needs, above all `--fmad=false`: Rust never
//! contracts `a * b + c` into an FMA, CUDA does by default.
//!
//! Arrays are wrapped in structs (`rk_arr4_f32 { float e[4]; }`) so they are
//! values that can be assigned, passed and returned, with the same layout as
//! a C array. All locals are declared at the top of their function, so the
//! `goto`s that implement `break`/`continue` of outer loops never jump over
//! an initialisation.

pub mod abi;
mod actor;
mod expr;
mod function;
mod literal;
mod namer;
mod needs;
mod stmt;
pub mod system;
mod types;
mod writer;

#[cfg(test)]
mod tests;

pub use namer::Namer;
pub use needs::rust_header_needs;
pub use writer::Writer;

use crate::ir::{Module, Scalar};
use crate::valid::ModuleInfo;

/// `rk_rust.cuh`: the Rust-semantics helpers every generated module includes.
pub const RUST_HEADER: Header = Header {
    name: "rk_rust.cuh",
    contents: include_str!("../../../cuda/rk_rust.cuh"),
};

/// `rk_actor.cuh`: the persistent actor loop, included by modules with
/// `#[ring_kernel]` handlers (together with device-lib's protocol headers).
/// It includes its parts ([`ACTOR_PARTS`]), one topic each.
pub const ACTOR_HEADER: Header = Header {
    name: "rk_actor.cuh",
    contents: include_str!("../../../cuda/rk_actor.cuh"),
};

/// The parts of the actor loop that `rk_actor.cuh` includes, in its order.
pub const ACTOR_PARTS: [Header; 6] = [
    Header {
        name: "rk_actor_state.cuh",
        contents: include_str!("../../../cuda/rk_actor_state.cuh"),
    },
    Header {
        name: "rk_actor_io.cuh",
        contents: include_str!("../../../cuda/rk_actor_io.cuh"),
    },
    Header {
        name: "rk_actor_k2k.cuh",
        contents: include_str!("../../../cuda/rk_actor_k2k.cuh"),
    },
    Header {
        name: "rk_actor_poll.cuh",
        contents: include_str!("../../../cuda/rk_actor_poll.cuh"),
    },
    Header {
        name: "rk_actor_receive.cuh",
        contents: include_str!("../../../cuda/rk_actor_receive.cuh"),
    },
    Header {
        name: "rk_actor_run.cuh",
        contents: include_str!("../../../cuda/rk_actor_run.cuh"),
    },
];

/// NVRTC options the generated code is only correct with. `--fmad=false`
/// is the one that matters (no FMA contraction, as in Rust); the others are
/// NVRTC's defaults, pinned so that a user's `--use_fast_math` cannot turn
/// them off silently.
pub const NVRTC_OPTIONS: &[&str] = &[
    "--fmad=false",
    "--ftz=false",
    "--prec-div=true",
    "--prec-sqrt=true",
];

/// NVRTC options that only make the compile faster (the output is the
/// same): `--minimal` trims the front end of CUDA runtime declarations
/// generated code never uses (about 0.01 s of an actor module's 0.3 s cold
/// compile). The toolchain leaves it out for an NVRTC older than 12.4,
/// which does not know it (`ringkernel_toolchain::SPEED_OPTIONS`).
pub const NVRTC_SPEED_OPTIONS: &[&str] = &["--minimal"];

/// How to write the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Emit `#line` directives that map the CUDA back to the Rust source.
    pub line_directives: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            line_directives: true,
        }
    }
}

/// A header the generated source includes, to hand to NVRTC (as a header
/// argument or a file in an include directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub name: &'static str,
    pub contents: &'static str,
}

/// The CUDA source of a module and what the runtime needs to use it.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// The CUDA C translation unit.
    pub source: String,
    /// Headers `source` includes, in include order.
    pub headers: Vec<Header>,
    /// Options NVRTC must get (besides the architecture and `--std=c++17`):
    /// [`NVRTC_OPTIONS`], then [`NVRTC_SPEED_OPTIONS`].
    pub nvrtc_options: Vec<String>,
    /// One per entry point, in `Module::entry_points` order.
    pub kernels: Vec<KernelInfo>,
}

/// A `__global__` function of the output.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelInfo {
    /// The entry point's name.
    pub name: String,
    /// The `extern "C"` symbol to look up in the module (unmangled).
    pub symbol: String,
    /// The Rust parameters in order; [`KernelInfo::c_params`] flattens them.
    pub params: Vec<KernelParam>,
    /// The block shape the kernel was written for.
    pub block: [u32; 3],
    /// `__launch_bounds__`: the block's thread count. Launching with more
    /// threads fails.
    pub max_threads_per_block: u32,
    /// Static `__shared__` bytes: the shared arrays of the kernel and its
    /// callees plus block-reduction scratch, each aligned; ptxas' figure can
    /// differ by its own placement.
    pub static_shared_bytes: u64,
    /// For a `#[ring_kernel]`: the sizes the runtime allocates rings and
    /// state from. Its C parameters are `(const rk_actor_desc*, rk_u32)`.
    pub actor: Option<ActorAbi>,
    /// For a `#[ring_kernel]`: what wiring it into an actor system needs.
    pub wiring: Option<ActorWiring>,
}

/// How a handler connects to other actors: its message type, the output
/// ports it sends on, and the adapter a system kernel runs it through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorWiring {
    /// The adapter struct (`rk_handler_<name>`) `rk_actor_main` is
    /// instantiated with.
    pub adapter: String,
    /// The message type's Rust name.
    pub message_type: String,
    /// Every port the handler sends on (`ctx.send(port, ..)`), by port.
    pub ports: Vec<PortInfo>,
}

/// One output port of a handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortInfo {
    pub port: u32,
    /// The Rust name of the message type sent on it.
    pub message_type: String,
    pub message_size: u64,
}

/// The most `#[ring_kernel(warps = 1)]` actors one block holds
/// (`RK_ACTOR_MAX_PACK` in `rk_actor.cuh`): a block of 256 threads.
pub const MAX_PACK: u32 = 8;

/// What the runtime must know to run an actor kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActorAbi {
    pub message_size: u64,
    pub message_align: u64,
    /// 0 when the handler returns `()` (no reply is published).
    pub reply_size: u64,
    pub reply_align: u64,
    /// 0 when the handler has no state.
    pub state_size: u64,
    pub state_align: u64,
    /// How the message loop may run the messages of one batch.
    pub schedule: ActorSchedule,
    /// The default batch: the most messages the loop takes from the inbox
    /// per poll when the launch gives it no more (a staging area of at
    /// most 40 KiB next to the handler's shared memory). The runtime may
    /// choose more (`rk_actor_desc::batch`) and size the launch's dynamic
    /// shared memory with [`ActorAbi::staging_bytes`].
    pub batch: u32,
    /// Bytes per message in the staging area (`rk_actor_shape::record`:
    /// request, reply and receipt, an odd multiple of 16).
    pub record: u64,
    /// `#[ring_kernel(warps = 1)]`: one actor per warp, up to
    /// [`ActorAbi::max_per_block`] of them in a block of `32 * P` threads
    /// (the runtime chooses `P`). The batch is at most [`ActorAbi::batch`]
    /// (each warp's slice of the staging area holds that many).
    pub warp: bool,
}

/// How the message loop of `rk_actor.cuh` may run the handler over the
/// messages of one batch, from what the handler can observe
/// (`RK_ACTOR_SCHEDULE_*`). Every schedule gives the same replies, state,
/// faults and order as running the messages one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorSchedule {
    /// The general case (state, shared memory, barriers or collectives):
    /// every thread runs each message in turn, with a barrier in between.
    InOrder,
    /// No state and nothing shared between threads, but the handler reads
    /// its thread index: every thread runs each message in turn with no
    /// barrier in between; a fault re-runs the batch in order.
    Isolated,
    /// Isolated, and every thread computes the same thing (no thread index
    /// is read), so running a message on one thread is running it on all:
    /// the batch is spread over the block, one thread per message; a fault
    /// re-runs the batch in order.
    Uniform,
}

impl ActorSchedule {
    /// The `RK_ACTOR_SCHEDULE_*` constant.
    pub fn c_name(self) -> &'static str {
        match self {
            ActorSchedule::InOrder => "RK_ACTOR_SCHEDULE_IN_ORDER",
            ActorSchedule::Isolated => "RK_ACTOR_SCHEDULE_ISOLATED",
            ActorSchedule::Uniform => "RK_ACTOR_SCHEDULE_UNIFORM",
        }
    }
}

impl KernelInfo {
    /// The C parameter list, including the hidden trailing fault-record
    /// pointer: what the runtime packs into the launch's argument array.
    /// An actor kernel takes the descriptor array and the actor count.
    pub fn c_params(&self) -> Vec<CParam> {
        if self.actor.is_some() {
            return vec![CParam::Pointer, CParam::Value { size: 4, align: 4 }];
        }
        let mut out = Vec::new();
        for param in &self.params {
            match param.abi {
                ParamAbi::Scalar(s) => out.push(CParam::Value {
                    size: s.size(),
                    align: s.size(),
                }),
                ParamAbi::Value { size, align } => out.push(CParam::Value { size, align }),
                ParamAbi::Slice { .. } => {
                    out.push(CParam::Pointer);
                    out.push(CParam::Length);
                }
                ParamAbi::Pointer { .. } => out.push(CParam::Pointer),
            }
        }
        out.push(CParam::FaultRecord);
        out
    }
}

/// A Rust parameter of a kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelParam {
    /// The Rust name, if it had one.
    pub name: Option<String>,
    pub abi: ParamAbi,
}

/// How one Rust parameter is passed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamAbi {
    /// A scalar, by value (`bool` is one byte).
    Scalar(Scalar),
    /// A struct or array, by value, in the host layout.
    Value { size: u64, align: u64 },
    /// `&[T]` / `&mut [T]`: two C parameters, a device pointer to the first
    /// element and the element count as `unsigned long long`.
    Slice {
        elem_size: u64,
        elem_align: u64,
        mutable: bool,
    },
    /// `&T` / `&mut T`: a device pointer.
    Pointer { size: u64, mutable: bool },
}

/// One C parameter of a kernel, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CParam {
    /// Bytes passed by value.
    Value { size: u64, align: u64 },
    /// A device pointer (8 bytes).
    Pointer,
    /// A slice length, `unsigned long long`.
    Length,
    /// The hidden last parameter: `rk_fault_record*` (may be null).
    FaultRecord,
}

/// Why a validated module could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("entry point name `{name}` is not a usable C identifier (or is reserved)")]
    InvalidEntryName { name: String },
    #[error(
        "kernel `{kernel}` uses warp or block collectives, which need whole warps, \
         but its block has {threads} threads (not a multiple of 32)"
    )]
    PartialWarp { kernel: String, threads: u32 },
    #[error("writing the output failed")]
    Format(#[from] std::fmt::Error),
}

/// Writes `module` (validated into `info`) as CUDA C.
pub fn write_module(
    module: &Module,
    info: &ModuleInfo,
    options: &Options,
) -> Result<Output, Error> {
    let mut source = String::new();
    let kernels = Writer::new(&mut source, module, info, options)?.write()?;
    // Only the rk_rust.cuh helper families the module names (NVRTC time).
    let needs = needs::rust_header_needs(&source);
    let source = needs::with_rust_needs(source, &needs);
    let mut headers = vec![RUST_HEADER];
    if kernels.iter().any(|k| k.actor.is_some()) {
        headers.extend(
            ringkernel_device::headers::HEADERS
                .iter()
                .map(|&(name, contents)| Header { name, contents }),
        );
        headers.push(ACTOR_HEADER);
        headers.extend(ACTOR_PARTS);
    }
    Ok(Output {
        source,
        headers,
        nvrtc_options: NVRTC_OPTIONS
            .iter()
            .chain(NVRTC_SPEED_OPTIONS)
            .map(|s| s.to_string())
            .collect(),
        kernels,
    })
}
