//! The differential program suite (issue 8): every `#[gpu_kernel]` of the
//! transpiler's snapshot inputs (`transpiler/tests/in/*.rs`) runs on the CPU
//! backend (in CI) and on a GPU (`#[ignore]`d; the GPU machine runs it),
//! with identical results.
//!
//! - The kernels are found by parsing each file with syn; each becomes a
//!   `KernelSource` over the whole file (`SourceText::whole_file`), so
//!   fault locations are the file's real lines.
//! - Arguments are generated from the kernel's parameter list (the
//!   transpiled `KernelInfo::params` and the IR's parameter types), with a
//!   fixed seed: scalars random or edge values of their type; slices of a
//!   few thousand elements, read-only ones random (with edge values mixed
//!   in), mutable ones poisoned with [`POISON`] (or random, in one case, for
//!   kernels that read what they write). Slices of structs would need every
//!   bit pattern to be valid: none of the programs has one, and such a
//!   kernel is skipped with a note rather than fed invalid values.
//! - Cases per kernel: random scalars; each edge value of the scalars;
//!   random mutable inputs; and, for each slice, that slice shortened to
//!   half (a kernel that does not guard it faults: the fault's kind and
//!   Rust line must match across backends).
//! - CPU (CI): two runs on two runtimes must be identical byte for byte,
//!   fault block and thread included (the backend is deterministic given
//!   its inputs), and in the random case the poison of every mutable slice
//!   must have been overwritten (each program writes every element).
//! - GPU: every output buffer byte for byte against the CPU, except that a
//!   float NaN equals any NaN (Rust leaves NaN payloads unspecified; the
//!   semantics suite has the same rule). After a fault only the fault is
//!   compared (which threads ran before it is not specified).
//! - The `#[ring_kernel]` handlers of `actors.rs` (summer, echo, store) are
//!   spawned with a few messages each: two CPU runs must answer identically
//!   (HLC stamps aside), and the GPU must answer what the CPU does.

mod common;
#[macro_use]
#[path = "programs/values.rs"]
mod values;
#[path = "programs/actors.rs"]
mod actors;

use values::{poison, random_elems, Gen, Input};

use std::fmt::Write as _;

use ringkernel_runtime::{
    DeviceBuffer, Error, Grid, KernelArg, KernelSource, Runtime, SourceKind, SourceText,
};
use ringkernel_transpiler::ir::{Scalar, Type};

/// The snapshot programs, with the paths their faults report.
const FILES: &[(&str, &str)] = &[
    (
        "transpiler/tests/in/saxpy.rs",
        include_str!("../../transpiler/tests/in/saxpy.rs"),
    ),
    (
        "transpiler/tests/in/control_flow.rs",
        include_str!("../../transpiler/tests/in/control_flow.rs"),
    ),
    (
        "transpiler/tests/in/semantics.rs",
        include_str!("../../transpiler/tests/in/semantics.rs"),
    ),
    (
        "transpiler/tests/in/arrays.rs",
        include_str!("../../transpiler/tests/in/arrays.rs"),
    ),
    (
        "transpiler/tests/in/inference.rs",
        include_str!("../../transpiler/tests/in/inference.rs"),
    ),
    (
        "transpiler/tests/in/actors.rs",
        include_str!("../../transpiler/tests/in/actors.rs"),
    ),
    // Warp actors only (no `#[gpu_kernel]`): listed so the inventory check
    // holds; the actor suite runs warp actors on both backends.
    (
        "transpiler/tests/in/warp_actors.rs",
        include_str!("../../transpiler/tests/in/warp_actors.rs"),
    ),
    // Senders (no `#[gpu_kernel]`): listed so the inventory check holds;
    // what it tests is which of them the back end marks lone (cuda_out),
    // and the K2K suite runs lone senders on both backends.
    (
        "transpiler/tests/in/lone_senders.rs",
        include_str!("../../transpiler/tests/in/lone_senders.rs"),
    ),
];

/// Elements per slice: a few thousand, not a multiple of any block size.
const N: usize = 4099;
const SEED: u64 = 0x5eed_0008;
/// The byte every mutable slice starts filled with.
const POISON: u8 = 0xa5;
/// How many edge-value cases each kernel with scalar parameters gets.
const EDGE_CASES: usize = 18;

