//! Device functions, kernel wrappers and the kernels' launch metadata.
//!
//! Every IR function becomes
//! `static __device__ R name(rk_fault_ctx* __rk_f, params…)` with all its
//! locals and `__shared__` arrays declared at the top. Parameters: scalars,
//! structs and arrays by value; `&[T]`/`&mut [T]` as a pointer plus a
//! `rk_u64 <name>_len`; `&T`/`&mut T` as a pointer. Entry points get an
//! `extern "C" __global__ void __launch_bounds__(threads)` wrapper with the
//! same parameters plus the hidden `rk_fault_record*`, which builds the
//! thread's fault context and calls the body.

use std::fmt::{self, Write as _};

use crate::arena::Handle;
use crate::ir::{
    Block, EntryKind, Expression, Function, IntrinsicOp, LoopId, ReduceOp, Statement, Type,
};
use crate::valid::{type_align, type_size, FunctionInfo};

use super::namer::Namer;
use super::types::suffix;
use super::writer::Writer;
use super::{Error, KernelInfo, KernelParam, ParamAbi};

/// Per-function C names, indexed like the function's arenas.
#[derive(Debug, Default)]
pub(super) struct FunctionNames {
    pub locals: Vec<String>,
    /// For slice-typed parameters: the name of the length parameter.
    pub slice_lens: Vec<Option<String>>,
    pub shared: Vec<String>,
}

/// What the statement writer needs while writing one function body.
pub(super) struct FunctionCtx<'a> {
    pub function: &'a Function,
    pub info: &'a FunctionInfo,
    pub names: FunctionNames,
    /// Enclosing loops, innermost last.
    pub loops: Vec<LoopId>,
    /// Loops left by a `break` from an inner loop (they need a label).
    pub break_labels: Vec<LoopId>,
    /// Loops continued from an inner loop.
    pub continue_labels: Vec<LoopId>,
    /// Whether `return` carries a value (`return {};` on faults).
    pub returns_value: bool,
    /// The handler of a `#[ring_kernel(warps = 1)]` actor: thread indices,
    /// block size, `sync_threads` and block reductions mean its warp.
    pub warp_actor: bool,
}

impl FunctionCtx<'_> {
    /// The statement that leaves the function after a fault.
    pub fn fault_return(&self) -> &'static str {
        if self.returns_value {
            "return {};"
        } else {
            "return;"
        }
    }
}

/// Collects the loops whose `break`/`continue` come from inside a nested
/// loop: C has no labelled jumps, so those become `goto`s.
fn collect_labels(
    block: &Block,
    loops: &mut Vec<LoopId>,
    breaks: &mut Vec<LoopId>,
    continues: &mut Vec<LoopId>,
) {
    for statement in &block.statements {
        match statement {
            Statement::Break(id) if loops.last() != Some(id) && !breaks.contains(id) => {
                breaks.push(*id)
            }
            Statement::Continue(id) if loops.last() != Some(id) && !continues.contains(id) => {
                continues.push(*id)
            }
            Statement::If { accept, reject, .. } => {
                collect_labels(accept, loops, breaks, continues);
                collect_labels(reject, loops, breaks, continues);
            }
            Statement::Block(b) => collect_labels(b, loops, breaks, continues),
            Statement::Loop { id, body } => {
                loops.push(*id);
                collect_labels(body, loops, breaks, continues);
                loops.pop();
            }
            _ => {}
        }
    }
}

/// Which locals the body mentions (unmentioned ones are not declared, so
/// NVRTC does not warn about them).
fn used_locals(function: &Function) -> Vec<bool> {
    let mut used = vec![false; function.locals.len()];
    for (_, expr) in function.expressions.iter() {
        if let Expression::Local(local) = expr {
            used[local.index()] = true;
        }
    }
    fn results(block: &Block, used: &mut [bool]) {
        for statement in &block.statements {
            match statement {
                Statement::Call {
                    result: Some(local),
                    ..
                }
                | Statement::Intrinsic {
                    result: Some(local),
                    ..
                } => used[local.index()] = true,
                Statement::If { accept, reject, .. } => {
                    results(accept, used);
                    results(reject, used);
                }
                Statement::Block(b) | Statement::Loop { body: b, .. } => results(b, used),
                _ => {}
            }
        }
    }
    results(&function.body, &mut used);
    used
}

