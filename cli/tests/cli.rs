//! The `ringkernel` binary on good and bad input: output, messages that
//! point at Rust lines, exit statuses (0 ok, 1 rejected kernels or over a
//! budget, 2 usage, 3 no toolchain).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ringkernel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ringkernel"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A file in the temp folder, named for the test.
fn temp_file(name: &str, contents: &str) -> String {
    let dir = std::env::temp_dir().join(format!("ringkernel-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

#[test]
fn emit_cuda_is_the_macros_cuda() {
    // tests/macros.rs pins the macros' CUDA for this file to the snapshot.
    let out = ringkernel(&["emit", "--cuda", "tests/kernels/saxpy.rs"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let snapshot =
        std::fs::read_to_string(root().join("tests/snapshots/macros__saxpy.snap")).unwrap();
    let body = snapshot.splitn(3, "---\n").nth(2).unwrap();
    assert_eq!(text(&out.stdout).trim_end(), body.trim_end());
}

#[test]
fn emit_ir_shows_the_module() {
    let out = ringkernel(&[
        "emit",
        "--ir",
        "--kernel",
        "saxpy",
        "tests/kernels/saxpy.rs",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ir = text(&out.stdout);
    assert!(
        ir.contains("entry_points") && ir.contains("\"saxpy\""),
        "{ir}"
    );
}

#[test]
fn emit_ptx_and_check() {
    let Some(_tools) = ringkernel_toolchain::require_nvrtc("cli ptx") else {
        return;
    };
    let out = ringkernel(&[
        "emit",
        "--ptx",
        "--arch",
        "sm_90",
        "tests/kernels/summer.rs",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ptx = text(&out.stdout);
    assert!(
        ptx.contains(".target sm_90") && ptx.contains(".entry"),
        "{ptx}"
    );

    let out = ringkernel(&["check", "tests/kernels/particles.rs", "--deny-spills"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.lines().any(|l| l.starts_with("simulate ")),
        "{report}"
    );

    // A register budget no kernel meets: exit 1, and the report says why.
    let out = ringkernel(&[
        "check",
        "tests/kernels/particles.rs",
        "--max-registers",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("more than 1"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn rejected_rust_is_reported_at_its_line() {
    let file = temp_file(
        "bad.rs",
        "use ringkernel::prelude::*;\n\n#[gpu_kernel(block_size = 64)]\npub fn bad(ctx: &ThreadContext, out: &mut [f32]) {\n    let v = vec![1.0f32];\n    out[0] = v[0];\n}\n",
    );
    let out = ringkernel(&["emit", "--cuda", &file]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{file}:5:")), "{err}");
    assert!(err.contains("vec!"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_struct_from_elsewhere_is_an_error_at_its_name() {
    let file = temp_file(
        "missing.rs",
        "use ringkernel::prelude::*;\n#[gpu_kernel]\npub fn k(ctx: &ThreadContext, out: &mut [Elsewhere]) {\n}\n",
    );
    let out = ringkernel(&["emit", "--cuda", &file]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{file}:3:")) && err.contains("`Elsewhere`"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = ringkernel(&["emit", "tests/kernels/saxpy.rs"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--cuda"));

    let out = ringkernel(&["emit", "--cuda", "no/such/file.rs"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read no/such/file.rs"));

    let out = ringkernel(&[
        "emit",
        "--cuda",
        "--kernel",
        "nope",
        "tests/kernels/saxpy.rs",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("its kernels: saxpy"));

    let out = ringkernel(&["emit", "--ptx", "--arch", "volta", "tests/kernels/saxpy.rs"]);
    assert_eq!(out.status.code(), Some(2));

    let empty = temp_file("empty.rs", "pub fn plain() {}\n");
    let out = ringkernel(&["check", &empty]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("has no `#[gpu_kernel]`"));
}
