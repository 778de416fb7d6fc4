//! The CPU backend's echo actor (issue 8's bar: 100,000 messages in under
//! 2 s): a 32-thread handler that echoes its message, driven through the
//! typed handle exactly as on the GPU (rings, envelopes, HLC, the
//! executor thread running the interpreter), streamed in windows of 128
//! messages, every reply checked.
//!
//! Run with `cargo bench -p ringkernel-runtime --bench cpu_actor`. Reports;
//! asserts only that the replies are right.

use std::time::Instant;

use ringkernel_runtime::actor::SpawnOptions;
use ringkernel_runtime::{KernelSource, Runtime, SourceKind, SourceText};

const HANDLER: &str = r#"
#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Msg { pub seq: u64, pub value: u32, pub pad: u32 }

#[ring_kernel(block_size = 32)]
pub fn echo(ctx: &RingContext, msg: &Msg) -> Msg {
    Msg { seq: msg.seq, value: msg.value.wrapping_mul(3) ^ ctx.actor_id(), pad: 0 }
}
"#;

#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Msg {
    seq: u64,
    value: u32,
    pad: u32,
}

fn main() {
    let kernel = KernelSource {
        name: "echo".into(),
        kind: SourceKind::RingKernel,
        items: vec![SourceText {
            attr: String::new(),
            text: HANDLER.into(),
            file: "cpu_actor.rs".into(),
            line: 1,
            column: 0,
        }],
        layouts: Vec::new(),
        overflow_checks: true,
    };
    let rt = Runtime::cpu();
    let options = SpawnOptions {
        inbox_capacity: 256,
        outbox_capacity: 256,
        ..SpawnOptions::default()
    };
    let actor = rt
        .spawn::<Msg, Msg, ()>(&kernel, 1, (), &options)
        .expect("spawn");
    let actor = &actor[0];
    let n = 100_000u64;
    let window = 128u64;
    let start = Instant::now();
    let (mut sent, mut received) = (0u64, 0u64);
    while received < n {
        while sent < n && sent - received < window {
            actor
                .send(&Msg {
                    seq: sent,
                    value: sent as u32,
                    pad: 0,
                })
                .unwrap();
            sent += 1;
        }
        let reply = actor.recv().unwrap();
        assert_eq!(reply.seq, received);
        assert_eq!(reply.value, (received as u32).wrapping_mul(3));
        received += 1;
    }
    let took = start.elapsed();
    actor.stop().unwrap();
    println!(
        "cpu echo actor: {n} messages in {:.3} s ({:.1} us/message, {:.0} msg/s); bar: under 2 s -> {}",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / n as f64,
        n as f64 / took.as_secs_f64(),
        if took.as_secs_f64() < 2.0 { "holds" } else { "MISSED" }
    );
}
