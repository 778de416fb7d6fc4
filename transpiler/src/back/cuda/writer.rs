//! The writer: module layout, output line tracking for `#line`, and the
//! module-scope names. The concerns it delegates live beside it: types and
//! structs (`types.rs`), expressions (`expr.rs`), statements (`stmt.rs`),
//! functions and kernels (`function.rs`).

use std::fmt::{self, Write as _};

use crate::arena::Handle;
use crate::ir::{Expression, Module, Type};
use crate::span::Span;
use crate::valid::ModuleInfo;

use super::namer::Namer;
use super::{Error, KernelInfo, Options, RUST_HEADER};

/// A `fmt::Write` that counts the lines written, so `#line` directives are
/// only emitted where the implied Rust line would be wrong.
pub(super) struct LineCounter<W> {
    inner: W,
    /// The 1-based number of the line being written.
    line: u64,
    /// While set, output goes here instead (see [`Writer::expr_string`]).
    capture: Option<String>,
}

impl<W: fmt::Write> fmt::Write for LineCounter<W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(capture) = &mut self.capture {
            capture.push_str(s);
            return Ok(());
        }
        self.line += s.bytes().filter(|&b| b == b'\n').count() as u64;
        self.inner.write_str(s)
    }
}

/// Module-scope C names, indexed like the IR arenas.
#[derive(Debug, Default)]
pub(super) struct ModuleNames {
    /// Per type: the C spelling (scalars, arrays, structs; empty for unit,
    /// slices and references, which have none of their own).
    pub types: Vec<String>,
    /// Per struct type: the member names; empty for other types.
    pub members: Vec<Vec<String>>,
    /// Per function: the device function's name.
    pub functions: Vec<String>,
    /// Per entry point: the kernel symbol.
    pub kernels: Vec<String>,
    /// Per type: whether some `Compose`/`Splat` needs its constructor
    /// (unused static functions draw NVRTC warnings).
    pub constructed: Vec<bool>,
}

/// Writes one module as CUDA C (naga's back-end shape: `write_*` methods
/// over an `fmt::Write`).
pub struct Writer<'a, W: fmt::Write> {
    pub(super) out: LineCounter<W>,
    pub(super) module: &'a Module,
    pub(super) info: &'a ModuleInfo,
    pub(super) options: &'a Options,
    pub(super) names: ModuleNames,
    /// The namer of module scope; function and struct scopes clone it.
    pub(super) namer: Namer,
    /// `(output line, Rust line)` of the last `#line` directive.
    line_map: Option<(u64, u32)>,
}

impl<W: fmt::Write> fmt::Debug for Writer<'_, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("line", &self.out.line)
            .field("options", self.options)
            .finish_non_exhaustive()
    }
}

impl<'a, W: fmt::Write> Writer<'a, W> {
    /// Prepares a writer, naming every module-scope entity.
    pub fn new(
        out: W,
        module: &'a Module,
        info: &'a ModuleInfo,
        options: &'a Options,
    ) -> Result<Self, Error> {
        let mut writer = Writer {
            out: LineCounter {
                inner: out,
                line: 1,
                capture: None,
            },
            module,
            info,
            options,
            names: ModuleNames::default(),
            namer: Namer::new(),
            line_map: None,
        };
        writer.name_module()?;
        Ok(writer)
    }

