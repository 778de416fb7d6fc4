//! Finding NVRTC, the CUDA headers and ptxas.
//!
//! Search order, first hit wins:
//! 1. `RINGKERNEL_CUDA_ROOT`: a folder with `lib/` (NVRTC), `include/` and
//!    `bin/ptxas`, laid out like the `nvidia/cu13` folder of the PyPI wheels
//!    or a CUDA toolkit installation.
//! 2. The workspace's `.tools/python/nvidia/cu13`, installed by
//!    `cargo xtask setup` (found through this crate's manifest path, so it
//!    works for the workspace's own tests and tools).
//! 3. `/usr/local/cuda`.
//! 4. NVRTC from the system loader path and ptxas from `PATH`.
//!
//! cudarc loads NVRTC by soname (`libnvrtc.so.13`), which only the loader
//! path resolves, and the loader reads `LD_LIBRARY_PATH` once at process
//! start. So when the library is found in a folder, it is loaded here first by
//! absolute path and kept loaded: the loader then resolves cudarc's later
//! load by soname to the library already in the process. The NVRTC builtins
//! library is preloaded the same way, since NVRTC opens it by soname too.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Names NVRTC 13 is known by on Linux, in the order tried.
const NVRTC_SONAMES: &[&str] = &["libnvrtc.so.13", "libnvrtc.so"];
const BUILTINS_SONAMES: &[&str] = &["libnvrtc-builtins.so.13.0", "libnvrtc-builtins.so"];

/// Why the toolchain could not be found.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LocateError {
    /// `RINGKERNEL_CUDA_ROOT` is set but has no NVRTC in its `lib/`.
    #[error("RINGKERNEL_CUDA_ROOT={root} has no libnvrtc.so.13 in lib/")]
    RootWithoutNvrtc { root: PathBuf },
    /// No folder had NVRTC and the loader path has none either.
    #[error("NVRTC (libnvrtc.so.13) was not found (searched {searched})")]
    NvrtcNotFound { searched: String },
    /// NVRTC was found but could not be loaded.
    #[error("loading {path}: {reason}")]
    LoadFailed { path: PathBuf, reason: String },
}

/// A located CUDA toolchain. NVRTC is loaded into the process when this
/// exists, so cudarc's NVRTC calls will not panic.
#[derive(Debug, Clone)]
pub struct CudaTools {
    root: Option<PathBuf>,
    ptxas: Option<PathBuf>,
}

impl CudaTools {
    /// Finds the toolchain (see the module docs for the order) and makes sure
    /// NVRTC is loadable. The result is computed once per process.
    pub fn locate() -> Result<CudaTools, LocateError> {
        static FOUND: OnceLock<Result<CudaTools, LocateError>> = OnceLock::new();
        FOUND.get_or_init(locate_uncached).clone()
    }

    /// The toolchain folder, when NVRTC came from one rather than the loader path.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// The CUDA headers folder, if the toolchain has one.
    pub fn include_dir(&self) -> Option<PathBuf> {
        self.root
            .as_ref()
            .map(|r| r.join("include"))
            .filter(|p| p.is_dir())
    }

    /// The ptxas executable, if one was found.
    pub fn ptxas(&self) -> Option<&Path> {
        self.ptxas.as_deref()
    }

    /// NVRTC's version as (major, minor).
    pub fn nvrtc_version(&self) -> (i32, i32) {
        let (mut major, mut minor) = (0, 0);
        // SAFETY: NVRTC is loaded (that is what a `CudaTools` proves), and
        // the out-pointers are valid for the call.
        unsafe {
            cudarc::nvrtc::sys::nvrtcVersion(&mut major, &mut minor);
        }
        (major, minor)
    }
}

fn workspace_tools() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/python/nvidia/cu13")
}

fn locate_uncached() -> Result<CudaTools, LocateError> {
    let mut searched = Vec::new();
    if let Some(root) = std::env::var_os("RINGKERNEL_CUDA_ROOT").filter(|v| !v.is_empty()) {
        let root = PathBuf::from(root);
        return match find_in(&root, "lib").or_else(|| find_in(&root, "lib64")) {
            Some(lib) => load_from_folder(&root, &lib),
            None => Err(LocateError::RootWithoutNvrtc { root }),
        };
    }
    for root in [workspace_tools(), PathBuf::from("/usr/local/cuda")] {
        searched.push(root.display().to_string());
        if let Some(lib) = find_in(&root, "lib").or_else(|| find_in(&root, "lib64")) {
            return load_from_folder(&root, &lib);
        }
    }
    searched.push("the loader path".into());
    // SAFETY: probing only opens and closes the library.
    if unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Ok(CudaTools {
            root: None,
            ptxas: ptxas_on_path(),
        });
    }
    Err(LocateError::NvrtcNotFound {
        searched: searched.join(", "),
    })
}

/// The folder `root/sub` if it holds NVRTC.
fn find_in(root: &Path, sub: &str) -> Option<PathBuf> {
    let lib = root.join(sub);
    NVRTC_SONAMES
        .iter()
        .any(|n| lib.join(n).is_file())
        .then_some(lib)
}

fn load_from_folder(root: &Path, lib: &Path) -> Result<CudaTools, LocateError> {
    for names in [BUILTINS_SONAMES, NVRTC_SONAMES] {
        if let Some(path) = names.iter().map(|n| lib.join(n)).find(|p| p.is_file()) {
            // SAFETY: NVRTC's initialisers are plain library set-up; the
            // handle is leaked on purpose so the library stays loaded for
            // cudarc's later load by soname.
            let library = unsafe { libloading::Library::new(&path) }.map_err(|e| {
                LocateError::LoadFailed {
                    path: path.clone(),
                    reason: e.to_string(),
                }
            })?;
            std::mem::forget(library);
        }
    }
    let ptxas = Some(root.join("bin/ptxas"))
        .filter(|p| p.is_file())
        .or_else(ptxas_on_path);
    Ok(CudaTools {
        root: Some(root.to_path_buf()),
        ptxas,
    })
}

fn ptxas_on_path() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("ptxas"))
            .find(|p| p.is_file())
    })
}
