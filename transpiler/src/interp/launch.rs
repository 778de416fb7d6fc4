//! Launching a compiled function over a grid: argument binding, blocks one
//! after another, and the report.
//!
//! Arguments are bound once into a frame image that every thread's entry
//! frame starts from. Buffers are moved out of the caller's [`Arg`]s for the
//! run (no copy of a million-element slice) and moved back afterwards,
//! whatever the outcome.

use crate::ir::Scalar;

use super::block::{run_block, Faults};
use super::cx::{write_ref, write_slice, ActorEnv, Addr, Ids, FIRST_BUFFER};
use super::error::{scalar_name, Fault, InterpError};
use super::layout::Ty;
use super::machine::{BlockMem, Frame, TState, Thread};
use super::ports::{K2kPorts, Unbounded};
use super::program::Program;
use super::value::{storer, Arg, Value};

/// A launch shape: blocks in the grid and threads in a block, as
/// `(x, y, z)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Launch {
    pub grid: [u32; 3],
    pub block: [u32; 3],
    /// What `RingContext` intrinsics (`actor_id`, `now`) read when the
    /// function is a handler.
    pub actor: ActorEnv,
}

impl Launch {
    /// A 1-D launch of `blocks` blocks of `threads` threads.
    pub fn d1(blocks: u32, threads: u32) -> Launch {
        Launch {
            grid: [blocks, 1, 1],
            block: [threads, 1, 1],
            actor: ActorEnv::default(),
        }
    }

    /// Enough 1-D blocks of `threads` to cover `n` elements.
    pub fn for_elements(n: u64, threads: u32) -> Launch {
        let blocks = n.div_ceil(u64::from(threads.max(1))).max(1);
        Launch::d1(u32::try_from(blocks).unwrap_or(u32::MAX), threads)
    }

    /// One block of `threads` (a handler run by an actor's block).
    pub fn block(threads: [u32; 3]) -> Launch {
        Launch {
            grid: [1, 1, 1],
            block: threads,
            actor: ActorEnv::default(),
        }
    }

    /// The same launch as a handler run for the actor `env` describes.
    pub fn with_actor(self, env: ActorEnv) -> Launch {
        Launch { actor: env, ..self }
    }
}

/// What a completed launch reports.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchReport {
    /// The first soft fault (in block order, then execution order).
    pub fault: Option<Fault>,
    /// How many threads faulted in all.
    pub faulted_threads: u64,
    /// The bytes (in layout) returned by thread 0 of block 0, the leader,
    /// if the function returns a value and the leader returned normally.
    pub return_value: Option<Vec<u8>>,
    /// The function's result type when it is a scalar.
    pub return_scalar: Option<Scalar>,
    /// The messages the leader sent with `ctx.send` and `ctx.try_send`
    /// (those the destination took), in order (block 0).
    pub sends: Vec<Sent>,
}

/// What a grid run leaves: its faults, the leader's return value and sends.
type GridOutcome = (Faults, Option<Vec<u8>>, Vec<Sent>);

/// A message a handler's leader sent (`ctx.send`, or a `ctx.try_send` that
/// returned `true`), as the [`K2kPorts`] took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub port: u32,
    /// The message in its host layout.
    pub bytes: Vec<u8>,
    /// Where the `ctx.send` is (1-based line and column; 0 when unknown).
    pub line: u32,
    pub column: u32,
}

impl LaunchReport {
    /// The leader's return value as a scalar.
    pub fn return_value(&self) -> Option<Value> {
        Value::from_le_bytes(self.return_scalar?, self.return_value.as_deref()?)
    }
}

fn mismatch(
    prog: &Program,
    f: usize,
    index: usize,
    expected: String,
    found: String,
) -> InterpError {
    InterpError::ArgumentMismatch {
        function: prog.funcs[f].name.clone(),
        index,
        expected,
        found,
    }
}

fn describe(arg: &Arg) -> String {
    match arg {
        Arg::Value(v) => scalar_name(v.scalar()),
        Arg::Buffer(b) => format!("a buffer of {} bytes", b.bytes.len()),
    }
}

impl Program {
    /// Runs function `f` over `launch` with `args`; buffers are written back
    /// into `args`.
    pub(crate) fn launch(
        &self,
        f: usize,
        launch: Launch,
        args: &mut [Arg],
    ) -> Result<LaunchReport, InterpError> {
        let mut ports = Unbounded {
            routed: launch.actor.routed,
        };
        self.launch_with(f, launch, args, &mut ports)
    }

    /// `launch` with the sends going to `ports`.
    pub(crate) fn launch_with(
        &self,
        f: usize,
        launch: Launch,
        args: &mut [Arg],
        ports: &mut dyn K2kPorts,
    ) -> Result<LaunchReport, InterpError> {
        let threads: u64 = launch.block.iter().map(|&d| u64::from(d)).product();
        if launch.block.contains(&0) || launch.grid.contains(&0) {
            return Err(InterpError::InvalidLaunch {
                reason: "a grid or block dimension is zero",
            });
        }
        if threads > 1024 {
            return Err(InterpError::InvalidLaunch {
                reason: "more than 1024 threads per block",
            });
        }
        let func = &self.funcs[f];
        if func.params.len() != args.len() {
            return Err(InterpError::ArgumentCount {
                function: func.name.clone(),
                expected: func.params.len(),
                found: args.len(),
            });
        }

        let mut mem = BlockMem {
            shared: vec![0; self.shared_size],
            block_dim: launch.block,
            entry: f,
            ..BlockMem::default()
        };
        mem.race.track(super::cx::SHARED, self.shared_size);
        let mut image = vec![0u8; func.frame_size];
        if let Err(e) = self.bind(f, args, &mut mem, &mut image) {
            restore(args, &mut mem.buffers);
            return Err(e);
        }
        let result = self.run_grid(f, launch, &image, &mut mem, ports);
        restore(args, &mut mem.buffers);
        let (faults, ret, sends) = result?;
        Ok(LaunchReport {
            fault: faults.first,
            faulted_threads: faults.count,
            return_value: ret,
            return_scalar: match func.result {
                Ty::Scalar(s) => Some(s),
                _ => None,
            },
            sends,
        })
    }

