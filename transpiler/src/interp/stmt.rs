//! Flattens a function's structured statements into a linear instruction
//! list with jumps.
//!
//! A flat list with an explicit program counter is what makes a thread
//! *resumable*: when a thread reaches a barrier or a warp collective its
//! `(function, pc)` stack is all the state there is, so the block scheduler
//! can park it, run the other threads up to the same point, and resume it —
//! SIMT semantics without OS threads, and deterministic. Expressions inside
//! instructions are the closures of `expr.rs` (they never block).

use crate::arena::Handle;
use crate::ir::{
    AtomicOp, Block, CheckKind, Expression, Function, IntrinsicOp, Local, LoopId, ReduceOp, Scalar,
    ShuffleMode, Statement,
};
use crate::span::Span;

use super::expr::{AddrFn, BytesFn, CResult, CompileError, ExprCompiler, Place, ScalarFn, Val};
use super::layout::{ty_size, Ty};
use super::value::{storer, StoreFn};

/// A collective: an instruction that completes only together with other
/// threads (the whole block, or the lanes of a warp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coll {
    SyncThreads,
    BlockReduce(ReduceOp),
    SyncWarp,
    Shuffle(ShuffleMode),
    Ballot,
    All,
    Any,
    WarpReduce(ReduceOp),
    /// `ctx.try_send` on this port: a block barrier at which the leader's
    /// attempt is made and its outcome given to every thread.
    TrySend(u32),
}

impl Coll {
    pub(crate) fn block_level(self) -> bool {
        matches!(
            self,
            Coll::SyncThreads | Coll::BlockReduce(_) | Coll::TrySend(_)
        )
    }
}

/// How a call argument reaches the callee's parameter slot.
pub(crate) enum CallArg {
    Value {
        off: usize,
        val: Val,
    },
    /// A `&T`/`&mut T` parameter given a place: its address is passed.
    Borrow {
        off: usize,
        place: AddrFn,
    },
}

pub(crate) struct Ret {
    pub val: Val,
    pub store: Option<StoreFn>,
}

pub(crate) enum Instr {
    Nop,
    StoreLocal {
        off: usize,
        size: usize,
        st: StoreFn,
        value: ScalarFn,
    },
    Store {
        place: AddrFn,
        size: usize,
        st: StoreFn,
        value: ScalarFn,
    },
    StoreBytes {
        place: AddrFn,
        size: usize,
        value: BytesFn,
    },
    /// Jumps to `else_pc` when `cond` is false.
    Branch {
        cond: ScalarFn,
        else_pc: usize,
    },
    Jump(usize),
    Check {
        kind: CheckKind,
        cond: ScalarFn,
    },
    Fault(CheckKind),
    Call {
        func: usize,
        args: Vec<CallArg>,
        /// Frame offset of the caller's result local.
        result: Option<usize>,
    },
    Return(Option<Ret>),
    Atomic {
        op: AtomicOp,
        scalar: Scalar,
        place: AddrFn,
        operand: ScalarFn,
        new: Option<ScalarFn>,
        result: Option<usize>,
    },
    Clock {
        result: Option<usize>,
    },
    /// `ctx.send`: the leader hands the message to the actor's
    /// [`super::K2kPorts`] (and records it, see [`super::Sent`]).
    Send {
        port: u32,
        value: BytesFn,
    },
    /// `ctx.try_send`: the leader evaluates the message into its
    /// `Thread::message`, then every thread parks as at a block collective
    /// (`Coll::TrySend`), where the attempt is made (`block.rs`).
    TrySend {
        port: u32,
        value: BytesFn,
        /// Frame offset of the `bool` result local.
        result: Option<usize>,
    },
    Collective {
        op: Coll,
        args: Vec<ScalarFn>,
        arg_scalars: Vec<Scalar>,
        /// Frame offset and type of the result local.
        result: Option<(usize, Scalar)>,
    },
}

/// A compiled function.
pub(crate) struct CFunc {
    pub name: String,
    pub code: Vec<Instr>,
    pub spans: Vec<Span>,
    pub frame_size: usize,
    /// Frame offset and type of each parameter.
    pub params: Vec<(usize, Ty)>,
    /// Byte size of each parameter's pointee (slice element, reference
    /// target) or value, and the scalar type behind it if any.
    pub param_info: Vec<ParamInfo>,
    pub param_names: Vec<Option<String>>,
    pub result: Ty,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct ParamInfo {
    pub size: usize,
    pub scalar: Option<Scalar>,
}

pub(crate) struct FnCompiler<'m> {
    pub ex: ExprCompiler<'m>,
    /// Frame offsets and types of every function's parameters, by index.
    pub callee_params: &'m [Vec<(usize, Ty)>],
    pub code: Vec<Instr>,
    pub spans: Vec<Span>,
    loops: Vec<(LoopId, usize, Vec<usize>)>,
}

