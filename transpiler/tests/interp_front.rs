//! The interpreter on real Rust: kernels lowered by the front end, checked
//! by the check pass, run on the CPU backend and compared with the same
//! code compiled by rustc (written out below as plain functions), plus the
//! errors the GPU would hide (divergent barriers, races) and soft faults
//! with their Rust locations.

use ringkernel_transpiler::front::rust::{lower_file, Options};
use ringkernel_transpiler::interp::{
    AccessKind, Arg, BarrierParty, Buffer, InterpError, Launch, Program, RaceSpace, Value,
};
use ringkernel_transpiler::ir::CheckKind;

const FILE: &str = "kernel.rs";

fn compile(source: &str) -> Program {
    let mut module = match lower_file(
        source,
        &Options {
            source_file: Some(FILE.into()),
            ..Options::default()
        },
    ) {
        Ok(m) => m,
        Err(d) => panic!("{}", d.render(FILE, source)),
    };
    ringkernel_transpiler::passes::run(&mut module);
    Program::compile(&module).expect("compiles for the interpreter")
}

fn input(name: &str) -> String {
    let path = format!("{}/tests/in/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

/// 1-based line of the first line containing `needle`.
fn line_of(source: &str, needle: &str) -> u32 {
    source
        .lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u32 + 1)
        .unwrap_or_else(|| panic!("`{needle}` not in source"))
}

/// A deterministic xorshift stream, so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn i32(&mut self) -> i32 {
        const EDGES: [i32; 8] = [0, 1, -1, 31, 32, i32::MIN, i32::MAX, -32];
        match self.next() % 4 {
            0 => EDGES[(self.next() % 8) as usize],
            1 => (self.next() % 64) as i32 - 32,
            _ => self.next() as i32,
        }
    }
    fn f32(&mut self) -> f32 {
        const EDGES: [f32; 8] = [
            0.0,
            -0.0,
            f32::NAN,
            f32::INFINITY,
            -1e30,
            255.5,
            256.0,
            -0.5,
        ];
        match self.next() % 4 {
            0 => EDGES[(self.next() % 8) as usize],
            1 => f32::from_bits(self.next() as u32),
            _ => (self.next() % 20000) as f32 / 100.0 - 100.0,
        }
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|f| f.to_bits()).collect()
}

/// In a module so that `cargo test interp` selects these tests.
mod interp {
    use super::*;

    #[test]
    fn saxpy_matches_rustc() {
        let program = compile(&input("saxpy.rs"));
        let mut rng = Rng(7);
        let n = 1000;
        let x: Vec<f32> = (0..n).map(|_| rng.f32()).collect();
        let y: Vec<f32> = (0..n).map(|_| rng.f32()).collect();
        let a = 1.5f32;
        let mut args = [
            Arg::Value(Value::F32(a)),
            Arg::Buffer(Buffer::from_slice(&x)),
            Arg::Buffer(Buffer::from_slice(&y)),
        ];
        let report = program
            .run_kernel("saxpy", Launch::for_elements(n as u64, 256), &mut args)
            .unwrap();
        assert_eq!(report.fault, None);
        let Arg::Buffer(out) = &args[2] else { panic!() };
        let expected: Vec<f32> = x.iter().zip(&y).map(|(x, y)| a * x + y).collect();
        assert_eq!(bits(&out.to_vec::<f32>().unwrap()), bits(&expected));
    }

    fn semantics_ref(x: i32, y: i32, v: f32) -> (i32, u8, f32) {
        let small = (x as u8).wrapping_mul(y as u8);
        let shifted = x.wrapping_shl(y as u32) ^ (x >> (y & 31));
        let sat = (x as i16).saturating_add(y as i16) as i32;
        let q = if y != 0 && !(x == i32::MIN && y == -1) {
            x / y + x % y
        } else {
            0
        };
        let out_i = shifted.wrapping_add(sat).wrapping_add(q) ^ !x;
        let out_u8 = small.rotate_left(3) | (x.count_ones() as u8);
        let out_f = (v as i32) as f32 + v.mul_add(2.0, 1.0).clamp(-10.0, 10.0) + (v as u8) as f32;
        (out_i, out_u8, out_f)
    }

