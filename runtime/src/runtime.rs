//! [`Runtime`]: the handle everything runs through, on a CUDA device or on
//! the CPU backend, with one API for both.

use std::collections::HashMap;
use std::ffi::c_void;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

use ringkernel_transpiler::source::KernelSource;

use crate::buffer::{DeviceBuffer, DeviceCopy};
use crate::cuda::cache::CacheKey;
use crate::cuda::compile::{Compiler, CudaSource};
use crate::cuda::device::CudaDevice;
use crate::cuda::memory::MappedBuffer;
use crate::cuda::module::{KernelFunction, LoadReport, LoadedModule};
use crate::cuda::{self, LaunchHandle, Stream};
use crate::embedded::{EmbeddedKernels, EmbeddedPolicy};
use crate::error::{DriverVersion, Error, Result};
use crate::kernel::{self, Prepared};
use crate::launch::{check_args, Grid, KernelArg};

/// The environment variable that picks the backend of [`Runtime::new`]:
/// `cpu`, `cuda` (fail if no device) or unset/`auto`.
pub const BACKEND_ENV: &str = "RINGKERNEL_BACKEND";

/// Which backend a runtime runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Cuda {
        ordinal: usize,
        /// The device's name, e.g. `NVIDIA H100 80GB HBM3`.
        name: String,
        /// Compute capability (major, minor), e.g. `(9, 0)`.
        arch: (u32, u32),
        /// The CUDA version the driver supports.
        driver_version: DriverVersion,
    },
    /// The IR interpreter on the host.
    Cpu,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Cuda {
                ordinal,
                name,
                arch,
                driver_version,
            } => write!(
                f,
                "CUDA device {ordinal}: {name} (sm_{}{}, driver CUDA {driver_version})",
                arch.0, arch.1
            ),
            Backend::Cpu => f.write_str("CPU backend (IR interpreter)"),
        }
    }
}

/// Runs kernels (and, above this layer, actors) on one CUDA device or on
/// the CPU. Cheap to clone: clones share the device, its stream, the
/// loaded modules and the transpilation memo.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    /// The device; replaced by a fresh one when [`Runtime::recover`]
    /// relaunches after a lost context. `None` on the CPU backend.
    device: RwLock<Option<Arc<CudaDevice>>>,
    /// The compiler the device was opened with (kept for recovery).
    compiler: Option<Compiler>,
    /// Prepared kernel sources by content (see `kernel.rs`).
    prepared: Mutex<HashMap<CacheKey, Arc<Prepared>>>,
    /// Wakes the async actor futures (one thread, started on first use).
    #[cfg(feature = "async")]
    poller: Arc<crate::actor::async_io::Poller>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("backend", &self.backend())
            .finish()
    }
}

impl Runtime {
    /// CUDA device 0 if one is usable, else the CPU backend. `RINGKERNEL_BACKEND=cpu`
    /// forces the CPU; `RINGKERNEL_BACKEND=cuda` makes a missing device an error.
    pub fn new() -> Result<Runtime> {
        match std::env::var(BACKEND_ENV).as_deref() {
            Ok("cpu") => Ok(Runtime::cpu()),
            Ok("cuda") => Runtime::cuda(0),
            _ => Ok(Runtime::cuda(0).unwrap_or_else(|_| Runtime::cpu())),
        }
    }

    /// CUDA device `ordinal`, with the module cache of
    /// [`Compiler::from_env`]. Fails with [`Error::NoDriver`] or
    /// [`Error::NoDevice`] when there is none.
    pub fn cuda(ordinal: usize) -> Result<Runtime> {
        Runtime::cuda_with(ordinal, Compiler::from_env())
    }

    /// CUDA device `ordinal` with `compiler` (its cache folder, or
    /// [`Compiler::ptx_only`] to load every module through the PTX
    /// fallback).
    pub fn cuda_with(ordinal: usize, compiler: Compiler) -> Result<Runtime> {
        let device = CudaDevice::open(ordinal, compiler)?;
        Ok(Runtime::with_device(Some(device)))
    }

    /// The CPU backend: kernels run in the IR interpreter.
    pub fn cpu() -> Runtime {
        Runtime::with_device(None)
    }

    fn with_device(device: Option<Arc<CudaDevice>>) -> Runtime {
        Runtime {
            inner: Arc::new(Inner {
                compiler: device.as_ref().map(|d| d.compiler.clone()),
                device: RwLock::new(device),
                prepared: Mutex::new(HashMap::new()),
                #[cfg(feature = "async")]
                poller: crate::actor::async_io::Poller::new(),
            }),
        }
    }

