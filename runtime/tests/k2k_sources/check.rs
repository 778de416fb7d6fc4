//! The check of one actor system's kernel without a GPU, shared by
//! `runtime/tests/k2k_sources.rs` (the K2K suites' systems) and the root
//! crate's `tests/pipeline_sources.rs` (the pipeline example's): the
//! kernel that `SystemBuilder::start` would compile (from
//! `SystemBuilder::cuda_source`) compiles with NVRTC, assembles for sm_90
//! with ptxas without spilling, and is the kernel of the placement's tier.

use ringkernel_runtime::actor::Placement;
use ringkernel_runtime::{Compiler, CudaSource};
use ringkernel_toolchain::{assemble, Arch, CudaTools, KernelResources, ResourceReport, Target};

/// What a placement's system kernel is named and must (and must not)
/// hold in its PTX.
struct Tier {
    /// The entry symbol's prefix (`SystemBuilder::start`'s naming).
    prefix: &'static str,
    /// The PTX scope of the tier's K2K routes.
    scope: &'static str,
    needed: &'static [&'static str],
    banned: &'static [&'static str],
}

fn tier(placement: Placement) -> Tier {
    match placement {
        // Inboxes in global memory, handed over by sequence numbers.
        Placement::Gpu => Tier {
            prefix: "rk_system",
            scope: "gpu",
            needed: &[],
            banned: &["mbarrier.", "mapa.", "barrier.cluster"],
        },
        // Inboxes in the blocks' shared memory, reached over DSMEM.
        Placement::Cluster => Tier {
            prefix: "rk_cluster_system",
            scope: "cluster",
            needed: &[
                "mapa.u64",
                "barrier.cluster.wait",
                "mbarrier.arrive.release.cluster.shared::cluster.b64",
                "mbarrier.test_wait.parity.acquire.cluster.shared::cta.b64",
            ],
            banned: &[],
        },
        // Inboxes in the one block's shared memory.
        Placement::Block => Tier {
            prefix: "rk_block_system",
            scope: "cta",
            needed: &[
                "mbarrier.arrive.release.cta.shared::cta.b64",
                "mbarrier.test_wait.parity.acquire.cta.shared::cta.b64",
            ],
            banned: &["mapa.", "barrier.cluster"],
        },
        other => panic!("no system kernel check for {other:?}: add its tier here"),
    }
}

/// The entry symbol `SystemBuilder::start` gives the system of `roles`
/// (its distinct handlers, in order of first appearance) under
/// `placement`. Written out here, not asked of the runtime, so that a
/// change of naming or of role order shows.
pub fn system_symbol(placement: Placement, roles: &[&str]) -> String {
    format!("{}_{}", tier(placement).prefix, roles.join("_"))
}

