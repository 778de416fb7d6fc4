//! The whole pipeline on every `tests/in/*.rs`: front end, passes,
//! validator, CUDA back end. The CUDA is pinned by an insta snapshot per
//! input, compiled by NVRTC (compute_90, with the output's options and
//! headers) and assembled by ptxas for sm_90 without spills.

use std::path::{Path, PathBuf};

use ringkernel_toolchain::{assemble, compile, require_nvrtc, Arch, CompileOptions, Target};
use ringkernel_transpiler::back::cuda::{write_module, Options as CudaOptions, Output};
use ringkernel_transpiler::front::rust::{lower_file, Options};

fn inputs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/in");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    entries.sort();
    entries
}

fn transpile(path: &Path) -> Output {
    let source = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let mut module = lower_file(
        &source,
        &Options {
            source_file: Some(name.clone()),
            ..Options::default()
        },
    )
    .unwrap_or_else(|d| panic!("{name}:\n{}", d.render(&name, &source)));
    ringkernel_transpiler::passes::run(&mut module);
    let info = ringkernel_transpiler::valid::validate(&module)
        .unwrap_or_else(|e| panic!("{name}: invalid IR: {e}"));
    write_module(&module, &info, &CudaOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_input_transpiles_compiles_and_assembles() {
    let tools = require_nvrtc("cuda_out");
    let include = std::env::temp_dir().join(format!("ringkernel-cuda-out-{}", std::process::id()));
    for path in inputs() {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let output = transpile(&path);
        insta::assert_snapshot!(stem.clone(), output.source);
        let Some(tools) = &tools else { continue };
        std::fs::create_dir_all(&include).unwrap();
        for header in &output.headers {
            std::fs::write(include.join(header.name), header.contents).unwrap();
        }
        let mut options = CompileOptions::new(Target::Ptx(Arch::SM_90));
        options.include_dirs.push(include.display().to_string());
        options.extra = output.nvrtc_options.clone();
        let compiled = compile(&format!("{stem}.cu"), &output.source, &options)
            .unwrap_or_else(|e| panic!("{e}\n--- {stem}.cu ---\n{}", output.source));
        let ptx = compiled.ptx().unwrap();
        let report = assemble(tools.ptxas().expect("ptxas"), ptx, Arch::SM_90).unwrap();
        for kernel in &output.kernels {
            let resources = report
                .function(&kernel.symbol)
                .unwrap_or_else(|| panic!("{stem}: no {} in\n{}", kernel.symbol, report.raw));
            assert!(!resources.spills(), "{stem}: {resources:?}");
        }
    }
}

/// What the back end decides about each handler of `actors.rs`: how the
/// message loop may schedule a batch, and how many messages it stages.
#[test]
fn actor_schedules_follow_what_the_handler_can_observe() {
    use ringkernel_transpiler::back::cuda::ActorSchedule;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/in/actors.rs");
    let output = transpile(&path);
    let facts: Vec<(&str, ActorSchedule, u32)> = output
        .kernels
        .iter()
        .map(|k| {
            let abi = k.actor.expect("every entry of actors.rs is an actor");
            (k.name.as_str(), abi.schedule, abi.batch)
        })
        .collect();
    assert_eq!(
        facts,
        [
            // state and a block reduction; 260-byte messages, 8-byte replies
            ("summer", ActorSchedule::InOrder, 96),
            // a warp reduction; 56-byte messages, 32-byte replies
            ("echo", ActorSchedule::InOrder, 192),
            // state; no reply
            ("store", ActorSchedule::InOrder, 256),
            ("scale", ActorSchedule::Uniform, 256),
            ("pick", ActorSchedule::Isolated, 224),
        ]
    );
}

/// The back end marks `k2k_lone` (the leader alone runs the handler's K2K
/// messages, `rk_actor_k2k_one`) exactly the handlers one thread can run
/// for the whole block: of `lone_senders.rs`, the stateless sender with no
/// reply that reads no thread index; never one that reads its lane,
/// replies, keeps state or calls `try_send` (a block-wide call).
#[test]
fn only_handlers_one_thread_can_run_are_marked_lone() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/in/lone_senders.rs");
    let output = transpile(&path);
    let lone: Vec<(&str, bool)> = output
        .kernels
        .iter()
        .map(|k| {
            let adapter = &k.wiring.as_ref().expect("an actor").adapter;
            let start = output
                .source
                .find(&format!("struct {adapter} {{"))
                .unwrap_or_else(|| panic!("no adapter {adapter}"));
            let body = &output.source[start..start + output.source[start..].find("};").unwrap()];
            (
                k.name.as_str(),
                body.contains("static constexpr bool k2k_lone = true;"),
            )
        })
        .collect();
    assert_eq!(
        lone,
        [
            ("pass_on", true),
            ("pass_lane", false),
            ("pass_and_answer", false),
            ("pass_counted", false),
            ("pass_if_room", false),
        ]
    );
}

/// What the back end decides about the warp actors of `warp_actors.rs`:
/// one warp each (block 32x1x1), up to eight per block (launch bounds 256),
/// a batch that fits an eighth of the staging budget, and per warp a slice
/// of the staging area with no chunk scratch.
#[test]
fn warp_actors_get_a_warp_and_a_slice_of_the_staging_area() {
    use ringkernel_transpiler::back::cuda::{ActorSchedule, MAX_PACK};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/in/warp_actors.rs");
    let output = transpile(&path);
    for (kernel, schedule) in output
        .kernels
        .iter()
        .zip([ActorSchedule::InOrder, ActorSchedule::Uniform])
    {
        let abi = kernel.actor.expect("an actor");
        assert!(abi.warp, "{}", kernel.name);
        assert_eq!(abi.schedule, schedule, "{}", kernel.name);
        assert_eq!(kernel.block, [32, 1, 1]);
        assert_eq!(kernel.max_threads_per_block, 32 * MAX_PACK);
        assert_eq!(abi.max_per_block(), MAX_PACK);
        // 64-byte header + 132-byte message (144) + 16-byte reply + 24-byte
        // receipt = 248, rounded to an odd number of 16-byte words: 272.
        assert_eq!(abi.record, 272);
        assert_eq!(abi.batch, 18, "5 KiB / 272 bytes");
        assert_eq!(abi.staging_bytes(abi.batch), 18 * 272);
        assert_eq!(abi.block_staging_bytes(3), 3 * 18 * 272);
    }
    // Block actors keep one staging area with its chunk scratch.
    let actors = transpile(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/in/actors.rs"));
    let abi = actors.kernels[0].actor.unwrap();
    assert!(!abi.warp);
    assert_eq!(abi.max_per_block(), 1);
    assert_eq!(abi.staging_bytes(1), 384 + abi.record);
    assert_eq!(abi.block_staging_bytes(5), abi.staging_bytes(abi.batch));
}

/// The block-scope barriers of a PTX text: `bar.sync`/`barrier.sync`
/// (`__syncthreads`), `bar.red`/`barrier.red` (`__syncthreads_or`),
/// `bar.arrive`/`barrier.arrive` and the cluster barriers; `bar.warp.sync`
/// (`__syncwarp`) is the warp's and not one of them.
fn block_barriers(ptx: &str) -> Vec<&str> {
    const BLOCK: [&str; 7] = [
        "bar.sync",
        "barrier.sync",
        "bar.red",
        "barrier.red",
        "bar.arrive",
        "barrier.arrive",
        "barrier.cluster",
    ];
    ptx.lines()
        .map(str::trim)
        .filter(|line| {
            // An instruction, after its guard predicate (`@%p1`, `@!%p1`).
            let op = match line.strip_prefix('@') {
                Some(guarded) => guarded
                    .split_once(char::is_whitespace)
                    .map_or("", |(_, op)| op.trim_start()),
                None => line,
            };
            BLOCK.iter().any(|b| op.starts_with(b))
        })
        .collect()
}

/// Compiles `tests/in/NAME.rs` to PTX for sm_90 (None without NVRTC).
fn ptx_of(name: &str) -> Option<String> {
    require_nvrtc("cuda_out")?;
    let output =
        transpile(&Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/in/{name}.rs")));
    let include = std::env::temp_dir().join(format!(
        "ringkernel-cuda-out-ptx-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&include).unwrap();
    for header in &output.headers {
        std::fs::write(include.join(header.name), header.contents).unwrap();
    }
    let mut options = CompileOptions::new(Target::Ptx(Arch::SM_90));
    options.include_dirs.push(include.display().to_string());
    options.extra = output.nvrtc_options.clone();
    let compiled = compile(&format!("{name}.cu"), &output.source, &options).unwrap();
    Some(compiled.ptx().unwrap().to_string())
}

/// A warp actor never waits for another warp of its block: its loop's
/// barriers B1..B5, its receive, its look and its handler's `sync_threads`
/// and block reductions are all the warp's own (`bar.warp.sync`, shuffles,
/// votes), so a warp actor that faults, parks or hangs never holds up its
/// neighbours. Checked on the PTX: not one block-scope barrier in a module
/// of warp actors, while the block actors of `actors.rs` have them (the
/// check can fail).
#[test]
fn warp_actors_never_use_block_barriers() {
    let Some(warp) = ptx_of("warp_actors") else {
        return;
    };
    assert!(
        warp.contains("bar.warp.sync"),
        "the warp barriers are there"
    );
    assert_eq!(block_barriers(&warp), Vec::<&str>::new());
    let block = ptx_of("actors").expect("NVRTC was found above");
    assert!(
        !block_barriers(&block).is_empty(),
        "block actors use __syncthreads"
    );
}

/// The compact call path (`rk_actor_call_one`: a call alone in the inbox
/// answered by warp 0 inside the look, no block barrier) exists exactly for
/// the handlers one thread can run for the whole block: stateless,
/// replying, of the UNIFORM schedule (`scale`), and for none of the others
/// (`summer`, `echo`, `pick` read their thread; `store` does not reply).
/// Checked on the PTX: the look (`rk_actor_look`, out of line, one per
/// handler) writes the reply envelope to the outbox with 16-byte stores
/// (`st.v4`) only where the path is compiled in; otherwise it stores to
/// shared memory only (the check can fail both ways).
#[test]
fn only_uniform_replying_actors_have_the_compact_call_path() {
    let Some(ptx) = ptx_of("actors") else {
        return;
    };
    let looks = functions(&ptx, "rk_actor_look");
    let names: Vec<&str> = looks.iter().map(|(name, _)| *name).collect();
    assert_eq!(looks.len(), 5, "one look per handler: {names:?}");
    for (name, body) in &looks {
        let replies = body
            .lines()
            .any(|l| l.trim_start().starts_with("st.v4") || l.contains(" st.v4"));
        assert_eq!(replies, name.contains("scale_handler"), "{name}");
    }
    let warp = ptx_of("warp_actors").expect("NVRTC was found above");
    for (name, body) in functions(&warp, "rk_actor_look") {
        assert!(
            !body.contains("st.v4"),
            "warp actors keep their loop: {name}"
        );
    }
}

/// The `.func` definitions of a PTX text whose name contains `needle`:
/// (name, body up to the closing brace at column 0).
fn functions<'a>(ptx: &'a str, needle: &str) -> Vec<(&'a str, &'a str)> {
    let mut found = Vec::new();
    let mut rest = ptx;
    while let Some(at) = rest.find(".func") {
        let text = &rest[at..];
        let name = text
            .split(['(', ' ', '\n'])
            .find(|w| w.contains(needle))
            .filter(|_| text.lines().next().is_some_and(|l| l.contains(needle)));
        let end = text.find("\n}").map_or(text.len(), |e| e + 2);
        if let Some(name) = name {
            // A declaration ends with `;` before any body.
            let head = &text[..end];
            if head.contains('{') && !head.lines().next().unwrap_or("").ends_with(';') {
                found.push((name, head));
            }
        }
        rest = &text[end.min(text.len())..];
        if end == text.len() {
            break;
        }
    }
    found
}
