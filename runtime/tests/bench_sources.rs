//! The benchmark's GPU code (`benches/ringkernel`) is checked here, in CI,
//! where the benchmark itself never runs: its actors transpile with the
//! schedules the benchmark describes, and every module it loads (the actor
//! modules and the hand-written baselines) compiles with NVRTC and
//! assembles for sm_90 without spills. The actor loop's fallback below
//! sm_80 (no cp.async) is compiled for sm_75 as well. The actor-hop
//! ping-pong's handlers (`hops.rs`) are composed into the system kernel of
//! each placement, as `SystemBuilder::start` composes them, and compiled
//! and assembled for sm_90 the same way.

#[allow(dead_code)]
#[path = "../benches/ringkernel/hop_system.rs"]
mod hop_system;

use ringkernel_runtime::actor::Placement;
use ringkernel_runtime::{Compiler, CudaSource, KernelSource, SourceKind, SourceText};
use ringkernel_toolchain::{assemble, require_nvrtc, Arch, Target};
use ringkernel_transpiler::back::cuda::system::{compose_system_tiered, K2kTier, SystemRole};
use ringkernel_transpiler::back::cuda::ActorSchedule;

const HANDLER_100: &str = include_str!("../../transpiler/benches/data/handler_100_lines.rs");
const BASELINES: &str = include_str!("../benches/ringkernel/baselines.cu");
const K2K_BENCH: &str = include_str!("../benches/ringkernel/k2k.cu");

fn source(name: &str, text: &str) -> KernelSource {
    KernelSource {
        name: name.into(),
        kind: SourceKind::RingKernel,
        items: vec![SourceText::whole_file(
            format!("benches/ringkernel/{name}.rs"),
            text,
        )],
        layouts: Vec::new(),
        overflow_checks: true,
    }
}

fn actors() -> Vec<(KernelSource, ActorSchedule)> {
    vec![
        (
            source("echo64", include_str!("../benches/ringkernel/echo64.rs")),
            ActorSchedule::Uniform,
        ),
        (
            source(
                "digest1k",
                include_str!("../benches/ringkernel/digest1k.rs"),
            ),
            ActorSchedule::InOrder,
        ),
        (
            source("guard", include_str!("../benches/ringkernel/guard.rs")),
            ActorSchedule::InOrder,
        ),
        (source("score", HANDLER_100), ActorSchedule::InOrder),
    ]
}

/// Compiles `src` for `arch` and, for sm_90, assembles it: no spills.
/// Returns the PTX.
fn compile(src: &CudaSource, arch: Arch) -> String {
    compile_checked(src, arch, true)
}

/// [`compile`], with the no-spill check only when `no_spills`.
fn compile_checked(src: &CudaSource, arch: Arch, no_spills: bool) -> String {
    let compiler = Compiler::without_cache();
    let image = compiler
        .compile(src, Target::Ptx(arch))
        .unwrap_or_else(|e| panic!("{}: {e}", src.name));
    // Warnings in generated code are the snapshot tests' business; the
    // benchmark only needs the modules to build.
    if !image.log.is_empty() {
        eprintln!("{} (sm_{}): NVRTC log:\n{}", src.name, arch.0, image.log);
    }
    let ptx = String::from_utf8(image.image).expect("PTX is text");
    if arch != Arch::SM_90 {
        return ptx;
    }
    let tools = ringkernel_toolchain::CudaTools::locate().expect("located by require_nvrtc");
    let report = assemble(tools.ptxas().expect("ptxas"), &ptx, arch)
        .unwrap_or_else(|e| panic!("{}: {e}", src.name));
    let spilling: Vec<_> = report.spilling().collect();
    assert!(
        spilling.is_empty() || !no_spills,
        "{} ({:?}): spills: {spilling:?}",
        src.name,
        src.options
    );
    ptx
}

#[test]
fn the_benchmark_actors_transpile_compile_and_assemble() {
    let Some(_) = require_nvrtc("bench_sources") else {
        return;
    };
    for (kernel, schedule) in actors() {
        let transpiled = kernel
            .transpile()
            .unwrap_or_else(|e| panic!("{}: {e}", kernel.name));
        let abi = transpiled
            .cuda
            .kernels
            .iter()
            .find(|k| k.name == kernel.name)
            .and_then(|k| k.actor)
            .expect("a #[ring_kernel] handler");
        assert_eq!(abi.schedule, schedule, "{}", kernel.name);
        let src = CudaSource::from_output(&kernel.name, &transpiled.cuda).with_device_lib();
        compile(&src, Arch::SM_90);
        compile(&src, Arch(75));
    }
}

