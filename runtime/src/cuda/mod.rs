//! The CUDA backend: device discovery, load-time compilation with its
//! cache, memory, module loading and launches, all through cudarc's
//! dynamically loaded driver and NVRTC bindings (so a binary built with
//! RingKernel runs, on the CPU backend, where there is no driver).

pub mod cache;
pub mod compat;
pub mod compile;
pub(crate) mod device;
mod launch;
pub(crate) use launch::{launch_async, launch_cluster_async};
mod lines;
pub(crate) mod memory;
pub mod module;
pub(crate) mod recover;

pub use launch::{check_cluster, LaunchHandle, Stream, MAX_PORTABLE_CLUSTER};

use std::ffi::c_void;
use std::sync::Arc;

use ringkernel_transpiler::back::cuda::abi::{FaultKind, FaultRecord};
use ringkernel_transpiler::back::cuda::CParam;
use ringkernel_transpiler::interp::Location;

use crate::buffer::Storage;
use crate::error::{Error, Result};
use crate::kernel::Prepared;
use crate::launch::{ArgKind, KernelArg};
use device::CudaDevice;
use module::{KernelFunction, LoadedModule};

/// The loaded module of `prepared` on `device`, loaded on first use.
pub(crate) fn module_of(
    device: &Arc<CudaDevice>,
    prepared: &Prepared,
) -> Result<(Arc<LoadedModule>, module::LoadReport)> {
    let mut slot = prepared.module.lock().unwrap();
    if let Some(module) = slot.as_ref() {
        let report = module::LoadReport {
            origin: module::ModuleOrigin::Memory,
            target: module.target(),
            elapsed: std::time::Duration::ZERO,
        };
        return Ok((module.clone(), report));
    }
    let (module, report) = match module::load_embedded(device, &prepared.cuda_source)? {
        Some(loaded) => loaded,
        None => module::load(device, &prepared.cuda_source)?,
    };
    *slot = Some(module.clone());
    Ok((module, report))
}

fn function_of(
    device: &Arc<CudaDevice>,
    prepared: &Prepared,
    name: &str,
) -> Result<KernelFunction> {
    if let Some(f) = prepared.functions.lock().unwrap().get(name) {
        return Ok(f.clone());
    }
    let spec = prepared.kernel(name)?;
    let (module, _) = module_of(device, prepared)?;
    let function = module.function(&spec.info.symbol)?;
    prepared
        .functions
        .lock()
        .unwrap()
        .insert(name.to_string(), function.clone());
    Ok(function)
}

/// Launches kernel `name` of `prepared` on `device` and waits; a published
/// fault record becomes [`Error::KernelFault`].
pub(crate) fn launch(
    device: &Arc<CudaDevice>,
    prepared: &Prepared,
    name: &str,
    grid: [u32; 3],
    block: [u32; 3],
    args: &mut [KernelArg],
) -> Result<()> {
    let spec = prepared.kernel(name)?;
    let function = function_of(device, prepared, name)?;
    // Each parameter value in its own 8-aligned box: stable addresses for
    // the driver's parameter array, whatever is pushed later.
    let mut storage: Vec<Box<[u64]>> = Vec::new();
    let mut push = |bytes: &[u8]| {
        let mut words = vec![0u64; bytes.len().div_ceil(8).max(1)].into_boxed_slice();
        // SAFETY: `words` has at least `bytes.len()` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                words.as_mut_ptr().cast::<u8>(),
                bytes.len(),
            );
        }
        storage.push(words);
    };
    let foreign = |runtime| Error::ForeignBuffer {
        buffer: "CPU or another device's",
        runtime,
    };
    for arg in args.iter() {
        match &arg.0 {
            ArgKind::Scalar { scalar, bytes } => push(&bytes[..scalar.size() as usize]),
            ArgKind::Value { bytes, .. } => push(bytes),
            ArgKind::Slice {
                storage: s, len, ..
            } => {
                let ptr = device_ptr(device, s).ok_or_else(|| foreign("CUDA"))?;
                push(&ptr.to_le_bytes());
                push(&(*len as u64).to_le_bytes());
            }
            ArgKind::SliceMut {
                storage: s, len, ..
            } => {
                let ptr = device_ptr(device, s).ok_or_else(|| foreign("CUDA"))?;
                push(&ptr.to_le_bytes());
                push(&(*len as u64).to_le_bytes());
            }
        }
    }
    // The argument check guaranteed this; a mismatch here would be UB.
    let c_params = spec.info.c_params();
    assert_eq!(
        storage.len() + 1,
        c_params.len(),
        "packed parameters disagree with the kernel's C parameters"
    );
    debug_assert_eq!(c_params.last(), Some(&CParam::FaultRecord));
    let mut params: Vec<*mut c_void> = storage
        .iter_mut()
        .map(|b| b.as_mut_ptr().cast::<c_void>())
        .collect();
    // SAFETY: one value per C parameter but the last, each of its C type
    // (checked against the kernel's signature by `check_args`); the device
    // pointers are live allocations of this device, borrowed by `args` for
    // the whole (synchronous) launch.
    let record = unsafe { launch::launch_sync(device, &function, grid, block, &mut params) }?;
    if record.state != FaultRecord::PUBLISHED {
        return Ok(());
    }
    // Codes come from rk_rust.cuh, which the ABI test pins to `FaultKind`.
    let kind = FaultKind::from_code(record.kind).unwrap_or(FaultKind::Explicit);
    Err(Error::KernelFault {
        kernel: name.to_string(),
        kind,
        location: Location {
            file: prepared.transpiled.module.source_file.clone(),
            line: record.line,
            column: record.column,
        },
        block: record.block,
        thread: record.thread,
    })
}

/// The device address behind `storage`, if it lives on `device`.
fn device_ptr(device: &Arc<CudaDevice>, storage: &Storage) -> Option<u64> {
    match storage {
        Storage::Cuda(alloc) if Arc::ptr_eq(alloc.device(), device) => Some(alloc.ptr()),
        _ => None,
    }
}
