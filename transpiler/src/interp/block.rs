//! The SIMT scheduler of one thread block.
//!
//! Threads run one at a time, in linear-id order, each until it parks at a
//! collective, finishes or faults. Then, per warp, lanes parked at one warp
//! collective complete it together (in lockstep: every lane's argument is
//! known before any result is written); when no warp can progress, the block
//! barrier completes if every live thread waits at the same one. Anything
//! else is an error the GPU would hide: a barrier some threads never reach
//! (they returned or wait elsewhere), or a warp collective some lanes of the
//! warp never reach (they returned, or wait at another collective). Lanes
//! past the end of a partial last warp do not exist and take no part (the
//! CUDA back end rejects collectives in such blocks; the interpreter gives
//! them the semantics documented in `collective.rs`). Faulted threads count as absent, as a trapped thread would
//! after the device's soft-fault handler stops it.

use crate::ir::{CheckKind, Scalar};
use crate::span::Span;

use super::collective::{butterfly, fold_partials, reducer, shuffle_source, Combine};
use super::error::{BarrierParty, DivergentBarrier, DivergentWarp, Fault, InterpError, ThreadRef};
use super::machine::{refused_kind, run_thread, sent, BlockMem, Stop, TState, Thread};
use super::ports::K2kPorts;
use super::program::Program;
use super::stmt::{Coll, Instr};
use super::value::storer;

/// The first fault of a launch, and how many threads faulted.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pub first: Option<Fault>,
    pub count: u64,
}

impl Faults {
    /// `th` faulted with `kind` at `span`.
    fn record(&mut self, prog: &Program, th: &Thread, kind: CheckKind, span: Span) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(Fault {
                kind,
                location: prog.location(span),
                thread: ThreadRef {
                    block: th.ids.block,
                    thread: th.ids.thread,
                },
            });
        }
    }
}

/// The collective `th` is parked at: its op, argument types and result slot.
fn parked(prog: &Program, th: &Thread) -> (usize, usize, Coll) {
    let f = th.frames.last().expect("a parked thread has a frame");
    match &prog.funcs[f.func].code[f.pc] {
        Instr::Collective { op, .. } => (f.func, f.pc, *op),
        Instr::TrySend { port, .. } => (f.func, f.pc, Coll::TrySend(*port)),
        _ => unreachable!("a waiting thread's pc is at a collective"),
    }
}

fn party(prog: &Program, th: &Thread) -> BarrierParty {
    match th.state {
        TState::Done => BarrierParty::Finished(prog.location(th.end_span)),
        _ => {
            let f = th.frames.last().expect("a parked thread has a frame");
            BarrierParty::Waiting(prog.location(prog.funcs[f.func].spans[f.pc]))
        }
    }
}

/// Writes a collective's result into the thread's result local and resumes it.
fn resume(prog: &Program, th: &mut Thread, value: u64) {
    let f = *th.frames.last().expect("a parked thread has a frame");
    match &prog.funcs[f.func].code[f.pc] {
        Instr::Collective {
            result: Some((off, s)),
            ..
        } => {
            let at = f.base + off;
            storer(*s)(&mut th.stack[at..at + s.size() as usize], value);
        }
        Instr::TrySend {
            result: Some(off), ..
        } => th.stack[f.base + off] = u8::from(value != 0),
        _ => {}
    }
    th.frames.last_mut().expect("checked above").pc += 1;
    th.state = TState::Ready;
}

fn arg_scalar(prog: &Program, th: &Thread, i: usize) -> Scalar {
    let f = th.frames.last().expect("a parked thread has a frame");
    match &prog.funcs[f.func].code[f.pc] {
        Instr::Collective { arg_scalars, .. } => arg_scalars[i],
        _ => unreachable!("a waiting thread's pc is at a collective"),
    }
}

fn signed_value(v: u64, s: Scalar) -> i128 {
    match s {
        Scalar::Int(k) if k.signed() => i128::from(v as i64),
        _ => i128::from(v),
    }
}

