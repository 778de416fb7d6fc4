//! CPU-backend throughput: a 1,000,000-element saxpy through the IR
//! interpreter (issue 8's bar: under 1 s, release build).
//!
//! Run with `cargo bench -p ringkernel-transpiler --bench interp`. Prints
//! the compile time and the best and median of several runs; it asserts
//! nothing about time (machines differ), only that the results are right.

use std::time::{Duration, Instant};

use ringkernel_transpiler::front::rust::{lower_file, Options};
use ringkernel_transpiler::interp::{Arg, Buffer, Launch, Program, Value};

const SAXPY: &str = r#"
#[gpu_kernel(block_size = 256)]
pub fn saxpy(ctx: &ThreadContext, a: f32, x: &[f32], y: &mut [f32]) {
    let i = ctx.global_id() as usize;
    if i >= y.len() {
        return;
    }
    y[i] = a * x[i] + y[i];
}
"#;

fn main() {
    saxpy();
    handler_calls();
}

const ECHO: &str = r#"
#[device_fn]
pub fn echo(id: u32, value: f32) -> f32 {
    value + id as f32
}
"#;

/// Per-message overhead of the CPU backend: 100,000 runs of a trivial
/// handler-shaped function over a 64-thread block (the echo-actor bar of
/// issue 8 is 100,000 messages in under 2 s, runtime included).
fn handler_calls() {
    let module = lower_file(ECHO, &Options::default()).expect("echo lowers");
    let program = Program::compile(&module).expect("echo compiles");
    let calls = 100_000u32;
    let t = Instant::now();
    for i in 0..calls {
        let mut args = [Arg::Value(Value::U32(i)), Arg::Value(Value::F32(0.5))];
        let report = program
            .run_function("echo", Launch::block([64, 1, 1]), &mut args)
            .expect("echo runs");
        assert_eq!(report.return_value(), Some(Value::F32(0.5 + i as f32)));
    }
    let total = t.elapsed();
    println!(
        "interp handler calls: {calls} runs of a 64-thread block in {:.1} ms ({:.2} us per run)",
        total.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e6 / f64::from(calls)
    );
}

fn saxpy() {
    let n = 1_000_000usize;
    let start = Instant::now();
    let mut module = lower_file(SAXPY, &Options::default()).expect("saxpy lowers");
    ringkernel_transpiler::passes::run(&mut module);
    let program = Program::compile(&module).expect("saxpy compiles");
    let compile = start.elapsed();

    let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let y: Vec<f32> = (0..n).map(|i| 1.0 - i as f32).collect();
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..7 {
        let mut args = [
            Arg::Value(Value::F32(2.0)),
            Arg::Buffer(Buffer::from_slice(&x)),
            Arg::Buffer(Buffer::from_slice(&y)),
        ];
        let t = Instant::now();
        let report = program
            .run_kernel("saxpy", Launch::for_elements(n as u64, 256), &mut args)
            .expect("saxpy runs");
        times.push(t.elapsed());
        assert_eq!(report.fault, None);
        let Arg::Buffer(out) = &args[2] else {
            unreachable!()
        };
        let out = out.to_vec::<f32>().expect("f32 buffer");
        assert!(out
            .iter()
            .zip(x.iter().zip(&y))
            .all(|(o, (x, y))| *o == 2.0 * x + y));
    }
    times.sort();
    println!(
        "interp saxpy n={n}: compile {:.3} ms, run best {:.1} ms, median {:.1} ms ({} runs)",
        compile.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3,
        times.len()
    );
}
