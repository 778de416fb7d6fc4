//! The hand-written floors, measured in the benchmark's process on the same
//! GPU: launch + synchronize, graph replay + synchronize, pipelined launch
//! throughput, a persistent kernel echoing a command word in mapped memory,
//! and block-batched streams through mapped rings (bare 64-byte messages as
//! in limits.cu, and 128-byte envelope-sized slots: the same bytes per
//! message as a RingKernel actor with 64-byte messages and replies).
//! Launches go straight to the driver (`cuLaunchKernel`, `cuGraphLaunch`,
//! `cuStreamSynchronize`), so the floors carry no RingKernel code.

use std::ffi::c_void;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::time::Instant;

use cudarc::driver::sys;
use ringkernel_runtime::{CudaSource, KernelFunction, MappedBuffer, Runtime, Stream};

use crate::actors::{echo64_reply, msg64, HostThreads, Msg64};
use crate::stats::{ns_since, Latency, Throughput};
use crate::Config;

const SOURCE: &str = include_str!("baselines.cu");

/// What the baselines measured.
#[derive(Debug)]
pub struct Baselines {
    pub launch_sync: Latency,
    pub graph_sync: Latency,
    /// Nanoseconds per launch, many launches then one synchronize.
    pub launch_pipelined_ns: f64,
    pub persistent: Latency,
    /// The same with 4 warps polling, staggered (limits.cu's "pollers"
    /// round trip): a reference, not the bar's floor.
    pub persistent_multi: Latency,
    /// The cost of the host's store alone: not a latency (nothing waits for
    /// the device), printed so that nobody mistakes one for the other.
    pub host_store: Latency,
    pub stream64: Throughput,
    pub stream128: Throughput,
    /// `stream128` with a producer and a consumer thread on the host.
    pub stream128_two: Throughput,
}

fn driver(result: sys::CUresult, what: &str) -> Result<(), String> {
    result.result().map_err(|e| format!("{what}: {e:?}"))
}