    /// Binds `args` into the entry frame `image`, moving buffers into `mem`.
    fn bind(
        &self,
        f: usize,
        args: &mut [Arg],
        mem: &mut BlockMem,
        image: &mut [u8],
    ) -> Result<(), InterpError> {
        let func = &self.funcs[f];
        for (i, (((off, ty), info), arg)) in func
            .params
            .iter()
            .zip(&func.param_info)
            .zip(args.iter_mut())
            .enumerate()
        {
            let region = FIRST_BUFFER + i as u32;
            let at = *off;
            match (ty, arg) {
                (Ty::Scalar(s), Arg::Value(v)) if v.scalar() == *s => {
                    storer(*s)(&mut image[at..at + s.size() as usize], v.to_bits());
                    mem.buffers.push(Vec::new());
                }
                (Ty::Slice { .. }, Arg::Buffer(b)) => {
                    let elem = info.size.max(1);
                    let tag_ok = match (b.elem, info.scalar) {
                        (Some(bs), Some(ps)) => bs == ps,
                        _ => true,
                    };
                    if b.bytes.len() % elem != 0 || !tag_ok {
                        let want = info
                            .scalar
                            .map_or(format!("{elem}-byte elements"), scalar_name);
                        let found = describe(&Arg::Buffer(b.clone()));
                        return Err(mismatch(self, f, i, format!("a slice of {want}"), found));
                    }
                    let len = (b.bytes.len() / elem) as u64;
                    write_slice(&mut image[at..at + 24], Addr { region, off: 0 }, len);
                    mem.buffers.push(std::mem::take(&mut b.bytes));
                }
                (Ty::Ref { .. }, Arg::Buffer(b)) if b.bytes.len() == info.size => {
                    write_ref(&mut image[at..at + 16], Addr { region, off: 0 });
                    mem.race.track(region, info.size);
                    mem.buffers.push(std::mem::take(&mut b.bytes));
                }
                (Ty::Agg(_), Arg::Buffer(b)) if b.bytes.len() == info.size => {
                    image[at..at + info.size].copy_from_slice(&b.bytes);
                    mem.buffers.push(Vec::new());
                }
                (ty, arg) => {
                    let want = match ty {
                        Ty::Scalar(s) => scalar_name(*s),
                        _ => format!("a buffer of {} bytes", info.size),
                    };
                    let found = describe(arg);
                    return Err(mismatch(self, f, i, want, found));
                }
            }
        }

        Ok(())
    }

    fn run_grid(
        &self,
        f: usize,
        launch: Launch,
        image: &[u8],
        mem: &mut BlockMem,
        ports: &mut dyn K2kPorts,
    ) -> Result<GridOutcome, InterpError> {
        let [bx, by, bz] = launch.block;
        let n = (bx * by * bz) as usize;
        let mut threads: Vec<Thread> = (0..n).map(|_| Thread::default()).collect();
        let mut faults = Faults::default();
        let mut ret = None;
        let mut sends = Vec::new();
        for z in 0..launch.grid[2] {
            for y in 0..launch.grid[1] {
                for x in 0..launch.grid[0] {
                    let block = [x, y, z];
                    mem.block = block;
                    mem.shared.fill(0);
                    mem.race.new_block(n.div_ceil(32));
                    for (tid, th) in threads.iter_mut().enumerate() {
                        let tid = tid as u32;
                        let thread = [tid % bx, (tid / bx) % by, tid / (bx * by)];
                        th.ids = Ids::new(block, thread, launch.block, launch.grid);
                        th.ids.actor = launch.actor;
                        th.stack.clear();
                        th.stack.extend_from_slice(image);
                        th.frames.clear();
                        th.frames.push(Frame {
                            func: f,
                            pc: 0,
                            base: 0,
                            ret: None,
                        });
                        th.state = TState::Ready;
                        th.keep_return = tid == 0 && block == [0, 0, 0];
                        th.ret = None;
                        th.sends.clear();
                        th.message.clear();
                    }
                    run_block(self, &mut threads, mem, &mut faults, ports)?;
                    if block == [0, 0, 0] {
                        ret = threads[0].ret.take();
                        sends = std::mem::take(&mut threads[0].sends);
                    }
                }
            }
        }
        Ok((faults, ret, sends))
    }
}

/// Moves buffers taken for the run back into the caller's arguments.
fn restore(args: &mut [Arg], buffers: &mut [Vec<u8>]) {
    for (arg, buf) in args.iter_mut().zip(buffers.iter_mut()) {
        if let Arg::Buffer(b) = arg {
            if b.bytes.is_empty() && !buf.is_empty() {
                b.bytes = std::mem::take(buf);
            }
        }
    }
}
