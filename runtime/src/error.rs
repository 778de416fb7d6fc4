//! The runtime's one error type.
//!
//! Every failure a user can cause or meet is a variant with the facts needed
//! to act on it: which kernel, which argument, which Rust line, which driver
//! call. Nothing is a string-typed catch-all, and nothing the runtime can
//! detect (a wrong argument, a block too large) is left to the driver or to
//! undefined behaviour.

use std::fmt;
use std::path::PathBuf;

use cudarc::driver::{result::DriverError, sys::CUresult};
use ringkernel_toolchain::{CompileError, LocateError};
use ringkernel_transpiler::back::cuda::abi::FaultKind;
use ringkernel_transpiler::interp::{InterpError, Location};
use ringkernel_transpiler::pipeline;

/// `Result` with the runtime's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a runtime operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The CUDA driver library (`libcuda.so.1` / `nvcuda.dll`) could not be
    /// loaded: there is no NVIDIA driver on this machine.
    #[error("no CUDA driver: libcuda could not be loaded (is the NVIDIA driver installed?)")]
    NoDriver,

    /// The driver is there but device `ordinal` is not.
    #[error("no CUDA device with ordinal {ordinal}: the driver reports {count} device(s)")]
    NoDevice { ordinal: usize, count: usize },

    /// The driver cannot load the PTX NVRTC produced: NVRTC is newer than
    /// the driver (`CUDA_ERROR_UNSUPPORTED_PTX_VERSION`).
    #[error(
        "the CUDA driver (supports CUDA {driver}) is too old for PTX from NVRTC {}.{}: \
         update the driver, or use an NVRTC no newer than the driver",
        nvrtc.0, nvrtc.1
    )]
    DriverTooOld {
        driver: DriverVersion,
        nvrtc: (i32, i32),
    },

    /// An embedded kernel of this name was compiled from other CUDA than
    /// this program's transpilation (stale build artifacts, or a build
    /// helper that disagrees with the macros).
    #[error(
        "the embedded kernel `{kernel}` (built by crate `{crate_name}`'s build script) does not match this program: {what}; rebuild the crate"
    )]
    EmbeddedMismatch {
        kernel: String,
        crate_name: String,
        what: String,
    },

    /// `EmbeddedPolicy::Only` and no embedded image for the kernel fits
    /// the device.
    #[error("kernel `{kernel}` has no embedded image for sm_{}{} ({reason}), and this runtime may not run NVRTC (EmbeddedPolicy::Only)", arch.0, arch.1)]
    NotEmbedded {
        kernel: String,
        arch: (u32, u32),
        reason: &'static str,
    },

    /// The kernel's Rust did not transpile (the macros normally catch this
    /// at compile time; a hand-built [`KernelSource`] may not).
    ///
    /// [`KernelSource`]: ringkernel_transpiler::source::KernelSource
    #[error("kernel `{kernel}` does not transpile:\n{report}")]
    Transpile {
        kernel: String,
        /// The rendered report, with `file:line:column`.
        report: String,
        #[source]
        error: Box<pipeline::Error>,
    },

    /// NVRTC rejected the generated CUDA. `log` is NVRTC's log with
    /// positions mapped to the Rust source through the `#line` directives.
    #[error("NVRTC could not compile kernel `{kernel}`:\n{log}")]
    Compile { kernel: String, log: String },

    /// NVRTC is missing or failed for a reason other than the source.
    #[error("the CUDA toolchain failed for kernel `{kernel}`: {error}")]
    Toolchain {
        kernel: String,
        #[source]
        error: Box<CompileError>,
    },

    /// NVRTC could not be found (it is needed to compile, and to key the cache).
    #[error(transparent)]
    NvrtcMissing(#[from] LocateError),

    /// A thread of the kernel panicked (index out of bounds, division by
    /// zero, overflow with checks on, `panic!`): the first fault of the
    /// launch, at its Rust source location.
    #[error(
        "kernel `{kernel}` panicked at {location}: {}, in block ({},{},{}) thread ({},{},{})",
        fault_kind_text(*kind), block[0], block[1], block[2], thread[0], thread[1], thread[2]
    )]
    KernelFault {
        kernel: String,
        kind: FaultKind,
        location: Location,
        block: [u32; 3],
        thread: [u32; 3],
    },

    /// The grid or block cannot be launched.
    #[error("cannot launch kernel `{kernel}`: {reason}")]
    LaunchConfig {
        kernel: String,
        reason: LaunchConfigError,
    },

    /// No kernel of that name in the transpiled module.
    #[error("the transpiled module has no kernel `{kernel}`")]
    UnknownKernel { kernel: String },

    /// Wrong number of launch arguments.
    #[error("kernel `{kernel}` takes {expected} arguments, {found} given")]
    ArgumentCount {
        kernel: String,
        expected: usize,
        found: usize,
    },

    /// A launch argument does not match the kernel's parameter.
    #[error(
        "argument {index} (`{param}`) of kernel `{kernel}`: expected {expected}, found {found}"
    )]
    ArgumentMismatch {
        kernel: String,
        index: usize,
        param: String,
        expected: String,
        found: String,
    },

    /// A buffer belongs to another runtime (another device, or the CPU
    /// backend) than the one asked to use it.
    #[error("a buffer of another runtime ({buffer}) was passed to a {runtime} runtime")]
    ForeignBuffer {
        buffer: &'static str,
        runtime: &'static str,
    },

    /// Objects of different devices (or runtimes) used together.
    #[error("{what} belong to different devices")]
    DeviceMismatch { what: &'static str },

    /// Host and device data of different lengths in a copy.
    #[error("length mismatch: the buffer holds {buffer} elements, the host slice {host}")]
    LengthMismatch { buffer: usize, host: usize },

    /// The operation needs a CUDA device but the runtime is the CPU backend.
    #[error("{operation} needs a CUDA device; this runtime is the CPU backend")]
    NotCuda { operation: &'static str },

    /// The CPU backend found an error the GPU would hide (a data race, a
    /// barrier not every thread reaches, a divergent warp collective), or
    /// could not run the IR.
    #[error("kernel `{kernel}` on the CPU backend: {error}")]
    Interpreter {
        kernel: String,
        #[source]
        error: Box<InterpError>,
    },

    /// An actor operation failed: a handler fault (with its Rust location
    /// and the message's sequence number), a full inbox, a timeout, a
    /// stopped actor, types that do not match the kernel, …
    #[error(transparent)]
    Actor(#[from] crate::actor::ActorError),

    /// The device context was lost to a hard fault (an illegal address, a
    /// trap, …) in some kernel: every kernel of the context ended and every
    /// driver call fails. [`Runtime::recover`](crate::Runtime::recover)
    /// relaunches on a fresh context.
    #[error("the CUDA context is lost ({cause}); Runtime::recover relaunches on a fresh context where the driver allows it, otherwise restart the process")]
    ContextLost { cause: String },

    /// [`Runtime::recover`](crate::Runtime::recover) reset the primary
    /// context, but the driver still reports the hard fault on the fresh
    /// one (seen on the H200 with driver 580: `cuDevicePrimaryCtxRetain`
    /// returns the sticky error after the reset). Only a new process gets
    /// a usable context then.
    #[error("the CUDA context could not be recovered in this process ({cause}): restart the process to get a usable device")]
    ContextUnrecoverable { cause: String },

    /// [`Runtime::recover`](crate::Runtime::recover) was asked to reset the
    /// context while actor handles of it still live (their rings are in
    /// memory the reset frees): drop them first.
    #[error("cannot recover the CUDA context: {launches} actor launch(es) of the lost context still have live handles; drop them first")]
    ActorsAlive { launches: usize },

    /// A module load was asked for while persistent actor kernels run on
    /// the device: the driver loads a module only once the context is idle
    /// (measured on the H200: the load waits as long as an actor runs, with
    /// lazy or eager module loading alike), which a persistent kernel never
    /// lets it be, so the call would hang.
    #[error(
        "cannot load the CUDA module `{module}` while {launches} persistent actor launch(es) run on \
         this device: the driver loads a module only once the context is idle, which it never is \
         while actors run. Load it before starting actors (`Runtime::preload`, or spawn it first)"
    )]
    LoadWhileActorsRun { module: String, launches: usize },

    /// A CUDA driver call failed.
    #[error("CUDA driver call {call} failed: {}", describe_driver_error(*error))]
    Driver {
        call: &'static str,
        error: DriverError,
    },

    /// Reading or writing the module cache failed in a way that stops the
    /// operation (cache misses and unwritable cache folders do not).
    #[error("module cache {path}: {error}")]
    Cache {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
}

impl Error {
    /// A driver error with the call that returned it.
    pub(crate) fn driver(call: &'static str, error: DriverError) -> Error {
        Error::Driver { call, error }
    }

    /// The `CUresult` of a [`Error::Driver`].
    pub fn driver_code(&self) -> Option<CUresult> {
        match self {
            Error::Driver { error, .. } => Some(error.0),
            _ => None,
        }
    }
}

/// Why a launch configuration is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LaunchConfigError {
    #[error("the block has {threads} threads, more than the kernel's limit of {limit}")]
    BlockTooLarge { threads: u64, limit: u64 },
    #[error("a block dimension is zero")]
    EmptyBlock,
    #[error("grid dimension {axis} needs {blocks} blocks, more than the limit of {limit}")]
    GridTooLarge { axis: char, blocks: u64, limit: u64 },
    #[error(
        "{requested} bytes of dynamic shared memory requested, the kernel can use {available}"
    )]
    SharedMemory { requested: u64, available: u64 },
    /// The driver refused the launch for lack of resources (registers or
    /// shared memory for this block size).
    #[error("the device lacks the resources (registers, shared memory) for this block")]
    OutOfResources,
    /// A cluster launch on a device without thread-block clusters.
    #[error("thread-block clusters need compute capability 9.0 or newer; the device is {}.{}", arch.0, arch.1)]
    ClusterUnsupported { arch: (u32, u32) },
    /// A cluster dimension is zero.
    #[error("a cluster dimension is zero")]
    EmptyCluster,
    /// The grid is not a whole number of clusters along an axis.
    #[error("grid dimension {axis} ({grid} blocks) is not a multiple of the cluster's {cluster}")]
    ClusterDoesNotDivideGrid { axis: char, grid: u32, cluster: u32 },
    /// More blocks per cluster than the portable limit.
    #[error("a cluster of {blocks} blocks exceeds the portable limit of {limit}")]
    ClusterTooLarge { blocks: u64, limit: u64 },
}

