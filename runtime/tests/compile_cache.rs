//! The load-time compiler through its disk cache, with NVRTC (present in CI
//! through the pinned wheels) and no GPU: cubin and PTX images, cache hits
//! that skip NVRTC, keys that change with what matters, and compile errors
//! pointed at the Rust source.
//!
//! One test function, run sequentially, because it counts the process's
//! NVRTC invocations.

mod common;

use std::path::PathBuf;

use ringkernel_runtime::{nvrtc_invocations, Compiler, CudaSource, Error, ImageOrigin};
use ringkernel_toolchain::{require_nvrtc, Arch, Target};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rk-compile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn compiles_through_the_disk_cache() {
    if require_nvrtc("compiles_through_the_disk_cache").is_none() {
        return;
    }
    let k = common::kernel("saxpy", "tests/saxpy.rs", common::SAXPY);
    let transpiled = k.transpile().unwrap();
    let src = CudaSource::from_output("saxpy", &transpiled.cuda);
    assert!(src.options.iter().any(|o| o == "--fmad=false"));
    let dir = scratch("cache");
    let compiler = Compiler::with_cache_dir(&dir);

    for target in [Target::Cubin(Arch::SM_90), Target::Ptx(Arch::SM_90)] {
        let before = nvrtc_invocations();
        let cold = compiler.compile(&src, target).unwrap();
        assert!(
            matches!(cold.origin, ImageOrigin::Nvrtc { .. }),
            "{target:?}"
        );
        assert_eq!(nvrtc_invocations(), before + 1);
        match target {
            Target::Cubin(_) => assert_eq!(&cold.image[..4], b"\x7fELF"),
            Target::Ptx(_) => {
                let ptx = String::from_utf8(cold.image.clone()).unwrap();
                assert!(ptx.contains(".entry saxpy"), "{ptx}");
            }
        }
        // A second compiler on the same folder (another process, say) hits.
        let warm = Compiler::with_cache_dir(&dir)
            .compile(&src, target)
            .unwrap();
        assert_eq!(warm.origin, ImageOrigin::DiskCache);
        assert_eq!(warm.image, cold.image);
        assert_eq!(warm.key, cold.key);
        assert_eq!(nvrtc_invocations(), before + 1, "a cache hit ran NVRTC");
        let ext = if matches!(target, Target::Ptx(_)) {
            "ptx"
        } else {
            "cubin"
        };
        assert!(dir
            .join("modules")
            .join(format!("{}.{ext}", cold.key))
            .is_file());
    }

    // The key follows the source, the options, the target and the headers.
    let cubin = Target::Cubin(Arch::SM_90);
    let base = compiler.key(&src, cubin).unwrap();
    assert_eq!(base, compiler.key(&src.clone(), cubin).unwrap());
    assert_ne!(base, compiler.key(&src, Target::Cubin(Arch(80))).unwrap());
    assert_ne!(base, compiler.key(&src, Target::Ptx(Arch::SM_90)).unwrap());
    let mut other = src.clone();
    other.source.push_str("\n// changed\n");
    assert_ne!(base, compiler.key(&other, cubin).unwrap());
    let mut other = src.clone();
    other.options.push("--use_fast_math".into());
    assert_ne!(base, compiler.key(&other, cubin).unwrap());
    let with_lib = src.clone().with_device_lib();
    assert!(with_lib.headers.len() > src.headers.len());
    assert_ne!(base, compiler.key(&with_lib, cubin).unwrap());
    // The program name is not an input of the image.
    let mut renamed = src.clone();
    renamed.name = "other".into();
    assert_eq!(base, compiler.key(&renamed, cubin).unwrap());

    // Line information (profilers, the sanitizer, cuda-gdb) is opt-in
    // (`RINGKERNEL_LINE_INFO`, `Compiler::line_info`): it costs cold-compile
    // time. Its own cache entry; the PTX carries `.loc` lines only with it.
    assert!(!compiler.emits_line_info());
    let lined = Compiler::with_cache_dir(&dir).line_info(true);
    assert!(lined.emits_line_info());
    assert_ne!(base, lined.key(&src, cubin).unwrap());
    let ptx = Target::Ptx(Arch::SM_90);
    let plain = compiler.compile(&src, ptx).unwrap();
    let with_lines = lined.compile(&src, ptx).unwrap();
    assert!(matches!(with_lines.origin, ImageOrigin::Nvrtc { .. }));
    assert_ne!(plain.key, with_lines.key);
    let text = |image: &[u8]| String::from_utf8(image.to_vec()).unwrap();
    assert!(!text(&plain.image).contains("\t.loc\t"));
    assert!(text(&with_lines.image).contains("\t.loc\t"));
    assert!(text(&with_lines.image).contains("tests/saxpy.rs"));

    // Actor modules add the device library's headers; they compile with
    // the generated code.
    let mut actor = src.clone().with_device_lib();
    actor.source = actor.source.replacen(
        "#include \"rk_rust.cuh\"",
        "#include \"rk_rust.cuh\"\n#include \"ringkernel.cuh\"",
        1,
    );
    assert!(actor.source.contains("ringkernel.cuh"));
    let image = compiler
        .compile(&actor, cubin)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(image.origin, ImageOrigin::Nvrtc { .. }));

    // Without a cache, every compile runs NVRTC.
    let before = nvrtc_invocations();
    let uncached = Compiler::without_cache();
    uncached.compile(&src, cubin).unwrap();
    uncached.compile(&src, cubin).unwrap();
    assert_eq!(nvrtc_invocations(), before + 2);

    // NVRTC's errors point at the Rust lines through `#line`.
    let bad = CudaSource {
        name: "bad".into(),
        source: "#include \"rk_rust.cuh\"\n#line 41 \"src/actor.rs\"\n\
                 extern \"C\" __global__ void bad() { int x = undefined_thing; }\n"
            .into(),
        ..src.clone()
    };
    match compiler.compile(&bad, cubin) {
        Err(Error::Compile { kernel, log }) => {
            assert_eq!(kernel, "bad");
            assert!(log.contains("src/actor.rs:41: error"), "{log}");
            assert!(log.contains("undefined_thing"), "{log}");
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