/// A parameter as the suite generates it.
#[derive(Clone, Debug)]
enum Param {
    Scalar(Scalar),
    Slice { elem: Scalar, mutable: bool },
}

struct Kernel {
    source: KernelSource,
    params: Vec<(String, Param)>,
}

/// Every `#[gpu_kernel]` of every snapshot program (kernels whose
/// parameters the suite cannot generate are skipped with a note).
fn kernels() -> Vec<Kernel> {
    let mut out = Vec::new();
    for (file, text) in FILES {
        let parsed = syn::parse_file(text).expect("the snapshot programs parse");
        for item in parsed.items {
            let syn::Item::Fn(f) = item else { continue };
            if !f.attrs.iter().any(|a| a.path().is_ident("gpu_kernel")) {
                continue;
            }
            let name = f.sig.ident.to_string();
            let source = KernelSource {
                name: name.clone(),
                kind: SourceKind::GpuKernel,
                items: vec![SourceText::whole_file(*file, *text)],
                layouts: Vec::new(),
                overflow_checks: true,
            };
            match params(&source) {
                Ok(params) => out.push(Kernel { source, params }),
                Err(note) => eprintln!("SKIPPED {file}::{name}: {note}"),
            }
        }
    }
    out
}

/// The kernel's parameters from its transpiled entry point.
fn params(source: &KernelSource) -> Result<Vec<(String, Param)>, String> {
    let t = source.transpile().map_err(|e| source.render_error(&e))?;
    let module = &t.module;
    let entry = module
        .entry_points
        .iter()
        .position(|e| e.name == source.name)
        .expect("the entry point");
    let function = &module.functions[module.entry_points[entry].function];
    let info = &t.cuda.kernels[entry];
    assert_eq!(info.params.len(), function.params.len());
    let mut out = Vec::new();
    for (p, &local) in info.params.iter().zip(&function.params) {
        let name = p.name.clone().unwrap_or_default();
        let param = match &module.types[function.locals[local].ty] {
            Type::Scalar(s) => Param::Scalar(*s),
            Type::Slice { elem, mutable } => match &module.types[*elem] {
                Type::Scalar(s) => Param::Slice {
                    elem: *s,
                    mutable: *mutable,
                },
                other => {
                    return Err(format!(
                        "`{name}` is a slice of {other:?}: random bytes need not be valid for it"
                    ))
                }
            },
            other => return Err(format!("`{name}`: {other:?} is not generated")),
        };
        out.push((name, param));
    }
    Ok(out)
}

/// A named case: the inputs of one launch.
struct Case {
    name: String,
    inputs: Vec<Input>,
}

