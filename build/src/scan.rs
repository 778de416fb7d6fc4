//! Reading a crate's kernels from its files: every `#[gpu_kernel]` and
//! `#[ring_kernel]`, as the [`KernelSource`] its macro would build.
//!
//! The macros describe a kernel by its item text at its position
//! ([`item_text`]), the texts of the `#[device_fn]`s it calls (bare names,
//! resolved by rustc through `use super::*`) and the host layouts of the
//! structs it names (recorded by the derives with rustc's `offset_of!`).
//! Here the same three come from the files:
//! - the texts from the items syn parses out of each file, without their
//!   RingKernel attribute, through the same [`item_text`];
//! - callees and struct names from the same [`referenced_names`], resolved
//!   by bare name among the crate's `#[device_fn]`s and `GpuType` /
//!   `RingMessage` structs (a name defined twice, or not at all, is an
//!   error: the helper does not guess which one rustc would pick);
//! - layouts from the front end's own `repr(C)` computation of the struct
//!   items, as `TypeLayout`s with the positions the derives record. These
//!   agree with rustc's for every struct the derives accept (the front end
//!   refuses any host layout that disagrees with that computation), and
//!   the runtime compares the embedded CUDA with its own transpilation
//!   before using an image, so a difference fails loudly, never silently.
//!
//! Then [`collect`] builds the item and layout lists exactly as
//! `ItemSource::kernel_source` does for the macros.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::ToTokens;
use ringkernel_device::layout::{FieldLayout, FieldType, ScalarKind, TypeLayout};
use ringkernel_transpiler::front::rust::precheck::referenced_names;
use ringkernel_transpiler::front::rust::types::size_align;
use ringkernel_transpiler::front::rust::{self, fn_kind, FnKind};
use ringkernel_transpiler::ir::{FloatKind, IntKind, Module, Scalar, Type};
use ringkernel_transpiler::source::{collect, item_text, KernelSource, SourceKind, SourceText};

/// Why a crate's kernels could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ScanError {
    #[error("cannot read {path}: {error}")]
    Read { path: PathBuf, error: String },
    /// A front-end error, rendered with its file, line and source line.
    #[error("{report}")]
    Front { report: String },
    /// A problem with the crate as a whole, at an item.
    #[error("{file}:{line}:{column}: error: {message}")]
    At {
        file: String,
        line: u32,
        column: u32,
        message: String,
    },
}

/// A source file: its name as `file!()` gives it in the crate, its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    /// The module path of the file's items (`crate::a::b`).
    pub module: String,
}

#[derive(Debug)]
struct StructDef {
    file: usize,
    module: String,
    item: syn::ItemStruct,
}

#[derive(Debug)]
struct FnDef {
    file: usize,
    name: String,
    kind: FnKind,
    text: SourceText,
    calls: Vec<syn::Ident>,
    types: Vec<syn::Ident>,
    line: u32,
    column: u32,
}

/// A kernel found in the crate.
#[derive(Debug, Clone)]
pub struct FoundKernel {
    pub source: KernelSource,
    /// The Rust function's name (the entry point may be renamed).
    pub function: String,
    pub file: String,
    pub line: u32,
}

/// The RingKernel items of a set of files.
#[derive(Debug, Default)]
pub struct Crate {
    files: Vec<SourceFile>,
    structs: Vec<StructDef>,
    fns: Vec<FnDef>,
}

impl Crate {
    /// Every `.rs` file under `src_dir` (sorted, so the output does not
    /// depend on directory order), each named `prefix/<path under src_dir>`
    /// the way rustc's `file!()` names it for this crate.
    pub fn scan_dir(src_dir: &Path, prefix: &str, crate_name: &str) -> Result<Crate, ScanError> {
        let mut paths = Vec::new();
        rust_files(src_dir, &mut paths)?;
        paths.sort();
        let mut files = Vec::new();
        for path in paths {
            let relative = path.strip_prefix(src_dir).unwrap_or(&path);
            let relative_text = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let name = if prefix.is_empty() {
                relative_text.clone()
            } else {
                format!("{}/{relative_text}", prefix.trim_end_matches('/'))
            };
            let text = std::fs::read_to_string(&path).map_err(|e| ScanError::Read {
                path: path.clone(),
                error: e.to_string(),
            })?;
            files.push(SourceFile {
                name,
                text,
                module: module_of(crate_name, &relative_text),
            });
        }
        Crate::from_files(files)
    }

