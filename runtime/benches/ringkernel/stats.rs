//! Summaries of what was measured: latency samples with their percentiles,
//! and throughput runs.

use std::time::{Duration, Instant};

/// Round-trip samples in nanoseconds, sorted.
#[derive(Debug, Clone)]
pub struct Latency {
    pub name: String,
    /// What one sample is, for the table.
    pub what: String,
    pub sorted_ns: Vec<f64>,
}

impl Latency {
    pub fn new(name: &str, what: &str, mut ns: Vec<f64>) -> Latency {
        ns.sort_by(f64::total_cmp);
        Latency {
            name: name.into(),
            what: what.into(),
            sorted_ns: ns,
        }
    }

    pub fn n(&self) -> usize {
        self.sorted_ns.len()
    }

    /// The `p`-quantile (0..=1), nearest rank.
    pub fn quantile(&self, p: f64) -> f64 {
        let v = &self.sorted_ns;
        if v.is_empty() {
            return f64::NAN;
        }
        let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[rank - 1]
    }

    pub fn p50(&self) -> f64 {
        self.quantile(0.5)
    }

    pub fn mean(&self) -> f64 {
        self.sorted_ns.iter().sum::<f64>() / self.sorted_ns.len().max(1) as f64
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "what": self.what,
            "n": self.n(),
            "p50_ns": self.quantile(0.5),
            "p90_ns": self.quantile(0.9),
            "p99_ns": self.quantile(0.99),
            "p999_ns": self.quantile(0.999),
            "min_ns": self.sorted_ns.first(),
            "max_ns": self.sorted_ns.last(),
            "mean_ns": self.mean(),
        })
    }
}

/// A sustained stream.
#[derive(Debug, Clone)]
pub struct Throughput {
    pub name: String,
    pub what: String,
    /// Replies received and checked.
    pub messages: u64,
    pub elapsed: Duration,
    /// Bytes moved per message host→device and device→host (slots).
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Replies that failed their check (must be 0).
    pub bad: u64,
    /// The share of the measured time the receiving host thread found
    /// nothing to take (it waited for the device), when measured: near 0
    /// means the host's receive path is the limit, near 1 the device (or
    /// the sending side).
    pub receiver_idle: Option<f64>,
}

impl Throughput {
    pub fn rate(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "what": self.what,
            "messages": self.messages,
            "seconds": self.elapsed.as_secs_f64(),
            "msgs_per_s": self.rate(),
            "bytes_per_msg_h2d": self.bytes_in,
            "bytes_per_msg_d2h": self.bytes_out,
            "gb_per_s_h2d": self.rate() * self.bytes_in as f64 / 1e9,
            "gb_per_s_d2h": self.rate() * self.bytes_out as f64 / 1e9,
            "bad_replies": self.bad,
            "receiver_idle_share": self.receiver_idle,
        })
    }
}

/// Nanoseconds since `t0`.
pub fn ns_since(t0: Instant) -> f64 {
    t0.elapsed().as_nanos() as f64
}

/// `ns` for a table: ns below 10 µs, µs below 10 ms, else ms.
pub fn fmt_ns(ns: f64) -> String {
    if ns.is_nan() {
        "-".into()
    } else if ns < 10_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 10_000_000.0 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{:.1} ms", ns / 1e6)
    }
}
