//! CUDA C → PTX or cubin through NVRTC.
//!
//! One entry point, [`compile`], for the load-time compiler, the build helper
//! and the tests: a program name (what `#line`-less diagnostics and NVRTC's
//! log call the file), the source, and [`CompileOptions`]. Failure keeps
//! NVRTC's log whole, since the caller maps it back to Rust lines.

use std::ffi::{c_char, CString};
use std::fmt;

use cudarc::nvrtc::{result, sys};

use crate::locate::{CudaTools, LocateError};

/// A GPU architecture as a compute capability times ten (`Arch(90)` = sm_90).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Arch(pub u32);

impl Arch {
    /// Hopper (H100, H200): the architecture every kernel is checked against.
    pub const SM_90: Arch = Arch(90);
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sm_{}", self.0)
    }
}

/// What NVRTC produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// PTX for the virtual architecture `compute_XX`; the driver JITs it.
    Ptx(Arch),
    /// A cubin (SASS) for the real architecture `sm_XX`; loads without JIT.
    Cubin(Arch),
}

/// Options for one compilation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompileOptions {
    pub target: Target,
    /// Emit line information (`-lineinfo`) so profilers and sanitizers point
    /// at the `#line` locations, i.e. the user's Rust source.
    pub line_info: bool,
    /// Folders added with `-I`.
    pub include_dirs: Vec<String>,
    /// Further NVRTC options, passed verbatim after the ones above.
    pub extra: Vec<String>,
}

impl CompileOptions {
    pub fn new(target: Target) -> Self {
        CompileOptions {
            target,
            line_info: true,
            include_dirs: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// The NVRTC command line these options stand for.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            match self.target {
                Target::Ptx(arch) => format!("--gpu-architecture=compute_{}", arch.0),
                Target::Cubin(arch) => format!("--gpu-architecture=sm_{}", arch.0),
            },
            "--std=c++17".to_string(),
        ];
        if self.line_info {
            args.push("--generate-line-info".into());
        }
        args.extend(
            self.include_dirs
                .iter()
                .map(|d| format!("--include-path={d}")),
        );
        args.extend(self.extra.iter().cloned());
        args
    }
}

/// Options that only make NVRTC faster (the output is the same with or
/// without them), with the NVRTC version that introduced each. An older
/// NVRTC refuses an option it does not know, so [`compile`] leaves these
/// out there ([`supported_by`]).
///
/// `--minimal` (12.4): the front end omits texture and surface functions,
/// the device runtime's `cuda*` functions, kernel launches from device code
/// and the CUDA runtime's types; generated modules use none of them.
pub const SPEED_OPTIONS: &[(&str, (i32, i32))] = &[("--minimal", (12, 4))];

/// Whether NVRTC `version` (major, minor) takes `arg`: every option but the
/// [`SPEED_OPTIONS`] newer than it.
pub fn supported_by(arg: &str, version: (i32, i32)) -> bool {
    SPEED_OPTIONS
        .iter()
        .all(|&(option, since)| arg != option || version >= since)
}

/// The output of a successful compilation.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub target: Target,
    /// PTX text (NUL-free) or cubin bytes.
    pub image: Vec<u8>,
    /// NVRTC's log; may hold warnings even on success.
    pub log: String,
}

impl Compiled {
    /// The PTX text, when this is a PTX compilation.
    pub fn ptx(&self) -> Option<&str> {
        match self.target {
            Target::Ptx(_) => std::str::from_utf8(&self.image).ok(),
            Target::Cubin(_) => None,
        }
    }
}

/// Why a compilation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CompileError {
    #[error(transparent)]
    Toolchain(#[from] LocateError),
    #[error("the CUDA source or an option contains a NUL byte")]
    NulByte,
    /// The source did not compile; `log` is NVRTC's diagnostic output.
    #[error("NVRTC could not compile `{name}`:\n{log}")]
    Rejected { name: String, log: String },
    /// NVRTC itself failed (out of memory, bad option, …).
    #[error("NVRTC call {call} failed: {status:?}")]
    Nvrtc {
        call: &'static str,
        status: sys::nvrtcResult,
    },
}

