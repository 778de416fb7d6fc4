//! One kernel from [`KernelSource`] to CUDA, PTX, cubins and ptxas'
//! resource report: the transpiler's one pipeline, then NVRTC with exactly
//! the options and headers the runtime's load-time compiler uses (so an
//! embedded image is the image the runtime would have compiled).

use std::path::Path;

use ringkernel_toolchain::{
    assemble, compile, Arch, CompileError, CompileOptions, CudaTools, KernelResources, Target,
};
use ringkernel_transpiler::back::cuda::KernelInfo;
use ringkernel_transpiler::source::{KernelSource, SourceKind};

/// A kernel's CUDA module as NVRTC gets it (the runtime's `CudaSource`).
#[derive(Debug, Clone)]
pub struct Module {
    pub source: String,
    /// (include name, contents), the back end's headers then, for actors,
    /// the device library's.
    pub headers: Vec<(String, String)>,
    pub nvrtc_options: Vec<String>,
    pub info: KernelInfo,
}

/// Why a kernel did not build.
#[derive(Debug, thiserror::Error)]
pub enum CompileStepError {
    /// The front end or back end rejected the kernel (rendered report).
    #[error("{0}")]
    Transpile(String),
    #[error("NVRTC rejected `{kernel}` for {target:?}:\n{log}")]
    Nvrtc {
        kernel: String,
        target: Target,
        log: String,
    },
    #[error("NVRTC failed on `{kernel}`: {error}")]
    Toolchain { kernel: String, error: CompileError },
    #[error("ptxas rejected the PTX of `{kernel}` for {arch}: {error}")]
    Ptxas {
        kernel: String,
        arch: Arch,
        error: String,
    },
}

/// Transpiles `kernel`: the module the runtime would compile for it.
pub fn transpile(kernel: &KernelSource) -> Result<Module, CompileStepError> {
    let out = kernel
        .transpile()
        .map_err(|e| CompileStepError::Transpile(kernel.render_error(&e)))?;
    let info = out
        .cuda
        .kernels
        .iter()
        .find(|k| k.name == kernel.name)
        .cloned()
        .ok_or_else(|| {
            CompileStepError::Transpile(format!(
                "error: the transpiled module has no entry point `{}`\n",
                kernel.name
            ))
        })?;
    let mut headers: Vec<(String, String)> = out
        .cuda
        .headers
        .iter()
        .map(|h| (h.name.to_string(), h.contents.to_string()))
        .collect();
    // As the runtime's `CudaSource::with_device_lib` for actors.
    if kernel.kind == SourceKind::RingKernel {
        for (name, text) in ringkernel_device::headers::HEADERS {
            if !headers.iter().any(|(n, _)| n == name) {
                headers.push((name.to_string(), text.to_string()));
            }
        }
    }
    Ok(Module {
        source: out.cuda.source,
        headers,
        nvrtc_options: out.cuda.nvrtc_options,
        info,
    })
}

/// NVRTC on `module` for `target`, with the headers in `include_dir`
/// (written there first). Returns PTX text or cubin bytes.
pub fn nvrtc(
    name: &str,
    module: &Module,
    target: Target,
    include_dir: &Path,
) -> Result<Vec<u8>, CompileStepError> {
    std::fs::create_dir_all(include_dir).map_err(|e| CompileStepError::Toolchain {
        kernel: name.to_string(),
        error: CompileError::Rejected {
            name: name.to_string(),
            log: format!("cannot create {}: {e}", include_dir.display()),
        },
    })?;
    for (header, text) in &module.headers {
        let path = include_dir.join(header);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
            std::fs::write(&path, text).map_err(|e| CompileStepError::Toolchain {
                kernel: name.to_string(),
                error: CompileError::Rejected {
                    name: name.to_string(),
                    log: format!("cannot write {}: {e}", path.display()),
                },
            })?;
        }
    }
    // The runtime's `Compiler::options`: the target, the include folder,
    // the back end's required options.
    let mut options = CompileOptions::new(target);
    options.include_dirs.push(include_dir.display().to_string());
    options.extra = module.nvrtc_options.clone();
    match compile(&format!("{name}.cu"), &module.source, &options) {
        Ok(compiled) => Ok(compiled.image),
        Err(CompileError::Rejected { log, .. }) => Err(CompileStepError::Nvrtc {
            kernel: name.to_string(),
            target,
            log,
        }),
        Err(error) => Err(CompileStepError::Toolchain {
            kernel: name.to_string(),
            error,
        }),
    }
}

/// ptxas' report for the kernel's entry function in `ptx` on `arch`, or
/// `None` when ptxas is not available.
pub fn resources(
    tools: &CudaTools,
    name: &str,
    symbol: &str,
    ptx: &str,
    arch: Arch,
) -> Result<Option<KernelResources>, CompileStepError> {
    let Some(ptxas) = tools.ptxas() else {
        return Ok(None);
    };
    let report = assemble(ptxas, ptx, arch).map_err(|e| CompileStepError::Ptxas {
        kernel: name.to_string(),
        arch,
        error: e.to_string(),
    })?;
    Ok(report
        .functions
        .into_iter()
        .find(|f| f.entry && f.name == symbol))
}