/// The loop trace the benchmark's anatomy of a call uses
/// (`RINGKERNEL_ACTOR_TRACE`): the traced echo64 compiles and assembles
/// without spills, and really reads the timer where the plain one does not.
#[test]
fn the_traced_actor_loop_compiles_and_assembles() {
    let Some(_) = require_nvrtc("bench_sources") else {
        return;
    };
    let (kernel, _) = actors().remove(0);
    let transpiled = kernel.transpile().expect("echo64 transpiles");
    let plain = CudaSource::from_output(&kernel.name, &transpiled.cuda).with_device_lib();
    let mut traced = plain.clone();
    traced.name = "echo64_traced".into();
    traced.options.push("-DRK_ACTOR_TRACE=1".into());
    compile(&traced, Arch::SM_90);
    let timer_reads = |src: &CudaSource| {
        let image = Compiler::without_cache()
            .compile(src, Target::Ptx(Arch::SM_90))
            .expect("compiles");
        String::from_utf8(image.image)
            .expect("PTX is text")
            .matches("%globaltimer")
            .count()
    };
    let (p, t) = (timer_reads(&plain), timer_reads(&traced));
    assert!(
        t > p,
        "traced loop reads %globaltimer {t} times, the plain one {p}"
    );
}

#[test]
fn the_hand_written_baselines_compile_and_assemble() {
    let Some(_) = require_nvrtc("bench_sources") else {
        return;
    };
    let src = CudaSource {
        name: "baselines".into(),
        source: BASELINES.into(),
        headers: Vec::new(),
        options: Vec::new(),
    };
    compile(&src, Arch::SM_90);
}

#[test]
fn the_k2k_ping_pong_kernels_compile_and_assemble() {
    let Some(_) = require_nvrtc("bench_sources") else {
        return;
    };
    let src = CudaSource {
        name: "k2k_bench".into(),
        source: K2K_BENCH.into(),
        headers: Vec::new(),
        options: Vec::new(),
    }
    .with_device_lib();
    let ptx = compile(&src, Arch::SM_90);
    // For reading the hop's PTX by hand: RINGKERNEL_DUMP_K2K_PTX=FILE.
    if let Ok(path) = std::env::var("RINGKERNEL_DUMP_K2K_PTX") {
        std::fs::write(&path, &ptx).unwrap();
    }
}

/// The PTX of `.entry name`, up to the next entry.
fn entry_body<'a>(ptx: &'a str, name: &str) -> &'a str {
    let start = ptx
        .find(&format!(".entry {name}("))
        .unwrap_or_else(|| panic!("no entry {name}"));
    let rest = &ptx[start + 1..];
    let end = rest.find(".entry ").map_or(ptx.len(), |e| start + 1 + e);
    &ptx[start..end]
}

/// The LL hop, as the bar needs it: each lane's message word is ONE relaxed
/// 8-byte store (no vector, no release), the consumer's look ONE relaxed
/// 8-byte load per word from its own inbox's state space, with a warp
/// vote; nothing in the kernels is a fence (`fence.*` or `membar`), and the
/// multi-producer claim is a relaxed CAS.
#[test]
fn the_ll_hop_is_one_relaxed_8_byte_access_per_lane_and_no_fence() {
    let Some(_) = require_nvrtc("bench_sources") else {
        return;
    };
    let src = CudaSource {
        name: "k2k_bench".into(),
        source: K2K_BENCH.into(),
        headers: Vec::new(),
        options: Vec::new(),
    }
    .with_device_lib();
    let ptx = compile(&src, Arch::SM_90);
    for (kernel, scope, space) in [
        ("k2k_ll_bench_cta", "cta", "shared"),
        ("k2k_ll_bench_cluster", "cluster", "shared"),
        ("k2k_ll_bench_gpu", "gpu", "global"),
    ] {
        let body = entry_body(&ptx, kernel);
        for needed in [
            format!("st.relaxed.{scope}.b64 "),
            format!("ld.relaxed.{scope}.{space}.b64 "),
            format!("atom.relaxed.{scope}.cas.b64 "),
            "vote.sync.all.pred".to_string(),
        ] {
            assert!(body.contains(&needed), "{kernel} lacks `{needed}`");
        }
        for banned in ["fence.", "membar", "st.release"] {
            assert!(!body.contains(banned), "{kernel} has `{banned}`");
        }
        for line in body.lines().map(str::trim) {
            if line.starts_with("ld.relaxed") || line.starts_with("st.relaxed") {
                assert!(
                    line.contains(".b64 ") && !line.contains(".v2") && !line.contains(".v4"),
                    "{kernel}: not one 8-byte access: {line}"
                );
            }
        }
    }
}

