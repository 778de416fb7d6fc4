//! Lost contexts: detecting a hard device fault, failing every actor
//! handle with one clear error, and relaunching on a fresh context.
//!
//! A hard fault (an illegal address, a trap, an ECC error) in any kernel
//! kills every kernel of the context, persistent actors included, and
//! every later driver call returns the same sticky error. The runtime
//! learns it from the first driver call that fails that way (an actor
//! launch's event query, made by every waiting handle and the watchdog):
//! [`ContextHealth::mark_lost`] records the cause once per device, and from
//! then on every handle of that device fails with
//! [`ActorError::ContextLost`](crate::actor::ActorError::ContextLost)
//! (waits at once, sends before touching the ring), never a timeout.
//!
//! Messages are **reported, not re-delivered**: the device's state is gone
//! (re-delivering to a fresh actor would run them against `Default` state,
//! out of order with what the caller already saw), so the error says how
//! many requests were still in the inbox unanswered. Replies the device
//! published before the fault are still received first, in order.
//!
//! [`Runtime::recover`](crate::Runtime::recover) relaunches: once every
//! actor of the lost context is dropped (the handles hold mapped memory the
//! reset frees, so recovery refuses while one lives), it retires the old
//! device (its driver objects are leaked, never released into the new
//! context: after a primary-context reset, stale handles could name new
//! objects), resets the primary context (`cuDevicePrimaryCtxReset`; the
//! device itself is not reset), opens a fresh one and forgets loaded
//! modules. The caller then spawns its actors again, from their `Default`
//! state.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use cudarc::driver::result::DriverError;
use cudarc::driver::sys::{self, CUresult};

use super::device::CudaDevice;
use crate::error::{Error, Result};

/// Whether a driver error code means the context is gone for good.
pub fn is_sticky(code: CUresult) -> bool {
    use CUresult::*;
    matches!(
        code,
        CUDA_ERROR_ILLEGAL_ADDRESS
            | CUDA_ERROR_LAUNCH_FAILED
            | CUDA_ERROR_ILLEGAL_INSTRUCTION
            | CUDA_ERROR_MISALIGNED_ADDRESS
            | CUDA_ERROR_INVALID_ADDRESS_SPACE
            | CUDA_ERROR_INVALID_PC
            | CUDA_ERROR_HARDWARE_STACK_ERROR
            | CUDA_ERROR_ASSERT
            | CUDA_ERROR_ECC_UNCORRECTABLE
            | CUDA_ERROR_CONTEXT_IS_DESTROYED
            | CUDA_ERROR_LAUNCH_TIMEOUT
    )
}

/// One device's health: lost (with the first cause) or not, retired after
/// recovery, and how many actor launches still use it.
#[derive(Debug, Default)]
pub(crate) struct ContextHealth {
    lost: AtomicBool,
    cause: Mutex<Option<String>>,
    retired: AtomicBool,
    launches: AtomicUsize,
}

impl ContextHealth {
    /// Records that the context is lost; the first cause is kept.
    pub(crate) fn mark_lost(&self, cause: impl FnOnce() -> String) {
        let mut c = self.cause.lock().unwrap_or_else(|e| e.into_inner());
        if c.is_none() {
            *c = Some(cause());
        }
        self.lost.store(true, Ordering::Release);
    }

