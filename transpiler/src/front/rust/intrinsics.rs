//! Lowering of the context's methods (`ThreadContext`/`RingContext`
//! intrinsics: indices, barriers, warp collectives, block reductions,
//! atomics, the actor's HLC and sends) to IR intrinsics.

use syn::spanned::Spanned;

use super::body::{FnLowerer, Val};
use super::error::{FrontError, FrontErrorKind, Result};
use super::expr::not_a_value;
use super::infer::Ty;
use crate::arena::Handle;
use crate::ir::{
    AtomicOp, BinaryOp, Builtin, Expression, IntKind, IntrinsicOp, ReduceOp, Scalar, ShuffleMode,
    Statement, Type,
};

impl FnLowerer<'_> {
    /// The context's methods.
    pub(super) fn lower_intrinsic(
        &mut self,
        method: &str,
        call: &syn::ExprMethodCall,
        ring: bool,
    ) -> Result<Val> {
        let span = call.span();
        if self.warp_actor {
            if let Some(error) = warp_actor_rejects(method, call.method.span()) {
                return Err(error);
            }
        }
        let args: Vec<&syn::Expr> = call.args.iter().collect();
        let builtin = match method {
            "thread_id" => Some(Builtin::ThreadId),
            "thread_x" => Some(Builtin::ThreadX),
            "thread_y" => Some(Builtin::ThreadY),
            "thread_z" => Some(Builtin::ThreadZ),
            "block_id" => Some(Builtin::BlockId),
            "block_x" => Some(Builtin::BlockX),
            "block_y" => Some(Builtin::BlockY),
            "block_z" => Some(Builtin::BlockZ),
            "block_dim_x" => Some(Builtin::BlockDimX),
            "block_dim_y" => Some(Builtin::BlockDimY),
            "block_dim_z" => Some(Builtin::BlockDimZ),
            "grid_dim_x" => Some(Builtin::GridDimX),
            "grid_dim_y" => Some(Builtin::GridDimY),
            "grid_dim_z" => Some(Builtin::GridDimZ),
            "global_id" => Some(Builtin::GlobalId),
            "global_x" => Some(Builtin::GlobalX),
            "global_y" => Some(Builtin::GlobalY),
            "global_z" => Some(Builtin::GlobalZ),
            "lane_id" => Some(Builtin::LaneId),
            "warp_id" => Some(Builtin::WarpId),
            "actor_id" if ring => Some(Builtin::ActorId),
            _ => None,
        };
        if let Some(builtin) = builtin {
            self.arg_count(method, &args, 0, span)?;
            let kind = if matches!(
                builtin,
                Builtin::GlobalId | Builtin::GlobalX | Builtin::GlobalY | Builtin::GlobalZ
            ) {
                IntKind::U64
            } else {
                IntKind::U32
            };
            let ty = self.scalar(Scalar::Int(kind));
            return Ok(Val {
                expr: Some(self.expr(Expression::Builtin(builtin), ty, span)),
                ty,
            });
        }
        let effect = |op| Some(op);
        let barrier = match method {
            "sync_threads" => effect(IntrinsicOp::SyncThreads),
            "sync_warp" => effect(IntrinsicOp::SyncWarp),
            "threadfence" => effect(IntrinsicOp::ThreadFence),
            "threadfence_block" => effect(IntrinsicOp::ThreadFenceBlock),
            "threadfence_system" => effect(IntrinsicOp::ThreadFenceSystem),
            _ => None,
        };
        if let Some(op) = barrier {
            self.arg_count(method, &args, 0, span)?;
            self.emit(
                Statement::Intrinsic {
                    op,
                    arguments: vec![],
                    result: None,
                },
                span,
            );
            return Ok(self.unit_val());
        }
        match method {
            "is_leader" => {
                self.arg_count(method, &args, 0, span)?;
                let u32_ty = self.scalar(Scalar::Int(IntKind::U32));
                let tid = self.expr(Expression::Builtin(Builtin::ThreadId), u32_ty, span);
                let zero = self.int_literal(0, u32_ty, span)?.expr.expect("value");
                let b = self.bool_ty();
                Ok(Val {
                    expr: Some(self.expr(
                        Expression::Binary {
                            op: BinaryOp::Eq,
                            left: tid,
                            right: zero,
                        },
                        b,
                        span,
                    )),
                    ty: b,
                })
            }
            "clock_ns" => {
                self.arg_count(method, &args, 0, span)?;
                let ty = self.scalar(Scalar::Int(IntKind::U64));
                self.effect_with_result(IntrinsicOp::ClockNs, vec![], ty, span)
            }
            "shared_array" => Err(FrontError::unsupported(
                "`shared_array()` outside a `let`",
                "bind it first: `let tile = ctx.shared_array::<f32, 256>();`",
                span,
            )),
            m if m.starts_with("atomic_") => self.lower_atomic(m, &args, span),
            "warp_shuffle" | "warp_shuffle_up" | "warp_shuffle_down" | "warp_shuffle_xor" => {
                let mode = match method {
                    "warp_shuffle" => ShuffleMode::Index,
                    "warp_shuffle_up" => ShuffleMode::Up,
                    "warp_shuffle_down" => ShuffleMode::Down,
                    _ => ShuffleMode::Xor,
                };
                self.arg_count(method, &args, 2, span)?;
                let value = self.lower_scalar_arg(args[0], "warp shuffles", false)?;
                let lane = self.lower_expr(args[1])?;
                let u32_ty = self.scalar(Scalar::Int(IntKind::U32));
                self.unify(u32_ty, lane.ty, args[1].span())?;
                let lane = lane.expr.ok_or_else(|| not_a_value(args[1]))?;
                self.effect_with_result(
                    IntrinsicOp::WarpShuffle(mode),
                    vec![value.expr.expect("value"), lane],
                    value.ty,
                    span,
                )
            }
            "warp_ballot" | "warp_all" | "warp_any" => {
                self.arg_count(method, &args, 1, span)?;
                let pred = self.lower_expr(args[0])?;
                let b = self.bool_ty();
                self.unify(b, pred.ty, args[0].span())?;
                let pred = pred.expr.ok_or_else(|| not_a_value(args[0]))?;
                let (op, ty) = match method {
                    "warp_ballot" => (
                        IntrinsicOp::WarpBallot,
                        self.scalar(Scalar::Int(IntKind::U32)),
                    ),
                    "warp_all" => (IntrinsicOp::WarpAll, b),
                    _ => (IntrinsicOp::WarpAny, b),
                };
                self.effect_with_result(op, vec![pred], ty, span)
            }
            "warp_reduce_sum" | "warp_reduce_min" | "warp_reduce_max" | "block_reduce_sum"
            | "block_reduce_min" | "block_reduce_max" => {
                self.arg_count(method, &args, 1, span)?;
                let value = self.lower_scalar_arg(args[0], "reductions", false)?;
                let op = if method.ends_with("sum") {
                    ReduceOp::Sum
                } else if method.ends_with("min") {
                    ReduceOp::Min
                } else {
                    ReduceOp::Max
                };
                let intrinsic = if method.starts_with("warp") {
                    IntrinsicOp::WarpReduce(op)
                } else {
                    IntrinsicOp::BlockReduce(op)
                };
                self.effect_with_result(intrinsic, vec![value.expr.expect("value")], value.ty, span)
            }
            "now" if ring => {
                self.arg_count(method, &args, 0, span)?;
                let ty = hlc_timestamp_type(self.module);
                let components = [
                    Builtin::HlcPhysicalNs,
                    Builtin::HlcLogical,
                    Builtin::HlcNode,
                ]
                .into_iter()
                .map(|b| {
                    let scalar = crate::valid::builtin_type(b);
                    let t = self.module.ty(Type::Scalar(scalar));
                    self.expr(Expression::Builtin(b), Ty::Known(t), span)
                })
                .collect();
                let e = self.expr(Expression::Compose { ty, components }, Ty::Known(ty), span);
                Ok(Val {
                    expr: Some(e),
                    ty: Ty::Known(ty),
                })
            }
            "send" if ring => self.lower_send(&args, span, false),
            "try_send" if ring => self.lower_send(&args, span, true),
            _ => Err(FrontError::new(
                FrontErrorKind::UnknownMethod {
                    method: method.into(),
                    ty: if ring {
                        "RingContext".into()
                    } else {
                        "ThreadContext".into()
                    },
                    note: "",
                },
                call.method.span(),
            )),
        }
    }

    /// A scalar argument whose type must be known (defaults applied now).
    pub(super) fn lower_scalar_arg(
        &mut self,
        arg: &syn::Expr,
        what: &'static str,
        allow_bool: bool,
    ) -> Result<Val> {
        let value = self.lower_expr(arg)?;
        let t = self.finish_now(value.ty, arg.span())?;
        match self.module.types[t] {
            Type::Scalar(Scalar::Int(_) | Scalar::Float(_)) => {}
            Type::Scalar(Scalar::Bool) if allow_bool => {}
            _ => return Err(self.invalid_operand(what, value.ty, arg.span())),
        }
        let expr = value.expr.ok_or_else(|| not_a_value(arg))?;
        Ok(Val {
            expr: Some(expr),
            ty: Ty::Known(t),
        })
    }

    pub(super) fn effect_with_result(
        &mut self,
        op: IntrinsicOp,
        arguments: Vec<Handle<Expression>>,
        ty: Ty,
        span: proc_macro2::Span,
    ) -> Result<Val> {
        let local = self.new_local(None, ty, false, span);
        self.emit(
            Statement::Intrinsic {
                op,
                arguments,
                result: Some(local),
            },
            span,
        );
        Ok(Val {
            expr: Some(self.expr(Expression::Local(local), ty, span)),
            ty,
        })
    }

    /// `ctx.atomic_add(&mut place, v)` and friends; the result is the old value.
    pub(super) fn lower_atomic(
        &mut self,
        method: &str,
        args: &[&syn::Expr],
        span: proc_macro2::Span,
    ) -> Result<Val> {
        let op = match method {
            "atomic_add" => AtomicOp::Add,
            "atomic_sub" => AtomicOp::Sub,
            "atomic_min" => AtomicOp::Min,
            "atomic_max" => AtomicOp::Max,
            "atomic_and" => AtomicOp::And,
            "atomic_or" => AtomicOp::Or,
            "atomic_xor" => AtomicOp::Xor,
            "atomic_exch" => AtomicOp::Exchange,
            "atomic_cas" => AtomicOp::CompareExchange,
            _ => {
                return Err(FrontError::new(
                    FrontErrorKind::UnknownMethod {
                        method: method.into(),
                        ty: "ThreadContext".into(),
                        note: "",
                    },
                    span,
                ))
            }
        };
        let expected = if op == AtomicOp::CompareExchange {
            3
        } else {
            2
        };
        self.arg_count(method, args, expected, span)?;
        let syn::Expr::Reference(reference) = args[0] else {
            return Err(FrontError::unsupported(
                "an atomic target that is not `&mut place`",
                "pass the place mutably: `ctx.atomic_add(&mut state.count, 1)`",
                args[0].span(),
            ));
        };
        if reference.mutability.is_none() {
            return Err(FrontError::new(
                FrontErrorKind::NotMutable {
                    name: "atomic target".into(),
                },
                args[0].span(),
            ));
        }
        let (place, ty, mutable) = self.lower_place(&reference.expr, true)?;
        self.require_mutable(mutable, &reference.expr)?;
        let ty = Ty::Known(self.finish_now(ty, args[0].span())?);
        let is_int = matches!(self.scalar_of(ty), Some(Scalar::Int(_)));
        let is_float = matches!(self.scalar_of(ty), Some(Scalar::Float(_)));
        let allowed = match op {
            AtomicOp::Add
            | AtomicOp::Sub
            | AtomicOp::Min
            | AtomicOp::Max
            | AtomicOp::Exchange
            | AtomicOp::CompareExchange => is_int || is_float,
            _ => is_int,
        };
        if !allowed {
            return Err(self.invalid_operand("this atomic", ty, args[0].span()));
        }
        let mut arguments = vec![place];
        for arg in &args[1..] {
            let value = self.lower_expr(arg)?;
            self.unify(ty, value.ty, arg.span())?;
            arguments.push(value.expr.ok_or_else(|| not_a_value(arg))?);
        }
        self.effect_with_result(IntrinsicOp::Atomic(op), arguments, ty, span)
    }
}