pub fn run(rt: &Runtime, config: &Config) -> Result<Baselines, String> {
    let (module, _) = rt
        .load_module(&CudaSource {
            name: "baselines".into(),
            source: SOURCE.into(),
            headers: Vec::new(),
            options: Vec::new(),
        })
        .map_err(|e| e.to_string())?;
    let function = |name: &str| module.function(name).map_err(|e| e.to_string());
    let empty = function("bl_empty")?;
    let stream = rt.new_stream().map_err(|e| e.to_string())?;
    let counter = rt.alloc_zeroed::<i32>(1).map_err(|e| e.to_string())?;
    let mut counter_ptr = counter.device_ptr().unwrap_or(0);
    // The first launch goes through the runtime, which makes the context
    // current on this thread for the raw driver calls below.
    {
        let mut params = [(&mut counter_ptr as *mut u64).cast::<c_void>()];
        // SAFETY: bl_empty(int*) gets a live 4-byte device buffer.
        let handle =
            unsafe { rt.launch_raw(&empty, [1, 1, 1], [32, 1, 1], 0, &stream, &mut params) }
                .map_err(|e| e.to_string())?;
        handle.wait().map_err(|e| e.to_string())?;
    }
    let s = stream.cu_stream();
    let launch = |params: &mut [*mut c_void; 1]| {
        // SAFETY: as above; the parameter array outlives the call.
        let r = unsafe {
            sys::cuLaunchKernel(
                empty.cu_function(),
                1,
                1,
                1,
                32,
                1,
                1,
                0,
                s,
                params.as_mut_ptr(),
                std::ptr::null_mut(),
            )
        };
        driver(r, "cuLaunchKernel")
    };
    // SAFETY (all cuStreamSynchronize calls): a live stream of the current context.
    let sync = || {
        driver(
            unsafe { sys::cuStreamSynchronize(s) },
            "cuStreamSynchronize",
        )
    };
    let mut params = [(&mut counter_ptr as *mut u64).cast::<c_void>()];

    // 1. launch + synchronize, one at a time.
    for _ in 0..1000 {
        launch(&mut params)?;
    }
    sync()?;
    let mut v = Vec::with_capacity(config.launches);
    for _ in 0..config.launches {
        let t0 = Instant::now();
        launch(&mut params)?;
        sync()?;
        v.push(ns_since(t0));
    }
    let launch_sync = Latency::new(
        "launch+sync",
        "cuLaunchKernel (empty, 1x32) + cuStreamSynchronize",
        v,
    );

    // 2. pipelined launch throughput.
    let m = config.launches * 5;
    let t0 = Instant::now();
    for _ in 0..m {
        launch(&mut params)?;
    }
    sync()?;
    let launch_pipelined_ns = ns_since(t0) / m as f64;

    // 3. one-node graph replay + synchronize.
    let mut graph: sys::CUgraph = std::ptr::null_mut();
    let mut exec: sys::CUgraphExec = std::ptr::null_mut();
    // SAFETY: capture of one launch on a live stream; the graph and its
    // executable are destroyed below.
    unsafe {
        driver(
            sys::cuStreamBeginCapture_v2(
                s,
                sys::CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL,
            ),
            "cuStreamBeginCapture",
        )?;
        launch(&mut params)?;
        driver(sys::cuStreamEndCapture(s, &mut graph), "cuStreamEndCapture")?;
        driver(
            sys::cuGraphInstantiateWithFlags(&mut exec, graph, 0),
            "cuGraphInstantiate",
        )?;
    }
    // SAFETY: a live executable graph and stream.
    let replay = || driver(unsafe { sys::cuGraphLaunch(exec, s) }, "cuGraphLaunch");
    for _ in 0..1000 {
        replay()?;
    }
    sync()?;
    let mut v = Vec::with_capacity(config.launches);
    for _ in 0..config.launches {
        let t0 = Instant::now();
        replay()?;
        sync()?;
        v.push(ns_since(t0));
    }
    // SAFETY: created above, no longer used.
    unsafe {
        sys::cuGraphExecDestroy(exec);
        sys::cuGraphDestroy(graph);
    }
    let graph_sync = Latency::new(
        "graph+sync",
        "cuGraphLaunch (1 empty kernel node) + cuStreamSynchronize",
        v,
    );

    // 4. persistent kernel echoing a command word in mapped memory.
    let (persistent, host_store) = persistent_echo(rt, &function("bl_persistent_echo")?, config)?;
    let persistent_multi =
        persistent_echo_multi(rt, &function("bl_persistent_echo_multi")?, config)?;

    // 5. block-batched streams.
    let stream64 = batched_stream(
        rt,
        &function("bl_stream64")?,
        StreamSpec {
            name: "hand-written stream, bare 64 B",
            what: "limits.cu's kernel: 512 threads, 64-byte messages (seq + 7 words), one per thread per batch",
            slot: 64,
            total: config.baseline_messages,
            host: HostThreads::One,
        },
        |slot, i| {
            write_u64(slot, 0, i);
            for j in 0..7 {
                write_u64(slot, 8 + 8 * j, i + j as u64);
            }
        },
        |slot, i| {
            read_u64(slot, 0) == i && (0..7).all(|j| read_u64(slot, 8 + 8 * j) == i + j as u64 + 1)
        },
    )?;
    let mut stream128 = Vec::new();
    for host in [HostThreads::One, HostThreads::Two] {
        stream128.push(batched_stream(
            rt,
            &function("bl_stream128")?,
            StreamSpec {
                name: match host {
                    HostThreads::One => "hand-written stream, 128 B envelope slots, 1 host thread",
                    HostThreads::Two => "hand-written stream, 128 B envelope slots, 2 host threads",
                },
                what: "512 threads, 128-byte slots both ways (64-byte header + the benchmark's 64-byte Msg64), the echo64 transform, one message per thread per batch",
                slot: 128,
                total: config.baseline_messages,
                host,
            },
            fill_envelope,
            check_envelope,
        )?);
    }
    let stream128_two = stream128.pop().expect("two runs");
    let stream128 = stream128.pop().expect("two runs");
    Ok(Baselines {
        launch_sync,
        graph_sync,
        launch_pipelined_ns,
        persistent,
        persistent_multi,
        host_store,
        stream64,
        stream128,
        stream128_two,
    })
}