    /// The cause, once lost (one atomic load while healthy).
    pub(crate) fn lost(&self) -> Option<String> {
        if !self.lost.load(Ordering::Acquire) {
            return None;
        }
        self.cause.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// After recovery: the old context's objects must never reach the
    /// driver again.
    pub(crate) fn retire(&self) {
        self.retired.store(true, Ordering::Release);
    }

    pub(crate) fn retired(&self) -> bool {
        self.retired.load(Ordering::Acquire)
    }

    pub(crate) fn launch_started(&self) {
        self.launches.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn launch_ended(&self) {
        self.launches.fetch_sub(1, Ordering::AcqRel);
    }

    pub(crate) fn live_launches(&self) -> usize {
        self.launches.load(Ordering::Acquire)
    }
}

impl crate::Runtime {
    /// Relaunches on a fresh context after the context was lost to a hard
    /// device fault; `Ok(false)` (nothing done) when it is not lost, or on
    /// the CPU backend.
    ///
    /// Every actor handle of the lost context must be dropped first
    /// ([`Error::ActorsAlive`] otherwise): their rings live in memory the
    /// reset frees. Buffers, streams and modules of the old context stay
    /// valid Rust values but are dead (operations on them fail; dropping
    /// them leaks their driver objects rather than touching the new
    /// context). After it returns, spawn the actors again: they start from
    /// their `Default` (or given) state; what the old ones held is gone,
    /// and the requests they had not answered were reported by
    /// [`ActorError::ContextLost`](crate::actor::ActorError::ContextLost).
    ///
    /// This resets the process's primary context of the device
    /// (`cuDevicePrimaryCtxReset`), so other users of it in this process
    /// (another runtime on the same device) lose theirs too; it never
    /// resets the device.
    pub fn recover(&self) -> Result<bool> {
        let Some(old) = self.cuda_device() else {
            return Ok(false);
        };
        if old.health.lost().is_none() {
            // A hard fault shows on every stream of the context.
            // SAFETY: a live stream of the device's context.
            let status = unsafe { sys::cuStreamQuery(old.stream.cu_stream()) };
            if !is_sticky(status) {
                return Ok(false);
            }
            old.health.mark_lost(|| {
                format!(
                    "found by recover: {}",
                    Error::driver("cuStreamQuery", DriverError(status))
                )
            });
        }
        let launches = old.health.live_launches();
        if launches > 0 {
            return Err(Error::ActorsAlive { launches });
        }
        // From here on nothing of the old context reaches the driver.
        old.health.retire();
        self.forget_modules();
        old.modules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        let mut device: sys::CUdevice = 0;
        // SAFETY: valid out-pointer; the driver is loaded (a CUDA runtime).
        unsafe { sys::cuDeviceGet(&mut device, old.ordinal as i32) }
            .result()
            .map_err(|e| Error::driver("cuDeviceGet", e))?;
        // SAFETY: destroys the primary context's resources; every object of
        // it this runtime made is retired (never used or released again).
        unsafe { sys::cuDevicePrimaryCtxReset_v2(device) }
            .result()
            .map_err(|e| Error::driver("cuDevicePrimaryCtxReset", e))?;
        let fresh = CudaDevice::open(old.ordinal, old.compiler.clone()).map_err(|e| match e {
            Error::Driver { error, .. } if is_sticky(error.0) => Error::ContextUnrecoverable {
                cause: e.to_string(),
            },
            other => other,
        })?;
        // Embedded kernels stay in use on the fresh context.
        *fresh.embedded.write().unwrap_or_else(|e| e.into_inner()) =
            *old.embedded.read().unwrap_or_else(|e| e.into_inner());
        self.replace_device(fresh);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_cause_is_kept_and_healthy_is_one_load() {
        let h = ContextHealth::default();
        assert_eq!(h.lost(), None);
        h.mark_lost(|| "illegal address".into());
        h.mark_lost(|| "second".into());
        assert_eq!(h.lost().as_deref(), Some("illegal address"));
        assert!(!h.retired());
        h.retire();
        assert!(h.retired());
    }

    #[test]
    fn launches_are_counted() {
        let h = ContextHealth::default();
        h.launch_started();
        h.launch_started();
        h.launch_ended();
        assert_eq!(h.live_launches(), 1);
    }

    #[test]
    fn hard_faults_are_sticky_and_ordinary_errors_are_not() {
        assert!(is_sticky(CUresult::CUDA_ERROR_ILLEGAL_ADDRESS));
        assert!(is_sticky(CUresult::CUDA_ERROR_LAUNCH_FAILED));
        assert!(!is_sticky(CUresult::CUDA_ERROR_NOT_READY));
        assert!(!is_sticky(CUresult::CUDA_ERROR_OUT_OF_MEMORY));
        assert!(!is_sticky(CUresult::CUDA_ERROR_INVALID_VALUE));
    }
}
