//! Load-time compilation: CUDA C → cubin or PTX through NVRTC, with the disk
//! cache of [`super::cache`] in front.
//!
//! This half needs NVRTC but no GPU, so CI tests it: [`Compiler::compile`]
//! returns the image and says whether it came from the cache or from NVRTC
//! (with NVRTC's wall time), and [`nvrtc_invocations`] counts the real
//! compilations of the process, so a test can prove a cache hit skipped
//! NVRTC without timing anything. Choosing the target (cubin for the
//! device's own architecture, PTX as the fallback) and loading is
//! [`super::module`]'s job.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ringkernel_toolchain::{CompileError, CompileOptions, CudaTools, Target};
use ringkernel_transpiler::back::cuda::system::SystemOutput;
use ringkernel_transpiler::back::cuda::{Header, Output};
use ringkernel_transpiler::source::{KernelSource, SourceKind};

use super::cache::{self, CacheKey, KeyHasher};
use super::lines;
use crate::error::{Error, Result};

/// Diagnostics: when this variable is set (and not `0`), actor modules
/// prepared from then on time their loop's stages (`RK_ACTOR_TRACE` in
/// rk_actor.cuh), read with [`crate::Actor::loop_trace`]: the batches of
/// host messages, or with the value `k2k` the batches of K2K messages
/// (other actors' `ctx.send`). The option is part of the module's cache
/// key, so traced and plain modules never mix.
pub const ACTOR_TRACE_ENV: &str = "RINGKERNEL_ACTOR_TRACE";

/// What [`ACTOR_TRACE_ENV`] asks for, as `RK_ACTOR_TRACE`'s value: 0 no
/// trace, 1 host batches, 2 K2K batches (read when a kernel is prepared;
/// part of the runtime's memo key).
pub(crate) fn actor_trace_mode() -> u8 {
    match std::env::var(ACTOR_TRACE_ENV) {
        Ok(v) if v == "k2k" => 2,
        Ok(v) if v.is_empty() || v == "0" => 0,
        Ok(_) => 1,
        Err(std::env::VarError::NotPresent) => 0,
        Err(std::env::VarError::NotUnicode(_)) => 1,
    }
}

/// Diagnostics: whitespace-separated `NAME=VALUE` pairs that actor modules
/// prepared from then on are compiled with as `-DNAME=VALUE`, to measure
/// the loop's tunables without rebuilding (an A/B of `RK_ACTOR_LOOK_WARPS`,
/// say: see BENCHMARKS.md). Part of the options, hence of the cache key.
pub const ACTOR_DEFINES_ENV: &str = "RINGKERNEL_ACTOR_DEFINES";

/// Diagnostics: whitespace-separated NVRTC options (each starting with
/// `-`) that actor modules prepared from then on are compiled with, after
/// the back end's: an A/B of a code-generation option (`--Ofast-compile=0`
/// against the default, say: see BENCHMARKS.md) without rebuilding. Part of
/// the options, hence of the cache key.
pub const ACTOR_NVRTC_OPTIONS_ENV: &str = "RINGKERNEL_ACTOR_NVRTC_OPTIONS";

/// Adds the loop trace's define that [`ACTOR_TRACE_ENV`] asks for (if any)
/// and the defines of [`ACTOR_DEFINES_ENV`] to an actor module's NVRTC
/// options: an actor's own module, or an actor system's composed one.
pub(crate) fn push_actor_trace_option(options: &mut Vec<String>) {
    let trace = actor_trace_mode();
    if trace != 0 {
        options.push(format!("-DRK_ACTOR_TRACE={trace}"));
    }
    if let Ok(defines) = std::env::var(ACTOR_DEFINES_ENV) {
        options.extend(actor_defines(&defines));
    }
    if let Ok(extra) = std::env::var(ACTOR_NVRTC_OPTIONS_ENV) {
        options.extend(actor_nvrtc_options(&extra));
    }
}

/// The options of [`ACTOR_NVRTC_OPTIONS_ENV`]'s value: each word that
/// starts with `-`; anything else is left out with a warning rather than
/// handed to NVRTC, which would take it for an option anyway.
fn actor_nvrtc_options(value: &str) -> Vec<String> {
    value
        .split_whitespace()
        .filter(|option| {
            let ok = option.starts_with('-') && option.len() > 1;
            if !ok {
                eprintln!(
                    "ringkernel: {ACTOR_NVRTC_OPTIONS_ENV}: `{option}` is not an option; left out"
                );
            }
            ok
        })
        .map(str::to_string)
        .collect()
}

