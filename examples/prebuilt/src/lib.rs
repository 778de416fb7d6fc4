//! A crate whose `cargo build` compiles its kernels to PTX and cubins
//! (`build.rs`, with `ringkernel-build`), and whose program runs them from
//! the embedded images: no NVRTC at run time.
//!
//! [`KERNELS`] is what the build script produced; [`run`] launches the
//! kernel and drives the actor and checks both against plain Rust.

pub mod kernels;

use ringkernel::embedded::EmbeddedKernels;
use ringkernel::prelude::*;

pub use kernels::{accumulate, transform, transform_points, Point, Sample, Summary, Totals};

/// The kernels `build.rs` compiled, embedded in the binary.
pub static KERNELS: &EmbeddedKernels = ringkernel::include_kernels!();

/// Whether this process has the NVRTC library mapped.
pub fn nvrtc_loaded() -> bool {
    std::fs::read_to_string("/proc/self/maps").is_ok_and(|maps| maps.contains("libnvrtc"))
}

/// The points the example transforms.
pub fn points(n: usize) -> Vec<Point> {
    (0..n)
        .map(|i| Point {
            x: i as f32 * 0.5,
            y: 1.0 - i as f32 * 0.25,
        })
        .collect()
}

/// The samples the example sends.
pub fn samples(n: u32) -> Vec<Sample> {
    (0..n)
        .map(|id| Sample {
            id,
            values: std::array::from_fn(|j| (id as f32) * 0.5 + j as f32),
        })
        .collect()
}

/// What [`run`] observed.
#[derive(Debug)]
pub struct Outcome {
    pub points: usize,
    pub replies: usize,
    pub totals: Totals,
}

/// Launches `transform_points` and drives `accumulate` on `rt`, checking
/// every result against the same computation in plain Rust.
pub fn run(rt: &Runtime) -> Result<Outcome, Box<dyn std::error::Error>> {
    let (s, dx) = (1.5f32, -2.0f32);
    let input = points(1000);
    let mut buffer = rt.upload(&input)?;
    transform_points::launch(rt, Grid::for_elements(input.len()), s, dx, &mut buffer)?;
    let output = buffer.to_vec()?;
    for (i, (got, p)) in output.iter().zip(&input).enumerate() {
        let want = transform(*p, s, dx);
        if *got != want {
            return Err(
                format!("transform_points: point {i} is {got:?}, Rust says {want:?}").into(),
            );
        }
    }

    let actor = accumulate::spawn(rt, SpawnOptions::default())?;
    let mut expected = Totals::default();
    let sent = samples(64);
    for sample in &sent {
        let reply = actor.call(sample)?;
        // Rust's reference: the block reduction adds the 32 values.
        let sum = reference_sum(&sample.values);
        expected.count += 1;
        expected.total += sum;
        expected.largest = expected.largest.max(sum);
        let want = Summary {
            id: sample.id,
            sum,
            count: expected.count,
        };
        if reply != want {
            return Err(format!("accumulate: reply {reply:?}, Rust says {want:?}").into());
        }
    }
    let totals = actor.state()?;
    actor.stop()?;
    if totals != expected {
        return Err(format!("accumulate: state {totals:?}, Rust says {expected:?}").into());
    }
    Ok(Outcome {
        points: output.len(),
        replies: sent.len(),
        totals,
    })
}

/// The sums of these samples are small integers and halves, exact in
/// `f32` in any order, so the block reduction's order does not matter.
fn reference_sum(values: &[f32; 32]) -> f32 {
    values.iter().sum()
}
