#!/usr/bin/env bash
# compute-sanitizer racecheck over the K2K kernels (issue 10: "racecheck clean
# on these kernels"), on a machine with an H100/H200 and the CUDA toolkit's
# compute-sanitizer. Run from the checkout with the GPU test binaries packed
# by ../shared/tools/gpu-pack.sh in .gpu/bin (the machine needs no Rust):
#
#   ../shared/tools/gpu-pack.sh -p ringkernel-runtime --test k2k_mbar --test gpu_k2k_actors --test gpu_actors
#   cargo test --release --no-run -p ringkernel --test pipeline   # copied to .gpu/bin/pipeline
#   bash tools/gpu-racecheck.sh            # on the GPU machine
#
# Each listed test runs alone under `--tool racecheck --racecheck-report all`
# (hazards and analysis warnings; RACECHECK_TIMEOUT seconds each, default
# 300, and RACECHECK_SLOW_TIMEOUT for the cluster fan-in, default 540: give
# it a device call of its own, RACECHECK_ONLY=cluster); the script fails when any run reports a
# hazard, fails its test, or is missing. Racecheck slows kernels by 10-100x,
# so the list holds one representative of each kernel shape rather than
# every scenario: the 128 x 8 fan-in (global memory), warp-actor fan-in in
# one block (shared memory), the cluster fan-in (DSMEM), a drain on stop,
# the lone path's relay in both shared tiers, the device library's
# mbarrier inbox tests, and the pipeline example.
set -uo pipefail
bin=${RACECHECK_BIN:-.gpu/bin}
cs=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
[ -n "$cs" ] || { echo "compute-sanitizer not found"; exit 2; }
export RINGKERNEL_REQUIRE_GPU=1
# The suites' deadlines (receipts, stops) x10: the sanitizer slows the
# kernels 10-100x, and a missed deadline is not a hazard.
export RINGKERNEL_TEST_PATIENCE=${RINGKERNEL_TEST_PATIENCE:-10}
out=${RACECHECK_OUT:-/tmp/racecheck}
mkdir -p "$out"
status=0
run() { # binary test-name [seconds]
    local b=$1 t=$2 log="$out/$1.$2.log" limit=${3:-${RACECHECK_TIMEOUT:-300}}
    if [ ! -x "$bin/$b" ]; then echo "MISSING $bin/$b"; status=1; return; fi
    timeout "$limit" "$cs" --tool racecheck --racecheck-report all --print-limit 20 \
        "$bin/$b" --include-ignored --test-threads=1 --exact "$t" >"$log" 2>&1
    local rc=$?
    local summary passed
    summary=$(grep -a 'RACECHECK SUMMARY' "$log" | tail -1)
    passed=$(grep -a -c '^test result: ok. 1 passed' "$log")
    if [ $rc -ne 0 ] || [ "$passed" != 1 ] || ! grep -q '0 hazards displayed (0 errors, 0 warnings)' <<<"$summary"; then
        echo "FAIL $b $t rc=$rc ${summary:-no summary} (log: $log)"
        # The test's own failure, so a run whose logs stay on the machine
        # still says why.
        grep -a -m 4 -E "panicked|assert|Error|error:" "$log" | sed 's/^/     /'
        status=1
    else
        echo "ok   $b $t: $summary"
    fi
}
if [ "${RACECHECK_ONLY:-}" = cluster ]; then
    run gpu_k2k_actors gpu_cluster_fan_in_7_producers_exactly_once_through_a_full_inbox "${RACECHECK_SLOW_TIMEOUT:-540}"
    exit $status
fi
run gpu_k2k_actors gpu_fan_in_128_producers_x_8_exactly_once_through_a_small_inbox
run gpu_k2k_actors gpu_block_fan_in_7_warp_producers_exactly_once_through_a_full_inbox
# The cluster fan-in took more than 150 s under the sanitizer (H100, 17:17
# UTC, no hazard reported until it was stopped) and 187 s when it finished
# (H100, 20:20 UTC the next session, 0 hazards): it runs alone, with its
# own limit, in a call of its own (RACECHECK_ONLY=cluster).
echo "note: the cluster fan-in runs alone: RACECHECK_ONLY=cluster bash tools/gpu-racecheck.sh"
run gpu_k2k_actors gpu_stop_drains_every_stage
# The lone path (a relay's K2K messages run by its leader alone, reading
# the slot in place; its fault and dead letters) in both shared tiers.
run gpu_k2k_actors gpu_block_a_relay_that_faults_dead_letters_the_item_and_its_queue
run gpu_k2k_actors gpu_cluster_a_relay_that_faults_dead_letters_the_item_and_its_queue
run gpu_k2k_actors gpu_block_stop_drains_every_stage
run gpu_k2k_actors gpu_cluster_stop_drains_every_stage
run pipeline gpu_the_pipeline_equals_the_reference
# The actor loop's host paths: the compact path (a lone call answered by
# warp 0, its reply's flagged copy) and the batch loop under a stream
# (staging, replies, copy invalidations).
run gpu_actors gpu_calls_one_at_a_time_are_answered_and_a_faulting_one_is_dead_lettered_once
run gpu_actors gpu_streamed_batches_are_answered_exactly_once_in_order
# Every GPU test of the device library's mbarrier inboxes (its ignored ones).
for t in $("$bin/k2k_mbar" --list --ignored 2>/dev/null | sed -n 's/^\([a-z0-9_]*\): test$/\1/p'); do
    run k2k_mbar "$t"
done
exit $status
