//! Actor systems: the K2K test handlers (`runtime/tests/k2k_actors/
//! handlers.rs`: a forwarder that `ctx.send`s and a collector; a flooder
//! that `ctx.try_send`s and a drain) composed into system kernels. The
//! composed CUDA is pinned by an insta snapshot, compiled by NVRTC and
//! assembled by ptxas for sm_90 without spills; the
//! ports and wiring metadata the runtime checks connections with are
//! asserted; composing handlers of different block shapes is an error.
//! The same system composed for cluster placement (K2K inboxes in the
//! blocks' shared memory, DSMEM routes) is pinned and assembled the same way.

use ringkernel_toolchain::{assemble, compile, require_nvrtc, Arch, CompileOptions, Target};
use ringkernel_transpiler::back::cuda::system::{
    compose_system, compose_system_tiered, K2kTier, SystemError, SystemOutput, SystemRole,
};
use ringkernel_transpiler::back::cuda::{write_module, Options as CudaOptions, Output};
use ringkernel_transpiler::front::rust::{lower_file, Options};

const FILE: &str = "handlers.rs";
const HANDLERS: &str = include_str!("../../runtime/tests/k2k_actors/handlers.rs");

fn transpile(source: &str) -> Output {
    let mut module = lower_file(
        source,
        &Options {
            source_file: Some(FILE.into()),
            ..Options::default()
        },
    )
    .unwrap_or_else(|d| panic!("{}", d.render(FILE, source)));
    ringkernel_transpiler::passes::run(&mut module);
    let info = ringkernel_transpiler::valid::validate(&module).expect("valid IR");
    write_module(&module, &info, &CudaOptions::default()).expect("CUDA")
}

#[test]
fn the_system_kernel_composes_compiles_and_assembles() {
    let output = transpile(HANDLERS);
    let forward = output.kernels.iter().find(|k| k.name == "forward").unwrap();
    let wiring = forward.wiring.as_ref().unwrap();
    assert_eq!(wiring.message_type, "Work");
    assert_eq!(wiring.ports.len(), 1);
    assert_eq!(wiring.ports[0].port, 0);
    assert_eq!(wiring.ports[0].message_type, "Stamped");
    assert_eq!(wiring.ports[0].message_size, 80);
    let collect = output.kernels.iter().find(|k| k.name == "collect").unwrap();
    assert!(collect.wiring.as_ref().unwrap().ports.is_empty());
    assert_eq!(collect.wiring.as_ref().unwrap().message_type, "Stamped");

    let roles = [
        SystemRole {
            output: &output,
            kernel: "collect",
        },
        SystemRole {
            output: &output,
            kernel: "forward",
        },
    ];
    let system = compose_system("rk_system_test", &roles).unwrap();
    insta::assert_snapshot!("k2k_system", system.source);
    assert_eq!(system.block, [32, 1, 1]);
    assert!(!system.source.contains("RK_ACTOR_K2K_CLUSTER"));
    assemble_without_spills(&system, "rk_system_test");
}

/// The cluster-placed system kernel: the same roles, inboxes in shared
/// memory (`RK_ACTOR_K2K_CLUSTER`), and an entry whose blocks all reach the
/// cluster barriers. Assembled for sm_90 with no spills; the PTX uses the
/// DSMEM machinery (mapa, the cluster barrier, cluster-scoped atomics).
#[test]
fn the_cluster_system_kernel_composes_compiles_and_assembles() {
    let output = transpile(HANDLERS);
    let roles = [
        SystemRole {
            output: &output,
            kernel: "collect",
        },
        SystemRole {
            output: &output,
            kernel: "forward",
        },
    ];
    let system = compose_system_tiered("rk_cluster_system_test", &roles, K2kTier::Cluster).unwrap();
    insta::assert_snapshot!("k2k_cluster_system", system.source);
    assert_eq!(system.block, [32, 1, 1]);
    let global = compose_system("rk_cluster_system_test", &roles).unwrap();
    // The tier's define and the absent-block paths are the only difference.
    let stripped = system
        .source
        .replace("#define RK_ACTOR_K2K_CLUSTER 1\n", "")
        .replace("        rk_actor_cluster_absent();\n", "")
        .replace(
            "default: rk_actor_cluster_absent(); break;",
            "default: break;",
        );
    assert_eq!(stripped, global.source);
    if let Some(ptx) = assemble_without_spills(&system, "rk_cluster_system_test") {
        for needle in [
            "mapa.u64",
            "barrier.cluster.arrive",
            "barrier.cluster.wait",
            "atom.relaxed.cluster.cas.b64",
            "mbarrier.arrive.release.cluster.shared::cluster",
        ] {
            assert!(
                ptx.contains(needle),
                "no `{needle}` in the cluster kernel's PTX"
            );
        }
        // The global tier's scope is gone from the K2K paths.
        assert!(
            !ptx.contains("atom.acq_rel.gpu.cas"),
            "a gpu-scoped CAS is left"
        );
        assert!(
            !ptx.contains("atom.relaxed.gpu.cas"),
            "a gpu-scoped CAS is left"
        );
    }
}

