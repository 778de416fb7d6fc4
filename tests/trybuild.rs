//! Every user-facing error of the macros, pinned with its span and message
//! (`tests/ui/fail/*.rs` and their reviewed `.stderr`), and every accepted
//! kernel, handler, device function and struct shape compiling and running
//! (`tests/ui/pass/*.rs`). The `.stderr` files depend on the rustc version
//! (pinned to 1.95 here); regenerate them with `TRYBUILD=overwrite` and
//! review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
