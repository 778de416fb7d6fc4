//! One module per feature: snapshot of the CUDA, then NVRTC + ptxas.

use insta::assert_snapshot;

use super::builder::ModuleBuilder;
use super::{compile_output, emit};
use crate::back::cuda::{CParam, ParamAbi};
use crate::ir::*;

const F32: Scalar = Scalar::Float(FloatKind::F32);
const I32: Scalar = Scalar::Int(IntKind::I32);
const U32: Scalar = Scalar::Int(IntKind::U32);
const U64: Scalar = Scalar::Int(IntKind::U64);
const USIZE: Scalar = Scalar::Int(IntKind::Usize);

/// DESIGN.md's saxpy: slices, a bounds check, an early return.
fn saxpy() -> Module {
    let mut m = ModuleBuilder::new();
    let f32_t = m.scalar(F32);
    let x_t = m.slice(f32_t, false);
    let y_t = m.slice(f32_t, true);
    let usize_t = m.scalar(USIZE);
    m.kernel("saxpy", [256, 1, 1], |f| {
        let a = f.param("a", f32_t);
        let x = f.param("x", x_t);
        let y = f.param("y", y_t);
        let i = f.local("i", usize_t);
        let gid = f.expr(Expression::Builtin(Builtin::GlobalId));
        let gid = f.cast(gid, USIZE);
        f.set(i, gid);
        let iv = f.read(i);
        let yv = f.read(y);
        let len = f.expr(Expression::Len(yv));
        let out = f.bin(BinaryOp::Ge, iv, len);
        f.if_(out, |f| f.ret(None));
        let xi = f.checked_index(x, iv);
        let yi = f.checked_index(y, iv);
        let av = f.read(a);
        let ax = f.bin(BinaryOp::Mul, av, xi);
        let sum = f.bin(BinaryOp::Add, ax, yi);
        f.store(yi, sum);
        f.ret(None);
    });
    m.module
}

#[test]
fn saxpy_snapshot_metadata_and_compile() {
    let output = emit(&saxpy());
    assert_snapshot!("saxpy", output.source);
    let kernel = &output.kernels[0];
    assert_eq!(kernel.symbol, "saxpy");
    assert_eq!(kernel.max_threads_per_block, 256);
    assert_eq!(kernel.static_shared_bytes, 0);
    assert_eq!(kernel.params[0].abi, ParamAbi::Scalar(F32));
    assert_eq!(
        kernel.params[2].abi,
        ParamAbi::Slice {
            elem_size: 4,
            elem_align: 4,
            mutable: true
        }
    );
    assert_eq!(
        kernel.c_params(),
        vec![
            CParam::Value { size: 4, align: 4 },
            CParam::Pointer,
            CParam::Length,
            CParam::Pointer,
            CParam::Length,
            CParam::FaultRecord,
        ]
    );
    assert!(output.nvrtc_options.contains(&"--fmad=false".to_string()));
    if let Some(ptx) = compile_output("saxpy", &output) {
        // a * x + y must stay a multiply and an add: Rust never contracts.
        assert!(!ptx.contains("fma.rn.f32"), "contracted to FMA:\n{ptx}");
        assert!(
            ptx.contains("mul.rn.f32") && ptx.contains("add.rn.f32"),
            "{ptx}"
        );
        assert!(
            ptx.contains("kernels.rs"),
            "#line file reaches the PTX:\n{ptx}"
        );
    }
}

/// Deterministic output: the same module writes the same bytes.
#[test]
fn output_is_deterministic() {
    assert_eq!(emit(&saxpy()), emit(&saxpy()));
}

