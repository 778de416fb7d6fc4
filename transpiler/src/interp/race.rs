//! Data-race detection on block-shared memory and `&mut` state.
//!
//! The device orders two accesses of different threads of a block only
//! through a barrier (`sync_threads`, and the barriers inside
//! `block_reduce_*`), or, for lanes of one warp, a `sync_warp`. Atomics never
//! race. The detector keeps a shadow cell per byte of each tracked region:
//! the last writer (thread, barrier epoch, warp epoch, span) and the readers
//! since that write (the first two distinct threads, their spans, and the
//! newest warp epoch of their reads). An access by thread `t` conflicts with
//! a recorded access by `u != t` in the same barrier epoch unless both are in
//! one warp and a `sync_warp` of that warp came between them.
//!
//! The barrier epoch is global and only grows (a new block starts a new
//! epoch), so shadow cells left by an earlier block are ordered before every
//! access of the next one and never need clearing. Byte granularity makes
//! mixed-size accesses (a struct copy against a field store) exact.

use crate::span::Span;

use super::error::AccessKind;

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Cell {
    w_tid: u32,
    w_epoch: u32,
    w_wep: u32,
    w_span: Span,
    r_tid: u32,
    r_tid2: u32,
    /// The one warp of all readers, or `NONE` when readers span warps.
    r_warp: u32,
    r_epoch: u32,
    r_wep: u32,
    r_span: Span,
    r_span2: Span,
}

const EMPTY: Cell = Cell {
    w_tid: NONE,
    w_epoch: 0,
    w_wep: 0,
    w_span: Span::UNKNOWN,
    r_tid: NONE,
    r_tid2: NONE,
    r_warp: NONE,
    r_epoch: 0,
    r_wep: 0,
    r_span: Span::UNKNOWN,
    r_span2: Span::UNKNOWN,
};

/// Two conflicting accesses (linear thread ids within the block).
#[derive(Debug, Clone)]
pub(crate) struct RaceHit {
    pub region: u32,
    pub offset: usize,
    pub first: (AccessKind, u32, Span),
    pub second: (AccessKind, u32, Span),
}

#[derive(Debug, Default)]
pub(crate) struct Race {
    tracked: Vec<bool>,
    shadow: Vec<Vec<Cell>>,
    epoch: u32,
    warp_epochs: Vec<u32>,
}

impl Race {
    /// Starts tracking `region` of `size` bytes.
    pub(crate) fn track(&mut self, region: u32, size: usize) {
        let r = region as usize;
        if self.tracked.len() <= r {
            self.tracked.resize(r + 1, false);
            self.shadow.resize_with(r + 1, Vec::new);
        }
        self.tracked[r] = true;
        self.shadow[r] = vec![EMPTY; size];
    }

    #[inline]
    pub(crate) fn tracks(&self, region: u32) -> bool {
        self.tracked.get(region as usize).copied().unwrap_or(false)
    }

    /// A new block: everything before it is ordered before everything in it.
    pub(crate) fn new_block(&mut self, warps: usize) {
        self.epoch += 1;
        self.warp_epochs.clear();
        self.warp_epochs.resize(warps, 0);
    }

    /// All threads of the block passed a barrier.
    pub(crate) fn barrier(&mut self) {
        self.epoch += 1;
    }

    /// The lanes of `warp` passed a `sync_warp`.
    pub(crate) fn sync_warp(&mut self, warp: u32) {
        if let Some(e) = self.warp_epochs.get_mut(warp as usize) {
            *e += 1;
        }
    }

    fn ordered(&self, tid: u32, prev: u32, epoch: u32, wep: u32) -> bool {
        prev == NONE
            || prev == tid
            || epoch < self.epoch
            || (prev / 32 == tid / 32 && wep < self.warp_epochs[(tid / 32) as usize])
    }