    /// The items of `files` (what the CLI uses for one file).
    pub fn from_files(files: Vec<SourceFile>) -> Result<Crate, ScanError> {
        let mut krate = Crate {
            files,
            ..Crate::default()
        };
        let mut errors = Vec::new();
        for index in 0..krate.files.len() {
            let file = &krate.files[index];
            let parsed = syn::parse_file(&file.text).map_err(|e| {
                let at = e.span().start();
                ScanError::At {
                    file: file.name.clone(),
                    line: at.line as u32,
                    column: at.column as u32 + 1,
                    message: format!("this file does not parse as Rust: {e}"),
                }
            })?;
            let module = file.module.clone();
            let mut found = Found::default();
            visit_items(&parsed.items, &module, &mut found);
            for (module, item) in found.structs {
                krate.structs.push(StructDef {
                    file: index,
                    module,
                    item,
                });
            }
            for f in found.fns {
                match fn_def(index, &krate.files[index].name, f) {
                    Ok(Some(def)) => krate.fns.push(def),
                    Ok(None) => {}
                    Err(e) => errors.push(e),
                }
            }
        }
        match errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(krate),
        }
    }

    /// Every kernel of the crate, in file and line order, each as its
    /// macro would describe it with `overflow_checks` (the crate's
    /// `debug_assertions`).
    pub fn kernels(&self, overflow_checks: bool) -> Result<Vec<FoundKernel>, ScanError> {
        let mut layouts = LayoutCache::default();
        // Resolved callees and layouts per function, built for all first so
        // `collect` can walk references.
        let mut nodes: Vec<Node> = Vec::new();
        for def in &self.fns {
            let mut layout_list = Vec::new();
            for ty in &def.types {
                let index = self.resolve_struct(def, ty)?;
                layout_list.push(layouts.layout(self, index)?);
            }
            nodes.push(Node {
                text: def.text.clone(),
                callees: Vec::new(),
                layouts: layout_list,
            });
        }
        for (i, def) in self.fns.iter().enumerate() {
            let mut callees = Vec::new();
            for call in &def.calls {
                if *call == def.name {
                    continue;
                }
                callees.push(self.resolve_fn(def, call)?);
            }
            nodes[i].callees = callees;
        }
        let mut out = Vec::new();
        let mut entries: HashMap<String, &FnDef> = HashMap::new();
        for (i, def) in self.fns.iter().enumerate() {
            let (kind, attrs) = match &def.kind {
                FnKind::GpuKernel(a) => (SourceKind::GpuKernel, a),
                FnKind::RingKernel(a) => (SourceKind::RingKernel, a),
                FnKind::DeviceFn => continue,
            };
            let entry = attrs.name.clone().unwrap_or_else(|| def.name.clone());
            if let Some(other) = entries.insert(entry.clone(), def) {
                return Err(self.error_at(
                    def,
                    format!(
                        "a second kernel with entry point `{entry}` (the first is at {}:{}); embedded kernels are found by entry name, so give one `name = \"...\"`",
                        self.files[other.file].name, other.line
                    ),
                ));
            }
            let (items, layouts) = collect(
                &nodes[i],
                |n| n.callees.iter().map(|&c| &nodes[c]).collect(),
                |n| &n.layouts,
                |n| n.text.clone(),
            );
            out.push(FoundKernel {
                source: KernelSource {
                    name: entry,
                    kind,
                    items,
                    layouts,
                    overflow_checks,
                },
                function: def.name.clone(),
                file: self.files[def.file].name.clone(),
                line: def.line,
            });
        }
        Ok(out)
    }

    fn error_at(&self, def: &FnDef, message: String) -> ScanError {
        ScanError::At {
            file: self.files[def.file].name.clone(),
            line: def.line,
            column: def.column + 1,
            message,
        }
    }

    fn ident_error(&self, def: &FnDef, ident: &syn::Ident, message: String) -> ScanError {
        let at = ident.span().start();
        ScanError::At {
            file: self.files[def.file].name.clone(),
            line: at.line as u32,
            column: at.column as u32 + 1,
            message,
        }
    }

    fn resolve_fn(&self, def: &FnDef, call: &syn::Ident) -> Result<usize, ScanError> {
        let name = call.to_string();
        let found: Vec<usize> = self
            .fns
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name == name && matches!(f.kind, FnKind::DeviceFn))
            .map(|(i, _)| i)
            .collect();
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(self.ident_error(
                def,
                call,
                format!(
                    "`{}` calls `{name}`, which is not a `#[device_fn]` in this crate's sources; the build helper only sees the crate's own files",
                    def.name
                ),
            )),
            _ => Err(self.ident_error(
                def,
                call,
                format!(
                    "`{name}` names {} `#[device_fn]`s of this crate; the build helper resolves calls by bare name, so rename all but one",
                    found.len()
                ),
            )),
        }
    }

    fn resolve_struct(&self, def: &FnDef, ty: &syn::Ident) -> Result<usize, ScanError> {
        let name = ty.to_string();
        let found = self.structs_named(&name);
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(self.ident_error(
                def,
                ty,
                format!(
                    "`{}` uses `{name}`, which is not a `#[derive(GpuType)]` / `#[derive(RingMessage)]` struct in this crate's sources; the build helper only sees the crate's own files",
                    def.name
                ),
            )),
            _ => Err(self.ident_error(
                def,
                ty,
                format!(
                    "`{name}` names {} GpuType structs of this crate; the device names structs by their bare name, so rename all but one",
                    found.len()
                ),
            )),
        }
    }

    fn structs_named(&self, name: &str) -> Vec<usize> {
        self.structs
            .iter()
            .enumerate()
            .filter(|(_, s)| s.item.ident == name)
            .map(|(i, _)| i)
            .collect()
    }
}

