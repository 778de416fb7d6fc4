//! What a RingKernel program needs in scope: `use ringkernel::prelude::*;`.
//!
//! - the attributes and derives: [`ring_kernel`], [`gpu_kernel`],
//!   [`device_fn`], [`GpuType`](macro@GpuType), [`RingMessage`](macro@RingMessage);
//! - the context types kernels and handlers are written against:
//!   [`ThreadContext`], [`RingContext`];
//! - the traits the derives implement: [`GpuType`], [`RingMessage`],
//!   [`DeviceRepr`], [`DeviceCopy`];
//! - the runtime: [`Runtime`], [`Backend`], [`Grid`], [`DeviceBuffer`], [`EmbeddedPolicy`],
//!   [`KernelArg`], [`SpawnOptions`], [`Actor`], [`ActorError`]; actor
//!   systems: [`System`], [`SystemBuilder`], [`Member`].

pub use ringkernel_device::context::{RingContext, ThreadContext};
pub use ringkernel_device::layout::{DeviceRepr, GpuType, RingMessage};
pub use ringkernel_macros::{device_fn, gpu_kernel, ring_kernel, GpuType, RingMessage};
pub use ringkernel_runtime::actor::{
    Actor, ActorError, Member, SpawnOptions, System, SystemBuilder,
};
pub use ringkernel_runtime::{
    Backend, DeviceBuffer, DeviceCopy, EmbeddedPolicy, Grid, KernelArg, Runtime,
};
