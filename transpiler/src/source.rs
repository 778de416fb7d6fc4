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
//!
//! Positions: each item's text keeps its tokens at their original lines
//! and columns ([`positioned_text`]), and [`KernelSource::transpile`] pads
//! it back to where it was in its file (`line - 1` newlines, `column`
//! spaces) before parsing. So every span the front end records, every
//! `#line` directive and every fault location is the user's real
//! `file:line:column`, with no remapping pass. The files themselves: the IR
//! has one source file per module, so when a kernel's callees come from
//! other files the module gets no file and no `#line` directives rather
//! than wrong ones (see [`KernelSource::transpile`]).
//!
//! The macros emit one static [`ItemSource`] per kernel and per
//! `#[device_fn]`, linking to the `ItemSource`s of the device functions it
//! calls and to the layouts of the types it names;
//! [`ItemSource::kernel_source`] collects both transitively.

use std::fmt::Write as _;

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use ringkernel_device::layout::TypeLayout;

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
    /// The RingKernel attribute of the item (`#[gpu_kernel(block_size = 64)]`,
    /// `#[device_fn]`), which an attribute macro does not see among the
    /// item's tokens: [`KernelSource::transpile`] attaches it to the parsed
    /// item. Empty when `text` has its attributes.
    pub attr: String,
    /// The item's tokens, each at its original line and column relative to
    /// the first one (see [`positioned_text`]).
    pub text: String,
    /// The file the item is in (as `file!()` says), for `#line` and faults.
    pub file: String,
    /// The 1-based line of the item's first token in `file` (0: unknown).
    pub line: u32,
    /// The 0-based column (in characters) of the item's first token.
    pub column: u32,
}

impl SourceText {
    /// A whole file's text (from its first line), whose items carry their
    /// own attributes: what the CLI, the build helper and tests hand over.
    pub fn whole_file(file: impl Into<String>, text: impl Into<String>) -> SourceText {
        SourceText {
            attr: String::new(),
            text: text.into(),
            file: file.into(),
            line: 1,
            column: 0,
        }
    }

    /// `text` at its place in its file: `line - 1` newlines and `column`
    /// spaces before it, so spans parsed from it are positions in `file`.
    pub fn padded(&self) -> String {
        let mut out =
            String::with_capacity(self.text.len() + self.line as usize + self.column as usize);
        for _ in 1..self.line {
            out.push('\n');
        }
        for _ in 0..self.column {
            out.push(' ');
        }
        out.push_str(&self.text);
        out
    }

    /// The 1-based lines `padded()` spans.
    fn lines(&self) -> std::ops::RangeInclusive<u32> {
        let first = self.line.max(1);
        first..=first + self.text.matches('\n').count() as u32
    }
}

/// A kernel or actor and everything needed to transpile it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelSource {
    /// The entry point's name: the function's, or the attribute's `name`.
    pub name: String,
    pub kind: SourceKind,
    /// The kernel's own item first, then the `#[device_fn]`s it calls,
    /// directly or not.
    pub items: Vec<SourceText>,
    /// The host layouts of the structs the items use (nested ones are
    /// reached through their parents).
    pub layouts: Vec<&'static TypeLayout>,
    /// Overflow checks (Rust's `overflow-checks`) where the kernel's
    /// attribute does not say.
    pub overflow_checks: bool,
}

impl KernelSource {
    /// Runs the pipeline on the items. The result has exactly one entry
    /// point, `self.name`.
    ///
    /// When every item comes from one file, the module's source file is that
    /// file and the CUDA carries `#line` directives. When the callees come
    /// from other files, the IR (which has one source file per module) cannot
    /// say which file a line is in, so the module gets no file and the CUDA
    /// no `#line` directives.
    pub fn transpile(&self) -> Result<Transpiled, pipeline::Error> {
        let (front, back) = self.options();
        pipeline::transpile_items(&self.parse()?, &front, &back)
    }

    /// The items, parsed at their original positions, each with its
    /// attribute attached.
    pub fn parse(&self) -> Result<Vec<syn::Item>, pipeline::Error> {
        let mut items = Vec::new();
        for text in &self.items {
            let file = syn::parse_file(&text.padded()).map_err(syntax_error)?;
            let mut parsed = file.items;
            if !text.attr.is_empty() {
                let attrs = syn::parse::Parser::parse_str(syn::Attribute::parse_outer, &text.attr)
                    .map_err(syntax_error)?;
                match parsed.as_mut_slice() {
                    [syn::Item::Fn(f)] => f.attrs.splice(0..0, attrs).for_each(drop),
                    _ => {
                        return Err(pipeline::Error::Front(rust::Diagnostics::from(
                            rust::FrontError::unsupported(
                                "an attribute on something other than one function",
                                "put RingKernel attributes on functions",
                                proc_macro2::Span::call_site(),
                            ),
                        )))
                    }
                }
            }
            items.extend(parsed);
        }
        Ok(items)
    }

