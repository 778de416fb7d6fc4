//! NVRTC cold-compile time of the benchmark's four actor modules, on the
//! CPU (no GPU needed): each module is the exact CUDA the runtime compiles
//! (`CudaSource::for_kernel`: the transpiled handler, `rk_actor.cuh` and the
//! device library's headers, the back end's required options), compiled by
//! NVRTC to a cubin for sm_90 (ptxas inside NVRTC) with no cache, as the
//! benchmark's cold load does. Prints the median of `--runs` compiles per
//! module (NVRTC's wall time, and the process's CPU time, which other work
//! on a shared machine disturbs less), then NVRTC's own phase split (`--time`) of one more compile, and
//! the sm_90 registers and spills of the kernel (ptxas -v on the PTX).
//!
//! ```text
//! RINGKERNEL_CUDA_ROOT=.tools/python/nvidia/cu13 \
//!     cargo run --release -p ringkernel-runtime --example nvrtc_cold -- [--runs 5] \
//!     [--live | --tree ROOT] [--extra OPTION]... [--drop OPTION]... [--dump DIR] [--only NAME] \
//!     [--line-info] [--once]
//! ```
//! `--live` reads `rk_actor*.cuh`, `rk_rust.cuh` and `device-lib/cuda/*.cuh`
//! from this source tree at run time instead of the copies compiled into
//! the crates (to measure a header edit without rebuilding); `--tree ROOT`
//! reads them from `ROOT/transpiler/cuda` and `ROOT/device-lib/cuda`, e.g.
//! another commit's headers (`git archive C transpiler/cuda device-lib/cuda
//! | tar -x -C ROOT`; valid while the back end's output for one handler
//! is the same at both commits); `--extra` appends an NVRTC option,
//! `--drop` removes one of the back end's (`--drop --minimal` measures
//! without the speed option, as before it was added);
//! `--dump` writes each module's source, headers and PTX; `--line-info`
//! compiles with NVRTC's line information, as the runtime does with
//! `RINGKERNEL_LINE_INFO=1` (off by default: it costs cold-compile time).
//!
//! `--once` compiles each module exactly once to its cubin and prints
//! nothing else (no `--time` compile, no PTX, no ptxas): the process then
//! does the same work on every run, so the count of the instructions it
//! executes is an A/B of a header edit that moves by less than 0.1%
//! between runs (guard: 2311-2312 M), where wall and CPU time on a shared
//! machine move by 10% (the transpile before it is the same on both sides):
//!
//! ```text
//! valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
//!     target/release/examples/nvrtc_cold --live --once --only guard
//! ```
//! (`I refs`; perf counters need not exist on a shared or virtual machine.)

use std::path::{Path, PathBuf};
use std::time::Instant;

use ringkernel_runtime::{
    Arch, Compiler, CudaSource, ImageOrigin, KernelSource, SourceKind, SourceText, Target,
};

const MODULES: [(&str, &str, &str); 4] = [
    (
        "echo64",
        "runtime/benches/ringkernel/echo64.rs",
        include_str!("../benches/ringkernel/echo64.rs"),
    ),
    (
        "digest1k",
        "runtime/benches/ringkernel/digest1k.rs",
        include_str!("../benches/ringkernel/digest1k.rs"),
    ),
    (
        "guard",
        "runtime/benches/ringkernel/guard.rs",
        include_str!("../benches/ringkernel/guard.rs"),
    ),
    (
        "score",
        "transpiler/benches/data/handler_100_lines.rs",
        include_str!("../../transpiler/benches/data/handler_100_lines.rs"),
    ),
];

struct Args {
    runs: usize,
    /// Read the headers from this tree (`--live`: this repository).
    tree: Option<PathBuf>,
    extra: Vec<String>,
    drop: Vec<String>,
    dump: Option<PathBuf>,
    only: Option<String>,
    line_info: bool,
    once: bool,
}