/// A request slot of the 128-byte stream: the header a RingKernel host
/// writes (type id, payload size, source, destination, correlation id,
/// sequence, HLC (a counter here), flags, reserved), then Msg64.
fn fill_envelope(slot: *mut u8, i: u64) {
    let seq = i + 1;
    write_u32(slot, 0, 0x4D36_3421);
    write_u32(slot, 4, 64);
    write_u32(slot, 8, u32::MAX);
    write_u32(slot, 12, 0);
    write_u64(slot, 16, seq);
    write_u64(slot, 24, seq);
    write_u64(slot, 32, seq);
    write_u64(slot, 40, 0);
    write_u32(slot, 48, 0);
    write_u32(slot, 52, 0);
    write_u64(slot, 56, 0);
    let m = msg64(seq);
    // SAFETY: 64 payload bytes at offset 64 of the 128-byte slot.
    unsafe { std::ptr::copy_nonoverlapping((&m as *const Msg64).cast::<u8>(), slot.add(64), 64) };
}

/// The reply slot of request `i`: correlation id, reply flag, destination
/// (the host), and the echo64 transform of the payload.
fn check_envelope(slot: *const u8, i: u64) -> bool {
    let seq = i + 1;
    // SAFETY: the reply's 64 payload bytes, a Msg64 the kernel wrote.
    let reply = unsafe { slot.add(64).cast::<Msg64>().read_unaligned() };
    read_u64(slot, 16) == seq
        && read_u32(slot, 48) == 1
        && read_u32(slot, 12) == u32::MAX
        && reply == echo64_reply(&msg64(seq))
}

fn persistent_echo(
    rt: &Runtime,
    echo: &KernelFunction,
    config: &Config,
) -> Result<(Latency, Latency), String> {
    // bl_mailbox: cmd at byte 0, ack at byte 128.
    let mailbox = rt.alloc_mapped(256).map_err(|e| e.to_string())?;
    let stream = rt.new_stream().map_err(|e| e.to_string())?;
    let warm = config.warmup as u64;
    let total = warm + config.calls as u64;
    let mut ptr = mailbox.device_ptr();
    let mut n = total;
    let mut params = [
        (&mut ptr as *mut u64).cast::<c_void>(),
        (&mut n as *mut u64).cast::<c_void>(),
    ];
    // SAFETY: bl_persistent_echo(bl_mailbox*, u64): the mapped mailbox's
    // device address (alive until the kernel ends: waited on below) and n.
    let handle = unsafe { rt.launch_raw(echo, [1, 1, 1], [32, 1, 1], 0, &stream, &mut params) }
        .map_err(|e| e.to_string())?;
    let cmd = mailbox.atomic_u64(0);
    let ack = mailbox.atomic_u64(128);
    let mut v = Vec::with_capacity(config.calls);
    for i in 1..=total {
        let t0 = Instant::now();
        cmd.store(i, Release);
        while ack.load(Acquire) != i {
            std::hint::spin_loop();
        }
        if i > warm {
            v.push(ns_since(t0));
        }
    }
    handle.wait().map_err(|e| e.to_string())?;
    let persistent = Latency::new(
        "persistent floor",
        "hand-written persistent kernel, 1 thread polling a mapped command word (store, then spin on the ack)",
        v,
    );
    let mut w = Vec::with_capacity(20_000);
    for i in 0..20_000u64 {
        let t0 = Instant::now();
        cmd.store(total + 1 + i, Release);
        w.push(ns_since(t0));
    }
    let host_store = Latency::new(
        "host store (not a latency)",
        "the host's release store into mapped memory alone; nothing waits for the device",
        w,
    );
    Ok((persistent, host_store))
}

