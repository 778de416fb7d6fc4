//! Transaction monitoring as an actor pipeline: ingest → score → alert.
//!
//! Three `#[ring_kernel]` actors in one system kernel, wired on the host;
//! each stage hands its result to the next with `ctx.send(0, ..)`
//! (kernel-to-kernel, never through the host). The host feeds transactions
//! to `ingest` and reads one verdict per transaction from `alert`, and the
//! program checks every verdict against the same pipeline written as plain
//! sequential Rust.
//!
//! - `ingest` keeps a ledger per account (count, total, last merchant) and
//!   forwards each transaction with its account's history;
//! - `score` runs four fraud rules, one per lane, and sums their points with
//!   a warp reduction;
//! - `alert` flags scores of 50 or more, counts alerts per account, and
//!   answers the host.
//!
//! `cargo run --release --example transactions [COUNT]` runs it on the GPU
//! when there is one, otherwise on the CPU backend (default 100,000).

use std::time::{Duration, Instant};

use ringkernel::prelude::*;

/// Accounts the ledger tracks (account ids are taken modulo this).
pub const ACCOUNTS: u32 = 32;
/// A score of at least this raises an alert.
pub const ALERT_SCORE: u32 = 50;

#[derive(Clone, Copy, Debug, PartialEq, Eq, RingMessage)]
#[repr(C)]
pub struct Transaction {
    pub seq: u64,
    pub amount_cents: i64,
    pub account: u32,
    pub merchant: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, RingMessage)]
#[repr(C)]
pub struct Enriched {
    pub seq: u64,
    pub amount_cents: i64,
    /// The account's mean amount before this transaction (its own amount
    /// for a first transaction).
    pub mean_cents: i64,
    pub account: u32,
    /// Transactions of the account before this one.
    pub count: u32,
    pub merchant: u32,
    /// 1 when the merchant differs from the account's previous one.
    pub new_merchant: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, RingMessage)]
#[repr(C)]
pub struct Scored {
    pub seq: u64,
    pub amount_cents: i64,
    pub account: u32,
    pub score: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, RingMessage)]
#[repr(C)]
pub struct Verdict {
    pub seq: u64,
    pub account: u32,
    pub score: u32,
    pub flagged: u32,
    /// Alerts raised for the account so far, this one included.
    pub account_alerts: u32,
}

#[derive(Clone, Copy, Debug, Default, GpuType)]
#[repr(C)]
pub struct Ledger {
    pub count: [u32; 32],
    pub total_cents: [i64; 32],
    pub last_merchant: [u32; 32],
}

#[derive(Clone, Copy, Debug, Default, GpuType)]
#[repr(C)]
pub struct AlertBook {
    pub alerts: [u32; 32],
    pub flagged_total: u64,
}

/// Stage 1: the account's history, then the transaction with it.
#[ring_kernel(block_size = 32)]
pub fn ingest(ctx: &RingContext, ledger: &mut Ledger, tx: &Transaction) {
    let a = (tx.account % 32) as usize;
    let count = ledger.count[a];
    let mean = if count == 0 {
        tx.amount_cents
    } else {
        ledger.total_cents[a] / count as i64
    };
    let new_merchant = if count > 0 && ledger.last_merchant[a] != tx.merchant {
        1
    } else {
        0
    };
    // Every thread has read the ledger before the leader updates it.
    ctx.sync_threads();
    if ctx.is_leader() {
        ledger.count[a] = count + 1;
        ledger.total_cents[a] += tx.amount_cents;
        ledger.last_merchant[a] = tx.merchant;
    }
    ctx.send(
        0,
        &Enriched {
            seq: tx.seq,
            amount_cents: tx.amount_cents,
            mean_cents: mean,
            account: tx.account,
            count,
            merchant: tx.merchant,
            new_merchant,
        },
    );
}

/// Stage 2: four rules, one per lane, summed across the warp.
#[ring_kernel(block_size = 32)]
pub fn score(ctx: &RingContext, e: &Enriched) {
    let lane = ctx.lane_id();
    let points: u32 = if lane == 0 && e.amount_cents > 3 * e.mean_cents {
        40
    } else if lane == 1 && e.amount_cents > 100_000 {
        30
    } else if lane == 2 && e.new_merchant != 0 {
        20
    } else if lane == 3 && e.count < 3 {
        10
    } else {
        0
    };
    let score = ctx.warp_reduce_sum(points);
    ctx.send(
        0,
        &Scored {
            seq: e.seq,
            amount_cents: e.amount_cents,
            account: e.account,
            score,
        },
    );
}

/// Stage 3: flag, count per account, answer the host.
#[ring_kernel(block_size = 32)]
pub fn alert(ctx: &RingContext, book: &mut AlertBook, s: &Scored) -> Verdict {
    let a = (s.account % 32) as usize;
    let flagged = if s.score >= 50 { 1 } else { 0 };
    let before = book.alerts[a];
    ctx.sync_threads();
    if ctx.is_leader() {
        book.alerts[a] = before + flagged;
        book.flagged_total += flagged as u64;
    }
    Verdict {
        seq: s.seq,
        account: s.account,
        score: s.score,
        flagged,
        account_alerts: before + flagged,
    }
}