/// `--minimal` (the back end's speed option) changes NVRTC's time, never
/// its output: each actor module's PTX, and one module's cubin, are the
/// same bytes with and without it.
#[test]
fn speed_options_change_no_output() {
    let Some(tools) = require_nvrtc("bench_sources") else {
        return;
    };
    let speed = ringkernel_transpiler::back::cuda::NVRTC_SPEED_OPTIONS;
    let minimal_known = ringkernel_toolchain::supported_by("--minimal", tools.nvrtc_version());
    let compiler = Compiler::without_cache();
    for (kernel, _) in actors() {
        let transpiled = kernel
            .transpile()
            .unwrap_or_else(|e| panic!("{}: {e}", kernel.name));
        let with = CudaSource::from_output(&kernel.name, &transpiled.cuda).with_device_lib();
        assert!(
            speed.iter().all(|o| with.options.iter().any(|x| x == o)),
            "{}: the back end's options {:?} lack {speed:?}",
            kernel.name,
            with.options
        );
        let mut without = with.clone();
        without.options.retain(|o| !speed.contains(&o.as_str()));
        let targets: &[Target] = if kernel.name == "score" {
            &[Target::Ptx(Arch::SM_90), Target::Cubin(Arch::SM_90)]
        } else {
            &[Target::Ptx(Arch::SM_90)]
        };
        for &target in targets {
            let a = compiler.compile(&with, target).expect("compiles").image;
            let b = compiler.compile(&without, target).expect("compiles").image;
            assert!(
                a == b,
                "{} ({target:?}): output differs with {speed:?} (NVRTC {:?}, --minimal known: {minimal_known})",
                kernel.name,
                tools.nvrtc_version()
            );
        }
    }
}

/// The hop system's kernel (`hop` and `hops_done` of hops.rs, transpiled
/// into `output`) composed for `tier` as `SystemBuilder::start` composes
/// it, as the runtime compiles it.
fn hop_system_source(
    output: &ringkernel_transpiler::back::cuda::Output,
    symbol: &str,
    tier: K2kTier,
) -> CudaSource {
    let roles = ["hop", "hops_done"].map(|kernel| SystemRole { output, kernel });
    let system = compose_system_tiered(symbol, &roles, tier)
        .unwrap_or_else(|e| panic!("{symbol} ({tier:?}): {e}"));
    CudaSource::from_system(symbol, &system)
}

