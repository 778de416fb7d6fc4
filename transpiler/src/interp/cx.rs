//! The execution context one thread's compiled code runs against: its stack
//! frame, the block's shared memory, the launch's buffers, its ids, and the
//! race detector that watches shared and state memory.
//!
//! Memory is addressed by [`Addr`] = (region, byte offset). Region 0 is the
//! running thread's stack (locals of every frame), region 1 the block's
//! shared arrays, regions 2.. the buffers behind slice and reference
//! arguments. Keeping every place a byte address is what makes struct and
//! array values readable and writable from host byte buffers unchanged.

use crate::span::Span;

use super::error::UncheckedOp;
use super::race::{Race, RaceHit};

pub(crate) const STACK: u32 = 0;
pub(crate) const SHARED: u32 = 1;
pub(crate) const FIRST_BUFFER: u32 = 2;

/// A byte address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Addr {
    pub region: u32,
    pub off: usize,
}

/// Why compiled code stopped abnormally (turned into an
/// [`super::InterpError`] with the thread and location by the machine).
#[derive(Debug)]
pub(crate) enum Trap {
    Unchecked(UncheckedOp),
    Race(RaceHit),
    StackOverflow,
}

pub(crate) type R<T> = Result<T, Box<Trap>>;

pub(crate) fn unchecked<T>(op: UncheckedOp) -> R<T> {
    Err(Box::new(Trap::Unchecked(op)))
}

/// A thread's launch-geometry registers.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ids {
    pub thread: [u32; 3],
    pub block: [u32; 3],
    pub block_dim: [u32; 3],
    pub grid_dim: [u32; 3],
    pub thread_linear: u32,
    pub block_linear: u32,
    pub global_linear: u64,
    pub global: [u64; 3],
    /// What `RingContext` intrinsics read when the function is a handler.
    pub actor: ActorEnv,
}

/// The actor a handler runs for: its id and the HLC timestamp of the
/// current message's receipt (physical ns, logical, node).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActorEnv {
    pub actor_id: u32,
    pub received: [u64; 3],
    /// Bit `p` is set when the host wired output port `p` to an actor: a
    /// `ctx.send` on any other port faults (`CheckKind::Unrouted`).
    pub routed: u64,
}

impl Ids {
    pub(crate) fn new(block: [u32; 3], thread: [u32; 3], bdim: [u32; 3], gdim: [u32; 3]) -> Ids {
        let thread_linear = thread[0] + thread[1] * bdim[0] + thread[2] * bdim[0] * bdim[1];
        let block_linear = block[0] + block[1] * gdim[0] + block[2] * gdim[0] * gdim[1];
        let per_block = u64::from(bdim[0]) * u64::from(bdim[1]) * u64::from(bdim[2]);
        let g = |i: usize| u64::from(block[i]) * u64::from(bdim[i]) + u64::from(thread[i]);
        Ids {
            thread,
            block,
            block_dim: bdim,
            grid_dim: gdim,
            thread_linear,
            block_linear,
            global_linear: u64::from(block_linear) * per_block + u64::from(thread_linear),
            global: [g(0), g(1), g(2)],
            actor: ActorEnv::default(),
        }
    }
}

pub(crate) struct Cx<'a> {
    pub stack: &'a mut Vec<u8>,
    /// Start of the running frame in `stack`.
    pub base: usize,
    pub shared: &'a mut [u8],
    pub buffers: &'a mut [Vec<u8>],
    pub ids: &'a Ids,
    /// Span of the statement being executed (for race and trap reports).
    pub span: Span,
    pub race: &'a mut Race,
}

impl Cx<'_> {
    #[inline]
    fn mem(&mut self, region: u32) -> &mut [u8] {
        match region {
            STACK => self.stack,
            SHARED => self.shared,
            r => &mut self.buffers[(r - FIRST_BUFFER) as usize],
        }
    }

    /// The `size` bytes at `a`, for reading (recorded by the race detector).
    #[inline]
    pub(crate) fn read(&mut self, a: Addr, size: usize) -> R<&[u8]> {
        if a.region != STACK && self.race.tracks(a.region) {
            let (tid, span) = (self.ids.thread_linear, self.span);
            self.race
                .on_read(a.region, a.off, size, tid, span)
                .map_err(|h| Box::new(Trap::Race(h)))?;
        }
        self.raw(a, size).map(|b| &*b)
    }

    /// The `size` bytes at `a`, for writing (recorded by the race detector).
    #[inline]
    pub(crate) fn write(&mut self, a: Addr, size: usize) -> R<&mut [u8]> {
        if a.region != STACK && self.race.tracks(a.region) {
            let (tid, span) = (self.ids.thread_linear, self.span);
            self.race
                .on_write(a.region, a.off, size, tid, span)
                .map_err(|h| Box::new(Trap::Race(h)))?;
        }
        self.raw(a, size)
    }

    /// The bytes at `a` without race tracking (atomics, which never race).
    #[inline]
    pub(crate) fn raw(&mut self, a: Addr, size: usize) -> R<&mut [u8]> {
        match self.mem(a.region).get_mut(a.off..a.off + size) {
            Some(b) => Ok(b),
            None => unchecked(UncheckedOp::BufferOverrun),
        }
    }

    /// The running frame's bytes at frame offset `off`.
    #[inline]
    pub(crate) fn local(&self, off: usize, size: usize) -> &[u8] {
        &self.stack[self.base + off..self.base + off + size]
    }

    #[inline]
    pub(crate) fn local_mut(&mut self, off: usize, size: usize) -> &mut [u8] {
        &mut self.stack[self.base + off..self.base + off + size]
    }
}

/// Encodes a reference handle (see `layout`): region, offset.
pub(crate) fn write_ref(out: &mut [u8], a: Addr) {
    out[..8].copy_from_slice(&u64::from(a.region).to_le_bytes());
    out[8..16].copy_from_slice(&(a.off as u64).to_le_bytes());
}

pub(crate) fn read_u64(b: &[u8], at: usize) -> u64 {
    let mut w = [0; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Decodes a reference handle.
pub(crate) fn read_ref(b: &[u8]) -> Addr {
    Addr {
        region: read_u64(b, 0) as u32,
        off: read_u64(b, 8) as usize,
    }
}

/// Encodes a slice handle: region, offset, length in elements.
pub(crate) fn write_slice(out: &mut [u8], a: Addr, len: u64) {
    write_ref(out, a);
    out[16..24].copy_from_slice(&len.to_le_bytes());
}

/// Decodes a slice handle.
pub(crate) fn read_slice(b: &[u8]) -> (Addr, u64) {
    (read_ref(b), read_u64(b, 16))
}
