//! The interpreter on hand-built IR: what the Rust front end does not
//! produce yet (handlers over `&mut State` / `&Msg` structs, struct
//! returns), and the error paths the pipeline normally rules out
//! (unchecked indexing, recursion, bad arguments).

use ringkernel_transpiler::arena::Handle;
use ringkernel_transpiler::interp::{
    AccessKind, Arg, Buffer, InterpError, Launch, Program, RaceSpace, UncheckedOp, Value,
};
use ringkernel_transpiler::ir::*;
use ringkernel_transpiler::span::{LineCol, Span};

fn at(line: u32) -> Span {
    Span {
        start: LineCol { line, column: 4 },
        end: LineCol { line, column: 20 },
    }
}

/// A tiny builder: one function at a time, statements at given lines.
struct Builder {
    module: Module,
    func: Function,
}

impl Builder {
    fn new(module: Module, name: &str) -> Builder {
        Builder {
            module,
            func: Function {
                name: name.into(),
                ..Function::default()
            },
        }
    }
    fn ty(&mut self, t: Type) -> Handle<Type> {
        self.module.ty(t)
    }
    fn scalar(&mut self, s: Scalar) -> Handle<Type> {
        self.ty(Type::Scalar(s))
    }
    fn param(&mut self, name: &str, ty: Handle<Type>) -> Handle<Local> {
        let l = self.local(name, ty);
        self.func.params.push(l);
        l
    }
    fn local(&mut self, name: &str, ty: Handle<Type>) -> Handle<Local> {
        self.func.locals.append(
            Local {
                name: Some(name.into()),
                ty,
                mutable: true,
            },
            Span::UNKNOWN,
        )
    }
    fn e(&mut self, e: Expression) -> Handle<Expression> {
        self.func.expressions.append(e, Span::UNKNOWN)
    }
    fn lit(&mut self, l: Literal) -> Handle<Expression> {
        self.e(Expression::Literal(l))
    }
    fn var(&mut self, l: Handle<Local>) -> Handle<Expression> {
        self.e(Expression::Local(l))
    }
    fn field(&mut self, base: Handle<Expression>, index: u32) -> Handle<Expression> {
        self.e(Expression::Field { base, index })
    }
    fn bin(
        &mut self,
        op: BinaryOp,
        left: Handle<Expression>,
        right: Handle<Expression>,
    ) -> Handle<Expression> {
        self.e(Expression::Binary { op, left, right })
    }
    fn push(&mut self, s: Statement, line: u32) {
        self.func.body.push(s, at(line));
    }
    fn finish(mut self, entry: Option<[u32; 3]>) -> Module {
        let name = self.func.name.clone();
        let h = self.module.functions.append(self.func, Span::UNKNOWN);
        if let Some(block) = entry {
            self.module.entry_points.push(EntryPoint {
                name,
                function: h,
                kind: EntryKind::Kernel { block },
            });
        }
        self.module
    }
}

const U32: Scalar = Scalar::Int(IntKind::U32);
const U64: Scalar = Scalar::Int(IntKind::U64);
const F32: Scalar = Scalar::Float(FloatKind::F32);

/// `struct Stats { count: u64, total: f32 }` (16 bytes) and
/// `struct Msg { id: u32, values: [f32; 4] }` (20 bytes).
fn handler_module() -> (Module, Handle<Type>, Handle<Type>) {
    let mut m = Module {
        source_file: Some("actor.rs".into()),
        ..Module::default()
    };
    let u64t = m.ty(Type::Scalar(U64));
    let u32t = m.ty(Type::Scalar(U32));
    let f32t = m.ty(Type::Scalar(F32));
    let arr = m.ty(Type::Array { elem: f32t, len: 4 });
    let stats = m.ty(Type::Struct(StructType {
        name: "Stats".into(),
        size: 16,
        align: 8,
        members: vec![
            StructMember {
                name: "count".into(),
                ty: u64t,
                offset: 0,
            },
            StructMember {
                name: "total".into(),
                ty: f32t,
                offset: 8,
            },
        ],
    }));
    let msg = m.ty(Type::Struct(StructType {
        name: "Msg".into(),
        size: 20,
        align: 4,
        members: vec![
            StructMember {
                name: "id".into(),
                ty: u32t,
                offset: 0,
            },
            StructMember {
                name: "values".into(),
                ty: arr,
                offset: 4,
            },
        ],
    }));
    (m, stats, msg)
}