/// `ctx.try_send`: the flooder's port and message type are what `connect`
/// checks, the generated call is `rk_actor_try_send` (block-wide, its
/// result a `bool`), and the composed kernel compiles and assembles for
/// sm_90 without spills.
#[test]
fn the_try_send_system_kernel_composes_compiles_and_assembles() {
    let output = transpile(HANDLERS);
    let flood = output.kernels.iter().find(|k| k.name == "flood").unwrap();
    let wiring = flood.wiring.as_ref().unwrap();
    assert_eq!(wiring.message_type, "Burst");
    assert_eq!(wiring.ports.len(), 1);
    assert_eq!(wiring.ports[0].port, 0);
    assert_eq!(wiring.ports[0].message_type, "Item");
    assert_eq!(wiring.ports[0].message_size, 16);
    let roles = [
        SystemRole {
            output: &output,
            kernel: "drain",
        },
        SystemRole {
            output: &output,
            kernel: "flood",
        },
    ];
    let system = compose_system("rk_try_send_test", &roles).unwrap();
    assert!(system
        .source
        .contains("rk_actor_try_send(__rk_f, 0u, &rk_sent"));
    insta::assert_snapshot!("k2k_try_send_system", system.source);
    assemble_without_spills(&system, "rk_try_send_test");
}

/// The try_send system composed for cluster placement: the same text plus
/// the tier's define and the absent-block paths (so `rk_actor_try_send`
/// goes through the same `rk_actor_k2k_target` / scope-templated reserve as
/// `send`), assembled for sm_90 with no spills, its K2K paths (the flooder's
/// one reservation attempt included) all cluster-scoped: a DSMEM `mapa`
/// target, cluster CAS, no gpu-scoped CAS left.
#[test]
fn the_cluster_try_send_system_kernel_composes_compiles_and_assembles() {
    let output = transpile(HANDLERS);
    let roles = [
        SystemRole {
            output: &output,
            kernel: "drain",
        },
        SystemRole {
            output: &output,
            kernel: "flood",
        },
    ];
    let symbol = "rk_cluster_try_send_test";
    let system = compose_system_tiered(symbol, &roles, K2kTier::Cluster).unwrap();
    let global = compose_system(symbol, &roles).unwrap();
    let stripped = system
        .source
        .replace("#define RK_ACTOR_K2K_CLUSTER 1\n", "")
        .replace("        rk_actor_cluster_absent();\n", "")
        .replace(
            "default: rk_actor_cluster_absent(); break;",
            "default: break;",
        );
    assert_eq!(stripped, global.source);
    assert!(system
        .source
        .contains("rk_actor_try_send(__rk_f, 0u, &rk_sent"));
    if let Some(ptx) = assemble_without_spills(&system, symbol) {
        for needle in [
            "mapa.shared::cluster",
            "atom.relaxed.cluster.cas.b64",
            "mbarrier.arrive.release.cluster.shared::cluster",
            "bar.red.or.pred",
        ] {
            assert!(
                ptx.contains(needle),
                "no `{needle}` in the cluster try_send kernel's PTX"
            );
        }
        assert!(
            !ptx.contains("atom.acq_rel.gpu.cas") && !ptx.contains("atom.relaxed.gpu.cas"),
            "a gpu-scoped CAS is left"
        );
    }
}

