//! Loading compiled CUDA into a device: the target choice (a cubin for the
//! device's own architecture, so nothing is JIT-compiled at load; PTX when
//! the cubin cannot be made or loaded, e.g. an architecture this NVRTC
//! cannot assemble for, or PTX only when forced: `compat.rs`), the
//! in-memory module cache, and kernel lookup.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cudarc::driver::{result::DriverError, sys, CudaModule};
use cudarc::nvrtc::Ptx;
use ringkernel_toolchain::{Arch, CudaTools, Target};

use super::cache::{CacheKey, KeyHasher};
use super::compat;
use super::compile::{CompiledImage, CudaSource, ImageOrigin};
use super::device::CudaDevice;
use crate::embedded::{EmbeddedImage, EmbeddedPolicy};
use crate::error::{Error, Result};

/// Where a loaded module came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleOrigin {
    /// Already loaded in this runtime.
    Memory,
    /// Read from the disk cache (no NVRTC).
    DiskCache,
    /// Compiled by NVRTC in `nvrtc` wall time.
    Nvrtc { nvrtc: Duration },
    /// An image compiled at build time and embedded in the program (no
    /// NVRTC; see [`crate::embedded`]).
    Embedded,
}

/// What a load did, for benchmarks and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadReport {
    pub origin: ModuleOrigin,
    /// What was loaded: the cubin, or PTX after the cubin failed.
    pub target: Target,
    /// Wall time of the whole load (hashing, cache, NVRTC, driver).
    pub elapsed: Duration,
}

/// A module loaded into a device's context.
#[derive(Debug)]
pub struct LoadedModule {
    module: Arc<CudaModule>,
    name: String,
    target: Target,
    key: CacheKey,
    device: Arc<CudaDevice>,
}

impl Drop for LoadedModule {
    fn drop(&mut self) {
        if self.device.health.retired() {
            // Never unload into a reset context: leak the module.
            std::mem::forget(self.module.clone());
        }
    }
}

impl LoadedModule {
    /// The kernel with `extern "C"` symbol `symbol`.
    pub fn function(self: &Arc<Self>, symbol: &str) -> Result<KernelFunction> {
        let function = self.module.load_function(symbol).map_err(|e| match e.0 {
            sys::CUresult::CUDA_ERROR_NOT_FOUND => Error::UnknownKernel {
                kernel: symbol.to_string(),
            },
            _ => Error::driver("cuModuleGetFunction", e),
        })?;
        // Lazy module loading (the driver's default) loads a function at its
        // first launch, and loading waits for an idle context, which
        // running actors never leave: load it now, or refuse while
        // persistent launches run (`Error::LoadWhileActorsRun`).
        let mut state = sys::CUfunctionLoadingState::CU_FUNCTION_LOADING_STATE_UNLOADED;
        // SAFETY: a live function handle and a valid out-pointer.
        let queried = unsafe { sys::cuFuncIsLoaded(&mut state, function.cu_function()) }.result();
        if queried.is_err()
            || state != sys::CUfunctionLoadingState::CU_FUNCTION_LOADING_STATE_LOADED
        {
            refuse_while_actors_run(&self.device, symbol)?;
            // SAFETY: a live function handle of the current context.
            unsafe { sys::cuFuncLoad(function.cu_function()) }
                .result()
                .map_err(|e| Error::driver("cuFuncLoad", e))?;
        }
        let attr = |a| {
            let mut v = 0;
            // SAFETY: a live function handle and a valid out-pointer.
            unsafe { sys::cuFuncGetAttribute(&mut v, a, function.cu_function()) }
                .result()
                .map(|()| v)
                .map_err(|e| Error::driver("cuFuncGetAttribute", e))
        };
        let max_threads = attr(sys::CUfunction_attribute::CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK)?;
        let static_shared = attr(sys::CUfunction_attribute::CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES)?;
        Ok(KernelFunction {
            module: self.clone(),
            function,
            symbol: symbol.to_string(),
            max_threads_per_block: max_threads.max(0) as u32,
            static_shared_bytes: static_shared.max(0) as u32,
        })
    }

    /// The module's name (its [`CudaSource::name`]).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the cubin or the PTX was loaded.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The cache key of the cubin of this source (whatever was loaded).
    pub fn key(&self) -> CacheKey {
        self.key
    }

    pub(crate) fn device(&self) -> &Arc<CudaDevice> {
        &self.device
    }
}

