//! Compiles IR expressions into closures, once per function.
//!
//! Expressions are pure and evaluated completely when their statement runs
//! (`ir` module docs), so each one becomes a closure tree evaluated operands
//! first, left before right, with every type decision (operator, width,
//! layout offset, builtin) resolved here rather than per evaluation. Three
//! shapes come out: a scalar closure returning the canonical `u64`, an
//! address closure for places, and a bytes closure for aggregate values
//! (structs, arrays, slice and reference handles), which appends the value's
//! layout bytes to a buffer.

use crate::arena::Handle;
use crate::ir::{Builtin, Expression, Function, Literal, Module, Scalar, Type};
use crate::span::Span;

use super::cx::{read_ref, read_slice, unchecked, Addr, Cx, R, SHARED};
use super::error::UncheckedOp;
use super::layout::{classify, size_align, ty_size, Ty, TypeOf, REF_SIZE, SLICE_SIZE};
use super::math::{math, MathImpl};
use super::ops::{binary, cast, cast_allowed, overflow, unary};
use super::value::{loader, storer};

pub(crate) type ScalarFn = Box<dyn Fn(&mut Cx<'_>) -> R<u64> + Send + Sync>;
pub(crate) type AddrFn = Box<dyn Fn(&mut Cx<'_>) -> R<Addr> + Send + Sync>;
pub(crate) type BytesFn = Box<dyn Fn(&mut Cx<'_>, &mut Vec<u8>) -> R<()> + Send + Sync>;
type SliceFn = Box<dyn Fn(&mut Cx<'_>) -> R<(Addr, u64)> + Send + Sync>;
/// Returns a handle's byte size and absolute stack offset.
type HandleFn = Box<dyn Fn(&mut Cx<'_>) -> R<(usize, usize)> + Send + Sync>;
type OffsetFn = Box<dyn Fn(&mut Cx<'_>) -> R<usize> + Send + Sync>;

/// A compiled value of any type.
pub(crate) enum Val {
    Scalar(Scalar, ScalarFn),
    /// Aggregates and handles: byte size and the bytes closure.
    Bytes(usize, BytesFn),
}

/// A compiled place: a slot of the running frame, or any address.
pub(crate) enum Place {
    Local(usize),
    Dyn(AddrFn),
}

impl Place {
    pub(crate) fn into_fn(self) -> AddrFn {
        match self {
            Place::Local(o) => Box::new(move |cx| {
                Ok(Addr {
                    region: super::cx::STACK,
                    off: cx.base + o,
                })
            }),
            Place::Dyn(f) => f,
        }
    }
}

/// IR the interpreter cannot run, with the span of the offending node.
#[derive(Debug)]
pub(crate) struct CompileError {
    pub span: Span,
    pub what: String,
}

pub(crate) type CResult<T> = Result<T, CompileError>;

pub(crate) struct ExprCompiler<'m> {
    pub module: &'m Module,
    pub func: &'m Function,
    pub types: TypeOf<'m>,
    pub local_offsets: Vec<usize>,
    pub shared_offsets: Vec<usize>,
}

impl<'m> ExprCompiler<'m> {
    fn err<T>(&self, e: Handle<Expression>, what: impl Into<String>) -> CResult<T> {
        Err(CompileError {
            span: self.func.expressions.span(e),
            what: what.into(),
        })
    }

    pub(crate) fn ty(&mut self, e: Handle<Expression>) -> CResult<Ty> {
        match self.types.of(e) {
            Ok(t) => Ok(t),
            Err(w) => self.err(e, w),
        }
    }

    pub(crate) fn scalar_ty(&mut self, e: Handle<Expression>) -> CResult<Scalar> {
        match self.ty(e)? {
            Ty::Scalar(s) => Ok(s),
            other => self.err(e, format!("expected a scalar, found {other:?}")),
        }
    }

    pub(crate) fn is_place(&mut self, e: Handle<Expression>) -> bool {
        match &self.func.expressions[e] {
            Expression::Local(_) | Expression::Shared(_) | Expression::Deref(_) => true,
            Expression::Field { base, .. } => self.is_place(*base),
            Expression::Index { base, .. } => {
                matches!(self.types.of(*base), Ok(Ty::Slice { .. })) || self.is_place(*base)
            }
            _ => false,
        }
    }

    pub(crate) fn place(&mut self, e: Handle<Expression>) -> CResult<Place> {
        match self.func.expressions[e].clone() {
            Expression::Local(l) => match self.local_offsets.get(l.index()) {
                Some(&o) => Ok(Place::Local(o)),
                None => self.err(e, "unknown local"),
            },
            Expression::Shared(s) => match self.shared_offsets.get(s.index()) {
                Some(&off) => Ok(Place::Dyn(Box::new(move |_| {
                    Ok(Addr {
                        region: SHARED,
                        off,
                    })
                }))),
                None => self.err(e, "unknown shared array"),
            },
            Expression::Field { base, index } => {
                let Ty::Agg(h) = self.ty(base)? else {
                    return self.err(e, "field of a non-struct");
                };
                let Type::Struct(st) = &self.module.types[h] else {
                    return self.err(e, "field of a non-struct");
                };
                let Some(member) = st.members.get(index as usize) else {
                    return self.err(e, "no such field");
                };
                let mo = member.offset as usize;
                Ok(match self.place(base)? {
                    Place::Local(o) => Place::Local(o + mo),
                    Place::Dyn(f) => Place::Dyn(Box::new(move |cx| {
                        let a = f(cx)?;
                        Ok(Addr {
                            off: a.off + mo,
                            ..a
                        })
                    })),
                })
            }
            Expression::Index { base, index } => {
                let idx = self.scalar(index)?;
                match self.ty(base)? {
                    Ty::Agg(h) => {
                        let Type::Array { elem, len } = self.module.types[h] else {
                            return self.err(e, "index into a non-array");
                        };
                        let stride = size_align(self.module, elem).0 as usize;
                        let base = self.place(base)?.into_fn();
                        Ok(Place::Dyn(Box::new(move |cx| {
                            let a = base(cx)?;
                            let i = idx(cx)?;
                            if i >= len {
                                return unchecked(UncheckedOp::IndexOutOfBounds { index: i, len });
                            }
                            Ok(Addr {
                                off: a.off + i as usize * stride,
                                ..a
                            })
                        })))
                    }
                    Ty::Slice { elem } => {
                        let stride = size_align(self.module, elem).0 as usize;
                        let slice = self.slice(base)?;
                        Ok(Place::Dyn(Box::new(move |cx| {
                            let (a, len) = slice(cx)?;
                            let i = idx(cx)?;
                            if i >= len {
                                return unchecked(UncheckedOp::IndexOutOfBounds { index: i, len });
                            }
                            Ok(Addr {
                                off: a.off + i as usize * stride,
                                ..a
                            })
                        })))
                    }
                    _ => self.err(e, "index into a non-array"),
                }
            }
            Expression::Deref(r) => {
                if !matches!(self.ty(r)?, Ty::Ref { .. }) {
                    return self.err(e, "deref of a non-reference");
                }
                let handle = self.handle(r, REF_SIZE as usize)?;
                Ok(Place::Dyn(Box::new(move |cx| {
                    let (n, at) = handle(cx)?;
                    Ok(read_ref(&cx.stack[at..at + n]))
                })))
            }
            _ => self.err(e, "expression is not a place"),
        }
    }

    /// A handle (slice or reference) stored in a stack slot: returns the
    /// slot's absolute stack offset.
    fn handle(&mut self, e: Handle<Expression>, size: usize) -> CResult<HandleFn> {
        match self.place(e)? {
            Place::Local(o) => Ok(Box::new(move |cx| Ok((size, cx.base + o)))),
            Place::Dyn(_) => self.err(e, "slice or reference handle outside a local"),
        }
    }

    fn slice(&mut self, e: Handle<Expression>) -> CResult<SliceFn> {
        let handle = self.handle(e, SLICE_SIZE as usize)?;
        Ok(Box::new(move |cx| {
            let (n, at) = handle(cx)?;
            Ok(read_slice(&cx.stack[at..at + n]))
        }))
    }

    pub(crate) fn val(&mut self, e: Handle<Expression>) -> CResult<Val> {
        match self.ty(e)? {
            Ty::Scalar(s) => Ok(Val::Scalar(s, self.scalar(e)?)),
            Ty::Unit => self.err(e, "unit value"),
            ty => Ok(Val::Bytes(
                ty_size(self.module, ty) as usize,
                self.bytes(e)?,
            )),
        }
    }

    /// A closure appending the value's bytes (in layout) to a buffer.
    pub(crate) fn bytes(&mut self, e: Handle<Expression>) -> CResult<BytesFn> {
        let ty = self.ty(e)?;
        let size = ty_size(self.module, ty) as usize;
        if let Ty::Scalar(s) = ty {
            let f = self.scalar(e)?;
            let st = storer(s);
            return Ok(Box::new(move |cx, out| {
                let v = f(cx)?;
                let at = out.len();
                out.resize(at + size, 0);
                st(&mut out[at..], v);
                Ok(())
            }));
        }
        if self.is_place(e) {
            let place = self.place(e)?.into_fn();
            return Ok(Box::new(move |cx, out| {
                let a = place(cx)?;
                out.extend_from_slice(cx.read(a, size)?);
                Ok(())
            }));
        }
        match self.func.expressions[e].clone() {
            Expression::Compose { ty: th, components } => {
                let offsets: Vec<usize> = match &self.module.types[th] {
                    Type::Struct(st) if st.members.len() == components.len() => {
                        st.members.iter().map(|m| m.offset as usize).collect()
                    }
                    // Array elements sit at multiples of the element stride.
                    Type::Array { len, .. } if *len == components.len() as u64 => {
                        let stride = size / components.len().max(1);
                        (0..components.len()).map(|i| i * stride).collect()
                    }
                    _ => return self.err(e, "compose with the wrong number of components"),
                };
                let parts = components
                    .iter()
                    .map(|&c| self.bytes(c))
                    .collect::<CResult<Vec<_>>>()?;
                Ok(Box::new(move |cx, out| {
                    let at = out.len();
                    out.resize(at + size, 0);
                    let mut tmp = Vec::new();
                    for (part, &mo) in parts.iter().zip(&offsets) {
                        tmp.clear();
                        part(cx, &mut tmp)?;
                        out[at + mo..at + mo + tmp.len()].copy_from_slice(&tmp);
                    }
                    Ok(())
                }))
            }
            Expression::Splat { ty: th, value } => {
                let Type::Array { len, .. } = self.module.types[th] else {
                    return self.err(e, "splat of a non-array");
                };
                let part = self.bytes(value)?;
                Ok(Box::new(move |cx, out| {
                    let mut tmp = Vec::new();
                    part(cx, &mut tmp)?;
                    for _ in 0..len {
                        out.extend_from_slice(&tmp);
                    }
                    Ok(())
                }))
            }
            Expression::Field { .. } | Expression::Index { .. } => {
                let (base, at) = self.sub_value(e)?;
                Ok(Box::new(move |cx, out| {
                    let mut tmp = Vec::new();
                    base(cx, &mut tmp)?;
                    let off = at(cx)?;
                    out.extend_from_slice(&tmp[off..off + size]);
                    Ok(())
                }))
            }
            _ => self.err(e, "unsupported aggregate expression"),
        }
    }

    /// For a field or element of an aggregate *value* (not a place): the
    /// base value's bytes and the offset of the part within them.
    fn sub_value(&mut self, e: Handle<Expression>) -> CResult<(BytesFn, OffsetFn)> {
        match self.func.expressions[e].clone() {
            Expression::Field { base, index } => {
                let Ty::Agg(h) = self.ty(base)? else {
                    return self.err(e, "field of a non-struct");
                };
                let Type::Struct(st) = &self.module.types[h] else {
                    return self.err(e, "field of a non-struct");
                };
                let Some(m) = st.members.get(index as usize) else {
                    return self.err(e, "no such field");
                };
                let mo = m.offset as usize;
                Ok((self.bytes(base)?, Box::new(move |_| Ok(mo))))
            }
            Expression::Index { base, index } => {
                let Ty::Agg(h) = self.ty(base)? else {
                    return self.err(e, "index into a non-array");
                };
                let Type::Array { elem, len } = self.module.types[h] else {
                    return self.err(e, "index into a non-array");
                };
                let stride = size_align(self.module, elem).0 as usize;
                let idx = self.scalar(index)?;
                let base = self.bytes(base)?;
                Ok((
                    base,
                    Box::new(move |cx| {
                        let i = idx(cx)?;
                        if i >= len {
                            return unchecked(UncheckedOp::IndexOutOfBounds { index: i, len });
                        }
                        Ok(i as usize * stride)
                    }),
                ))
            }
            _ => self.err(e, "not a field or element"),
        }
    }

    pub(crate) fn scalar(&mut self, e: Handle<Expression>) -> CResult<ScalarFn> {
        let s = self.scalar_ty(e)?;
        let size = s.size() as usize;
        let ld = loader(s);
        if self.is_place(e) {
            return Ok(match self.place(e)? {
                Place::Local(o) => Box::new(move |cx| Ok(ld(cx.local(o, size)))),
                Place::Dyn(f) => Box::new(move |cx| {
                    let a = f(cx)?;
                    Ok(ld(cx.read(a, size)?))
                }),
            });
        }
        let expr = self.func.expressions[e].clone();
        Ok(match expr {
            Expression::Literal(l) => {
                let v = match l {
                    Literal::Bool(b) => u64::from(b),
                    Literal::Int(v, _) => v as u64,
                    Literal::Float(bits, crate::ir::FloatKind::F32) => bits & 0xffff_ffff,
                    Literal::Float(bits, _) => bits,
                };
                Box::new(move |_| Ok(v))
            }
            Expression::Field { .. } | Expression::Index { .. } => {
                let (base, at) = self.sub_value(e)?;
                Box::new(move |cx| {
                    let mut tmp = Vec::new();
                    base(cx, &mut tmp)?;
                    let off = at(cx)?;
                    Ok(ld(&tmp[off..off + size]))
                })
            }
            Expression::Len(x) => match self.ty(x)? {
                Ty::Slice { .. } => {
                    let slice = self.slice(x)?;
                    Box::new(move |cx| Ok(slice(cx)?.1))
                }
                Ty::Agg(h) => match self.module.types[h] {
                    Type::Array { len, .. } => Box::new(move |_| Ok(len)),
                    _ => return self.err(e, "len of a non-array"),
                },
                _ => return self.err(e, "len of a non-slice"),
            },
            Expression::Unary { op, expr } => {
                let Some(f) = unary(op, s) else {
                    return self.err(e, format!("{op:?} on {}", s.rust_name()));
                };
                let x = self.scalar(expr)?;
                Box::new(move |cx| Ok(f(x(cx)?)))
            }
            Expression::Binary { op, left, right } => {
                let ls = self.scalar_ty(left)?;
                let Some(f) = binary(op, ls) else {
                    return self.err(e, format!("{op:?} on {}", ls.rust_name()));
                };
                let (l, r) = (self.scalar(left)?, self.scalar(right)?);
                Box::new(move |cx| {
                    let a = l(cx)?;
                    let b = r(cx)?;
                    match f(a, b) {
                        Some(v) => Ok(v),
                        None => unchecked(UncheckedOp::DivisionByZero),
                    }
                })
            }
            Expression::Cast { expr, to } => {
                let from = self.scalar_ty(expr)?;
                if !cast_allowed(from, to) {
                    return self.err(
                        e,
                        format!("cast {} as {}", from.rust_name(), to.rust_name()),
                    );
                }
                let x = self.scalar(expr)?;
                if from == to {
                    x
                } else {
                    Box::new(move |cx| Ok(cast(x(cx)?, from, to)))
                }
            }
            Expression::Math { fun, args } => {
                let first = self.scalar_ty(args[0])?;
                let Some(imp) = math(fun, first) else {
                    return self.err(e, format!("{fun:?} on {}", first.rust_name()));
                };
                let mut fs = args
                    .iter()
                    .map(|&a| self.scalar(a))
                    .collect::<CResult<Vec<_>>>()?
                    .into_iter();
                let arity = match imp {
                    MathImpl::Un(_) => 1,
                    MathImpl::Bin(_) => 2,
                    MathImpl::Tern(_) => 3,
                };
                if args.len() != arity {
                    return self.err(e, format!("{fun:?} takes {arity} arguments"));
                }
                let mut next = || fs.next().expect("arity checked");
                match imp {
                    MathImpl::Un(f) => {
                        let a = next();
                        Box::new(move |cx| Ok(f(a(cx)?)))
                    }
                    MathImpl::Bin(f) => {
                        let (a, b) = (next(), next());
                        Box::new(move |cx| {
                            let x = a(cx)?;
                            Ok(f(x, b(cx)?))
                        })
                    }
                    MathImpl::Tern(f) => {
                        let (a, b, c) = (next(), next(), next());
                        Box::new(move |cx| {
                            let x = a(cx)?;
                            let y = b(cx)?;
                            Ok(f(x, y, c(cx)?))
                        })
                    }
                }
            }
            Expression::Builtin(b) => builtin(b),
            Expression::Overflows { op, left, right } => {
                let Scalar::Int(k) = self.scalar_ty(left)? else {
                    return self.err(e, "overflow predicate on a non-integer");
                };
                let rs = match self.scalar_ty(right)? {
                    Scalar::Int(rk) => rk.signed(),
                    _ => false,
                };
                let f = overflow(op, k, rs);
                let (l, r) = (self.scalar(left)?, self.scalar(right)?);
                Box::new(move |cx| {
                    let a = l(cx)?;
                    let b = r(cx)?;
                    Ok(u64::from(f(a, b)))
                })
            }
            _ => return self.err(e, "unsupported scalar expression"),
        })
    }

    /// The classified type of a type handle (for statements).
    pub(crate) fn classify(&self, h: Handle<Type>) -> Ty {
        classify(self.module, h)
    }
}

fn builtin(b: Builtin) -> ScalarFn {
    use Builtin as B;
    match b {
        B::ThreadX => Box::new(|cx| Ok(u64::from(cx.ids.thread[0]))),
        B::ThreadY => Box::new(|cx| Ok(u64::from(cx.ids.thread[1]))),
        B::ThreadZ => Box::new(|cx| Ok(u64::from(cx.ids.thread[2]))),
        B::BlockX => Box::new(|cx| Ok(u64::from(cx.ids.block[0]))),
        B::BlockY => Box::new(|cx| Ok(u64::from(cx.ids.block[1]))),
        B::BlockZ => Box::new(|cx| Ok(u64::from(cx.ids.block[2]))),
        B::BlockDimX => Box::new(|cx| Ok(u64::from(cx.ids.block_dim[0]))),
        B::BlockDimY => Box::new(|cx| Ok(u64::from(cx.ids.block_dim[1]))),
        B::BlockDimZ => Box::new(|cx| Ok(u64::from(cx.ids.block_dim[2]))),
        B::GridDimX => Box::new(|cx| Ok(u64::from(cx.ids.grid_dim[0]))),
        B::GridDimY => Box::new(|cx| Ok(u64::from(cx.ids.grid_dim[1]))),
        B::GridDimZ => Box::new(|cx| Ok(u64::from(cx.ids.grid_dim[2]))),
        B::ThreadId => Box::new(|cx| Ok(u64::from(cx.ids.thread_linear))),
        B::BlockId => Box::new(|cx| Ok(u64::from(cx.ids.block_linear))),
        B::GlobalId => Box::new(|cx| Ok(cx.ids.global_linear)),
        B::GlobalX => Box::new(|cx| Ok(cx.ids.global[0])),
        B::GlobalY => Box::new(|cx| Ok(cx.ids.global[1])),
        B::GlobalZ => Box::new(|cx| Ok(cx.ids.global[2])),
        B::LaneId => Box::new(|cx| Ok(u64::from(cx.ids.thread_linear % 32))),
        B::WarpId => Box::new(|cx| Ok(u64::from(cx.ids.thread_linear / 32))),
        B::ActorId => Box::new(|cx| Ok(u64::from(cx.ids.actor.actor_id))),
        B::HlcPhysicalNs => Box::new(|cx| Ok(cx.ids.actor.received[0])),
        B::HlcLogical => Box::new(|cx| Ok(cx.ids.actor.received[1])),
        B::HlcNode => Box::new(|cx| Ok(cx.ids.actor.received[2])),
    }
}
