//! The benchmark's GPU code (`benches/ringkernel`) is checked here, in CI,
//! where the benchmark itself never runs: its actors transpile with the
//! schedules the benchmark describes, and every module it loads (the actor
//! modules and the hand-written baselines) compiles with NVRTC and
//! assembles for sm_90 without spills. The actor loop's fallback below
//! sm_80 (no cp.async) is compiled for sm_75 as well.

use ringkernel_runtime::{Compiler, CudaSource, KernelSource, SourceKind, SourceText};
use ringkernel_toolchain::{assemble, require_nvrtc, Arch, Target};
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
fn compile(src: &CudaSource, arch: Arch) {
    let compiler = Compiler::without_cache();
    let image = compiler
        .compile(src, Target::Ptx(arch))
        .unwrap_or_else(|e| panic!("{}: {e}", src.name));
    // Warnings in generated code are the snapshot tests' business; the
    // benchmark only needs the modules to build.
    if !image.log.is_empty() {
        eprintln!("{} (sm_{}): NVRTC log:\n{}", src.name, arch.0, image.log);
    }
    if arch != Arch::SM_90 {
        return;
    }
    let tools = ringkernel_toolchain::CudaTools::locate().expect("located by require_nvrtc");
    let ptx = String::from_utf8(image.image).expect("PTX is text");
    let report = assemble(tools.ptxas().expect("ptxas"), &ptx, arch)
        .unwrap_or_else(|e| panic!("{}: {e}", src.name));
    let spilling: Vec<_> = report.spilling().collect();
    assert!(spilling.is_empty(), "{}: spills: {spilling:?}", src.name);
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
    compile(&src, Arch::SM_90);
}

/// `--minimal` (the back end's speed option) changes NVRTC's time, never
/// its output: each actor module's PTX, and one module's cubin, are the
/// same bytes with and without it. And the actor loop's cold dead-letter
/// path is one function of its own, not a copy inlined at each caller
/// (what kept the cold compile under its bar; BENCHMARKS.md).
#[test]
fn speed_options_change_no_output_and_the_dead_letter_is_out_of_line() {
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
        let ptx = compiler
            .compile(&with, Target::Ptx(Arch::SM_90))
            .expect("compiles")
            .image;
        let ptx = String::from_utf8(ptx).expect("PTX is text");
        let dead_letter_defs = ptx
            .lines()
            .filter(|l| l.starts_with(".func") && l.contains("rk_actor_dead_letter"))
            .count();
        // Inlined, it has no `.func` of its own.
        assert!(
            dead_letter_defs >= 1,
            "{}: rk_actor_dead_letter is not an out-of-line function",
            kernel.name
        );
    }
}
