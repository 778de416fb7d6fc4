//! Actor systems: several `#[ring_kernel]` handlers in one persistent
//! kernel, so actors of different handlers share one launch (and, later, a
//! block or a cluster, where the cheaper K2K tiers live).
//!
//! Each handler is transpiled on its own, exactly as for a single-handler
//! launch; its CUDA text is then wrapped in a namespace of its own
//! (`rk_role<i>`; roles from one module share one), so the structs and
//! functions of different handlers never collide (two handlers may both
//! define `Scored`; they are layout-checked against the same host layout,
//! and messages cross as bytes anyway), and the modules' own `extern "C"`
//! wrappers are made `static`. The headers' include guards make the
//! repeated `#include`s inside the namespaces empty. One `extern "C"` entry dispatches each block on its
//! actor's `role` (`rk_actor_desc::role`) to `rk_actor_main` instantiated
//! with that role's adapter:
//!
//! ```text
//! #define RK_ACTOR_K2K 1   (the loop's K2K paths)
//! #define RK_RUST_NEED_... 1   (the roles' rk_rust.cuh helper families)
//! #include "rk_rust.cuh"
//! #include "rk_actor.cuh"
//! namespace rk_role0 { <handler 0's module> }
//! namespace rk_role1 { <handler 1's module> }
//! extern "C" __global__ void __launch_bounds__(T) <symbol>(const rk_actor_desc* actors, rk_u32 count) {
//!     if (blockIdx.x >= count) return;
//!     switch (actors[blockIdx.x].role) { case 0u: rk_actor_main<rk_role0::rk_handler_a>(actors, count); break; ... }
//! }
//! ```
//!
//! The K2K tier is fixed here, per kernel ([`K2kTier`]): a cluster-placed
//! system's kernel also defines `RK_ACTOR_K2K_CLUSTER 1`, which puts each
//! actor's K2K inbox in its block's shared memory and instantiates the
//! loop's K2K functions at cluster scope (`rk_actor.cuh` says why at
//! compose time rather than per route at run time). Its blocks must all
//! reach the cluster's start and exit barriers, so a block with a role the
//! entry does not know takes part in both (`rk_actor_cluster_absent`)
//! instead of returning. A block-placed system ([`K2kTier::Block`]) is one
//! block of warp actors: it defines `RK_ACTOR_K2K_BLOCK 1` and the common
//! staging slice `RK_ACTOR_WARP_STRIDE`, its entry dispatches each warp on
//! its actor's role, and a warp with no actor meets the block's one start
//! barrier (`rk_actor_block_absent`) before it returns.

use std::fmt::Write as _;

use super::{ActorAbi, Header, KernelInfo, Output};

/// Where a system kernel's K2K inboxes live: the tier of every route of
/// the system (the runtime's placement decides it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum K2kTier {
    /// Device global memory, `.gpu` scope; one block per actor anywhere.
    #[default]
    Global,
    /// Each receiver's block's shared memory, reached through `mapa`,
    /// `.cluster` scope: the system is launched as one thread-block cluster
    /// (sm_90+).
    Cluster,
    /// The shared memory of the system's one block, whose warps are its
    /// actors (`#[ring_kernel(warps = 1)]` handlers only), `.cta` scope.
    Block,
}

/// One handler of a system: its module's output and which of its kernels.
#[derive(Debug, Clone, Copy)]
pub struct SystemRole<'a> {
    pub output: &'a Output,
    /// The handler's entry-point name in `output`.
    pub kernel: &'a str,
}

/// The CUDA of an actor system and what the runtime launches it with.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemOutput {
    pub source: String,
    pub headers: Vec<Header>,
    pub nvrtc_options: Vec<String>,
    /// The dispatching entry's `extern "C"` symbol.
    pub symbol: String,
    /// The block every role runs with.
    pub block: [u32; 3],
    /// Each role's kernel metadata (in role order): its ABI and wiring.
    pub roles: Vec<KernelInfo>,
    /// [`K2kTier::Block`]: the staging slice of every warp (the largest of
    /// the handlers', `RK_ACTOR_WARP_STRIDE`); 0 otherwise.
    pub warp_stride: u64,
}

impl SystemOutput {
    /// Each role's ABI, in role order.
    pub fn abis(&self) -> impl Iterator<Item = &ActorAbi> {
        self.roles.iter().filter_map(|r| r.actor.as_ref())
    }
}

