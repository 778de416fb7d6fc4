//! Kernels compiled at `cargo build` time and embedded in the program
//! (`ringkernel-build` writes them, `ringkernel::include_kernels!()`
//! embeds them), and how the runtime picks an image from them instead of
//! running NVRTC.
//!
//! The manifest is Rust `static` data the build script generated: the
//! program reads it with no parsing and no deserialisation crate. Each
//! entry keeps the CUDA text, NVRTC options and header hashes it was
//! compiled from; the runtime transpiles the program's own `kernel()` as
//! always (that is cheap: no NVRTC) and uses an image only when that CUDA
//! is byte-identical to the embedded one. Anything else is
//! [`Error::EmbeddedMismatch`], never a silent use of stale or different
//! code.
//!
//! Image choice for a device of architecture `sm_XY`: the cubin built for
//! exactly `sm_XY`, else the PTX (the driver JIT-compiles it) when it was
//! built for a virtual architecture the device has, else none. With
//! [`EmbeddedPolicy::Only`], no image is [`Error::NotEmbedded`]; with
//! [`EmbeddedPolicy::Prefer`], the runtime compiles with NVRTC as if
//! nothing were embedded.

use sha2::{Digest, Sha256};

use crate::cuda::compile::CudaSource;
use crate::error::{Error, Result};

/// Every kernel a crate's build script compiled.
#[derive(Debug)]
pub struct EmbeddedKernels {
    /// The crate whose sources were compiled.
    pub crate_name: &'static str,
    pub kernels: &'static [EmbeddedKernel],
}

/// `#[gpu_kernel]` or `#[ring_kernel]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddedKind {
    GpuKernel,
    RingKernel,
}

/// One kernel's artifacts and what the build recorded about it.
#[derive(Debug)]
pub struct EmbeddedKernel {
    /// The entry point's name (`KernelSource::name`).
    pub name: &'static str,
    /// The Rust function.
    pub function: &'static str,
    pub kind: EmbeddedKind,
    /// The `extern "C"` symbol.
    pub symbol: &'static str,
    /// Where the function is (as `file!()` names it), 1-based line.
    pub file: &'static str,
    pub line: u32,
    pub block: [u32; 3],
    /// The actor ABI of a `#[ring_kernel]`.
    pub actor: Option<EmbeddedActor>,
    /// The CUDA the images were compiled from.
    pub cuda: &'static str,
    pub nvrtc_options: &'static [&'static str],
    /// The headers it was compiled with, in include order.
    pub headers: &'static [EmbeddedHeader],
    /// PTX for a virtual architecture (`None` when the build had no NVRTC).
    pub ptx: Option<EmbeddedPtx>,
    pub cubins: &'static [EmbeddedCubin],
    /// ptxas' report per architecture (empty when ptxas was not found).
    pub resources: &'static [EmbeddedResources],
}

/// Message, reply and state sizes of an actor handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedActor {
    pub message_size: u64,
    pub reply_size: u64,
    pub state_size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedHeader {
    pub name: &'static str,
    /// SHA-256 of the contents.
    pub sha256: [u8; 32],
}

/// PTX for `compute_<arch>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedPtx {
    pub arch: u32,
    pub text: &'static str,
}

/// A cubin for `sm_<arch>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedCubin {
    pub arch: u32,
    pub image: &'static [u8],
}

/// ptxas' resource report of the entry function on `sm_<arch>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedResources {
    pub arch: u32,
    pub registers: u32,
    pub spill_store_bytes: u32,
    pub spill_load_bytes: u32,
    pub shared_bytes: u32,
    pub stack_frame_bytes: u32,
}

/// What to do about a kernel without a usable embedded image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddedPolicy {
    /// Compile it with NVRTC (through the disk cache), as without embedding.
    Prefer,
    /// Fail with [`Error::NotEmbedded`]: the program never runs NVRTC.
    Only,
}

/// The image the runtime loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddedImage {
    Cubin(EmbeddedCubin),
    Ptx(EmbeddedPtx),
}

impl EmbeddedKernels {
    /// The kernel with entry point `name`.
    pub fn get(&self, name: &str) -> Option<&'static EmbeddedKernel> {
        self.kernels.iter().find(|k| k.name == name)
    }

    /// The image for `src` (a transpiled kernel, as the runtime compiles
    /// it) on a device of compute capability `arch` (`(9, 0)`), or `None`
    /// when there is no kernel of that name or no image fits the device.
    /// A kernel of that name whose CUDA, options or headers differ from
    /// `src` is an error.
    pub fn image_for(&self, src: &CudaSource, arch: (u32, u32)) -> Result<Option<EmbeddedImage>> {
        let Some(kernel) = self.get(&src.name) else {
            return Ok(None);
        };
        kernel.check_matches(src, self.crate_name)?;
        Ok(kernel.image(arch.0 * 10 + arch.1))
    }
}

