//! The macros end to end: kernels and actors defined with the attributes
//! and derives (in `tests/kernels/`), their CUDA against the transpiler run
//! on the same files (one front end, byte-identical output), pinned by
//! snapshots and compiled by NVRTC; positions (`#line`, fault locations) at
//! the user's real lines; launches and actors on the CPU backend; the
//! layouts the derives record against rustc's.

// The kernels are DESIGN.md §2's, verbatim.
#![allow(clippy::manual_clamp, clippy::assign_op_pattern)]

use std::path::Path;

use ringkernel::prelude::*;
use ringkernel::transpiler::back::cuda;
use ringkernel::transpiler::front::rust::Options;
use ringkernel::transpiler::pipeline::{self, Transpiled};
use ringkernel::transpiler::source::{KernelSource, SourceKind};

#[path = "kernels/blur.rs"]
mod blur;
#[path = "kernels/echo.rs"]
mod echo;
#[path = "kernels/particles.rs"]
mod particles;
#[path = "kernels/saturate.rs"]
mod saturate;
#[path = "kernels/saxpy.rs"]
mod saxpy;
#[path = "kernels/store.rs"]
mod store;
#[path = "kernels/summer.rs"]
mod summer;

/// The transpiler on a whole file of `tests/kernels/`, as the CLI and the
/// build helper run it.
/// `file` transpiled whole, with Rust's overflow checks on or off as the
/// macros recorded them for this build (`KernelSource::overflow_checks`:
/// off in a release build of the tests, as rustc's are).
fn transpile_file(file: &str, overflow_checks: bool) -> Transpiled {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let source = std::fs::read_to_string(&path).unwrap();
    pipeline::transpile_source(
        &source,
        &Options {
            source_file: Some(file.into()),
            overflow_checks,
            ..Options::default()
        },
        &cuda::Options::default(),
    )
    .unwrap_or_else(|e| panic!("{}", e.render(file, &source)))
}

fn line_of(file: &str, needle: &str) -> u32 {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let source = std::fs::read_to_string(path).unwrap();
    source
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in {file}")) as u32
        + 1
}

/// Every macro-defined kernel (each alone in its file, with its callees and
/// types), its description and its CUDA.
fn kernels() -> Vec<(&'static str, &'static KernelSource, String)> {
    vec![
        ("saxpy", saxpy::saxpy::kernel(), saxpy::saxpy::cuda_source()),
        (
            "saturate",
            saturate::saturate::kernel(),
            saturate::saturate::cuda_source(),
        ),
        (
            "summer",
            summer::summer::kernel(),
            summer::summer::cuda_source(),
        ),
        (
            "simulate",
            particles::simulate::kernel(),
            particles::simulate::cuda_source(),
        ),
        ("echo", echo::echo::kernel(), echo::echo::cuda_source()),
        ("store", store::store::kernel(), store::store::cuda_source()),
        ("blur", blur::blur::kernel(), blur::blur::cuda_source()),
    ]
}

#[test]
fn cuda_source_is_the_transpilers_output_for_the_same_file() {
    for (name, kernel, cuda) in kernels() {
        let file = &kernel.items[0].file;
        assert!(
            file.starts_with("tests/kernels/"),
            "{name}: file!() gave {file}"
        );
        let whole = transpile_file(file, kernel.overflow_checks);
        assert_eq!(whole.cuda.kernels.len(), 1, "{file}: one kernel per file");
        assert_eq!(
            cuda, whole.cuda.source,
            "{name}: macro and file CUDA differ"
        );
        // The snapshots are of the debug build's CUDA (Rust's overflow
        // checks on); a release build of the tests has none to compare.
        if kernel.overflow_checks {
            insta::assert_snapshot!(name, cuda);
        }
    }
}