/// The actor-hop benchmark's systems (`hop_system.rs`): `hop` sends on
/// ports 0 (the peer) and 1 (the collector), both carrying `Hop`, which
/// `hops_done` receives and answers; per placement, the two handlers (block
/// actors, or warp actors under `Placement::Block`) composed into the
/// system kernel of that tier, as `SystemBuilder::start` composes it, and
/// compiled with NVRTC and assembled for sm_90 without spills. Each tier's
/// PTX reserves inbox slots at the tier's scope only (`.gpu`, `.cluster`
/// with `mapa` and the cluster barriers, `.cta`).
#[test]
fn the_actor_hop_systems_compose_compile_and_assemble_per_placement() {
    let Some(_) = require_nvrtc("bench_sources") else {
        return;
    };
    const SCOPES: [&str; 3] = ["gpu", "cluster", "cta"];
    // What each tier's send has only with its default: the global tier's
    // sole routes announce with an add in the .global space (ATOMG, whose
    // result is waited for at the commit; RK_ACTOR_K2K_SOLE=0 claims by CAS
    // alone), the cluster tier commits another block's slot by st.async
    // after a relaxed expect-tx arrive (RK_ACTOR_K2K_ST_ASYNC=0 by stores
    // and the release arrive).
    const ANNOUNCE: &str = "atom.relaxed.gpu.global.add.u64";
    const ST_ASYNC: [&str; 2] = [
        "st.async.shared::cluster.mbarrier::complete_tx::bytes.v4.b32",
        "mbarrier.arrive.expect_tx.relaxed.cluster.shared::cluster.b64",
    ];
    for (placement, tier, prefix, scope, needles) in [
        (
            Placement::Gpu,
            K2kTier::Global,
            "rk_system",
            "gpu",
            &[ANNOUNCE][..],
        ),
        (
            Placement::Cluster,
            K2kTier::Cluster,
            "rk_cluster_system",
            "cluster",
            &[
                "mapa.u64",
                "barrier.cluster.wait",
                "mbarrier.arrive.release.cluster.shared::cluster.b64",
                "mbarrier.test_wait.parity.acquire.cluster.shared::cta.b64",
                ST_ASYNC[0],
                ST_ASYNC[1],
            ][..],
        ),
        (
            Placement::Block,
            K2kTier::Block,
            "rk_block_system",
            "cta",
            &[
                "mbarrier.arrive.release.cta.shared::cta.b64",
                "mbarrier.test_wait.parity.acquire.cta.shared::cta.b64",
            ][..],
        ),
    ] {
        let hop = hop_system::kernel(placement, "hop");
        let transpiled = hop
            .transpile()
            .unwrap_or_else(|e| panic!("hops.rs ({placement:?}): {e}"));
        let output = &transpiled.cuda;
        let info = output.kernels.iter().find(|k| k.name == "hop").unwrap();
        let wiring = info.wiring.as_ref().expect("an actor");
        assert_eq!(wiring.message_type, "Hop");
        let ports: Vec<(u32, &str, u64)> = wiring
            .ports
            .iter()
            .map(|p| (p.port, p.message_type.as_str(), p.message_size))
            .collect();
        assert_eq!(ports, [(0, "Hop", 48), (1, "Hop", 48)], "{placement:?}");
        assert_eq!(
            info.actor.expect("an actor").warp,
            placement == Placement::Block
        );
        let symbol = format!("{prefix}_hop_hops_done");
        let src = hop_system_source(output, &symbol, tier);
        let ptx = compile(&src, Arch::SM_90);
        // For reading a hop system's PTX (and SASS) by hand:
        // RINGKERNEL_DUMP_HOP_PTX=DIR writes DIR/SYMBOL.ptx, and
        // DIR/SYMBOL.lines.ptx and DIR/SYMBOL.k2k_traced.lines.ptx (with
        // line information, so `nvdisasm -g` maps the SASS to the headers'
        // lines; the second with the K2K loop trace's clock64 marks between
        // the stages), both with RINGKERNEL_ACTOR_DEFINES' defines, as the
        // runtime would compile them.
        if let Some(dir) = std::env::var_os("RINGKERNEL_DUMP_HOP_PTX") {
            let dir = std::path::Path::new(&dir);
            std::fs::write(dir.join(format!("{symbol}.ptx")), &ptx)
                .expect("RINGKERNEL_DUMP_HOP_PTX: a writable directory");
            let defines: Vec<String> = std::env::var("RINGKERNEL_ACTOR_DEFINES")
                .unwrap_or_default()
                .split_whitespace()
                .map(|pair| format!("-D{pair}"))
                .collect();
            for (suffix, trace) in [
                ("lines", None),
                ("k2k_traced.lines", Some("-DRK_ACTOR_TRACE=2")),
            ] {
                let mut with = src.clone();
                with.options.extend(defines.iter().cloned());
                with.options.extend(trace.map(str::to_string));
                let image = Compiler::without_cache()
                    .line_info(true)
                    .compile(&with, Target::Ptx(Arch::SM_90))
                    .unwrap_or_else(|e| panic!("{symbol} ({suffix}): {e}"));
                std::fs::write(dir.join(format!("{symbol}.{suffix}.ptx")), &image.image)
                    .expect("RINGKERNEL_DUMP_HOP_PTX: a writable directory");
            }
        }
        assert!(ptx.contains(&format!(".entry {symbol}(")), "{symbol}");
        // The K2K claims (a relaxed CAS on an inbox's tail, from the
        // sender's guess: rk_k2k_credit in global memory, rk_k2k_mbar_mp in the
        // shared tiers) at the tier's scope, and no CAS at any other tier's.
        for other in SCOPES {
            for order in ["relaxed", "acq_rel"] {
                let cas = format!("atom.{order}.{other}.cas.b64");
                if other == scope && order == "relaxed" {
                    assert!(ptx.contains(&cas), "{symbol}: no `{cas}` in its PTX");
                } else if other != scope {
                    assert!(!ptx.contains(&cas), "{symbol}: `{cas}` in its PTX");
                }
            }
        }
        for needle in needles {
            assert!(ptx.contains(needle), "{symbol}: no `{needle}` in its PTX");
        }
        for (switch, gone) in [
            ("-DRK_ACTOR_K2K_SOLE=0", &[ANNOUNCE][..]),
            ("-DRK_ACTOR_K2K_ST_ASYNC=0", &ST_ASYNC[..]),
        ] {
            if !gone.iter().any(|g| needles.contains(g)) {
                assert!(
                    gone.iter().all(|g| !ptx.contains(g)),
                    "{symbol}: `{gone:?}` outside its tier"
                );
                continue;
            }
            let mut off = src.clone();
            off.options.push(switch.into());
            let off = compile_checked(&off, Arch::SM_90, true);
            for g in gone {
                assert!(!off.contains(g), "{symbol} with {switch}: `{g}` in its PTX");
            }
        }
        // The hop handler's K2K messages take the lone path, inlined into
        // its role by default; out of line (`RK_ACTOR_K2K_ONE_INLINE=0`, the
        // A/B switch) its function is there, calls the send and releases
        // the slot (an assumption NVVM could prove false once made it
        // delete everything but the fault record's reset, and the actor
        // spun on its first message). Inlined, the hop's role (the block
        // tier's role function; in the others the entry, both roles in it)
        // calls the send and releases slots too.
        let release = if placement == Placement::Gpu {
            "st.relaxed.gpu.b64"
        } else {
            "mbarrier.arrive.release"
        };
        let mut out_of_line = src.clone();
        out_of_line
            .options
            .push("-DRK_ACTOR_K2K_ONE_INLINE=0".into());
        // (An A/B variant: with the send inlined into it, the block tier's
        // role spills 12 bytes around the call; assembled, not held to no
        // spills.)
        let out_of_line = compile_checked(&out_of_line, Arch::SM_90, false);
        let lone = ptx_function(&out_of_line, "_Z16rk_actor_k2k_one")
            .unwrap_or_else(|| panic!("{symbol} out of line: no rk_actor_k2k_one in its PTX"));
        assert!(
            ptx_function(&ptx, "_Z16rk_actor_k2k_one").is_none(),
            "{symbol}: rk_actor_k2k_one out of line by default"
        );
        let role = ptx_function(&ptx, "_Z13rk_actor_roleIN8rk_role011hop_handler")
            .unwrap_or_else(|| &ptx[ptx.find(&format!(".entry {symbol}(")).unwrap()..]);
        for (what, body) in [("rk_actor_k2k_one", lone), ("the hop's role", role)] {
            for needle in ["call.uni", release] {
                assert!(
                    body.contains(needle),
                    "{symbol}: {what} has no `{needle}`:\n{body}"
                );
            }
        }
    }
}

