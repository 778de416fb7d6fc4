//! Kernels and checks shared by the CPU-backend tests (run in CI) and the
//! GPU tests (`#[ignore]`d; run on the GPU machine), so both backends are
//! held to exactly the same expectations.

#![allow(dead_code)]

use ringkernel_runtime::{Error, Grid, KernelArg, KernelSource, Runtime, SourceKind, SourceText};
use ringkernel_transpiler::back::cuda::abi::FaultKind;

/// A `#[gpu_kernel]` source from Rust text, as the macros would build it.
pub fn kernel(name: &str, file: &str, text: &str) -> KernelSource {
    KernelSource {
        name: name.to_string(),
        kind: SourceKind::GpuKernel,
        items: vec![SourceText {
            attr: String::new(),
            text: text.to_string(),
            file: file.to_string(),
            line: 1,
            column: 0,
        }],
        layouts: Vec::new(),
        overflow_checks: true,
    }
}

pub const SAXPY: &str = "\
#[gpu_kernel(block_size = 256)]
pub fn saxpy(ctx: &ThreadContext, a: f32, x: &[f32], y: &[f32], out: &mut [f32]) {
    let i = ctx.global_id() as usize;
    if i >= x.len() {
        return;
    }
    out[i] = a * x[i] + y[i];
}
";

/// Line 4 indexes one past the end for the last thread.
pub const OFF_BY_ONE: &str = "\
#[gpu_kernel(block_size = 64)]
pub fn shift(ctx: &ThreadContext, x: &[u32], out: &mut [u32]) {
    let i = ctx.global_id() as usize;
    if i < x.len() { out[i + 1] = x[i]; }
}
";

/// A deterministic pseudo-random sequence (SplitMix64).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A float in [-100, 100).
    pub fn f32(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 200.0 - 100.0
    }
}

const POISON: u32 = 0x7fc0_dead;

/// saxpy over `n` elements into a poisoned output longer than `n`: every
/// element below `n` equals rustc's result bit for bit, the rest stay poison.
pub fn saxpy_matches_rust(rt: &Runtime, n: usize) {
    let mut rng = Rng(n as u64);
    let xs: Vec<f32> = (0..n).map(|_| rng.f32()).collect();
    let ys: Vec<f32> = (0..n).map(|_| rng.f32()).collect();
    let a = rng.f32();
    let x = rt.upload(&xs).unwrap();
    let y = rt.upload(&ys).unwrap();
    let mut out = rt.upload(&vec![f32::from_bits(POISON); n + 37]).unwrap();
    let k = kernel("saxpy", "tests/saxpy.rs", SAXPY);
    rt.launch(
        &k,
        Grid::for_elements(n),
        &mut [
            KernelArg::scalar(a),
            KernelArg::slice(&x),
            KernelArg::slice(&y),
            KernelArg::slice_mut(&mut out),
        ],
    )
    .unwrap();
    let got = out.to_vec().unwrap();
    for i in 0..n {
        let want = a * xs[i] + ys[i];
        assert_eq!(got[i].to_bits(), want.to_bits(), "element {i}");
    }
    assert!(
        got[n..].iter().all(|v| v.to_bits() == POISON),
        "wrote past n"
    );
}

/// The last thread's out-of-bounds store is a `KernelFault` at its Rust
/// line and column, naming the faulting thread; the others' stores land.
pub fn fault_points_at_rust(rt: &Runtime) {
    let n = 100usize;
    let x = rt.upload(&(0..n as u32).collect::<Vec<_>>()).unwrap();
    let mut out = rt.alloc_zeroed::<u32>(n).unwrap();
    let k = kernel("shift", "tests/shift.rs", OFF_BY_ONE);
    let err = rt
        .launch(
            &k,
            Grid::for_elements(n),
            &mut [KernelArg::slice(&x), KernelArg::slice_mut(&mut out)],
        )
        .unwrap_err();
    match &err {
        Error::KernelFault {
            kernel,
            kind,
            location,
            block,
            thread,
        } => {
            assert_eq!(kernel, "shift");
            assert_eq!(*kind, FaultKind::IndexOutOfBounds);
            assert_eq!(location.file.as_deref(), Some("tests/shift.rs"));
            assert_eq!((location.line, location.column), (4, 22), "{err}");
            assert_eq!(*block, [1, 0, 0]);
            assert_eq!(*thread, [35, 0, 0]);
        }
        other => panic!("expected a kernel fault, got {other}"),
    }
    let got = out.to_vec().unwrap();
    assert_eq!(got[0], 0);
    assert_eq!(&got[1..], &(0..n as u32 - 1).collect::<Vec<_>>()[..]);
}

/// Arguments that do not match the signature are errors before any launch.
pub fn argument_mismatches_are_errors(rt: &Runtime) {
    let k = kernel("saxpy", "tests/saxpy.rs", SAXPY);
    let x = rt.upload(&[1.0f32; 4]).unwrap();
    let xi = rt.upload(&[1i32; 4]).unwrap();
    let mut out = rt.alloc_zeroed::<f32>(4).unwrap();
    let grid = Grid::for_elements(4);

    let err = rt
        .launch(&k, grid, &mut [KernelArg::scalar(1.0f32)])
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ArgumentCount {
                expected: 4,
                found: 1,
                ..
            }
        ),
        "{err}"
    );

    let err = rt
        .launch(
            &k,
            grid,
            &mut [
                KernelArg::scalar(1.0f64),
                KernelArg::slice(&x),
                KernelArg::slice(&x),
                KernelArg::slice_mut(&mut out),
            ],
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "argument 0 (`a`) of kernel `saxpy`: expected f32, found f64"
    );

    let err = rt
        .launch(
            &k,
            grid,
            &mut [
                KernelArg::scalar(1.0f32),
                KernelArg::slice(&xi),
                KernelArg::slice(&x),
                KernelArg::slice_mut(&mut out),
            ],
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "argument 1 (`x`) of kernel `saxpy`: expected &[f32] (KernelArg::slice), \
         found &[i32] (KernelArg::slice)"
    );

    let out2 = rt.alloc_zeroed::<f32>(4).unwrap();
    let err = rt
        .launch(
            &k,
            grid,
            &mut [
                KernelArg::scalar(1.0f32),
                KernelArg::slice(&x),
                KernelArg::slice(&x),
                KernelArg::slice(&out2),
            ],
        )
        .unwrap_err();
    assert!(
        matches!(&err, Error::ArgumentMismatch { index: 3, param, .. } if param == "out"),
        "{err}"
    );

    let err = rt
        .launch(&kernel("nope", "tests/saxpy.rs", SAXPY), grid, &mut [])
        .unwrap_err();
    assert!(matches!(err, Error::UnknownKernel { .. }), "{err}");
}
