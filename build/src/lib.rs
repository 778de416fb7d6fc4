//! `cargo build` produces PTX: the build helper a crate calls from its
//! `build.rs` to compile every `#[gpu_kernel]` and `#[ring_kernel]` of its
//! sources to CUDA, PTX and cubins in `OUT_DIR`, with a manifest, and
//! ptxas' resource report as `cargo:warning` lines.
//!
//! ```no_run
//! // in build.rs's `main`:
//! ringkernel_build::Builder::new().deny_spills(true).build();
//! ```
//!
//! ```ignore
//! // main.rs
//! static KERNELS: &ringkernel::embedded::EmbeddedKernels = ringkernel::include_kernels!();
//! let rt = Runtime::new()?;
//! rt.use_embedded(KERNELS, EmbeddedPolicy::Only);   // never NVRTC
//! ```
//!
//! Mechanism (see ARCHITECTURE.md): the helper reads the crate's
//! `src/**/*.rs` with syn and builds, for each kernel, the same
//! [`KernelSource`] the kernel's macro builds ([`scan`]), then runs the
//! same `KernelSource::transpile`, so the CUDA is the CUDA `cuda_source()`
//! returns. Per kernel it writes, under `OUT_DIR/ringkernel/`:
//! `NAME.cu`, `NAME.ptx` (for the lowest configured architecture's virtual
//! one), `NAME.sm_XX.cubin` per architecture, and, for the whole crate,
//! `manifest.txt` (for people) and `kernels.rs` (the manifest as `static`
//! Rust data that `include_kernels!()` embeds: read without parsing).

pub mod compile;
pub mod scan;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ringkernel_toolchain::{Arch, CudaTools, KernelResources, Target};
use ringkernel_transpiler::source::SourceKind;
use sha2::{Digest, Sha256};

pub use compile::{CompileStepError, Module};
pub use scan::{Crate, FoundKernel, ScanError, SourceFile};

/// The environment variable that makes a missing NVRTC a build error
/// (CI sets it); without it the build writes the CUDA only and warns.
pub const REQUIRE_NVRTC_ENV: &str = ringkernel_toolchain::REQUIRE_NVRTC_ENV;

