//! `ctx.send(PORT, &msg)` and `ctx.try_send(PORT, &msg) -> bool`:
//! kernel-to-kernel sends from a `#[ring_kernel]` handler. The handler names
//! an output port, never an actor: the host wires ports to actors
//! (`SystemBuilder::connect`), so the front end checks only what the handler
//! alone decides (a constant port, one struct type per port, whichever of
//! the two sends it) and records the port in `IntrinsicOp::Send` /
//! `IntrinsicOp::TrySend`.

use syn::spanned::Spanned;

use super::body::{FnLowerer, Val};
use super::error::{FrontError, FrontErrorKind, Result};
use super::expr::not_a_value;
use super::infer::Ty;
use crate::ir::{Expression, IntKind, IntrinsicOp, Literal, Scalar, Statement, Type};

/// Output ports a handler may send on: `ctx.send(0..MAX_PORTS, ..)`. (The
/// CPU backend passes the wired ports to the interpreter as a bit mask.)
pub const MAX_PORTS: u32 = 64;

impl FnLowerer<'_> {
    /// `ctx.send(PORT, &msg)` (`try_send` false) or `ctx.try_send(PORT,
    /// &msg)` (true, a `bool` result): the port is a constant below
    /// [`MAX_PORTS`] (the host wires each port to an actor, so the handler
    /// names no actor), and each port carries one message type, a struct.
    pub(super) fn lower_send(
        &mut self,
        args: &[&syn::Expr],
        span: proc_macro2::Span,
        try_send: bool,
    ) -> Result<Val> {
        let method = if try_send { "try_send" } else { "send" };
        self.arg_count(method, args, 2, span)?;
        let send_error = |problem: String, at: proc_macro2::Span| {
            FrontError::new(FrontErrorKind::Send { method, problem }, at)
        };
        let port = self.lower_expr(args[0])?;
        let u32_ty = self.scalar(Scalar::Int(IntKind::U32));
        self.unify(u32_ty, port.ty, args[0].span())?;
        let port_expr = port.expr.ok_or_else(|| not_a_value(args[0]))?;
        let port = match self.func.expressions[port_expr] {
            Expression::Literal(Literal::Int(v, _)) => v,
            _ => return Err(send_error(
                "the port must be a constant (an integer literal or a `const`): the host wires \
                     each port to an actor before the kernel starts"
                    .into(),
                args[0].span(),
            )),
        };
        if !(0..i128::from(MAX_PORTS)).contains(&port) {
            return Err(send_error(
                format!(
                    "port {port} is out of range: a handler has ports 0 to {}",
                    MAX_PORTS - 1
                ),
                args[0].span(),
            ));
        }
        let port = port as u32;
        // `&message`, or an expression that already is a reference (the
        // handler's own `msg` parameter).
        let (message_expr, message) = match args[1] {
            syn::Expr::Reference(reference) => {
                if reference.mutability.is_some() {
                    return Err(send_error(
                        "the message is passed by shared reference: `&message`, not `&mut message`"
                            .into(),
                        args[1].span(),
                    ));
                }
                (&*reference.expr, self.lower_expr(&reference.expr)?)
            }
            other => {
                let value = self.lower_expr(other)?;
                let t = self.finish_now(value.ty, other.span())?;
                let Type::Ref { target, .. } = self.module.types[t] else {
                    return Err(send_error(
                        format!(
                            "the message is passed by reference: write `ctx.{method}(PORT, &message)` (found `{}`)",
                            super::types::type_name(self.module, t)
                        ),
                        other.span(),
                    ));
                };
                let e = value.expr.ok_or_else(|| not_a_value(other))?;
                let span = other.span();
                let deref = self.expr(Expression::Deref(e), Ty::Known(target), span);
                (
                    other,
                    Val {
                        expr: Some(deref),
                        ty: Ty::Known(target),
                    },
                )
            }
        };
        let ty = self.finish_now(message.ty, message_expr.span())?;
        if !matches!(self.module.types[ty], Type::Struct(_)) {
            return Err(send_error(
                format!(
                    "messages are `#[derive(RingMessage)]` structs, found `{}`",
                    super::types::type_name(self.module, ty)
                ),
                message_expr.span(),
            ));
        }
        if let Some(&(_, earlier)) = self.ports.iter().find(|(p, _)| *p == port) {
            if earlier != ty {
                return Err(send_error(
                    format!(
                        "port {port} already carries `{}`; each port carries one message type \
                         (use another port for `{}`)",
                        super::types::type_name(self.module, earlier),
                        super::types::type_name(self.module, ty)
                    ),
                    args[1].span(),
                ));
            }
        } else {
            self.ports.push((port, ty));
        }
        let value = message.expr.ok_or_else(|| not_a_value(message_expr))?;
        if try_send {
            let bool_ty = self.scalar(Scalar::Bool);
            let sent =
                self.effect_with_result(IntrinsicOp::TrySend { port }, vec![value], bool_ty, span)?;
            if let Some(Expression::Local(local)) = sent.expr.map(|e| &self.func.expressions[e]) {
                self.try_sends.push((*local, span));
            }
            return Ok(sent);
        }
        self.emit(
            Statement::Intrinsic {
                op: IntrinsicOp::Send { port },
                arguments: vec![value],
                result: None,
            },
            span,
        );
        Ok(Val {
            expr: None,
            ty: self.known(Type::Unit),
        })
    }
}
