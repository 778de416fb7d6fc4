// One of the benchmark's actors, in a module of its own (as a user's
// crate would give it to NVRTC). Read as text and transpiled at load time;
// the types are mirrored in actors.rs.

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Msg64 {
    pub seq: u64,
    pub words: [u32; 14],
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
