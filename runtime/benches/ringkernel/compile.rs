//! Load-time compilation: transpile time of a ~100-line handler, and per
//! actor module the NVRTC cold compile and the disk-cache hit, each loaded
//! into the device by a fresh runtime (so the in-memory module cache never
//! answers).

use std::path::PathBuf;
use std::time::Instant;

use ringkernel_runtime::{
    KernelSource, LoadReport, ModuleOrigin, Runtime, SourceKind, SourceText, CACHE_DIR_ENV,
};

use crate::actors;
use crate::stats::{ns_since, Latency};
use crate::Config;

/// The 100-line handler issue 3's transpile bar is stated for (shared
/// with the transpiler's own bench).
pub const HANDLER_100: &str = include_str!("../../../transpiler/benches/data/handler_100_lines.rs");
const HANDLER_100_FILE: &str = "transpiler/benches/data/handler_100_lines.rs";

fn handler_100() -> KernelSource {
    KernelSource {
        name: "score".into(),
        kind: SourceKind::RingKernel,
        items: vec![SourceText::whole_file(HANDLER_100_FILE, HANDLER_100)],
        layouts: Vec::new(),
        overflow_checks: true,
    }
}

/// Transpile time (Rust text → typed IR → passes → CUDA) of the 100-line
/// handler.
pub fn transpile(config: &Config) -> Result<Latency, String> {
    let source = handler_100();
    for _ in 0..20 {
        source.transpile().map_err(|e| e.to_string())?;
    }
    let mut v = Vec::with_capacity(config.transpiles);
    for _ in 0..config.transpiles {
        let t0 = Instant::now();
        let out = source.transpile().map_err(|e| e.to_string())?;
        v.push(ns_since(t0));
        std::hint::black_box(out);
    }
    Ok(Latency::new(
        "transpile (100-line handler)",
        &format!(
            "KernelSource::transpile of {HANDLER_100_FILE} ({} lines: parse, front end, passes, validator, CUDA writer)",
            HANDLER_100.lines().count()
        ),
        v,
    ))
}

/// One actor module's load times.
#[derive(Debug)]
pub struct ModuleTimes {
    pub module: String,
    /// NVRTC wall time of each cold compile.
    pub nvrtc_s: Vec<f64>,
    /// Whole load (hash, NVRTC, cache write, cuModuleLoadData) of each cold load.
    pub cold_load_s: Vec<f64>,
    /// Whole load on a disk-cache hit (hash, read, cuModuleLoadData).
    pub hit_load_s: Vec<f64>,
}

pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn load(kernel: &KernelSource, cache: &std::path::Path) -> Result<LoadReport, String> {
    // The runtime reads the cache folder from the environment when it opens
    // the device; a fresh runtime also has an empty in-memory module cache.
    std::env::set_var(CACHE_DIR_ENV, cache);
    let rt = Runtime::cuda(0).map_err(|e| e.to_string())?;
    let (_, report) = rt.load_kernel_module(kernel).map_err(|e| e.to_string())?;
    Ok(report)
}

/// Cold compiles (an empty cache folder each) and cache hits of every
/// actor module the benchmark uses.
pub fn nvrtc(config: &Config) -> Result<Vec<ModuleTimes>, String> {
    let saved = std::env::var_os(CACHE_DIR_ENV);
    let root = std::env::temp_dir().join(format!("ringkernel-bench-{}", std::process::id()));
    let modules: Vec<KernelSource> = ["echo64", "digest1k", "guard"]
        .into_iter()
        .map(actors::kernel)
        .chain([handler_100()])
        .collect();
    let mut out = Vec::new();
    let mut fresh = 0;
    for kernel in &modules {
        let mut times = ModuleTimes {
            module: kernel.name.clone(),
            nvrtc_s: Vec::new(),
            cold_load_s: Vec::new(),
            hit_load_s: Vec::new(),
        };
        let mut dir = PathBuf::new();
        for _ in 0..config.cold_compiles {
            fresh += 1;
            dir = root.join(format!("cold-{fresh}"));
            let report = load(kernel, &dir)?;
            match report.origin {
                ModuleOrigin::Nvrtc { nvrtc } => times.nvrtc_s.push(nvrtc.as_secs_f64()),
                other => return Err(format!("{}: a cold load came from {other:?}", kernel.name)),
            }
            times.cold_load_s.push(report.elapsed.as_secs_f64());
        }
        for _ in 0..config.cache_hits {
            let report = load(kernel, &dir)?;
            if report.origin != ModuleOrigin::DiskCache {
                return Err(format!(
                    "{}: a warm load came from {:?}",
                    kernel.name, report.origin
                ));
            }
            times.hit_load_s.push(report.elapsed.as_secs_f64());
        }
        out.push(times);
    }
    match saved {
        Some(v) => std::env::set_var(CACHE_DIR_ENV, v),
        None => std::env::remove_var(CACHE_DIR_ENV),
    }
    let _ = std::fs::remove_dir_all(&root);
    Ok(out)
}