    #[test]
    fn integer_and_float_semantics_match_rustc() {
        let program = compile(&input("semantics.rs"));
        let mut rng = Rng(42);
        let n = 64 * 40;
        let a: Vec<i32> = (0..n).map(|_| rng.i32()).collect();
        let b: Vec<i32> = (0..n).map(|_| rng.i32()).collect();
        let f: Vec<f32> = (0..n).map(|_| rng.f32()).collect();
        let mut args = [
            Arg::Buffer(Buffer::from_slice(&a)),
            Arg::Buffer(Buffer::from_slice(&b)),
            Arg::Buffer(Buffer::from_slice(&f)),
            Arg::Buffer(Buffer::from_slice(&vec![0i32; n])),
            Arg::Buffer(Buffer::from_slice(&vec![0u8; n])),
            Arg::Buffer(Buffer::from_slice(&vec![0f32; n])),
        ];
        let report = program
            .run_kernel("semantics", Launch::for_elements(n as u64, 64), &mut args)
            .unwrap();
        assert_eq!(report.fault, None);
        let [.., Arg::Buffer(oi), Arg::Buffer(ou), Arg::Buffer(of)] = &args else {
            panic!()
        };
        let (oi, ou, of) = (
            oi.to_vec::<i32>().unwrap(),
            ou.to_vec::<u8>().unwrap(),
            of.to_vec::<f32>().unwrap(),
        );
        for i in 0..n {
            let (ei, eu, ef) = semantics_ref(a[i], b[i], f[i]);
            assert_eq!((oi[i], ou[i]), (ei, eu), "x={} y={}", a[i], b[i]);
            assert_eq!(of[i].to_bits(), ef.to_bits(), "v={}", f[i]);
        }
    }

    fn classify_ref(x: i32) -> u8 {
        match x {
            i32::MIN..=-1 => 0,
            0 => 1,
            1..=3 => 2,
            n if n % 2 == 0 => 3,
            _ => 4,
        }
    }

    fn collatz_ref(mut n: u64) -> u32 {
        let mut steps = 0u32;
        while n != 1 {
            n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
            steps += 1;
        }
        steps
    }

    fn control_flow_ref(v: i32) -> u32 {
        let mut acc = 0u32;
        'outer: for a in 0..4 {
            for b in (0..=a).rev() {
                if b == 2 {
                    continue 'outer;
                }
                if a * b > 6 {
                    break 'outer;
                }
                acc = acc.wrapping_add((a * 10 + b) as u32);
            }
        }
        for s in (0..10i32).step_by(3) {
            acc += s as u32;
        }
        let found = loop {
            if acc > 1000 {
                break acc - 1000;
            }
            acc *= 2;
        };
        found + classify_ref(v) as u32 + collatz_ref(((v as i64 & 0xff) as u64) + 1)
    }

    #[test]
    fn control_flow_and_device_calls_match_rustc() {
        let program = compile(&input("control_flow.rs"));
        let mut rng = Rng(3);
        let n = 300;
        let v: Vec<i32> = (0..n).map(|_| rng.i32()).collect();
        let mut args = [
            Arg::Buffer(Buffer::from_slice(&v)),
            Arg::Buffer(Buffer::from_slice(&vec![0u32; n])),
        ];
        let report = program
            .run_kernel(
                "control_flow",
                Launch::for_elements(n as u64, 128),
                &mut args,
            )
            .unwrap();
        assert_eq!(report.fault, None);
        let Arg::Buffer(out) = &args[1] else { panic!() };
        let expected: Vec<u32> = v.iter().map(|&x| control_flow_ref(x)).collect();
        assert_eq!(out.to_vec::<u32>().unwrap(), expected);

        // A device function on its own, through `run_function`.
        for x in [-5, 0, 2, 8, 9] {
            let report = program
                .run_function(
                    "classify",
                    Launch::block([1, 1, 1]),
                    &mut [Arg::Value(Value::I32(x))],
                )
                .unwrap();
            assert_eq!(report.return_value(), Some(Value::U8(classify_ref(x))));
        }
    }

    const BLOCK_SUM: &str = r#"