/// Why handlers cannot share one system kernel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SystemError {
    #[error("an actor system needs at least one handler")]
    Empty,
    #[error("`{kernel}` is not a `#[ring_kernel]` handler of its module")]
    NotAnActor { kernel: String },
    #[error(
        "handlers of one system kernel share its block shape: `{first}` runs with {first_block:?} \
         threads, `{other}` with {other_block:?}; give them the same `block_size`"
    )]
    BlockMismatch {
        first: String,
        first_block: [u32; 3],
        other: String,
        other_block: [u32; 3],
    },
    #[error("`{symbol}` is not a usable C identifier for the system kernel")]
    InvalidSymbol { symbol: String },
    #[error(
        "`{kernel}` is a `#[ring_kernel(warps = 1)]` actor: warp actors share a block, so a \
         system of them is placed in one block (Placement::Block); this one is placed \
         {placement}; drop `warps = 1` or place the system in a block"
    )]
    WarpActor {
        kernel: String,
        placement: &'static str,
    },
    #[error(
        "`{kernel}` is a block actor: a system placed in one block (Placement::Block) is made \
         of warp actors; give it `#[ring_kernel(warps = 1)]` or place the system elsewhere"
    )]
    NotWarpActor { kernel: String },
    #[error("writing the output failed")]
    Format(#[from] std::fmt::Error),
}