/// `-D` options from [`ACTOR_DEFINES_ENV`]'s value: each `NAME=VALUE` (or
/// `NAME`) whose name is a C identifier; anything else is left out with a
/// warning rather than handed to NVRTC as an option of its own.
fn actor_defines(value: &str) -> Vec<String> {
    value
        .split_whitespace()
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            let ok = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok {
                eprintln!("ringkernel: {ACTOR_DEFINES_ENV}: `{pair}` is not NAME=VALUE; left out");
            }
            ok
        })
        .map(|pair| format!("-D{pair}"))
        .collect()
}

/// When this variable is set (and not `0`), the runtime's compiler
/// ([`Compiler::from_env`]) asks NVRTC for line information
/// (`--generate-line-info`), which profilers (Nsight Compute), the
/// compute-sanitizer and cuda-gdb use to show the `#line` locations, i.e. the
/// handler's Rust lines. Off by default: it costs NVRTC time on every cold
/// compile and nothing at run time needs it (a fault's location comes from
/// the fault record). The option is part of the module's cache key, so
/// modules with and without line information never mix.
pub const LINE_INFO_ENV: &str = "RINGKERNEL_LINE_INFO";

/// Whether an environment value of [`LINE_INFO_ENV`] asks for line
/// information: set, not empty and not `0`.
fn line_info_requested(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != std::ffi::OsStr::new("0"))
}

/// CUDA C ready for NVRTC, with everything that determines the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CudaSource {
    /// The module's name: NVRTC's program name (`<name>.cu`) and the kernel
    /// named in errors.
    pub name: String,
    pub source: String,
    /// Headers the source includes, as (include name, contents).
    pub headers: Vec<(String, String)>,
    /// NVRTC options besides the architecture (the back end's
    /// [`Output::nvrtc_options`]).
    pub options: Vec<String>,
}

impl CudaSource {
    /// The back end's output, with its headers and required options.
    pub fn from_output(name: &str, output: &Output) -> CudaSource {
        CudaSource {
            name: name.to_string(),
            source: output.source.clone(),
            headers: header_texts(&output.headers),
            options: output.nvrtc_options.clone(),
        }
    }

    /// A composed actor system's kernel (`compose_system_tiered`), with its
    /// headers, its required options and the device library's headers, as
    /// `SystemBuilder::start` compiles it (less the loop trace's option,
    /// which it adds when asked).
    pub fn from_system(name: &str, system: &SystemOutput) -> CudaSource {
        CudaSource {
            name: name.to_string(),
            source: system.source.clone(),
            headers: header_texts(&system.headers),
            options: system.nvrtc_options.clone(),
        }
        .with_device_lib()
    }

    /// What the runtime compiles for `kernel`: its transpiled CUDA, with
    /// the device library's headers for a `#[ring_kernel]`.
    pub fn for_kernel(kernel: &KernelSource) -> Result<CudaSource> {
        let transpiled = kernel.transpile().map_err(|error| Error::Transpile {
            kernel: kernel.name.clone(),
            report: kernel.render_error(&error),
            error: Box::new(error),
        })?;
        Ok(CudaSource::of_output(kernel, &transpiled.cuda))
    }

    /// `output` (the transpilation of `kernel`) as the runtime compiles it.
    pub(crate) fn of_output(kernel: &KernelSource, output: &Output) -> CudaSource {
        let src = CudaSource::from_output(&kernel.name, output);
        match kernel.kind {
            SourceKind::RingKernel => {
                let mut src = src.with_device_lib();
                push_actor_trace_option(&mut src.options);
                src
            }
            SourceKind::GpuKernel => src,
        }
    }

    /// Adds the device library's headers (`ringkernel.cuh` and what it
    /// includes), which actor modules need.
    pub fn with_device_lib(mut self) -> CudaSource {
        for (name, text) in ringkernel_device::headers::HEADERS {
            if !self.headers.iter().any(|(n, _)| n == name) {
                self.headers.push((name.to_string(), text.to_string()));
            }
        }
        self
    }

    /// NVRTC's program name.
    pub fn program_name(&self) -> String {
        format!("{}.cu", self.name)
    }

    /// A hash of the headers alone: the include folder's name.
    fn headers_key(&self) -> CacheKey {
        let mut h = KeyHasher::new();
        h.field(b"headers");
        for (name, text) in &self.headers {
            h.field(name.as_bytes()).field(text.as_bytes());
        }
        h.finish()
    }
}

/// Where a compiled image came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageOrigin {
    /// Read from the disk cache; NVRTC did not run.
    DiskCache,
    /// Compiled by NVRTC just now, in `elapsed` wall time.
    Nvrtc { elapsed: Duration },
}

