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
//! | `add_to` (`#[ring_kernel]`) | [`add_to`] (`SystemBuilder::actor`), [`SystemBuilder`], [`Member`] |
//! | the derives | [`DeviceRepr`], [`GpuType`], [`RingMessage`], [`TypeLayout`], [`FieldLayout`], [`FieldType`], [`type_id_of`], [`DeviceCopy`], [`PaddingCheck`], [`PaddingFree`] |

pub use std::sync::OnceLock;

pub use ringkernel_device::layout::{
    type_id_of, zeroed, DeviceRepr, FieldLayout, FieldType, GpuType, PaddingCheck, PaddingFree,
    RingMessage, TypeLayout,
};
pub use ringkernel_runtime::actor::{Actor, Member, SpawnOptions, SystemBuilder};
pub use ringkernel_runtime::{DeviceBuffer, DeviceCopy, Grid, KernelArg, Runtime};
pub use ringkernel_transpiler::source::{ItemSource, KernelSource, SourceKind};

/// The initial state of `spawn`: `S::default()` when the state type
/// implements `Default` (DESIGN: actors start from `Default`), all-zero
/// otherwise. Chosen at the call site by autoref specialisation: the
/// generated code calls `(&&InitialState::<S>::new()).initial()` with both
/// traits in scope, and method probing takes the `&InitialState` impl only
/// when `S: Default`.
#[derive(Debug)]
pub struct InitialState<S>(std::marker::PhantomData<S>);

impl<S> InitialState<S> {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        InitialState(std::marker::PhantomData)
    }
}

pub trait InitialFromDefault<S> {
    fn initial(&self) -> S;
}

impl<S: Default> InitialFromDefault<S> for &InitialState<S> {
    fn initial(&self) -> S {
        S::default()
    }
}

pub trait InitialZeroed<S> {
    fn initial(&self) -> S;
}

impl<S: GpuType> InitialZeroed<S> for InitialState<S> {
    fn initial(&self) -> S {
        zeroed::<S>()
    }
}

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

/// `add_to`: one actor of the handler `kernel` in an actor system being
/// built, starting from `state` (`SystemBuilder::actor`).
pub fn add_to<M: Copy + 'static, R: Copy + 'static, S: Copy + 'static>(
    system: &mut SystemBuilder<'_>,
    kernel: &KernelSource,
    state: S,
    options: SpawnOptions,
) -> RuntimeResult<Member<M, R, S>> {
    system.actor(kernel, state, &options)
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
