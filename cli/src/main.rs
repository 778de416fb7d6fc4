//! `ringkernel`: the toolchain on one Rust file, without building a crate.
//!
//! - `ringkernel emit --cuda|--ir|--ptx FILE.rs [--kernel NAME] [--arch sm_90]`
//!   prints a kernel's CUDA (what its `cuda_source()` returns), its
//!   optimised IR, or NVRTC's PTX;
//! - `ringkernel check FILE.rs [--kernel NAME] [--arch sm_90] [--deny-spills]
//!   [--max-registers N]` compiles every kernel and prints ptxas' resource
//!   report.
//!
//! Kernels are read the way the build helper reads a crate (one front end:
//! `ringkernel_build::scan`), so the CUDA is the macros' CUDA for a file
//! whose structs and device functions are all in it. Errors are the
//! transpiler's rendered reports (`file:line:column` and the Rust line).
//!
//! Exit status: 0 success; 1 the kernels are rejected (front end, NVRTC,
//! ptxas) or over a budget; 2 usage errors (bad arguments, unreadable file,
//! no such kernel); 3 the CUDA toolchain is missing.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Parser, Subcommand};
use ringkernel_build::{compile, Crate, FoundKernel, SourceFile};
use ringkernel_toolchain::{Arch, CudaTools, Target};

#[derive(Debug, Parser)]
#[command(
    name = "ringkernel",
    version,
    about = "RingKernel: Rust kernels to CUDA, IR and PTX"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a kernel's CUDA, IR or PTX.
    #[command(group(ArgGroup::new("what").required(true).args(["cuda", "ir", "ptx"])))]
    Emit {
        /// The generated CUDA C.
        #[arg(long)]
        cuda: bool,
        /// The typed IR after the passes (its debug form).
        #[arg(long)]
        ir: bool,
        /// NVRTC's PTX for the architecture's virtual architecture.
        #[arg(long)]
        ptx: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Compile every kernel and print ptxas' resource report.
    Check {
        #[command(flatten)]
        common: Common,
        /// Fail (exit 1) when a kernel spills registers.
        #[arg(long)]
        deny_spills: bool,
        /// Fail (exit 1) when a kernel uses more registers.
        #[arg(long, value_name = "N")]
        max_registers: Option<u32>,
    },
}

#[derive(Debug, clap::Args)]
struct Common {
    /// The Rust file with the kernels (and the structs and device functions
    /// they use).
    file: PathBuf,
    /// Only this kernel (its entry name); all of the file's otherwise.
    #[arg(long, value_name = "NAME")]
    kernel: Option<String>,
    /// The GPU architecture.
    #[arg(long, default_value = "sm_90", value_parser = parse_arch)]
    arch: u32,
    /// Without overflow checks (release builds' `kernel()`); on by default,
    /// as in debug builds.
    #[arg(long)]
    release: bool,
}

fn parse_arch(text: &str) -> Result<u32, String> {
    text.strip_prefix("sm_")
        .or_else(|| text.strip_prefix("compute_"))
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|&n| n >= 50)
        .ok_or_else(|| format!("`{text}` is not an architecture like `sm_90`"))
}

/// A failure and the exit status it maps to.
struct Failure {
    status: u8,
    message: String,
}

