//! The differential program suite's actors: the `#[ring_kernel]` handlers
//! of `transpiler/tests/in/actors.rs`, spawned with a few messages each,
//! twice on the CPU (identical answers) and on the GPU (the CPU's answers).

use super::*;

// The `#[ring_kernel]` handlers of `transpiler/tests/in/actors.rs`, spawned
// with a few messages each; the message types mirror the file's.

mod actor_types {
    #[derive(Clone, Copy, Debug, PartialEq)]
    #[repr(C)]
    pub struct Request {
        pub id: u32,
        pub values: [f32; 64],
    }
    #[derive(Clone, Copy, Debug, PartialEq)]
    #[repr(C)]
    pub struct Response {
        pub id: u32,
        pub sum: f32,
    }
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    #[repr(C)]
    pub struct Stats {
        pub count: u64,
        pub total: f32,
        pub pad: u32,
    }
    #[derive(Clone, Copy, Debug, PartialEq)]
    #[repr(C)]
    pub struct Ping {
        pub seq: u64,
        pub payload: [u32; 12],
    }
    #[derive(Clone, Copy, Debug, PartialEq)]
    #[repr(C)]
    pub struct Pong {
        pub seq: u64,
        pub actor: u32,
        pub checksum: u32,
        pub hlc_physical_ns: u64,
        pub hlc_logical: u32,
        pub hlc_node: u32,
    }
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    #[repr(C)]
    pub struct Table {
        pub cells: [u32; 8],
        pub writes: u32,
    }
    #[derive(Clone, Copy, Debug, PartialEq)]
    #[repr(C)]
    pub struct Put {
        pub index: u32,
        pub value: u32,
    }
}

fn actor_source(name: &str) -> KernelSource {
    let (file, text) = *FILES
        .iter()
        .find(|(f, _)| f.ends_with("/actors.rs"))
        .expect("actors.rs is listed");
    KernelSource {
        name: name.into(),
        kind: SourceKind::RingKernel,
        items: vec![SourceText::whole_file(file, text)],
        layouts: Vec::new(),
        overflow_checks: true,
    }
}

/// What the three handlers answered, minus what may differ between runs
/// (HLC stamps), as text: summer's replies and state (float bits), echo's
/// sequence numbers, actor ids and checksums, store's final state.
fn actor_outcomes(rt: &Runtime) -> Vec<String> {
    use actor_types::*;
    use ringkernel_runtime::actor::SpawnOptions;
    let mut rng = common::Rng(SEED ^ 0xac7);
    let options = SpawnOptions::default();
    let mut out = Vec::new();

    let summer = rt
        .spawn::<Request, Response, Stats>(&actor_source("summer"), 1, Stats::default(), &options)
        .expect("spawn summer")
        .remove(0);
    let mut total = 0.0f32;
    for id in 0..16u32 {
        let mut values = [0f32; 64];
        for v in values.iter_mut() {
            *v = f32::moderate(rng.next_u64());
        }
        let r = summer.call(&Request { id, values }).expect("summer call");
        assert_eq!(r.id, id);
        total += r.sum;
        out.push(format!(
            "summer {id}: sum {:#010x} ({})",
            r.sum.to_bits(),
            r.sum
        ));
    }
    let s = summer.state().expect("summer state");
    assert_eq!(s.count, 16);
    // The state accumulates the replies in order on the leader.
    assert_eq!(s.total.to_bits(), total.to_bits(), "{s:?}");
    out.push(format!(
        "summer state: {} {:#010x}",
        s.count,
        s.total.to_bits()
    ));
    summer.stop().expect("stop summer");

    let echo = rt
        .spawn::<Ping, Pong, ()>(&actor_source("echo"), 2, (), &options)
        .expect("spawn echo");
    for (a, actor) in echo.iter().enumerate() {
        for seq in 0..8u64 {
            let payload = std::array::from_fn(|_| rng.next_u64() as u32);
            let p = actor.call(&Ping { seq, payload }).expect("echo call");
            let want = payload.iter().enumerate().fold(0u32, |acc, (i, w)| {
                acc.wrapping_add(w.wrapping_mul(i as u32 + 1))
            });
            assert_eq!((p.seq, p.checksum), (seq, want), "echo actor {a}");
            out.push(format!(
                "echo {a}/{seq}: actor {} checksum {:#x}",
                p.actor, p.checksum
            ));
        }
    }
    for actor in &echo {
        actor.stop().expect("stop echo");
    }

    let store = rt
        .spawn::<Put, (), Table>(&actor_source("store"), 1, Table::default(), &options)
        .expect("spawn store")
        .remove(0);
    let mut want = Table::default();
    for _ in 0..12 {
        let (index, value) = ((rng.next_u64() % 8) as u32, rng.next_u64() as u32);
        store.send(&Put { index, value }).expect("store send");
        want.cells[index as usize] = value;
        want.writes += 1;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let state = loop {
        let s = store.state().expect("store state");
        if s.writes == want.writes || std::time::Instant::now() > deadline {
            break s;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    assert_eq!(state, want);
    out.push(format!("store state: {state:?}"));
    store.stop().expect("stop store");
    out
}

/// CI: the snapshot handlers on the CPU backend, twice, identically.
#[test]
fn cpu_actor_handlers_are_deterministic() {
    let a = actor_outcomes(&Runtime::cpu());
    let b = actor_outcomes(&Runtime::cpu());
    assert_eq!(a, b);
}

/// GPU machine: the snapshot handlers on the GPU answer what the CPU does.
#[test]
#[ignore = "needs a CUDA GPU"]
fn gpu_actor_handlers_match_cpu() {
    let Some(gpu) = ringkernel_runtime::testing::gpu_runtime("gpu_actor_handlers_match_cpu") else {
        return;
    };
    let cpu = actor_outcomes(&Runtime::cpu());
    let dev = actor_outcomes(&gpu);
    for (i, (c, g)) in cpu.iter().zip(&dev).enumerate() {
        assert_eq!(c, g, "actor outcome {i}: CPU `{c}`, GPU `{g}`");
    }
    assert_eq!(cpu.len(), dev.len());
}