    /// The front-end and back-end options `transpile` uses.
    pub fn options(&self) -> (rust::Options, cuda::Options) {
        let file = self.items.first().map(|t| t.file.clone());
        let one_file = self.items.iter().all(|t| Some(&t.file) == file.as_ref());
        let front = rust::Options {
            overflow_checks: self.overflow_checks,
            source_file: if one_file { file } else { None },
            layouts: self.layouts.clone(),
        };
        let back = cuda::Options {
            line_directives: one_file,
        };
        (front, back)
    }

    /// `error` as a report with `file:line:column` and the offending source
    /// line for each front-end error, the way rustc prints them. Call it on
    /// the thread that ran `transpile` (parsed positions live in a
    /// thread-local source map).
    pub fn render_error(&self, error: &pipeline::Error) -> String {
        let pipeline::Error::Front(diagnostics) = error else {
            return format!("error: {error}\n");
        };
        let mut out = String::new();
        for e in &diagnostics.errors {
            let line = e.location().start.line;
            // The item whose lines hold the error, the kernel first (items
            // from different files can share line numbers).
            let item = self
                .items
                .iter()
                .find(|t| line != 0 && t.lines().contains(&line));
            match item {
                Some(t) => {
                    out.push_str(&rust::Diagnostics::from(e.clone()).render(&t.file, &t.padded()))
                }
                None => {
                    let _ = writeln!(out, "error: {}", e.kind);
                }
            }
        }
        out
    }
}

fn syntax_error(e: syn::Error) -> pipeline::Error {
    pipeline::Error::Front(rust::Diagnostics::from(rust::FrontError::unsupported(
        "syntax that does not parse as Rust",
        "fix the syntax error",
        e.span(),
    )))
}

/// One item as a macro records it, in a `static`: a kernel or a
/// `#[device_fn]`, the device functions it calls and the structs it names.
/// Statics may refer to each other in cycles, so a recursive call graph
/// still compiles and reaches the front end, which reports the recursion.
#[derive(Debug)]
pub struct ItemSource {
    /// The Rust function name.
    pub name: &'static str,
    /// See [`SourceText::attr`].
    pub attr: &'static str,
    /// See [`SourceText::text`].
    pub text: &'static str,
    pub file: &'static str,
    pub line: u32,
    pub column: u32,
    /// The `ItemSource`s of the `#[device_fn]`s the item calls.
    pub callees: &'static [&'static ItemSource],
    /// The layouts of the structs the item names.
    pub layouts: &'static [&'static TypeLayout],
}

impl ItemSource {
    fn text(&self) -> SourceText {
        SourceText {
            attr: self.attr.to_string(),
            text: self.text.to_string(),
            file: self.file.to_string(),
            line: self.line,
            column: self.column,
        }
    }

    /// The kernel this item is the entry point of, named `name`: its text,
    /// the texts of every device function reachable through `callees`
    /// (each once, in first-reached order) and every layout they name.
    pub fn kernel_source(
        &'static self,
        name: &str,
        kind: SourceKind,
        overflow_checks: bool,
    ) -> KernelSource {
        let (items, layouts) = collect(
            self,
            |item| item.callees.to_vec(),
            |item| item.layouts,
            ItemSource::text,
        );
        KernelSource {
            name: name.to_string(),
            kind,
            items,
            layouts,
            overflow_checks,
        }
    }
}

