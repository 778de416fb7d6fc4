//! Front ends: source languages into the IR. There is one, for the Rust
//! subset of DESIGN.md §2.
//!
//! The front-end AST is syn's: it already keeps every span, and copying it
//! into a second AST would be a tree nothing else uses. The front end lowers
//! syn items straight into the typed IR, inferring types as it goes.

pub mod rust;
