//! The actor suite's clock scenarios: the HLC at the logical counter's limit.

use super::*;

/// Requests stamped by a sender whose clock is a minute ahead, with logical
/// counters that run into `u32::MAX` (`Actor::send_stamped`): the actor's
/// receipts and reply stamps must carry the counter over into the next
/// physical value, never wrap or repeat: every receipt after its request's
/// stamp and after the previous receipt, every reply's stamp after its
/// receipt and after the previous reply's. Each round sends `n` requests
/// back to back (so that batches of several take the loop's wrap-case
/// stamping, which issues the reply stamps one by one) and stamps them
/// (ahead, MAX - n + 1 + i). `rounds` rounds.
pub fn clock_runs_into_the_logical_limit<S: Copy + Default>(
    actor: &Actor<Ping, Pong, S>,
    rounds: u32,
    n: u32,
) {
    let ahead = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        + 60_000_000_000;
    let mut last_receipt = (0u64, 0u32);
    let mut last_reply = (0u64, 0u32);
    let mut seq = 0u64;
    for round in 0..rounds {
        let first = seq + 1;
        let mut stamps = Vec::new();
        for i in 0..n {
            seq += 1;
            let stamp = HlcTimestamp {
                physical_ns: ahead + u64::from(round) * 1_000,
                logical: u32::MAX - n + 1 + i,
                node: 0,
            };
            actor.send_stamped(&ping(seq), stamp).unwrap();
            stamps.push((stamp.physical_ns, stamp.logical));
        }
        for (k, stamp) in stamps.iter().enumerate() {
            let (pong, header) = actor.recv_envelope(Some(Duration::from_secs(10))).unwrap();
            check_reply(actor.id(), &pong, first + k as u64, &mut last_receipt);
            let receipt = hlc(&pong);
            assert!(
                receipt > *stamp,
                "receipt {receipt:?} after its request's stamp {stamp:?}"
            );
            let reply = (header.hlc.physical_ns, header.hlc.logical);
            assert!(
                reply > receipt,
                "reply stamp {reply:?} after its receipt {receipt:?}"
            );
            assert!(
                reply > last_reply,
                "reply stamps strictly increase: {reply:?} after {last_reply:?}"
            );
            last_reply = reply;
        }
        // The last request carried logical u32::MAX: its receipt can only
        // be later by moving to the next physical value.
        let round_physical = ahead + u64::from(round) * 1_000;
        assert!(
            last_receipt.0 > round_physical,
            "round {round}: the counter carried over into the physical part ({last_receipt:?})"
        );
    }
    let stats = actor.stats().unwrap();
    assert_eq!(
        (stats.messages_in, stats.messages_out, stats.faults),
        (seq, seq, 0)
    );
    actor.stop().unwrap();
}
