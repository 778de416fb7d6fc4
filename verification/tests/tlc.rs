//! Model-checks every spec in `specs/` with TLC: each correct configuration
//! must pass with exactly the expected number of distinct states, and each
//! planted-bug configuration must be rejected with a counterexample to the
//! named invariant, so a vacuous invariant or a model that stopped exploring
//! fails the suite.
//!
//! Run with `cargo test -p ringkernel-verification -- --nocapture` to see the
//! distinct-state counts and times. Without TLC or Java the tests skip,
//! unless `RINGKERNEL_REQUIRE_NVRTC=1` (CI), where they fail.

use std::collections::BTreeSet;
use std::sync::Mutex;

use ringkernel_verification::tlc::{self, Outcome};

#[derive(Debug)]
enum Expect {
    /// No error; exactly this many distinct states; `temporal`: the config
    /// has PROPERTIES and TLC must have checked them.
    Pass { distinct: u64, temporal: bool },
    /// TLC must report this invariant violated, with a counterexample.
    Violates(&'static str),
}

#[derive(Debug)]
struct Case {
    spec: &'static str,
    cfg: &'static str,
    expect: Expect,
}

/// Every `.cfg` in `specs/`. The distinct-state counts are exact: TLC
/// explores the whole reachable state space, so a change in the count means
/// the model changed (update it here and in README.md deliberately).
const CASES: &[Case] = &[
    Case {
        spec: "SpscRing",
        cfg: "SpscRing",
        expect: Expect::Pass {
            distinct: 496,
            temporal: true,
        },
    },
    Case {
        spec: "SpscRing",
        cfg: "SpscRing_bug_publish_before_write",
        expect: Expect::Violates("NoReadBeforeWrite"),
    },
    Case {
        spec: "K2kInbox",
        cfg: "K2kInbox",
        expect: Expect::Pass {
            distinct: 100_005,
            temporal: false,
        },
    },
    Case {
        spec: "K2kInbox",
        cfg: "K2kInbox_liveness",
        expect: Expect::Pass {
            distinct: 1_507,
            temporal: true,
        },
    },
    Case {
        spec: "K2kInbox",
        cfg: "K2kInbox_bug_skip_commit_wait",
        expect: Expect::Violates("NoReadBeforeWrite"),
    },
    Case {
        spec: "K2kInbox",
        cfg: "K2kInbox_cap1",
        expect: Expect::Violates("NoOverwrite"),
    },
    Case {
        spec: "K2kInbox",
        cfg: "K2kInbox_guess",
        expect: Expect::Pass {
            distinct: 207_087,
            temporal: false,
        },
    },
    Case {
        spec: "K2kInbox",
        cfg: "K2kInbox_bug_guess_above_tail",
        expect: Expect::Violates("FullVerdictRight"),
    },
    Case {
        spec: "K2kClose",
        cfg: "K2kClose",
        expect: Expect::Pass {
            distinct: 38_457,
            temporal: false,
        },
    },
    Case {
        spec: "K2kClose",
        cfg: "K2kClose_bug_close_ignores_reservations",
        expect: Expect::Violates("CloseStrandsNothing"),
    },
    Case {
        spec: "K2kClose",
        cfg: "K2kClose_credit",
        expect: Expect::Pass {
            distinct: 79_381,
            temporal: false,
        },
    },
    Case {
        spec: "K2kClose",
        cfg: "K2kClose_credit_bug_slack",
        expect: Expect::Violates("WriteAfterCredit"),
    },
    Case {
        spec: "K2kClose",
        cfg: "K2kClose_sole",
        expect: Expect::Pass {
            distinct: 1_457,
            temporal: false,
        },
    },
    Case {
        spec: "K2kClose",
        cfg: "K2kClose_sole_bug_announce_ignores_closed",
        expect: Expect::Violates("CloseStrandsNothing"),
    },
    Case {
        spec: "K2kLl",
        cfg: "K2kLl",
        expect: Expect::Pass {
            distinct: 7_124,
            temporal: false,
        },
    },
    Case {
        spec: "K2kLl",
        cfg: "K2kLl_cap1",
        expect: Expect::Pass {
            distinct: 1_194,
            temporal: false,
        },
    },
    Case {
        spec: "K2kLl",
        cfg: "K2kLl_bug_lap_flag",
        expect: Expect::Violates("NoReadBeforeWrite"),
    },
    Case {
        spec: "K2kLl",
        cfg: "K2kLl_bug_first_word_only",
        expect: Expect::Violates("NoReadBeforeWrite"),
    },
    Case {
        spec: "K2kMbar",
        cfg: "K2kMbar",
        expect: Expect::Pass {
            distinct: 58_018,
            temporal: false,
        },
    },
    Case {
        spec: "K2kMbar",
        cfg: "K2kMbar_cap1",
        expect: Expect::Pass {
            distinct: 247,
            temporal: false,
        },
    },
    Case {
        spec: "K2kMbar",
        cfg: "K2kMbar_sp",
        expect: Expect::Pass {
            distinct: 160,
            temporal: false,
        },
    },
    Case {
        spec: "K2kMbar",
        cfg: "K2kMbar_bug_consumer_parity",
        expect: Expect::Violates("NoReadBeforeWrite"),
    },
    Case {
        spec: "K2kMbar",
        cfg: "K2kMbar_bug_no_head_cap",
        expect: Expect::Violates("NoOverwrite"),
    },
    Case {
        spec: "K2kMbar",
        cfg: "K2kMbar_close",
        expect: Expect::Pass {
            distinct: 66_267,
            temporal: false,
        },
    },
    Case {
        spec: "K2kMbar",
        cfg: "K2kMbar_bug_cas_ignores_closed",
        expect: Expect::Violates("CloseStrandsNothing"),
    },
    Case {
        spec: "K2kMbar",
        cfg: "K2kMbar_bug_close_ignores_reservations",
        expect: Expect::Violates("CloseStrandsNothing"),
    },
    Case {
        spec: "Hlc",
        cfg: "Hlc",
        expect: Expect::Pass {
            distinct: 117_821,
            temporal: false,
        },
    },
    Case {
        spec: "Hlc",
        cfg: "Hlc_bug_ignore_msg_counter",
        expect: Expect::Violates("Causality"),
    },
    Case {
        spec: "ActorLifecycle",
        cfg: "ActorLifecycle",
        expect: Expect::Pass {
            distinct: 652,
            temporal: true,
        },
    },
    Case {
        spec: "ActorLifecycle",
        cfg: "ActorLifecycle_bug_restart_forgets_inflight",
        expect: Expect::Violates("NoMessageLost"),
    },
    Case {
        spec: "ActorLifecycle",
        cfg: "ActorLifecycle_bug_fault_keeps_slot",
        expect: Expect::Violates("NeverBoth"),
    },
];

/// One TLC at a time: the machines running the suite have few cores, and
/// TLC's JVM uses more than its one worker thread.
static TLC_LOCK: Mutex<()> = Mutex::new(());

fn case(cfg: &str) -> &'static Case {
    CASES
        .iter()
        .find(|c| c.cfg == cfg)
        .unwrap_or_else(|| panic!("no case for {cfg}"))
}

