//! Launches on a real GPU: the CPU tests' checks on CUDA, mapped memory
//! with an asynchronous raw launch, and the module cache's timings.
//! `#[ignore]`d (CI has no GPU); the GPU machine runs them with
//! `--include-ignored` and `RINGKERNEL_REQUIRE_GPU=1`.

mod common;

use std::ffi::c_void;
use std::time::Instant;

use ringkernel_runtime::testing::gpu_runtime;
use ringkernel_runtime::{Backend, CudaSource, Error, Grid, KernelArg, ModuleOrigin, Runtime};

#[test]
#[ignore = "needs a CUDA GPU"]
fn saxpy_matches_rust_on_the_gpu() {
    let Some(rt) = gpu_runtime("saxpy_matches_rust_on_the_gpu") else {
        return;
    };
    assert!(matches!(rt.backend(), Backend::Cuda { .. }));
    for n in [1, 255, 256, 1000, 4097, 1 << 20] {
        common::saxpy_matches_rust(&rt, n);
    }
}

#[test]
#[ignore = "needs a CUDA GPU"]
fn faults_point_at_rust_on_the_gpu() {
    let Some(rt) = gpu_runtime("faults_point_at_rust_on_the_gpu") else {
        return;
    };
    common::fault_points_at_rust(&rt);
    // The runtime is still usable after a fault.
    common::saxpy_matches_rust(&rt, 1000);
}

#[test]
#[ignore = "needs a CUDA GPU"]
fn argument_mismatches_are_errors_on_the_gpu() {
    let Some(rt) = gpu_runtime("argument_mismatches_are_errors_on_the_gpu") else {
        return;
    };
    common::argument_mismatches_are_errors(&rt);
    // A CPU buffer cannot be passed to a GPU launch.
    let cpu = Runtime::cpu();
    let x = cpu.upload(&[1.0f32; 4]).unwrap();
    let mut out = rt.alloc_zeroed::<f32>(4).unwrap();
    let k = common::kernel("saxpy", "tests/saxpy.rs", common::SAXPY);
    let err = rt
        .launch(
            &k,
            Grid::for_elements(4),
            &mut [
                KernelArg::scalar(1.0f32),
                KernelArg::slice(&x),
                KernelArg::slice(&x),
                KernelArg::slice_mut(&mut out),
            ],
        )
        .unwrap_err();
    assert!(matches!(err, Error::ForeignBuffer { .. }), "{err}");
}

/// saxpy over mapped pinned host memory, launched without waiting on a
/// stream of its own: the device reads and writes the host's pages.
#[test]
#[ignore = "needs a CUDA GPU"]
fn raw_launch_over_mapped_memory() {
    let Some(rt) = gpu_runtime("raw_launch_over_mapped_memory") else {
        return;
    };
    let n = 10_000usize;
    let k = common::kernel("saxpy", "tests/saxpy.rs", common::SAXPY);
    let (module, _) = rt.load_kernel_module(&k).unwrap();
    let function = module.function("saxpy").unwrap();
    assert_eq!(function.max_threads_per_block, 256);
    let x = rt.alloc_mapped(n * 4).unwrap();
    let y = rt.alloc_mapped(n * 4).unwrap();
    let out = rt.alloc_mapped(n * 4).unwrap();
    assert_ne!(x.device_ptr(), 0);
    // SAFETY: nothing else touches the buffers before the launch.
    unsafe {
        for (i, chunk) in x.slice_mut(0..n * 4).chunks_exact_mut(4).enumerate() {
            chunk.copy_from_slice(&(i as f32).to_le_bytes());
        }
        for chunk in y.slice_mut(0..n * 4).chunks_exact_mut(4) {
            chunk.copy_from_slice(&0.5f32.to_le_bytes());
        }
        assert!(out.slice(0..n * 4).iter().all(|&b| b == 0));
    }
    let stream = rt.new_stream().unwrap();
    let mut a = 3.0f32;
    let (mut xp, mut yp, mut op) = (x.device_ptr(), y.device_ptr(), out.device_ptr());
    let (mut xl, mut yl, mut ol) = (n as u64, n as u64, n as u64);
    let mut fault: u64 = 0;
    let mut params: Vec<*mut c_void> = vec![
        (&raw mut a).cast(),
        (&raw mut xp).cast(),
        (&raw mut xl).cast(),
        (&raw mut yp).cast(),
        (&raw mut yl).cast(),
        (&raw mut op).cast(),
        (&raw mut ol).cast(),
        (&raw mut fault).cast(),
    ];
    let blocks = n.div_ceil(256) as u32;
    // SAFETY: one value per C parameter of saxpy (a, x, x_len, y, y_len,
    // out, out_len, fault record = null), all device-visible and alive
    // until the handle is waited on below.
    let handle = unsafe {
        rt.launch_raw(
            &function,
            [blocks, 1, 1],
            [256, 1, 1],
            0,
            &stream,
            &mut params,
        )
    }
    .unwrap();
    handle.wait().unwrap();
    assert!(handle.is_complete().unwrap());
    // SAFETY: the kernel finished; nothing writes the buffer any more.
    let bytes = unsafe { out.slice(0..n * 4) };
    for (i, chunk) in bytes.chunks_exact(4).enumerate() {
        let got = f32::from_le_bytes(chunk.try_into().unwrap());
        assert_eq!(
            got.to_bits(),
            (3.0 * i as f32 + 0.5).to_bits(),
            "element {i}"
        );
    }
    // A block larger than the kernel's bounds is refused before the driver.
    // SAFETY: the launch is refused before anything is read.
    let err = unsafe { rt.launch_raw(&function, [1, 1, 1], [512, 1, 1], 0, &stream, &mut params) }
        .unwrap_err();
    assert!(matches!(err, Error::LaunchConfig { .. }), "{err}");
}

