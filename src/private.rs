//! What the macros' expansions use, and nothing else: the contract between
//! `ringkernel-macros` (whose output names only `::ringkernel::__private`)
//! and the crates behind the facade. Not a public API.
//!
//! | used by | items |
//! |---|---|
//! | every kernel / `#[device_fn]` module | [`ItemSource`], [`KernelSource`], [`SourceKind`], [`OnceLock`], [`GpuType`] |
//! | `cuda_source()` | [`cuda_source`] |
//! | `launch` (`#[gpu_kernel]`) | [`Runtime::launch`], [`Grid`], [`DeviceBuffer`], [`KernelArg`]`::{scalar, slice, slice_mut}`, [`RuntimeResult`] |
//! | `spawn` (`#[ring_kernel]`) | [`spawn`] (`Runtime::spawn`), [`SpawnOptions`] (its `message_type_id`/`reply_type_id` fields), [`Actor`], [`RuntimeResult`], [`RingMessage`], [`zeroed`] |
//! | the derives | [`DeviceRepr`], [`GpuType`], [`RingMessage`], [`TypeLayout`], [`FieldLayout`], [`FieldType`], [`type_id_of`], [`DeviceCopy`], [`PaddingCheck`], [`PaddingFree`] |

pub use std::sync::OnceLock;

pub use ringkernel_device::layout::{
    type_id_of, zeroed, DeviceRepr, FieldLayout, FieldType, GpuType, PaddingCheck, PaddingFree,
    RingMessage, TypeLayout,
};
pub use ringkernel_runtime::actor::{Actor, SpawnOptions};
pub use ringkernel_runtime::{DeviceBuffer, DeviceCopy, Grid, KernelArg, Runtime};
pub use ringkernel_transpiler::source::{ItemSource, KernelSource, SourceKind};

/// `launch`'s result.
pub type RuntimeResult<T> = ringkernel_runtime::Result<T>;

/// `cuda_source()`: the kernel's CUDA, or a panic with the rendered error.
pub fn cuda_source(kernel: &KernelSource) -> String {
    match kernel.transpile() {
        Ok(out) => out.cuda.source,
        Err(e) => panic!(
            "`{}` does not transpile:\n{}",
            kernel.name,
            kernel.render_error(&e)
        ),
    }
}

/// `spawn`: `count` actors of the handler `kernel` on `runtime`, in one
/// launch, each starting from `state` (`Runtime::spawn`).
pub fn spawn<M: Copy, R: Copy, S: Copy>(
    runtime: &Runtime,
    kernel: &KernelSource,
    count: u32,
    state: S,
    options: SpawnOptions,
) -> RuntimeResult<Vec<Actor<M, R, S>>> {
    runtime.spawn(kernel, count, state, &options)
}