fn run_case(cfg: &str) {
    let case = case(cfg);
    let Some(tlc) = tlc::require() else { return };
    let _guard = TLC_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let run = tlc
        .check(case.spec, case.cfg)
        .unwrap_or_else(|e| panic!("{}: {e}", case.cfg));
    let r = &run.report;
    let secs = run.elapsed.as_secs_f64();
    let distinct = r.distinct_states.map_or("?".to_string(), |d| d.to_string());
    match case.expect {
        Expect::Pass {
            distinct: want,
            temporal,
        } => {
            assert_eq!(
                r.outcome,
                Outcome::NoError,
                "{}: expected no error, TLC says {} (exit {:?})\n{}",
                case.cfg,
                r.outcome,
                run.exit_code,
                run.tail(60)
            );
            assert_eq!(
                run.exit_code,
                Some(0),
                "{}: TLC exit code\n{}",
                case.cfg,
                run.tail(30)
            );
            assert_eq!(
                r.distinct_states,
                Some(want),
                "{}: distinct states changed: the model is not the one measured \
                 (update CASES and README.md if the change is intended)",
                case.cfg
            );
            assert_eq!(
                r.temporal_checked,
                temporal,
                "{}: temporal properties checked?\n{}",
                case.cfg,
                run.tail(30)
            );
            println!(
                "{:<46} pass: {distinct:>7} distinct states ({} generated){} in {secs:.2} s",
                case.cfg,
                r.states_generated.unwrap_or(0),
                if temporal { ", liveness checked" } else { "" },
            );
        }
        Expect::Violates(name) => {
            assert_eq!(
                r.outcome,
                Outcome::InvariantViolated(name.to_string()),
                "{}: expected TLC to report invariant {name} violated (the planted bug), \
                 TLC says {} (exit {:?})\n{}",
                case.cfg,
                r.outcome,
                run.exit_code,
                run.tail(60)
            );
            assert!(
                r.trace_states > 0,
                "{}: no counterexample trace\n{}",
                case.cfg,
                run.tail(30)
            );
            assert!(
                matches!(run.exit_code, Some(c) if c != 0),
                "{}: TLC exited {:?} despite the violation",
                case.cfg,
                run.exit_code
            );
            println!(
                "{:<46} rejected as planted: {name} violated, {}-state counterexample \
                 ({distinct} distinct states explored) in {secs:.2} s",
                case.cfg, r.trace_states
            );
        }
    }
}

