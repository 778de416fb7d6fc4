//! The K2K suite's wiring scenarios: placement and wiring mistakes are errors, unrouted sends fault at their line.

use super::*;

/// Placement mistakes are errors at start: more actors than any cluster
/// holds (17: past every device's 16, on every backend).
pub fn placement_errors(rt: &Runtime) {
    let mut b = rt.system();
    b.placement(Placement::Cluster);
    let c = b
        .actor::<Stamped, Receipt, Tally>(&kernel("collect"), Tally::default(), &collect_options())
        .unwrap();
    for _ in 0..16 {
        let f = b
            .actor::<Work, (), ()>(&kernel("forward"), (), &forward_options())
            .unwrap();
        b.connect(f, 0, c).unwrap();
    }
    match b.start().map(|_| ()).unwrap_err() {
        Error::Actor(ActorError::Placement(e)) => {
            assert_eq!(
                e,
                PlacementError::TooManyActors {
                    actors: 17,
                    limit: 16,
                    why: ClusterLimit::Hardware
                }
            );
            assert!(e.to_string().contains("Placement::Gpu"), "{e}");
        }
        other => panic!("expected a placement error, got {other}"),
    }
}

/// A handler's send on a port nobody wired faults at the send's line,
/// and the message is dead-lettered; it never writes anywhere.
pub fn unrouted_send_faults(rt: &Runtime) {
    let actors = rt
        .spawn::<Work, (), ()>(&kernel("forward"), 1, (), &forward_options())
        .expect("spawn");
    let a = &actors[0];
    a.send(&Work::default()).expect("send");
    match a.recv_timeout(patience(10)) {
        Err(ActorError::Fault { kind, location, .. }) => {
            assert_eq!(kind, FaultKind::Unrouted);
            assert_eq!(location.file, FILE);
            let line = HANDLERS
                .lines()
                .position(|l| l.contains("ctx.send("))
                .expect("the send")
                + 1;
            assert_eq!(location.line as usize, line, "the send's line");
        }
        other => panic!("expected an Unrouted fault, got {other:?}"),
    }
    let dead = a.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].kind, FaultKind::Unrouted);
}

/// Wiring mistakes are errors before anything starts, whatever the
/// placement.
pub fn wiring_errors(rt: &Runtime, placement: Placement) {
    let wiring = |e: Error| match e {
        Error::Actor(ActorError::Wiring { problem }) => problem,
        other => panic!("expected a wiring error, got {other}"),
    };
    // A port the handler does not send on.
    let mut b = rt.system();
    b.placement(placement);
    let c = b
        .actor::<Stamped, Receipt, Tally>(
            &kernel_in(placement, "collect"),
            Tally::default(),
            &collect_options(),
        )
        .unwrap();
    let f = b
        .actor::<Work, (), ()>(&kernel_in(placement, "forward"), (), &forward_options())
        .unwrap();
    let problem = wiring(b.connect(f, 3, c).map(|_| ()).unwrap_err());
    assert!(problem.contains("no port 3"), "{problem}");
    // A port wired to an actor of another message type.
    let problem = wiring(b.connect(f, 0, f).map(|_| ()).unwrap_err());
    assert!(
        problem.contains("`Stamped`") && problem.contains("`Work`"),
        "{problem}"
    );
    // A port wired twice.
    b.connect(f, 0, c).unwrap();
    let problem = wiring(b.connect(f, 0, c).map(|_| ()).unwrap_err());
    assert!(problem.contains("already wired"), "{problem}");
    // A port left unwired.
    let mut b = rt.system();
    b.placement(placement);
    b.actor::<Work, (), ()>(&kernel_in(placement, "forward"), (), &forward_options())
        .unwrap();
    let problem = wiring(b.start().unwrap_err());
    assert!(problem.contains("not wired"), "{problem}");
}