/// `fn handler(state: &mut Stats, msg: &Msg) -> Stats`: thread `t` reads
/// `msg.values[t]`; the leader (or every thread, when `racy`) updates the
/// state; every thread returns `Stats { count: id, total: values[t] }`.
fn handler(racy: bool) -> Module {
    let (m, stats, msg) = handler_module();
    let mut b = Builder::new(m, "handler");
    let stats_ref = b.ty(Type::Ref {
        target: stats,
        mutable: true,
    });
    let msg_ref = b.ty(Type::Ref {
        target: msg,
        mutable: false,
    });
    b.func.result = Some(stats);
    let state = b.param("state", stats_ref);
    let message = b.param("msg", msg_ref);
    let f32t = b.scalar(F32);
    let v = b.local("v", f32t);

    let tid = b.e(Expression::Builtin(Builtin::ThreadId));
    let tid = b.e(Expression::Cast {
        expr: tid,
        to: Scalar::Int(IntKind::Usize),
    });
    let mref = b.var(message);
    let mplace = b.e(Expression::Deref(mref));
    let values = b.field(mplace, 1);
    let elem = b.e(Expression::Index {
        base: values,
        index: tid,
    });
    let vplace = b.var(v);
    b.push(
        Statement::Store {
            place: vplace,
            value: elem,
        },
        3,
    );

    let sref = b.var(state);
    let splace = b.e(Expression::Deref(sref));
    let count = b.field(splace, 0);
    let total = b.field(splace, 1);
    let one = b.lit(Literal::Int(1, IntKind::U64));
    let inc = b.bin(BinaryOp::Add, count, one);
    let vread = b.var(v);
    let add = b.bin(BinaryOp::Add, total, vread);
    let mut update = Block::new();
    update.push(
        Statement::Store {
            place: count,
            value: inc,
        },
        at(5),
    );
    update.push(
        Statement::Store {
            place: total,
            value: add,
        },
        at(6),
    );
    if racy {
        b.push(Statement::Block(update), 4);
    } else {
        let tid = b.e(Expression::Builtin(Builtin::ThreadId));
        let zero = b.lit(Literal::Int(0, IntKind::U32));
        let leader = b.bin(BinaryOp::Eq, tid, zero);
        b.push(
            Statement::If {
                condition: leader,
                accept: update,
                reject: Block::new(),
            },
            4,
        );
    }
    let id = b.field(mplace, 0);
    let id = b.e(Expression::Cast { expr: id, to: U64 });
    let reply = b.e(Expression::Compose {
        ty: stats,
        components: vec![id, vread],
    });
    b.push(Statement::Return(Some(reply)), 8);
    b.finish(None)
}

