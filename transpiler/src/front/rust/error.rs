//! Errors of the Rust front end.
//!
//! Every error names the construct and, where there is one, what to write
//! instead. They carry the `proc_macro2::Span` of the offending tokens, so
//! the macro can report them with `syn::Error` at those tokens, and the
//! line/column form for the CLI and the build helper's rendered reports.
//! All errors of an item are collected (serde_derive style) rather than
//! stopping at the first.

use std::fmt;

use crate::span::Span;

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrontErrorKind {
    #[error("{construct} cannot be used in RingKernel kernels; {suggestion}")]
    Unsupported {
        construct: &'static str,
        suggestion: &'static str,
    },
    /// A use of a name whose `let` failed: the failure was reported, and
    /// this follow-on error never is ([`Diagnostics::push`] drops it).
    #[error("this follows from an earlier error")]
    Cascade,
    #[error("cannot find {what} `{name}` in this scope")]
    NotFound { what: &'static str, name: String },
    #[error("mismatched types: expected `{expected}`, found `{found}`")]
    TypeMismatch { expected: String, found: String },
    #[error("type annotations needed: the type of {what} cannot be inferred; {suggestion}")]
    AnnotationNeeded {
        what: String,
        suggestion: &'static str,
    },
    #[error("literal out of range for `{ty}`: {literal}")]
    LiteralOutOfRange { ty: &'static str, literal: String },
    #[error("no method `{method}` on type `{ty}`{note}")]
    UnknownMethod {
        method: String,
        ty: String,
        note: &'static str,
    },
    #[error("`{name}` takes {expected} argument(s) but {found} were supplied")]
    ArgumentCount {
        name: String,
        expected: usize,
        found: usize,
    },
    #[error("cannot apply `{op}` to type `{ty}`")]
    InvalidOperand { op: &'static str, ty: String },
    #[error("cannot assign to `{name}`: it is not declared `mut`")]
    NotMutable { name: String },
    #[error("this expression is not a place that can be {action}")]
    NotAPlace { action: &'static str },
    #[error("non-primitive cast: `{from}` as `{to}`")]
    InvalidCast { from: String, to: String },
    #[error("`{keyword}` outside of a loop{label}")]
    OutsideLoop {
        keyword: &'static str,
        label: String,
    },
    #[error("the kernel signature is invalid: {problem}")]
    Signature { problem: String },
    #[error("`{name}` calls itself (directly or through other functions): recursion is not supported on the device")]
    Recursion { name: String },
    #[error("struct `{name}`: {problem}")]
    Layout { name: String, problem: String },
    #[error("struct `{name}` (declared at {declared}): {problem}")]
    HostLayout {
        name: String,
        declared: String,
        problem: String,
    },
    #[error("{item} `{name}`: {problem}")]
    Derive {
        item: &'static str,
        name: String,
        problem: String,
    },
    #[error("`#[{attr}]`: {problem}")]
    Attribute { attr: &'static str, problem: String },
    #[error("`{name}` is not a constant expression: {problem}")]
    NotConst { name: String, problem: &'static str },
    /// `ctx.send` or `ctx.try_send` (`method`) used wrongly.
    #[error("`ctx.{method}`: {problem}")]
    Send {
        method: &'static str,
        problem: String,
    },
    /// An intrinsic that exposes the launch's blocks, in a handler whose
    /// actor is one warp of a block (`#[ring_kernel(warps = 1)]`).
    #[error("`ctx.{method}()` is not available in a `#[ring_kernel(warps = 1)]` actor: {reason}; {instead}")]
    NotInWarpActor {
        method: String,
        reason: &'static str,
        instead: &'static str,
    },
}

/// An error with the tokens it is about.
#[derive(Debug, Clone)]
pub struct FrontError {
    pub kind: FrontErrorKind,
    pub span: proc_macro2::Span,
    /// The last token, when the error is about several (`&mut [f32]`): the
    /// macros underline the whole range (a stable compiler cannot join
    /// spans, but `compile_error!` can run from one token to another).
    pub end: Option<proc_macro2::Span>,
}

impl FrontError {
    pub fn new(kind: FrontErrorKind, span: proc_macro2::Span) -> Self {
        FrontError {
            kind,
            span,
            end: None,
        }
    }

    /// An error about all of `tokens`, from the first to the last.
    pub fn spanning(kind: FrontErrorKind, tokens: &dyn quote::ToTokens) -> Self {
        let mut trees = tokens.to_token_stream().into_iter();
        let first = trees.next().map(|t| t.span());
        let last = trees.last().map(|t| t.span());
        FrontError {
            kind,
            span: first.unwrap_or_else(proc_macro2::Span::call_site),
            end: last,
        }
    }

    pub fn unsupported(
        construct: &'static str,
        suggestion: &'static str,
        span: proc_macro2::Span,
    ) -> Self {
        FrontError::new(
            FrontErrorKind::Unsupported {
                construct,
                suggestion,
            },
            span,
        )
    }

    pub fn location(&self) -> Span {
        let mut at = Span::from_proc_macro2(self.span);
        if let Some(end) = self.end {
            let end = Span::from_proc_macro2(end);
            if end.end.line >= at.start.line {
                at.end = end.end;
            }
        }
        at
    }

    /// The error as a `syn::Error` at its tokens (for `compile_error!`).
    pub fn to_syn(&self) -> syn::Error {
        match self.end {
            None => syn::Error::new(self.span, &self.kind),
            Some(end) => {
                let first = proc_macro2::Ident::new("first", self.span);
                let last = proc_macro2::Ident::new("last", end);
                syn::Error::new_spanned(quote::quote!(#first #last), &self.kind)
            }
        }
    }
}

impl fmt::Display for FrontError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::error::Error for FrontError {}

/// All errors found in an input, in source order.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    pub errors: Vec<FrontError>,
}

impl Diagnostics {
    pub fn push(&mut self, error: FrontError) {
        if matches!(error.kind, FrontErrorKind::Cascade) {
            return;
        }
        self.errors.push(error);
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// One `syn::Error` holding all of them (each at its own tokens).
    pub fn to_syn(&self) -> Option<syn::Error> {
        let mut iter = self.errors.iter().map(FrontError::to_syn);
        let mut first = iter.next()?;
        for e in iter {
            first.combine(e);
        }
        Some(first)
    }

    /// The codespan-style report used by the CLI and the build helper:
    /// `error: message` then `--> file:line:col`, the source line and a caret.
    pub fn render(&self, file: &str, source: &str) -> String {
        let lines: Vec<&str> = source.lines().collect();
        let mut out = String::new();
        for error in &self.errors {
            let at = error.location();
            out.push_str(&format!("error: {}\n", error.kind));
            out.push_str(&format!(
                "  --> {}:{}:{}\n",
                file,
                at.start.line,
                at.start.column + 1
            ));
            if let Some(text) = lines.get((at.start.line as usize).wrapping_sub(1)) {
                let number = at.start.line.to_string();
                let pad = " ".repeat(number.len());
                let width = if at.end.line == at.start.line {
                    (at.end.column.saturating_sub(at.start.column)).max(1) as usize
                } else {
                    1
                };
                out.push_str(&format!(
                    "{pad} |\n{number} | {text}\n{pad} | {}{}\n",
                    " ".repeat(at.start.column as usize),
                    "^".repeat(width)
                ));
            }
        }
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let at = e.location();
            write!(f, "{}:{}: {}", at.start.line, at.start.column + 1, e.kind)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<FrontError> for Diagnostics {
    fn from(error: FrontError) -> Self {
        Diagnostics {
            errors: vec![error],
        }
    }
}

pub type Result<T, E = FrontError> = std::result::Result<T, E>;