impl<W: fmt::Write> Writer<'_, W> {
    fn function_names(&self, function: &Function) -> FunctionNames {
        let mut namer: Namer = self.namer.clone();
        let mut names = FunctionNames::default();
        for (handle, local) in function.locals.iter() {
            let name = match &local.name {
                Some(rust) => namer.call(rust),
                None => namer.temp(),
            };
            let len = matches!(self.module.types[local.ty], Type::Slice { .. })
                .then(|| namer.call(&format!("{name}_len")));
            let _ = handle;
            names.locals.push(name);
            names.slice_lens.push(len);
        }
        for (_, shared) in function.shared.iter() {
            let name = match &shared.name {
                Some(rust) => namer.call(rust),
                None => namer.temp(),
            };
            names.shared.push(name);
        }
        names
    }

    /// The C declaration of a parameter or local (`float x`, `const float* x,
    /// rk_u64 x_len`, `Stats* state`).
    fn declaration(&self, ty: Handle<Type>, names: &FunctionNames, local: usize) -> String {
        let name = &names.locals[local];
        match &self.module.types[ty] {
            Type::Slice { elem, mutable } => format!(
                "{}{}* {name}, rk_u64 {}",
                if *mutable { "" } else { "const " },
                self.type_name(*elem),
                names.slice_lens[local].as_deref().unwrap_or("len")
            ),
            Type::Ref { target, mutable } => format!(
                "{}{}* {name}",
                if *mutable { "" } else { "const " },
                self.type_name(*target)
            ),
            _ => format!("{} {name}", self.type_name(ty)),
        }
    }

    fn result_type(&self, function: &Function) -> String {
        match function.result {
            Some(r) if self.module.types[r] != Type::Unit => self.type_name(r).to_string(),
            _ => "void".to_string(),
        }
    }

    /// Writes one IR function as a `static __device__` function.
    pub(super) fn write_function(&mut self, handle: Handle<Function>) -> Result<(), Error> {
        let module = self.module;
        let function = &module.functions[handle];
        let info = self.info.function(handle);
        let names = self.function_names(function);
        let name = self.names.functions[handle.index()].clone();
        let result = self.result_type(function);

        writeln!(self.out)?;
        writeln!(self.out, "// Rust `fn {}`", function.name)?;
        self.write_line_directive(module.functions.span(handle))?;
        write!(
            self.out,
            "static __device__ {result} {name}(rk_fault_ctx* __rk_f"
        )?;
        for &param in &function.params {
            let decl = self.declaration(function.locals[param].ty, &names, param.index());
            write!(self.out, ", {decl}")?;
        }
        writeln!(self.out, ") {{")?;
        for (shared, s) in function.shared.iter() {
            let ty = self.type_name(s.ty).to_string();
            writeln!(
                self.out,
                "    __shared__ {ty} {};",
                names.shared[shared.index()]
            )?;
        }
        let used = used_locals(function);
        for (local, l) in function.locals.iter() {
            if function.params.contains(&local) || !used[local.index()] {
                continue;
            }
            let decl = self.declaration(l.ty, &names, local.index());
            writeln!(self.out, "    {decl};")?;
        }

        let mut ctx = FunctionCtx {
            function,
            info,
            names,
            loops: Vec::new(),
            break_labels: Vec::new(),
            continue_labels: Vec::new(),
            returns_value: result != "void",
            warp_actor: self.is_warp_actor(handle),
        };
        collect_labels(
            &function.body,
            &mut Vec::new(),
            &mut ctx.break_labels,
            &mut ctx.continue_labels,
        );
        self.write_block(&mut ctx, &function.body, 1)?;
        writeln!(self.out, "}}")?;
        Ok(())
    }

    /// Writes the `__global__` wrapper of entry point `index` and returns
    /// its metadata.
    pub(super) fn write_kernel(&mut self, index: usize) -> Result<KernelInfo, Error> {
        let module = self.module;
        let entry = &module.entry_points[index];
        let EntryKind::Kernel { block } = entry.kind else {
            unreachable!("write_kernel is called for #[gpu_kernel] entry points")
        };
        let threads = block.iter().product::<u32>();
        let function = &module.functions[entry.function];
        if threads % 32 != 0 && self.info.function(entry.function).uses_collectives {
            return Err(Error::PartialWarp {
                kernel: entry.name.clone(),
                threads,
            });
        }
        let names = self.function_names(function);
        let symbol = self.names.kernels[index].clone();
        let body = self.names.functions[entry.function.index()].clone();

        writeln!(self.out)?;
        writeln!(
            self.out,
            "// Entry point `{}`: block {}x{}x{}.",
            entry.name, block[0], block[1], block[2]
        )?;
        self.write_line_directive(module.functions.span(entry.function))?;
        write!(
            self.out,
            "extern \"C\" __global__ void __launch_bounds__({threads}) {symbol}("
        )?;
        let mut params = Vec::new();
        let mut args = Vec::new();
        for &param in &function.params {
            let local = &function.locals[param];
            write!(
                self.out,
                "{}, ",
                self.declaration(local.ty, &names, param.index())
            )?;
            let name = names.locals[param.index()].clone();
            match &names.slice_lens[param.index()] {
                Some(len) => args.push(format!("{name}, {len}")),
                None => args.push(name),
            }
            params.push(KernelParam {
                name: local.name.clone(),
                abi: self.param_abi(local.ty),
            });
        }
        writeln!(self.out, "rk_fault_record* __rk_fault_record) {{")?;
        writeln!(
            self.out,
            "    rk_fault_ctx __rk_ctx = rk_fault_ctx_new(__rk_fault_record);"
        )?;
        write!(self.out, "    {body}(&__rk_ctx")?;
        for arg in &args {
            write!(self.out, ", {arg}")?;
        }
        writeln!(self.out, ");")?;
        writeln!(self.out, "}}")?;

        Ok(KernelInfo {
            name: entry.name.clone(),
            symbol,
            params,
            block,
            max_threads_per_block: threads,
            static_shared_bytes: self.static_shared_bytes(entry.function),
            actor: None,
            wiring: None,
        })
    }

    fn param_abi(&self, ty: Handle<Type>) -> ParamAbi {
        match &self.module.types[ty] {
            Type::Scalar(s) => ParamAbi::Scalar(*s),
            Type::Slice { elem, mutable } => ParamAbi::Slice {
                elem_size: type_size(self.module, *elem),
                elem_align: type_align(self.module, *elem),
                mutable: *mutable,
            },
            Type::Ref { target, mutable } => ParamAbi::Pointer {
                size: type_size(self.module, *target),
                mutable: *mutable,
            },
            _ => ParamAbi::Value {
                size: type_size(self.module, ty),
                align: type_align(self.module, ty),
            },
        }
    }

    /// Whether `function` is the handler of a `#[ring_kernel(warps = 1)]`
    /// actor (device functions cannot take the context, so only handlers
    /// use the intrinsics that depend on it).
    pub(super) fn is_warp_actor(&self, function: Handle<Function>) -> bool {
        self.module
            .entry_points
            .iter()
            .any(|e| e.function == function && matches!(&e.kind, EntryKind::Actor(a) if a.warp))
    }

    /// The `__shared__` bytes a kernel declares: the shared arrays of every
    /// function it reaches, then the 32-element scratch of each distinct
    /// block reduction, each aligned to its element (none in a warp actor,
    /// whose block reductions are warp reductions).
    pub(super) fn static_shared_bytes(&self, root: Handle<Function>) -> u64 {
        let warp_actor = self.is_warp_actor(root);
        let mut reached = vec![false; self.module.functions.len()];
        let mut stack = vec![root];
        let mut reductions: Vec<(ReduceOp, &'static str, u64)> = Vec::new();
        while let Some(f) = stack.pop() {
            if std::mem::replace(&mut reached[f.index()], true) {
                continue;
            }
            let function = &self.module.functions[f];
            let info = self.info.function(f);
            visit_statements(&function.body, &mut |statement| match statement {
                Statement::Call { function, .. } => stack.push(*function),
                Statement::Intrinsic {
                    op: IntrinsicOp::BlockReduce(op),
                    arguments,
                    ..
                } if !(warp_actor && f == root) => {
                    if let Some(s) = info.expression_type(arguments[0]).scalar() {
                        let entry = (*op, suffix(s), s.size());
                        if !reductions.contains(&entry) {
                            reductions.push(entry);
                        }
                    }
                }
                _ => {}
            });
        }
        let mut bytes = 0u64;
        for (handle, function) in self.module.functions.iter() {
            if !reached[handle.index()] {
                continue;
            }
            for (_, shared) in function.shared.iter() {
                let align = type_align(self.module, shared.ty);
                bytes = bytes.next_multiple_of(align) + type_size(self.module, shared.ty);
            }
        }
        for (_, _, size) in reductions {
            bytes = bytes.next_multiple_of(size) + 32 * size;
        }
        bytes
    }
}

pub(super) fn visit_statements(block: &Block, f: &mut impl FnMut(&Statement)) {
    for statement in &block.statements {
        f(statement);
        match statement {
            Statement::If { accept, reject, .. } => {
                visit_statements(accept, f);
                visit_statements(reject, f);
            }
            Statement::Block(b) | Statement::Loop { body: b, .. } => visit_statements(b, f),
            _ => {}
        }
    }
}
