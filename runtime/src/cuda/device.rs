//! One CUDA device as the runtime uses it: the primary context, the
//! runtime's stream, the facts about the device, and the modules loaded on it.
//!
//! Opening checks, in order, what can be missing on a user's machine — the
//! driver library, any device, the asked-for ordinal — and reports each as
//! its own [`Error`] instead of letting the driver bindings panic.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use cudarc::driver::{result, sys, CudaContext, CudaStream};

use super::module::LoadedModule;
use super::recover::ContextHealth;
use crate::cuda::compile::Compiler;
use crate::embedded::{EmbeddedKernels, EmbeddedPolicy};
use crate::error::{DriverVersion, Error, Result};

/// An open CUDA device.
#[derive(Debug)]
pub(crate) struct CudaDevice {
    pub(crate) ctx: Arc<CudaContext>,
    /// The runtime's stream: synchronous launches, copies, allocations.
    /// Non-blocking, so it is never serialised with the legacy default stream.
    pub(crate) stream: Arc<CudaStream>,
    pub(crate) ordinal: usize,
    pub(crate) name: String,
    /// Compute capability (major, minor).
    pub(crate) arch: (u32, u32),
    pub(crate) driver: DriverVersion,
    /// Stream-ordered allocation (`cuMemAllocAsync`) is available.
    pub(crate) async_alloc: bool,
    /// Loaded modules by cache key: a second load of the same CUDA is free.
    pub(crate) modules: Mutex<HashMap<[u8; 32], Arc<LoadedModule>>>,
    pub(crate) compiler: Compiler,
    /// Images compiled at build time, consulted before the compiler.
    pub(crate) embedded: RwLock<Option<(&'static EmbeddedKernels, EmbeddedPolicy)>>,
    /// Lost (a hard fault), retired (after recovery), live actor launches.
    pub(crate) health: ContextHealth,
    /// Persistent (actor) launches, to tell whether one still runs: a
    /// module load waits for an idle context (`module::refuse_while_actors_run`).
    pub(crate) persistent: Mutex<Vec<std::sync::Weak<super::launch::LaunchHandle>>>,
}

impl Drop for CudaDevice {
    fn drop(&mut self) {
        if self.health.retired() {
            // The primary context was reset and retained afresh: releasing
            // the old one would release the new one. Leak it (and the
            // stream, whose handle the new context may reuse).
            std::mem::forget(self.ctx.clone());
            std::mem::forget(self.stream.clone());
        }
    }
}

/// Whether the driver library can be loaded (without panicking if not).
pub(crate) fn driver_present() -> bool {
    // SAFETY: probing opens and closes the library, nothing else.
    unsafe { sys::is_culib_present() }
}

impl CudaDevice {
    pub(crate) fn open(ordinal: usize, compiler: Compiler) -> Result<Arc<CudaDevice>> {
        if !driver_present() {
            return Err(Error::NoDriver);
        }
        match result::init() {
            Ok(()) => {}
            Err(e) if e.0 == sys::CUresult::CUDA_ERROR_NO_DEVICE => {
                return Err(Error::NoDevice { ordinal, count: 0 })
            }
            Err(e) => return Err(Error::driver("cuInit", e)),
        }
        let count =
            result::device::get_count().map_err(|e| Error::driver("cuDeviceGetCount", e))?;
        let count = usize::try_from(count).unwrap_or(0);
        if ordinal >= count {
            return Err(Error::NoDevice { ordinal, count });
        }
        let ctx =
            CudaContext::new(ordinal).map_err(|e| Error::driver("cuDevicePrimaryCtxRetain", e))?;
        let stream = ctx
            .new_stream()
            .map_err(|e| Error::driver("cuStreamCreate", e))?;
        let name = ctx
            .name()
            .map_err(|e| Error::driver("cuDeviceGetName", e))?;
        let (major, minor) = ctx
            .compute_capability()
            .map_err(|e| Error::driver("cuDeviceGetAttribute", e))?;
        let mut driver = 0;
        // SAFETY: a valid out-pointer; the driver is loaded.
        unsafe { sys::cuDriverGetVersion(&mut driver) }
            .result()
            .map_err(|e| Error::driver("cuDriverGetVersion", e))?;
        Ok(Arc::new(CudaDevice {
            async_alloc: ctx.has_async_alloc(),
            ctx,
            stream,
            ordinal,
            name,
            arch: (major as u32, minor as u32),
            driver: DriverVersion(driver),
            modules: Mutex::new(HashMap::new()),
            embedded: RwLock::new(None),
            compiler,
            health: ContextHealth::default(),
            persistent: Mutex::new(Vec::new()),
        }))
    }

    /// Persistent launches whose kernel has not finished yet.
    pub(crate) fn running_persistent_launches(&self) -> usize {
        let mut list = self.persistent.lock().unwrap_or_else(|e| e.into_inner());
        list.retain(|w| w.strong_count() > 0);
        list.iter()
            .filter_map(std::sync::Weak::upgrade)
            .filter(|h| matches!(h.is_complete(), Ok(false)))
            .count()
    }

    /// Makes the context current on the calling thread.
    pub(crate) fn bind(&self) -> Result<()> {
        self.ctx
            .bind_to_thread()
            .map_err(|e| Error::driver("cuCtxSetCurrent", e))
    }

    /// Waits for the runtime's stream.
    pub(crate) fn sync(&self) -> Result<()> {
        self.stream
            .synchronize()
            .map_err(|e| Error::driver("cuStreamSynchronize", e))
    }
}