/// Why the build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Scan(#[from] ScanError),
    #[error("{0}")]
    Compile(#[from] CompileStepError),
    #[error("the CUDA toolchain is required ({REQUIRE_NVRTC_ENV} is set) but was not found: {0}")]
    NoToolchain(String),
    #[error("`{kernel}` on {arch} {problem} (ringkernel-build budget)")]
    Budget {
        kernel: String,
        arch: Arch,
        problem: String,
    },
    #[error("cargo did not set {0}: call the build helper from a build script")]
    NotInBuildScript(&'static str),
    #[error("cannot write {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// What the build compiled: one entry per kernel.
#[derive(Debug, Clone)]
pub struct Built {
    pub name: String,
    pub function: String,
    pub kind: SourceKind,
    pub file: String,
    pub line: u32,
    pub module: Module,
    /// `OUT_DIR/ringkernel/NAME.cu`.
    pub cuda_path: PathBuf,
    /// The PTX and its virtual architecture, when NVRTC was available.
    pub ptx: Option<(Arch, PathBuf)>,
    pub cubins: Vec<(Arch, PathBuf)>,
    pub resources: Vec<(Arch, KernelResources)>,
}

/// The build helper's settings.
#[derive(Debug, Clone)]
pub struct Builder {
    archs: Vec<Arch>,
    deny_spills: bool,
    max_registers: Option<u32>,
    src_dir: Option<PathBuf>,
    file_prefix: Option<String>,
    out_dir: Option<PathBuf>,
    overflow_checks: Option<bool>,
    quiet: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// Cubins for `sm_90`, the crate's `src/`, the profile's overflow checks.
    pub fn new() -> Builder {
        Builder {
            archs: vec![Arch::SM_90],
            deny_spills: false,
            max_registers: None,
            src_dir: None,
            file_prefix: None,
            out_dir: None,
            overflow_checks: None,
            quiet: false,
        }
    }

    /// The architectures to build cubins for (the PTX is for the lowest).
    pub fn archs(mut self, archs: impl IntoIterator<Item = Arch>) -> Builder {
        self.archs = archs.into_iter().collect();
        self.archs.sort_by_key(|a| a.0);
        self.archs.dedup();
        self
    }

    /// Fail the build when ptxas reports spill stores or loads.
    pub fn deny_spills(mut self, deny: bool) -> Builder {
        self.deny_spills = deny;
        self
    }

    /// Fail the build when a kernel uses more than `registers` registers.
    pub fn max_registers(mut self, registers: u32) -> Builder {
        self.max_registers = Some(registers);
        self
    }

    /// Read the kernels from `dir` instead of `$CARGO_MANIFEST_DIR/src`.
    pub fn src_dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.src_dir = Some(dir.into());
        self
    }

    /// How `file!()` names the source folder in this crate (the path rustc
    /// is given, relative to the workspace root for workspace members).
    /// Found by walking up to the workspace root when not set.
    pub fn file_prefix(mut self, prefix: impl Into<String>) -> Builder {
        self.file_prefix = Some(prefix.into());
        self
    }

    /// Write to `dir` instead of `$OUT_DIR/ringkernel`.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.out_dir = Some(dir.into());
        self
    }

    /// Overflow checks, instead of the profile's `debug_assertions` (which
    /// is what the macros' `kernel()` uses).
    pub fn overflow_checks(mut self, on: bool) -> Builder {
        self.overflow_checks = Some(on);
        self
    }

    /// No `cargo:` lines (for use outside build scripts).
    pub fn quiet(mut self, quiet: bool) -> Builder {
        self.quiet = quiet;
        self
    }

    /// [`Builder::run`] for a build script: on error, prints it and exits
    /// with status 1 (cargo shows the output and fails the build).
    pub fn build(self) -> Vec<Built> {
        match self.run() {
            Ok(built) => built,
            Err(e) => {
                eprintln!("error: ringkernel-build: {e}");
                std::process::exit(1);
            }
        }
    }

    /// Compiles every kernel of the crate into the output folder.
    pub fn run(self) -> Result<Vec<Built>, BuildError> {
        let manifest_dir = match std::env::var_os("CARGO_MANIFEST_DIR") {
            Some(dir) => PathBuf::from(dir),
            None if self.src_dir.is_some() => PathBuf::from("."),
            None => return Err(BuildError::NotInBuildScript("CARGO_MANIFEST_DIR")),
        };
        let src_dir = self
            .src_dir
            .clone()
            .unwrap_or_else(|| manifest_dir.join("src"));
        let out_dir = match (&self.out_dir, std::env::var_os("OUT_DIR")) {
            (Some(dir), _) => dir.clone(),
            (None, Some(dir)) => PathBuf::from(dir).join("ringkernel"),
            (None, None) => return Err(BuildError::NotInBuildScript("OUT_DIR")),
        };
        let prefix = self
            .file_prefix
            .clone()
            .unwrap_or_else(|| file_prefix(&manifest_dir, &src_dir));
        let crate_name = std::env::var("CARGO_PKG_NAME")
            .unwrap_or_else(|_| "crate".into())
            .replace('-', "_");
        let overflow_checks = self
            .overflow_checks
            .unwrap_or_else(|| std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_some());
        if !self.quiet {
            println!("cargo:rerun-if-changed={}", src_dir.display());
            for var in ["RINGKERNEL_CUDA_ROOT", REQUIRE_NVRTC_ENV] {
                println!("cargo:rerun-if-env-changed={var}");
            }
        }
        let krate = Crate::scan_dir(&src_dir, &prefix, &crate_name)?;
        let kernels = krate.kernels(overflow_checks)?;
        let tools = match CudaTools::locate() {
            Ok(tools) => Some(tools),
            Err(e) => {
                let required =
                    std::env::var(REQUIRE_NVRTC_ENV).is_ok_and(|v| v != "0" && !v.is_empty());
                if required {
                    return Err(BuildError::NoToolchain(e.to_string()));
                }
                self.warn(&format!(
                    "NVRTC not found ({e}): only CUDA was written, no PTX or cubins; install the toolchain (`cargo xtask setup`) or set RINGKERNEL_CUDA_ROOT"
                ));
                None
            }
        };
        create_dir(&out_dir)?;
        let mut built = Vec::new();
        for kernel in &kernels {
            built.push(self.build_one(kernel, tools.as_ref(), &out_dir)?);
        }
        write(
            &out_dir.join("manifest.txt"),
            manifest_text(&crate_name, &built).as_bytes(),
        )?;
        write(
            &out_dir.join("kernels.rs"),
            statics(&crate_name, &built).as_bytes(),
        )?;
        Ok(built)
    }

    fn warn(&self, message: &str) {
        if !self.quiet {
            println!("cargo:warning=ringkernel: {message}");
        }
    }

    fn build_one(
        &self,
        kernel: &FoundKernel,
        tools: Option<&CudaTools>,
        out_dir: &Path,
    ) -> Result<Built, BuildError> {
        let name = &kernel.source.name;
        let module = compile::transpile(&kernel.source)?;
        let cuda_path = out_dir.join(format!("{name}.cu"));
        write(&cuda_path, module.source.as_bytes())?;
        let mut out = Built {
            name: name.clone(),
            function: kernel.function.clone(),
            kind: kernel.source.kind,
            file: kernel.file.clone(),
            line: kernel.line,
            module,
            cuda_path,
            ptx: None,
            cubins: Vec::new(),
            resources: Vec::new(),
        };
        let Some(tools) = tools else {
            return Ok(out);
        };
        let include = out_dir.join("include");
        let Some(&lowest) = self.archs.first() else {
            return Ok(out);
        };
        let ptx = compile::nvrtc(name, &out.module, Target::Ptx(lowest), &include)?;
        let ptx_path = out_dir.join(format!("{name}.ptx"));
        write(&ptx_path, &ptx)?;
        out.ptx = Some((lowest, ptx_path));
        let ptx_text = String::from_utf8_lossy(&ptx).into_owned();
        for &arch in &self.archs {
            let cubin = compile::nvrtc(name, &out.module, Target::Cubin(arch), &include)?;
            let path = out_dir.join(format!("{name}.{arch}.cubin"));
            write(&path, &cubin)?;
            out.cubins.push((arch, path));
            let symbol = out.module.info.symbol.clone();
            match compile::resources(tools, name, &symbol, &ptx_text, arch)? {
                Some(r) => {
                    self.warn(&format!(
                        "`{name}` on {arch}: {} registers, {} B spill stores, {} B spill loads, {} B shared, {} B stack",
                        r.registers,
                        r.spill_store_bytes,
                        r.spill_load_bytes,
                        r.shared_bytes,
                        r.stack_frame_bytes
                    ));
                    self.check_budget(name, arch, &r)?;
                    out.resources.push((arch, r));
                }
                None if self.deny_spills || self.max_registers.is_some() => {
                    return Err(BuildError::Budget {
                        kernel: name.clone(),
                        arch,
                        problem: "cannot be checked: ptxas was not found".into(),
                    })
                }
                None => self.warn(&format!(
                    "`{name}` on {arch}: no resource report (ptxas not found)"
                )),
            }
        }
        Ok(out)
    }

    fn check_budget(&self, name: &str, arch: Arch, r: &KernelResources) -> Result<(), BuildError> {
        if self.deny_spills && r.spills() {
            return Err(BuildError::Budget {
                kernel: name.to_string(),
                arch,
                problem: format!(
                    "spills ({} B stores, {} B loads)",
                    r.spill_store_bytes, r.spill_load_bytes
                ),
            });
        }
        if let Some(max) = self.max_registers {
            if r.registers > max {
                return Err(BuildError::Budget {
                    kernel: name.to_string(),
                    arch,
                    problem: format!(
                        "uses {} registers, more than the {max} allowed",
                        r.registers
                    ),
                });
            }
        }
        Ok(())
    }
}