#[gpu_kernel(block_size = 128)]
pub fn block_sum(ctx: &ThreadContext, input: &[u32], out: &mut [u32]) {
    let tile = ctx.shared_array::<u32, 128>();
    let t = ctx.thread_id() as usize;
    let i = ctx.global_id() as usize;
    tile[t] = if i < input.len() { input[i] } else { 0 };
    ctx.sync_threads();
    let mut stride = 64usize;
    while stride > 0 {
        if t < stride {
            tile[t] = tile[t].wrapping_add(tile[t + stride]);
        }
        ctx.sync_threads();
        stride /= 2;
    }
    if t == 0 {
        out[ctx.block_id() as usize] = tile[0];
    }
}
"#;

    #[test]
    fn shared_memory_tree_reduction_with_barriers() {
        let program = compile(BLOCK_SUM);
        let mut rng = Rng(11);
        let n = 1000usize;
        let v: Vec<u32> = (0..n).map(|_| rng.next() as u32).collect();
        let blocks = n.div_ceil(128);
        let mut args = [
            Arg::Buffer(Buffer::from_slice(&v)),
            Arg::Buffer(Buffer::from_slice(&vec![0u32; blocks])),
        ];
        let report = program
            .run_kernel("block_sum", Launch::for_elements(n as u64, 128), &mut args)
            .unwrap();
        assert_eq!(report.fault, None);
        let Arg::Buffer(out) = &args[1] else { panic!() };
        let expected: Vec<u32> = v
            .chunks(128)
            .map(|c| c.iter().fold(0u32, |a, &b| a.wrapping_add(b)))
            .collect();
        assert_eq!(out.to_vec::<u32>().unwrap(), expected);
    }

    const WARPS: &str = r#"
#[gpu_kernel(block_size = 96)]
pub fn warps(ctx: &ThreadContext, input: &[f32], down: &mut [f32], xor: &mut [f32], block: &mut [f32], ballot: &mut [u32]) {
    let i = ctx.global_id() as usize;
    let v = input[i];
    let mut s = v;
    let mut off = 16u32;
    while off > 0 {
        s += ctx.warp_shuffle_down(s, off);
        off /= 2;
    }
    down[i] = s;
    xor[i] = ctx.warp_reduce_sum(v);
    block[i] = ctx.block_reduce_sum(v);
    ballot[i] = ctx.warp_ballot(v > 0.0);
}
"#;

    /// The documented warp order: the xor butterfly.
    fn butterfly(mut v: [f32; 32]) -> [f32; 32] {
        for off in [16, 8, 4, 2, 1] {
            let p = v;
            for l in 0..32 {
                v[l] = p[l] + p[l ^ off];
            }
        }
        v
    }

    #[test]
    fn warp_and_block_collectives_in_lockstep() {
        let program = compile(WARPS);
        let mut rng = Rng(5);
        let n = 96 * 3;
        let v: Vec<f32> = (0..n)
            .map(|_| (rng.next() % 2001) as f32 / 7.0 - 140.0)
            .collect();
        let zeros = vec![0f32; n];
        let mut args = [
            Arg::Buffer(Buffer::from_slice(&v)),
            Arg::Buffer(Buffer::from_slice(&zeros)),
            Arg::Buffer(Buffer::from_slice(&zeros)),
            Arg::Buffer(Buffer::from_slice(&zeros)),
            Arg::Buffer(Buffer::from_slice(&vec![0u32; n])),
        ];
        let report = program
            .run_kernel("warps", Launch::for_elements(n as u64, 96), &mut args)
            .unwrap();
        assert_eq!(report.fault, None);
        let out: Vec<Vec<u32>> = args[1..4]
            .iter()
            .map(|a| match a {
                Arg::Buffer(b) => bits(&b.to_vec::<f32>().unwrap()),
                _ => panic!(),
            })
            .collect();
        let Arg::Buffer(ballot) = &args[4] else {
            panic!()
        };
        let ballot = ballot.to_vec::<u32>().unwrap();
        for (b, block) in v.chunks(96).enumerate() {
            let mut partials = [0f32; 32];
            for (w, warp) in block.chunks(32).enumerate() {
                let lanes: [f32; 32] = warp.try_into().unwrap();
                // shuffle_down: out-of-range sources keep their own value.
                let mut s = lanes;
                for off in [16, 8, 4, 2, 1] {
                    let p = s;
                    for l in 0..32 {
                        s[l] = p[l] + if l + off < 32 { p[l + off] } else { p[l] };
                    }
                }
                let x = butterfly(lanes);
                partials[w] = x[0];
                let mask = (0..32)
                    .filter(|&l| lanes[l] > 0.0)
                    .fold(0u32, |m, l| m | 1 << l);
                for l in 0..32 {
                    let i = b * 96 + w * 32 + l;
                    assert_eq!(out[0][i], s[l].to_bits(), "shuffle_down at {i}");
                    assert_eq!(out[1][i], x[l].to_bits(), "warp_reduce_sum at {i}");
                    assert_eq!(ballot[i], mask);
                }
            }
            // Block: warp partials folded left to right.
            let total = partials[1..3].iter().fold(partials[0], |r, p| r + p);
            for (i, got) in out[2].iter().enumerate().skip(b * 96).take(96) {
                assert_eq!(*got, total.to_bits(), "block_reduce_sum at {i}");
            }
        }
    }

    const EARLY_EXIT: &str = r#"