/// Structs from host layouts (natural, padded, over-aligned), arrays as
/// values, references to state and message, struct literals and splats.
fn structs() -> Module {
    let mut m = ModuleBuilder::new();
    let f32_t = m.scalar(F32);
    let u32_t = m.scalar(U32);
    let u64_t = m.scalar(U64);
    let bool_t = m.scalar(Scalar::Bool);
    let u8_t = m.scalar(Scalar::Int(IntKind::U8));
    let values_t = m.array(f32_t, 4);
    let stats_t = m.repr_c("Stats", &[("count", u64_t), ("total", f32_t)]);
    let request_t = m.repr_c(
        "Request",
        &[
            ("id", u32_t),
            ("values", values_t),
            ("flag", bool_t),
            ("class", u8_t),
        ],
    );
    // #[repr(C, align(16))] with a member the user placed at offset 8.
    let aligned_t = m.module.ty(Type::Struct(StructType {
        name: "Aligned".into(),
        size: 32,
        align: 16,
        members: vec![
            StructMember {
                name: "tag".into(),
                ty: u8_t,
                offset: 0,
            },
            StructMember {
                name: "value".into(),
                ty: u64_t,
                offset: 16,
            },
        ],
    }));
    let grid_t = m.array(stats_t, 2);
    let state_t = m.reference(stats_t, true);
    let msg_t = m.reference(request_t, false);
    let out_t = m.slice(aligned_t, true);
    let usize_t = m.scalar(USIZE);
    let _ = usize_t;
    m.kernel("structs", [64, 1, 1], |f| {
        let state = f.param("state", state_t);
        let msg = f.param("msg", msg_t);
        let out = f.param("out", out_t);
        let grid = f.local("grid", grid_t);
        let sum = f.local("sum", f32_t);
        // state.count += 1
        let sv = f.read(state);
        let s = f.expr(Expression::Deref(sv));
        let count = f.field(s, 0);
        let one = f.int(1, IntKind::U64);
        let inc = f.bin(BinaryOp::Add, count, one);
        f.store(count, inc);
        // let sum = msg.values[1] + msg.values[3];
        let mv = f.read(msg);
        let mr = f.expr(Expression::Deref(mv));
        let values = f.field(mr, 1);
        let i1 = f.usize(1);
        let i3 = f.usize(3);
        let v1 = f.index(values, i1);
        let v3 = f.index(values, i3);
        let add = f.bin(BinaryOp::Add, v1, v3);
        f.set(sum, add);
        // let grid = [Stats { count: msg.id as u64, total: sum }; 2];
        let id = f.field(mr, 0);
        let id64 = f.cast(id, U64);
        let sumv = f.read(sum);
        let stats = f.expr(Expression::Compose {
            ty: stats_t,
            components: vec![id64, sumv],
        });
        let splat = f.expr(Expression::Splat {
            ty: grid_t,
            value: stats,
        });
        f.set(grid, splat);
        // state.total = grid[1].total;
        let gv = f.read(grid);
        let g1 = f.index(gv, i1);
        let total = f.field(g1, 1);
        let st = f.field(s, 1);
        f.store(st, total);
        // out[0] = Aligned { tag: msg.class, value: state.count };
        let class = f.field(mr, 3);
        let aligned = f.expr(Expression::Compose {
            ty: aligned_t,
            components: vec![class, count],
        });
        let i0 = f.usize(0);
        let ov = f.read(out);
        let o0 = f.index(ov, i0);
        f.store(o0, aligned);
        f.ret(None);
    });
    m.module
}

#[test]
fn structs_snapshot_and_compile() {
    let output = emit(&structs());
    assert_snapshot!("structs", output.source);
    assert_eq!(
        output.kernels[0].params[0].abi,
        ParamAbi::Pointer {
            size: 16,
            mutable: true
        }
    );
    compile_output("structs", &output);
}