/// Runs the block's threads to completion.
pub(crate) fn run_block(
    prog: &Program,
    threads: &mut [Thread],
    mem: &mut BlockMem,
    faults: &mut Faults,
    ports: &mut dyn K2kPorts,
) -> Result<(), InterpError> {
    let n = threads.len();
    loop {
        for th in threads.iter_mut() {
            if th.state != TState::Ready {
                continue;
            }
            th.state = match run_thread(prog, th, mem, ports)? {
                Stop::Waiting => TState::Waiting,
                Stop::Done => TState::Done,
                Stop::Fault(kind, span) => {
                    faults.record(prog, th, kind, span);
                    TState::Faulted
                }
            };
        }

        let mut progressed = false;
        for warp in 0..n.div_ceil(32) {
            let lanes = warp * 32..(warp * 32 + 32).min(n);
            let mut site: Option<(usize, usize, usize, Coll)> = None;
            let mut at_barrier = None;
            for l in lanes.clone() {
                if threads[l].state != TState::Waiting {
                    continue;
                }
                let (f, pc, op) = parked(prog, &threads[l]);
                if op.block_level() {
                    at_barrier.get_or_insert(l);
                    continue;
                }
                match site {
                    None => site = Some((l, f, pc, op)),
                    Some((first, sf, spc, _)) if (sf, spc) != (f, pc) => {
                        return Err(divergent_warp(prog, threads, mem, warp, first, l))
                    }
                    Some(_) => {}
                }
            }
            let Some((first, f, pc, op)) = site else {
                continue;
            };
            // Every lane must take part (the back end uses full-mask
            // intrinsics): one waiting at a block barrier, or one that
            // already returned, makes the collective divergent.
            let finished = lanes.clone().find(|&l| threads[l].state == TState::Done);
            if let Some(b) = at_barrier.or(finished) {
                return Err(divergent_warp(prog, threads, mem, warp, first, b));
            }
            let lanes: Vec<usize> = lanes
                .filter(|&l| {
                    threads[l].state == TState::Waiting && {
                        let (lf, lpc, _) = parked(prog, &threads[l]);
                        (lf, lpc) == (f, pc)
                    }
                })
                .collect();
            warp_collective(prog, threads, mem, warp, &lanes, op)?;
            progressed = true;
        }
        if progressed {
            continue;
        }

        let Some(first) = threads.iter().position(|t| t.state == TState::Waiting) else {
            return Ok(());
        };
        let (f, pc, op) = parked(prog, &threads[first]);
        let other = threads
            .iter()
            .position(|t| t.state == TState::Done)
            .or_else(|| {
                threads.iter().position(|t| {
                    t.state == TState::Waiting && {
                        let (of, opc, _) = parked(prog, t);
                        (of, opc) != (f, pc)
                    }
                })
            });
        if let Some(o) = other {
            return Err(InterpError::DivergentBarrier(Box::new(DivergentBarrier {
                block: mem.block,
                first_thread: threads[first].ids.thread,
                first: party(prog, &threads[first]),
                second_thread: threads[o].ids.thread,
                second: party(prog, &threads[o]),
            })));
        }
        block_collective(prog, threads, mem, op, faults, ports)?;
    }
}

fn divergent_warp(
    prog: &Program,
    threads: &[Thread],
    mem: &BlockMem,
    warp: usize,
    a: usize,
    b: usize,
) -> InterpError {
    InterpError::DivergentWarp(Box::new(DivergentWarp {
        block: mem.block,
        warp: warp as u32,
        first_lane: (a % 32) as u32,
        first: party(prog, &threads[a]),
        second_lane: (b % 32) as u32,
        second: party(prog, &threads[b]),
    }))
}

fn reduce_error(prog: &Program, th: &Thread, s: Scalar) -> InterpError {
    let f = th.frames.last().expect("a parked thread has a frame");
    InterpError::Unsupported {
        function: prog.funcs[f.func].name.clone(),
        location: prog.location(prog.funcs[f.func].spans[f.pc]),
        what: format!("reduction over {}", s.rust_name()),
    }
}