/// A `__global__` function of a loaded module, with the limits the driver
/// reports for it. Keeps its module loaded.
#[derive(Debug, Clone)]
pub struct KernelFunction {
    module: Arc<LoadedModule>,
    function: cudarc::driver::CudaFunction,
    symbol: String,
    /// The most threads a block of this kernel may have (its launch bounds,
    /// register use and the device's limit together).
    pub max_threads_per_block: u32,
    /// Static `__shared__` bytes per block.
    pub static_shared_bytes: u32,
}

impl KernelFunction {
    pub fn symbol(&self) -> &str {
        &self.symbol
    }

    pub fn module(&self) -> &Arc<LoadedModule> {
        &self.module
    }

    /// The raw driver handle, for launches the runtime does not offer
    /// (cluster or cooperative launches through `cuLaunchKernelEx`). Valid
    /// while `self` lives.
    pub fn cu_function(&self) -> sys::CUfunction {
        self.function.cu_function()
    }
}

/// A module load while persistent actor kernels run would wait forever
/// for an idle context (`Error::LoadWhileActorsRun`): refuse it instead.
fn refuse_while_actors_run(device: &CudaDevice, module: &str) -> Result<()> {
    match device.running_persistent_launches() {
        0 => Ok(()),
        launches => Err(Error::LoadWhileActorsRun {
            module: module.to_string(),
            launches,
        }),
    }
}

fn device_arch(device: &CudaDevice) -> Arch {
    Arch(device.arch.0 * 10 + device.arch.1)
}

/// Loads `src` into `device`: memory cache, then cubin, then PTX.
pub(crate) fn load(
    device: &Arc<CudaDevice>,
    src: &CudaSource,
) -> Result<(Arc<LoadedModule>, LoadReport)> {
    let start = Instant::now();
    let arch = device_arch(device);
    let cubin = Target::Cubin(arch);
    let key = device.compiler.key(src, cubin)?;
    if let Some(module) = device.modules.lock().unwrap().get(&key.0) {
        let report = LoadReport {
            origin: ModuleOrigin::Memory,
            target: module.target,
            elapsed: start.elapsed(),
        };
        return Ok((module.clone(), report));
    }
    refuse_while_actors_run(device, &src.name)?;
    let mut loaded = None;
    for target in compat::load_plan(arch, device.compiler.forces_ptx()) {
        let attempt = match target {
            Target::Cubin(_) => load_cubin(device, src, target),
            Target::Ptx(_) => load_ptx(device, src, target),
        };
        match attempt {
            Ok(done) => {
                loaded = Some(Ok(done));
                break;
            }
            // The source is wrong: PTX would fail the same way.
            Err(e @ Error::Compile { .. }) => return Err(e),
            Err(e) => loaded = Some(Err(e)),
        }
    }
    let (module, image) = loaded.expect("the plan has a target")?;
    let loaded = Arc::new(LoadedModule {
        module,
        name: src.name.clone(),
        target: image.target,
        key,
        device: device.clone(),
    });
    device.modules.lock().unwrap().insert(key.0, loaded.clone());
    let origin = match image.origin {
        ImageOrigin::DiskCache => ModuleOrigin::DiskCache,
        ImageOrigin::Nvrtc { elapsed } => ModuleOrigin::Nvrtc { nvrtc: elapsed },
    };
    let report = LoadReport {
        origin,
        target: image.target,
        elapsed: start.elapsed(),
    };
    Ok((loaded, report))
}

/// Loads `src` from the images embedded in the program, if the runtime has
/// any ([`crate::Runtime::use_embedded`]): `None` means "compile it"
/// ([`EmbeddedPolicy::Prefer`] without a fitting image). Nothing here
/// touches NVRTC: not even to compute a cache key, which would name
/// NVRTC's version.
pub(crate) fn load_embedded(
    device: &Arc<CudaDevice>,
    src: &CudaSource,
) -> Result<Option<(Arc<LoadedModule>, LoadReport)>> {
    let Some((kernels, policy)) = *device.embedded.read().unwrap() else {
        return Ok(None);
    };
    let start = Instant::now();
    let image = match kernels.image_for(src, device.arch)? {
        Some(image) => image,
        None if policy == EmbeddedPolicy::Prefer => return Ok(None),
        None => {
            return Err(Error::NotEmbedded {
                kernel: src.name.clone(),
                arch: device.arch,
                reason: match kernels.get(&src.name) {
                    None => "the build script did not compile a kernel of this name",
                    Some(_) => "no cubin for this architecture and no PTX it can run",
                },
            })
        }
    };
    let (target, bytes) = match image {
        EmbeddedImage::Cubin(c) => (Target::Cubin(Arch(c.arch)), c.image),
        EmbeddedImage::Ptx(p) => (Target::Ptx(Arch(p.arch)), p.text.as_bytes()),
    };
    let mut h = KeyHasher::new();
    h.field(b"embedded")
        .field(format!("{target:?}").as_bytes())
        .field(bytes);
    let key = h.finish();
    if let Some(module) = device.modules.lock().unwrap().get(&key.0) {
        let report = LoadReport {
            origin: ModuleOrigin::Memory,
            target: module.target,
            elapsed: start.elapsed(),
        };
        return Ok(Some((module.clone(), report)));
    }
    refuse_while_actors_run(device, &src.name)?;
    let module = load_bytes(device, target, bytes)
        .map_err(|e| Error::driver("cuModuleLoadData (embedded image)", e))?;
    let loaded = Arc::new(LoadedModule {
        module,
        name: src.name.clone(),
        target,
        key,
        device: device.clone(),
    });
    device.modules.lock().unwrap().insert(key.0, loaded.clone());
    let report = LoadReport {
        origin: ModuleOrigin::Embedded,
        target,
        elapsed: start.elapsed(),
    };
    Ok(Some((loaded, report)))
}

