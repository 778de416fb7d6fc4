//! Compiles the crate's kernels to CUDA, PTX and an sm_90 cubin in
//! `OUT_DIR/ringkernel/` (ptxas' report shows as warnings); a kernel that
//! spills fails the build.
fn main() {
    ringkernel_build::Builder::new().deny_spills(true).build();
}