/// A function of the call graph [`collect`] walks.
#[derive(Debug)]
struct Node {
    text: SourceText,
    callees: Vec<usize>,
    layouts: Vec<&'static TypeLayout>,
}

/// Struct layouts, computed once per struct and leaked (`TypeLayout` holds
/// `&'static` references, as the derives' statics do; a build script or
/// CLI run computes a bounded number of them).
#[derive(Debug, Default)]
struct LayoutCache {
    done: HashMap<usize, &'static TypeLayout>,
}

impl LayoutCache {
    fn layout(&mut self, krate: &Crate, index: usize) -> Result<&'static TypeLayout, ScanError> {
        if let Some(done) = self.done.get(&index) {
            return Ok(done);
        }
        // The struct and every crate struct its fields name, transitively,
        // nested ones first (the front end needs a field's type before the
        // struct that uses it).
        let mut closure = Vec::new();
        nested_first(krate, index, &mut Vec::new(), &mut closure);
        let items: Vec<syn::Item> = closure
            .iter()
            .map(|&i| syn::Item::Struct(krate.structs[i].item.clone()))
            .collect();
        let def = &krate.structs[index];
        let file = &krate.files[def.file];
        let module =
            rust::lower_items(&items, &rust::Options::default()).map_err(|d| ScanError::Front {
                report: d.render(&file.name, &file.text),
            })?;
        self.convert(krate, &module, &closure, index)
    }

    fn convert(
        &mut self,
        krate: &Crate,
        module: &Module,
        closure: &[usize],
        index: usize,
    ) -> Result<&'static TypeLayout, ScanError> {
        if let Some(done) = self.done.get(&index) {
            return Ok(done);
        }
        let def = &krate.structs[index];
        let name = def.item.ident.to_string();
        let Some(Type::Struct(s)) = module
            .types
            .iter()
            .map(|(_, t)| t)
            .find(|t| matches!(t, Type::Struct(s) if s.name == name))
        else {
            let at = def.item.ident.span().start();
            return Err(ScanError::At {
                file: krate.files[def.file].name.clone(),
                line: at.line as u32,
                column: at.column as u32 + 1,
                message: format!("the front end did not produce struct `{name}`"),
            });
        };
        let mut fields = Vec::new();
        for member in &s.members {
            let (size, _) = size_align(module, member.ty);
            fields.push(FieldLayout {
                name: leak_str(&member.name),
                offset: member.offset as usize,
                size: size as usize,
                ty: self.field_type(krate, module, closure, member.ty)?,
            });
        }
        let at = def.item.ident.span().start();
        let layout: &'static TypeLayout = Box::leak(Box::new(TypeLayout {
            name: leak_str(&name),
            path: leak_str(&format!("{}::{name}", def.module)),
            file: leak_str(&krate.files[def.file].name),
            line: at.line as u32,
            column: at.column as u32,
            size: s.size as usize,
            align: s.align as usize,
            fields: Box::leak(fields.into_boxed_slice()),
        }));
        self.done.insert(index, layout);
        Ok(layout)
    }

    fn field_type(
        &mut self,
        krate: &Crate,
        module: &Module,
        closure: &[usize],
        ty: ringkernel_transpiler::arena::Handle<Type>,
    ) -> Result<FieldType, ScanError> {
        Ok(match &module.types[ty] {
            Type::Scalar(s) => FieldType::Scalar(scalar_kind(*s)),
            Type::Array { elem, len } => FieldType::Array {
                elem: Box::leak(Box::new(self.field_type(krate, module, closure, *elem)?)),
                len: *len as usize,
            },
            Type::Struct(s) => {
                let index = closure
                    .iter()
                    .copied()
                    .find(|&i| krate.structs[i].item.ident == s.name.as_str())
                    .expect("nested structs come from the closure");
                FieldType::Struct(self.convert(krate, module, closure, index)?)
            }
            other => unreachable!("the front end accepted a struct field of type {other:?}"),
        })
    }
}

