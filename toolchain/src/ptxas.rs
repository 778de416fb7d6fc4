//! PTX → SASS with `ptxas -v`, and its resource report.
//!
//! NVRTC's cubin path does not say how many registers a kernel uses or
//! whether it spills; ptxas does, on stderr, one block per function:
//!
//! ```text
//! ptxas info    : Compiling entry function 'saxpy' for 'sm_90'
//! ptxas info    : Function properties for saxpy
//!     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
//! ptxas info    : Used 10 registers, used 0 barriers, 380 bytes cmem[0]
//! ```
//!
//! [`ResourceReport::parse`] turns that into per-function numbers, so CI can
//! insist that every generated kernel assembles for sm_90 with no spills.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::nvrtc::Arch;

/// Resource usage of one function, as ptxas reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelResources {
    pub name: String,
    /// `true` for `__global__` entry points, `false` for `__device__` functions.
    pub entry: bool,
    pub registers: u32,
    pub stack_frame_bytes: u32,
    pub spill_store_bytes: u32,
    pub spill_load_bytes: u32,
    pub shared_bytes: u32,
    pub barriers: u32,
}

impl KernelResources {
    pub fn spills(&self) -> bool {
        self.spill_store_bytes > 0 || self.spill_load_bytes > 0
    }
}

/// Every function ptxas reported on, in report order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceReport {
    pub functions: Vec<KernelResources>,
    /// ptxas' whole stderr, for diagnostics.
    pub raw: String,
}

/// Why assembling failed.
#[derive(Debug, thiserror::Error)]
pub enum PtxasError {
    #[error("ptxas was not found (install the toolchain with `cargo xtask setup`)")]
    NotFound,
    #[error("could not run ptxas: {0}")]
    Io(#[from] std::io::Error),
    #[error("ptxas rejected the PTX:\n{log}")]
    Rejected { log: String },
}

/// Assembles `ptx` for `arch` with `ptxas -v` and parses the report. The
/// SASS is thrown away; what matters here is that it assembles and the numbers.
pub fn assemble(ptxas: &Path, ptx: &str, arch: Arch) -> Result<ResourceReport, PtxasError> {
    let dir = std::env::temp_dir();
    let unique = format!(
        "ringkernel-ptxas-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    );
    let input = dir.join(format!("{}.ptx", sanitize(&unique)));
    let output = dir.join(format!("{}.cubin", sanitize(&unique)));
    std::fs::File::create(&input)?.write_all(ptx.as_bytes())?;
    let result = Command::new(ptxas)
        .arg("-v")
        .arg(format!("--gpu-name={arch}"))
        .arg("-o")
        .arg(&output)
        .arg(&input)
        .stdin(Stdio::null())
        .output();
    let _ = std::fs::remove_file(&input);
    let _ = std::fs::remove_file(&output);
    let result = result?;
    let log = String::from_utf8_lossy(&result.stderr).into_owned()
        + &String::from_utf8_lossy(&result.stdout);
    if !result.status.success() {
        return Err(PtxasError::Rejected { log });
    }
    Ok(ResourceReport::parse(&log))
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl ResourceReport {
    /// Parses `ptxas -v` output. Lines it does not know are ignored, so a
    /// newer ptxas adding lines does not break it; a function whose numbers
    /// are missing keeps zeros, which the callers' checks treat as "no spill".
    pub fn parse(log: &str) -> ResourceReport {
        let mut functions: Vec<KernelResources> = Vec::new();
        for line in log.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("ptxas info    : Compiling entry function '") {
                let name = rest.split('\'').next().unwrap_or_default();
                functions.push(KernelResources {
                    name: name.into(),
                    entry: true,
                    ..Default::default()
                });
            } else if let Some(rest) = line.strip_prefix("ptxas info    : Function properties for ")
            {
                let name = rest.trim();
                if functions.last().is_none_or(|f| f.name != name) {
                    functions.push(KernelResources {
                        name: name.into(),
                        ..Default::default()
                    });
                }
            } else if let Some(current) = functions.last_mut() {
                if line.contains("bytes stack frame") {
                    current.stack_frame_bytes = number_before(line, "bytes stack frame");
                    current.spill_store_bytes = number_before(line, "bytes spill stores");
                    current.spill_load_bytes = number_before(line, "bytes spill loads");
                } else if line.starts_with("ptxas info    : Used ") {
                    current.registers = number_before(line, "registers");
                    current.barriers = number_before(line, "barriers");
                    current.shared_bytes = number_before(line, "bytes smem");
                }
            }
        }
        ResourceReport {
            functions,
            raw: log.to_string(),
        }
    }

    pub fn function(&self, name: &str) -> Option<&KernelResources> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// The functions that spill registers to local memory.
    pub fn spilling(&self) -> impl Iterator<Item = &KernelResources> {
        self.functions.iter().filter(|f| f.spills())
    }
}

/// The integer directly before `unit` in `line` ("10 registers" → 10), or 0.
fn number_before(line: &str, unit: &str) -> u32 {
    let Some(at) = line.find(unit) else { return 0 };
    line[..at]
        .trim_end()
        .rsplit(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'saxpy' for 'sm_90'
ptxas info    : Function properties for saxpy
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 10 registers, used 0 barriers, 380 bytes cmem[0]
ptxas info    : Compiling entry function 'big' for 'sm_90'
ptxas info    : Function properties for big
    48 bytes stack frame, 40 bytes spill stores, 36 bytes spill loads
ptxas info    : Used 255 registers, used 1 barriers, 1024 bytes smem, 400 bytes cmem[0]
";

    #[test]
    fn parses_registers_spills_and_shared_memory() {
        let report = ResourceReport::parse(SAMPLE);
        assert_eq!(report.functions.len(), 2);
        let saxpy = report.function("saxpy").unwrap();
        assert_eq!(
            (saxpy.entry, saxpy.registers, saxpy.barriers),
            (true, 10, 0)
        );
        assert!(!saxpy.spills());
        let big = report.function("big").unwrap();
        assert_eq!(big.registers, 255);
        assert_eq!(
            (
                big.spill_store_bytes,
                big.spill_load_bytes,
                big.stack_frame_bytes
            ),
            (40, 36, 48)
        );
        assert_eq!((big.shared_bytes, big.barriers), (1024, 1));
        assert_eq!(
            report
                .spilling()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            ["big"]
        );
    }

    #[test]
    fn number_before_handles_missing_units() {
        assert_eq!(number_before("Used 7 registers", "registers"), 7);
        assert_eq!(number_before("Used 7 registers", "bytes smem"), 0);
    }
}
