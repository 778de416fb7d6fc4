//! RingKernel's proc macros: token plumbing and nothing more.
//!
//! `#[ring_kernel]`, `#[gpu_kernel]`, `#[device_fn]` and the `GpuType` /
//! `RingMessage` derives hand their tokens to
//! `ringkernel_transpiler::expand`, which checks them with the transpiler's
//! front end (attributes, signatures, bodies, struct shapes) and writes the
//! expansion, so all of it is unit-testable without a compiler in the loop.
//! This crate never decides what a Rust construct means. Use the macros
//! through the `ringkernel` facade: the expansions name
//! `::ringkernel::__private`.

use proc_macro::TokenStream;

use ringkernel_transpiler::expand;

/// A persistent actor's message handler.
///
/// ```text
/// #[ring_kernel(block_size = 64)]
/// pub fn summer(ctx: &RingContext, state: &mut Stats, msg: &Request) -> Response { … }
/// ```
///
/// Shapes: `(ctx: &RingContext, msg: &M) -> R` and
/// `(ctx: &RingContext, state: &mut S, msg: &M) -> R`, `R` possibly `()`;
/// `M` and `R` derive `RingMessage`, `S` derives `GpuType`. Arguments:
/// `block_size = N`, `block = (x, y, z)`, `warps = N`, `checks = bool`,
/// `name = "entry"`, `debug`. Adds `mod NAME` with `cuda_source()`,
/// `kernel()`, `spawn(&Runtime, SpawnOptions)` and, for actors with state,
/// `spawn_with_state`.
#[proc_macro_attribute]
pub fn ring_kernel(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::ring_kernel(args.into(), item.into()).into()
}

/// A data-parallel kernel.
///
/// ```text
/// #[gpu_kernel(block_size = 256)]
/// pub fn saxpy(ctx: &ThreadContext, a: f32, x: &[f32], y: &mut [f32]) { … }
/// ```
///
/// Scalars by value, buffers as `&[T]`/`&mut [T]`, no return value.
/// Arguments: `block_size = N`, `block = (x, y, z)`, `checks = bool`,
/// `name = "entry"`, `debug`. Adds `mod NAME` with `cuda_source()`,
/// `kernel()` and `launch(&Runtime, Grid, args…)`, where slices become
/// `&DeviceBuffer<T>`/`&mut DeviceBuffer<T>`.
#[proc_macro_attribute]
pub fn gpu_kernel(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::gpu_kernel(args.into(), item.into()).into()
}

/// A helper callable from kernels and handlers (a `__device__` function),
/// and from the host as ordinary Rust. Takes and returns plain data by
/// value.
#[proc_macro_attribute]
pub fn device_fn(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::device_fn(args.into(), item.into()).into()
}

/// A `#[repr(C)]` plain-data struct the device can hold: a handler's state,
/// a field of a message, an element of a kernel's buffer.
#[proc_macro_derive(GpuType)]
pub fn derive_gpu_type(input: TokenStream) -> TokenStream {
    expand::derive_gpu_type(input.into()).into()
}

/// A message an actor receives or replies with (also a `GpuType`). Its
/// envelope type id is a hash of its path; override it with
/// `#[ring_message(type_id = N)]`.
#[proc_macro_derive(RingMessage, attributes(ring_message))]
pub fn derive_ring_message(input: TokenStream) -> TokenStream {
    expand::derive_ring_message(input.into()).into()
}
