//! `LoopTrace`: the diagnostics the actor loop records when its module is
//! compiled with `RK_ACTOR_TRACE` (`RINGKERNEL_ACTOR_TRACE`), as read back
//! from the control block (`ActorMemory::trace_words`).

/// Where an actor's loop spent its time (diagnostics): the stages of its
/// host batches (or, in modules prepared with `RINGKERNEL_ACTOR_TRACE=k2k`,
/// of its K2K batches: the messages other actors sent it, each "seen"
/// when the poll takes it, its handler's own sends in the handler stage)
/// summed over `batches`, in SM clock cycles of the leader
/// thread (exact), and the busy stages also in the device's `%globaltimer`
/// nanoseconds (the clock rate that converts them). Recorded only by
/// modules prepared with [`crate::ACTOR_TRACE_ENV`] set; otherwise every
/// field is 0. The device keeps 32-bit sums that wrap: subtract two
/// readings with [`LoopTrace::since`] taken less than about 2 s apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoopTrace {
    /// Batches traced (host batches, or K2K batches).
    pub batches: u32,
    /// Summed SM cycles per stage, in the order of [`LoopTrace::STAGES`].
    pub stages_cycles: [u32; 13],
    /// `%globaltimer` nanoseconds from "seen" to "reply tail stored"
    /// (stages 1 to 11), summed.
    pub busy_ns: u32,
    /// Look spins (one PCIe round trip each) that found no message.
    pub empty_looks: u32,
}

impl LoopTrace {
    /// What each stage of `stages_cycles` times (`RK_ACTOR_TRACE_*` in
    /// rk_actor.cuh), each from the end of the one before.
    pub const STAGES: [&'static str; 13] = [
        "idle: the last batch's end until the next request is seen",
        "the look's end (its fence when the tail shows the message)",
        "the poll returned the batch",
        "the batch published to the block (barrier B1)",
        "staged (B2)",
        "received: header checks, HLC receipts (B3)",
        "the handlers",
        "reply stamps issued (B4)",
        "replies written (B5)",
        "message counters stored",
        "the closing fence",
        "the reply tail stored",
        "the inbox head and heartbeat stored",
    ];

    /// Nanoseconds per SM cycle while the loop was busy (0 when nothing
    /// was traced).
    pub fn ns_per_cycle(&self) -> f64 {
        let cycles: u64 = self.stages_cycles[1..12]
            .iter()
            .map(|&c| u64::from(c))
            .sum();
        if cycles == 0 {
            return 0.0;
        }
        f64::from(self.busy_ns) / cycles as f64
    }

    /// The SM clock while the loop was busy, MHz (0 when nothing was
    /// traced): a stage's ns are its cycles at this rate.
    pub fn clock_mhz(&self) -> f64 {
        let ns_per_cycle = self.ns_per_cycle();
        if ns_per_cycle > 0.0 {
            1e3 / ns_per_cycle
        } else {
            0.0
        }
    }

    /// This reading minus an earlier one.
    pub fn since(&self, earlier: &LoopTrace) -> LoopTrace {
        LoopTrace {
            batches: self.batches.wrapping_sub(earlier.batches),
            stages_cycles: std::array::from_fn(|k| {
                self.stages_cycles[k].wrapping_sub(earlier.stages_cycles[k])
            }),
            busy_ns: self.busy_ns.wrapping_sub(earlier.busy_ns),
            empty_looks: self.empty_looks.wrapping_sub(earlier.empty_looks),
        }
    }
}