/// Warps polling in [`persistent_echo_multi`].
const POLLERS: u32 = 4;

/// limits.cu's multi-poller round trip: the host stores the command word,
/// then waits until any warp's acknowledgement shows it.
fn persistent_echo_multi(
    rt: &Runtime,
    echo: &KernelFunction,
    config: &Config,
) -> Result<Latency, String> {
    // bl_multibox: cmd at byte 0, warp w's ack at byte 128 + 128 w.
    let mailbox = rt.alloc_mapped(128 + 16 * 128).map_err(|e| e.to_string())?;
    let stream = rt.new_stream().map_err(|e| e.to_string())?;
    let warm = config.warmup as u64;
    let total = warm + config.calls as u64;
    let mut ptr = mailbox.device_ptr();
    let mut n = total;
    let mut params = [
        (&mut ptr as *mut u64).cast::<c_void>(),
        (&mut n as *mut u64).cast::<c_void>(),
    ];
    // SAFETY: bl_persistent_echo_multi(bl_multibox*, u64): the mapped
    // mailbox's device address (alive until the kernel ends: waited on
    // below) and n.
    let handle = unsafe {
        rt.launch_raw(
            echo,
            [1, 1, 1],
            [32 * POLLERS, 1, 1],
            0,
            &stream,
            &mut params,
        )
    }
    .map_err(|e| e.to_string())?;
    let cmd = mailbox.atomic_u64(0);
    let acks: Vec<_> = (0..POLLERS as usize)
        .map(|w| mailbox.atomic_u64(128 + 128 * w))
        .collect();
    let mut v = Vec::with_capacity(config.calls);
    for i in 1..=total {
        let t0 = Instant::now();
        cmd.store(i, Release);
        while !acks.iter().any(|a| a.load(Acquire) >= i) {
            std::hint::spin_loop();
        }
        if i > warm {
            v.push(ns_since(t0));
        }
    }
    handle.wait().map_err(|e| e.to_string())?;
    Ok(Latency::new(
        "persistent floor, 4 pollers",
        "limits.cu's multi-poller variant: 4 warps poll the command word, staggered 150 ns; not the bar's floor",
        v,
    ))
}

struct StreamSpec {
    name: &'static str,
    what: &'static str,
    /// Bytes per message, both ways.
    slot: usize,
    total: u64,
    host: HostThreads,
}

const RING: u64 = 4096;
const STREAM_THREADS: u32 = 512;