/// Loads hand-written PTX (the runtime's own helper kernels) through the
/// driver's JIT: no NVRTC.
pub(crate) fn load_ptx_text(
    device: &Arc<CudaDevice>,
    name: &str,
    ptx: &'static str,
    arch: Arch,
) -> Result<Arc<LoadedModule>> {
    let target = Target::Ptx(arch);
    let mut h = KeyHasher::new();
    h.field(b"runtime-ptx").field(ptx.as_bytes());
    let key = h.finish();
    if let Some(module) = device.modules.lock().unwrap().get(&key.0) {
        return Ok(module.clone());
    }
    refuse_while_actors_run(device, name)?;
    let module = load_bytes(device, target, ptx.as_bytes())
        .map_err(|e| Error::driver("cuModuleLoadData (runtime PTX)", e))?;
    let loaded = Arc::new(LoadedModule {
        module,
        name: name.to_string(),
        target,
        key,
        device: device.clone(),
    });
    device.modules.lock().unwrap().insert(key.0, loaded.clone());
    Ok(loaded)
}

fn load_bytes(
    device: &CudaDevice,
    target: Target,
    bytes: &[u8],
) -> Result<Arc<CudaModule>, DriverError> {
    let ptx = match target {
        Target::Cubin(_) => Ptx::from_binary(bytes.to_vec()),
        Target::Ptx(_) => {
            if bytes.contains(&0) {
                return Err(DriverError(sys::CUresult::CUDA_ERROR_INVALID_PTX));
            }
            Ptx::from_src(String::from_utf8_lossy(bytes).into_owned())
        }
    };
    device.ctx.load_module(ptx)
}

/// The cubin, from the cache or NVRTC; a cached cubin the driver rejects
/// (a damaged file) is compiled afresh once.
fn load_cubin(
    device: &Arc<CudaDevice>,
    src: &CudaSource,
    target: Target,
) -> Result<(Arc<CudaModule>, CompiledImage)> {
    let image = device.compiler.compile(src, target)?;
    match load_image(device, &image) {
        Ok(module) => Ok((module, image)),
        Err(_) if image.origin == ImageOrigin::DiskCache => {
            let image = device.compiler.compile_uncached(src, target, image.key)?;
            let module = load_image(device, &image).map_err(|e| load_error(device, e))?;
            Ok((module, image))
        }
        Err(e) => Err(load_error(device, e)),
    }
}

fn load_ptx(
    device: &Arc<CudaDevice>,
    src: &CudaSource,
    target: Target,
) -> Result<(Arc<CudaModule>, CompiledImage)> {
    let image = device.compiler.compile(src, target)?;
    // Refuse PTX the driver's JIT cannot read before asking the driver.
    compat::check_ptx_driver(
        device.driver,
        nvrtc_version(),
        compat::ptx_isa_version(&image.image),
    )?;
    let module = load_image(device, &image).map_err(|e| load_error(device, e))?;
    Ok((module, image))
}

fn load_image(device: &CudaDevice, image: &CompiledImage) -> Result<Arc<CudaModule>, DriverError> {
    load_bytes(device, image.target, &image.image)
}

fn nvrtc_version() -> (i32, i32) {
    CudaTools::locate()
        .map(|t| t.nvrtc_version())
        .unwrap_or((0, 0))
}

fn load_error(device: &CudaDevice, error: DriverError) -> Error {
    compat::load_error(error, device.driver, nvrtc_version())
}
