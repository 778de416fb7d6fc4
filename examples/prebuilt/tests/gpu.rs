//! On a GPU (by hand: `RINGKERNEL_REQUIRE_GPU=1 cargo test -p
//! ringkernel-example-prebuilt --test gpu -- --ignored`): the kernel and the
//! actor run from the embedded images, results equal Rust's, and libnvrtc
//! is never loaded, in this process and in the example binary run with
//! NVRTC hidden (no toolchain root, no library path).

use std::process::Command;

use ringkernel::embedded::EmbeddedPolicy;
use ringkernel::runtime::testing::gpu_runtime;
use ringkernel::runtime::{nvrtc_invocations, ModuleOrigin};
use ringkernel_example_prebuilt::{accumulate, nvrtc_loaded, run, transform_points, KERNELS};

#[test]
#[ignore = "needs a GPU"]
fn embedded_kernels_run_without_nvrtc() {
    let Some(rt) = gpu_runtime("embedded_kernels_run_without_nvrtc") else {
        return;
    };
    assert!(!nvrtc_loaded());
    rt.use_embedded(KERNELS, EmbeddedPolicy::Only);
    for kernel in [transform_points::kernel(), accumulate::kernel()] {
        let report = rt.prepare(kernel).unwrap().unwrap();
        assert_eq!(report.origin, ModuleOrigin::Embedded, "{}", kernel.name);
    }
    let outcome = run(&rt).unwrap();
    assert_eq!((outcome.points, outcome.replies), (1000, 64));
    assert_eq!(nvrtc_invocations(), 0);
    assert!(!nvrtc_loaded(), "libnvrtc is mapped into the process");
}

#[test]
#[ignore = "needs a GPU"]
fn the_example_binary_runs_with_nvrtc_hidden() {
    if gpu_runtime("the_example_binary_runs_with_nvrtc_hidden").is_none() {
        return;
    }
    let output = Command::new(env!("CARGO_BIN_EXE_ringkernel-example-prebuilt"))
        .env_remove("LD_LIBRARY_PATH")
        .env("RINGKERNEL_CUDA_ROOT", "/nonexistent-cuda-root")
        .env("RINGKERNEL_BACKEND", "cuda")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("libnvrtc mapped: no"), "{stdout}");
}