impl EmbeddedKernel {
    /// The cubin for exactly `sm_<arch>`, else the PTX if its virtual
    /// architecture is at most `arch`.
    pub fn image(&self, arch: u32) -> Option<EmbeddedImage> {
        if let Some(cubin) = self.cubins.iter().find(|c| c.arch == arch) {
            return Some(EmbeddedImage::Cubin(*cubin));
        }
        self.ptx.filter(|p| p.arch <= arch).map(EmbeddedImage::Ptx)
    }

    /// Whether this was compiled from exactly `src`.
    fn check_matches(&self, src: &CudaSource, crate_name: &str) -> Result<()> {
        let mismatch = |what: String| Error::EmbeddedMismatch {
            kernel: self.name.to_string(),
            crate_name: crate_name.to_string(),
            what,
        };
        if self.cuda != src.source {
            let line = first_difference(self.cuda, &src.source);
            return Err(mismatch(format!(
                "its CUDA differs from this program's transpilation (first at line {line} of the CUDA)"
            )));
        }
        if !self
            .nvrtc_options
            .iter()
            .copied()
            .eq(src.options.iter().map(String::as_str))
        {
            return Err(mismatch(format!(
                "it was compiled with NVRTC options {:?}, this program's are {:?}",
                self.nvrtc_options, src.options
            )));
        }
        let names = |h: &EmbeddedHeader| h.name;
        if !self
            .headers
            .iter()
            .map(names)
            .eq(src.headers.iter().map(|(n, _)| n.as_str()))
        {
            return Err(mismatch("it was compiled with other headers".into()));
        }
        for (embedded, (name, text)) in self.headers.iter().zip(&src.headers) {
            let sha: [u8; 32] = Sha256::digest(text.as_bytes()).into();
            if sha != embedded.sha256 {
                return Err(mismatch(format!(
                    "header `{name}` differs from the one it was compiled with"
                )));
            }
        }
        Ok(())
    }
}

/// The 1-based line where `a` and `b` first differ.
fn first_difference(a: &str, b: &str) -> usize {
    a.lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.lines().count().min(b.lines().count()))
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    static CUBINS: [EmbeddedCubin; 1] = [EmbeddedCubin {
        arch: 90,
        image: b"cubin",
    }];

    fn kernel(cuda: &'static str) -> EmbeddedKernel {
        EmbeddedKernel {
            name: "k",
            function: "k",
            kind: EmbeddedKind::GpuKernel,
            symbol: "k",
            file: "src/lib.rs",
            line: 1,
            block: [64, 1, 1],
            actor: None,
            cuda,
            nvrtc_options: &["--fmad=false"],
            headers: &[],
            ptx: Some(EmbeddedPtx {
                arch: 80,
                text: "ptx",
            }),
            cubins: &CUBINS,
            resources: &[],
        }
    }

    fn source(cuda: &str) -> CudaSource {
        CudaSource {
            name: "k".into(),
            source: cuda.into(),
            headers: Vec::new(),
            options: vec!["--fmad=false".into()],
        }
    }

    #[test]
    fn cubin_for_the_exact_arch_else_ptx_it_can_run_else_none() {
        let k = kernel("x");
        assert_eq!(k.image(90), Some(EmbeddedImage::Cubin(CUBINS[0])));
        assert!(matches!(k.image(89), Some(EmbeddedImage::Ptx(p)) if p.arch == 80));
        assert!(matches!(k.image(100), Some(EmbeddedImage::Ptx(_))));
        assert_eq!(k.image(75), None);
    }

    #[test]
    fn different_cuda_or_options_is_an_error_not_a_silent_use() {
        let kernels: &'static [EmbeddedKernel] = Box::leak(Box::new([kernel("a\nb\n")]));
        let all = EmbeddedKernels {
            crate_name: "demo",
            kernels,
        };
        assert!(all.image_for(&source("a\nb\n"), (9, 0)).unwrap().is_some());
        let e = all.image_for(&source("a\nc\n"), (9, 0)).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        let mut other = source("a\nb\n");
        other.options.clear();
        assert!(all.image_for(&other, (9, 0)).is_err());
        let mut unknown = source("a\nb\n");
        unknown.name = "other".into();
        assert_eq!(all.image_for(&unknown, (9, 0)).unwrap(), None);
    }
}
