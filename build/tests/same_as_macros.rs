//! The build helper's kernels are the macros' kernels: for every file of
//! the root crate's `tests/kernels/` (callees, nested structs, actors,
//! renamed entries), the CUDA the helper builds from the files equals the
//! macros' `cuda_source()`, which `tests/macros.rs` pins in its snapshots.

use std::path::Path;

use ringkernel_build::Crate;

fn snapshot_body(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/snapshots")
        .join(format!("macros__{name}.snap"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.splitn(3, "---\n").nth(2).unwrap().to_string()
}

#[test]
fn build_time_cuda_equals_the_macros_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/kernels");
    // `file!()` in the root crate's tests names them `tests/kernels/…`;
    // tests are built with debug assertions, so with overflow checks.
    let krate = Crate::scan_dir(&dir, "tests/kernels", "macros").unwrap();
    let kernels = krate.kernels(true).unwrap();
    // Snapshots are named by function; `blur`'s entry point is renamed.
    let mut names: Vec<(&str, &str)> = kernels
        .iter()
        .map(|k| (k.function.as_str(), k.source.name.as_str()))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ("blur", "box_blur_3x3"),
            ("echo", "echo"),
            ("saturate", "saturate"),
            ("saxpy", "saxpy"),
            ("simulate", "simulate"),
            ("store", "store"),
            ("summer", "summer")
        ]
    );
    for kernel in &kernels {
        let cuda = kernel.source.transpile().unwrap().cuda.source;
        assert_eq!(
            cuda.trim_end(),
            snapshot_body(&kernel.function).trim_end(),
            "{}: the build helper's CUDA differs from the macros'",
            kernel.source.name
        );
    }
}

#[test]
fn layouts_match_the_derives_positions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/kernels");
    let krate = Crate::scan_dir(&dir, "tests/kernels", "macros").unwrap();
    let kernels = krate.kernels(true).unwrap();
    let simulate = kernels
        .iter()
        .find(|k| k.source.name == "simulate")
        .unwrap();
    let layouts: Vec<(&str, &str, u32, usize)> = simulate
        .source
        .layouts
        .iter()
        .map(|l| (l.name, l.file, l.line, l.size))
        .collect();
    // As `ItemSource::kernel_source` orders them: by declaration.
    assert_eq!(
        layouts,
        [
            ("Vec2", "tests/kernels/particles.rs", 8, 8),
            ("Particle", "tests/kernels/particles.rs", 15, 24)
        ]
    );
    let items: Vec<&str> = simulate
        .source
        .items
        .iter()
        .map(|t| t.text.lines().next().unwrap())
        .collect();
    assert_eq!(
        items,
        [
            "pub fn simulate(ctx: &ThreadContext, dt: f32, particles: &mut [Particle]) {",
            "pub fn step(p: Particle, dt: f32) -> Particle {",
            "pub fn advance(v: Vec2, d: Vec2, dt: f32) -> Vec2 {"
        ]
    );
}