    pub(crate) fn on_read(
        &mut self,
        region: u32,
        off: usize,
        size: usize,
        tid: u32,
        span: Span,
    ) -> Result<(), RaceHit> {
        let warp = tid / 32;
        let wep = self.warp_epochs[warp as usize];
        let epoch = self.epoch;
        for i in off..off + size {
            let Some(&c) = self.shadow[region as usize].get(i) else {
                return Ok(());
            };
            if !self.ordered(tid, c.w_tid, c.w_epoch, c.w_wep) {
                return Err(RaceHit {
                    region,
                    offset: i,
                    first: (AccessKind::Write, c.w_tid, c.w_span),
                    second: (AccessKind::Read, tid, span),
                });
            }
            let cell = &mut self.shadow[region as usize][i];
            if cell.r_tid == NONE || cell.r_epoch != epoch {
                cell.r_tid = tid;
                cell.r_tid2 = NONE;
                cell.r_warp = warp;
                cell.r_epoch = epoch;
                cell.r_wep = wep;
                cell.r_span = span;
            } else {
                if cell.r_tid != tid && cell.r_tid2 == NONE {
                    cell.r_tid2 = tid;
                    cell.r_span2 = span;
                }
                if cell.r_warp != warp {
                    cell.r_warp = NONE;
                }
                cell.r_wep = cell.r_wep.max(wep);
            }
        }
        Ok(())
    }

    pub(crate) fn on_write(
        &mut self,
        region: u32,
        off: usize,
        size: usize,
        tid: u32,
        span: Span,
    ) -> Result<(), RaceHit> {
        let warp = tid / 32;
        let wep = self.warp_epochs[warp as usize];
        let epoch = self.epoch;
        for i in off..off + size {
            let Some(&c) = self.shadow[region as usize].get(i) else {
                return Ok(());
            };
            if !self.ordered(tid, c.w_tid, c.w_epoch, c.w_wep) {
                return Err(RaceHit {
                    region,
                    offset: i,
                    first: (AccessKind::Write, c.w_tid, c.w_span),
                    second: (AccessKind::Write, tid, span),
                });
            }
            if c.r_tid != NONE && c.r_epoch == epoch {
                let (other, other_span) = if c.r_tid != tid {
                    (c.r_tid, c.r_span)
                } else {
                    (c.r_tid2, c.r_span2)
                };
                let warp_ordered = c.r_warp == warp && c.r_wep < wep;
                if other != NONE && !warp_ordered {
                    return Err(RaceHit {
                        region,
                        offset: i,
                        first: (AccessKind::Read, other, other_span),
                        second: (AccessKind::Write, tid, span),
                    });
                }
            }
            let cell = &mut self.shadow[region as usize][i];
            cell.w_tid = tid;
            cell.w_epoch = epoch;
            cell.w_wep = wep;
            cell.w_span = span;
            cell.r_tid = NONE;
            cell.r_tid2 = NONE;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn race() -> Race {
        let mut r = Race::default();
        r.track(1, 16);
        r.new_block(2);
        r
    }

    #[test]
    fn write_write_in_one_epoch_races() {
        let mut r = race();
        r.on_write(1, 0, 4, 0, Span::UNKNOWN).unwrap();
        assert!(r.on_write(1, 2, 4, 1, Span::UNKNOWN).is_err());
    }

    #[test]
    fn barrier_orders_and_reads_share() {
        let mut r = race();
        r.on_write(1, 0, 4, 0, Span::UNKNOWN).unwrap();
        r.barrier();
        r.on_read(1, 0, 4, 1, Span::UNKNOWN).unwrap();
        r.on_read(1, 0, 4, 40, Span::UNKNOWN).unwrap();
        assert!(r.on_write(1, 0, 4, 1, Span::UNKNOWN).is_err());
        r.barrier();
        r.on_write(1, 0, 4, 1, Span::UNKNOWN).unwrap();
    }

    #[test]
    fn sync_warp_orders_lanes_of_one_warp_only() {
        let mut r = race();
        r.on_write(1, 0, 4, 0, Span::UNKNOWN).unwrap();
        r.sync_warp(0);
        r.on_read(1, 0, 4, 5, Span::UNKNOWN).unwrap();
        assert!(r.on_read(1, 0, 4, 33, Span::UNKNOWN).is_err());
    }
}
