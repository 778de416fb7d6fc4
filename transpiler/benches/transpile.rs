//! Transpile time of a 100-line handler (issue 3's bar: under 1 ms): the
//! whole pipeline from Rust text to CUDA (parse, front end, passes,
//! validation, CUDA writer), best and median of many runs, release build.
//!
//! Run with `cargo bench -p ringkernel-transpiler --bench transpile`.

use std::time::{Duration, Instant};

use ringkernel_transpiler::pipeline::transpile_source;

const HANDLER: &str = include_str!("data/handler_100_lines.rs");

fn main() {
    let lines = HANDLER.lines().count();
    let front = ringkernel_transpiler::front::rust::Options {
        source_file: Some("handler_100_lines.rs".into()),
        ..Default::default()
    };
    let back = Default::default();
    // Warm up (and check it transpiles).
    let out = transpile_source(HANDLER, &front, &back)
        .unwrap_or_else(|e| panic!("{}", e.render("handler_100_lines.rs", HANDLER)));
    assert!(out.cuda.source.contains("score_body"));
    let mut times: Vec<Duration> = (0..500)
        .map(|_| {
            let start = Instant::now();
            let out = transpile_source(HANDLER, &front, &back).expect("transpiles");
            let took = start.elapsed();
            std::hint::black_box(out);
            took
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "transpile {lines}-line handler (parse + lower + passes + validate + CUDA): best {:?}, median {:?}, p99 {:?}; bar: under 1 ms -> {}",
        times[0],
        median,
        times[times.len() * 99 / 100],
        if median < Duration::from_millis(1) { "holds" } else { "MISSED" }
    );
}
