//! Runs one thread's instructions until it blocks, finishes or faults.
//!
//! A thread is a stack of byte frames plus a `(function, pc)` per frame; that
//! is its whole continuation. [`run_thread`] steps it until it reaches a
//! collective (barrier, warp operation: the scheduler in `block.rs` takes
//! over), returns from its entry function, or fails a check. Atomics run
//! immediately: threads are stepped one at a time in a fixed order, so every
//! atomic is sequentially consistent and the result deterministic.

use std::sync::OnceLock;
use std::time::Instant;

use crate::ir::{AtomicOp, BinaryOp, CheckKind, MathFunction, Scalar};
use crate::span::Span;

use super::cx::{write_ref, Cx, Ids, Trap, FIRST_BUFFER};
use super::error::{Access, DataRace, InterpError, RaceSpace, ThreadRef};
use super::expr::Val;
use super::math::{math, MathImpl};
use super::ops::binary;
use super::ports::{K2kPorts, Undelivered};
use super::program::Program;
use super::race::Race;
use super::stmt::{CallArg, Instr};
use super::value::{loader, storer};

/// Deepest call nesting before a thread is stopped.
pub(crate) const MAX_DEPTH: usize = 256;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    pub func: usize,
    pub pc: usize,
    pub base: usize,
    /// Absolute stack offset of the caller's result local.
    pub ret: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum TState {
    #[default]
    Ready,
    /// Parked at the collective its top frame's pc points to.
    Waiting,
    Done,
    Faulted,
}

#[derive(Debug, Default)]
pub(crate) struct Thread {
    pub stack: Vec<u8>,
    pub frames: Vec<Frame>,
    pub ids: Ids,
    pub state: TState,
    /// The arguments a waiting thread brought to its collective.
    pub pending: [u64; 3],
    /// Where the thread returned from its entry function.
    pub end_span: Span,
    pub keep_return: bool,
    pub ret: Option<Vec<u8>>,
    /// The messages this thread sent (only the leader's are kept).
    pub sends: Vec<super::Sent>,
    /// The leader's message while it waits at a `ctx.try_send`.
    pub message: Vec<u8>,
    scratch: Vec<u8>,
}

/// Memory of the running block: shared arrays, the launch's buffers, and
/// the race detector over both.
#[derive(Debug, Default)]
pub(crate) struct BlockMem {
    pub shared: Vec<u8>,
    pub buffers: Vec<Vec<u8>>,
    pub race: Race,
    pub block: [u32; 3],
    pub block_dim: [u32; 3],
    /// The entry function, for naming parameters in race reports.
    pub entry: usize,
}

pub(crate) enum Stop {
    Waiting,
    Done,
    Fault(CheckKind, Span),
}

/// The fault of a send the destination refused.
pub(crate) fn refused_kind(refused: Undelivered) -> CheckKind {
    match refused {
        Undelivered::Unrouted => CheckKind::Unrouted,
        Undelivered::Closed => CheckKind::Undeliverable,
    }
}

/// The record of a message sent on `port` by the send at `span`.
pub(crate) fn sent(port: u32, bytes: Vec<u8>, span: Span) -> super::Sent {
    super::Sent {
        port,
        bytes,
        line: span.start.line,
        column: span.start.column + 1,
    }
}

fn clock_ns() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// The 3-D coordinates of linear thread `tid` in a block of `dim`.
pub(crate) fn thread_xyz(tid: u32, dim: [u32; 3]) -> [u32; 3] {
    [
        tid % dim[0],
        (tid / dim[0]) % dim[1],
        tid / (dim[0] * dim[1]),
    ]
}

fn trap_error(prog: &Program, trap: Trap, ids: &Ids, span: Span, mem: &BlockMem) -> InterpError {
    let thread = ThreadRef {
        block: ids.block,
        thread: ids.thread,
    };
    match trap {
        Trap::StackOverflow => InterpError::StackOverflow {
            thread,
            location: prog.location(span),
            limit: MAX_DEPTH,
        },
        Trap::Unchecked(what) => InterpError::Unchecked {
            thread,
            location: prog.location(span),
            what,
        },
        Trap::Race(hit) => {
            let (space, offset) = if hit.region < FIRST_BUFFER {
                let arr = prog
                    .shared_arrays
                    .iter()
                    .find(|(s, e, _)| (*s..*e).contains(&hit.offset));
                (
                    RaceSpace::Shared {
                        array: arr.and_then(|a| a.2.clone()),
                    },
                    hit.offset - arr.map_or(0, |a| a.0),
                )
            } else {
                let index = (hit.region - FIRST_BUFFER) as usize;
                let name = prog.funcs[mem.entry]
                    .param_names
                    .get(index)
                    .cloned()
                    .flatten();
                (RaceSpace::Param { index, name }, hit.offset)
            };
            let access = |(kind, tid, span): (_, u32, Span)| Access {
                kind,
                thread: thread_xyz(tid, mem.block_dim),
                location: prog.location(span),
            };
            InterpError::DataRace(Box::new(DataRace {
                block: mem.block,
                space,
                offset: offset as u64,
                first: access(hit.first),
                second: access(hit.second),
            }))
        }
    }
}

