// Handlers the actor tests spawn (on the CPU backend in CI, on the GPU with
// the device tool). Read as text by the tests and transpiled; the message
// types are mirrored in the test file.

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Ping {
    pub seq: u64,
    pub payload: [u32; 12],
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Pong {
    pub seq: u64,
    pub actor: u32,
    pub checksum: u32,
    pub hlc_physical_ns: u64,
    pub hlc_logical: u32,
    pub hlc_node: u32,
}

#[derive(Clone, Copy, Debug, Default, GpuType)]
#[repr(C)]
pub struct Counter {
    pub count: u64,
    pub sum: u64,
    pub cells: [u32; 4],
}

/// Echoes the sequence number with a checksum the whole warp computed, the
/// actor id and the receipt timestamp; counts messages in its state.
#[ring_kernel(block_size = 64)]
pub fn echo(ctx: &RingContext, state: &mut Counter, msg: &Ping) -> Pong {
    let tid = ctx.thread_id() as usize;
    let word = if tid < 12 { msg.payload[tid] } else { 0 };
    let checksum = ctx.block_reduce_sum(word.wrapping_mul(tid as u32 + 1));
    // A handler that never returns, for the hang watchdog.
    if msg.payload[1] == 0xDEAD_BEEF {
        loop {}
    }
    if ctx.is_leader() {
        state.count += 1;
        state.sum = state.sum.wrapping_add(msg.seq);
        // Faults (index out of bounds) when payload[0] is 4 or more.
        state.cells[msg.payload[0] as usize] += 1;
    }
    let now = ctx.now();
    Pong {
        seq: msg.seq,
        actor: ctx.actor_id(),
        checksum,
        hlc_physical_ns: now.physical_ns,
        hlc_logical: now.logical,
        hlc_node: now.node,
    }
}

/// `echo` as a warp actor: the same body, one warp per actor, several
/// actors per block on the GPU (its block reduction spans the warp).
#[ring_kernel(warps = 1)]
pub fn warp_echo(ctx: &RingContext, state: &mut Counter, msg: &Ping) -> Pong {
    let tid = ctx.thread_id() as usize;
    let word = if tid < 12 { msg.payload[tid] } else { 0 };
    let checksum = ctx.block_reduce_sum(word.wrapping_mul(tid as u32 + 1));
    if ctx.is_leader() {
        state.count += 1;
        state.sum = state.sum.wrapping_add(msg.seq);
        // Faults (index out of bounds) when payload[0] is 4 or more.
        state.cells[msg.payload[0] as usize] += 1;
    }
    let now = ctx.now();
    Pong {
        seq: msg.seq,
        actor: ctx.actor_id(),
        checksum,
        hlc_physical_ns: now.physical_ns,
        hlc_logical: now.logical,
        hlc_node: now.node,
    }
}

/// The echo without state or collectives, the same on every thread: the
/// GPU loop runs one message per thread. Faults (index out of bounds) when
/// payload[0] is 4 or more.
#[ring_kernel(block_size = 64)]
pub fn relay(ctx: &RingContext, msg: &Ping) -> Pong {
    let mut checksum = 0u32;
    for i in 0..12usize {
        checksum = checksum.wrapping_add(msg.payload[i].wrapping_mul(i as u32 + 1));
    }
    let mut cells = [0u32; 4];
    cells[msg.payload[0] as usize] = checksum;
    let now = ctx.now();
    Pong {
        seq: msg.seq,
        actor: ctx.actor_id(),
        checksum: cells[msg.payload[0] as usize],
        hlc_physical_ns: now.physical_ns,
        hlc_logical: now.logical,
        hlc_node: now.node,
    }
}

/// Stateless and sharing nothing, but every thread computes something of
/// its own (only the leader's reply is right): the GPU loop runs each
/// message on every thread, without barriers in between. Faults (index out
/// of bounds) when payload[0] is 4 or more.
#[ring_kernel(block_size = 32)]
pub fn spread(ctx: &RingContext, msg: &Ping) -> Pong {
    let tid = ctx.thread_id();
    let mut checksum = tid;
    for i in 0..12usize {
        checksum = checksum.wrapping_add(msg.payload[i].wrapping_mul(i as u32 + 1));
    }
    let mut cells = [0u32; 4];
    cells[msg.payload[0] as usize] = checksum;
    let now = ctx.now();
    Pong {
        seq: msg.seq,
        actor: ctx.actor_id(),
        checksum: cells[msg.payload[0] as usize],
        hlc_physical_ns: now.physical_ns,
        hlc_logical: now.logical,
        hlc_node: now.node,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Job {
    pub seq: u64,
    pub pick: u32,
    pub salt: u32,
    pub values: [u32; 32],
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Verdict {
    pub seq: u64,
    pub actor: u32,
    pub sum: u32,
    pub max: u32,
    pub lanes: u32,
    pub lane_sum: u32,
    pub count: u32,
    pub hlc_node: u32,
    pub salt: u32,
}

#[derive(Clone, Copy, Debug, Default, GpuType)]
#[repr(C)]
pub struct Tally {
    pub count: u64,
    pub total: u32,
    pub cells: [u32; 4],
    pub last_salt: u32,
}

/// A warp actor: several share one block on the GPU. Its "block" is its
/// warp: the thread index is the lane, the block 32 threads, `sync_threads`
/// and the block reductions span the warp. Faults (index out of bounds)
/// when `pick` is 4 or more.
#[ring_kernel(warps = 1)]
pub fn warp_tally(ctx: &RingContext, state: &mut Tally, msg: &Job) -> Verdict {
    let lane = ctx.thread_id();
    let v = msg.values[lane as usize];
    let sum = ctx.block_reduce_sum(v.wrapping_mul(lane + 1) ^ msg.salt);
    let max = ctx.block_reduce_max(v);
    let lane_sum = ctx.block_reduce_sum(lane);
    let before = state.count;
    // Every lane has read the state before the leader writes it. (No
    // barrier or collective after the statement that may fault: the other
    // lanes would wait at it for the faulted leader.)
    ctx.sync_threads();
    if ctx.is_leader() {
        state.count += 1;
        state.total = state.total.wrapping_add(sum);
        state.cells[msg.pick as usize] += 1;
        state.last_salt = msg.salt;
    }
    let now = ctx.now();
    Verdict {
        seq: msg.seq,
        actor: ctx.actor_id(),
        sum,
        max,
        lanes: ctx.block_dim_x(),
        lane_sum,
        count: (before + 1) as u32,
        hlc_node: now.node,
        salt: msg.salt,
    }
}