/// Post-order over the struct-field graph (a cycle, which Rust rejects
/// anyway, is cut where it closes).
fn nested_first(krate: &Crate, index: usize, open: &mut Vec<usize>, out: &mut Vec<usize>) {
    if out.contains(&index) || open.contains(&index) {
        return;
    }
    open.push(index);
    let mut names = Vec::new();
    for field in &krate.structs[index].item.fields {
        type_idents(&field.ty, &mut names);
    }
    for name in names {
        for found in krate.structs_named(&name) {
            nested_first(krate, found, open, out);
        }
    }
    open.pop();
    out.push(index);
}

fn scalar_kind(s: Scalar) -> ScalarKind {
    match s {
        Scalar::Bool => ScalarKind::Bool,
        Scalar::Int(k) => match k {
            IntKind::I8 => ScalarKind::I8,
            IntKind::I16 => ScalarKind::I16,
            IntKind::I32 => ScalarKind::I32,
            IntKind::I64 => ScalarKind::I64,
            IntKind::Isize => ScalarKind::Isize,
            IntKind::U8 => ScalarKind::U8,
            IntKind::U16 => ScalarKind::U16,
            IntKind::U32 => ScalarKind::U32,
            IntKind::U64 => ScalarKind::U64,
            IntKind::Usize => ScalarKind::Usize,
        },
        Scalar::Float(FloatKind::F32) => ScalarKind::F32,
        Scalar::Float(FloatKind::F64) => ScalarKind::F64,
    }
}

