//! The hybrid logical clock, mirrored from `cuda/rk_hlc.cuh`.
//!
//! Timestamps cross every boundary (host→actor, actor→actor, actor→host), so
//! the host, the CPU backend and the device must apply the *same* rules: the
//! send and receive rules of Kulkarni et al., "Logical Physical Clocks"
//! (OPODIS 2014), with `l` = [`HlcTimestamp::physical_ns`] and `c` =
//! [`HlcTimestamp::logical`]. Every timestamp a clock issues is strictly
//! greater than every timestamp it issued or received before, whatever the
//! physical clock does (stalls, jumps backwards). One addition, shared with
//! the CUDA side: `c` is 32 bits, and where it would overflow the clock
//! moves to `(l + 1, 0)` instead, which is still strictly greater.

use core::cmp::Ordering;
use core::mem::{align_of, offset_of, size_of};

/// `struct rk_hlc_timestamp`: ordered by `(physical_ns, logical, node)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct HlcTimestamp {
    /// Physical component in nanoseconds (host time).
    pub physical_ns: u64,
    /// Logical counter within one physical value.
    pub logical: u32,
    /// The issuing clock's node id; breaks ties only.
    pub node: u32,
}

const _: () = {
    assert!(size_of::<HlcTimestamp>() == 16);
    assert!(align_of::<HlcTimestamp>() == 8);
    assert!(offset_of!(HlcTimestamp, physical_ns) == 0);
    assert!(offset_of!(HlcTimestamp, logical) == 8);
    assert!(offset_of!(HlcTimestamp, node) == 12);
};

impl HlcTimestamp {
    /// The `(l, c)` pair the HLC rules order by (without the node).
    pub fn clock_part(&self) -> (u64, u32) {
        (self.physical_ns, self.logical)
    }
}

impl Ord for HlcTimestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.physical_ns, self.logical, self.node).cmp(&(
            other.physical_ns,
            other.logical,
            other.node,
        ))
    }
}

impl PartialOrd for HlcTimestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `struct rk_hlc_clock`: one actor's clock.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HlcClock {
    /// The last timestamp issued or merged; `last.node` is this clock's node.
    pub last: HlcTimestamp,
    /// Added to the device's `%globaltimer` to get host time (calibrated by
    /// the host at launch; unused on the host itself).
    pub offset_ns: i64,
}

const _: () = {
    assert!(size_of::<HlcClock>() == 24);
    assert!(align_of::<HlcClock>() == 8);
    assert!(offset_of!(HlcClock, last) == 0);
    assert!(offset_of!(HlcClock, offset_ns) == 16);
};

impl HlcClock {
    /// A clock for `node` that has seen nothing yet.
    pub fn new(node: u32) -> HlcClock {
        HlcClock {
            last: HlcTimestamp {
                physical_ns: 0,
                logical: 0,
                node,
            },
            offset_ns: 0,
        }
    }

    /// A send or local event at physical time `pt` (`rk_hlc_send`).
    #[inline]
    pub fn send(&mut self, pt: u64) -> HlcTimestamp {
        let t = &mut self.last;
        if pt > t.physical_ns {
            t.physical_ns = pt;
            t.logical = 0;
        } else {
            bump(t, t.physical_ns, t.logical);
        }
        *t
    }

    /// Receipt of a message stamped `remote` at physical time `pt`
    /// (`rk_hlc_receive`). The result is greater than both the clock's last
    /// timestamp and `remote`.
    #[inline]
    pub fn receive(&mut self, remote: &HlcTimestamp, pt: u64) -> HlcTimestamp {
        let t = &mut self.last;
        let (l, ml) = (t.physical_ns, remote.physical_ns);
        if pt > l.max(ml) {
            t.physical_ns = pt;
            t.logical = 0;
        } else if l == ml {
            bump(t, l, t.logical.max(remote.logical));
        } else if l > ml {
            bump(t, l, t.logical);
        } else {
            bump(t, ml, remote.logical);
        }
        *t
    }

    /// The receive rule for each of `remote`, in order, all at physical
    /// time `pt`: the clock ends where [`HlcClock::receive`] one by one
    /// leaves it. A host receiving a batch of replies in one go does this.
    /// When `pt` is past the clock and every stamp (the usual case: the
    /// replies were stamped before the host looked), that is `(pt, n - 1)`
    /// without a pass of the rule: the first receipt takes `(pt, 0)`, each
    /// later one finds the clock's physical part ahead of its stamp's and
    /// bumps the counter.
    pub fn receive_all(&mut self, remote: &[HlcTimestamp], pt: u64) {
        let Some(latest) = remote.iter().map(|t| t.physical_ns).max() else {
            return;
        };
        if pt > self.last.physical_ns.max(latest) {
            if let Ok(c) = u32::try_from(remote.len() - 1) {
                self.last.physical_ns = pt;
                self.last.logical = c;
                return;
            }
        }
        for t in remote {
            self.receive(t, pt);
        }
    }
}