/// A cubin or PTX image and how it was obtained.
#[derive(Debug, Clone)]
pub struct CompiledImage {
    pub target: Target,
    /// Cubin bytes, or PTX text.
    pub image: Vec<u8>,
    pub key: CacheKey,
    pub origin: ImageOrigin,
    /// NVRTC's log (warnings), mapped to Rust lines; empty on a cache hit.
    pub log: String,
}

static NVRTC_INVOCATIONS: AtomicU64 = AtomicU64::new(0);

/// How many times this process has run NVRTC through a [`Compiler`].
pub fn nvrtc_invocations() -> u64 {
    NVRTC_INVOCATIONS.load(Ordering::Relaxed)
}

/// NVRTC with a disk cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiler {
    cache_dir: Option<PathBuf>,
    /// Load modules from PTX only (the fallback path, on purpose).
    ptx_only: bool,
    /// Ask NVRTC for line information ([`LINE_INFO_ENV`]).
    line_info: bool,
}

impl Compiler {
    /// The cache in [`cache::default_cache_dir`] (`RINGKERNEL_CACHE_DIR`
    /// overrides it); PTX only when `RINGKERNEL_FORCE_PTX` is set
    /// ([`super::compat::FORCE_PTX_ENV`]); line information when
    /// `RINGKERNEL_LINE_INFO` is set ([`LINE_INFO_ENV`]).
    pub fn from_env() -> Compiler {
        let force = std::env::var(super::compat::FORCE_PTX_ENV).ok();
        Compiler {
            cache_dir: cache::default_cache_dir(),
            ptx_only: super::compat::force_ptx_requested(force.as_deref()),
            line_info: line_info_requested(std::env::var_os(LINE_INFO_ENV).as_deref()),
        }
    }

    /// A cache in `dir`.
    pub fn with_cache_dir(dir: impl Into<PathBuf>) -> Compiler {
        Compiler {
            cache_dir: Some(dir.into()),
            ptx_only: false,
            line_info: false,
        }
    }

    /// No disk cache: every compile runs NVRTC.
    pub fn without_cache() -> Compiler {
        Compiler {
            cache_dir: None,
            ptx_only: false,
            line_info: false,
        }
    }

    /// Whether modules are loaded from PTX only (the driver's JIT) instead
    /// of a cubin for the device's architecture; off by default.
    pub fn ptx_only(mut self, yes: bool) -> Compiler {
        self.ptx_only = yes;
        self
    }

    /// See [`Compiler::ptx_only`].
    pub fn forces_ptx(&self) -> bool {
        self.ptx_only
    }

    /// Whether NVRTC emits line information (`--generate-line-info`) for
    /// profilers, the sanitizer and cuda-gdb; off by default (it costs
    /// cold-compile time), on in [`Compiler::from_env`] with
    /// [`LINE_INFO_ENV`]. Part of every module's cache key.
    pub fn line_info(mut self, yes: bool) -> Compiler {
        self.line_info = yes;
        self
    }

    /// See [`Compiler::line_info`].
    pub fn emits_line_info(&self) -> bool {
        self.line_info
    }

    pub fn cache_dir(&self) -> Option<&Path> {
        self.cache_dir.as_deref()
    }

    /// The NVRTC options for `target`, with `include_dir` on the include path.
    fn options(
        &self,
        src: &CudaSource,
        target: Target,
        include_dir: Option<String>,
    ) -> CompileOptions {
        let mut options = CompileOptions::new(target);
        options.line_info = self.line_info;
        options.include_dirs.extend(include_dir);
        options.extra = src.options.clone();
        options
    }

    /// The cache key of `src` compiled for `target` with the located NVRTC.
    pub fn key(&self, src: &CudaSource, target: Target) -> Result<CacheKey> {
        let tools = CudaTools::locate()?;
        let (major, minor) = tools.nvrtc_version();
        let mut h = KeyHasher::new();
        h.field(format!("{target:?}").as_bytes())
            .field(format!("nvrtc {major}.{minor}").as_bytes());
        // The include folder's path is not part of the key: its contents
        // (the headers) are.
        for arg in self.options(src, target, None).to_args() {
            h.field(arg.as_bytes());
        }
        h.field(b"headers");
        for (name, text) in &src.headers {
            h.field(name.as_bytes()).field(text.as_bytes());
        }
        h.field(b"source").field(src.source.as_bytes());
        Ok(h.finish())
    }

    /// `src` compiled for `target`: from the disk cache if there, otherwise
    /// by NVRTC (and then stored).
    pub fn compile(&self, src: &CudaSource, target: Target) -> Result<CompiledImage> {
        let key = self.key(src, target)?;
        if let Some(dir) = &self.cache_dir {
            if let Some(image) = cache::read(&cache::module_path(dir, &key, ext(target))) {
                return Ok(CompiledImage {
                    target,
                    image,
                    key,
                    origin: ImageOrigin::DiskCache,
                    log: String::new(),
                });
            }
        }
        self.compile_uncached(src, target, key)
    }