/// The pipeline as sequential Rust: what every verdict must equal.
pub fn reference(transactions: &[Transaction]) -> Vec<Verdict> {
    let mut ledger = Ledger::default();
    let mut book = AlertBook::default();
    transactions
        .iter()
        .map(|tx| {
            let a = (tx.account % ACCOUNTS) as usize;
            let count = ledger.count[a];
            let mean = if count == 0 {
                tx.amount_cents
            } else {
                ledger.total_cents[a] / i64::from(count)
            };
            let new_merchant = count > 0 && ledger.last_merchant[a] != tx.merchant;
            ledger.count[a] = count + 1;
            ledger.total_cents[a] += tx.amount_cents;
            ledger.last_merchant[a] = tx.merchant;
            let score = u32::from(tx.amount_cents > 3 * mean) * 40
                + u32::from(tx.amount_cents > 100_000) * 30
                + u32::from(new_merchant) * 20
                + u32::from(count < 3) * 10;
            let flagged = u32::from(score >= ALERT_SCORE);
            book.alerts[a] += flagged;
            Verdict {
                seq: tx.seq,
                account: tx.account,
                score,
                flagged,
                account_alerts: book.alerts[a],
            }
        })
        .collect()
}

/// `count` transactions from a fixed-seed generator: mostly small amounts
/// at an account's usual merchants, now and then a large one or a new
/// merchant.
pub fn transactions(count: u64, seed: u64) -> Vec<Transaction> {
    let mut state = seed | 1;
    let mut next = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    (0..count)
        .map(|seq| {
            let r = next();
            let account = (r % 40) as u32;
            let large = next() % 50 == 0;
            let amount_cents = if large {
                50_000 + (next() % 500_000) as i64
            } else {
                100 + (next() % 20_000) as i64
            };
            let merchant = if next() % 10 == 0 {
                (next() % 1000) as u32
            } else {
                account % 7
            };
            Transaction {
                seq,
                amount_cents,
                account,
                merchant,
            }
        })
        .collect()
}

/// The pipeline's actors in a system being built: ingest, score, alert.
pub type Stages = (
    Member<Transaction, (), Ledger>,
    Member<Enriched, (), ()>,
    Member<Scored, Verdict, AlertBook>,
);

/// The running pipeline.
#[derive(Debug)]
pub struct Pipeline {
    pub system: System,
    pub ingest: Member<Transaction, (), Ledger>,
    pub score: Member<Enriched, (), ()>,
    pub alert: Member<Scored, Verdict, AlertBook>,
}

impl Pipeline {
    /// Starts the three stages as one actor system (in pipeline order, so
    /// stopping drains stage by stage).
    pub fn start(rt: &Runtime) -> Result<Pipeline, ringkernel::runtime::Error> {
        let mut b = rt.system();
        let (ingest, score, alert) = Pipeline::wire(&mut b)?;
        Ok(Pipeline {
            system: b.start()?,
            ingest,
            score,
            alert,
        })
    }

    /// Adds the three stages to `b` and wires them, ingest → score →
    /// alert: the system `start` starts (`tests/pipeline_sources.rs`
    /// compiles its kernel without a GPU).
    pub fn wire(b: &mut SystemBuilder<'_>) -> Result<Stages, ringkernel::runtime::Error> {
        let options = SpawnOptions {
            inbox_capacity: 1024,
            outbox_capacity: 4096,
            ..SpawnOptions::default()
        };
        let ingest = ingest::add_to(b, options.clone())?;
        let score = score::add_to(b, options.clone())?;
        let alert = alert::add_to(b, options)?;
        b.connect(ingest, 0, score)?;
        b.connect(score, 0, alert)?;
        Ok((ingest, score, alert))
    }

    /// Feeds every transaction and collects one verdict each, in order:
    /// sends while there is room, receives what has arrived, until done.
    pub fn run(&self, transactions: &[Transaction]) -> Result<Vec<Verdict>, ActorError> {
        let ingest = self.system.actor(self.ingest);
        let alert = self.system.actor(self.alert);
        let mut verdicts = Vec::with_capacity(transactions.len());
        let mut sent = 0;
        let mut idle_since = Instant::now();
        while verdicts.len() < transactions.len() {
            if sent < transactions.len() {
                sent += ingest.try_send_batch(&transactions[sent..])?;
            }
            let before = verdicts.len();
            alert.try_recv_batch(&mut verdicts, transactions.len() - before)?;
            if verdicts.len() > before {
                idle_since = Instant::now();
            } else if idle_since.elapsed() > Duration::from_secs(30) {
                return Err(ActorError::Timeout {
                    actor: alert.id(),
                    millis: 30_000,
                });
            } else {
                std::thread::yield_now();
            }
        }
        Ok(verdicts)
    }
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: u64 = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 100_000,
    };
    let rt = Runtime::new()?;
    println!("backend: {:?}", rt.backend());
    let txs = transactions(count, 0x5EED);
    let expected = reference(&txs);
    let pipeline = Pipeline::start(&rt)?;
    let start = Instant::now();
    let verdicts = pipeline.run(&txs)?;
    let elapsed = start.elapsed();
    let book: AlertBook = pipeline.system.actor(pipeline.alert).state()?;
    pipeline.system.stop(Duration::from_secs(10))?;
    let mismatches = verdicts
        .iter()
        .zip(&expected)
        .filter(|(got, want)| got != want)
        .count();
    let flagged = verdicts.iter().filter(|v| v.flagged != 0).count();
    println!(
        "{count} transactions through ingest -> score -> alert in {:.3} s ({:.0} per second)",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    );
    println!(
        "{flagged} flagged ({} in the alert actor's state); {mismatches} verdicts differ from the sequential Rust reference",
        book.flagged_total
    );
    if mismatches != 0 || verdicts.len() != expected.len() {
        return Err("the pipeline disagrees with the reference".into());
    }
    Ok(())
}
