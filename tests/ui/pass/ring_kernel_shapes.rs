//! Every accepted `#[ring_kernel]` handler shape, spawned on the CPU
//! backend.

use ringkernel::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Add {
    pub value: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Total {
    pub total: u64,
    pub messages: u32,
    pub actor: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, GpuType)]
#[repr(C)]
pub struct Sum {
    pub total: u64,
    pub messages: u32,
}

#[device_fn]
pub fn widen(x: u32) -> u64 {
    x as u64
}

/// `(ctx, msg) -> R`.
#[ring_kernel]
pub fn twice(ctx: &RingContext, msg: &Add) -> Add {
    Add { value: msg.value * 2 }
}

/// `(ctx, state, msg) -> R`, with a callee.
#[ring_kernel(block_size = 64)]
pub fn accumulate(ctx: &RingContext, state: &mut Sum, msg: &Add) -> Total {
    if ctx.is_leader() {
        state.total += widen(msg.value);
        state.messages += 1;
    }
    ctx.sync_threads();
    Total {
        total: state.total,
        messages: state.messages,
        actor: ctx.actor_id(),
    }
}

/// `(ctx, state, msg)`, no reply.
#[ring_kernel(warps = 1, checks = true)]
pub fn absorb(ctx: &RingContext, state: &mut Sum, msg: &Add) -> () {
    if ctx.is_leader() {
        state.total += widen(msg.value);
    }
}

/// `(ctx, msg)`, no reply (a forwarder, once K2K lands).
#[ring_kernel(block = (32, 2))]
fn ignore(ctx: &RingContext, msg: &Add) {}

/// Types named like the generated module's aliases.
pub mod named_like_aliases {
    use ringkernel::prelude::*;

    #[derive(Clone, Copy, RingMessage)]
    #[repr(C)]
    pub struct Message {
        pub v: u32,
    }

    #[derive(Clone, Copy, RingMessage)]
    #[repr(C)]
    pub struct Reply {
        pub v: u32,
    }

    #[derive(Clone, Copy, GpuType)]
    #[repr(C)]
    pub struct State {
        pub v: u32,
    }

    #[ring_kernel]
    pub fn handler(ctx: &RingContext, state: &mut State, msg: &Message) -> Reply {
        Reply { v: msg.v }
    }
}

fn main() {
    assert!(named_like_aliases::handler::cuda_source().contains("__global__"));
    let rt = Runtime::cpu();
    let a = twice::spawn(&rt, SpawnOptions::default()).unwrap();
    assert_eq!(a.call(&Add { value: 21 }).unwrap(), Add { value: 42 });
    a.stop().unwrap();

    let a = accumulate::spawn_with_state(
        &rt,
        Sum { total: 100, messages: 0 },
        SpawnOptions::default(),
    )
    .unwrap();
    a.call(&Add { value: 1 }).unwrap();
    let t: accumulate::Reply = a.call(&Add { value: 2 }).unwrap();
    assert_eq!((t.total, t.messages), (103, 2));
    let s: accumulate::State = a.state().unwrap();
    assert_eq!(s, Sum { total: 103, messages: 2 });
    a.stop().unwrap();

    let a = absorb::spawn(&rt, SpawnOptions::default()).unwrap();
    a.send(&Add { value: 5 }).unwrap();
    a.stop().unwrap();
    assert_eq!(a.state().unwrap().total, 5);

    let a = ignore::spawn(&rt, SpawnOptions::default()).unwrap();
    a.send(&Add { value: 5 }).unwrap();
    a.stop().unwrap();
    let _: ignore::State = ();

    for cuda in [
        twice::cuda_source(),
        accumulate::cuda_source(),
        absorb::cuda_source(),
        ignore::cuda_source(),
    ] {
        assert!(cuda.contains("__global__"));
    }
}
