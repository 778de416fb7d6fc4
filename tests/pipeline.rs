//! The transaction-monitoring pipeline of `examples/transactions.rs`
//! (ingest → score → alert, wired with `ctx.send`) on 100,000 transactions:
//! every verdict equals the sequential Rust reference. On the CPU backend
//! here (CI); the `#[ignore]`d test runs it on the GPU.

#[path = "../examples/transactions.rs"]
#[allow(dead_code)]
mod transactions;

use std::time::Duration;

use ringkernel::prelude::*;
use transactions::{reference, transactions, AlertBook, Pipeline};

fn check(rt: &Runtime, count: u64) {
    let txs = transactions(count, 0x5EED);
    let expected = reference(&txs);
    let flagged = expected.iter().filter(|v| v.flagged != 0).count() as u64;
    assert!(
        flagged > 0 && flagged < count / 2,
        "the rules flag some: {flagged}"
    );
    let pipeline = Pipeline::start(rt).expect("start");
    let verdicts = pipeline.run(&txs).expect("run");
    assert_eq!(verdicts.len(), expected.len());
    for (got, want) in verdicts.iter().zip(&expected) {
        assert_eq!(got, want, "verdict {}", want.seq);
    }
    let book: AlertBook = pipeline.system.actor(pipeline.alert).state().unwrap();
    assert_eq!(book.flagged_total, flagged);
    pipeline.system.stop(Duration::from_secs(10)).unwrap();
    let ingest = pipeline.system.actor(pipeline.ingest).stats().unwrap();
    let score = pipeline.system.actor(pipeline.score).stats().unwrap();
    assert_eq!(ingest.messages_in, count);
    assert_eq!(score.messages_in, count);
}

#[test]
fn the_pipeline_equals_the_reference_on_the_cpu_backend() {
    check(&Runtime::cpu(), 100_000);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_the_pipeline_equals_the_reference() {
    let Some(rt) = ringkernel::runtime::testing::gpu_runtime("gpu_pipeline") else {
        return;
    };
    check(&rt, 100_000);
}
