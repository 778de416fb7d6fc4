// One of the benchmark's actors, in a module of its own (as a user's
// crate would give it to NVRTC). Read as text and transpiled at load time;
// the types are mirrored in actors.rs.

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Msg64 {
    pub seq: u64,
    pub words: [u32; 14],
}

#[derive(Clone, Copy, Debug, Default, GpuType)]
#[repr(C)]
pub struct Tally {
    pub count: u64,
    pub cells: [u32; 4],
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
