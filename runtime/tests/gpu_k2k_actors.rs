//! The actor-system suite of `k2k_actors.rs` on a real GPU: every actor of a
//! system in one persistent launch of the composed system kernel, K2K
//! inboxes in device memory. `#[ignore]`d here (no GPU in CI); run on the
//! GPU machine with `--include-ignored` and `RINGKERNEL_REQUIRE_GPU=1`.

#[path = "k2k_actors/suite.rs"]
mod suite;

use ringkernel_runtime::testing::gpu_runtime;

#[test]
#[ignore = "needs a GPU"]
fn gpu_fan_in_128_producers_x_8_exactly_once_through_a_small_inbox() {
    let Some(rt) = gpu_runtime("gpu_fan_in") else {
        return;
    };
    // 128 producer actors (one block each) x 8 items = 1,024 into one inbox
    // of 8 slots: every payload once, untorn, per producer in order.
    suite::fan_in(&rt, 128, 8, 8);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_fan_in_streams_through_the_default_inbox() {
    let Some(rt) = gpu_runtime("gpu_fan_in_stream") else {
        return;
    };
    suite::fan_in(&rt, 16, 4096, 256);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_stop_drains_every_stage() {
    let Some(rt) = gpu_runtime("gpu_stop_drains") else {
        return;
    };
    suite::stop_drains(&rt);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_a_send_on_an_unwired_port_faults_at_its_line() {
    let Some(rt) = gpu_runtime("gpu_unrouted") else {
        return;
    };
    suite::unrouted_send_faults(&rt);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_wiring_mistakes_are_errors() {
    let Some(rt) = gpu_runtime("gpu_wiring") else {
        return;
    };
    suite::wiring_errors(&rt);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_try_send_floods_a_small_inbox_and_only_what_it_took_arrives() {
    let Some(rt) = gpu_runtime("gpu_try_send_flood") else {
        return;
    };
    // 16 producer actors x 8 bursts x 64 offers into a 4-slot inbox.
    suite::try_send_flood(&rt, 16, 8, 4);
}

#[test]
#[ignore = "needs a GPU"]
fn gpu_try_send_to_a_stopped_actor_faults_undeliverable_at_its_line() {
    let Some(rt) = gpu_runtime("gpu_try_send_stopped") else {
        return;
    };
    suite::try_send_to_a_stopped_actor_faults(&rt);
}