/// The body of the PTX function whose mangled name starts with `prefix`
/// (its definition, not its declaration).
fn ptx_function<'a>(ptx: &'a str, prefix: &str) -> Option<&'a str> {
    let mut at = 0;
    while let Some(found) = ptx[at..].find(&format!(".func {prefix}")) {
        let start = at + found;
        let header_end = start + ptx[start..].find('\n')?;
        // A declaration ends with `;` before any body; a definition's
        // parameter list is followed by its body in braces.
        let rest = &ptx[header_end..];
        let (semi, brace) = (rest.find(";\n"), rest.find("\n{"));
        if let (Some(b), true) = (brace, semi.is_none_or(|s| brace.unwrap() < s)) {
            let body = &rest[b..];
            let end = body.find("\n}\n").map_or(body.len(), |e| e + 3);
            return Some(&body[..end]);
        }
        at = header_end;
    }
    None
}

/// The ladder's mbarrier rows (`K2K_LAD_MBAR_*`) hand the slot over with
/// mbarriers at each tier's scope: the shared-memory kernel arrives and
/// waits at `.cta`, the DSMEM kernel arrives remotely at `.cluster` and
/// waits locally at `.cluster`.
#[test]
fn the_ladder_mbarrier_rows_hand_over_with_mbarriers_per_tier() {
    let Some(_) = require_nvrtc("bench_sources") else {
        return;
    };
    let src = CudaSource {
        name: "k2k_bench".into(),
        source: K2K_BENCH.into(),
        headers: Vec::new(),
        options: Vec::new(),
    }
    .with_device_lib();
    let ptx = compile(&src, Arch::SM_90);
    for (kernel, needed) in [
        (
            "k2k_lad_cta",
            [
                "mbarrier.arrive.release.cta.shared::cta.b64",
                "mbarrier.try_wait.parity.acquire.cta.shared::cta.b64",
            ],
        ),
        (
            "k2k_lad_cluster",
            [
                "mbarrier.arrive.release.cluster.shared::cluster.b64",
                "mbarrier.try_wait.parity.acquire.cluster.shared::cta.b64",
            ],
        ),
    ] {
        let body = entry_body(&ptx, kernel);
        for instruction in needed {
            assert!(body.contains(instruction), "{kernel} lacks `{instruction}`");
        }
    }
    assert!(
        !entry_body(&ptx, "k2k_lad_gpu").contains("mbarrier."),
        "the global tier has no mbarrier row"
    );
}