/// Block placement's rules, before anything starts: only warp actors go in
/// a block (a block actor there is refused by name), warp actors go only
/// there (placed one block per actor, refused by name), and a block holds
/// at most 8 of them.
pub fn block_placement_errors(rt: &Runtime) {
    let placement_error = |e: Error| match e {
        Error::Actor(ActorError::Placement(e)) => e,
        other => panic!("expected a placement error, got {other}"),
    };
    // A block actor in a block.
    let mut b = rt.system();
    b.placement(Placement::Block);
    let c = b
        .actor::<Stamped, Receipt, Tally>(
            &kernel_in(Placement::Block, "collect"),
            Tally::default(),
            &collect_options(),
        )
        .unwrap();
    let f = b
        .actor::<Work, (), ()>(&kernel("forward"), (), &forward_options())
        .unwrap();
    b.connect(f, 0, c).unwrap();
    let e = placement_error(b.start().map(|_| ()).unwrap_err());
    assert_eq!(
        e,
        PlacementError::NotWarpActor {
            actor: 1,
            kernel: "forward".into()
        }
    );
    assert!(e.to_string().contains("`#[ring_kernel(warps = 1)]`"), "{e}");
    // Warp actors placed one block per actor, or in a cluster.
    for placement in [Placement::Gpu, Placement::Cluster] {
        let mut b = rt.system();
        b.placement(placement);
        let c = b
            .actor::<Stamped, Receipt, Tally>(
                &kernel("collect"),
                Tally::default(),
                &collect_options(),
            )
            .unwrap();
        let f = b
            .actor::<Work, (), ()>(
                &kernel_in(Placement::Block, "forward"),
                (),
                &forward_options(),
            )
            .unwrap();
        b.connect(f, 0, c).unwrap();
        let e = placement_error(b.start().map(|_| ()).unwrap_err());
        assert_eq!(
            e,
            PlacementError::WarpActorNeedsBlock {
                actor: 1,
                kernel: "forward".into()
            }
        );
        assert!(e.to_string().contains("Placement::Block"), "{e}");
    }
    // Nine warp actors.
    let mut b = rt.system();
    b.placement(Placement::Block);
    let c = b
        .actor::<Stamped, Receipt, Tally>(
            &kernel_in(Placement::Block, "collect"),
            Tally::default(),
            &collect_options(),
        )
        .unwrap();
    for _ in 0..8 {
        let f = b
            .actor::<Work, (), ()>(
                &kernel_in(Placement::Block, "forward"),
                (),
                &forward_options(),
            )
            .unwrap();
        b.connect(f, 0, c).unwrap();
    }
    let e = placement_error(b.start().map(|_| ()).unwrap_err());
    assert_eq!(
        e,
        PlacementError::TooManyWarpActors {
            actors: 9,
            limit: 8
        }
    );
}

/// Three warp actors packed in one block (`forward`, spawned alone, so no
/// route at all), each sent one item: each answers with an Unrouted fault.
/// The actors and the line each fault names.
fn faulted_warp_forwarders(rt: &Runtime) -> (Vec<Actor<Work, (), ()>>, Vec<u32>) {
    let actors = rt
        .spawn::<Work, (), ()>(
            &kernel_in(Placement::Block, "forward"),
            3,
            (),
            &forward_options(),
        )
        .expect("spawn");
    let mut lines = Vec::new();
    for a in &actors {
        a.send(&Work::default()).expect("send");
        match a.recv_timeout(patience(10)) {
            Err(ActorError::Fault { kind, location, .. }) => {
                assert_eq!(kind, FaultKind::Unrouted);
                lines.push(location.line);
            }
            other => panic!("expected an Unrouted fault, got {other:?}"),
        }
    }
    (actors, lines)
}

/// A warp actor's send on a port nobody wired (spawned alone, so no route
/// at all) faults at the send's line, like a block actor's.
pub fn warp_unrouted_send_faults(rt: &Runtime) {
    let (_actors, lines) = faulted_warp_forwarders(rt);
    let line = HANDLERS
        .lines()
        .position(|l| l.contains("ctx.send("))
        .expect("the send")
        + 1;
    for l in lines {
        assert_eq!(l as usize, line, "the send's line");
    }
}

/// Three warp actors packed in one block fault on an unwired send, then
/// stop: every actor terminates, and its kernel ends with it. `explicit`:
/// each handle's `stop` first (then the panic on a kernel that runs on
/// says what each actor was doing: state, counters, faults, heartbeat,
/// and again 200 ms later); otherwise the handles only drop, as in
/// [`warp_unrouted_send_faults`]. The drop is the case that failed: a
/// handle dropped while the supervisor's watchdog held its reference for
/// a moment skipped the stop, and nothing stopped the parked actor after
/// (its kernel "still running 10 s after its actors were stopped", the
/// next test's runtime hung); the core now stops an actor nobody stopped
/// when its last reference drops.
pub fn warp_faults_then_stops(rt: &Runtime, explicit: bool) {
    let (actors, _) = faulted_warp_forwarders(rt);
    let mut report = String::new();
    if explicit {
        let stopped: Vec<_> = actors.iter().map(|a| a.stop()).collect();
        let stats = || actors.iter().map(|a| a.stats()).collect::<Vec<_>>();
        let first = stats();
        std::thread::sleep(std::time::Duration::from_millis(200));
        report = format!(
            "stops {stopped:?}; stats of the three: {first:?}; 200 ms later: {:?}",
            stats()
        );
    }
    let dropped = std::time::Instant::now();
    drop(actors);
    let took = dropped.elapsed();
    assert!(
        took < std::time::Duration::from_secs(2),
        "the kernel ended {took:?} after the handles dropped; {report}"
    );
}
