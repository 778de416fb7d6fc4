// One of the benchmark's actors, in a module of its own (as a user's
// crate would give it to NVRTC). Read as text and transpiled at load time;
// the types are mirrored in actors.rs.

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