#[test]
fn every_config_has_a_case_and_every_spec_a_planted_bug() {
    let mut on_disk = BTreeSet::new();
    let mut specs = BTreeSet::new();
    for entry in std::fs::read_dir(tlc::specs_dir()).expect("specs/") {
        let path = entry.expect("dir entry").path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        match path.extension().and_then(|e| e.to_str()) {
            Some("cfg") => {
                on_disk.insert(stem);
            }
            Some("tla") => {
                specs.insert(stem);
            }
            _ => {}
        }
    }
    let listed: BTreeSet<String> = CASES.iter().map(|c| c.cfg.to_string()).collect();
    assert_eq!(on_disk, listed, "specs/*.cfg and CASES differ");
    for spec in &specs {
        let of = |pass: bool| {
            CASES
                .iter()
                .any(|c| c.spec == spec.as_str() && matches!(c.expect, Expect::Pass { .. }) == pass)
        };
        assert!(of(true), "{spec}: no passing configuration");
        assert!(of(false), "{spec}: no planted-bug configuration");
    }
    for c in CASES {
        assert!(specs.contains(c.spec), "{}: no {}.tla", c.cfg, c.spec);
    }
}

macro_rules! tlc_tests {
    ($($name:ident => $cfg:literal,)*) => {
        $(
            #[test]
            fn $name() {
                run_case($cfg);
            }
        )*
    };
}

tlc_tests! {
    spsc_ring => "SpscRing",
    spsc_ring_bug_publish_before_write => "SpscRing_bug_publish_before_write",
    k2k_inbox => "K2kInbox",
    k2k_inbox_liveness => "K2kInbox_liveness",
    k2k_inbox_bug_skip_commit_wait => "K2kInbox_bug_skip_commit_wait",
    k2k_inbox_cap1 => "K2kInbox_cap1",
    k2k_inbox_guess => "K2kInbox_guess",
    k2k_inbox_bug_guess_above_tail => "K2kInbox_bug_guess_above_tail",
    k2k_close => "K2kClose",
    k2k_close_bug_close_ignores_reservations => "K2kClose_bug_close_ignores_reservations",
    k2k_close_credit => "K2kClose_credit",
    k2k_close_credit_bug_slack => "K2kClose_credit_bug_slack",
    k2k_close_sole => "K2kClose_sole",
    k2k_close_sole_bug_announce_ignores_closed => "K2kClose_sole_bug_announce_ignores_closed",
    k2k_ll => "K2kLl",
    k2k_ll_cap1 => "K2kLl_cap1",
    k2k_ll_bug_lap_flag => "K2kLl_bug_lap_flag",
    k2k_ll_bug_first_word_only => "K2kLl_bug_first_word_only",
    k2k_mbar => "K2kMbar",
    k2k_mbar_cap1 => "K2kMbar_cap1",
    k2k_mbar_sp => "K2kMbar_sp",
    k2k_mbar_bug_consumer_parity => "K2kMbar_bug_consumer_parity",
    k2k_mbar_bug_no_head_cap => "K2kMbar_bug_no_head_cap",
    k2k_mbar_close => "K2kMbar_close",
    k2k_mbar_bug_cas_ignores_closed => "K2kMbar_bug_cas_ignores_closed",
    k2k_mbar_bug_close_ignores_reservations => "K2kMbar_bug_close_ignores_reservations",
    hlc => "Hlc",
    hlc_bug_ignore_msg_counter => "Hlc_bug_ignore_msg_counter",
    actor_lifecycle => "ActorLifecycle",
    actor_lifecycle_bug_restart_forgets_inflight => "ActorLifecycle_bug_restart_forgets_inflight",
    actor_lifecycle_bug_fault_keeps_slot => "ActorLifecycle_bug_fault_keeps_slot",
}

#[test]
fn every_case_has_a_test() {
    // The macro above lists the configs by hand; keep it in step with CASES.
    let tested = [
        "SpscRing",
        "SpscRing_bug_publish_before_write",
        "K2kInbox",
        "K2kInbox_liveness",
        "K2kInbox_bug_skip_commit_wait",
        "K2kInbox_cap1",
        "K2kInbox_guess",
        "K2kInbox_bug_guess_above_tail",
        "K2kClose",
        "K2kClose_bug_close_ignores_reservations",
        "K2kClose_credit",
        "K2kClose_credit_bug_slack",
        "K2kClose_sole",
        "K2kClose_sole_bug_announce_ignores_closed",
        "K2kLl",
        "K2kLl_cap1",
        "K2kLl_bug_lap_flag",
        "K2kLl_bug_first_word_only",
        "K2kMbar",
        "K2kMbar_cap1",
        "K2kMbar_sp",
        "K2kMbar_bug_consumer_parity",
        "K2kMbar_bug_no_head_cap",
        "K2kMbar_close",
        "K2kMbar_bug_cas_ignores_closed",
        "K2kMbar_bug_close_ignores_reservations",
        "Hlc",
        "Hlc_bug_ignore_msg_counter",
        "ActorLifecycle",
        "ActorLifecycle_bug_restart_forgets_inflight",
        "ActorLifecycle_bug_fault_keeps_slot",
    ];
    let tested: BTreeSet<&str> = tested.into_iter().collect();
    let listed: BTreeSet<&str> = CASES.iter().map(|c| c.cfg).collect();
    assert_eq!(tested, listed);
}