/// The hop anatomy's loop trace of K2K batches (`RINGKERNEL_ACTOR_TRACE=k2k`
/// → `-DRK_ACTOR_TRACE=2`, `hop_anatomy.rs`): each placement's hop system
/// compiles and assembles with it without spills, and its loop reads the
/// timer where the plain one does not (the K2K batches' marks are there).
#[test]
fn the_hop_systems_compile_with_the_k2k_loop_trace() {
    let Some(_) = require_nvrtc("bench_sources") else {
        return;
    };
    for (placement, tier) in [
        (Placement::Gpu, K2kTier::Global),
        (Placement::Cluster, K2kTier::Cluster),
        (Placement::Block, K2kTier::Block),
    ] {
        let transpiled = hop_system::kernel(placement, "hop")
            .transpile()
            .unwrap_or_else(|e| panic!("hops.rs ({placement:?}): {e}"));
        let plain = hop_system_source(&transpiled.cuda, "rk_traced_hops", tier);
        let mut traced = plain.clone();
        traced.name.push_str("_k2k_traced");
        traced.options.push("-DRK_ACTOR_TRACE=2".into());
        let timer_reads = |ptx: &str| ptx.matches("%globaltimer").count();
        let (p, t) = (
            timer_reads(&compile(&plain, Arch::SM_90)),
            timer_reads(&compile(&traced, Arch::SM_90)),
        );
        assert!(
            t > p,
            "{placement:?}: the K2K-traced loop reads %globaltimer {t} times, the plain one {p}"
        );
    }
}

/// PTX loads with no state space: generic addresses, which the hardware
/// resolves at run time (`ld.u32`, `ld.v4.u32`, not `ld.shared.*`,
/// `ld.local.*`, ...).
fn generic_loads(ptx: &str) -> usize {
    ptx.lines()
        .map(|line| {
            let line = line.trim_start();
            // A predicate guard first (`@%p1 ld...`), if any.
            match line.strip_prefix('@') {
                Some(rest) => rest.split_once(' ').map_or("", |(_, op)| op.trim_start()),
                None => line,
            }
        })
        .filter_map(|op| op.strip_prefix("ld."))
        .filter(|rest| {
            let space = rest.split(['.', ' ', '\t']).next().unwrap_or("");
            !["shared", "local", "global", "param", "const", "volatile"].contains(&space)
                || rest.starts_with("volatile.u")
                || rest.starts_with("volatile.v")
        })
        .count()
}