#[gpu_kernel(block_size = 64)]
pub fn early_exit(ctx: &ThreadContext, out: &mut [u32]) {
    let t = ctx.thread_id();
    if t >= 60 {
        return;
    }
    ctx.sync_threads();
    out[t as usize] = t;
}
"#;

    #[test]
    fn divergent_barrier_reports_both_locations() {
        let program = compile(EARLY_EXIT);
        let mut args = [Arg::Buffer(Buffer::from_slice(&[0u32; 64]))];
        let err = program
            .run_kernel("early_exit", Launch::d1(1, 64), &mut args)
            .unwrap_err();
        let InterpError::DivergentBarrier(d) = &err else {
            panic!("{err}")
        };
        let (BarrierParty::Waiting(wait), BarrierParty::Finished(ret)) = (&d.first, &d.second)
        else {
            panic!("{err}")
        };
        assert_eq!(d.first_thread, [0, 0, 0]);
        assert_eq!(d.second_thread, [60, 0, 0]);
        assert_eq!(wait.line, line_of(EARLY_EXIT, "sync_threads"));
        assert_eq!(ret.line, line_of(EARLY_EXIT, "return;"));
        assert_eq!(wait.file.as_deref(), Some(FILE));
        // The message names both places.
        let text = err.to_string();
        assert!(text.contains("kernel.rs:8:"), "{text}");
        assert!(text.contains("kernel.rs:6:"), "{text}");
    }

    const DIVERGENT_WARP: &str = r#"
#[gpu_kernel(block_size = 32)]
pub fn split(ctx: &ThreadContext, out: &mut [u32]) {
    let t = ctx.thread_id() as usize;
    if ctx.lane_id() < 16 {
        out[t] = ctx.warp_reduce_sum(1u32);
    } else {
        out[t] = ctx.warp_reduce_sum(2u32);
    }
}
"#;

    #[test]
    fn divergent_warp_collective_is_an_error() {
        let program = compile(DIVERGENT_WARP);
        let mut args = [Arg::Buffer(Buffer::from_slice(&[0u32; 32]))];
        let err = program
            .run_kernel("split", Launch::d1(1, 32), &mut args)
            .unwrap_err();
        let InterpError::DivergentWarp(d) = &err else {
            panic!("{err}")
        };
        let (BarrierParty::Waiting(a), BarrierParty::Waiting(b)) = (&d.first, &d.second) else {
            panic!("{err}")
        };
        assert_eq!((d.first_lane, d.second_lane), (0, 16));
        assert_eq!(a.line, line_of(DIVERGENT_WARP, "(1u32)"));
        assert_eq!(b.line, line_of(DIVERGENT_WARP, "(2u32)"));
    }

    const RACY: &str = r#"
