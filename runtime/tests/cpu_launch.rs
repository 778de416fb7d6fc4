//! Launches on the CPU backend (CI): the same checks the GPU tests make.

mod common;

use ringkernel_runtime::{Backend, Error, Grid, KernelArg, Runtime};

#[test]
fn saxpy_matches_rust_on_the_cpu() {
    let rt = Runtime::cpu();
    assert_eq!(rt.backend(), Backend::Cpu);
    for n in [1, 255, 256, 1000, 4097] {
        common::saxpy_matches_rust(&rt, n);
    }
}

#[test]
fn faults_point_at_rust_on_the_cpu() {
    common::fault_points_at_rust(&Runtime::cpu());
}

#[test]
fn argument_mismatches_are_errors_on_the_cpu() {
    common::argument_mismatches_are_errors(&Runtime::cpu());
}

#[test]
fn empty_grids_launch_nothing() {
    let rt = Runtime::cpu();
    let k = common::kernel("saxpy", "tests/saxpy.rs", common::SAXPY);
    let x = rt.upload::<f32>(&[]).unwrap();
    let mut out = rt.alloc_zeroed::<f32>(0).unwrap();
    rt.launch(
        &k,
        Grid::for_elements(0),
        &mut [
            KernelArg::scalar(2.0f32),
            KernelArg::slice(&x),
            KernelArg::slice(&x),
            KernelArg::slice_mut(&mut out),
        ],
    )
    .unwrap();
}

#[test]
fn transpile_errors_are_reported_with_the_rust_position() {
    let rt = Runtime::cpu();
    let k = common::kernel(
        "bad",
        "tests/bad.rs",
        "#[gpu_kernel(block_size = 32)]\npub fn bad(ctx: &ThreadContext, out: &mut [f32]) {\n    let v = vec![1.0f32];\n}\n",
    );
    let err = rt.launch(&k, Grid::d1(1), &mut []).unwrap_err();
    assert!(matches!(err, Error::Transpile { .. }), "{err}");
    assert!(err.to_string().contains("tests/bad.rs:3:"), "{err}");
}

/// Where the machine has no driver (CI, this one), asking for a CUDA device
/// is an error, never a panic, and `Runtime::new` falls back to the CPU.
#[test]
fn no_driver_or_device_is_an_error_not_a_panic() {
    match Runtime::cuda(0) {
        Err(Error::NoDriver | Error::NoDevice { .. }) => {
            if std::env::var(ringkernel_runtime::BACKEND_ENV).is_err() {
                assert_eq!(Runtime::new().unwrap().backend(), Backend::Cpu);
            }
        }
        Ok(rt) => assert!(rt.is_cuda()),
        Err(other) => panic!("unexpected error: {other}"),
    }
    match Runtime::cuda(4096) {
        Err(Error::NoDriver) => {}
        Err(Error::NoDevice { ordinal: 4096, .. }) => {}
        other => panic!("expected no device 4096, got {other:?}"),
    }
}

#[test]
fn cuda_only_operations_say_so_on_the_cpu() {
    let rt = Runtime::cpu();
    assert!(matches!(rt.new_stream(), Err(Error::NotCuda { .. })));
    let mapped = rt.alloc_mapped(128).unwrap();
    assert_eq!(mapped.len(), 128);
}
