//! `#[ring_kernel]` handlers on the interpreter, one message at a time: the
//! leader's reply, the state update, the `RingContext` intrinsics, and a
//! soft fault with its Rust location. (The message loop around handlers is
//! the runtime's; this pins what one handler invocation does.)

use ringkernel_transpiler::interp::{ActorEnv, Arg, Buffer, Launch, Program};
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
