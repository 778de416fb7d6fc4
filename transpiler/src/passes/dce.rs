//! Dead-code elimination over statements.
//!
//! Assumes: constant folding ran, so decided conditions are literals.
//!
//! Guarantees: no statement follows a `Break`, `Continue`, `Return` or
//! `Fault` in its block; an `If` on a literal condition is replaced by the
//! taken branch (as a `Block`, keeping its scoping); a `Check` whose
//! condition folded to `true` is removed, one that folded to `false` becomes
//! an unconditional `Fault`.
//!
//! Invalidates: nothing. Expressions no statement refers to any more stay in
//! the arena; the back ends only write expressions that statements reach.

use crate::ir::{Block, Expression, Function, Literal, Statement};

pub fn eliminate_dead_code(function: &mut Function) {
    let body = std::mem::take(&mut function.body);
    function.body = clean(function, body);
}

fn clean(function: &Function, block: Block) -> Block {
    let mut out = Block::new();
    for (statement, span) in block.statements.into_iter().zip(block.spans) {
        let literal = |e| match function.expressions[e] {
            Expression::Literal(Literal::Bool(b)) => Some(b),
            _ => None,
        };
        let statement = match statement {
            Statement::If {
                condition,
                accept,
                reject,
            } => match literal(condition) {
                Some(true) => Statement::Block(clean(function, accept)),
                Some(false) => Statement::Block(clean(function, reject)),
                None => Statement::If {
                    condition,
                    accept: clean(function, accept),
                    reject: clean(function, reject),
                },
            },
            Statement::Loop { id, body } => Statement::Loop {
                id,
                body: clean(function, body),
            },
            Statement::Block(b) => Statement::Block(clean(function, b)),
            Statement::Check { kind, condition } => match literal(condition) {
                Some(true) => continue,
                Some(false) => Statement::Fault(kind),
                None => Statement::Check { kind, condition },
            },
            other => other,
        };
        let diverges = matches!(
            statement,
            Statement::Break(_)
                | Statement::Continue(_)
                | Statement::Return(_)
                | Statement::Fault(_)
        );
        if matches!(&statement, Statement::Block(b) if b.is_empty()) {
            continue;
        }
        out.push(statement, span);
        if diverges {
            break;
        }
    }
    out
}