fn cases(kernel: &Kernel) -> Vec<Case> {
    let mut rng = common::Rng(SEED ^ fnv(&kernel.source.name));
    let scalars =
        |rng: &mut common::Rng, edge: Option<usize>, wild: bool| -> Vec<Option<Vec<u8>>> {
            kernel
                .params
                .iter()
                .map(|(_, p)| match p {
                    Param::Scalar(s) => Some(with_scalar!(s, T => match edge {
                        Some(k) => { let e = T::edges(); e[k % e.len()].to_bytes() }
                        None if wild => <T as Gen>::from_bits(rng.next_u64()).to_bytes(),
                        None => T::moderate(rng.next_u64()).to_bytes(),
                    })),
                    Param::Slice { .. } => None,
                })
                .collect()
        };
    let build = |rng: &mut common::Rng,
                 scalars: &[Option<Vec<u8>>],
                 random_mut: bool,
                 wild: bool,
                 short: Option<usize>| {
        kernel
            .params
            .iter()
            .zip(scalars)
            .enumerate()
            .map(|(i, ((_, p), s))| match p {
                Param::Scalar(sc) => Input::Scalar(*sc, s.clone().expect("scalar")),
                Param::Slice { elem, mutable } => {
                    let n = if short == Some(i) { N / 2 } else { N };
                    let bytes = if *mutable && !random_mut {
                        poison(*elem, n)
                    } else {
                        with_scalar!(elem, T => random_elems::<T>(rng, n, wild))
                    };
                    Input::Slice {
                        elem: *elem,
                        mutable: *mutable,
                        bytes,
                    }
                }
            })
            .collect::<Vec<_>>()
    };
    let has_scalars = kernel
        .params
        .iter()
        .any(|(_, p)| matches!(p, Param::Scalar(_)));
    let mut out = Vec::new();
    let s = scalars(&mut rng, None, false);
    out.push(Case {
        name: "random".into(),
        inputs: build(&mut rng, &s, false, false, None),
    });
    out.push(Case {
        name: "random mutable inputs".into(),
        inputs: build(&mut rng, &s, true, false, None),
    });
    let s = scalars(&mut rng, None, true);
    out.push(Case {
        name: "random bits".into(),
        inputs: build(&mut rng, &s, true, true, None),
    });
    if has_scalars {
        for k in 0..EDGE_CASES {
            let s = scalars(&mut rng, Some(k), false);
            out.push(Case {
                name: format!("edge scalars #{k}"),
                inputs: build(&mut rng, &s, true, k % 2 == 1, None),
            });
        }
    }
    for (i, (name, p)) in kernel.params.iter().enumerate() {
        if matches!(p, Param::Slice { .. }) {
            let s = scalars(&mut rng, None, false);
            out.push(Case {
                name: format!("`{name}` shortened to {}", N / 2),
                inputs: build(&mut rng, &s, false, false, Some(i)),
            });
        }
    }
    out
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What one launch did.
#[derive(Debug, PartialEq)]
struct Outcome {
    /// `None`: the launch succeeded; else the error, in full.
    error: Option<String>,
    /// For a kernel fault: its kind and Rust line (what must match across
    /// backends).
    fault: Option<(String, u32)>,
    /// Every slice's bytes after the launch (read-only ones included).
    buffers: Vec<Vec<u8>>,
}

/// A typed device buffer of any scalar element.
enum Buf {
    Bool(DeviceBuffer<bool>),
    I8(DeviceBuffer<i8>),
    I16(DeviceBuffer<i16>),
    I32(DeviceBuffer<i32>),
    I64(DeviceBuffer<i64>),
    Isize(DeviceBuffer<isize>),
    U8(DeviceBuffer<u8>),
    U16(DeviceBuffer<u16>),
    U32(DeviceBuffer<u32>),
    U64(DeviceBuffer<u64>),
    Usize(DeviceBuffer<usize>),
    F32(DeviceBuffer<f32>),
    F64(DeviceBuffer<f64>),
}

macro_rules! each_buf {
    ($b:expr, $x:ident => $e:expr) => {
        match $b {
            Buf::Bool($x) => $e,
            Buf::I8($x) => $e,
            Buf::I16($x) => $e,
            Buf::I32($x) => $e,
            Buf::I64($x) => $e,
            Buf::Isize($x) => $e,
            Buf::U8($x) => $e,
            Buf::U16($x) => $e,
            Buf::U32($x) => $e,
            Buf::U64($x) => $e,
            Buf::Usize($x) => $e,
            Buf::F32($x) => $e,
            Buf::F64($x) => $e,
        }
    };
}

fn decode<T: Gen>(bytes: &[u8], size: usize) -> Vec<T> {
    bytes.chunks(size).map(T::from_bytes).collect()
}

impl Buf {
    fn upload(rt: &Runtime, elem: Scalar, bytes: &[u8]) -> Buf {
        let size = elem.size() as usize;
        macro_rules! up {
            ($v:ident, $t:ty) => {
                Buf::$v(rt.upload(&decode::<$t>(bytes, size)).expect("upload"))
            };
        }
        match elem.rust_name() {
            "bool" => up!(Bool, bool),
            "i8" => up!(I8, i8),
            "i16" => up!(I16, i16),
            "i32" => up!(I32, i32),
            "i64" => up!(I64, i64),
            "isize" => up!(Isize, isize),
            "u8" => up!(U8, u8),
            "u16" => up!(U16, u16),
            "u32" => up!(U32, u32),
            "u64" => up!(U64, u64),
            "usize" => up!(Usize, usize),
            "f32" => up!(F32, f32),
            "f64" => up!(F64, f64),
            other => panic!("no buffer for `{other}`"),
        }
    }

    fn arg(&mut self, mutable: bool) -> KernelArg<'_> {
        if mutable {
            each_buf!(self, b => KernelArg::slice_mut(b))
        } else {
            each_buf!(self, b => KernelArg::slice(&*b))
        }
    }

    fn bytes(&self) -> Vec<u8> {
        each_buf!(self, b => b.to_vec().expect("download").into_iter().flat_map(Gen::to_bytes).collect())
    }
}

