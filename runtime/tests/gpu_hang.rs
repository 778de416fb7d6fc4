//! The hang watchdog on a real GPU: a handler that never returns is
//! reported as `Hung` within the watchdog period instead of blocking the
//! caller. Its own test binary, run last: the spinning block cannot be
//! stopped without killing the context, so nothing may share the process
//! with it afterwards (`gpu_actors.rs` keeps the suite's other tests).
//! `#[ignore]`d here (no GPU in CI).

#[path = "actors/suite.rs"]
mod suite;

use ringkernel_runtime::testing::gpu_runtime;

#[test]
#[ignore = "needs a GPU"]
fn gpu_a_hung_handler_is_reported_within_the_watchdog_period() {
    let Some(rt) = gpu_runtime("gpu_hang") else {
        return;
    };
    suite::hang(&rt);
}