/// Completes a warp collective for the parked `lanes` (thread indices).
fn warp_collective(
    prog: &Program,
    threads: &mut [Thread],
    mem: &mut BlockMem,
    warp: usize,
    lanes: &[usize],
    op: Coll,
) -> Result<(), InterpError> {
    let base = warp * 32;
    let mut present = [false; 32];
    let mut value = [0u64; 32];
    let mut arg = [0u64; 32];
    for &t in lanes {
        present[t - base] = true;
        value[t - base] = threads[t].pending[0];
        arg[t - base] = threads[t].pending[1];
    }
    let mut out = value;
    match op {
        Coll::SyncWarp => mem.race.sync_warp(warp as u32),
        Coll::Shuffle(mode) => {
            let s = arg_scalar(prog, &threads[lanes[0]], 1);
            for &t in lanes {
                let lane = (t - base) as u32;
                let src = shuffle_source(mode, lane, signed_value(arg[t - base], s));
                if let Some(src) = src.filter(|&s| present[s as usize]) {
                    out[t - base] = value[src as usize];
                }
            }
        }
        Coll::Ballot => {
            let mask = (0..32)
                .filter(|&l| present[l] && value[l] != 0)
                .fold(0u64, |m, l| m | 1 << l);
            out = [mask; 32];
        }
        Coll::All => {
            let all = (0..32).all(|l| !present[l] || value[l] != 0);
            out = [u64::from(all); 32];
        }
        Coll::Any => {
            let any = (0..32).any(|l| present[l] && value[l] != 0);
            out = [u64::from(any); 32];
        }
        Coll::WarpReduce(r) => {
            let s = arg_scalar(prog, &threads[lanes[0]], 0);
            let Some((f, identity)) = reducer(r, s) else {
                return Err(reduce_error(prog, &threads[lanes[0]], s));
            };
            for l in 0..32 {
                if !present[l] {
                    out[l] = identity;
                }
            }
            butterfly(&mut out, f);
        }
        Coll::SyncThreads | Coll::BlockReduce(_) | Coll::TrySend(_) => {
            unreachable!("block-level collective")
        }
    }
    for &t in lanes {
        resume(prog, &mut threads[t], out[t - base]);
    }
    Ok(())
}

/// Completes a barrier, block reduction or `try_send` every live thread is
/// parked at.
fn block_collective(
    prog: &Program,
    threads: &mut [Thread],
    mem: &mut BlockMem,
    op: Coll,
    faults: &mut Faults,
    ports: &mut dyn K2kPorts,
) -> Result<(), InterpError> {
    let mut result = 0;
    if let Coll::TrySend(port) = op {
        result = try_send(prog, threads, port, faults, ports);
    }
    if let Coll::BlockReduce(r) = op {
        let first = threads
            .iter()
            .position(|t| t.state == TState::Waiting)
            .expect("a thread is parked");
        let s = arg_scalar(prog, &threads[first], 0);
        let Some((f, identity)) = reducer(r, s) else {
            return Err(reduce_error(prog, &threads[first], s));
        };
        result = block_reduce(threads, f, identity);
    }
    mem.race.barrier();
    for th in threads.iter_mut().filter(|t| t.state == TState::Waiting) {
        resume(prog, th, result);
    }
    Ok(())
}

/// The leader's `try_send` attempt on `port` (as `rk_actor_try_send`):
/// 1 when the destination took the message, 0 when its inbox was full or
/// the leader is absent (it faulted earlier). When the attempt faults, the
/// leader records the fault and every thread parked here stops with it.
fn try_send(
    prog: &Program,
    threads: &mut [Thread],
    port: u32,
    faults: &mut Faults,
    ports: &mut dyn K2kPorts,
) -> u64 {
    let Some(leader) = threads.first_mut().filter(|t| t.state == TState::Waiting) else {
        return 0;
    };
    let f = *leader.frames.last().expect("a parked thread has a frame");
    let span = prog.funcs[f.func].spans[f.pc];
    let message = std::mem::take(&mut leader.message);
    match ports.try_send(port, &message) {
        Ok(true) => {
            leader.sends.push(sent(port, message, span));
            1
        }
        Ok(false) => 0,
        Err(refused) => {
            faults.record(prog, leader, refused_kind(refused), span);
            leader.state = TState::Faulted;
            // Every thread stops with the leader's fault, as on the device
            // (`rk_actor_try_send` reads the block's fault record after its
            // barrier): none goes on to a block-wide call it never reaches.
            for th in threads.iter_mut().filter(|t| t.state == TState::Waiting) {
                th.state = TState::Faulted;
            }
            0
        }
    }
}

fn block_reduce(threads: &[Thread], f: Combine, identity: u64) -> u64 {
    let partials: Vec<u64> = threads
        .chunks(32)
        .map(|warp| {
            let mut vals = [identity; 32];
            for (v, t) in vals.iter_mut().zip(warp) {
                if t.state == TState::Waiting {
                    *v = t.pending[0];
                }
            }
            butterfly(&mut vals, f);
            vals[0]
        })
        .collect();
    fold_partials(&partials, f)
}
