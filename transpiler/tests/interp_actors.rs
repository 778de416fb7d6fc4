//! `#[ring_kernel]` handlers on the interpreter, one message at a time: the
//! leader's reply, the state update, the `RingContext` intrinsics, and a
//! soft fault with its Rust location. (The message loop around handlers is
//! the runtime's; this pins what one handler invocation does.)

use ringkernel_transpiler::interp::{
    ActorEnv, Arg, Buffer, InterpError, K2kPorts, Launch, Program, Undelivered,
};
use ringkernel_transpiler::ir::CheckKind;
use ringkernel_transpiler::pipeline::transpile_source;

const FILE: &str = "actors.rs";

fn source() -> String {
    std::fs::read_to_string(format!("{}/tests/in/{FILE}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn program(source: &str) -> Program {
    let front = ringkernel_transpiler::front::rust::Options {
        source_file: Some(FILE.into()),
        ..Default::default()
    };
    let t = transpile_source(source, &front, &Default::default())
        .unwrap_or_else(|e| panic!("{}", e.render(FILE, source)));
    Program::compile(&t.module).expect("compiles for the interpreter")
}

fn bytes_of_u32s(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[test]
fn summer_replies_with_the_block_sum_and_the_leader_updates_state() {
    let program = program(&source());
    // Request { id: u32, values: [f32; 64] }: 260 bytes.
    let values: Vec<f32> = (0..64).map(|i| i as f32 * 0.5 - 3.0).collect();
    let mut request = 77u32.to_le_bytes().to_vec();
    request.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    // Stats { count: u64, total: f32 }: 16 bytes.
    let mut state = vec![0u8; 16];
    state[..8].copy_from_slice(&5u64.to_le_bytes());
    state[8..12].copy_from_slice(&1.5f32.to_le_bytes());
    let mut args = [
        Arg::Buffer(Buffer::from_bytes(state)),
        Arg::Buffer(Buffer::from_bytes(request)),
    ];
    let report = program
        .run_function("summer", Launch::block([64, 1, 1]), &mut args)
        .unwrap();
    assert_eq!(report.fault, None);
    let reply = report.return_value.expect("the leader replies");
    // The block sum in rk_block_reduce order: warp butterflies, then warp
    // partials left to right (exact here: all values are multiples of 0.5).
    let sum: f32 = values.iter().sum();
    assert_eq!(reply.len(), 8);
    assert_eq!(u32::from_le_bytes(reply[..4].try_into().unwrap()), 77);
    assert_eq!(f32::from_le_bytes(reply[4..8].try_into().unwrap()), sum);
    let Arg::Buffer(state) = &args[0] else {
        unreachable!()
    };
    assert_eq!(
        u64::from_le_bytes(state.bytes()[..8].try_into().unwrap()),
        6
    );
    assert_eq!(
        f32::from_le_bytes(state.bytes()[8..12].try_into().unwrap()),
        1.5 + sum
    );
}

#[test]
fn echo_reads_actor_id_and_the_receipt_timestamp() {
    let program = program(&source());
    // Ping { seq: u64, payload: [u32; 12] }: 56 bytes.
    let payload: Vec<u32> = (0..12)
        .map(|i| 0x1000_0001u32.wrapping_mul(i + 3))
        .collect();
    let mut ping = 0xDEAD_BEEF_0000_0042u64.to_le_bytes().to_vec();
    ping.extend(bytes_of_u32s(&payload));
    let env = ActorEnv {
        actor_id: 9,
        received: [123_456_789, 4, 9],
        ..ActorEnv::default()
    };
    let mut args = [Arg::Buffer(Buffer::from_bytes(ping))];
    let report = program
        .run_function("echo", Launch::block([32, 1, 1]).with_actor(env), &mut args)
        .unwrap();
    let reply = report.return_value.expect("the leader replies");
    let u32_at = |o: usize| u32::from_le_bytes(reply[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(reply[o..o + 8].try_into().unwrap());
    let checksum = payload.iter().enumerate().fold(0u32, |acc, (lane, w)| {
        acc.wrapping_add(w.wrapping_mul(lane as u32 + 1))
    });
    assert_eq!(u64_at(0), 0xDEAD_BEEF_0000_0042);
    assert_eq!(u32_at(8), 9, "actor id");
    assert_eq!(u32_at(12), checksum);
    assert_eq!((u64_at(16), u32_at(24), u32_at(28)), (123_456_789, 4, 9));
}

#[test]
fn an_out_of_bounds_store_faults_at_its_rust_location() {
    let source = source();
    let program = program(&source);
    let line = source
        .lines()
        .position(|l| l.contains("state.cells[msg.index as usize] = msg.value;"))
        .unwrap() as u32
        + 1;
    for (index, faults) in [(7u32, false), (8, true), (u32::MAX, true)] {
        let put = bytes_of_u32s(&[index, 5]);
        let mut args = [
            Arg::Buffer(Buffer::from_bytes(vec![0; 36])),
            Arg::Buffer(Buffer::from_bytes(put)),
        ];
        let report = program
            .run_function("store", Launch::block([32, 1, 1]), &mut args)
            .unwrap();
        match report.fault {
            Some(fault) => {
                assert!(faults, "index {index} faulted: {fault:?}");
                assert_eq!(fault.kind, CheckKind::IndexOutOfBounds);
                assert_eq!(fault.location.line, line);
            }
            None => {
                assert!(!faults, "index {index} did not fault");
                let Arg::Buffer(state) = &args[0] else {
                    unreachable!()
                };
                assert_eq!(state.bytes()[28..32], 5u32.to_le_bytes());
            }
        }
    }
}

/// `ctx.send` on the interpreter: only the leader's send is recorded (with
/// the message's bytes and the send's position), every send on a port the
/// host wired (`routed`), and a send on any other port faults there with
/// `Unrouted` before later statements run.
#[test]
fn sends_are_the_leaders_and_an_unwired_port_faults() {
    let source = "\
#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Job { pub value: u32, pub step: u32 }

#[ring_kernel(block_size = 32)]
pub fn relay(ctx: &RingContext, job: &Job) {
    let lane = ctx.lane_id();
    ctx.send(0, &Job { value: job.value + lane, step: 1 });
    ctx.send(3, &Job { value: job.value, step: 2 });
}
";
    let program = program(source);
    let job = || bytes_of_u32s(&[40, 0]);
    let run = |routed: u64| {
        let env = ActorEnv {
            routed,
            ..ActorEnv::default()
        };
        let mut args = [Arg::Buffer(Buffer::from_bytes(job()))];
        program
            .run_function(
                "relay",
                Launch::block([32, 1, 1]).with_actor(env),
                &mut args,
            )
            .unwrap()
    };
    let both = run(0b1001);
    assert_eq!(both.fault, None);
    assert_eq!(both.sends.len(), 2, "one per send statement: the leader's");
    assert_eq!((both.sends[0].port, both.sends[1].port), (0, 3));
    assert_eq!(
        both.sends[0].bytes,
        bytes_of_u32s(&[40, 1]),
        "lane 0's value"
    );
    assert_eq!(both.sends[1].bytes, bytes_of_u32s(&[40, 2]));
    assert_eq!((both.sends[0].line, both.sends[0].column), (8, 5));

    let half = run(0b0001);
    let fault = half.fault.expect("port 3 is not wired");
    assert_eq!(fault.kind, CheckKind::Unrouted);
    assert_eq!(fault.location.line, 9);
    assert_eq!(half.sends.len(), 1, "the send before the fault happened");
}

/// An output port for the try_send tests: an inbox with `room` free slots
/// that never drains (or a closed one), recording every call.
#[derive(Default)]
struct TestInbox {
    room: usize,
    closed: bool,
    attempts: usize,
    took: Vec<Vec<u8>>,
}

impl K2kPorts for TestInbox {
    fn send(&mut self, port: u32, message: &[u8]) -> Result<(), Undelivered> {
        assert!(
            self.try_send(port, message)?,
            "the test never fills a blocking send"
        );
        Ok(())
    }

    fn try_send(&mut self, port: u32, message: &[u8]) -> Result<bool, Undelivered> {
        self.attempts += 1;
        if port != 0 {
            return Err(Undelivered::Unrouted);
        }
        if self.closed {
            return Err(Undelivered::Closed);
        }
        if self.room == 0 {
            return Ok(false);
        }
        self.room -= 1;
        self.took.push(message.to_vec());
        Ok(true)
    }
}

const TRY_SEND: &str = "\
#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Job { pub value: u32, pub step: u32 }

#[derive(Clone, Copy, Debug, Default, GpuType)]
#[repr(C)]
pub struct Seen { pub leader: u32, pub last: u32 }

#[ring_kernel(block_size = 64)]
pub fn flood(ctx: &RingContext, state: &mut Seen, job: &Job) -> u32 {
    let mut mask = 0u32;
    for i in 0..job.step {
        if ctx.try_send(0, &Job { value: job.value + i, step: ctx.thread_id() }) {
            mask |= 1u32 << i;
        }
    }
    if ctx.thread_id() == 0 { state.leader = mask; }
    if ctx.thread_id() == 63 { state.last = mask; }
    mask
}

#[ring_kernel(block_size = 32)]
pub fn relay(ctx: &RingContext, state: &mut Seen, job: &Job) {
    ctx.send(0, job);
    if ctx.is_leader() { state.leader = 1; }
}

#[ring_kernel(block_size = 64)]
pub fn stubborn(ctx: &RingContext, state: &mut Seen, job: &Job) {
    let ok = ctx.try_send(0, job);
    if ctx.thread_id() == 63 { state.last = 7; }
}

#[ring_kernel(block_size = 32)]
pub fn lonely(ctx: &RingContext, job: &Job) {
    let lead = ctx.is_leader();
    let sent = ctx.try_send(0, job);
}
";

/// Runs `handler` of [`TRY_SEND`] on `job` with `inbox` as its port 0:
/// the report and the state (`Seen`: leader's value, thread 63's value).
fn run_try_send(
    handler: &str,
    threads: u32,
    job: [u32; 2],
    inbox: &mut TestInbox,
) -> (ringkernel_transpiler::interp::LaunchReport, [u32; 2]) {
    let program = program(TRY_SEND);
    let mut args = vec![Arg::Buffer(Buffer::from_bytes(bytes_of_u32s(&job)))];
    if handler != "lonely" {
        args.insert(0, Arg::Buffer(Buffer::from_bytes(vec![0; 8])));
    }
    let report = program
        .run_handler(handler, Launch::block([threads, 1, 1]), &mut args, inbox)
        .unwrap();
    let mut seen = [0; 2];
    if let Arg::Buffer(state) = &args[0] {
        for (i, s) in seen.iter_mut().enumerate() {
            *s = u32::from_le_bytes(state.bytes()[4 * i..4 * i + 4].try_into().unwrap());
        }
    }
    (report, seen)
}

/// `ctx.try_send` asks the inbox at the call, once per call (the leader's
/// attempt, not one per thread): true while it has room, then false with
/// nothing delivered; every thread of the block (both warps) gets the
/// leader's answer; the delivered messages are the leader's, in order.
#[test]
fn try_send_answers_from_the_inbox_at_the_call_on_every_thread() {
    let mut inbox = TestInbox {
        room: 3,
        ..TestInbox::default()
    };
    let (report, seen) = run_try_send("flood", 64, [40, 5], &mut inbox);
    assert_eq!(report.fault, None);
    assert_eq!(inbox.attempts, 5, "one attempt per call, by the leader");
    assert_eq!(seen, [0b00111, 0b00111], "thread 0 and thread 63 agree");
    assert_eq!(
        report.return_value(),
        Some(ringkernel_transpiler::interp::Value::U32(0b00111)),
        "the reply"
    );
    let expected: Vec<Vec<u8>> = (0..3).map(|i| bytes_of_u32s(&[40 + i, 0])).collect();
    assert_eq!(inbox.took, expected, "the leader's messages, in order");
    let reported: Vec<Vec<u8>> = report.sends.iter().map(|s| s.bytes.clone()).collect();
    assert_eq!(reported, expected, "the report lists what went out");
    assert_eq!((report.sends[0].line, report.sends[0].column), (13, 12));

    // An inbox with room for everything: every call is true.
    let mut roomy = TestInbox {
        room: 64,
        ..TestInbox::default()
    };
    let (_, seen) = run_try_send("flood", 64, [0, 7], &mut roomy);
    assert_eq!(seen, [0b111_1111; 2]);
}

/// A closed destination or an unwired port is not backpressure: the
/// try_send faults at its line (Undeliverable / Unrouted), the leader stops
/// there and the other threads get `false`.
#[test]
fn try_send_to_a_closed_or_unwired_port_faults_at_the_call() {
    let mut closed = TestInbox {
        room: 8,
        closed: true,
        ..TestInbox::default()
    };
    let (report, seen) = run_try_send("flood", 64, [1, 2], &mut closed);
    let fault = report.fault.expect("a closed inbox faults");
    assert_eq!(fault.kind, CheckKind::Undeliverable);
    assert_eq!((fault.location.line, fault.location.column), (13, 12));
    assert_eq!(fault.thread.thread, [0, 0, 0], "the leader faults");
    assert_eq!(report.faulted_threads, 1);
    assert_eq!(closed.attempts, 1, "the leader stopped at its first call");
    assert_eq!(
        seen,
        [0, 0],
        "thread 63 saw false twice; the leader wrote nothing"
    );
    assert!(report.sends.is_empty());

    // Without an executor's ports, a port outside `routed` is unwired.
    let program = program(TRY_SEND);
    let mut args = [
        Arg::Buffer(Buffer::from_bytes(vec![0; 8])),
        Arg::Buffer(Buffer::from_bytes(bytes_of_u32s(&[1, 2]))),
    ];
    let report = program
        .run_function("flood", Launch::block([64, 1, 1]), &mut args)
        .unwrap();
    let fault = report.fault.expect("port 0 is not wired");
    assert_eq!(fault.kind, CheckKind::Unrouted);
    assert_eq!(fault.location.line, 13);
}

/// `ctx.send` is delivered at the call too: a closed destination faults at
/// the send (Undeliverable) before the statements after it run.
#[test]
fn send_is_delivered_at_the_call_and_a_closed_inbox_faults_there() {
    let mut open = TestInbox {
        room: 1,
        ..TestInbox::default()
    };
    let (report, seen) = run_try_send("relay", 32, [9, 8], &mut open);
    assert_eq!(report.fault, None);
    assert_eq!(open.took, vec![bytes_of_u32s(&[9, 8])]);
    assert_eq!(seen[0], 1);

    let mut closed = TestInbox {
        closed: true,
        ..TestInbox::default()
    };
    let (report, seen) = run_try_send("relay", 32, [9, 8], &mut closed);
    let fault = report.fault.expect("a closed inbox faults");
    assert_eq!(fault.kind, CheckKind::Undeliverable);
    assert_eq!(fault.location.line, 24);
    assert_eq!(seen[0], 0, "the statement after the send did not run");
}

/// `try_send` is block-wide: under `if ctx.is_leader()` the other threads
/// never reach it, which the interpreter reports (the GPU would hang or
/// corrupt its barriers) instead of guessing. The front end rejects that
/// handler (`front_errors.rs`), so the divergent IR is made here by moving
/// `lonely`'s `try_send` under its `is_leader()` condition: the
/// interpreter's report guards what the front end cannot see (a condition
/// on racy memory).
#[test]
fn try_send_reached_by_the_leader_alone_is_a_divergent_barrier() {
    use ringkernel_transpiler::ir::{BinaryOp, Builtin, Expression, IntrinsicOp, Statement};
    let front = ringkernel_transpiler::front::rust::Options {
        source_file: Some(FILE.into()),
        ..Default::default()
    };
    let mut t = transpile_source(TRY_SEND, &front, &Default::default()).unwrap();
    let handle = t
        .module
        .functions
        .iter()
        .find(|(_, f)| f.name == "lonely")
        .map(|(h, _)| h)
        .expect("lonely");
    let f = t.module.functions.get_mut(handle);
    let (leader, _) = f
        .expressions
        .iter()
        .find(|(_, e)| {
            matches!(e, Expression::Binary { op: BinaryOp::Eq, left, .. }
                if f.expressions[*left] == Expression::Builtin(Builtin::ThreadId))
        })
        .expect("is_leader()");
    let at = f
        .body
        .statements
        .iter()
        .position(|s| {
            matches!(
                s,
                Statement::Intrinsic {
                    op: IntrinsicOp::TrySend { .. },
                    ..
                }
            )
        })
        .expect("the try_send");
    let mut accept = ringkernel_transpiler::ir::Block::new();
    accept.push(f.body.statements[at].clone(), f.body.spans[at]);
    f.body.statements[at] = Statement::If {
        condition: leader,
        accept,
        reject: ringkernel_transpiler::ir::Block::new(),
    };
    let program = Program::compile(&t.module).expect("compiles for the interpreter");
    let mut args = [Arg::Buffer(Buffer::from_bytes(bytes_of_u32s(&[1, 1])))];
    let mut inbox = TestInbox {
        room: 4,
        ..TestInbox::default()
    };
    let error = program
        .run_handler("lonely", Launch::block([32, 1, 1]), &mut args, &mut inbox)
        .unwrap_err();
    assert!(matches!(error, InterpError::DivergentBarrier(_)), "{error}");
    assert_eq!(inbox.attempts, 0, "nothing was attempted");
}

/// A `try_send` that faults (closed destination) stops every thread of the
/// block with the leader, as `rk_actor_try_send` does on the device: thread
/// 63 never reaches the statement after it.
#[test]
fn a_faulting_try_send_stops_every_thread() {
    let mut closed = TestInbox {
        closed: true,
        ..TestInbox::default()
    };
    let (report, seen) = run_try_send("stubborn", 64, [9, 8], &mut closed);
    let fault = report.fault.expect("a closed inbox faults");
    assert_eq!(fault.kind, CheckKind::Undeliverable);
    assert_eq!(seen[1], 0, "thread 63 went on after the leader's fault");
    let mut open = TestInbox {
        room: 1,
        ..TestInbox::default()
    };
    let (report, seen) = run_try_send("stubborn", 64, [9, 8], &mut open);
    assert_eq!(report.fault, None);
    assert_eq!(
        seen[1], 7,
        "thread 63 goes on after a try_send that did not fault"
    );
}
