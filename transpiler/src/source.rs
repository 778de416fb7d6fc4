//! [`KernelSource`]: a kernel or actor as the macros describe it, ready to
//! transpile at build time or load time.
//!
//! The proc macros cannot transpile by themselves: the layouts of the types a
//! handler uses are only known to rustc (the derives record them with
//! `size_of`/`offset_of!`), and a handler's `#[device_fn]` callees live in
//! other items. So `#[ring_kernel]`/`#[gpu_kernel]` emit a `kernel()` that
//! builds a `KernelSource` (the Rust text of the handler and of its callees,
//! with where each came from, plus the host layouts), and every consumer
//! (`cuda_source()`, the runtime, the build helper) calls
//! [`KernelSource::transpile`]: one front end, byte-identical CUDA.

use crate::back::cuda;
use crate::front::rust;
use crate::pipeline::{self, Transpiled};

/// What kind of entry point [`KernelSource::name`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A data-parallel `#[gpu_kernel]`.
    GpuKernel,
    /// A persistent `#[ring_kernel]` actor.
    RingKernel,
}

/// The Rust text of one item and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceText {
    /// The item's tokens as the user wrote them (attributes included).
    pub text: String,
    /// The file the item is in (as `file!()` says), for `#line` and faults.
    pub file: String,
    /// The 1-based line of the item's first character in `file`.
    pub line: u32,
}

/// A kernel or actor and everything needed to transpile it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelSource {
    /// The Rust name of the kernel or handler function.
    pub name: String,
    pub kind: SourceKind,
    /// The kernel's own item first, then the `#[device_fn]`s it calls,
    /// directly or not, and the `#[repr(C)]` types it uses.
    pub items: Vec<SourceText>,
    /// Overflow checks (Rust's `overflow-checks`).
    pub overflow_checks: bool,
}

impl KernelSource {
    /// Runs the pipeline on the items. The result has exactly one entry
    /// point, `self.name`.
    pub fn transpile(&self) -> Result<Transpiled, pipeline::Error> {
        let mut items = Vec::new();
        for text in &self.items {
            let file = syn::parse_file(&text.text).map_err(|e| {
                pipeline::Error::Front(rust::Diagnostics::from(rust::FrontError::unsupported(
                    "syntax that does not parse as Rust",
                    "fix the syntax error",
                    e.span(),
                )))
            })?;
            items.extend(file.items);
        }
        let front = rust::Options {
            overflow_checks: self.overflow_checks,
            source_file: self.items.first().map(|t| t.file.clone()),
        };
        pipeline::transpile_items(&items, &front, &cuda::Options::default())
    }
}
