//! A small builder that makes hand-written IR modules tolerable in tests.
//! Each statement gets the next line of an imaginary `kernels.rs`, so the
//! `#line` directives and fault locations in snapshots are meaningful.

use crate::arena::Handle;
use crate::ir::*;
use crate::span::{LineCol, Span};

pub struct ModuleBuilder {
    pub module: Module,
    line: u32,
}

impl ModuleBuilder {
    pub fn new() -> Self {
        ModuleBuilder {
            module: Module {
                source_file: Some("kernels.rs".into()),
                ..Module::default()
            },
            line: 1,
        }
    }

    pub fn scalar(&mut self, s: Scalar) -> Handle<Type> {
        self.module.ty(Type::Scalar(s))
    }

    pub fn array(&mut self, elem: Handle<Type>, len: u64) -> Handle<Type> {
        self.module.ty(Type::Array { elem, len })
    }

    pub fn slice(&mut self, elem: Handle<Type>, mutable: bool) -> Handle<Type> {
        self.module.ty(Type::Slice { elem, mutable })
    }

    pub fn reference(&mut self, target: Handle<Type>, mutable: bool) -> Handle<Type> {
        self.module.ty(Type::Ref { target, mutable })
    }

    /// A `#[repr(C)]` struct with the layout rustc would give it.
    pub fn repr_c(&mut self, name: &str, members: &[(&str, Handle<Type>)]) -> Handle<Type> {
        let mut offset = 0;
        let mut align = 1;
        let mut out = Vec::new();
        for &(member, ty) in members {
            let a = crate::valid::type_align(&self.module, ty);
            offset = u64::next_multiple_of(offset, a);
            out.push(StructMember {
                name: member.into(),
                ty,
                offset,
            });
            offset += crate::valid::type_size(&self.module, ty);
            align = align.max(a);
        }
        self.module.ty(Type::Struct(StructType {
            name: name.into(),
            size: offset.next_multiple_of(align),
            align,
            members: out,
        }))
    }

    pub fn function(
        &mut self,
        name: &str,
        build: impl FnOnce(&mut FunctionBuilder),
    ) -> Handle<Function> {
        let start = self.line;
        let mut fb = FunctionBuilder {
            module: &mut self.module,
            function: Function {
                name: name.into(),
                ..Function::default()
            },
            current: Block::new(),
            line: start + 1,
            next_loop: 0,
        };
        build(&mut fb);
        let FunctionBuilder {
            mut function,
            current,
            line,
            ..
        } = fb;
        function.body = current;
        self.line = line + 2;
        self.module.functions.append(function, line_span(start))
    }

    pub fn kernel(
        &mut self,
        name: &str,
        block: [u32; 3],
        build: impl FnOnce(&mut FunctionBuilder),
    ) -> Handle<Function> {
        let function = self.function(name, build);
        self.module.entry_points.push(EntryPoint {
            name: name.into(),
            function,
            kind: EntryKind::Kernel { block },
        });
        function
    }
}

pub fn line_span(line: u32) -> Span {
    Span {
        start: LineCol { line, column: 4 },
        end: LineCol { line, column: 20 },
    }
}

pub struct FunctionBuilder<'m> {
    pub module: &'m mut Module,
    pub function: Function,
    current: Block,
    line: u32,
    next_loop: u32,
}