/// Nested loops with `break`/`continue` of the outer loop (gotos), an
/// if/else chain, shadowed names and temporaries.
fn control_flow() -> Module {
    let mut m = ModuleBuilder::new();
    let i32_t = m.scalar(I32);
    let out_t = m.slice(i32_t, true);
    m.kernel("control_flow", [32, 1, 1], |f| {
        let out = f.param("out", out_t);
        let i = f.local("i", i32_t);
        let j = f.local("j", i32_t);
        let acc = f.local("acc", i32_t);
        let acc2 = f.local("acc", i32_t);
        let t = f.temp(i32_t);
        let zero = f.int(0, IntKind::I32);
        let ten = f.int(10, IntKind::I32);
        let one = f.int(1, IntKind::I32);
        f.set(acc, zero);
        f.set(i, zero);
        f.loop_(|f, outer| {
            let iv = f.read(i);
            let done = f.bin(BinaryOp::Ge, iv, ten);
            f.if_(done, |f| f.stmt(Statement::Break(outer)));
            let next = f.bin(BinaryOp::Add, iv, one);
            f.set(i, next);
            f.set(j, zero);
            f.loop_(|f, inner| {
                let jv = f.read(j);
                let jn = f.bin(BinaryOp::Add, jv, one);
                f.set(j, jn);
                let three = f.int(3, IntKind::I32);
                let is3 = f.bin(BinaryOp::Eq, jv, three);
                let seven = f.int(7, IntKind::I32);
                let is7 = f.bin(BinaryOp::Eq, jv, seven);
                let big = f.bin(BinaryOp::Gt, jv, seven);
                f.if_else(
                    is3,
                    |f| f.stmt(Statement::Continue(outer)),
                    |f| {
                        f.if_else(
                            is7,
                            |f| f.stmt(Statement::Break(outer)),
                            |f| f.if_(big, |f| f.stmt(Statement::Break(inner))),
                        )
                    },
                );
                let av = f.read(acc);
                let prod = f.bin(BinaryOp::Mul, av, jv);
                f.set(t, prod);
                let tv = f.read(t);
                f.set(acc, tv);
                f.stmt(Statement::Continue(inner));
            });
        });
        let av = f.read(acc);
        let doubled = f.bin(BinaryOp::Add, av, av);
        f.set(acc2, doubled);
        let o = f.read(out);
        let i0 = f.usize(0);
        let slot = f.index(o, i0);
        let a2 = f.read(acc2);
        f.store(slot, a2);
        f.ret(None);
    });
    m.module
}

#[test]
fn control_flow_snapshot_and_compile() {
    let output = emit(&control_flow());
    assert_snapshot!("control_flow", output.source);
    compile_output("control_flow", &output);
}

/// A checked device function called from a kernel: faults propagate.
fn calls_and_faults() -> Module {
    let mut m = ModuleBuilder::new();
    let i32_t = m.scalar(I32);
    let out_t = m.slice(i32_t, true);
    let in_t = m.slice(i32_t, false);
    let safe_div = m.function("safe_div", |f| {
        f.result(i32_t);
        let a = f.param("a", i32_t);
        let b = f.param("b", i32_t);
        let av = f.read(a);
        let bv = f.read(b);
        let zero = f.int(0, IntKind::I32);
        let nonzero = f.bin(BinaryOp::Ne, bv, zero);
        f.check(CheckKind::DivisionByZero, nonzero);
        let overflow = f.expr(Expression::Overflows {
            op: OverflowOp::DivRem,
            left: av,
            right: bv,
        });
        let ok = f.expr(Expression::Unary {
            op: UnaryOp::Not,
            expr: overflow,
        });
        f.check(CheckKind::Overflow, ok);
        let q = f.bin(BinaryOp::Div, av, bv);
        f.ret(Some(q));
    });
    let first = m.function("first", |f| {
        f.result(i32_t);
        let xs = f.param("xs", in_t);
        let zero = f.usize(0);
        let x0 = f.checked_index(xs, zero);
        f.ret(Some(x0));
    });
    m.kernel("divide", [128, 1, 1], |f| {
        let xs = f.param("xs", in_t);
        let out = f.param("out", out_t);
        let q = f.local("q", i32_t);
        let x = f.local("x", i32_t);
        let xsv = f.read(xs);
        f.call(first, &[xsv], Some(x));
        let xv = f.read(x);
        let seven = f.int(-7, IntKind::I32);
        f.call(safe_div, &[seven, xv], Some(q));
        let qv = f.read(q);
        let zero = f.int(0, IntKind::I32);
        let neg = f.bin(BinaryOp::Lt, qv, zero);
        f.if_(neg, |f| f.stmt(Statement::Fault(CheckKind::Explicit)));
        let i0 = f.usize(0);
        let slot = f.checked_index(out, i0);
        f.store(slot, qv);
        f.ret(None);
    });
    m.module
}

#[test]
fn calls_and_faults_snapshot_and_compile() {
    let output = emit(&calls_and_faults());
    assert_snapshot!("calls_and_faults", output.source);
    compile_output("calls_and_faults", &output);
}