/// A module never seen before compiles cold through NVRTC; a second runtime
/// finds it in the disk cache (no NVRTC); the same runtime finds it in
/// memory. Prints the timings the benchmark issue asks for (NVRTC cold
/// under 0.3 s per actor-sized module; cache hit under 5 ms).
#[test]
#[ignore = "needs a CUDA GPU"]
fn module_cache_timings() {
    let Some(rt) = gpu_runtime("module_cache_timings") else {
        return;
    };
    let cache = rt
        .compiler()
        .unwrap()
        .cache_dir()
        .map(|d| d.display().to_string());
    eprintln!("module cache folder: {cache:?}");
    let k = common::kernel("saxpy", "tests/saxpy.rs", common::SAXPY);
    let transpiled = k.transpile().unwrap();
    let nonce = format!(
        "\n// nonce {:?} {}\n",
        std::time::SystemTime::now(),
        std::process::id()
    );
    for (label, mut src) in [
        (
            "gpu_kernel",
            CudaSource::from_output("saxpy", &transpiled.cuda),
        ),
        (
            "gpu_kernel + device-lib headers",
            CudaSource::from_output("saxpy_actor_headers", &transpiled.cuda).with_device_lib(),
        ),
    ] {
        if label.contains("device-lib") {
            src.source = src.source.replacen(
                "#include \"rk_rust.cuh\"",
                "#include \"rk_rust.cuh\"\n#include \"ringkernel.cuh\"",
                1,
            );
        }
        src.source.push_str(&nonce);
        let before = ringkernel_runtime::nvrtc_invocations();
        let (_, cold) = rt.load_module(&src).unwrap();
        assert!(
            matches!(cold.origin, ModuleOrigin::Nvrtc { .. }),
            "{cold:?}"
        );
        let (_, memory) = rt.load_module(&src).unwrap();
        assert_eq!(memory.origin, ModuleOrigin::Memory);
        let other = Runtime::cuda(0).unwrap();
        let start = Instant::now();
        let (module, disk) = other.load_module(&src).unwrap();
        let disk_wall = start.elapsed();
        assert_eq!(disk.origin, ModuleOrigin::DiskCache, "{disk:?}");
        assert_eq!(ringkernel_runtime::nvrtc_invocations(), before + 1);
        module.function("saxpy").unwrap();
        eprintln!(
            "module cache [{label}]: cold {:?} (NVRTC {:?}), disk hit {:?} (wall {:?}), \
             memory hit {:?}, target {:?}",
            cold.elapsed,
            match cold.origin {
                ModuleOrigin::Nvrtc { nvrtc } => nvrtc,
                _ => unreachable!(),
            },
            disk.elapsed,
            disk_wall,
            memory.elapsed,
            cold.target
        );
    }
}