/// Composes the system kernel `symbol` from `roles` (role `i` is
/// `roles[i]`), with K2K inboxes in global memory.
pub fn compose_system(symbol: &str, roles: &[SystemRole<'_>]) -> Result<SystemOutput, SystemError> {
    compose_system_tiered(symbol, roles, K2kTier::Global)
}

/// [`compose_system`] for the K2K tier `tier`.
pub fn compose_system_tiered(
    symbol: &str,
    roles: &[SystemRole<'_>],
    tier: K2kTier,
) -> Result<SystemOutput, SystemError> {
    let valid_symbol = symbol.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && symbol
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_symbol {
        return Err(SystemError::InvalidSymbol {
            symbol: symbol.into(),
        });
    }
    let first = roles.first().ok_or(SystemError::Empty)?;
    let mut infos = Vec::with_capacity(roles.len());
    for role in roles {
        let info = role
            .output
            .kernels
            .iter()
            .find(|k| k.name == role.kernel && k.actor.is_some() && k.wiring.is_some())
            .ok_or_else(|| SystemError::NotAnActor {
                kernel: role.kernel.into(),
            })?;
        let warp = info.actor.is_some_and(|abi| abi.warp);
        match tier {
            K2kTier::Block if !warp => {
                return Err(SystemError::NotWarpActor {
                    kernel: role.kernel.into(),
                })
            }
            K2kTier::Global | K2kTier::Cluster if warp => {
                return Err(SystemError::WarpActor {
                    kernel: role.kernel.into(),
                    placement: if tier == K2kTier::Global {
                        "one block per actor on the device"
                    } else {
                        "in a thread-block cluster"
                    },
                })
            }
            _ => {}
        }
        infos.push(info.clone());
    }
    let block = infos[0].block;
    if let Some(other) = infos.iter().find(|k| k.block != block) {
        return Err(SystemError::BlockMismatch {
            first: first.kernel.into(),
            first_block: block,
            other: other.name.clone(),
            other_block: other.block,
        });
    }
    // A block of warp actors runs up to MAX_PACK warps (the runtime picks
    // the block from the system's size); each warp's slice is the largest.
    let (threads, warp_stride) = if tier == K2kTier::Block {
        let stride = infos
            .iter()
            .filter_map(|k| k.actor)
            .map(|abi| abi.staging_bytes(abi.batch))
            .max()
            .unwrap_or(0);
        (32 * super::MAX_PACK, stride)
    } else {
        (block.iter().product::<u32>(), 0)
    };

    let mut source = String::new();
    writeln!(
        source,
        "// Generated by ringkernel-transpiler: the actor system kernel `{symbol}`; do not edit."
    )?;
    writeln!(
        source,
        "// Roles: {}.",
        infos
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{i} = `{}`", k.name))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    // The actor loop's K2K paths (polling the K2K inbox, ctx.send) are
    // compiled into system kernels only (rk_actor.cuh).
    writeln!(source, "#define RK_ACTOR_K2K 1")?;
    if tier == K2kTier::Cluster {
        // Inboxes in the blocks' shared memory, cluster scope (rk_actor.cuh).
        writeln!(source, "#define RK_ACTOR_K2K_CLUSTER 1")?;
    }
    if tier == K2kTier::Block {
        // Inboxes in the block's shared memory after the warps' slices,
        // block scope (rk_actor.cuh).
        writeln!(source, "#define RK_ACTOR_K2K_BLOCK 1")?;
        writeln!(source, "#define RK_ACTOR_WARP_STRIDE {warp_stride}ull")?;
    }
    // Every role's rk_rust.cuh helper families: the first include is the
    // one that counts (the roles' own are empty by its include guard).
    let roles_text: String = roles.iter().map(|r| r.output.source.as_str()).collect();
    for need in super::rust_header_needs(&roles_text) {
        writeln!(source, "#define {need} 1")?;
    }
    writeln!(source, "#include \"rk_rust.cuh\"")?;
    writeln!(source, "#include \"rk_actor.cuh\"")?;
    // Each module once, in the namespace of the first role it serves.
    let mut namespace_of = Vec::with_capacity(roles.len());
    for (i, role) in roles.iter().enumerate() {
        if let Some(j) = roles[..i]
            .iter()
            .position(|r| std::ptr::eq(r.output, role.output))
        {
            namespace_of.push(namespace_of[j]);
            continue;
        }
        namespace_of.push(i);
        writeln!(source)?;
        writeln!(source, "namespace rk_role{i} {{")?;
        // The module's own `extern "C"` wrappers become internal device
        // functions that nothing calls: two modules may both have a handler
        // of one name, the system's entry is the only symbol the runtime
        // looks up, and as kernels they would each be compiled and
        // assembled with their loop (every handler of the role's source
        // file, roles or not: NVRTC time, and a spill report for a loop no
        // block runs).
        let text = internal_wrappers(&role.output.source);
        source.push_str(&text);
        if !text.ends_with('\n') {
            source.push('\n');
        }
        writeln!(source, "}} // namespace rk_role{i}")?;
    }
    writeln!(source)?;
    writeln!(
        source,
        "extern \"C\" __global__ void {} {symbol}(const rk_actor_desc* actors, rk_u32 actor_count) {{",
        super::actor::persistent_launch_bounds(threads)
    )?;
    // The actor this block (or, in a block of warp actors, this warp) runs.
    let index = if tier == K2kTier::Block {
        "blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5)"
    } else {
        "blockIdx.x"
    };
    writeln!(source, "    if ({index} >= actor_count) {{")?;
    match tier {
        K2kTier::Cluster => writeln!(source, "        rk_actor_cluster_absent();")?,
        K2kTier::Block => writeln!(source, "        rk_actor_block_absent();")?,
        K2kTier::Global => {}
    }
    writeln!(source, "        return;")?;
    writeln!(source, "    }}")?;
    writeln!(source, "    switch (actors[{index}].role) {{")?;
    for (i, info) in infos.iter().enumerate() {
        let adapter = &info.wiring.as_ref().expect("checked above").adapter;
        let namespace = namespace_of[i];
        // A block of warp actors runs each role's loop out of line
        // (`rk_actor_role`): the roles' loops inlined into one entry made
        // ptxas spill (four roles of the K2K suite).
        let main = if tier == K2kTier::Block {
            "rk_actor_role"
        } else {
            "rk_actor_main"
        };
        writeln!(
            source,
            "    case {i}u: {main}<rk_role{namespace}::{adapter}>(actors, actor_count); break;"
        )?;
    }
    if tier == K2kTier::Cluster {
        writeln!(
            source,
            "    default: rk_actor_cluster_absent(); break; // the host writes only the roles above"
        )?;
    } else if tier == K2kTier::Block {
        writeln!(
            source,
            "    default: rk_actor_block_absent(); break; // the host writes only the roles above"
        )?;
    } else {
        writeln!(
            source,
            "    default: break; // the host writes only the roles above"
        )?;
    }
    writeln!(source, "    }}")?;
    writeln!(source, "}}")?;

    let mut headers: Vec<Header> = Vec::new();
    let mut nvrtc_options: Vec<String> = Vec::new();
    for role in roles {
        for h in &role.output.headers {
            if !headers.iter().any(|x| x.name == h.name) {
                headers.push(*h);
            }
        }
        for o in &role.output.nvrtc_options {
            if !nvrtc_options.contains(o) {
                nvrtc_options.push(o.clone());
            }
        }
    }
    Ok(SystemOutput {
        source,
        headers,
        nvrtc_options,
        symbol: symbol.into(),
        block,
        roles: infos,
        warp_stride,
    })
}

/// `source` with each `extern "C" __global__ void __launch_bounds__(N, B)
/// name(` wrapper turned into `static __device__ void name(`: not a
/// kernel, so NVRTC drops it (and the loop it instantiates) unless called;
/// and without its `RK_RUST_NEED_*` lines (the system defines them).
fn internal_wrappers(source: &str) -> String {
    const WRAPPER: &str = "extern \"C\" __global__ void ";
    let mut out = String::with_capacity(source.len());
    for line in source.split_inclusive('\n') {
        match line.strip_prefix(WRAPPER) {
            Some(rest) => {
                let rest = match rest.strip_prefix("__launch_bounds__(") {
                    Some(bounds) => bounds.split_once(") ").map_or(rest, |(_, after)| after),
                    None => rest,
                };
                out.push_str("static __device__ void ");
                out.push_str(rest);
            }
            // The module's rk_rust.cuh families are the system's, defined
            // before its first include.
            None if line.starts_with("#define RK_RUST_NEED_") => {}
            None => out.push_str(line),
        }
    }
    out
}