#[test]
fn every_macro_kernel_compiles_with_nvrtc() {
    use ringkernel_toolchain::{compile, require_nvrtc, Arch, CompileOptions, Target};
    let Some(_tools) = require_nvrtc("macros") else {
        return;
    };
    let include = std::env::temp_dir().join(format!("ringkernel-macros-{}", std::process::id()));
    std::fs::create_dir_all(&include).unwrap();
    for (name, kernel, cuda) in kernels() {
        let out = kernel.transpile().unwrap();
        for header in &out.cuda.headers {
            std::fs::write(include.join(header.name), header.contents).unwrap();
        }
        let mut options = CompileOptions::new(Target::Ptx(Arch::SM_90));
        options.include_dirs.push(include.display().to_string());
        options.extra = out.cuda.nvrtc_options.clone();
        compile(&format!("{name}.cu"), &cuda, &options)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{cuda}"));
    }
}

#[test]
fn kernel_text_is_the_users_text_at_its_place() {
    // Every token at its line and column: the function's lines of the file
    // (they have no comments) are the padded text's.
    for kernel in [
        saxpy::saxpy::kernel(),
        particles::simulate::kernel(),
        blur::blur::kernel(),
    ] {
        for item in &kernel.items {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(&item.file);
            let file = std::fs::read_to_string(path).unwrap();
            let padded = item.padded();
            let first = item.line as usize - 1;
            let lines: Vec<&str> = padded.lines().skip(first).collect();
            let original: Vec<&str> = file.lines().skip(first).take(lines.len()).collect();
            assert_eq!(lines, original, "{}", item.text);
        }
    }
}

#[test]
fn kernel_sources_carry_callees_layouts_and_attributes() {
    let k = saturate::saturate::kernel();
    let names: Vec<&str> = k
        .items
        .iter()
        .map(|t| t.text.split('(').next().unwrap())
        .collect();
    assert_eq!(names, ["pub fn saturate", "pub fn clamp01"]);
    assert_eq!(k.items[0].attr, "#[gpu_kernel(block_size = 128)]");
    assert_eq!(k.items[1].attr, "#[device_fn]");
    assert!(k.layouts.is_empty());
    // Callees of callees, each once; nested layouts reachable from their
    // parents, in declaration order.
    let k = particles::simulate::kernel();
    let names: Vec<&str> = k
        .items
        .iter()
        .map(|t| t.text.split('(').next().unwrap())
        .collect();
    assert_eq!(names, ["pub fn simulate", "pub fn step", "pub fn advance"]);
    let layouts: Vec<&str> = k.layouts.iter().map(|l| l.name).collect();
    assert_eq!(layouts, ["Vec2", "Particle"]);
    let k = summer::summer::kernel();
    let layouts: Vec<&str> = k.layouts.iter().map(|l| l.name).collect();
    assert_eq!(layouts, ["Request", "Response", "Stats"]);
    assert_eq!(k.kind, SourceKind::RingKernel);
    // `name = "..."` names the entry point.
    assert_eq!(blur::blur::kernel().name, "box_blur_3x3");
    let out = blur::blur::kernel().transpile().unwrap();
    assert_eq!(out.cuda.kernels[0].symbol, "box_blur_3x3");
    assert_eq!(out.cuda.kernels[0].block, [16, 16, 1]);
    // `kernel()` is built once.
    assert!(std::ptr::eq(
        summer::summer::kernel(),
        summer::summer::kernel()
    ));
}

#[test]
fn line_directives_and_faults_point_at_the_users_lines() {
    let file = "tests/kernels/saxpy.rs";
    let cuda = saxpy::saxpy::cuda_source();
    let line = line_of(file, "y[i] = a * x[i] + y[i];");
    assert!(cuda.contains(&format!("#line {line} \"{file}\"")), "{cuda}");
    let file = "tests/kernels/saturate.rs";
    let line = line_of(file, "pub fn clamp01");
    assert!(saturate::saturate::cuda_source().contains(&format!("#line {line} \"{file}\"")));

    // A run that faults (x is shorter than y) reports the real line and
    // column, on the CPU backend.
    let file = "tests/kernels/saxpy.rs";
    let rt = Runtime::cpu();
    let x = rt.upload(&[1.0f32; 8]).unwrap();
    let mut y = rt.upload(&[0.0f32; 16]).unwrap();
    let err = saxpy::saxpy::launch(&rt, Grid::for_elements(16), 2.0, &x, &mut y).unwrap_err();
    let source_line = "    y[i] = a * x[i] + y[i];";
    let column = source_line.find("x[i]").unwrap() + 1;
    let at = format!("{file}:{}:{column}", line_of(file, source_line.trim()));
    assert!(err.to_string().contains(&at), "expected {at} in: {err}");
}