/// How a system kernel's K2K inboxes hand slots over, read off its PTX
/// (issue 10: racecheck sees only mbarrier handoffs with a plain payload
/// in shared memory as synchronisation).
#[derive(Debug, PartialEq, Eq)]
enum Handoff {
    /// `rk_k2k_mbar` at this scope: full and empty mbarriers per slot
    /// (arrive.release, test_wait / try_wait.parity.acquire), the claim a
    /// relaxed CAS on tail, the head a red.release; and none of rk_k2k's
    /// sequence-word protocol (relaxed/acquire loads, release or relaxed
    /// stores of sequence words, acq_rel fences and CASes) at this scope or
    /// the global one.
    Mbarrier(&'static str),
    /// `rk_k2k` at gpu scope: sequence words (relaxed loads, release
    /// commits, relaxed frees), acq_rel fences and the closing CAS; no
    /// mbarrier anywhere.
    SequenceWords,
}

fn handoff(ptx: &str) -> Result<Handoff, String> {
    let has = |needle: &str| ptx.contains(needle);
    let seq_protocol = |scope: &str| -> Vec<String> {
        [
            format!("ld.relaxed.{scope}."),
            format!("ld.acquire.{scope}."),
            format!("st.release.{scope}."),
            format!("st.relaxed.{scope}."),
            format!("fence.acq_rel.{scope}"),
            format!("atom.acq_rel.{scope}.cas"),
        ]
        .into_iter()
        .filter(|n| has(n))
        .collect()
    };
    if has("mbarrier.") {
        let scope = if has("mbarrier.arrive.release.cluster.shared::cluster") {
            "cluster"
        } else {
            "cta"
        };
        let mut missing: Vec<String> = [
            "mbarrier.init.shared::cta.b64".to_string(),
            format!("mbarrier.arrive.release.{scope}."),
            format!("mbarrier.test_wait.parity.acquire.{scope}.shared::cta.b64"),
            format!("mbarrier.try_wait.parity.acquire.{scope}.shared::cta.b64"),
            format!("atom.relaxed.{scope}.cas.b64"),
            format!("red.release.{scope}.add.u64"),
        ]
        .into_iter()
        .filter(|n| !has(n))
        .collect();
        missing.extend(
            seq_protocol(scope)
                .into_iter()
                .map(|n| format!("unexpected {n}")),
        );
        missing.extend(
            seq_protocol("gpu")
                .into_iter()
                .map(|n| format!("unexpected {n}")),
        );
        if !missing.is_empty() {
            return Err(format!("mbarrier handoff at {scope} scope: {missing:?}"));
        }
        return Ok(Handoff::Mbarrier(scope));
    }
    let missing: Vec<&str> = [
        "ld.relaxed.gpu.b64",
        "st.release.gpu.b64",
        "st.relaxed.gpu.b64",
        "fence.acq_rel.gpu",
        "atom.acq_rel.gpu.cas.b64",
    ]
    .into_iter()
    .filter(|n| !has(n))
    .collect();
    if !missing.is_empty() {
        return Err(format!("sequence-word handoff: missing {missing:?}"));
    }
    Ok(Handoff::SequenceWords)
}

/// The switch of issue 10: a block-placed system (warp actors, inboxes in
/// the block's shared memory) and a cluster-placed one (inboxes reached
/// over DSMEM) hand their K2K slots over with mbarriers (`rk_k2k_mbar`,
/// what racecheck sees), with none of `rk_k2k`'s sequence-word protocol
/// left in them; a GPU-placed one (inboxes in global memory, which has no
/// mbarriers) still uses `rk_k2k`. All of them with the suite's send and
/// try_send handlers, assembled for sm_90 with no spills.
#[test]
fn shared_tiers_hand_k2k_slots_over_with_mbarriers_and_the_global_tier_keeps_sequence_words() {
    let output = transpile(HANDLERS);
    let warp = HANDLERS.replace(
        "#[ring_kernel(block_size = 32)]",
        "#[ring_kernel(warps = 1)]",
    );
    let warp_output = transpile(&warp);
    let roles = |output| {
        ["collect", "forward", "drain", "flood"]
            .map(|kernel| SystemRole { output, kernel })
            .to_vec()
    };
    let cases = [
        (
            "rk_handoff_gpu",
            compose_system("rk_handoff_gpu", &roles(&output)).unwrap(),
            Handoff::SequenceWords,
        ),
        (
            "rk_handoff_block",
            compose_system_tiered("rk_handoff_block", &roles(&warp_output), K2kTier::Block)
                .unwrap(),
            Handoff::Mbarrier("cta"),
        ),
        (
            "rk_handoff_cluster",
            compose_system_tiered("rk_handoff_cluster", &roles(&output), K2kTier::Cluster).unwrap(),
            Handoff::Mbarrier("cluster"),
        ),
    ];
    for (symbol, system, expected) in cases {
        let Some(ptx) = assemble_without_spills(&system, symbol) else {
            return;
        };
        assert_eq!(handoff(&ptx), Ok(expected), "{symbol}");
    }
}

/// Compiles `system` with NVRTC for sm_90 and assembles it with ptxas:
/// `symbol` must not spill. Returns the PTX (None when NVRTC is absent and
/// not required).
fn assemble_without_spills(system: &SystemOutput, symbol: &str) -> Option<String> {
    let tools = require_nvrtc("system_out")?;
    let include = std::env::temp_dir().join(format!(
        "ringkernel-system-out-{}-{symbol}",
        std::process::id()
    ));
    std::fs::create_dir_all(&include).unwrap();
    for header in &system.headers {
        std::fs::write(include.join(header.name), header.contents).unwrap();
    }
    for (name, text) in ringkernel_device::headers::HEADERS {
        std::fs::write(include.join(name), text).unwrap();
    }
    let mut options = CompileOptions::new(Target::Ptx(Arch::SM_90));
    options.include_dirs.push(include.display().to_string());
    options.extra = system.nvrtc_options.clone();
    let file = format!("{symbol}.cu");
    let compiled = compile(&file, &system.source, &options)
        .unwrap_or_else(|e| panic!("{e}\n--- {file} ---\n{}", system.source));
    let ptx = compiled.ptx().unwrap();
    let report = assemble(tools.ptxas().expect("ptxas"), ptx, Arch::SM_90).unwrap();
    let resources = report
        .function(symbol)
        .unwrap_or_else(|| panic!("no {symbol} in\n{}", report.raw));
    assert!(!resources.spills(), "{resources:?}");
    eprintln!("{symbol}: {resources:?}");
    Some(ptx.to_string())
}

#[test]
fn handlers_of_different_blocks_cannot_share_a_system_kernel() {
    let wide = HANDLERS.replace(
        "#[ring_kernel(block_size = 32)]\npub fn collect",
        "#[ring_kernel(block_size = 64)]\npub fn collect",
    );
    assert_ne!(wide, HANDLERS);
    let output = transpile(&wide);
    let roles = [
        SystemRole {
            output: &output,
            kernel: "forward",
        },
        SystemRole {
            output: &output,
            kernel: "collect",
        },
    ];
    let err = compose_system("rk_system_test", &roles).unwrap_err();
    assert!(matches!(err, SystemError::BlockMismatch { .. }), "{err}");
    assert!(err.to_string().contains("same `block_size`"), "{err}");
    let err = compose_system("not a symbol", &roles[..1]).unwrap_err();
    assert!(matches!(err, SystemError::InvalidSymbol { .. }));
    assert!(matches!(compose_system("x", &[]), Err(SystemError::Empty)));
}

/// Warp actors are composed only into a block-placed system, and a
/// block-placed system only of warp actors: either mistake is refused by
/// name, never launched with a block shape its handlers were not written for.
#[test]
fn warp_actors_are_composed_only_into_block_systems() {
    let warp = HANDLERS.replace(
        "#[ring_kernel(block_size = 32)]\npub fn collect",
        "#[ring_kernel(warps = 1)]\npub fn collect",
    );
    assert_ne!(warp, HANDLERS);
    let output = transpile(&warp);
    let collect = [SystemRole {
        output: &output,
        kernel: "collect",
    }];
    let err = compose_system("rk_system_test", &collect).unwrap_err();
    assert!(
        matches!(&err, SystemError::WarpActor { kernel, .. } if kernel == "collect"),
        "{err}"
    );
    assert!(err.to_string().contains("Placement::Block"), "{err}");
    let err = compose_system_tiered("rk_system_test", &collect, K2kTier::Cluster).unwrap_err();
    assert!(matches!(err, SystemError::WarpActor { .. }), "{err}");
    let forward = [SystemRole {
        output: &output,
        kernel: "forward",
    }];
    let err = compose_system_tiered("rk_system_test", &forward, K2kTier::Block).unwrap_err();
    assert_eq!(
        err,
        SystemError::NotWarpActor {
            kernel: "forward".into()
        }
    );
}

/// A block-placed system of some of a module's warp actors: its slice is
/// sized for its roles (drain and flood), smaller than the other handlers'
/// (forward, collect, picky: larger batches). Those never run in it (their
/// entries are not launched), so they must not stop it compiling: they are
/// refused at start instead (the loop's geometry check, `fits`). What the
/// GPU's try_send tests under `Placement::Block` compile.
#[test]
fn a_block_system_of_some_handlers_compiles_beside_larger_ones() {
    let warp = HANDLERS.replace(
        "#[ring_kernel(block_size = 32)]",
        "#[ring_kernel(warps = 1)]",
    );
    let output = transpile(&warp);
    let roles = [
        SystemRole {
            output: &output,
            kernel: "drain",
        },
        SystemRole {
            output: &output,
            kernel: "flood",
        },
    ];
    let system =
        compose_system_tiered("rk_block_system_drain_flood", &roles, K2kTier::Block).unwrap();
    let all_largest = output
        .kernels
        .iter()
        .filter_map(|k| k.actor)
        .map(|abi| abi.staging_bytes(abi.batch))
        .max()
        .unwrap();
    assert!(
        system.warp_stride < all_largest,
        "the roles' slice ({}) is smaller than the module's largest ({all_largest})",
        system.warp_stride
    );
    assemble_without_spills(&system, "rk_block_system_drain_flood");
}

/// The block-placed system kernel: every handler of the suite as a warp
/// actor (`warps = 1`), inboxes in the block's shared memory
/// (`RK_ACTOR_K2K_BLOCK`, the common slice `RK_ACTOR_WARP_STRIDE`), an
/// entry that dispatches each warp on its actor's role. Assembled for
/// sm_90 with no spills; the PTX has no cluster machinery and no
/// DSMEM, and its only block barriers are the start barrier (at most two
/// per function: a warp's loop, or an absent warp), never the loop's; no
/// `__syncthreads_or` (try_send votes in the warp). Each role's loop is out
/// of line (`rk_actor_role`).
#[test]
fn the_block_system_kernel_of_warp_actors_composes_compiles_and_assembles() {
    let warp = HANDLERS.replace(
        "#[ring_kernel(block_size = 32)]",
        "#[ring_kernel(warps = 1)]",
    );
    let output = transpile(&warp);
    let names = ["collect", "forward", "flood", "drain"];
    let roles: Vec<SystemRole<'_>> = names
        .iter()
        .map(|kernel| SystemRole {
            output: &output,
            kernel,
        })
        .collect();
    let system = compose_system_tiered("rk_block_system_test", &roles, K2kTier::Block).unwrap();
    assert!(system.source.contains("#define RK_ACTOR_K2K_BLOCK 1"));
    let largest = output
        .kernels
        .iter()
        .filter(|k| names.contains(&k.name.as_str()))
        .filter_map(|k| k.actor)
        .map(|abi| abi.staging_bytes(abi.batch))
        .max()
        .unwrap();
    assert_eq!(system.warp_stride, largest);
    assert!(system
        .source
        .contains(&format!("#define RK_ACTOR_WARP_STRIDE {largest}ull")));
    assert!(system.source.contains("__launch_bounds__(256, 4)"));
    assert!(system
        .source
        .contains("switch (actors[blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5)].role)"));
    // Sends and try_sends are the warp's.
    assert!(system.source.contains("rk_actor_send_warp("));
    assert!(system.source.contains("rk_actor_try_send_warp("));
    assert!(!system.source.contains("rk_actor_send(__rk_f"));
    insta::assert_snapshot!("k2k_block_system", system.source);
    if let Some(ptx) = assemble_without_spills(&system, "rk_block_system_test") {
        assert!(!ptx.contains("mapa"), "no DSMEM in one block");
        assert!(!ptx.contains("barrier.cluster"), "no cluster barriers");
        // The start barrier (a warp with an actor meets it in its loop, one
        // without in rk_actor_block_absent): at most two block barriers in
        // any function of the PTX, where a block-wide loop has one per
        // stage (B1..B5 and more).
        let mut per_function: Vec<(String, usize)> = Vec::new();
        for line in ptx.lines().map(str::trim) {
            if line.contains(".entry ") || line.contains(".func ") {
                per_function.push((line.to_string(), 0));
            } else if line.starts_with("bar.sync") || line.starts_with("barrier.sync") {
                per_function.last_mut().expect("inside a function").1 += 1;
            }
        }
        assert!(
            per_function.iter().any(|(_, n)| *n > 0),
            "the start barrier is there"
        );
        for (function, n) in &per_function {
            assert!(*n <= 2, "{n} block barriers in {function}");
        }
        assert!(
            !ptx.contains("bar.red"),
            "no __syncthreads_or: try_send votes in the warp"
        );
    }
}
