// Persistent actors: every handler shape `#[ring_kernel]` accepts.

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Request {
    pub id: u32,
    pub values: [f32; 64],
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Response {
    pub id: u32,
    pub sum: f32,
}

#[derive(Clone, Copy, Debug, Default, GpuType)]
#[repr(C)]
pub struct Stats {
    pub count: u64,
    pub total: f32,
}

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
pub struct Table {
    pub cells: [u32; 8],
    pub writes: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Put {
    pub index: u32,
    pub value: u32,
}

/// Runs on every thread of the actor's block, once per message.
#[ring_kernel(block_size = 64)]
pub fn summer(ctx: &RingContext, state: &mut Stats, msg: &Request) -> Response {
    let tid = ctx.thread_id() as usize;
    let sum = ctx.block_reduce_sum(msg.values[tid]);
    if ctx.is_leader() {
        state.count += 1;
        state.total += sum;
    }
    Response { id: msg.id, sum }
}

/// Stateless: echoes the sequence number with a checksum of the payload the
/// whole warp computed, its actor id and the HLC of the receipt.
#[ring_kernel(block_size = 32)]
pub fn echo(ctx: &RingContext, msg: &Ping) -> Pong {
    let lane = ctx.lane_id() as usize;
    let word = if lane < 12 { msg.payload[lane] } else { 0 };
    let checksum = ctx.warp_reduce_sum(word.wrapping_mul(lane as u32 + 1));
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

/// No reply: only updates state. Indexing past the table faults (soft),
/// with this line as the location.
#[ring_kernel(block_size = 32, checks = true)]
pub fn store(ctx: &RingContext, state: &mut Table, msg: &Put) {
    if ctx.is_leader() {
        state.cells[msg.index as usize] = msg.value;
        state.writes += 1;
    }
}

/// Stateless and the same on every thread (no thread index, nothing
/// shared): the loop may run one message per thread.
#[ring_kernel(block_size = 64)]
pub fn scale(ctx: &RingContext, msg: &Put) -> Put {
    Put {
        index: msg.index,
        value: msg.value.wrapping_mul(3) ^ ctx.actor_id(),
    }
}

/// Stateless and sharing nothing, but each thread reads its own lane: the
/// loop runs every message on every thread, without barriers in between.
#[ring_kernel(block_size = 32)]
pub fn pick(ctx: &RingContext, msg: &Ping) -> Put {
    let lane = ctx.lane_id() as usize;
    Put {
        index: lane as u32,
        value: msg.payload[lane % 12] + ctx.now().logical,
    }
}