/// One block-batched stream: the host fills the input ring as far as it
/// has room and publishes; drains and checks every reply; in one thread (as
/// limits.cu does) or in a producer and a consumer thread.
fn batched_stream(
    rt: &Runtime,
    kernel: &KernelFunction,
    spec: StreamSpec,
    fill: fn(*mut u8, u64),
    check: fn(*const u8, u64) -> bool,
) -> Result<Throughput, String> {
    // bl_ring_idx pairs: input at 0 (head 0, tail 128), output at 256.
    let idx = rt.alloc_mapped(512).map_err(|e| e.to_string())?;
    let ring_bytes = RING as usize * spec.slot;
    let rings = rt.alloc_mapped(2 * ring_bytes).map_err(|e| e.to_string())?;
    let stream: Stream = rt.new_stream().map_err(|e| e.to_string())?;
    let mut in_idx = idx.device_ptr();
    let mut in_slots = rings.device_ptr();
    let mut out_idx = idx.device_ptr() + 256;
    let mut out_slots = rings.device_ptr() + ring_bytes as u64;
    let mut total = spec.total;
    let mut ring = RING as u32;
    let mut params = [
        (&mut in_idx as *mut u64).cast::<c_void>(),
        (&mut in_slots as *mut u64).cast::<c_void>(),
        (&mut out_idx as *mut u64).cast::<c_void>(),
        (&mut out_slots as *mut u64).cast::<c_void>(),
        (&mut total as *mut u64).cast::<c_void>(),
        (&mut ring as *mut u32).cast::<c_void>(),
    ];
    // SAFETY: (bl_ring_idx*, slots*, bl_ring_idx*, slots*, u64, u32), all
    // mapped buffers alive until the kernel ends (waited on below).
    let handle = unsafe {
        rt.launch_raw(
            kernel,
            [1, 1, 1],
            [STREAM_THREADS, 1, 1],
            0,
            &stream,
            &mut params,
        )
    }
    .map_err(|e| e.to_string())?;
    let in_head = idx.atomic_u64(0);
    let in_tail = idx.atomic_u64(128);
    let out_head = idx.atomic_u64(256);
    let out_tail = idx.atomic_u64(384);
    // Slot addresses as integers, so both host threads may use them.
    let input = rings.host_ptr() as usize;
    let output = input + ring_bytes;
    let slot_size = spec.slot;
    let slot = move |base: usize, i: u64| (base + (i % RING) as usize * slot_size) as *mut u8;
    let total = spec.total;
    let produce = |head: &mut u64| {
        let tail = in_tail.load(Acquire);
        let batch = (RING - (*head - tail)).min(total - *head);
        for k in 0..batch {
            fill(slot(input, *head + k), *head + k);
        }
        if batch > 0 {
            *head += batch;
            in_head.store(*head, Release);
        }
    };
    let consume = |drained: &mut u64, bad: &mut u64| {
        let published = out_head.load(Acquire);
        while *drained < published {
            if !check(slot(output, *drained), *drained) {
                *bad += 1;
            }
            *drained += 1;
        }
        out_tail.store(*drained, Release);
    };
    let t0 = Instant::now();
    let (drained, bad) = match spec.host {
        HostThreads::One => {
            let (mut head, mut drained, mut bad) = (0u64, 0u64, 0u64);
            while drained < total {
                produce(&mut head);
                consume(&mut drained, &mut bad);
            }
            (drained, bad)
        }
        HostThreads::Two => std::thread::scope(|scope| {
            scope.spawn(|| {
                let mut head = 0u64;
                while head < total {
                    produce(&mut head);
                }
            });
            let (mut drained, mut bad) = (0u64, 0u64);
            while drained < total {
                consume(&mut drained, &mut bad);
            }
            (drained, bad)
        }),
    };
    let elapsed = t0.elapsed();
    handle.wait().map_err(|e| e.to_string())?;
    keep(&idx);
    Ok(Throughput {
        name: spec.name.into(),
        what: spec.what.into(),
        messages: drained,
        elapsed,
        bytes_in: spec.slot as u64,
        bytes_out: spec.slot as u64,
        bad,
        receiver_idle: None,
    })
}

/// Keeps a mapped buffer alive to this point (the kernel using it ended).
fn keep(_: &MappedBuffer) {}

fn write_u64(slot: *mut u8, offset: usize, v: u64) {
    // SAFETY: callers pass offsets inside the slot.
    unsafe { slot.add(offset).cast::<u64>().write_unaligned(v) }
}

fn write_u32(slot: *mut u8, offset: usize, v: u32) {
    // SAFETY: as above.
    unsafe { slot.add(offset).cast::<u32>().write_unaligned(v) }
}

fn read_u64(slot: *const u8, offset: usize) -> u64 {
    // SAFETY: as above.
    unsafe { slot.add(offset).cast::<u64>().read_unaligned() }
}

fn read_u32(slot: *const u8, offset: usize) -> u32 {
    // SAFETY: as above.
    unsafe { slot.add(offset).cast::<u32>().read_unaligned() }
}