/// A kernel's items and layouts from its call graph: the root's text, the
/// texts of every function reachable through `callees` (each once, in
/// first-reached order) and every layout they name (each once, in
/// declaration order). The macros' statics ([`ItemSource::kernel_source`])
/// and the build helper's items (read from the files) both go through it,
/// so the two build the same [`KernelSource`].
pub fn collect<'a, T>(
    root: &'a T,
    callees: impl Fn(&'a T) -> Vec<&'a T>,
    layouts: impl Fn(&'a T) -> &'a [&'static TypeLayout],
    text: impl Fn(&'a T) -> SourceText,
) -> (Vec<SourceText>, Vec<&'static TypeLayout>) {
    let mut reached: Vec<&'a T> = vec![root];
    let mut next = 0;
    while next < reached.len() {
        for callee in callees(reached[next]) {
            if !reached.iter().any(|r| std::ptr::eq(*r, callee)) {
                reached.push(callee);
            }
        }
        next += 1;
    }
    let mut all: Vec<&'static TypeLayout> = Vec::new();
    for &item in &reached {
        for &layout in layouts(item) {
            if !all.iter().any(|l| std::ptr::eq(*l, layout) || *l == layout) {
                all.push(layout);
            }
        }
    }
    // Declaration order, so the CUDA structs come out in the order a
    // file-based transpile of the same source would write them.
    all.sort_by_key(|l| (l.file, l.line, l.column));
    (reached.into_iter().map(text).collect(), all)
}

/// The text of `tokens` with every token at its original line and column,
/// relative to the first token: the first token starts the text, and the
/// text's line `n` is the source's line `line + n - 1`. Returns the text and
/// the first token's 1-based line and 0-based column (`(text, 0, 0)` when
/// the tokens carry no positions, e.g. when they were built by a macro).
///
/// Comments and the exact whitespace are lost (the positions are kept), and
/// a token whose span lies before the end of the previous one (tokens from
/// a `macro_rules!` expansion, doc comments) is put after it, separated by a
/// space unless it is joined to it.
pub fn positioned_text(tokens: &TokenStream) -> (String, u32, u32) {
    let mut writer = TextWriter::default();
    writer.stream(tokens.clone());
    match writer.start {
        Some((line, column)) if line > 0 => (writer.out, line, column),
        _ => (tokens.to_string(), 0, 0),
    }
}

/// The [`SourceText::text`] of an item, from the item's tokens without its
/// RingKernel attribute: [`positioned_text`] of the tokens without their
/// doc attributes (the device does not need them, and every token of a doc
/// comment shares the comment's span). The one function the macros and the
/// build helper (which reads the items from the files) both use, so they
/// produce the same text.
pub fn item_text(item: &TokenStream) -> (String, u32, u32) {
    positioned_text(&without_doc_attributes(item))
}

/// `item` without its outer `#[doc = "..."]` attributes (doc comments),
/// which the device does not need and whose tokens all share the comment's
/// span.
fn without_doc_attributes(item: &TokenStream) -> TokenStream {
    let trees: Vec<TokenTree> = item.clone().into_iter().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < trees.len() {
        if let (TokenTree::Punct(hash), Some(TokenTree::Group(group))) =
            (&trees[i], trees.get(i + 1))
        {
            let is_doc = hash.as_char() == '#'
                && group.delimiter() == Delimiter::Bracket
                && matches!(group.stream().into_iter().next(), Some(TokenTree::Ident(ident)) if ident == "doc");
            if is_doc {
                i += 2;
                continue;
            }
        }
        out.push(trees[i].clone());
        i += 1;
    }
    out.into_iter().collect()
}

#[derive(Default)]
struct TextWriter {
    out: String,
    /// The first token's position.
    start: Option<(u32, u32)>,
    /// The position after the last character written (source coordinates).
    line: u32,
    column: u32,
    /// Whether the last token was a punctuation joined to the next.
    joint: bool,
}

impl TextWriter {
    fn stream(&mut self, tokens: TokenStream) {
        for tree in tokens {
            match tree {
                TokenTree::Group(group) => {
                    let (open, close) = match group.delimiter() {
                        Delimiter::Parenthesis => ("(", ")"),
                        Delimiter::Brace => ("{", "}"),
                        Delimiter::Bracket => ("[", "]"),
                        Delimiter::None => {
                            self.stream(group.stream());
                            continue;
                        }
                    };
                    self.token(open, group.span_open().start(), false);
                    self.stream(group.stream());
                    self.token(close, group.span_close().start(), false);
                }
                TokenTree::Ident(ident) => {
                    self.token(&ident.to_string(), ident.span().start(), false)
                }
                TokenTree::Punct(punct) => {
                    let joint = punct.spacing() == Spacing::Joint;
                    self.token(&punct.as_char().to_string(), punct.span().start(), joint)
                }
                TokenTree::Literal(literal) => {
                    self.token(&literal.to_string(), literal.span().start(), false)
                }
            }
        }
    }

    fn token(&mut self, text: &str, at: proc_macro2::LineColumn, joint: bool) {
        let (line, column) = (at.line as u32, at.column as u32);
        match self.start {
            None => {
                self.start = Some((line, column));
                self.line = line;
                self.column = column;
            }
            Some(_) if line > self.line => {
                for _ in self.line..line {
                    self.out.push('\n');
                }
                self.line = line;
                self.column = 0;
                self.pad_to(column);
            }
            Some(_) if line == self.line && column >= self.column => self.pad_to(column),
            Some(_) => {
                // Out of order: keep the text valid, give up the column.
                if !self.joint {
                    self.out.push(' ');
                    self.column += 1;
                }
            }
        }
        self.out.push_str(text);
        match text.rfind('\n') {
            Some(last) => {
                self.line += text.matches('\n').count() as u32;
                self.column = text[last + 1..].chars().count() as u32;
            }
            None => self.column += text.chars().count() as u32,
        }
        self.joint = joint;
    }

    fn pad_to(&mut self, column: u32) {
        while self.column < column {
            self.out.push(' ');
            self.column += 1;
        }
    }
}

#[cfg(test)]
mod tests;