/// Barriers, fences, atomics on slice elements, state fields and shared
/// memory, warp collectives, reductions and the clock.
fn intrinsics() -> Module {
    let mut m = ModuleBuilder::new();
    let f32_t = m.scalar(F32);
    let u32_t = m.scalar(U32);
    let u64_t = m.scalar(U64);
    let i64_t = m.scalar(Scalar::Int(IntKind::I64));
    let f64_t = m.scalar(Scalar::Float(FloatKind::F64));
    let bool_t = m.scalar(Scalar::Bool);
    let stats_t = m.repr_c(
        "Counters",
        &[("hits", u64_t), ("low", i64_t), ("peak", f64_t)],
    );
    let state_t = m.reference(stats_t, true);
    let data_t = m.slice(f32_t, true);
    let tile_t = m.array(f32_t, 128);
    m.kernel("intrinsics", [128, 1, 1], |f| {
        let state = f.param("state", state_t);
        let data = f.param("data", data_t);
        let tile = f.shared("tile", tile_t);
        let v = f.local("v", f32_t);
        let lane = f.local("lane", u32_t);
        let old = f.local("old", u64_t);
        let mask = f.local("mask", u32_t);
        let all = f.local("all", bool_t);
        let any = f.local("any", bool_t);
        let total = f.local("total", f32_t);
        let smallest = f.local("smallest", i64_t);
        let start = f.local("start", u64_t);
        f.intrinsic(IntrinsicOp::ClockNs, &[], Some(start));
        let tid = f.expr(Expression::Builtin(Builtin::ThreadId));
        let tid = f.cast(tid, USIZE);
        let dv = f.read(data);
        let di = f.index(dv, tid);
        f.set(v, di);
        let tv = f.expr(Expression::Shared(tile));
        let ti = f.index(tv, tid);
        let vv = f.read(v);
        f.store(ti, vv);
        f.intrinsic(IntrinsicOp::SyncThreads, &[], None);
        let l = f.expr(Expression::Builtin(Builtin::LaneId));
        f.set(lane, l);
        let lv = f.read(lane);
        let one = f.int(1, IntKind::U32);
        f.intrinsic(
            IntrinsicOp::WarpShuffle(ShuffleMode::Xor),
            &[vv, one],
            Some(v),
        );
        f.intrinsic(
            IntrinsicOp::WarpShuffle(ShuffleMode::Down),
            &[vv, one],
            Some(v),
        );
        f.intrinsic(
            IntrinsicOp::WarpShuffle(ShuffleMode::Index),
            &[vv, lv],
            Some(v),
        );
        let zero = f.lit(Literal::f32(0.0));
        let pos = f.bin(BinaryOp::Gt, vv, zero);
        f.intrinsic(IntrinsicOp::WarpBallot, &[pos], Some(mask));
        f.intrinsic(IntrinsicOp::WarpAll, &[pos], Some(all));
        f.intrinsic(IntrinsicOp::WarpAny, &[pos], Some(any));
        f.intrinsic(IntrinsicOp::WarpReduce(ReduceOp::Max), &[vv], Some(v));
        f.intrinsic(IntrinsicOp::BlockReduce(ReduceOp::Sum), &[vv], Some(total));
        let sv = f.read(state);
        let s = f.expr(Expression::Deref(sv));
        let hits = f.field(s, 0);
        let low = f.field(s, 1);
        let peak = f.field(s, 2);
        let one64 = f.int(1, IntKind::U64);
        f.intrinsic(
            IntrinsicOp::Atomic(AtomicOp::Add),
            &[hits, one64],
            Some(old),
        );
        let tid64 = f.expr(Expression::Builtin(Builtin::ThreadId));
        let tid64 = f.cast(tid64, Scalar::Int(IntKind::I64));
        f.intrinsic(
            IntrinsicOp::Atomic(AtomicOp::Min),
            &[low, tid64],
            Some(smallest),
        );
        let totalv = f.read(total);
        let total64 = f.cast(totalv, Scalar::Float(FloatKind::F64));
        f.intrinsic(IntrinsicOp::Atomic(AtomicOp::Max), &[peak, total64], None);
        f.intrinsic(IntrinsicOp::Atomic(AtomicOp::Sub), &[di, vv], None);
        let expected = f.lit(Literal::f32(1.0));
        f.intrinsic(
            IntrinsicOp::Atomic(AtomicOp::CompareExchange),
            &[ti, expected, totalv],
            Some(v),
        );
        f.intrinsic(IntrinsicOp::ThreadFence, &[], None);
        f.intrinsic(IntrinsicOp::ThreadFenceBlock, &[], None);
        f.intrinsic(IntrinsicOp::ThreadFenceSystem, &[], None);
        f.intrinsic(IntrinsicOp::SyncWarp, &[], None);
        // Keep every result alive.
        let maskv = f.read(mask);
        let allv = f.read(all);
        let anyv = f.read(any);
        let bits = f.cast(maskv, F32);
        let a = f.cast(allv, U32);
        let b = f.cast(anyv, U32);
        let ab = f.bin(BinaryOp::Add, a, b);
        let abf = f.cast(ab, F32);
        let x = f.bin(BinaryOp::Add, bits, abf);
        let oldv = f.read(old);
        let oldf = f.cast(oldv, F32);
        let sm = f.read(smallest);
        let smf = f.cast(sm, F32);
        let st = f.read(start);
        let stf = f.cast(st, F32);
        let y = f.bin(BinaryOp::Add, x, oldf);
        let y = f.bin(BinaryOp::Add, y, smf);
        let y = f.bin(BinaryOp::Add, y, stf);
        let y = f.bin(BinaryOp::Add, y, vv);
        f.store(di, y);
        f.ret(None);
    });
    m.module
}