fn args() -> Args {
    let mut a = Args {
        runs: 5,
        tree: None,
        extra: Vec::new(),
        drop: Vec::new(),
        dump: None,
        only: None,
        line_info: false,
        once: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().unwrap_or_else(|| panic!("{name} needs a value"));
        match arg.as_str() {
            "--runs" => a.runs = value("--runs").parse().expect("--runs N"),
            "--live" => a.tree = Some(repo()),
            "--tree" => a.tree = Some(value("--tree").into()),
            "--extra" => a.extra.push(value("--extra")),
            "--drop" => a.drop.push(value("--drop")),
            "--dump" => a.dump = Some(value("--dump").into()),
            "--only" => a.only = Some(value("--only")),
            "--line-info" => a.line_info = true,
            "--once" => a.once = true,
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// The repository root (this file is `runtime/examples/nvrtc_cold.rs`).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// `headers` with each one re-read from the tree at `root`.
fn tree_headers(headers: &mut [(String, String)], root: &Path) {
    for (name, text) in headers.iter_mut() {
        let candidates = [
            root.join("transpiler/cuda").join(&*name),
            root.join("device-lib/cuda").join(&*name),
        ];
        let path = candidates
            .iter()
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("no source file for header {name}"));
        *text = std::fs::read_to_string(path).expect("header readable");
    }
}

/// The process's CPU time (every thread), in seconds: less disturbed than
/// wall time by other work on a shared machine.
#[cfg(target_os = "linux")]
fn cpu_seconds() -> f64 {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    let mut t = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `t` is a valid out-pointer for the call.
    let rc = unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime");
    t.sec as f64 + t.nsec as f64 * 1e-9
}

#[cfg(not(target_os = "linux"))]
fn cpu_seconds() -> f64 {
    f64::NAN
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// NVRTC's `--time` CSV (`File name, phase name, metric, unit` with the
/// unit `ms`): (phase, milliseconds) rows.
fn phases(csv: &str) -> Vec<(String, f64)> {
    let mut lines = csv.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let phase_col = cols.iter().position(|c| c.contains("phase"));
    let ms_col = cols.iter().position(|c| *c == "metric");
    let (Some(p), Some(m)) = (phase_col, ms_col) else {
        return vec![("unparsed".into(), f64::NAN)];
    };
    lines
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            Some((f.get(p)?.to_string(), f.get(m)?.parse().ok()?))
        })
        .collect()
}

/// Module `name`'s CUDA source as the runtime compiles it, with the
/// headers, extra and dropped options of `args`.
fn module_source(args: &Args, name: &str, file: &str, text: &str) -> CudaSource {
    let kernel = KernelSource {
        name: name.into(),
        kind: SourceKind::RingKernel,
        items: vec![SourceText::whole_file(file, text)],
        layouts: Vec::new(),
        overflow_checks: true,
    };
    let mut src = CudaSource::for_kernel(&kernel).expect("transpiles");
    if let Some(root) = &args.tree {
        tree_headers(&mut src.headers, root);
    }
    src.options.retain(|o| !args.drop.contains(o));
    src.options.extend(args.extra.iter().cloned());
    src
}

fn main() {
    let args = args();
    let compiler = Compiler::without_cache().line_info(args.line_info);
    let target = Target::Cubin(Arch::SM_90);
    if args.once {
        for (name, file, text) in MODULES {
            if args.only.as_deref().is_none_or(|o| o == name) {
                let src = module_source(&args, name, file, text);
                std::hint::black_box(compiler.compile(&src, target).expect("compiles"));
            }
        }
        return;
    }
    let tools = ringkernel_toolchain::CudaTools::locate().expect("NVRTC (RINGKERNEL_CUDA_ROOT)");
    let (major, minor) = tools.nvrtc_version();
    println!(
        "NVRTC {major}.{minor}, cubin sm_90, {} runs per module, headers from: {}, extra: {:?}, dropped: {:?}, line info: {}",
        args.runs,
        args.tree
            .as_ref()
            .map_or("the crates".to_string(), |t| t.display().to_string()),
        args.extra,
        args.drop,
        args.line_info
    );
    println!(
        "| module | median s | min s | max s | CPU median s | CPU min s | phases of one more compile (ms) | regs | spill st/ld |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, file, text) in MODULES {
        if args.only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let src = module_source(&args, name, file, text);
        if let Some(dir) = &args.dump {
            let d = dir.join(name);
            std::fs::create_dir_all(&d).expect("dump folder");
            std::fs::write(d.join(src.program_name()), &src.source).expect("dump");
            for (h, t) in &src.headers {
                std::fs::write(d.join(h), t).expect("dump");
            }
            std::fs::write(d.join("options.txt"), src.options.join("\n")).expect("dump");
        }
        let mut times = Vec::new();
        let mut cpu = Vec::new();
        for _ in 0..args.runs {
            let c0 = cpu_seconds();
            let t0 = Instant::now();
            let image = compiler.compile(&src, target).expect("compiles");
            let wall = t0.elapsed().as_secs_f64();
            cpu.push(cpu_seconds() - c0);
            match image.origin {
                ImageOrigin::Nvrtc { elapsed } => times.push(elapsed.as_secs_f64()),
                ImageOrigin::DiskCache => unreachable!("no cache"),
            }
            std::hint::black_box((image, wall));
        }
        // One more compile with NVRTC's phase timing.
        let csv_path =
            std::env::temp_dir().join(format!("nvrtc-cold-{}-{name}.csv", std::process::id()));
        let _ = std::fs::remove_file(&csv_path);
        let mut timed = src.clone();
        timed.options.push(format!("--time={}", csv_path.display()));
        compiler
            .compile(&timed, target)
            .expect("compiles with --time");
        let csv = std::fs::read_to_string(&csv_path).unwrap_or_default();
        let _ = std::fs::remove_file(&csv_path);
        let split: Vec<String> = phases(&csv)
            .iter()
            .map(|(p, ms)| {
                let short = match p.as_str() {
                    "CUDA C++ Frontend" => "front",
                    "NVVM Optimizer" => "nvvm",
                    "PTX Translation" => "ptxas",
                    other => other,
                };
                format!("{short} {ms:.0}")
            })
            .collect();
        // Registers and spills: the same source to PTX, then ptxas -v.
        let ptx = compiler
            .compile(&src, Target::Ptx(Arch::SM_90))
            .expect("PTX");
        let ptx = String::from_utf8(ptx.image).expect("PTX text");
        if let Some(dir) = &args.dump {
            std::fs::write(dir.join(name).join(format!("{name}.ptx")), &ptx).expect("dump");
        }
        let report =
            ringkernel_toolchain::assemble(tools.ptxas().expect("ptxas"), &ptx, Arch::SM_90)
                .expect("assembles");
        let entry = report
            .functions
            .iter()
            .find(|f| f.entry)
            .expect("an entry point");
        let cpu_min = cpu.iter().copied().fold(f64::INFINITY, f64::min);
        let (min, max) = (
            times.iter().copied().fold(f64::INFINITY, f64::min),
            times.iter().copied().fold(0.0, f64::max),
        );
        println!(
            "| {name} | {:.3} | {min:.3} | {max:.3} | {:.3} | {cpu_min:.3} | {} | {} | {}/{} |",
            median(&mut times),
            median(&mut cpu),
            split.join(", "),
            entry.registers,
            entry.spill_store_bytes,
            entry.spill_load_bytes,
        );
    }
}