/// The K2K hop's path reads as shared memory what is in shared memory
/// (rk_actor_state.cuh's address-space hints): with the defaults, each hop
/// system has fewer generic loads than with RK_ACTOR_SEND_SHARED_STATE=0
/// and RK_ACTOR_K2K_SHARED_INBOX=0 (the code before them), and in the
/// shared tiers more 16-byte shared loads (the staging of a K2K slot);
/// the defaults, and the variant that defers a K2K batch's counters and
/// heartbeat (RK_ACTOR_K2K_STATS_CYCLES), plain and K2K-traced, assemble
/// without spills (`compile`), so an A/B of each on a GPU measures the
/// same kernel but for the switch. The variants without the hints, and
/// with the send out of line, are assembled but may spill (the code before
/// the hints, kept for the load counts, not for timing). With the send
/// inlined (the default) NVVM sees the loop's state as shared memory
/// anyway, so the send's hint counts only with the send out of line.
#[test]
fn the_hop_path_reads_shared_memory_as_shared_memory() {
    let Some(_) = require_nvrtc("bench_sources") else {
        return;
    };
    // The inbox hint is the block tier's alone (rk_actor_state.cuh: in the
    // cluster tier other blocks reach the inbox over DSMEM).
    for (placement, tier, shared_inbox) in [
        (Placement::Gpu, K2kTier::Global, false),
        (Placement::Cluster, K2kTier::Cluster, false),
        (Placement::Block, K2kTier::Block, true),
    ] {
        let transpiled = hop_system::kernel(placement, "hop")
            .transpile()
            .unwrap_or_else(|e| panic!("hops.rs ({placement:?}): {e}"));
        let src = hop_system_source(&transpiled.cuda, "rk_hints_hops", tier);
        let with_options = |options: &[&str]| {
            let mut s = src.clone();
            s.options.extend(options.iter().map(|o| o.to_string()));
            s
        };
        let hinted = compile(&src, Arch::SM_90);
        let generic = compile_checked(
            &with_options(&[
                "-DRK_ACTOR_SEND_SHARED_STATE=0",
                "-DRK_ACTOR_K2K_SHARED_INBOX=0",
            ]),
            Arch::SM_90,
            false,
        );
        let (h, g) = (generic_loads(&hinted), generic_loads(&generic));
        // The send inlined (the default), NVVM sees the loop's state as
        // shared memory without the send's hint; the inbox hint still
        // counts in the block tier.
        assert!(
            h <= g && (h < g || !shared_inbox),
            "{placement:?}: {h} generic loads with the hints, {g} without"
        );
        // The send out of line (RK_ACTOR_SEND_INLINE=0, the A/B switch)
        // reads the state through the pointers it is passed: the send's
        // hint is what makes those loads shared ones.
        let out_of_line = |extra: &[&str]| {
            let mut options = vec!["-DRK_ACTOR_SEND_INLINE=0"];
            options.extend(extra);
            generic_loads(&compile_checked(
                &with_options(&options),
                Arch::SM_90,
                false,
            ))
        };
        let (h, g) = (
            out_of_line(&[]),
            out_of_line(&[
                "-DRK_ACTOR_SEND_SHARED_STATE=0",
                "-DRK_ACTOR_K2K_SHARED_INBOX=0",
            ]),
        );
        assert!(
            h < g,
            "{placement:?}, send out of line: {h} generic loads with the hints, {g} without"
        );
        let shared16 = |ptx: &str| ptx.matches("ld.shared.v4").count();
        if shared_inbox {
            assert!(
                shared16(&hinted) > shared16(&generic),
                "{placement:?}: the K2K staging does not load its slot as shared memory"
            );
        } else {
            assert_eq!(
                shared16(&hinted),
                shared16(&generic),
                "{placement:?}: the inbox hint is the block tier's alone"
            );
        }
        for trace in [None, Some("-DRK_ACTOR_TRACE=2")] {
            let mut options = vec!["-DRK_ACTOR_K2K_STATS_CYCLES=65536"];
            options.extend(trace);
            compile(&with_options(&options), Arch::SM_90);
        }
    }
}