#[test]
fn launches_run_on_the_cpu_backend() {
    let rt = Runtime::cpu();
    let n = 300;
    let xs: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let x = rt.upload(&xs).unwrap();
    let mut y = rt.upload(&vec![1.0f32; n]).unwrap();
    saxpy::saxpy::launch(&rt, Grid::for_elements(n), 0.5, &x, &mut y).unwrap();
    saturate::saturate::launch(&rt, Grid::for_elements(n), &mut y).unwrap();
    let expected: Vec<f32> = xs.iter().map(|&x| (0.5 * x + 1.0).min(1.0)).collect();
    assert_eq!(y.to_vec().unwrap(), expected);

    use particles::{Particle, Vec2};
    let start = Particle {
        pos: Vec2 { x: 0.0, y: 1.0 },
        vel: Vec2 { x: 2.0, y: -1.0 },
        alive: 1,
        age: 0,
    };
    let mut ps = rt.upload(&[start, Particle { alive: 0, ..start }]).unwrap();
    particles::simulate::launch(&rt, Grid::for_elements(2), 0.5, &mut ps).unwrap();
    let out = ps.to_vec().unwrap();
    assert_eq!(out[0].pos, Vec2 { x: 1.0, y: 0.5 });
    assert_eq!(out[0].age, 1);
    assert_eq!(out[1], Particle { alive: 0, ..start });
}

#[test]
fn actors_spawn_and_answer_on_the_cpu_backend() {
    use summer::{Request, Response, Stats};
    let rt = Runtime::cpu();
    let actor = summer::summer::spawn(&rt, SpawnOptions::default()).unwrap();
    let r: Response = actor
        .call(&Request {
            id: 7,
            values: [1.0; 64],
        })
        .unwrap();
    assert_eq!(r, Response { id: 7, sum: 64.0 });
    let s: Stats = actor.state().unwrap();
    assert_eq!((s.count, s.total), (1, 64.0));
    actor.stop().unwrap();

    let actor = summer::summer::spawn_with_state(
        &rt,
        Stats {
            count: 10,
            total: 0.5,
        },
        SpawnOptions::default(),
    )
    .unwrap();
    actor
        .call(&Request {
            id: 1,
            values: [0.25; 64],
        })
        .unwrap();
    assert_eq!(actor.state().unwrap().count, 11);
    actor.stop().unwrap();

    use echo::{Ping, Pong};
    use store::{Put, Table};
    let echo = echo::echo::spawn(&rt, SpawnOptions::default()).unwrap();
    let pong: Pong = echo
        .call(&Ping {
            seq: 3,
            payload: [2; 12],
        })
        .unwrap();
    assert_eq!((pong.seq, pong.checksum), (3, 24));
    echo.stop().unwrap();

    let store = store::store::spawn(&rt, SpawnOptions::default()).unwrap();
    store.send(&Put { index: 9, value: 5 }).unwrap();
    store.send(&Put { index: 2, value: 6 }).unwrap();
    store.stop().unwrap();
    let table: Table = store.state().unwrap();
    assert_eq!((table.cells[1], table.cells[2], table.writes), (5, 6, 2));
}

#[test]
fn derives_record_rustcs_layouts_and_type_ids() {
    use ringkernel::device::layout::{type_id_of, FieldType, ScalarKind};
    let l = <summer::Stats as GpuType>::LAYOUT;
    assert_eq!((l.name, l.size, l.align), ("Stats", 16, 8));
    assert_eq!(l.path, "macros::summer::Stats");
    assert_eq!(
        (l.file, l.line),
        (
            "tests/kernels/summer.rs",
            line_of("tests/kernels/summer.rs", "pub struct Stats")
        )
    );
    assert_eq!(l.fields[1].offset, 8);
    assert_eq!(l.fields[1].ty, FieldType::Scalar(ScalarKind::F32));
    let p = <particles::Particle as GpuType>::LAYOUT;
    assert_eq!(
        p.fields[1].ty,
        FieldType::Struct(<particles::Vec2 as GpuType>::LAYOUT)
    );
    assert_eq!(
        p.with_nested().iter().map(|l| l.name).collect::<Vec<_>>(),
        ["Vec2", "Particle"]
    );
    assert_eq!(
        <summer::Request as RingMessage>::TYPE_ID,
        type_id_of("macros::summer::Request")
    );
    assert_eq!(<echo::Ping as RingMessage>::TYPE_ID, 0x5049_4e47);
    // The type aliases of the actor module.
    let _: summer::summer::State = Stats::default();
    use summer::Stats;
}

