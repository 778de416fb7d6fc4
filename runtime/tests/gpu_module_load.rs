//! Modules and running actors. The driver loads a module (and, under lazy
//! loading, a function at its first launch) only once the context is idle,
//! which it never is while a persistent actor kernel runs: measured on the
//! H200, a load issued while an actor ran had not returned after 20 s, with
//! `CUDA_MODULE_LOADING` lazy or eager. So the runtime loads every function
//! of a module when it loads the module, and refuses a load while actor
//! launches are live (`Error::LoadWhileActorsRun`) instead of hanging; what
//! was loaded before (`Runtime::preload`) launches fine next to actors.
//! `#[ignore]`d here (no GPU in CI).

#[path = "actors/suite.rs"]
mod suite;

use std::ffi::c_void;
use std::time::{Duration, Instant};

use ringkernel_runtime::testing::gpu_runtime;
use ringkernel_runtime::{CudaSource, Error};
use suite::{ping, Spawn};

fn source(name: &str) -> CudaSource {
    CudaSource {
        name: name.into(),
        source: format!(
            "extern \"C\" __global__ void {name}(unsigned long long* x) {{ *x += 1ull; }}\n"
        ),
        headers: Vec::new(),
        options: Vec::new(),
    }
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_loaded_kernels_run_next_to_actors_and_new_loads_are_refused() {
    let Some(rt) = gpu_runtime("gpu_module_load") else {
        return;
    };
    // Loaded before any actor runs: it launches while one does.
    let (module, _) = rt.load_module(&source("rk_add_one")).unwrap();
    let function = module.function("rk_add_one").unwrap();
    let gpu = rt.clone();
    let actors = gpu.spawn_echo(1, &suite::options());
    assert_eq!(actors[0].call(&ping(1)).unwrap().seq, 1);

    let out = rt.alloc_mapped(8).unwrap();
    let stream = rt.new_stream().unwrap();
    let mut ptr = out.device_ptr();
    let mut params = [(&mut ptr as *mut u64).cast::<c_void>()];
    for _ in 0..3 {
        // SAFETY: one pointer parameter, a mapped buffer of 8 bytes.
        let handle =
            unsafe { rt.launch_raw(&function, [1, 1, 1], [1, 1, 1], 0, &stream, &mut params) }
                .unwrap();
        handle.wait().unwrap();
    }
    assert_eq!(
        out.atomic_u64(0).load(std::sync::atomic::Ordering::Acquire),
        3
    );

    // A module never loaded: refused at once, not a hang.
    let start = Instant::now();
    match rt.load_module(&source("rk_add_two")) {
        Err(Error::LoadWhileActorsRun { module, launches }) => {
            assert_eq!((module.as_str(), launches), ("rk_add_two", 1));
        }
        other => panic!("expected LoadWhileActorsRun, got {other:?}"),
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(actors[0].call(&ping(2)).unwrap().seq, 2);
    actors[0].stop().unwrap();
    drop(actors);
    // No actors: loads work again.
    let start = Instant::now();
    while rt.load_module(&source("rk_add_two")).is_err() {
        // The launch ends with its last handle; its memory is freed then.
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(1));
    }
}