    /// Kernel symbols first (they must be exact), then types, then device
    /// functions; members last, so they avoid every module-scope name.
    fn name_module(&mut self) -> Result<(), Error> {
        for entry in &self.module.entry_points {
            if !Namer::is_usable(&entry.name) || !self.namer.reserve_exact(&entry.name) {
                return Err(Error::InvalidEntryName {
                    name: entry.name.clone(),
                });
            }
            self.names.kernels.push(entry.name.clone());
        }
        for (handle, _) in self.module.types.iter() {
            let name = self.type_c_name(handle);
            self.names.types.push(name);
        }
        self.names.constructed = vec![false; self.module.types.len()];
        for (_, function) in self.module.functions.iter() {
            for (_, expr) in function.expressions.iter() {
                if let Expression::Compose { ty, .. } | Expression::Splat { ty, .. } = expr {
                    self.names.constructed[ty.index()] = true;
                }
            }
        }
        for (handle, function) in self.module.functions.iter() {
            let is_entry = self
                .module
                .entry_points
                .iter()
                .any(|e| e.function == handle);
            let base = if is_entry {
                format!("{}_body", function.name)
            } else {
                function.name.clone()
            };
            let name = self.namer.call(&base);
            self.names.functions.push(name);
        }
        for (_, ty) in self.module.types.iter() {
            let members = match ty {
                Type::Struct(s) => {
                    let mut member_namer = self.namer.clone();
                    s.members
                        .iter()
                        .map(|m| member_namer.call(&m.name))
                        .collect()
                }
                _ => Vec::new(),
            };
            self.names.members.push(members);
        }
        Ok(())
    }

    /// Writes the whole module and returns the kernels' metadata.
    pub fn write(mut self) -> Result<Vec<KernelInfo>, Error> {
        writeln!(
            self.out,
            "// Generated by ringkernel-transpiler from Rust source; do not edit."
        )?;
        if let Some(file) = &self.module.source_file {
            writeln!(self.out, "// Source: {}", file.replace(['\n', '\r'], " "))?;
        }
        writeln!(self.out, "#include \"{}\"", RUST_HEADER.name)?;
        if self
            .module
            .entry_points
            .iter()
            .any(|e| matches!(e.kind, crate::ir::EntryKind::Actor(_)))
        {
            writeln!(self.out, "#include \"{}\"", super::ACTOR_HEADER.name)?;
        }
        self.write_types()?;
        for (handle, _) in self.module.functions.iter() {
            self.write_function(handle)?;
        }
        let mut kernels = Vec::new();
        for index in 0..self.module.entry_points.len() {
            let kernel = match self.module.entry_points[index].kind {
                crate::ir::EntryKind::Kernel { .. } => self.write_kernel(index)?,
                crate::ir::EntryKind::Actor(_) => self.write_actor(index)?,
            };
            kernels.push(kernel);
        }
        Ok(kernels)
    }

    /// The C name of a type handle (used where a declaration needs it).
    pub(super) fn type_name(&self, ty: Handle<Type>) -> &str {
        &self.names.types[ty.index()]
    }

    /// Emits `#line` before a statement (or function) at `span`, unless the
    /// line the compiler would assume is already right.
    pub(super) fn write_line_directive(&mut self, span: Span) -> fmt::Result {
        if !self.options.line_directives || !span.is_known() {
            return Ok(());
        }
        let rust_line = span.start.line;
        if let Some((out_line, mapped)) = self.line_map {
            let implied = u64::from(mapped) + (self.out.line - out_line);
            if implied == u64::from(rust_line) {
                return Ok(());
            }
        }
        match &self.module.source_file {
            Some(file) => writeln!(self.out, "#line {rust_line} \"{}\"", escape_c_string(file))?,
            None => writeln!(self.out, "#line {rust_line}")?,
        }
        self.line_map = Some((self.out.line, rust_line));
        Ok(())
    }

    /// Runs `write` with the output captured, and returns what it wrote
    /// (expressions are written into a string first so statements can drop
    /// redundant outer parentheses).
    pub(super) fn capture(
        &mut self,
        write: impl FnOnce(&mut Self) -> fmt::Result,
    ) -> Result<String, fmt::Error> {
        let saved = self.out.capture.replace(String::new());
        let result = write(self);
        let captured = std::mem::replace(&mut self.out.capture, saved).unwrap_or_default();
        result.map(|()| captured)
    }

    pub(super) fn indent(&mut self, level: usize) -> fmt::Result {
        for _ in 0..level {
            self.out.write_str("    ")?;
        }
        Ok(())
    }
}

/// A file name inside a C string literal.
fn escape_c_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