fn run(rt: &Runtime, kernel: &Kernel, case: &Case) -> Outcome {
    let mut bufs: Vec<(Buf, bool)> = Vec::new();
    let mut n = 0;
    for input in &case.inputs {
        if let Input::Slice {
            elem,
            mutable,
            bytes,
        } = input
        {
            n = n.max(bytes.len() / elem.size() as usize);
            bufs.push((Buf::upload(rt, *elem, bytes), *mutable));
        }
    }
    let result = {
        let mut slices = bufs.iter_mut();
        let mut args: Vec<KernelArg> = case
            .inputs
            .iter()
            .map(|input| match input {
                Input::Scalar(s, bytes) => {
                    with_scalar!(s, T => KernelArg::scalar(T::from_bytes(bytes)))
                }
                Input::Slice { .. } => {
                    let (b, mutable) = slices.next().expect("one buffer per slice");
                    b.arg(*mutable)
                }
            })
            .collect();
        rt.launch(&kernel.source, Grid::for_elements(n), &mut args)
    };
    let fault = match &result {
        Err(Error::KernelFault { kind, location, .. }) => {
            Some((format!("{kind:?}"), location.line))
        }
        _ => None,
    };
    Outcome {
        error: result.err().map(|e| e.to_string()),
        fault,
        buffers: bufs.iter().map(|(b, _)| b.bytes()).collect(),
    }
}

fn slice_names(kernel: &Kernel) -> Vec<(String, Scalar)> {
    kernel
        .params
        .iter()
        .filter_map(|(name, p)| match p {
            Param::Slice { elem, .. } => Some((name.clone(), *elem)),
            _ => None,
        })
        .collect()
}

/// Element-wise differences of `a` (CPU) and `b` (the other run), for the
/// report: kernel, case, buffer, index, both values. `nan_equal`: a float
/// NaN equals any NaN.
fn diff(kernel: &Kernel, case: &Case, a: &Outcome, b: &Outcome, nan_equal: bool) -> Vec<String> {
    let mut out = Vec::new();
    for ((name, elem), (x, y)) in slice_names(kernel)
        .iter()
        .zip(a.buffers.iter().zip(&b.buffers))
    {
        let size = elem.size() as usize;
        if x.len() != y.len() {
            out.push(format!("`{name}`: {} vs {} bytes", x.len(), y.len()));
            continue;
        }
        for (i, (ex, ey)) in x.chunks(size).zip(y.chunks(size)).enumerate() {
            if ex == ey {
                continue;
            }
            let (vx, vy, both_nan) = with_scalar!(elem, T => {
                let (p, q) = (T::from_bytes(ex), T::from_bytes(ey));
                (format!("{p:?}"), format!("{q:?}"), T::FLOAT && p.is_nan() && q.is_nan())
            });
            if nan_equal && both_nan {
                continue;
            }
            out.push(format!(
                "kernel `{}` case {}: buffer `{name}`[{i}]: CPU {vx} ({ex:02x?}), other {vy} ({ey:02x?})",
                kernel.source.name, case.name
            ));
        }
    }
    out
}

/// Each mutable slice of the random case must have had its poison
/// overwritten (every program writes every element it guards for):
/// at least 95 % of the elements differ from it (a computed `u8` equals the
/// poison one time in 256).
fn check_poison(kernel: &Kernel, case: &Case, outcome: &Outcome) -> Vec<String> {
    let mut errors = Vec::new();
    let mut slice = 0;
    for ((name, p), input) in kernel.params.iter().zip(&case.inputs) {
        let (Param::Slice { elem, mutable }, Input::Slice { bytes, .. }) = (p, input) else {
            continue;
        };
        let after = &outcome.buffers[slice];
        slice += 1;
        if !mutable {
            assert_eq!(after, bytes, "`{name}` is read-only but changed");
            continue;
        }
        let size = elem.size() as usize;
        let total = after.len() / size;
        let kept = after
            .chunks(size)
            .zip(bytes.chunks(size))
            .filter(|(a, b)| a == b)
            .count();
        eprintln!(
            "  `{}` case {}: `{name}`: {} of {total} elements overwritten",
            kernel.source.name,
            case.name,
            total - kept
        );
        if kept * 20 > total {
            errors.push(format!(
                "kernel `{}` case {}: `{name}` kept the poison in {kept} of {total} elements",
                kernel.source.name, case.name
            ));
        }
    }
    errors
}

