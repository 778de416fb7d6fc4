// The actors the benchmark runs. Read as text and transpiled at load time;
// the message types are mirrored in actors.rs.

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Msg64 {
    pub seq: u64,
    pub words: [u32; 14],
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Msg1k {
    pub seq: u64,
    pub words: [u32; 254],
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Digest {
    pub seq: u64,
    pub sum: u32,
    pub max: u32,
}

#[derive(Clone, Copy, Debug, Default, GpuType)]
#[repr(C)]
pub struct Tally {
    pub count: u64,
    pub cells: [u32; 4],
}

/// Echoes a 64-byte message with every word transformed, so the reply
/// proves the device read all of it. Stateless and the same on every
/// thread: the loop runs one message per thread.
#[ring_kernel(block_size = 256)]
pub fn echo64(ctx: &RingContext, msg: &Msg64) -> Msg64 {
    let mut words = msg.words;
    for i in 0..14usize {
        words[i] = words[i].wrapping_mul(3).wrapping_add(i as u32) ^ (msg.seq as u32);
    }
    Msg64 {
        seq: msg.seq,
        words,
    }
}

/// A 1 KiB message reduced by the whole block to a 16-byte digest (sum and
/// maximum of its 254 words): block collectives, so messages run in order.
#[ring_kernel(block_size = 256)]
pub fn digest1k(ctx: &RingContext, msg: &Msg1k) -> Digest {
    let tid = ctx.thread_id() as usize;
    let word = if tid < 254 { msg.words[tid] } else { 0 };
    let sum = ctx.block_reduce_sum(word);
    let max = ctx.block_reduce_max(word);
    Digest {
        seq: msg.seq,
        sum,
        max,
    }
}

/// A stateful actor: the block sums the words, the leader counts the
/// message in its state. Faults (index out of bounds) when words[0] is 4 or
/// more: the restart benchmark's fault.
#[ring_kernel(block_size = 64)]
pub fn guard(ctx: &RingContext, state: &mut Tally, msg: &Msg64) -> Msg64 {
    let tid = ctx.thread_id() as usize;
    let word = if tid < 14 { msg.words[tid] } else { 0 };
    let sum = ctx.block_reduce_sum(word);
    if ctx.is_leader() {
        state.count += 1;
        state.cells[msg.words[0] as usize] += 1;
    }
    let mut words = msg.words;
    words[13] = sum;
    Msg64 {
        seq: msg.seq,
        words,
    }
}