fn fail(status: u8, message: impl Into<String>) -> Failure {
    Failure {
        status,
        message: message.into(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprint!("{}", f.message);
            if !f.message.ends_with('\n') {
                eprintln!();
            }
            ExitCode::from(f.status)
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Emit {
            cuda,
            ir,
            ptx,
            common,
        } => {
            let kernels = kernels(&common)?;
            let many = kernels.len() > 1;
            for kernel in &kernels {
                let text = if cuda {
                    transpile(kernel)?.source
                } else if ir {
                    let out = kernel
                        .source
                        .transpile()
                        .map_err(|e| fail(1, kernel.source.render_error(&e)))?;
                    format!("{:#?}\n", out.module)
                } else {
                    debug_assert!(ptx);
                    ptx_of(kernel, Arch(common.arch))?
                };
                if many {
                    println!("// ---- kernel `{}` ----", kernel.source.name);
                }
                print!("{text}");
            }
            Ok(())
        }
        Command::Check {
            common,
            deny_spills,
            max_registers,
        } => {
            let kernels = kernels(&common)?;
            let arch = Arch(common.arch);
            let tools = tools()?;
            let ptxas = tools
                .ptxas()
                .ok_or_else(|| fail(3, "error: ptxas was not found; install the toolchain with `cargo xtask setup` or set RINGKERNEL_CUDA_ROOT"))?
                .to_path_buf();
            let mut over = Vec::new();
            println!(
                "{:<24} {:>5} {:>10} {:>10} {:>8} {:>7}  ({arch})",
                "kernel", "regs", "spill st", "spill ld", "shared", "stack"
            );
            for kernel in &kernels {
                let module = transpile(kernel)?;
                let ptx = ptx_of(kernel, arch)?;
                let report = ringkernel_toolchain::assemble(&ptxas, &ptx, arch)
                    .map_err(|e| fail(1, format!("error: `{}`: {e}", kernel.source.name)))?;
                let r = report
                    .function(&module.info.symbol)
                    .cloned()
                    .unwrap_or_default();
                println!(
                    "{:<24} {:>5} {:>8} B {:>8} B {:>6} B {:>5} B",
                    kernel.source.name,
                    r.registers,
                    r.spill_store_bytes,
                    r.spill_load_bytes,
                    r.shared_bytes,
                    r.stack_frame_bytes
                );
                if deny_spills && r.spills() {
                    over.push(format!("`{}` spills registers", kernel.source.name));
                }
                if let Some(max) = max_registers.filter(|&m| r.registers > m) {
                    over.push(format!(
                        "`{}` uses {} registers, more than {max}",
                        kernel.source.name, r.registers
                    ));
                }
            }
            if over.is_empty() {
                Ok(())
            } else {
                Err(fail(1, format!("error: {}", over.join("; "))))
            }
        }
    }
}

/// The file's kernels, or the one `--kernel` names.
fn kernels(common: &Common) -> Result<Vec<FoundKernel>, Failure> {
    let text = std::fs::read_to_string(&common.file).map_err(|e| {
        fail(
            2,
            format!("error: cannot read {}: {e}", common.file.display()),
        )
    })?;
    let name = common.file.display().to_string();
    let krate = Crate::from_files(vec![SourceFile {
        name,
        text,
        module: "crate".into(),
    }])
    .map_err(|e| fail(1, e.to_string()))?;
    let all = krate
        .kernels(!common.release)
        .map_err(|e| fail(1, e.to_string()))?;
    if all.is_empty() {
        return Err(fail(
            2,
            format!(
                "error: {} has no `#[gpu_kernel]` or `#[ring_kernel]` function",
                common.file.display()
            ),
        ));
    }
    match &common.kernel {
        None => Ok(all),
        Some(wanted) => {
            let names: Vec<String> = all.iter().map(|k| k.source.name.clone()).collect();
            let found: Vec<FoundKernel> = all
                .into_iter()
                .filter(|k| &k.source.name == wanted || &k.function == wanted)
                .collect();
            if found.is_empty() {
                return Err(fail(
                    2,
                    format!(
                        "error: no kernel `{wanted}` in {}; its kernels: {}",
                        common.file.display(),
                        names.join(", ")
                    ),
                ));
            }
            Ok(found)
        }
    }
}

fn transpile(kernel: &FoundKernel) -> Result<compile::Module, Failure> {
    compile::transpile(&kernel.source).map_err(|e| fail(1, e.to_string()))
}

fn tools() -> Result<CudaTools, Failure> {
    CudaTools::locate().map_err(|e| {
        fail(
            3,
            format!("error: the CUDA toolchain was not found: {e}\n  install it with `cargo xtask setup` or set RINGKERNEL_CUDA_ROOT"),
        )
    })
}

fn ptx_of(kernel: &FoundKernel, arch: Arch) -> Result<String, Failure> {
    tools()?;
    let module = transpile(kernel)?;
    let include = std::env::temp_dir().join(format!("ringkernel-cli-{}", std::process::id()));
    let result = compile::nvrtc(&kernel.source.name, &module, Target::Ptx(arch), &include);
    let _ = std::fs::remove_dir_all(&include);
    let ptx = result.map_err(|e| fail(1, format!("error: {e}")))?;
    Ok(String::from_utf8_lossy(&ptx).into_owned())
}
