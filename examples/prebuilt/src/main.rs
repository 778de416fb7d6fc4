//! Runs the example's kernels from the images `cargo build` embedded, with
//! NVRTC forbidden (`EmbeddedPolicy::Only`), and says whether NVRTC was
//! ever loaded. Exit status 0 only when every result matched Rust.

use ringkernel::prelude::*;
use ringkernel_example_prebuilt::{nvrtc_loaded, run, KERNELS};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for k in KERNELS.kernels {
        let resources = k
            .resources
            .iter()
            .map(|r| {
                format!(
                    "sm_{}: {} registers, {} B spilled",
                    r.arch,
                    r.registers,
                    r.spill_store_bytes + r.spill_load_bytes
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        println!(
            "embedded `{}` ({:?}): PTX {}, {} cubin(s); {resources}",
            k.name,
            k.kind,
            if k.ptx.is_some() { "yes" } else { "no" },
            k.cubins.len()
        );
    }
    let rt = Runtime::new()?;
    rt.use_embedded(KERNELS, EmbeddedPolicy::Only);
    println!("backend: {}", rt.backend());
    let outcome = run(&rt)?;
    println!(
        "transform_points: {} points match Rust; accumulate: {} replies match Rust, state {:?}",
        outcome.points, outcome.replies, outcome.totals
    );
    let loaded = nvrtc_loaded();
    println!("libnvrtc mapped: {}", if loaded { "yes" } else { "no" });
    if loaded && rt.is_cuda() {
        return Err("libnvrtc was loaded although every kernel was embedded".into());
    }
    Ok(())
}