/// The IR struct `ctx.now()` returns: `ringkernel_device::hlc::HlcTimestamp`
/// (`rk_hlc_timestamp`), 16 bytes.
fn hlc_timestamp_type(module: &mut crate::ir::Module) -> Handle<Type> {
    let u64_ty = module.ty(Type::Scalar(Scalar::Int(IntKind::U64)));
    let u32_ty = module.ty(Type::Scalar(Scalar::Int(IntKind::U32)));
    let member = |name: &str, ty, offset| crate::ir::StructMember {
        name: name.into(),
        ty,
        offset,
    };
    module.ty(Type::Struct(crate::ir::StructType {
        name: "HlcTimestamp".into(),
        size: 16,
        align: 8,
        members: vec![
            member("physical_ns", u64_ty, 0),
            member("logical", u32_ty, 8),
            member("node", u32_ty, 12),
        ],
    }))
}

/// Why `ctx.METHOD()` cannot be used in a `#[ring_kernel(warps = 1)]`
/// handler, if it cannot. The actor is one warp of a block that other
/// actors share, so what names the warp (thread index, block size,
/// `sync_threads`, block reductions) is lowered to mean the warp, and what
/// exposes the block or the launch is rejected:
/// - block and grid indices: which block, and how many, is the runtime's
///   packing, not the actor's identity (`actor_id` is);
/// - `shared_array`: a static `__shared__` array belongs to the block, so
///   the packed actors would share it; per-warp copies would cost the block
///   P times its size and bound the packing at compile time, and a warp
///   exchanges values through `warp_shuffle`/`warp_reduce_*` anyway;
/// - `send`: warp actors are not wired into actor systems yet.
pub(super) fn warp_actor_rejects(method: &str, span: proc_macro2::Span) -> Option<FrontError> {
    let (reason, instead) = match method {
        "block_id" | "block_x" | "block_y" | "block_z" | "grid_dim_x" | "grid_dim_y"
        | "grid_dim_z" | "global_id" | "global_x" | "global_y" | "global_z" => (
            "the block (and the grid) is shared with other warp actors, so its index says nothing about this actor",
            "use `ctx.actor_id()` to tell actors apart and `ctx.thread_id()` for the lane",
        ),
        "shared_array" => (
            "a `__shared__` array belongs to the block, which other warp actors share",
            "exchange values within the warp with `ctx.warp_shuffle`/`ctx.warp_reduce_*`, or drop `warps = 1` to give the actor a block",
        ),
        _ => return None,
    };
    Some(FrontError::new(
        FrontErrorKind::NotInWarpActor {
            method: method.into(),
            reason,
            instead,
        },
        span,
    ))
}