#[gpu_kernel(block_size = 64)]
pub fn racy(ctx: &ThreadContext, out: &mut [u32]) {
    let tile = ctx.shared_array::<u32, 64>();
    let t = ctx.thread_id() as usize;
    tile[t] = t as u32;
    let neighbour = tile[(t + 1) % 64];
    ctx.sync_threads();
    tile[0] = neighbour;
    out[t] = tile[t];
}
"#;

    #[test]
    fn shared_memory_races_are_reported_with_both_threads() {
        let program = compile(RACY);
        let mut args = [Arg::Buffer(Buffer::from_slice(&[0u32; 64]))];
        let err = program
            .run_kernel("racy", Launch::d1(1, 64), &mut args)
            .unwrap_err();
        // Thread 0 reads tile[1] before thread 1 writes it, with no barrier.
        let InterpError::DataRace(race) = &err else {
            panic!("{err}")
        };
        let (first, second) = (&race.first, &race.second);
        assert!(matches!(race.space, RaceSpace::Shared { .. }));
        assert_eq!(race.offset, 4);
        assert_eq!((first.kind, first.thread), (AccessKind::Read, [0, 0, 0]));
        assert_eq!((second.kind, second.thread), (AccessKind::Write, [1, 0, 0]));
        assert_eq!(first.location.line, line_of(RACY, "let neighbour"));
        assert_eq!(second.location.line, line_of(RACY, "tile[t] = t as u32"));

        // With the read after the barrier, the first race is the write-write
        // on tile[0] by every thread.
        let fixed = RACY.replace(
            "    let neighbour = tile[(t + 1) % 64];\n    ctx.sync_threads();\n",
            "    ctx.sync_threads();\n    let neighbour = tile[(t + 1) % 64];\n",
        );
        let program = compile(&fixed);
        let err = program
            .run_kernel("racy", Launch::d1(1, 64), &mut args)
            .unwrap_err();
        let InterpError::DataRace(race) = &err else {
            panic!("{err}")
        };
        let (first, second) = (&race.first, &race.second);
        assert_eq!(
            (first.kind, second.kind),
            (AccessKind::Write, AccessKind::Write)
        );
        assert_eq!(first.location.line, line_of(&fixed, "tile[0] = neighbour"));
    }

    /// Items compiled here by rustc and handed, as text, to the front end
    /// as `#[device_fn]`s: both must agree on every inferred type.
    macro_rules! rust_and_device_fns {
        ($source:ident: $($item:item)*) => {
            $(
                // The loops index on purpose: that is what is inferred.
                #[allow(clippy::needless_range_loop)]
                $item
            )*
            const $source: &str = concat!($("#[device_fn]\n", stringify!($item), "\n"),*);
        };
    }

    rust_and_device_fns! {
        INFERENCE:
        fn sum4(v: [f32; 4]) -> f32 {
            v[0] + v[1] * 2.0 + v[2] * 3.0 + v[3] * 4.0
        }
        fn halves() -> [f32; 2] {
            [0.5; 2]
        }
        fn inferred_loops(a: f32, b: i32) -> f32 {
            let mut feats: [f32; 16] = [0.0; 16];
            // Range types bound by the body: `usize` from indexing ...
            for i in 0..16 {
                feats[i] = a * i as f32;
            }
            let mut acc = 0.0f32;
            for k in (0..16).step_by(4) {
                let f = feats[k];
                acc += f;
            }
            for k in (0..16).rev().step_by(3) {
                acc += feats[k];
            }
            for k in (1..=15).rev() {
                acc += feats[k] * 0.5;
            }
            for mut k in 0..3 {
                k += 1;
                acc += feats[k];
            }
            let mut i = 0;
            while i < 4 {
                acc += feats[i];
                i += 1;
            }
            // ... `i32` from a comparison, `u8`/`i8` from annotated lets
            // (ranges reaching the type's ends) ...
            for t in 0..4 {
                if t < b {
                    acc += 1.0;
                }
            }
            for v in 250..=255 {
                let x: u8 = v;
                acc += x as f32;
            }
            for v in (-128..=127).rev().step_by(51) {
                let x: i8 = v;
                acc += x as f32;
            }
            // ... and the `i32` default when nothing binds it.
            for t in (0..7).step_by(2) {
                acc += (t * 1000000) as f32;
            }
            // Array literals take their element type from the expectation.
            let arr: [f32; 4] = [0.25; 4];
            let nested: [[f32; 2]; 2] = [[1.5, 2.5], [3.5; 2]];
            acc += sum4([0.0; 4]) + sum4([a, 1.0, 2.0, 3.0]) + sum4(arr) + sum4([1.5, 2.5, 3.5, 4.5]);
            acc + nested[1][0] + halves()[1]
        }
    }

    #[test]
    fn inferred_range_and_array_types_match_rustc() {
        let program = compile(INFERENCE);
        for (a, b) in [(0.5f32, 2), (-3.25, -1), (1e3, 9)] {
            let report = program
                .run_function(
                    "inferred_loops",
                    Launch::block([1, 1, 1]),
                    &mut [Arg::Value(Value::F32(a)), Arg::Value(Value::I32(b))],
                )
                .unwrap();
            assert_eq!(report.fault, None);
            let Some(Value::F32(got)) = report.return_value() else {
                panic!("{:?}", report.return_value())
            };
            assert_eq!(got.to_bits(), inferred_loops(a, b).to_bits(), "a={a} b={b}");
        }
    }

    const FAULTS: &str = r#"
