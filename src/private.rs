//! What the macros' expansions use, and nothing else: the contract between
//! `ringkernel-macros` (whose output names only `::ringkernel::__private`)
//! and the crates behind the facade. Not a public API.
//!
//! | used by | items |
//! |---|---|
//! | every kernel / `#[device_fn]` module | [`ItemSource`], [`KernelSource`], [`SourceKind`], [`OnceLock`], [`GpuType`] |
//! | `cuda_source()` | [`cuda_source`] |
//! | `launch` (`#[gpu_kernel]`) | [`Runtime::launch`], [`Grid`], [`DeviceBuffer`], [`KernelArg`]`::{scalar, slice, slice_mut}`, [`RuntimeResult`] |
//! | `spawn` (`#[ring_kernel]`) | [`spawn`], [`SpawnOptions`] (its `message_type_id`/`reply_type_id` fields), [`Actor`], [`ActorError`], [`RingMessage`], [`zeroed`] |
//! | the derives | [`DeviceRepr`], [`GpuType`], [`RingMessage`], [`TypeLayout`], [`FieldLayout`], [`FieldType`], [`type_id_of`], [`DeviceCopy`], [`PaddingCheck`], [`PaddingFree`] |

pub use std::sync::OnceLock;

pub use ringkernel_device::layout::{
    type_id_of, zeroed, DeviceRepr, FieldLayout, FieldType, GpuType, PaddingCheck, PaddingFree,
    RingMessage, TypeLayout,
};
pub use ringkernel_runtime::actor::{Actor, ActorError, SpawnOptions};
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

/// `spawn`: one actor of the handler `kernel` on `runtime`, starting from
/// `state`.
///
/// The runtime has an actor executor for the CPU backend
/// (`ringkernel_runtime::actor::spawn_cpu`); a CUDA runtime has none yet,
/// so there this reports that instead of silently running on the CPU. When
/// the runtime gains `Runtime::spawn`, this is the one place to change.
pub fn spawn<M: Copy, R: Copy, S: Copy>(
    runtime: &Runtime,
    kernel: &KernelSource,
    state: S,
    options: SpawnOptions,
) -> Result<Actor<M, R, S>, ActorError> {
    if runtime.is_cuda() {
        return Err(ActorError::TypeMismatch {
            kernel: kernel.name.clone(),
            problem: format!(
                "spawning actors on {} is not available yet; use `Runtime::cpu()`",
                runtime.backend()
            ),
        });
    }
    let mut actors = ringkernel_runtime::actor::spawn_cpu(kernel, 1, state, &options)?;
    Ok(actors.pop().expect("spawn_cpu made one actor"))
}