/// A CUDA driver version as the driver reports it (`12040` = 12.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DriverVersion(pub i32);

impl DriverVersion {
    pub fn major(self) -> i32 {
        self.0 / 1000
    }
    pub fn minor(self) -> i32 {
        (self.0 % 1000) / 10
    }
}

impl fmt::Display for DriverVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major(), self.minor())
    }
}

fn fault_kind_text(kind: FaultKind) -> &'static str {
    match kind {
        FaultKind::IndexOutOfBounds => "index out of bounds",
        FaultKind::DivisionByZero => "attempt to divide by zero",
        FaultKind::Overflow => "arithmetic overflow",
        FaultKind::InvalidArgument => "invalid argument",
        FaultKind::Explicit => "explicit panic",
        FaultKind::Unrouted => "send on an unwired port",
        FaultKind::Undeliverable => "send to a terminated actor",
    }
}

fn describe_driver_error(error: DriverError) -> String {
    let name = error
        .error_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|_| format!("{:?}", error.0));
    match error.error_string() {
        Ok(text) => format!("{name} ({})", text.to_string_lossy()),
        Err(_) => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_versions_read_like_cuda_versions() {
        let v = DriverVersion(13000);
        assert_eq!((v.major(), v.minor()), (13, 0));
        assert_eq!(DriverVersion(12040).to_string(), "12.4");
    }

    #[test]
    fn fault_messages_read_like_rust_panics() {
        let e = Error::KernelFault {
            kernel: "saxpy".into(),
            kind: FaultKind::IndexOutOfBounds,
            location: Location {
                file: Some("src/k.rs".into()),
                line: 7,
                column: 16,
            },
            block: [1, 0, 0],
            thread: [3, 0, 0],
        };
        assert_eq!(
            e.to_string(),
            "kernel `saxpy` panicked at src/k.rs:7:16: index out of bounds, \
             in block (1,0,0) thread (3,0,0)"
        );
    }
}