    /// The current CUDA device (`None` on the CPU backend).
    pub(crate) fn cuda_device(&self) -> Option<Arc<CudaDevice>> {
        self.inner
            .device
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Recovery: the fresh device replaces the lost one.
    pub(crate) fn replace_device(&self, device: Arc<CudaDevice>) {
        *self.inner.device.write().unwrap_or_else(|e| e.into_inner()) = Some(device);
    }

    /// Recovery: forgets every loaded module and function (they belong to
    /// the lost context); the transpilations are kept.
    pub(crate) fn forget_modules(&self) {
        for p in self.inner.prepared.lock().unwrap().values() {
            p.module.lock().unwrap_or_else(|e| e.into_inner()).take();
            p.functions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
    }

    pub fn backend(&self) -> Backend {
        match &self.cuda_device() {
            Some(d) => Backend::Cuda {
                ordinal: d.ordinal,
                name: d.name.clone(),
                arch: d.arch,
                driver_version: d.driver,
            },
            None => Backend::Cpu,
        }
    }

    /// The poller of this runtime's async actor futures.
    #[cfg(feature = "async")]
    pub(crate) fn poller(&self) -> Arc<crate::actor::async_io::Poller> {
        self.inner.poller.clone()
    }

    pub fn is_cuda(&self) -> bool {
        self.inner.compiler.is_some()
    }

    fn device(&self, operation: &'static str) -> Result<Arc<CudaDevice>> {
        self.cuda_device().ok_or(Error::NotCuda { operation })
    }

    /// The load-time compiler and its cache (CUDA runtimes only).
    pub fn compiler(&self) -> Option<&Compiler> {
        self.inner.compiler.as_ref()
    }

    /// Uses the kernels a build script compiled (`ringkernel-build`,
    /// embedded with `ringkernel::include_kernels!()`) for every module
    /// this runtime loads from now on: the cubin for the device's
    /// architecture, else the PTX, never NVRTC. A kernel without a fitting
    /// image is compiled with NVRTC under [`EmbeddedPolicy::Prefer`] and is
    /// [`Error::NotEmbedded`] under [`EmbeddedPolicy::Only`]; an embedded
    /// kernel whose CUDA differs from the program's is always
    /// [`Error::EmbeddedMismatch`]. The CPU backend runs the IR and
    /// ignores images.
    pub fn use_embedded(&self, kernels: &'static EmbeddedKernels, policy: EmbeddedPolicy) {
        if let Some(device) = self.cuda_device() {
            *device.embedded.write().unwrap() = Some((kernels, policy));
        }
    }

    /// A buffer holding a copy of `values`.
    pub fn upload<T: DeviceCopy>(&self, values: &[T]) -> Result<DeviceBuffer<T>> {
        match &self.cuda_device() {
            Some(d) => DeviceBuffer::upload_cuda(d, values),
            None => Ok(DeviceBuffer::upload_host(values)),
        }
    }

    /// A buffer of `len` zeroed elements.
    pub fn alloc_zeroed<T: DeviceCopy>(&self, len: usize) -> Result<DeviceBuffer<T>> {
        match &self.cuda_device() {
            Some(d) => DeviceBuffer::zeroed_cuda(d, len),
            None => Ok(DeviceBuffer::zeroed_host(len)),
        }
    }

    /// `len` zeroed bytes of mapped pinned host memory (see [`MappedBuffer`]).
    pub fn alloc_mapped(&self, len: usize) -> Result<MappedBuffer> {
        match &self.cuda_device() {
            Some(d) => MappedBuffer::cuda(d, len),
            None => Ok(MappedBuffer::host(len)),
        }
    }

    /// The prepared (transpiled) form of `kernel`, memoised by content.
    pub(crate) fn prepared(&self, kernel: &KernelSource) -> Result<Arc<Prepared>> {
        let key = kernel::memo_key(kernel);
        if let Some(p) = self.inner.prepared.lock().unwrap().get(&key) {
            return Ok(p.clone());
        }
        // Transpile outside the lock; a racing thread's result is identical.
        let prepared = Arc::new(Prepared::new(kernel)?);
        let mut memo = self.inner.prepared.lock().unwrap();
        Ok(memo.entry(key).or_insert(prepared).clone())
    }

    /// Launches `kernel` over `grid` with `args` (in the kernel's parameter
    /// order) and waits for it. The arguments are checked against the
    /// kernel's signature first; a thread's panic is returned as
    /// [`Error::KernelFault`] with its Rust location.
    pub fn launch(&self, kernel: &KernelSource, grid: Grid, args: &mut [KernelArg]) -> Result<()> {
        let prepared = self.prepared(kernel)?;
        let spec = prepared.kernel(&kernel.name)?;
        check_args(&kernel.name, spec, args)?;
        let block = spec.info.block;
        let config = |reason| Error::LaunchConfig {
            kernel: kernel.name.clone(),
            reason,
        };
        let Some(grid) = grid.dims(block).map_err(config)? else {
            return Ok(());
        };
        match &self.cuda_device() {
            Some(d) => cuda::launch(d, &prepared, &kernel.name, grid, block, args),
            None => crate::cpu::launch(&prepared, &kernel.name, grid, block, args),
        }
    }

    /// Transpiles `kernel` and, on CUDA, compiles and loads its module, so
    /// the first launch pays nothing. Returns the load report on CUDA.
    pub fn prepare(&self, kernel: &KernelSource) -> Result<Option<LoadReport>> {
        let prepared = self.prepared(kernel)?;
        prepared.kernel(&kernel.name)?;
        match &self.cuda_device() {
            Some(d) => cuda::module_of(d, &prepared).map(|(_, r)| Some(r)),
            None => Ok(None),
        }
    }

    /// Makes `kernel` ready to launch or spawn without loading anything
    /// later: transpiled, and on the GPU compiled and loaded with every
    /// entry point's function (on the CPU backend, compiled for the
    /// interpreter). Call it for every kernel a program will start while
    /// actors run: the driver loads a module only when the context is idle,
    /// which it never is while a persistent actor kernel runs
    /// ([`Error::LoadWhileActorsRun`]).
    pub fn preload(&self, kernel: &KernelSource) -> Result<()> {
        let prepared = self.prepared(kernel)?;
        if self.is_cuda() {
            let (module, _) = self.load_kernel_module(kernel)?;
            for info in &prepared.transpiled.cuda.kernels {
                module.function(&info.symbol)?;
            }
        } else {
            for info in &prepared.transpiled.cuda.kernels {
                crate::cpu::program(&prepared, &info.name)?;
            }
        }
        Ok(())
    }

    /// The CUDA module of `kernel` (its transpiled source, with the device
    /// library's headers for `#[ring_kernel]` sources), loaded through the
    /// caches.
    pub fn load_kernel_module(
        &self,
        kernel: &KernelSource,
    ) -> Result<(Arc<LoadedModule>, LoadReport)> {
        let device = self.device("loading a CUDA module")?;
        let prepared = self.prepared(kernel)?;
        cuda::module_of(&device, &prepared)
    }

    /// Compiles (through the disk cache) and loads `source`. Loading the
    /// same source again is answered from memory.
    pub fn load_module(&self, source: &CudaSource) -> Result<(Arc<LoadedModule>, LoadReport)> {
        let device = self.device("loading a CUDA module")?;
        cuda::module::load(&device, source)
    }

    /// Loads the runtime's own hand-written PTX through the driver's JIT.
    pub(crate) fn load_runtime_ptx(
        &self,
        name: &str,
        ptx: &'static str,
    ) -> Result<Arc<LoadedModule>> {
        let device = self.device("loading a CUDA module")?;
        cuda::module::load_ptx_text(&device, name, ptx, ringkernel_toolchain::Arch(75))
    }

    /// A new stream on the device, for launches that must not wait for (or
    /// block) the runtime's own stream, such as persistent kernels.
    pub fn new_stream(&self) -> Result<Stream> {
        Stream::new(&self.device("creating a stream")?)
    }

    /// Launches `function` on `stream` without waiting: the handle says
    /// when it has finished. The block is checked against the kernel's
    /// limit; nothing else is.
    ///
    /// # Safety
    /// `params` must point at one value per C parameter of the kernel (see
    /// `KernelInfo::c_params`, including the trailing fault record pointer,
    /// which may be null), each of the parameter's C type and valid until
    /// this returns; device pointers among them must stay valid while the
    /// kernel runs.
    pub unsafe fn launch_raw(
        &self,
        function: &KernelFunction,
        grid: [u32; 3],
        block: [u32; 3],
        shared_bytes: u32,
        stream: &Stream,
        params: &mut [*mut c_void],
    ) -> Result<LaunchHandle> {
        // SAFETY: forwarded to the caller.
        unsafe { cuda::launch_async(function, grid, block, shared_bytes, stream, params) }
    }

    /// As [`Runtime::launch_raw`], with thread-block cluster dimensions
    /// (`cuLaunchKernelEx` with `CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION`):
    /// the blocks of each `cluster`-shaped group of the grid run together
    /// on one GPC and can reach each other's shared memory (DSMEM). The
    /// shape is checked first ([`crate::check_cluster`]: compute capability
    /// 9.0 or newer, the grid a whole number of clusters, at most
    /// [`crate::MAX_PORTABLE_CLUSTER`] blocks per cluster), with a
    /// [`crate::LaunchConfigError`] naming what is wrong.
    ///
    /// # Safety
    /// As [`Runtime::launch_raw`].
    #[allow(clippy::too_many_arguments)] // launch_raw's arguments and the cluster
    pub unsafe fn launch_raw_cluster(
        &self,
        function: &KernelFunction,
        grid: [u32; 3],
        block: [u32; 3],
        cluster: [u32; 3],
        shared_bytes: u32,
        stream: &Stream,
        params: &mut [*mut c_void],
    ) -> Result<LaunchHandle> {
        // SAFETY: forwarded to the caller.
        unsafe {
            cuda::launch_cluster_async(
                function,
                grid,
                block,
                cluster,
                cuda::MAX_PORTABLE_CLUSTER,
                shared_bytes,
                stream,
                params,
            )
        }
    }

    /// Waits for everything on the runtime's own stream (a no-op on the CPU).
    pub fn synchronize(&self) -> Result<()> {
        match &self.cuda_device() {
            Some(d) => d.sync(),
            None => Ok(()),
        }
    }
}