impl<'m> FnCompiler<'m> {
    pub(crate) fn new(ex: ExprCompiler<'m>, callee_params: &'m [Vec<(usize, Ty)>]) -> Self {
        FnCompiler {
            ex,
            callee_params,
            code: Vec::new(),
            spans: Vec::new(),
            loops: Vec::new(),
        }
    }

    fn func(&self) -> &'m Function {
        self.ex.func
    }

    fn emit(&mut self, i: Instr, span: Span) -> usize {
        self.code.push(i);
        self.spans.push(span);
        self.code.len() - 1
    }

    fn err<T>(span: Span, what: impl Into<String>) -> CResult<T> {
        Err(CompileError {
            span,
            what: what.into(),
        })
    }

    fn local_slot(&self, l: Handle<Local>, span: Span) -> CResult<(usize, Ty)> {
        let func = self.func();
        if !func.locals.contains(l) {
            return Self::err(span, "unknown local");
        }
        let ty = self.ex.classify(func.locals[l].ty);
        Ok((self.ex.local_offsets[l.index()], ty))
    }

    /// Compiles the body, ending with an implicit `return`.
    pub(crate) fn compile_body(&mut self) -> CResult<()> {
        let body = &self.func().body;
        self.block(body)?;
        let end = body.spans.last().copied().unwrap_or(Span::UNKNOWN);
        self.emit(Instr::Return(None), end);
        Ok(())
    }

    fn block(&mut self, block: &'m Block) -> CResult<()> {
        for (stmt, span) in block.statements.iter().zip(block.spans.iter().copied()) {
            self.statement(stmt, span)?;
        }
        Ok(())
    }

    fn statement(&mut self, stmt: &'m Statement, span: Span) -> CResult<()> {
        match stmt {
            Statement::Store { place, value } => {
                let instr = self.store(*place, *value)?;
                self.emit(instr, span);
            }
            Statement::If {
                condition,
                accept,
                reject,
            } => {
                let cond = self.ex.scalar(*condition)?;
                let branch = self.emit(Instr::Branch { cond, else_pc: 0 }, span);
                self.block(accept)?;
                let else_pc = if reject.is_empty() {
                    self.code.len()
                } else {
                    let jump = self.emit(Instr::Jump(0), span);
                    let else_pc = self.code.len();
                    self.block(reject)?;
                    self.code[jump] = Instr::Jump(self.code.len());
                    else_pc
                };
                if let Instr::Branch { else_pc: e, .. } = &mut self.code[branch] {
                    *e = else_pc;
                }
            }
            Statement::Loop { id, body } => {
                let start = self.code.len();
                self.loops.push((*id, start, Vec::new()));
                self.block(body)?;
                self.emit(Instr::Jump(start), span);
                let (_, _, breaks) = self.loops.pop().expect("pushed above");
                let end = self.code.len();
                for b in breaks {
                    self.code[b] = Instr::Jump(end);
                }
            }
            Statement::Break(id) => {
                let at = self.emit(Instr::Nop, span);
                match self.loops.iter_mut().rev().find(|(l, _, _)| l == id) {
                    Some((_, _, breaks)) => breaks.push(at),
                    None => return Self::err(span, "break outside its loop"),
                }
            }
            Statement::Continue(id) => match self.loops.iter().rev().find(|(l, _, _)| l == id) {
                Some(&(_, start, _)) => {
                    self.emit(Instr::Jump(start), span);
                }
                None => return Self::err(span, "continue outside its loop"),
            },
            Statement::Return(value) => {
                let ret = match value {
                    None => None,
                    Some(v) => {
                        let val = self.ex.val(*v)?;
                        let store = match &val {
                            Val::Scalar(s, _) => Some(storer(*s)),
                            Val::Bytes(..) => None,
                        };
                        Some(Ret { val, store })
                    }
                };
                self.emit(Instr::Return(ret), span);
            }
            Statement::Call {
                function,
                arguments,
                result,
            } => {
                let instr = self.call(*function, arguments, *result, span)?;
                self.emit(instr, span);
            }
            Statement::Intrinsic {
                op,
                arguments,
                result,
            } => {
                let instr = self.intrinsic(*op, arguments, *result, span)?;
                self.emit(instr, span);
            }
            Statement::Check { kind, condition } => {
                let cond = self.ex.scalar(*condition)?;
                self.emit(Instr::Check { kind: *kind, cond }, span);
            }
            Statement::Fault(kind) => {
                self.emit(Instr::Fault(*kind), span);
            }
            Statement::Block(b) => self.block(b)?,
        }
        Ok(())
    }

    fn store(&mut self, place: Handle<Expression>, value: Handle<Expression>) -> CResult<Instr> {
        let ty = self.ex.ty(place)?;
        let size = ty_size(self.ex.module, ty) as usize;
        if let Ty::Scalar(s) = ty {
            let value = self.ex.scalar(value)?;
            let st = storer(s);
            return Ok(match self.ex.place(place)? {
                Place::Local(off) => Instr::StoreLocal {
                    off,
                    size,
                    st,
                    value,
                },
                Place::Dyn(place) => Instr::Store {
                    place,
                    size,
                    st,
                    value,
                },
            });
        }
        let value = self.ex.bytes(value)?;
        let place = self.ex.place(place)?.into_fn();
        Ok(Instr::StoreBytes { place, size, value })
    }

    fn call(
        &mut self,
        function: Handle<Function>,
        arguments: &[Handle<Expression>],
        result: Option<Handle<Local>>,
        span: Span,
    ) -> CResult<Instr> {
        let Some(params) = self.callee_params.get(function.index()) else {
            return Self::err(span, "call of a function defined after its caller");
        };
        if params.len() != arguments.len() {
            return Self::err(span, "call with the wrong number of arguments");
        }
        let mut args = Vec::with_capacity(arguments.len());
        for (&(off, pty), &a) in params.iter().zip(arguments) {
            let aty = self.ex.ty(a)?;
            let borrow = matches!(pty, Ty::Ref { .. }) && !matches!(aty, Ty::Ref { .. });
            args.push(if borrow {
                CallArg::Borrow {
                    off,
                    place: self.ex.place(a)?.into_fn(),
                }
            } else {
                CallArg::Value {
                    off,
                    val: self.ex.val(a)?,
                }
            });
        }
        let result = match result {
            Some(l) => Some(self.local_slot(l, span)?.0),
            None => None,
        };
        Ok(Instr::Call {
            func: function.index(),
            args,
            result,
        })
    }

    fn intrinsic(
        &mut self,
        op: IntrinsicOp,
        arguments: &[Handle<Expression>],
        result: Option<Handle<Local>>,
        span: Span,
    ) -> CResult<Instr> {
        let result_slot = match result {
            Some(l) => Some(self.local_slot(l, span)?),
            None => None,
        };
        let coll = match op {
            IntrinsicOp::ThreadFence
            | IntrinsicOp::ThreadFenceBlock
            | IntrinsicOp::ThreadFenceSystem => return Ok(Instr::Nop),
            IntrinsicOp::ClockNs => {
                return Ok(Instr::Clock {
                    result: result_slot.map(|s| s.0),
                })
            }
            IntrinsicOp::Send { port } => {
                let Some(&message) = arguments.first() else {
                    return Self::err(span, "send without a message");
                };
                return Ok(Instr::Send {
                    port,
                    value: self.ex.bytes(message)?,
                });
            }
            IntrinsicOp::TrySend { port } => {
                let Some(&message) = arguments.first() else {
                    return Self::err(span, "try_send without a message");
                };
                return Ok(Instr::TrySend {
                    port,
                    value: self.ex.bytes(message)?,
                    result: result_slot.map(|s| s.0),
                });
            }
            IntrinsicOp::Atomic(aop) => {
                let want = if aop == AtomicOp::CompareExchange {
                    3
                } else {
                    2
                };
                if arguments.len() != want {
                    return Self::err(span, "atomic with the wrong number of arguments");
                }
                let Ty::Scalar(scalar) = self.ex.ty(arguments[0])? else {
                    return Self::err(span, "atomic on a non-scalar place");
                };
                let place = self.ex.place(arguments[0])?.into_fn();
                let operand = self.ex.scalar(arguments[1])?;
                let new = match arguments.get(2) {
                    Some(&n) => Some(self.ex.scalar(n)?),
                    None => None,
                };
                return Ok(Instr::Atomic {
                    op: aop,
                    scalar,
                    place,
                    operand,
                    new,
                    result: result_slot.map(|s| s.0),
                });
            }
            IntrinsicOp::SyncThreads => Coll::SyncThreads,
            IntrinsicOp::SyncWarp => Coll::SyncWarp,
            IntrinsicOp::WarpShuffle(mode) => Coll::Shuffle(mode),
            IntrinsicOp::WarpBallot => Coll::Ballot,
            IntrinsicOp::WarpAll => Coll::All,
            IntrinsicOp::WarpAny => Coll::Any,
            IntrinsicOp::WarpReduce(r) => Coll::WarpReduce(r),
            IntrinsicOp::BlockReduce(r) => Coll::BlockReduce(r),
        };
        let want = match coll {
            Coll::SyncThreads | Coll::SyncWarp => 0,
            Coll::Shuffle(_) => 2,
            _ => 1,
        };
        if arguments.len() < want {
            return Self::err(span, format!("{op:?} takes {want} arguments"));
        }
        let mut args = Vec::new();
        let mut arg_scalars = Vec::new();
        for &a in &arguments[..want] {
            arg_scalars.push(self.ex.scalar_ty(a)?);
            args.push(self.ex.scalar(a)?);
        }
        let result = match result_slot {
            Some((off, Ty::Scalar(s))) => Some((off, s)),
            Some(_) => return Self::err(span, "collective result is not a scalar"),
            None => None,
        };
        Ok(Instr::Collective {
            op: coll,
            args,
            arg_scalars,
            result,
        })
    }
}
