//! The RingKernel runtime: runs kernels and actors on a GPU through cudarc,
//! or on the CPU through the transpiler's IR interpreter.
//!
//! It owns load-time compilation (NVRTC with a disk cache, via
//! `ringkernel-toolchain`), persistent launches, the host halves of the
//! rings in mapped pinned memory, typed actor handles and supervision. It
//! builds launches from the back end's metadata and never parses CUDA.
//!
//! # Layers
//!
//! - [`Runtime`] (`runtime.rs`): the handle; picks the backend.
//! - [`DeviceBuffer`] (`buffer.rs`) and [`MappedBuffer`]
//!   (`cuda/memory.rs`): device memory, and host memory the device maps.
//! - [`Grid`], [`KernelArg`] (`launch.rs`): launches and their argument check;
//!   `kernel.rs` memoises a transpiled [`KernelSource`] per runtime.
//! - `cpu.rs`: launches through the interpreter; `cuda/`: device discovery,
//!   the NVRTC compiler and cache ([`cuda::compile`], [`cuda::cache`]),
//!   module loading ([`cuda::module`]), launches.
//! - [`embedded`]: kernels compiled at `cargo build` time, loaded without NVRTC.
//! - [`actor`]: typed actor handles, actor memory, the CPU executor.
//! - [`testing`]: the helper GPU tests start from.
//!
//! [`KernelSource`]: ringkernel_transpiler::source::KernelSource

pub mod actor;
mod buffer;
mod cpu;
pub mod cuda;
pub mod embedded;
mod error;
mod kernel;
mod launch;
mod runtime;
pub mod testing;

pub use buffer::{DeviceBuffer, DeviceCopy};
pub use cuda::cache::{default_cache_dir, CacheKey, CACHE_DIR_ENV};
pub use cuda::compile::{
    nvrtc_invocations, CompiledImage, Compiler, CudaSource, ImageOrigin, ACTOR_DEFINES_ENV,
    ACTOR_NVRTC_OPTIONS_ENV, ACTOR_TRACE_ENV, LINE_INFO_ENV,
};
pub use cuda::memory::MappedBuffer;
pub use cuda::module::{KernelFunction, LoadReport, LoadedModule, ModuleOrigin};
pub use cuda::{check_cluster, LaunchHandle, Stream, MAX_PORTABLE_CLUSTER};
pub use embedded::{EmbeddedKernels, EmbeddedPolicy};
pub use error::{DriverVersion, Error, LaunchConfigError, Result};
pub use launch::{Grid, KernelArg, ScalarArg};
pub use ringkernel_toolchain::{Arch, Target};
pub use ringkernel_transpiler::source::{KernelSource, SourceKind, SourceText};
pub use runtime::{Backend, Runtime, BACKEND_ENV};