fn msg_bytes(id: u32, values: [f32; 4]) -> Vec<u8> {
    let mut bytes = id.to_le_bytes().to_vec();
    for v in values {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes
}

#[test]
fn interp_handler_updates_state_and_returns_the_leaders_struct() {
    let program = Program::compile(&handler(false)).unwrap();
    let mut state = vec![0u8; 16];
    state[..8].copy_from_slice(&41u64.to_le_bytes());
    state[8..12].copy_from_slice(&0.5f32.to_le_bytes());
    let mut args = [
        Arg::Buffer(Buffer::from_bytes(state)),
        Arg::Buffer(Buffer::from_bytes(msg_bytes(7, [1.5, 2.0, 3.0, 4.0]))),
    ];
    let report = program
        .run_function("handler", Launch::block([4, 1, 1]), &mut args)
        .unwrap();
    assert_eq!(report.fault, None);
    let Arg::Buffer(state) = &args[0] else {
        panic!()
    };
    let s = state.bytes();
    assert_eq!(u64::from_le_bytes(s[..8].try_into().unwrap()), 42);
    assert_eq!(f32::from_le_bytes(s[8..12].try_into().unwrap()), 2.0);
    // The leader's reply, in the struct's layout.
    let reply = report.return_value.unwrap();
    assert_eq!(reply.len(), 16);
    assert_eq!(u64::from_le_bytes(reply[..8].try_into().unwrap()), 7);
    assert_eq!(f32::from_le_bytes(reply[8..12].try_into().unwrap()), 1.5);
}

#[test]
fn interp_racy_state_update_names_the_parameter_and_both_lines() {
    let program = Program::compile(&handler(true)).unwrap();
    let mut args = [
        Arg::Buffer(Buffer::from_bytes(vec![0; 16])),
        Arg::Buffer(Buffer::from_bytes(msg_bytes(1, [0.0; 4]))),
    ];
    let err = program
        .run_function("handler", Launch::block([4, 1, 1]), &mut args)
        .unwrap_err();
    let InterpError::DataRace(race) = &err else {
        panic!("{err}")
    };
    assert_eq!(
        race.space,
        RaceSpace::Param {
            index: 0,
            name: Some("state".into())
        }
    );
    assert_eq!(race.offset, 0);
    // Thread 1 reads `count` (line 5) after thread 0 wrote it (line 5).
    assert_eq!(race.first.kind, AccessKind::Write);
    assert_eq!(race.first.thread, [0, 0, 0]);
    assert_eq!(race.second.kind, AccessKind::Read);
    assert_eq!(race.second.thread, [1, 0, 0]);
    assert_eq!(
        (race.first.location.line, race.second.location.line),
        (5, 5)
    );
    assert!(err.to_string().contains("actor.rs:5:5"), "{err}");
}

/// `fn k(x: &mut [u32], i: usize) { x[i] = 1 }` with no bounds check.
fn unchecked_store() -> Module {
    let mut b = Builder::new(Module::default(), "k");
    let u32t = b.scalar(U32);
    let slice = b.ty(Type::Slice {
        elem: u32t,
        mutable: true,
    });
    let usize_t = b.scalar(Scalar::Int(IntKind::Usize));
    let x = b.param("x", slice);
    let i = b.param("i", usize_t);
    let xv = b.var(x);
    let iv = b.var(i);
    let place = b.e(Expression::Index {
        base: xv,
        index: iv,
    });
    let one = b.lit(Literal::Int(1, IntKind::U32));
    b.push(Statement::Store { place, value: one }, 2);
    b.finish(Some([1, 1, 1]))
}

#[test]
fn interp_unchecked_index_is_an_error_not_a_wild_write() {
    let program = Program::compile(&unchecked_store()).unwrap();
    let mut args = [
        Arg::Buffer(Buffer::from_slice(&[0u32; 4])),
        Arg::Value(Value::Usize(9)),
    ];
    let err = program
        .run_kernel("k", Launch::d1(1, 1), &mut args)
        .unwrap_err();
    let InterpError::Unchecked { what, location, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(*what, UncheckedOp::IndexOutOfBounds { index: 9, len: 4 });
    assert_eq!(location.line, 2);
    // The buffer came back untouched.
    let Arg::Buffer(x) = &args[0] else { panic!() };
    assert_eq!(x.to_vec::<u32>().unwrap(), [0; 4]);

    // Wrong argument types are reported, and buffers still come back.
    let mut args = [
        Arg::Buffer(Buffer::from_slice(&[0u32; 4])),
        Arg::Value(Value::U32(1)),
    ];
    let err = program
        .run_kernel("k", Launch::d1(1, 1), &mut args)
        .unwrap_err();
    assert!(
        matches!(err, InterpError::ArgumentMismatch { index: 1, .. }),
        "{err}"
    );
    let Arg::Buffer(x) = &args[0] else { panic!() };
    assert_eq!(x.bytes().len(), 16);
    let mut args = [
        Arg::Buffer(Buffer::from_slice(&[0f32; 4])),
        Arg::Value(Value::Usize(1)),
    ];
    let err = program
        .run_kernel("k", Launch::d1(1, 1), &mut args)
        .unwrap_err();
    assert!(
        matches!(err, InterpError::ArgumentMismatch { index: 0, .. }),
        "{err}"
    );
}

#[test]
fn interp_unbounded_recursion_stops_with_an_error() {
    // fn f() { f() } — the front end rejects recursion; the interpreter
    // still must not overflow the host stack.
    let mut m = Module::default();
    let h = m.functions.append(
        Function {
            name: "f".into(),
            ..Function::default()
        },
        Span::UNKNOWN,
    );
    let mut body = Block::new();
    body.push(
        Statement::Call {
            function: h,
            arguments: vec![],
            result: None,
        },
        at(1),
    );
    m.functions.get_mut(h).body = body;
    let err = Program::compile(&m)
        .unwrap()
        .run_function("f", Launch::block([1, 1, 1]), &mut [])
        .unwrap_err();
    assert!(matches!(err, InterpError::StackOverflow { .. }), "{err}");
}

#[test]
fn interp_powi_is_binary_exponentiation() {
    // fn p(x: f32, n: i32) -> f32 { x.powi(n) }
    let mut b = Builder::new(Module::default(), "p");
    let f32t = b.scalar(F32);
    let i32t = b.scalar(Scalar::Int(IntKind::I32));
    b.func.result = Some(f32t);
    let x = b.param("x", f32t);
    let n = b.param("n", i32t);
    let (xv, nv) = (b.var(x), b.var(n));
    let p = b.e(Expression::Math {
        fun: MathFunction::Powi,
        args: vec![xv, nv],
    });
    b.push(Statement::Return(Some(p)), 1);
    let program = Program::compile(&b.finish(None)).unwrap();
    for (x, n) in [(1.1f32, 7), (0.9, -5), (3.0, 0), (-2.5, 3), (1.0001, 1000)] {
        let mut args = [Arg::Value(Value::F32(x)), Arg::Value(Value::I32(n))];
        let r = program
            .run_function("p", Launch::block([1, 1, 1]), &mut args)
            .unwrap();
        let expected = ringkernel_transpiler::interp::math::powi(x, n, 1.0);
        // The algorithm spelled out: square-and-multiply over |n|.
        let (mut base, mut e, mut acc) = (x, n.unsigned_abs(), 1.0f32);
        while e != 0 {
            if e & 1 == 1 {
                acc *= base;
            }
            e >>= 1;
            if e != 0 {
                base *= base;
            }
        }
        let spelled = if n < 0 { 1.0 / acc } else { acc };
        assert_eq!(expected.to_bits(), spelled.to_bits());
        assert_eq!(r.return_value(), Some(Value::F32(expected)), "{x}^{n}");
    }
}