fn atomic(op: AtomicOp, s: Scalar, old: u64, x: u64, new: Option<u64>) -> u64 {
    let bin = |b: BinaryOp| binary(b, s).and_then(|f| f(old, x)).unwrap_or(old);
    let m = |f: MathFunction| match math(f, s) {
        Some(MathImpl::Bin(f)) => f(old, x),
        _ => old,
    };
    match op {
        AtomicOp::Add => bin(BinaryOp::Add),
        AtomicOp::Sub => bin(BinaryOp::Sub),
        AtomicOp::And => bin(BinaryOp::BitAnd),
        AtomicOp::Or => bin(BinaryOp::BitOr),
        AtomicOp::Xor => bin(BinaryOp::BitXor),
        AtomicOp::Min => m(MathFunction::Min),
        AtomicOp::Max => m(MathFunction::Max),
        AtomicOp::Exchange => x,
        AtomicOp::CompareExchange => {
            if old == x {
                new.unwrap_or(old)
            } else {
                old
            }
        }
    }
}

/// Steps `th` until it blocks at a collective, finishes or faults.
pub(crate) fn run_thread(
    prog: &Program,
    th: &mut Thread,
    mem: &mut BlockMem,
    ports: &mut dyn K2kPorts,
) -> Result<Stop, InterpError> {
    let Thread {
        stack,
        frames,
        ids,
        pending,
        end_span,
        keep_return,
        ret,
        sends,
        message,
        scratch,
        ..
    } = th;
    let ids = &*ids;
    let BlockMem {
        shared,
        buffers,
        race,
        ..
    } = mem;
    let mut cx = Cx {
        stack,
        base: frames.last().map_or(0, |f| f.base),
        shared,
        buffers,
        ids,
        span: Span::UNKNOWN,
        race,
    };
    let result = (|| -> Result<Stop, (Box<Trap>, Span)> {
        macro_rules! t {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(trap) => return Err((trap, cx.span)),
                }
            };
        }
        loop {
            let depth = frames.len();
            let Some(frame) = frames.last_mut() else {
                return Ok(Stop::Done);
            };
            let func = &prog.funcs[frame.func];
            let pc = frame.pc;
            cx.span = func.spans[pc];
            match &func.code[pc] {
                Instr::Nop => frame.pc += 1,
                Instr::StoreLocal {
                    off,
                    size,
                    st,
                    value,
                } => {
                    let v = t!(value(&mut cx));
                    st(cx.local_mut(*off, *size), v);
                    frame.pc += 1;
                }
                Instr::Store {
                    place,
                    size,
                    st,
                    value,
                } => {
                    let v = t!(value(&mut cx));
                    let a = t!(place(&mut cx));
                    st(t!(cx.write(a, *size)), v);
                    frame.pc += 1;
                }
                Instr::StoreBytes { place, size, value } => {
                    scratch.clear();
                    t!(value(&mut cx, scratch));
                    let a = t!(place(&mut cx));
                    let n = scratch.len().min(*size);
                    t!(cx.write(a, *size))[..n].copy_from_slice(&scratch[..n]);
                    frame.pc += 1;
                }
                Instr::Branch { cond, else_pc } => {
                    frame.pc = if t!(cond(&mut cx)) != 0 {
                        pc + 1
                    } else {
                        *else_pc
                    };
                }
                Instr::Jump(to) => frame.pc = *to,
                Instr::Check { kind, cond } => {
                    if t!(cond(&mut cx)) == 0 {
                        return Ok(Stop::Fault(*kind, cx.span));
                    }
                    frame.pc += 1;
                }
                Instr::Fault(kind) => return Ok(Stop::Fault(*kind, cx.span)),
                Instr::Call {
                    func: callee,
                    args,
                    result,
                } => {
                    if depth >= MAX_DEPTH {
                        return Err((Box::new(Trap::StackOverflow), cx.span));
                    }
                    let callee_f = &prog.funcs[*callee];
                    let new_base = (cx.base + func.frame_size).div_ceil(16) * 16;
                    let top = new_base + callee_f.frame_size;
                    if cx.stack.len() < top {
                        cx.stack.resize(top, 0);
                    }
                    cx.stack[new_base..top].fill(0);
                    for arg in args {
                        match arg {
                            CallArg::Value {
                                off,
                                val: Val::Scalar(s, f),
                            } => {
                                let v = t!(f(&mut cx));
                                let at = new_base + off;
                                storer(*s)(&mut cx.stack[at..at + s.size() as usize], v);
                            }
                            CallArg::Value {
                                off,
                                val: Val::Bytes(size, f),
                            } => {
                                scratch.clear();
                                t!(f(&mut cx, scratch));
                                let at = new_base + off;
                                let n = scratch.len().min(*size);
                                cx.stack[at..at + n].copy_from_slice(&scratch[..n]);
                            }
                            CallArg::Borrow { off, place } => {
                                let a = t!(place(&mut cx));
                                let at = new_base + off;
                                write_ref(&mut cx.stack[at..at + 16], a);
                            }
                        }
                    }
                    frame.pc += 1;
                    let ret = result.map(|o| cx.base + o);
                    frames.push(Frame {
                        func: *callee,
                        pc: 0,
                        base: new_base,
                        ret,
                    });
                    cx.base = new_base;
                }
                Instr::Return(value) => {
                    scratch.clear();
                    if let Some(r) = value {
                        match &r.val {
                            Val::Scalar(s, f) => {
                                let v = t!(f(&mut cx));
                                scratch.resize(s.size() as usize, 0);
                                if let Some(st) = r.store {
                                    st(scratch, v);
                                }
                            }
                            Val::Bytes(_, f) => t!(f(&mut cx, scratch)),
                        }
                    }
                    let done = frames.pop().expect("a frame is running");
                    match frames.last() {
                        Some(caller) => {
                            cx.base = caller.base;
                            if let Some(at) = done.ret {
                                let n = scratch.len();
                                cx.stack[at..at + n].copy_from_slice(scratch);
                            }
                        }
                        None => {
                            *end_span = cx.span;
                            if *keep_return && value.is_some() {
                                *ret = Some(scratch.clone());
                            }
                            return Ok(Stop::Done);
                        }
                    }
                }
                Instr::Atomic {
                    op,
                    scalar,
                    place,
                    operand,
                    new,
                    result,
                } => {
                    let a = t!(place(&mut cx));
                    let x = t!(operand(&mut cx));
                    let n = match new {
                        Some(f) => Some(t!(f(&mut cx))),
                        None => None,
                    };
                    let size = scalar.size() as usize;
                    let bytes = t!(cx.raw(a, size));
                    let old = loader(*scalar)(bytes);
                    storer(*scalar)(bytes, atomic(*op, *scalar, old, x, n));
                    if let Some(o) = result {
                        storer(*scalar)(cx.local_mut(*o, size), old);
                    }
                    frame.pc += 1;
                }
                Instr::Send { port, value } => {
                    // Only the leader (thread 0) sends, as on the device,
                    // and at the call: it waits here while the destination
                    // is full, and a refusal faults here.
                    if ids.thread_linear == 0 {
                        let mut bytes = Vec::new();
                        t!(value(&mut cx, &mut bytes));
                        if let Err(refused) = ports.send(*port, &bytes) {
                            return Ok(Stop::Fault(refused_kind(refused), cx.span));
                        }
                        sends.push(sent(*port, bytes, cx.span));
                    }
                    frame.pc += 1;
                }
                Instr::TrySend { value, .. } => {
                    // The attempt is the block's (block.rs), once every
                    // thread is here; the leader brings the message.
                    if ids.thread_linear == 0 {
                        message.clear();
                        t!(value(&mut cx, message));
                    }
                    return Ok(Stop::Waiting);
                }
                Instr::Clock { result } => {
                    if let Some(o) = result {
                        cx.local_mut(*o, 8)
                            .copy_from_slice(&clock_ns().to_le_bytes());
                    }
                    frame.pc += 1;
                }
                Instr::Collective { args, .. } => {
                    for (slot, f) in pending.iter_mut().zip(args) {
                        *slot = t!(f(&mut cx));
                    }
                    return Ok(Stop::Waiting);
                }
            }
        }
    })();
    match result {
        Ok(stop) => Ok(stop),
        Err((trap, span)) => Err(trap_error(prog, *trap, ids, span, mem)),
    }
}
