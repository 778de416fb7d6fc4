//! Kernel launches on the CPU backend: the IR interpreter runs the
//! transpiled kernel over host buffers, with the GPU's semantics and the
//! same errors (faults with their Rust location) as a CUDA launch.

use ringkernel_transpiler::back::cuda::abi::FaultKind;
use ringkernel_transpiler::interp::{Arg, Buffer, Launch, Program, Value};

use crate::buffer::Storage;
use crate::error::{Error, Result};
use crate::kernel::Prepared;
use crate::launch::{ArgKind, KernelArg};

fn foreign() -> Error {
    Error::ForeignBuffer {
        buffer: "CUDA",
        runtime: "CPU",
    }
}

/// Runs kernel `name` of `prepared` over `grid` blocks of `block` threads.
pub(crate) fn launch(
    prepared: &Prepared,
    name: &str,
    grid: [u32; 3],
    block: [u32; 3],
    args: &mut [KernelArg],
) -> Result<()> {
    let program = program(prepared, name)?;
    // Build the interpreter's arguments. Mutable buffers are moved in (no
    // copy) and moved back below; shared ones are copied, since the same
    // buffer may be passed twice.
    let mut interp_args = Vec::with_capacity(args.len());
    for arg in args.iter_mut() {
        interp_args.push(match &mut arg.0 {
            ArgKind::Scalar { scalar, bytes } => {
                Arg::Value(Value::from_le_bytes(*scalar, bytes).expect("8 bytes hold every scalar"))
            }
            ArgKind::Value { bytes, .. } => Arg::Buffer(Buffer::from_bytes(bytes.clone())),
            ArgKind::Slice { storage, .. } => match storage {
                Storage::Host(bytes) => Arg::Buffer(Buffer::from_bytes(bytes.clone())),
                Storage::Cuda(_) => return Err(foreign()),
            },
            ArgKind::SliceMut { storage, .. } => match storage {
                Storage::Host(bytes) => Arg::Buffer(Buffer::from_bytes(std::mem::take(bytes))),
                Storage::Cuda(_) => return Err(foreign()),
            },
        });
    }
    let result = program.run_kernel(
        name,
        Launch {
            grid,
            block,
            actor: Default::default(),
        },
        &mut interp_args,
    );
    // Give the mutable buffers back, whatever happened.
    for (arg, interp) in args.iter_mut().zip(interp_args) {
        if let (
            ArgKind::SliceMut {
                storage: Storage::Host(bytes),
                ..
            },
            Arg::Buffer(buffer),
        ) = (&mut arg.0, interp)
        {
            *bytes = buffer.into_bytes();
        }
    }
    let report = result.map_err(|error| Error::Interpreter {
        kernel: name.to_string(),
        error: Box::new(error),
    })?;
    match report.fault {
        None => Ok(()),
        Some(fault) => Err(Error::KernelFault {
            kernel: name.to_string(),
            kind: FaultKind::from(fault.kind),
            location: fault.location,
            block: fault.thread.block,
            thread: fault.thread.thread,
        }),
    }
}

/// The interpreter's program for `prepared`, compiled on first use.
pub(crate) fn program<'a>(prepared: &'a Prepared, name: &str) -> Result<&'a Program> {
    if let Some(program) = prepared.program.get() {
        return Ok(program);
    }
    let program =
        Program::compile(&prepared.transpiled.module).map_err(|error| Error::Interpreter {
            kernel: name.to_string(),
            error: Box::new(error),
        })?;
    // Another thread may have won the race with an identical program.
    let _ = prepared.program.set(program);
    Ok(prepared.program.get().expect("just set"))
}