impl FunctionBuilder<'_> {
    pub fn span(&self) -> Span {
        line_span(self.line)
    }

    pub fn scalar(&mut self, s: Scalar) -> Handle<Type> {
        self.module.ty(Type::Scalar(s))
    }

    pub fn result(&mut self, ty: Handle<Type>) {
        self.function.result = Some(ty);
    }

    pub fn param(&mut self, name: &str, ty: Handle<Type>) -> Handle<Local> {
        let local = self.local(name, ty);
        self.function.params.push(local);
        local
    }

    pub fn local(&mut self, name: &str, ty: Handle<Type>) -> Handle<Local> {
        let span = self.span();
        self.function.locals.append(
            Local {
                name: Some(name.into()),
                ty,
                mutable: true,
            },
            span,
        )
    }

    pub fn temp(&mut self, ty: Handle<Type>) -> Handle<Local> {
        let span = self.span();
        self.function.locals.append(
            Local {
                name: None,
                ty,
                mutable: false,
            },
            span,
        )
    }

    pub fn shared(&mut self, name: &str, ty: Handle<Type>) -> Handle<SharedArray> {
        let span = self.span();
        self.function.shared.append(
            SharedArray {
                name: Some(name.into()),
                ty,
            },
            span,
        )
    }

    pub fn expr(&mut self, e: Expression) -> Handle<Expression> {
        let span = self.span();
        self.function.expressions.append(e, span)
    }

    pub fn read(&mut self, local: Handle<Local>) -> Handle<Expression> {
        self.expr(Expression::Local(local))
    }

    pub fn lit(&mut self, literal: Literal) -> Handle<Expression> {
        self.expr(Expression::Literal(literal))
    }

    pub fn int(&mut self, value: i128, kind: IntKind) -> Handle<Expression> {
        self.lit(Literal::Int(value, kind))
    }

    pub fn usize(&mut self, value: u64) -> Handle<Expression> {
        self.int(value.into(), IntKind::Usize)
    }

    pub fn bin(
        &mut self,
        op: BinaryOp,
        l: Handle<Expression>,
        r: Handle<Expression>,
    ) -> Handle<Expression> {
        self.expr(Expression::Binary {
            op,
            left: l,
            right: r,
        })
    }

    pub fn cast(&mut self, e: Handle<Expression>, to: Scalar) -> Handle<Expression> {
        self.expr(Expression::Cast { expr: e, to })
    }

    pub fn math(&mut self, fun: MathFunction, args: &[Handle<Expression>]) -> Handle<Expression> {
        self.expr(Expression::Math {
            fun,
            args: args.to_vec(),
        })
    }

    pub fn index(
        &mut self,
        base: Handle<Expression>,
        index: Handle<Expression>,
    ) -> Handle<Expression> {
        self.expr(Expression::Index { base, index })
    }

    pub fn field(&mut self, base: Handle<Expression>, index: u32) -> Handle<Expression> {
        self.expr(Expression::Field { base, index })
    }

    pub fn stmt(&mut self, statement: Statement) {
        let span = self.span();
        self.current.push(statement, span);
        self.line += 1;
    }

    pub fn store(&mut self, place: Handle<Expression>, value: Handle<Expression>) {
        self.stmt(Statement::Store { place, value });
    }

    /// `let local = value;` in one call.
    pub fn set(&mut self, local: Handle<Local>, value: Handle<Expression>) {
        let place = self.read(local);
        self.store(place, value);
    }

    pub fn block(&mut self, build: impl FnOnce(&mut Self)) -> Block {
        let saved = std::mem::take(&mut self.current);
        build(self);
        std::mem::replace(&mut self.current, saved)
    }

    pub fn if_else(
        &mut self,
        condition: Handle<Expression>,
        accept: impl FnOnce(&mut Self),
        reject: impl FnOnce(&mut Self),
    ) {
        let span = self.span();
        self.line += 1;
        let accept = self.block(accept);
        let reject = self.block(reject);
        self.current.push(
            Statement::If {
                condition,
                accept,
                reject,
            },
            span,
        );
    }

    pub fn if_(&mut self, condition: Handle<Expression>, accept: impl FnOnce(&mut Self)) {
        self.if_else(condition, accept, |_| {});
    }

    pub fn loop_(&mut self, body: impl FnOnce(&mut Self, LoopId)) {
        let id = LoopId(self.next_loop);
        self.next_loop += 1;
        let span = self.span();
        self.line += 1;
        let body = self.block(|b| body(b, id));
        self.current.push(Statement::Loop { id, body }, span);
    }

    pub fn ret(&mut self, value: Option<Handle<Expression>>) {
        self.stmt(Statement::Return(value));
    }

    pub fn check(&mut self, kind: CheckKind, condition: Handle<Expression>) {
        self.stmt(Statement::Check { kind, condition });
    }

    pub fn intrinsic(
        &mut self,
        op: IntrinsicOp,
        arguments: &[Handle<Expression>],
        result: Option<Handle<Local>>,
    ) {
        self.stmt(Statement::Intrinsic {
            op,
            arguments: arguments.to_vec(),
            result,
        });
    }

    pub fn call(
        &mut self,
        function: Handle<Function>,
        arguments: &[Handle<Expression>],
        result: Option<Handle<Local>>,
    ) {
        self.stmt(Statement::Call {
            function,
            arguments: arguments.to_vec(),
            result,
        });
    }

    /// `i < len` checked `slice[i]` as a place, the way the check pass
    /// inserts bounds checks.
    pub fn checked_index(
        &mut self,
        slice: Handle<Local>,
        index: Handle<Expression>,
    ) -> Handle<Expression> {
        let base = self.read(slice);
        let len = self.expr(Expression::Len(base));
        let in_bounds = self.bin(BinaryOp::Lt, index, len);
        self.check(CheckKind::IndexOutOfBounds, in_bounds);
        self.index(base, index)
    }
}
