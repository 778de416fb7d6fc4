//! Shared by the device-library K2K inbox tests (`k2k.rs`: `rk_k2k`,
//! `k2k_ll.rs`: `rk_k2k_ll`, `k2k_mbar.rs`: `rk_k2k_mbar`): the fan-in
//! kernels' consumer log and its check (the same exactly-once, untorn,
//! per-producer-order rules), and the launch helpers their harnesses share.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use ringkernel_runtime::{DeviceBuffer, DeviceCopy, LaunchHandle};

/// Waits for a test kernel, failing after 60 s (a lost or stuck message
/// would otherwise hang the test).
pub fn wait(handle: &LaunchHandle, what: &str) {
    let start = Instant::now();
    while !handle
        .is_complete()
        .unwrap_or_else(|e| panic!("{what}: {e}"))
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what}: the kernel did not finish in 60 s (a lost or stuck message)"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A CUDA buffer's device address, for raw kernel arguments.
pub fn device_ptr<T: DeviceCopy>(b: &DeviceBuffer<T>) -> u64 {
    b.device_ptr().expect("a CUDA buffer")
}

/// The kernels' `log` entries: producer << 16 | index, bit 31 when torn.
pub const TORN: u32 = 0x8000_0000;

/// What the consumer logged, checked: `total` messages, each (producer,
/// index) of `producers × msgs` exactly once, none torn, each producer's in
/// its sending order. Returns the first violation.
pub fn check_log(log: &[u32], producers: u32, msgs: u32) -> Result<(), String> {
    let total = (producers * msgs) as usize;
    if log.len() != total {
        return Err(format!("{} log entries, {total} messages sent", log.len()));
    }
    let mut seen = vec![false; total];
    let mut next = vec![0u32; producers as usize];
    for (pos, &entry) in log.iter().enumerate() {
        if entry & TORN != 0 {
            return Err(format!("position {pos}: torn message {entry:#010x}"));
        }
        let (p, i) = (entry >> 16, entry & 0xFFFF);
        if p >= producers || i >= msgs {
            return Err(format!("position {pos}: no such message ({p}, {i})"));
        }
        let at = (p * msgs + i) as usize;
        if seen[at] {
            return Err(format!("position {pos}: ({p}, {i}) arrived twice"));
        }
        seen[at] = true;
        if i != next[p as usize] {
            return Err(format!(
                "position {pos}: producer {p}'s message {i} arrived before its {}",
                next[p as usize]
            ));
        }
        next[p as usize] += 1;
    }
    Ok(())
}

/// The check itself can fail: loss, duplicates, tears, reordering and
/// strays are each rejected (called from one test in each binary).
pub fn check_rejects_loss_duplicates_tears_and_reordering() {
    let good: Vec<u32> = (0..2u32)
        .flat_map(|i| (0..3u32).map(move |p| (p << 16) | i))
        .collect();
    assert_eq!(check_log(&good, 3, 2), Ok(()));
    let mut dup = good.clone();
    dup[5] = dup[0];
    assert!(check_log(&dup, 3, 2).unwrap_err().contains("twice"));
    let mut torn = good.clone();
    torn[2] |= TORN;
    assert!(check_log(&torn, 3, 2).unwrap_err().contains("torn"));
    let mut swapped = good.clone();
    swapped.swap(0, 3); // producer 0's message 1 before its message 0
    assert!(check_log(&swapped, 3, 2).unwrap_err().contains("before"));
    assert!(check_log(&good[..5], 3, 2)
        .unwrap_err()
        .contains("5 log entries"));
    // An unwritten entry (zero) is message (0, 0) a second time.
    let mut lost = good.clone();
    lost[4] = 0;
    assert!(check_log(&lost, 3, 2).is_err());
    let mut stray = good.clone();
    stray[1] = 9 << 16;
    assert!(check_log(&stray, 3, 2)
        .unwrap_err()
        .contains("no such message"));
}
