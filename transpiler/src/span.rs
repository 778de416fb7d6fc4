//! Source positions carried by every IR node.
//!
//! A [`Span`] is plain line/column data (1-based lines, 0-based columns, as
//! proc-macro2 reports them), so the IR is `Send`, comparable and free of
//! compiler handles. The CUDA writer turns spans into `#line` directives;
//! the interpreter and the device fault records turn them into the Rust
//! location a user sees. Errors raised while lowering syn keep the
//! `proc_macro2::Span` as well, so the macro can point at the exact tokens.

/// A line and column in the user's Rust file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct LineCol {
    /// 1-based; 0 means unknown.
    pub line: u32,
    /// 0-based, in characters.
    pub column: u32,
}

/// A range in the user's Rust file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: LineCol,
    pub end: LineCol,
}

impl Span {
    /// For nodes the compiler made up with no source of their own.
    pub const UNKNOWN: Span = Span {
        start: LineCol { line: 0, column: 0 },
        end: LineCol { line: 0, column: 0 },
    };

    pub fn is_known(&self) -> bool {
        self.start.line != 0
    }

    /// The span of a syn/proc-macro2 token range. Outside a proc macro this
    /// needs proc-macro2's `span-locations` feature (enabled by this crate);
    /// inside one, the compiler provides the positions.
    pub fn from_proc_macro2(span: proc_macro2::Span) -> Span {
        let (start, end) = (span.start(), span.end());
        Span {
            start: LineCol {
                line: start.line as u32,
                column: start.column as u32,
            },
            end: LineCol {
                line: end.line as u32,
                column: end.column as u32,
            },
        }
    }
}