/// `(l, c + 1)`, or `(l + 1, 0)` when `c` is saturated (`rk_hlc_bump_`).
#[inline]
fn bump(t: &mut HlcTimestamp, l: u64, c: u32) {
    match c.checked_add(1) {
        Some(c) => {
            t.physical_ns = l;
            t.logical = c;
        }
        None => {
            t.physical_ns = l + 1;
            t.logical = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(l: u64, c: u32) -> HlcTimestamp {
        HlcTimestamp {
            physical_ns: l,
            logical: c,
            node: 9,
        }
    }

    #[test]
    fn send_follows_physical_time_when_it_advances() {
        let mut clock = HlcClock::new(1);
        assert_eq!(clock.send(100).clock_part(), (100, 0));
        assert_eq!(clock.send(200).clock_part(), (200, 0));
        assert_eq!(clock.send(200).node, 1);
    }

    #[test]
    fn send_counts_logically_when_physical_time_stalls_or_goes_back() {
        let mut clock = HlcClock::new(1);
        clock.send(100);
        assert_eq!(clock.send(100).clock_part(), (100, 1));
        assert_eq!(clock.send(50).clock_part(), (100, 2));
        assert_eq!(clock.send(101).clock_part(), (101, 0));
    }

    #[test]
    fn receive_takes_each_branch_of_the_rule() {
        // pt dominates: (pt, 0).
        let mut clock = HlcClock::new(1);
        clock.send(100);
        assert_eq!(clock.receive(&ts(150, 4), 200).clock_part(), (200, 0));
        // l == m.l == l': max(c, m.c) + 1.
        let mut clock = HlcClock::new(1);
        clock.send(100);
        clock.send(100); // (100, 1)
        assert_eq!(clock.receive(&ts(100, 7), 90).clock_part(), (100, 8));
        assert_eq!(clock.receive(&ts(100, 2), 90).clock_part(), (100, 9));
        // l' == l only: c + 1.
        assert_eq!(clock.receive(&ts(99, 50), 90).clock_part(), (100, 10));
        // l' == m.l only: m.c + 1.
        assert_eq!(clock.receive(&ts(300, 5), 90).clock_part(), (300, 6));
        assert_eq!(clock.last.node, 1);
    }

    #[test]
    fn receive_all_is_receive_one_by_one() {
        // The shortcut (pt past everything) and the rule's other branches.
        for (start, stamps, pt) in [
            (ts(100, 3), vec![ts(150, 4), ts(160, 0), ts(160, 1)], 200),
            (ts(100, 3), vec![ts(150, 4), ts(260, 0), ts(160, 1)], 200),
            (ts(300, 3), vec![ts(150, 4), ts(160, 0)], 200),
            (ts(100, 3), vec![ts(100, 9), ts(100, 2)], 100),
            (ts(100, 3), vec![], 200),
        ] {
            let mut one_by_one = HlcClock::new(1);
            one_by_one.last = start;
            let mut all = one_by_one;
            for t in &stamps {
                one_by_one.receive(t, pt);
            }
            all.receive_all(&stamps, pt);
            assert_eq!(all, one_by_one, "{start:?} {stamps:?} at {pt}");
        }
    }

    #[test]
    fn a_saturated_logical_counter_moves_physical_time_on() {
        let mut clock = HlcClock::new(0);
        clock.last = ts(10, u32::MAX);
        assert_eq!(clock.send(5).clock_part(), (11, 0));
        let mut clock = HlcClock::new(0);
        assert_eq!(
            clock.receive(&ts(10, u32::MAX), 0).clock_part(),
            (11, 0),
            "receive from a saturated remote"
        );
    }

    #[test]
    fn order_is_lexicographic_with_node_as_tie_breaker() {
        let a = ts(1, 2);
        let mut b = a;
        b.node = 10;
        assert!(a < b);
        assert!(ts(1, 3) > b);
        assert!(ts(2, 0) > ts(1, u32::MAX));
    }

    #[derive(Clone, Debug)]
    enum Event {
        Send(u64),
        Receive(HlcTimestamp, u64),
    }

    fn event() -> impl Strategy<Value = Event> {
        // Small ranges so that ties and stalls (the interesting cases) are
        // common, plus counters near saturation.
        let pt = 0u64..40;
        let remote = (
            0u64..40,
            prop_oneof![0u32..5, (u32::MAX - 3)..=u32::MAX],
            0u32..3,
        )
            .prop_map(|(l, c, node)| HlcTimestamp {
                physical_ns: l,
                logical: c,
                node,
            });
        prop_oneof![
            pt.clone().prop_map(Event::Send),
            (remote, pt).prop_map(|(r, p)| Event::Receive(r, p)),
        ]
    }

    proptest! {
        /// Every issued timestamp is strictly greater (in (l, c) order, so
        /// regardless of node ids) than everything issued or seen before, and
        /// never behind physical time.
        #[test]
        fn issued_timestamps_dominate_everything_seen(events in prop::collection::vec(event(), 1..200)) {
            let mut clock = HlcClock::new(1);
            let mut seen_max: Option<(u64, u32)> = None;
            for event in events {
                let (issued, pt) = match event {
                    Event::Send(pt) => (clock.send(pt), pt),
                    Event::Receive(remote, pt) => {
                        let issued = clock.receive(&remote, pt);
                        prop_assert!(issued.clock_part() > remote.clock_part());
                        seen_max = seen_max.max(Some(remote.clock_part()));
                        (issued, pt)
                    }
                };
                if let Some(seen) = seen_max {
                    prop_assert!(issued.clock_part() > seen, "{issued:?} vs {seen:?}");
                }
                prop_assert!(issued.physical_ns >= pt);
                prop_assert_eq!(issued.node, 1);
                seen_max = Some(issued.clock_part());
            }
        }

        /// Causality across clocks: a message's receipt is stamped after its
        /// send, along any chain of actors.
        #[test]
        fn causality_holds_along_message_chains(
            pts in prop::collection::vec((0u64..30, 0u64..30), 1..50)
        ) {
            let mut a = HlcClock::new(1);
            let mut b = HlcClock::new(2);
            for (pa, pb) in pts {
                let sent = a.send(pa);
                let received = b.receive(&sent, pb);
                prop_assert!(received > sent);
                let back = b.send(pb);
                let received_back = a.receive(&back, pa);
                prop_assert!(received_back > back && back > received);
            }
        }
    }

    /// Receiving a batch at one physical time `pt`, message by message, is a
    /// prefix maximum (what `rk_actor.cuh` computes with a warp scan):
    /// after messages 1..=i the clock is max(s, Q_1..Q_i) + (0, i) with
    /// Q_j = (max(m_j.l, pt), (m_j.l >= pt ? m_j.c + 1 : 0) - j),
    /// lexicographic, c as a signed number (no logical overflow here).
    fn batch_receipts(start: HlcTimestamp, remotes: &[HlcTimestamp], pt: u64) -> Vec<(u64, i64)> {
        let mut best = (start.physical_ns, i64::from(start.logical));
        remotes
            .iter()
            .enumerate()
            .map(|(j, m)| {
                let a = m.physical_ns.max(pt);
                let b = if m.physical_ns >= pt {
                    i64::from(m.logical) + 1
                } else {
                    0
                };
                best = best.max((a, b - (j as i64 + 1)));
                (best.0, best.1 + j as i64 + 1)
            })
            .collect()
    }

    proptest! {
        #[test]
        fn a_batch_received_at_one_time_is_a_prefix_maximum(
            start_l in 0u64..40,
            start_c in 0u32..5,
            pt in 0u64..40,
            remotes in prop::collection::vec((0u64..40, 0u32..5), 1..70),
        ) {
            let remotes: Vec<HlcTimestamp> = remotes.iter().map(|&(l, c)| ts(l, c)).collect();
            let mut clock = HlcClock::new(9);
            clock.last = ts(start_l, start_c);
            let formula = batch_receipts(clock.last, &remotes, pt);
            for (m, expected) in remotes.iter().zip(formula) {
                let r = clock.receive(m, pt);
                prop_assert_eq!((r.physical_ns, i64::from(r.logical)), expected);
            }
        }

        #[test]
        fn receive_all_ends_where_receiving_one_by_one_does(
            start_l in 0u64..40,
            start_c in 0u32..5,
            pt in 0u64..60,
            remotes in prop::collection::vec((0u64..40, 0u32..5), 0..70),
        ) {
            let remotes: Vec<HlcTimestamp> = remotes.iter().map(|&(l, c)| ts(l, c)).collect();
            let mut one_by_one = HlcClock::new(9);
            one_by_one.last = ts(start_l, start_c);
            let mut all = one_by_one;
            for m in &remotes {
                one_by_one.receive(m, pt);
            }
            all.receive_all(&remotes, pt);
            prop_assert_eq!(all, one_by_one);
        }
    }
}