/// How rustc's `file!()` names `src_dir`: relative to the enclosing
/// workspace root (the nearest ancestor whose `Cargo.toml` has a
/// `[workspace]` table), which is where cargo runs rustc for members;
/// relative to the package otherwise.
pub fn file_prefix(manifest_dir: &Path, src_dir: &Path) -> String {
    let root = manifest_dir
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|t| t.lines().any(|l| l.trim() == "[workspace]"))
        })
        .unwrap_or(manifest_dir);
    let relative = src_dir.strip_prefix(root).unwrap_or(src_dir);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn create_dir(dir: &Path) -> Result<(), BuildError> {
    std::fs::create_dir_all(dir).map_err(|error| BuildError::Write {
        path: dir.to_path_buf(),
        error,
    })
}

/// Writes `bytes` unless the file already holds them (so cargo's and
/// rustc's freshness checks do not see a change).
fn write(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    if std::fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    std::fs::write(path, bytes).map_err(|error| BuildError::Write {
        path: path.to_path_buf(),
        error,
    })
}

/// The human-readable manifest.
pub fn manifest_text(crate_name: &str, built: &[Built]) -> String {
    let mut out = format!("# ringkernel-build manifest of crate `{crate_name}`\n");
    for b in built {
        let info = &b.module.info;
        let _ = writeln!(out, "\n[{}]", b.name);
        let _ = writeln!(out, "function = {} ({}:{})", b.function, b.file, b.line);
        let _ = writeln!(out, "kind = {:?}", b.kind);
        let _ = writeln!(out, "symbol = {}", info.symbol);
        let _ = writeln!(out, "block = {:?}", info.block);
        let params: Vec<String> = info
            .params
            .iter()
            .map(|p| format!("{}: {:?}", p.name.as_deref().unwrap_or("_"), p.abi))
            .collect();
        let _ = writeln!(out, "params = [{}]", params.join(", "));
        if let Some(actor) = &info.actor {
            let _ = writeln!(out, "actor = {actor:?}");
        }
        let _ = writeln!(out, "cuda = {}", file_name(&b.cuda_path));
        if let Some((arch, path)) = &b.ptx {
            let _ = writeln!(out, "ptx = {} (compute_{})", file_name(path), arch.0);
        }
        for (arch, path) in &b.cubins {
            let _ = writeln!(out, "cubin.{arch} = {}", file_name(path));
        }
        for (arch, r) in &b.resources {
            let _ = writeln!(
                out,
                "resources.{arch} = {} registers, {} B spill stores, {} B spill loads, {} B shared, {} B stack",
                r.registers, r.spill_store_bytes, r.spill_load_bytes, r.shared_bytes, r.stack_frame_bytes
            );
        }
    }
    out
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `kernels.rs`: an expression of type `&'static EmbeddedKernels` naming
/// the artifacts by absolute path.
pub fn statics(crate_name: &str, built: &[Built]) -> String {
    let e = "::ringkernel::embedded";
    let mut out = format!(
        "// Generated by ringkernel-build; `ringkernel::include_kernels!()` embeds it.\n&{e}::EmbeddedKernels {{\n    crate_name: {crate_name:?},\n    kernels: &[\n"
    );
    for b in built {
        let info = &b.module.info;
        let kind = match b.kind {
            SourceKind::GpuKernel => "GpuKernel",
            SourceKind::RingKernel => "RingKernel",
        };
        let actor = match &info.actor {
            Some(a) => format!(
                "::core::option::Option::Some({e}::EmbeddedActor {{ message_size: {}, reply_size: {}, state_size: {} }})",
                a.message_size, a.reply_size, a.state_size
            ),
            None => "::core::option::Option::None".into(),
        };
        let headers: Vec<String> = b
            .module
            .headers
            .iter()
            .map(|(name, text)| {
                let sha: [u8; 32] = Sha256::digest(text.as_bytes()).into();
                format!("{e}::EmbeddedHeader {{ name: {name:?}, sha256: {sha:?} }}")
            })
            .collect();
        let ptx = match &b.ptx {
            Some((arch, path)) => format!(
                "::core::option::Option::Some({e}::EmbeddedPtx {{ arch: {}, text: ::core::include_str!({:?}) }})",
                arch.0,
                path.display().to_string()
            ),
            None => "::core::option::Option::None".into(),
        };
        let cubins: Vec<String> = b
            .cubins
            .iter()
            .map(|(arch, path)| {
                format!(
                    "{e}::EmbeddedCubin {{ arch: {}, image: ::core::include_bytes!({:?}) }}",
                    arch.0,
                    path.display().to_string()
                )
            })
            .collect();
        let resources: Vec<String> = b
            .resources
            .iter()
            .map(|(arch, r)| {
                format!(
                    "{e}::EmbeddedResources {{ arch: {}, registers: {}, spill_store_bytes: {}, spill_load_bytes: {}, shared_bytes: {}, stack_frame_bytes: {} }}",
                    arch.0, r.registers, r.spill_store_bytes, r.spill_load_bytes, r.shared_bytes, r.stack_frame_bytes
                )
            })
            .collect();
        let _ = write!(
            out,
            "        {e}::EmbeddedKernel {{\n            name: {:?},\n            function: {:?},\n            kind: {e}::EmbeddedKind::{kind},\n            symbol: {:?},\n            file: {:?},\n            line: {},\n            block: {:?},\n            actor: {actor},\n            cuda: ::core::include_str!({:?}),\n            nvrtc_options: &{:?},\n            headers: &[{}],\n            ptx: {ptx},\n            cubins: &[{}],\n            resources: &[{}],\n        }},\n",
            b.name,
            b.function,
            info.symbol,
            b.file,
            b.line,
            info.block,
            b.cuda_path.display().to_string(),
            b.module.nvrtc_options,
            headers.join(", "),
            cubins.join(", "),
            resources.join(", "),
        );
    }
    out.push_str("    ],\n}\n");
    out
}