/// An error only the whole kernel shows (the method's receiver type comes
/// from a struct layout, unknown at macro time): reported when the kernel is
/// transpiled, at the user's file, line and column, with the source line.
mod late_error {
    use ringkernel::prelude::*;

    #[derive(Clone, Copy, GpuType)]
    #[repr(C)]
    pub struct Angle {
        pub radians: f32,
    }

    #[gpu_kernel]
    pub fn degrees(ctx: &ThreadContext, a: &[Angle], out: &mut [f32]) {
        let i = ctx.global_id() as usize;
        out[i] = a[i].radians.to_degrees();
    }
}

#[test]
fn transpile_errors_render_at_the_users_line() {
    let kernel = late_error::degrees::kernel();
    let error = kernel.transpile().unwrap_err();
    let report = kernel.render_error(&error);
    let line = line_of("tests/macros.rs", "out[i] = a[i].radians.to_degrees();");
    let column = "        out[i] = a[i].radians.".len() + 1;
    let at = format!("--> tests/macros.rs:{line}:{column}");
    assert!(report.contains(&at), "expected {at} in:\n{report}");
    assert!(
        report.contains("no method `to_degrees` on type `f32`"),
        "{report}"
    );
    assert!(
        report.contains("out[i] = a[i].radians.to_degrees();"),
        "{report}"
    );
    // The runtime and `cuda_source()` report the same.
    let rt = Runtime::cpu();
    let a = rt.upload(&[late_error::Angle { radians: 1.0 }]).unwrap();
    let mut out = rt.upload(&[0.0f32]).unwrap();
    let err = late_error::degrees::launch(&rt, Grid::d1(1), &a, &mut out).unwrap_err();
    assert!(
        format!("{err:?}").contains(&format!("tests/macros.rs:{line}:{column}")),
        "{err:?}"
    );
    let panic = std::panic::catch_unwind(late_error::degrees::cuda_source).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains(&at), "{message}");
}

/// `DeviceCopy` (byte-for-byte buffers) only for padding-free structs.
#[test]
fn padding_free_structs_are_device_copy() {
    fn device_copy<T: DeviceCopy>() {}
    device_copy::<particles::Particle>();
    device_copy::<summer::Request>();
    device_copy::<[store::Put; 4]>();
    // `Stats` (u64 + f32 + 4 bytes of padding) is not: see the trybuild
    // case `padded_struct_in_buffer`.
}

