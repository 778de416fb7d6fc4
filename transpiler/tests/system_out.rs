//! Actor systems: the K2K test handlers (`runtime/tests/k2k_actors/
//! handlers.rs`, a forwarder that `ctx.send`s and a collector) composed into
//! one system kernel. The composed CUDA is pinned by an insta snapshot,
//! compiled by NVRTC and assembled by ptxas for sm_90 without spills; the
//! ports and wiring metadata the runtime checks connections with are
//! asserted; composing handlers of different block shapes is an error.

use ringkernel_toolchain::{assemble, compile, require_nvrtc, Arch, CompileOptions, Target};
use ringkernel_transpiler::back::cuda::system::{compose_system, SystemError, SystemRole};
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

    let Some(tools) = require_nvrtc("system_out") else {
        return;
    };
    let include =
        std::env::temp_dir().join(format!("ringkernel-system-out-{}", std::process::id()));
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
    let compiled = compile("rk_system_test.cu", &system.source, &options)
        .unwrap_or_else(|e| panic!("{e}\n--- rk_system_test.cu ---\n{}", system.source));
    let report = assemble(
        tools.ptxas().expect("ptxas"),
        compiled.ptx().unwrap(),
        Arch::SM_90,
    )
    .unwrap();
    let resources = report
        .function("rk_system_test")
        .unwrap_or_else(|| panic!("no rk_system_test in\n{}", report.raw));
    assert!(!resources.spills(), "{resources:?}");
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
