//! A [`KernelSource`] made ready to launch, once per runtime: transpiled,
//! its kernels' parameter lists read from the IR and the back end's
//! metadata, and (lazily, per backend) compiled for the interpreter or
//! loaded into the device.
//!
//! Launches are memoised by the *content* of the source (its items, checks
//! and kind), not by kernel name: kernels that share their items share one
//! transpilation and one CUDA module, and two sources with the same name
//! but different code never collide.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use ringkernel_transpiler::back::cuda::{KernelInfo, ParamAbi};
use ringkernel_transpiler::interp::Program;
use ringkernel_transpiler::ir::{Module, Scalar, Type};
use ringkernel_transpiler::pipeline::Transpiled;
use ringkernel_transpiler::source::KernelSource;

use crate::cuda::cache::{CacheKey, KeyHasher};
use crate::cuda::compile::CudaSource;
use crate::cuda::module::{KernelFunction, LoadedModule};
use crate::error::{Error, Result};

/// One Rust parameter of a kernel, as launch arguments are checked against it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ParamKind {
    Scalar(Scalar),
    /// A struct or array by value.
    Value {
        size: u64,
        ty: String,
    },
    Slice {
        elem_size: u64,
        /// The element's scalar type, when it is one.
        elem_scalar: Option<Scalar>,
        elem_ty: String,
        mutable: bool,
    },
    /// `&T`/`&mut T` (handler parameters; not launchable with `launch`).
    Reference {
        ty: String,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) kind: ParamKind,
}

/// A kernel entry point of a prepared module.
#[derive(Debug, Clone)]
pub(crate) struct KernelSpec {
    pub(crate) info: KernelInfo,
    pub(crate) params: Vec<Param>,
}

/// A transpiled source and its per-backend artefacts.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) transpiled: Transpiled,
    pub(crate) kernels: HashMap<String, KernelSpec>,
    pub(crate) cuda_source: CudaSource,
    /// The interpreter's compiled program (CPU backend), made on first use.
    pub(crate) program: OnceLock<Program>,
    /// The loaded module (CUDA backend), made on first use.
    pub(crate) module: Mutex<Option<Arc<LoadedModule>>>,
    /// Kernel functions looked up in `module`, by kernel name.
    pub(crate) functions: Mutex<HashMap<String, KernelFunction>>,
}

impl Prepared {
    pub(crate) fn new(source: &KernelSource) -> Result<Prepared> {
        let transpiled = source.transpile().map_err(|error| Error::Transpile {
            kernel: source.name.clone(),
            report: render(source, &error),
            error: Box::new(error),
        })?;
        let mut kernels = HashMap::new();
        for info in &transpiled.cuda.kernels {
            let params = params(&transpiled.module, info);
            kernels.insert(
                info.name.clone(),
                KernelSpec {
                    info: info.clone(),
                    params,
                },
            );
        }
        let cuda_source = CudaSource::of_output(source, &transpiled.cuda);
        Ok(Prepared {
            transpiled,
            kernels,
            cuda_source,
            program: OnceLock::new(),
            module: Mutex::new(None),
            functions: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn kernel(&self, name: &str) -> Result<&KernelSpec> {
        self.kernels.get(name).ok_or_else(|| Error::UnknownKernel {
            kernel: name.to_string(),
        })
    }
}

/// The memo key of a source: everything `transpile` reads except the name.
pub(crate) fn memo_key(source: &KernelSource) -> CacheKey {
    let mut h = KeyHasher::new();
    h.field(b"kernel-source")
        .field(format!("{:?} {}", source.kind, source.overflow_checks).as_bytes())
        .field(&[crate::cuda::compile::actor_trace_mode()]);
    for item in &source.items {
        h.field(item.file.as_bytes())
            .field(&item.line.to_le_bytes())
            .field(item.text.as_bytes());
    }
    h.finish()
}

fn render(source: &KernelSource, error: &ringkernel_transpiler::pipeline::Error) -> String {
    // Items keep their real positions (`SourceText::padded`), each in its
    // own file: the source renders its errors itself.
    source.render_error(error)
}

/// The parameters of `info`'s entry point, from its IR signature.
fn params(module: &Module, info: &KernelInfo) -> Vec<Param> {
    let function = module
        .entry_points
        .iter()
        .find(|e| e.name == info.name)
        .map(|e| &module.functions[e.function]);
    info.params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let ir_ty = function
                .and_then(|f| f.params.get(i).map(|&l| f.locals[l].ty))
                .map(|t| &module.types[t]);
            let name = p.name.clone().unwrap_or_else(|| format!("#{i}"));
            let kind = match p.abi {
                ParamAbi::Scalar(s) => ParamKind::Scalar(s),
                ParamAbi::Value { size, .. } => ParamKind::Value {
                    size,
                    ty: ir_ty
                        .map_or_else(|| format!("{size}-byte value"), |t| type_name(module, t)),
                },
                ParamAbi::Slice {
                    elem_size, mutable, ..
                } => {
                    let elem = match ir_ty {
                        Some(Type::Slice { elem, .. }) => Some(&module.types[*elem]),
                        _ => None,
                    };
                    ParamKind::Slice {
                        elem_size,
                        elem_scalar: match elem {
                            Some(Type::Scalar(s)) => Some(*s),
                            _ => None,
                        },
                        elem_ty: elem.map_or_else(
                            || format!("{elem_size}-byte elements"),
                            |t| type_name(module, t),
                        ),
                        mutable,
                    }
                }
                ParamAbi::Pointer { size, .. } => ParamKind::Reference {
                    ty: ir_ty
                        .map_or_else(|| format!("{size}-byte value"), |t| type_name(module, t)),
                },
            };
            Param { name, kind }
        })
        .collect()
}

/// A Rust spelling of an IR type, for argument errors.
pub(crate) fn type_name(module: &Module, ty: &Type) -> String {
    match ty {
        Type::Unit => "()".into(),
        Type::Scalar(s) => s.rust_name().into(),
        Type::Array { elem, len } => {
            format!("[{}; {len}]", type_name(module, &module.types[*elem]))
        }
        Type::Struct(s) => s.name.clone(),
        Type::Slice { elem, mutable } => format!(
            "&{}[{}]",
            if *mutable { "mut " } else { "" },
            type_name(module, &module.types[*elem])
        ),
        Type::Ref { target, mutable } => format!(
            "&{}{}",
            if *mutable { "mut " } else { "" },
            type_name(module, &module.types[*target])
        ),
    }
}