/// The launches and actors above on a real GPU, against the CPU backend.
/// `#[ignore]`d (no GPU in CI); on the GPU machine run with
/// `--include-ignored` and `RINGKERNEL_REQUIRE_GPU=1`.
#[test]
#[ignore = "needs a GPU"]
fn gpu_launches_and_actors_match_the_cpu_backend() {
    use ringkernel::runtime::testing::gpu_runtime;
    let Some(gpu) = gpu_runtime("macros_gpu") else {
        return;
    };
    let cpu = Runtime::cpu();
    let n = 10_000;
    let xs: Vec<f32> = (0..n).map(|i| (i as f32) * 0.001 - 3.0).collect();
    let run = |rt: &Runtime| {
        let x = rt.upload(&xs).unwrap();
        let mut y = rt.upload(&vec![0.25f32; n]).unwrap();
        saxpy::saxpy::launch(rt, Grid::for_elements(n), 1.5, &x, &mut y).unwrap();
        saturate::saturate::launch(rt, Grid::for_elements(n), &mut y).unwrap();
        let (w, h) = (97u32, 61u32);
        let img: Vec<f32> = (0..w * h).map(|i| (i % 13) as f32).collect();
        let input = rt.upload(&img).unwrap();
        let mut output = rt.upload(&vec![0.0f32; img.len()]).unwrap();
        blur::blur::launch(rt, Grid::d2(w, h), w, h, &input, &mut output).unwrap();
        (y.to_vec().unwrap(), output.to_vec().unwrap())
    };
    assert_eq!(run(&gpu), run(&cpu));

    // A fault on the GPU carries the same Rust location as on the CPU.
    let fault = |rt: &Runtime| {
        let x = rt.upload(&[1.0f32; 8]).unwrap();
        let mut y = rt.upload(&[0.0f32; 16]).unwrap();
        saxpy::saxpy::launch(rt, Grid::for_elements(16), 2.0, &x, &mut y)
            .unwrap_err()
            .to_string()
    };
    let (on_gpu, on_cpu) = (fault(&gpu), fault(&cpu));
    let at = format!(
        "tests/kernels/saxpy.rs:{}:",
        line_of("tests/kernels/saxpy.rs", "y[i] = a * x[i] + y[i];")
    );
    assert!(
        on_gpu.contains(&at) && on_cpu.contains(&at),
        "GPU: {on_gpu}\nCPU: {on_cpu}"
    );

    for rt in [&gpu, &cpu] {
        let actor = summer::summer::spawn(rt, SpawnOptions::default()).unwrap();
        for id in 0..100 {
            let values = std::array::from_fn(|i| (i as f32) * 0.5 + id as f32);
            let r = actor.call(&summer::Request { id, values }).unwrap();
            let expected: f32 = values.iter().sum();
            assert_eq!((r.id, r.sum), (id, expected), "{}", rt.backend());
        }
        assert_eq!(actor.state().unwrap().count, 100);
        actor.stop().unwrap();

        let echoes = echo::echo::spawn_many(rt, 4, SpawnOptions::default()).unwrap();
        for (i, e) in echoes.iter().enumerate() {
            let pong = e
                .call(&echo::Ping {
                    seq: i as u64,
                    payload: [i as u32; 12],
                })
                .unwrap();
            assert_eq!(
                (pong.seq, pong.checksum, pong.actor),
                (i as u64, 12 * i as u32, i as u32)
            );
        }
        for e in &echoes {
            e.stop().unwrap();
        }
    }
}

/// `spawn` starts an actor from its state's `Default` when it has one
/// (DESIGN §2), and from all zeroes otherwise (`store`'s `Table` below has
/// a derived, all-zero `Default`; `Tally` a hand-written one).
mod default_state {
    use ringkernel::prelude::*;

    #[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
    #[repr(C)]
    pub struct Bump {
        pub by: u32,
    }

    #[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
    #[repr(C)]
    pub struct Tally {
        pub total: u32,
        pub bumps: u32,
    }

    impl Default for Tally {
        fn default() -> Self {
            Tally {
                total: 1000,
                bumps: 0,
            }
        }
    }

    #[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
    #[repr(C)]
    pub struct NoDefault {
        pub total: u32,
    }

    #[ring_kernel(block_size = 32)]
    pub fn tally(ctx: &RingContext, state: &mut Tally, msg: &Bump) -> Tally {
        if ctx.is_leader() {
            state.total += msg.by;
            state.bumps += 1;
        }
        ctx.sync_threads();
        *state
    }

    #[ring_kernel(block_size = 32)]
    pub fn plain(ctx: &RingContext, state: &mut NoDefault, msg: &Bump) -> NoDefault {
        if ctx.is_leader() {
            state.total += msg.by;
        }
        ctx.sync_threads();
        *state
    }

    #[test]
    fn spawn_starts_from_default_or_zero() {
        let rt = Runtime::cpu();
        let a = tally::spawn(&rt, SpawnOptions::default()).unwrap();
        assert_eq!(a.state().unwrap(), Tally::default());
        assert_eq!(
            a.call(&Bump { by: 5 }).unwrap(),
            Tally {
                total: 1005,
                bumps: 1
            }
        );
        a.stop().unwrap();
        let b = plain::spawn(&rt, SpawnOptions::default()).unwrap();
        assert_eq!(b.call(&Bump { by: 5 }).unwrap(), NoDefault { total: 5 });
        b.stop().unwrap();
    }
}