fn report(errors: &[String]) {
    if !errors.is_empty() {
        let mut msg = format!("{} divergences:\n", errors.len());
        for e in errors.iter().take(60) {
            let _ = writeln!(msg, "  {e}");
        }
        panic!("{msg}");
    }
}

#[test]
fn finds_every_snapshot_kernel() {
    let names: Vec<String> = kernels().into_iter().map(|k| k.source.name).collect();
    assert_eq!(
        names,
        ["saxpy", "control_flow", "semantics", "mix", "inference"]
    );
    // Every input of the transpiler's snapshot suite is here.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../transpiler/tests/in");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rs"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FILES
        .iter()
        .map(|(f, _)| f.rsplit('/').next().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(
        listed, on_disk,
        "add new transpiler/tests/in files to FILES"
    );
}

/// CI: the CPU backend is deterministic given the inputs, and the programs
/// write what they should.
#[test]
fn cpu_runs_are_deterministic_and_write_their_outputs() {
    let (one, two) = (Runtime::cpu(), Runtime::cpu());
    let mut errors = Vec::new();
    for kernel in kernels() {
        for case in cases(&kernel) {
            let a = run(&one, &kernel, &case);
            let b = run(&two, &kernel, &case);
            eprintln!(
                "{} / {}: {}",
                kernel.source.name,
                case.name,
                a.error.as_deref().unwrap_or("ok")
            );
            if a.error != b.error {
                errors.push(format!(
                    "kernel `{}` case {}: {:?} then {:?}",
                    kernel.source.name, case.name, a.error, b.error
                ));
            }
            errors.extend(diff(&kernel, &case, &a, &b, false));
            if case.name == "random" {
                assert_eq!(
                    a.error, None,
                    "{} faulted on full-length inputs",
                    kernel.source.name
                );
                errors.extend(check_poison(&kernel, &case, &a));
            }
            // A launch with every slice full-length never faults.
            if !case.name.contains("shortened") {
                assert_eq!(a.error, None, "{} / {}", kernel.source.name, case.name);
            }
        }
    }
    report(&errors);
}

/// GPU machine: the same launches on the GPU, compared with the CPU.
#[test]
#[ignore = "needs a CUDA GPU"]
fn gpu_matches_cpu() {
    let Some(gpu) = ringkernel_runtime::testing::gpu_runtime("gpu_matches_cpu") else {
        return;
    };
    let cpu = Runtime::cpu();
    let mut errors = Vec::new();
    let (mut launches, mut elements, mut faults) = (0, 0usize, 0);
    for kernel in kernels() {
        for case in cases(&kernel) {
            let a = run(&cpu, &kernel, &case);
            let b = run(&gpu, &kernel, &case);
            launches += 1;
            elements += a.buffers.iter().map(Vec::len).sum::<usize>();
            match (&a.fault, &b.fault) {
                (None, None) => {
                    if a.error != b.error {
                        errors.push(format!(
                            "kernel `{}` case {}: CPU {:?}, GPU {:?}",
                            kernel.source.name, case.name, a.error, b.error
                        ));
                    }
                    errors.extend(diff(&kernel, &case, &a, &b, true));
                }
                (x, y) => {
                    faults += 1;
                    eprintln!(
                        "{} / {}: CPU {:?} / GPU {:?}",
                        kernel.source.name, case.name, a.error, b.error
                    );
                    if x != y {
                        errors.push(format!(
                            "kernel `{}` case {}: fault CPU {x:?} ({:?}), GPU {y:?} ({:?})",
                            kernel.source.name, case.name, a.error, b.error
                        ));
                    }
                }
            }
        }
    }
    eprintln!(
        "gpu_matches_cpu: {launches} launches, {elements} buffer bytes compared, {faults} faulting launches"
    );
    report(&errors);
}
