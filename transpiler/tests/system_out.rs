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
            "atom.acq_rel.cluster.cas.b64",
            "st.release.cluster",
            "fence.acq_rel.cluster",
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
            "mapa.u64",
            "atom.acq_rel.cluster.cas.b64",
            "st.release.cluster",
            "bar.red.or.pred",
        ] {
            assert!(
                ptx.contains(needle),
                "no `{needle}` in the cluster try_send kernel's PTX"
            );
        }
        assert!(
            !ptx.contains("atom.acq_rel.gpu.cas"),
            "a gpu-scoped CAS is left"
        );
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

/// Warp actors are not composed into systems (yet): refused by name, not
/// launched with a block shape they were not written for.
#[test]
fn warp_actors_are_not_composed_into_systems() {
    let warp = HANDLERS.replace(
        "#[ring_kernel(block_size = 32)]\npub fn collect",
        "#[ring_kernel(warps = 1)]\npub fn collect",
    );
    assert_ne!(warp, HANDLERS);
    let output = transpile(&warp);
    let roles = [SystemRole {
        output: &output,
        kernel: "collect",
    }];
    let err = compose_system("rk_system_test", &roles).unwrap_err();
    assert_eq!(
        err,
        SystemError::WarpActor {
            kernel: "collect".into()
        }
    );
    assert!(err
        .to_string()
        .contains("warp actors are not composed into actor systems yet"));
}