fn leak_str(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// Every single-identifier path in `ty` (struct names of fields).
fn type_idents(ty: &syn::Type, out: &mut Vec<String>) {
    match ty {
        syn::Type::Path(p) => {
            if let Some(ident) = p.path.get_ident() {
                out.push(ident.to_string());
            }
        }
        syn::Type::Array(a) => type_idents(&a.elem, out),
        syn::Type::Paren(p) => type_idents(&p.elem, out),
        syn::Type::Group(g) => type_idents(&g.elem, out),
        _ => {}
    }
}

#[derive(Default)]
struct Found {
    structs: Vec<(String, syn::ItemStruct)>,
    fns: Vec<syn::ItemFn>,
}

/// The structs and functions of `items`, inline modules included.
fn visit_items(items: &[syn::Item], module: &str, found: &mut Found) {
    for item in items {
        match item {
            syn::Item::Struct(s) if derives_gpu_type(&s.attrs) => {
                found.structs.push((module.to_string(), s.clone()))
            }
            syn::Item::Fn(f) if f.attrs.iter().any(is_ringkernel_attr) => found.fns.push(f.clone()),
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    visit_items(inner, &format!("{module}::{}", m.ident), found);
                }
            }
            _ => {}
        }
    }
}

fn derives_gpu_type(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let mut found = false;
        if attr.path().is_ident("derive") {
            let _ = attr.parse_nested_meta(|meta| {
                if let Some(last) = meta.path.segments.last() {
                    if last.ident == "GpuType" || last.ident == "RingMessage" {
                        found = true;
                    }
                }
                Ok(())
            });
        }
        found
    })
}

fn is_ringkernel_attr(attr: &syn::Attribute) -> bool {
    attr.path().segments.last().is_some_and(|s| {
        matches!(
            s.ident.to_string().as_str(),
            "device_fn" | "gpu_kernel" | "ring_kernel"
        )
    })
}

/// A RingKernel function as its macro sees it: the item without the
/// attribute, the attribute as `SourceText::attr` spells it.
fn fn_def(file: usize, file_name: &str, f: syn::ItemFn) -> Result<Option<FnDef>, ScanError> {
    let at = f.sig.ident.span().start();
    let error = |message: String| ScanError::At {
        file: file_name.to_string(),
        line: at.line as u32,
        column: at.column as u32 + 1,
        message,
    };
    let kind = match fn_kind(&f.attrs) {
        Ok(Some(kind)) => kind,
        Ok(None) => return Ok(None),
        Err(e) => return Err(error(e.kind.to_string())),
    };
    let position = f
        .attrs
        .iter()
        .position(is_ringkernel_attr)
        .expect("fn_kind found one");
    let mut item = f.clone();
    let attr = item.attrs.remove(position);
    let attr_name = attr
        .path()
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default();
    let attr_text = match (&kind, &attr.meta) {
        (FnKind::DeviceFn, _) => "#[device_fn]".to_string(),
        (_, syn::Meta::List(list)) if !list.tokens.is_empty() => {
            format!("#[{attr_name}({})]", list.tokens)
        }
        _ => format!("#[{attr_name}]"),
    };
    let tokens: TokenStream = item.to_token_stream();
    let (text, line, column) = item_text(&tokens);
    let names = referenced_names(&f);
    let first = f.attrs.first().map_or(at, |a| a.pound_token.span.start());
    Ok(Some(FnDef {
        file,
        name: f.sig.ident.to_string(),
        kind,
        text: SourceText {
            attr: attr_text,
            text,
            file: file_name.to_string(),
            line,
            column,
        },
        calls: names.calls.into_values().collect(),
        types: names.types.into_values().collect(),
        line: first.line as u32,
        column: first.column as u32,
    }))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ScanError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ScanError::Read {
        path: dir.to_path_buf(),
        error: e.to_string(),
    })?;
    for entry in entries {
        let entry = entry.map_err(|e| ScanError::Read {
            path: dir.to_path_buf(),
            error: e.to_string(),
        })?;
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The module path of the file at `relative` (under `src/`).
fn module_of(crate_name: &str, relative: &str) -> String {
    let trimmed = relative.trim_end_matches(".rs");
    let mut parts: Vec<&str> = trimmed.split('/').collect();
    if matches!(parts.last(), Some(&"mod" | &"lib" | &"main")) {
        parts.pop();
    }
    if parts.first() == Some(&"bin") {
        parts.clear();
    }
    std::iter::once(crate_name)
        .chain(parts)
        .collect::<Vec<_>>()
        .join("::")
}