/// Compiles `src`, the kernel of the system `symbol` composed for
/// `placement`, with NVRTC to PTX for sm_90 and assembles it with ptxas,
/// and checks that:
/// - it is the system asked for: its name is `symbol` and the PTX has
///   `.entry symbol(`;
/// - no function spills (the ptxas report is in the failure message),
///   but for the `known_spills` of `symbol`, each exactly as recorded;
/// - it is the placement's tier (a system with a sender claims inbox slots
///   with a relaxed CAS at the tier's scope, as bench_sources checks for
///   the hop systems): a relaxed CAS at the tier's scope and no CAS at any
///   other; the global tier has no mbarrier and no cluster instruction;
///   the cluster tier writes through `mapa`, waits at the cluster barrier
///   and hands slots over with `.cluster` mbarriers; the block tier hands
///   them over with `.cta` mbarriers and has no cluster instruction.
///
/// Returns ptxas' numbers for the entry.
pub fn check_system_kernel(
    tools: &CudaTools,
    src: &CudaSource,
    symbol: &str,
    placement: Placement,
    known_spills: &[KnownSpill],
) -> KernelResources {
    assert_eq!(src.name, symbol, "the system kernel's name");
    let image = Compiler::without_cache()
        .compile(src, Target::Ptx(Arch::SM_90))
        .unwrap_or_else(|e| panic!("{symbol} ({placement:?}): NVRTC: {e}"));
    if !image.log.is_empty() {
        eprintln!("{symbol} ({placement:?}): NVRTC log:\n{}", image.log);
    }
    let ptx = String::from_utf8(image.image).expect("PTX is text");
    // For reading a system's kernel by hand (a spill, say):
    // RINGKERNEL_DUMP_SYSTEM_KERNELS=DIR writes SYMBOL.cu and SYMBOL.ptx.
    if let Ok(dir) = std::env::var("RINGKERNEL_DUMP_SYSTEM_KERNELS") {
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir).expect("the dump folder");
        std::fs::write(dir.join(format!("{symbol}.cu")), &src.source).expect("dump");
        std::fs::write(dir.join(format!("{symbol}.ptx")), &ptx).expect("dump");
    }
    assert!(
        ptx.contains(&format!(".entry {symbol}(")),
        "{symbol} ({placement:?}): no `.entry {symbol}(` in its PTX"
    );
    let report = assemble(tools.ptxas().expect("ptxas"), &ptx, Arch::SM_90)
        .unwrap_or_else(|e| panic!("{symbol} ({placement:?}): ptxas: {e}"));
    check_spills(symbol, &report, known_spills);
    let tier = tier(placement);
    for other in ["gpu", "cluster", "cta"] {
        for order in ["relaxed", "acq_rel"] {
            let cas = format!("atom.{order}.{other}.cas.b64");
            if other == tier.scope && order == "relaxed" {
                assert!(ptx.contains(&cas), "{symbol}: no `{cas}` in its PTX");
            } else if other != tier.scope {
                assert!(!ptx.contains(&cas), "{symbol}: `{cas}` in its PTX");
            }
        }
    }
    for needle in tier.needed {
        assert!(ptx.contains(needle), "{symbol}: no `{needle}` in its PTX");
    }
    for needle in tier.banned {
        assert!(!ptx.contains(needle), "{symbol}: `{needle}` in its PTX");
    }
    let entry = report
        .function(symbol)
        .unwrap_or_else(|| panic!("{symbol}: not in the ptxas report:\n{}", report.raw))
        .clone();
    assert!(
        entry.entry && entry.registers > 0,
        "{symbol}: ptxas reported no registers for the entry: {entry:?}\n{}",
        report.raw
    );
    entry
}

/// A spill ptxas is known to report in one system kernel, recorded where
/// the system is listed until it is fixed. The check holds the kernel to
/// exactly that: any other spill fails, and so does this one spilling more
/// or less, or no longer, so that the entry is revisited (and removed once
/// the spill is gone).
#[derive(Debug)]
pub struct KnownSpill {
    /// The system kernel's entry symbol.
    pub symbol: &'static str,
    /// The spilling function's (mangled) name, as ptxas reports it.
    pub function: &'static str,
    pub store_bytes: u32,
    pub load_bytes: u32,
    /// Why it spills, as far as known.
    pub why: &'static str,
}

/// No function of `symbol`'s module spills, but `known`'s for `symbol`,
/// each exactly as recorded.
fn check_spills(symbol: &str, report: &ResourceReport, known: &[KnownSpill]) {
    let known: Vec<&KnownSpill> = known.iter().filter(|k| k.symbol == symbol).collect();
    let spills = |f: &KernelResources| (f.spill_store_bytes, f.spill_load_bytes);
    // ptxas reports a function once per entry it is assembled for (its
    // registers depend on the caller), so a name can come more than once.
    for k in &known {
        let now: Vec<(u32, u32)> = report
            .spilling()
            .filter(|f| f.name == k.function)
            .map(spills)
            .collect();
        assert!(
            !now.is_empty() && now.iter().all(|&s| s == (k.store_bytes, k.load_bytes)),
            "{symbol}: the known spill {k:?} is not what ptxas reports now \
             ((stores, loads): {now:?}): update or remove its entry\nptxas report:\n{}",
            report.raw
        );
        eprintln!(
            "{symbol}: known spill in {} ({} bytes stored, {} loaded): {}",
            k.function, k.store_bytes, k.load_bytes, k.why
        );
    }
    let unknown: Vec<&KernelResources> = report
        .spilling()
        .filter(|f| !known.iter().any(|k| k.function == f.name))
        .collect();
    assert!(
        unknown.is_empty(),
        "{symbol} spills: {unknown:?}\nptxas report:\n{}",
        report.raw
    );
}
