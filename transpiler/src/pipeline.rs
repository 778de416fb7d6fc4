//! The whole pipeline in one call: Rust source → front end → passes →
//! validation → CUDA. Everything that turns Rust into CUDA (the macros'
//! `cuda_source()`, the build helper, the CLI, the runtime, the tests) goes
//! through [`transpile_items`], so build-time and load-time CUDA are
//! byte-identical for the same input.

use crate::back::cuda;
use crate::front::rust::{self, Diagnostics};
use crate::ir::Module;
use crate::valid::{self, ModuleInfo, ValidationError, WithSpan};

/// What the pipeline produced: the optimised, validated IR (which the
/// interpreter runs) and the CUDA the back end wrote from it.
#[derive(Debug, Clone)]
pub struct Transpiled {
    pub module: Module,
    pub info: ModuleInfo,
    pub cuda: cuda::Output,
}

/// Why the pipeline stopped.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The Rust was rejected: one spanned error per problem.
    #[error("{0}")]
    Front(Diagnostics),
    /// The IR the front end built is invalid: a transpiler bug, never the
    /// user's fault.
    #[error("internal error: the front end produced invalid IR: {0}")]
    Invalid(WithSpan<ValidationError>),
    /// The back end could not write the module.
    #[error("{0}")]
    Back(#[from] cuda::Error),
}

impl Error {
    /// The error as a report with `file:line:column` and the offending source
    /// lines, the way rustc prints them.
    pub fn render(&self, file: &str, source: &str) -> String {
        match self {
            Error::Front(d) => d.render(file, source),
            other => other.to_string(),
        }
    }
}

/// Lowers, optimises, validates and writes `items`.
pub fn transpile_items(
    items: &[syn::Item],
    front: &rust::Options,
    back: &cuda::Options,
) -> Result<Transpiled, Error> {
    let mut module = rust::lower_items(items, front).map_err(Error::Front)?;
    finish(&mut module, back).map(|(info, cuda)| Transpiled { module, info, cuda })
}

/// [`transpile_items`] on the text of a Rust file.
pub fn transpile_source(
    source: &str,
    front: &rust::Options,
    back: &cuda::Options,
) -> Result<Transpiled, Error> {
    let mut module = rust::lower_file(source, front).map_err(Error::Front)?;
    finish(&mut module, back).map(|(info, cuda)| Transpiled { module, info, cuda })
}

fn finish(module: &mut Module, back: &cuda::Options) -> Result<(ModuleInfo, cuda::Output), Error> {
    crate::passes::run(module);
    let info = valid::validate(module).map_err(Error::Invalid)?;
    let cuda = cuda::write_module(module, &info, back)?;
    Ok((info, cuda))
}