#[gpu_kernel(block_size = 32)]
pub fn shifted(ctx: &ThreadContext, x: &[i32], y: &mut [i32]) {
    let i = ctx.global_id() as usize;
    let v = x[i + 1];
    y[i] = v + 1;
}
"#;

    #[test]
    fn faults_stop_one_thread_and_carry_the_rust_location() {
        let program = compile(FAULTS);
        let x: Vec<i32> = (0..32).collect();
        let mut args = [
            Arg::Buffer(Buffer::from_slice(&x)),
            Arg::Buffer(Buffer::from_slice(&[0i32; 32])),
        ];
        let report = program
            .run_kernel("shifted", Launch::d1(1, 32), &mut args)
            .unwrap();
        let fault = report.fault.expect("thread 31 reads x[32]");
        assert_eq!(fault.kind, CheckKind::IndexOutOfBounds);
        assert_eq!(fault.thread.thread, [31, 0, 0]);
        assert_eq!(fault.location.line, line_of(FAULTS, "x[i + 1]"));
        assert_eq!(report.faulted_threads, 1);
        // The other threads ran on.
        let Arg::Buffer(y) = &args[1] else { panic!() };
        let y = y.to_vec::<i32>().unwrap();
        assert_eq!(&y[..31], &(2..33).collect::<Vec<_>>()[..]);

        // Overflow checks are on by default: i32::MAX + 1 faults.
        let mut x = vec![0i32; 33];
        x[6] = i32::MAX;
        let mut args = [
            Arg::Buffer(Buffer::from_slice(&x)),
            Arg::Buffer(Buffer::from_slice(&[0i32; 32])),
        ];
        let report = program
            .run_kernel("shifted", Launch::d1(1, 32), &mut args)
            .unwrap();
        let fault = report.fault.unwrap();
        assert_eq!(fault.kind, CheckKind::Overflow);
        assert_eq!(fault.thread.thread, [5, 0, 0]);
        assert_eq!(fault.location.line, line_of(FAULTS, "v + 1"));
    }

    const ATOMICS: &str = r#"
#[gpu_kernel(block_size = 64)]
pub fn count(ctx: &ThreadContext, input: &[u32], hist: &mut [u32], order: &mut [u32]) {
    let i = ctx.global_id() as usize;
    let bin = (input[i] % 4) as usize;
    ctx.atomic_add(&mut hist[bin], 1u32);
    let ticket = ctx.atomic_add(&mut hist[4], 1u32);
    order[i] = ticket;
}
"#;

    #[test]
    fn atomics_are_sequential_and_deterministic() {
        let program = compile(ATOMICS);
        let input: Vec<u32> = (0..256).map(|i| i * 7 + 1).collect();
        let mut args = [
            Arg::Buffer(Buffer::from_slice(&input)),
            Arg::Buffer(Buffer::from_slice(&[0u32; 5])),
            Arg::Buffer(Buffer::from_slice(&[0u32; 256])),
        ];
        program
            .run_kernel("count", Launch::d1(4, 64), &mut args)
            .unwrap();
        let Arg::Buffer(hist) = &args[1] else {
            panic!()
        };
        let mut expected = [0u32; 5];
        for v in &input {
            expected[(v % 4) as usize] += 1;
        }
        expected[4] = 256;
        assert_eq!(hist.to_vec::<u32>().unwrap(), expected);
        let Arg::Buffer(order) = &args[2] else {
            panic!()
        };
        assert_eq!(order.to_vec::<u32>().unwrap(), (0..256).collect::<Vec<_>>());
    }
}