/// Compiles `source` (named `name` in diagnostics) with NVRTC.
pub fn compile(
    name: &str,
    source: &str,
    options: &CompileOptions,
) -> Result<Compiled, CompileError> {
    let version = CudaTools::locate()?.nvrtc_version();
    let src = CString::new(source).map_err(|_| CompileError::NulByte)?;
    let cname = CString::new(name).map_err(|_| CompileError::NulByte)?;
    let args: Vec<String> = options
        .to_args()
        .into_iter()
        .filter(|arg| supported_by(arg, version))
        .collect();
    if args.iter().any(|a| a.contains('\0')) {
        return Err(CompileError::NulByte);
    }
    let program = result::create_program(&src, Some(&cname)).map_err(|e| CompileError::Nvrtc {
        call: "nvrtcCreateProgram",
        status: e.0,
    })?;
    let program = Program(program);
    // SAFETY: `program` is live until `Program` drops at the end of this
    // function; `src` and `cname` outlive it too.
    let compiled = unsafe { result::compile_program(program.0, &args) };
    // SAFETY: as above.
    let log = unsafe { result::get_program_log(program.0) }
        .map(|raw| c_chars_to_string(&raw))
        .unwrap_or_default();
    match compiled {
        Ok(()) => {}
        Err(e) if e.0 == sys::nvrtcResult::NVRTC_ERROR_COMPILATION => {
            return Err(CompileError::Rejected {
                name: name.to_string(),
                log,
            });
        }
        Err(e) => {
            return Err(CompileError::Nvrtc {
                call: "nvrtcCompileProgram",
                status: e.0,
            })
        }
    }
    let image = match options.target {
        // SAFETY: the program compiled successfully and is still live.
        Target::Ptx(_) => unsafe { result::get_ptx(program.0) }
            .map(|raw| c_chars_to_string(&raw).into_bytes())
            .map_err(|e| CompileError::Nvrtc {
                call: "nvrtcGetPTX",
                status: e.0,
            })?,
        // SAFETY: as above.
        Target::Cubin(_) => unsafe { cubin(program.0) }?,
    };
    Ok(Compiled {
        target: options.target,
        image,
        log,
    })
}

/// Destroys the NVRTC program on every exit path.
struct Program(sys::nvrtcProgram);

impl Drop for Program {
    fn drop(&mut self) {
        // SAFETY: created by `create_program`, destroyed only here.
        let _ = unsafe { result::destroy_program(self.0) };
    }
}

/// # Safety
/// `program` must be a live, successfully compiled NVRTC program.
unsafe fn cubin(program: sys::nvrtcProgram) -> Result<Vec<u8>, CompileError> {
    let mut size = 0usize;
    // SAFETY: per the function contract; `size` is a valid out-pointer.
    let status = unsafe { sys::nvrtcGetCUBINSize(program, &mut size) };
    status.result().map_err(|e| CompileError::Nvrtc {
        call: "nvrtcGetCUBINSize",
        status: e.0,
    })?;
    let mut image = vec![0u8; size];
    // SAFETY: `image` has the `size` bytes NVRTC asked for.
    let status = unsafe { sys::nvrtcGetCUBIN(program, image.as_mut_ptr().cast::<c_char>()) };
    status.result().map_err(|e| CompileError::Nvrtc {
        call: "nvrtcGetCUBIN",
        status: e.0,
    })?;
    Ok(image)
}

fn c_chars_to_string(raw: &[c_char]) -> String {
    let bytes: Vec<u8> = raw
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_options_are_left_out_for_an_nvrtc_that_predates_them() {
        assert!(!supported_by("--minimal", (12, 3)));
        assert!(!supported_by("--minimal", (11, 8)));
        assert!(supported_by("--minimal", (12, 4)));
        assert!(supported_by("--minimal", (13, 0)));
        // Every other option is passed through, whatever the version.
        assert!(supported_by("--fmad=false", (11, 0)));
        assert!(supported_by("--minimal-x", (11, 0)));
    }
}