#[test]
fn intrinsics_snapshot_and_compile() {
    let output = emit(&intrinsics());
    assert_snapshot!("intrinsics", output.source);
    // tile: 128 * 4 bytes, block_reduce_sum_f32 scratch: 32 * 4 bytes.
    assert_eq!(output.kernels[0].static_shared_bytes, 512 + 128);
    if let Some(ptx) = compile_output("intrinsics", &output) {
        assert!(ptx.contains("%globaltimer"), "{ptx}");
        assert!(ptx.contains("shfl.sync.bfly"), "{ptx}");
    }
}

/// Collectives in a block that is not whole warps are refused.
#[test]
fn collectives_need_whole_warps() {
    let mut module = intrinsics();
    module.entry_points[0].kind = EntryKind::Kernel { block: [48, 1, 1] };
    let info = crate::valid::validate(&module).unwrap();
    let error = crate::back::cuda::write_module(&module, &info, &Default::default()).unwrap_err();
    assert_eq!(
        error,
        crate::back::cuda::Error::PartialWarp {
            kernel: "intrinsics".into(),
            threads: 48
        }
    );
}

/// Without `#line` directives the output has none.
#[test]
fn line_directives_can_be_turned_off() {
    let module = saxpy();
    let info = crate::valid::validate(&module).unwrap();
    let options = crate::back::cuda::Options {
        line_directives: false,
    };
    let output = crate::back::cuda::write_module(&module, &info, &options).unwrap();
    assert!(!output.source.contains("#line"));
}

/// Reserved and colliding Rust names get stable C names.
#[test]
fn names_avoid_keywords_and_collisions() {
    let mut m = ModuleBuilder::new();
    let i32_t = m.scalar(I32);
    let out_t = m.slice(i32_t, true);
    let helper = m.function("int", |f| {
        f.result(i32_t);
        let class = f.param("class", i32_t);
        let c = f.read(class);
        f.ret(Some(c));
    });
    m.kernel("names", [32, 1, 1], |f| {
        let out = f.param("out", out_t);
        let a = f.local("threadIdx", i32_t);
        let b = f.local("rk_x", i32_t);
        let c = f.local("out_len", i32_t);
        let one = f.int(1, IntKind::I32);
        f.set(a, one);
        f.set(b, one);
        let av = f.read(a);
        f.call(helper, &[av], Some(c));
        let o = f.read(out);
        let i0 = f.usize(0);
        let slot = f.index(o, i0);
        let cv = f.read(c);
        let bv = f.read(b);
        let sum = f.bin(BinaryOp::Add, cv, bv);
        f.store(slot, sum);
        f.ret(None);
    });
    let output = emit(&m.module);
    assert_snapshot!("names", output.source);
    compile_output("names", &output);
}