    /// Runs NVRTC whatever the cache holds, and stores the result (a cache
    /// entry that failed to load is replaced this way).
    pub(crate) fn compile_uncached(
        &self,
        src: &CudaSource,
        target: Target,
        key: CacheKey,
    ) -> Result<CompiledImage> {
        let include = self.include_dir(src)?;
        let options = self.options(src, target, Some(include.display().to_string()));
        let start = Instant::now();
        NVRTC_INVOCATIONS.fetch_add(1, Ordering::Relaxed);
        let program = src.program_name();
        let compiled = ringkernel_toolchain::compile(&program, &src.source, &options);
        let elapsed = start.elapsed();
        let compiled = compiled.map_err(|error| match error {
            CompileError::Rejected { log, .. } => Error::Compile {
                kernel: src.name.clone(),
                log: lines::map_log(&log, &program, &src.source),
            },
            error => Error::Toolchain {
                kernel: src.name.clone(),
                error: Box::new(error),
            },
        })?;
        if let Some(dir) = &self.cache_dir {
            // A cache that cannot be written (read-only home, full disk) is
            // not an error: the module still loads, only uncached.
            let _ =
                cache::write_atomic(&cache::module_path(dir, &key, ext(target)), &compiled.image);
        }
        Ok(CompiledImage {
            target,
            image: compiled.image,
            key,
            origin: ImageOrigin::Nvrtc { elapsed },
            log: lines::map_log(&compiled.log, &program, &src.source),
        })
    }

    /// The folder holding `src`'s headers, named by their hash: in the cache
    /// folder when there is one that can be written, else in the temp folder.
    fn include_dir(&self, src: &CudaSource) -> Result<PathBuf> {
        let name = src.headers_key().hex();
        if let Some(dir) = &self.cache_dir {
            let path = dir.join("include").join(&name);
            if cache::ensure_folder(&path, &src.headers).is_ok() {
                return Ok(path);
            }
        }
        let path = std::env::temp_dir().join("ringkernel-include").join(&name);
        cache::ensure_folder(&path, &src.headers).map_err(|error| Error::Cache {
            path: path.clone(),
            error,
        })?;
        Ok(path)
    }
}

fn ext(target: Target) -> &'static str {
    match target {
        Target::Ptx(_) => "ptx",
        Target::Cubin(_) => "cubin",
    }
}

/// The back end's headers as (name, text) pairs.
fn header_texts(headers: &[Header]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| (h.name.to_string(), h.contents.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn actor_nvrtc_options_are_dash_words_only() {
        assert_eq!(
            actor_nvrtc_options(" --Ofast-compile=0\t-Xptxas=-O2 x - "),
            ["--Ofast-compile=0", "-Xptxas=-O2"]
        );
        assert!(actor_nvrtc_options("").is_empty());
    }

    #[test]
    fn actor_defines_are_d_options_of_identifiers_only() {
        assert_eq!(
            actor_defines(" RK_ACTOR_LOOK_WARPS=1  RK_X\tRK_Y=2 "),
            ["-DRK_ACTOR_LOOK_WARPS=1", "-DRK_X", "-DRK_Y=2"]
        );
        assert!(actor_defines("").is_empty());
        // Nothing that NVRTC would read as another option, or a bad name.
        assert_eq!(
            actor_defines("--use_fast_math 1X=2 A-B=3 =4 OK=5"),
            ["-DOK=5"]
        );
    }

    #[test]
    fn the_line_info_variable_reads_like_a_flag() {
        for yes in ["1", "yes", "true"] {
            assert!(line_info_requested(Some(OsStr::new(yes))), "{yes:?}");
        }
        for no in [None, Some(OsStr::new("")), Some(OsStr::new("0"))] {
            assert!(!line_info_requested(no), "{no:?}");
        }
    }

    #[test]
    fn line_info_is_an_nvrtc_option_only_when_asked() {
        let src = CudaSource {
            name: "k".into(),
            source: String::new(),
            headers: Vec::new(),
            options: vec!["--fmad=false".into()],
        };
        let target = Target::Cubin(ringkernel_toolchain::Arch::SM_90);
        let args = |c: &Compiler| c.options(&src, target, None).to_args();
        let plain = Compiler::without_cache();
        assert!(!plain.emits_line_info());
        assert!(!args(&plain).iter().any(|a| a == "--generate-line-info"));
        let lined = Compiler::without_cache().line_info(true);
        assert!(args(&lined).iter().any(|a| a == "--generate-line-info"));
        assert!(args(&lined).iter().any(|a| a == "--fmad=false"));
    }
}
