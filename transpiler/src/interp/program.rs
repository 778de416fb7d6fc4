//! A module compiled for the interpreter: every function's instructions,
//! frame layout and parameters, and the block's shared-memory layout.
//!
//! Compiling once and running many times is the point: the actor runtime
//! keeps a [`Program`] per actor and runs a handler per message, and a grid
//! launch reuses it for every block. A `Program` owns everything it needs
//! (no borrow of the [`Module`]), and is `Send + Sync`.

use std::fmt;

use crate::arena::Handle;
use crate::ir::{Module, Type};

use super::error::{InterpError, Location};
use super::expr::ExprCompiler;
use super::layout::{align_up, classify, frame_layout, size_align, Ty, TypeOf};
use super::stmt::{CFunc, FnCompiler, ParamInfo};

/// A compiled module, ready to run any of its functions.
pub struct Program {
    pub(crate) funcs: Vec<CFunc>,
    /// Entry-point names, function indices and declared block shapes.
    pub(crate) entries: Vec<(String, usize, [u32; 3])>,
    pub(crate) shared_size: usize,
    /// Start, end and name of each shared array in shared memory.
    pub(crate) shared_arrays: Vec<(usize, usize, Option<String>)>,
    pub(crate) source_file: Option<String>,
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Program")
            .field(
                "functions",
                &self.funcs.iter().map(|c| &c.name).collect::<Vec<_>>(),
            )
            .field("entries", &self.entries)
            .field("shared_size", &self.shared_size)
            .finish()
    }
}

impl Program {
    /// Compiles every function of `module`.
    pub fn compile(module: &Module) -> Result<Program, InterpError> {
        let mut layouts = Vec::new();
        let mut params = Vec::new();
        for (_, func) in module.functions.iter() {
            let (offsets, size) = frame_layout(module, func);
            params.push(
                func.params
                    .iter()
                    .map(|&p| (offsets[p.index()], classify(module, func.locals[p].ty)))
                    .collect::<Vec<_>>(),
            );
            layouts.push((offsets, size));
        }

        let mut shared_top = 0u64;
        let mut shared_arrays = Vec::new();
        let mut shared_offsets = Vec::new();
        for (_, func) in module.functions.iter() {
            let mut offs = Vec::new();
            for (_, arr) in func.shared.iter() {
                let (size, align) = size_align(module, arr.ty);
                shared_top = align_up(shared_top, align.max(1));
                offs.push(shared_top as usize);
                shared_arrays.push((
                    shared_top as usize,
                    (shared_top + size) as usize,
                    arr.name.clone(),
                ));
                shared_top += size;
            }
            shared_offsets.push(offs);
        }

        let mut funcs = Vec::new();
        for (((h, func), (offsets, frame_size)), shared) in
            module.functions.iter().zip(layouts).zip(shared_offsets)
        {
            let ex = ExprCompiler {
                module,
                func,
                types: TypeOf::new(module, func),
                local_offsets: offsets,
                shared_offsets: shared,
            };
            let mut fc = FnCompiler::new(ex, &params);
            fc.compile_body().map_err(|e| InterpError::Unsupported {
                function: func.name.clone(),
                location: Location::new(module.source_file.as_deref(), e.span),
                what: e.what,
            })?;
            funcs.push(CFunc {
                name: func.name.clone(),
                code: fc.code,
                spans: fc.spans,
                frame_size,
                params: params[h.index()].clone(),
                param_info: func
                    .params
                    .iter()
                    .map(|&p| param_info(module, func.locals[p].ty))
                    .collect(),
                param_names: func
                    .params
                    .iter()
                    .map(|&p| func.locals[p].name.clone())
                    .collect(),
                result: func.result.map_or(Ty::Unit, |r| classify(module, r)),
            });
        }
        Ok(Program {
            funcs,
            entries: module
                .entry_points
                .iter()
                .map(|e| (e.name.clone(), e.function.index(), e.kind.block()))
                .collect(),
            shared_size: align_up(shared_top, 16) as usize,
            shared_arrays,
            source_file: module.source_file.clone(),
        })
    }

    /// The function an entry point or function name refers to.
    pub(crate) fn lookup(&self, name: &str) -> Option<usize> {
        self.entries
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|&(_, f, _)| f)
            .or_else(|| self.funcs.iter().position(|f| f.name == name))
    }

    /// The block shape kernel entry point `entry` declares (its
    /// `block_size` / `block` attribute), to build a [`super::Launch`] from.
    pub fn entry_block(&self, entry: &str) -> Option<[u32; 3]> {
        self.entries
            .iter()
            .find(|(n, _, _)| n == entry)
            .map(|&(_, _, b)| b)
    }

    pub(crate) fn location(&self, span: crate::span::Span) -> Location {
        Location::new(self.source_file.as_deref(), span)
    }
}

fn param_info(module: &Module, ty: Handle<Type>) -> ParamInfo {
    let pointee = match &module.types[ty] {
        Type::Slice { elem, .. } => *elem,
        Type::Ref { target, .. } => *target,
        _ => ty,
    };
    ParamInfo {
        size: size_align(module, pointee).0 as usize,
        scalar: match module.types[pointee] {
            Type::Scalar(s) => Some(s),
            _ => None,
        },
    }
}
