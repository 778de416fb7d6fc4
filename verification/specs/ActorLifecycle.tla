--------------------------- MODULE ActorLifecycle ---------------------------
(***************************************************************************)
(* Actor lifecycle under supervision and restart (DESIGN.md §4, "Faults"). *)
(*                                                                         *)
(* Lifecycle states (the control block's `state`):                         *)
(*   Dormant -> Initializing -> Active -> Draining -> Terminated           *)
(*                    ^            |          |                            *)
(*                    |            v          v                            *)
(*                    +-------- Failed <------+                            *)
(*                   (restart)     |                                       *)
(*                                 +--> Terminated (restarts exhausted)    *)
(*                                                                         *)
(* The host's `send` is accepted while the actor is not stopping and the   *)
(* inbox has room; accepted messages queue in the inbox, which survives    *)
(* a restart (the kernel is not relaunched).  The actor takes one message  *)
(* at a time; the handler either answers it (the reply is published to     *)
(* the outbox) or faults on it: the actor records the fault with the       *)
(* message in its control block and goes Failed.  The supervisor then      *)
(* dead-letters the faulting message with the fault as its reason and      *)
(* restarts the actor from its Default state (one-for-one, at most         *)
(* MaxRestarts times); the remaining queued messages are processed after   *)
(* the restart.  When the restart budget is exhausted the supervisor       *)
(* dead-letters everything still queued ("gave up") and terminates the     *)
(* actor.  `stop` drains: the actor finishes the queued messages, then     *)
(* terminates.                                                             *)
(*                                                                         *)
(* The contract: every message accepted by `send` is eventually answered   *)
(* or dead-lettered, never both, never neither.                            *)
(*                                                                         *)
(* The inbox is the ring: a taken message stays in its slot until the      *)
(* actor frees the slot (rk_ring_pop_commit), after publishing the reply,  *)
(* or, on a fault, after recording the fault.  The fault path must free    *)
(* the slot too, or the restarted actor runs the faulting message again.   *)
(*                                                                         *)
(* Assumption: the runtime serializes `send`, `stop` and the supervisor's  *)
(* decisions per actor (one lock in the actor handle), so a send is        *)
(* accepted atomically against a give-up; the supervisor upholds this     *)
(* (ActorCore::give_up takes the send lock; a send racing a give-up would  *)
(* otherwise queue a message nobody will take).                            *)
(*                                                                         *)
(* Planted bugs (each cfg differs from ActorLifecycle.cfg in one flag):    *)
(*   RestartForgetsInflight = TRUE: the restart clears the fault record    *)
(*     without dead-lettering the message that faulted; TLC must report    *)
(*     NoMessageLost violated.                                             *)
(*   FaultKeepsSlot = TRUE: the fault path does not free the faulting      *)
(*     message's slot, so after the restart it is taken again and answered *)
(*     although it was dead-lettered; TLC must report NeverBoth violated.  *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    MaxMsgs,                \* the host sends at most this many messages
    InboxCap,               \* inbox capacity (a full inbox rejects the send)
    MaxRestarts,            \* restart budget of the one-for-one policy
    RestartForgetsInflight, \* planted bug 1
    FaultKeepsSlot          \* planted bug 2

ASSUME /\ MaxMsgs \in Nat /\ InboxCap \in Nat \ {0} /\ MaxRestarts \in Nat
       /\ RestartForgetsInflight \in BOOLEAN /\ FaultKeepsSlot \in BOOLEAN

Msgs == 1 .. MaxMsgs
None == 0
States == {"Dormant", "Initializing", "Active", "Draining", "Terminated", "Failed"}
Reasons == {"handler_fault", "supervisor_gave_up"}

VARIABLES
    state,      \* lifecycle state in the control block
    inbox,      \* the inbox ring: accepted messages whose slot is not yet freed
    inflight,   \* the message the handler is running on (None if idle); it
                \* is Head(inbox) while set
    fault,      \* control block fault record: the faulting message (None if clear)
    handled,    \* handler's user state: messages handled since (re)start;
                \* reset to Default (0) on restart
    accepted,   \* ghost: messages the host's send accepted
    answered,   \* ghost: messages whose reply was published
    dlq,        \* dead-letter queue: set of [msg, reason] records
    restarts,   \* restarts used so far
    stopping,   \* the host called stop
    nextMsg     \* the next message id the host sends

vars == <<state, inbox, inflight, fault, handled, accepted, answered, dlq,
          restarts, stopping, nextMsg>>

DeadMsgs == {d.msg : d \in dlq}

Init ==
    /\ state = "Dormant"
    /\ inbox = <<>>
    /\ inflight = None
    /\ fault = None
    /\ handled = 0
    /\ accepted = {}
    /\ answered = {}
    /\ dlq = {}
    /\ restarts = 0
    /\ stopping = FALSE
    /\ nextMsg = 1

(* ----------------------------- host ------------------------------------ *)

\* The host's send: accepted only while the actor is not stopping or dead
\* and the inbox has room (otherwise it returns an error: not accepted).
\* models: device-lib/cuda/rk_ring.cuh rk_ring_try_push_begin
\* models: device-lib/cuda/rk_ring.cuh rk_ring_push_commit
Send ==
    /\ nextMsg <= MaxMsgs
    /\ ~stopping
    /\ state # "Terminated"
    /\ Len(inbox) < InboxCap
    /\ inbox' = Append(inbox, nextMsg)
    /\ accepted' = accepted \cup {nextMsg}
    /\ nextMsg' = nextMsg + 1
    /\ UNCHANGED <<state, inflight, fault, handled, answered, dlq, restarts, stopping>>

\* The host's stop: no more sends are accepted; the actor drains.
\* models: runtime/src/actor/host/lifecycle.rs stop
\* models: runtime/src/actor/memory.rs request_stop
Stop ==
    /\ ~stopping
    /\ state # "Terminated"
    /\ stopping' = TRUE
    /\ UNCHANGED <<state, inbox, inflight, fault, handled, accepted, answered,
                   dlq, restarts, nextMsg>>

(* ----------------------------- actor ----------------------------------- *)

\* models: device-lib/cuda/rk_control.cuh rk_control_set_state
Launch ==
    /\ state = "Dormant"
    /\ state' = "Initializing"
    /\ UNCHANGED <<inbox, inflight, fault, handled, accepted, answered, dlq,
                   restarts, stopping, nextMsg>>

\* models: device-lib/cuda/rk_control.cuh rk_control_set_state
Activate ==
    /\ state = "Initializing"
    /\ state' = IF stopping THEN "Draining" ELSE "Active"
    /\ UNCHANGED <<inbox, inflight, fault, handled, accepted, answered, dlq,
                   restarts, stopping, nextMsg>>

\* The loop sees the stop request and drains.
\* models: device-lib/cuda/rk_control.cuh rk_control_stop_requested
\* models: device-lib/cuda/rk_control.cuh rk_control_set_state
BeginDrain ==
    /\ state = "Active"
    /\ stopping
    /\ state' = "Draining"
    /\ UNCHANGED <<inbox, inflight, fault, handled, accepted, answered, dlq,
                   restarts, stopping, nextMsg>>

\* The actor's polling thread takes the oldest message (its slot stays
\* owned by the actor until freed).
\* models: device-lib/cuda/rk_ring.cuh rk_ring_try_pop_begin
Take ==
    /\ state \in {"Active", "Draining"}
    /\ inflight = None
    /\ inbox # <<>>
    /\ inflight' = Head(inbox)
    /\ UNCHANGED <<state, inbox, fault, handled, accepted, answered, dlq, restarts,
                   stopping, nextMsg>>

\* The handler returns: the reply is published to the outbox, then the
\* inbox slot is freed.
\* models: device-lib/cuda/rk_ring.cuh rk_ring_push_commit
\* models: device-lib/cuda/rk_ring.cuh rk_ring_pop_commit
Answer ==
    /\ state \in {"Active", "Draining"}
    /\ inflight # None
    /\ answered' = answered \cup {inflight}
    /\ handled' = handled + 1
    /\ inflight' = None
    /\ inbox' = Tail(inbox)
    /\ UNCHANGED <<state, fault, accepted, dlq, restarts, stopping, nextMsg>>

\* The handler faults (panic, bounds, division by zero, overflow): the actor
\* records the fault with the message's sequence number in its control
\* block, frees the message's slot, and goes Failed.
\* models: device-lib/cuda/rk_control.cuh rk_control_record_fault
\* models: device-lib/cuda/rk_ring.cuh rk_ring_pop_commit
\* models: device-lib/cuda/rk_control.cuh rk_control_set_state
Fault ==
    /\ state \in {"Active", "Draining"}
    /\ inflight # None
    /\ fault' = inflight
    /\ inflight' = None
    /\ inbox' = IF FaultKeepsSlot THEN inbox ELSE Tail(inbox)
    /\ state' = "Failed"
    /\ UNCHANGED <<handled, accepted, answered, dlq, restarts, stopping, nextMsg>>

\* Drained: nothing queued, nothing in flight.
\* models: device-lib/cuda/rk_control.cuh rk_control_set_state
Finish ==
    /\ state = "Draining"
    /\ inflight = None
    /\ inbox = <<>>
    /\ state' = "Terminated"
    /\ UNCHANGED <<inbox, inflight, fault, handled, accepted, answered, dlq,
                   restarts, stopping, nextMsg>>

(* --------------------------- supervisor -------------------------------- *)

\* One-for-one restart within budget: dead-letter the faulting message with
\* the fault as reason, reset the user state to Default, re-initialize.
\* The inbox is kept: queued messages are processed after the restart.
\* models: runtime/src/actor/supervisor.rs check
\* models: runtime/src/actor/host/lifecycle.rs restart
\* models: device-lib/cuda/rk_control.cuh rk_control_set_state
Restart ==
    /\ state = "Failed"
    /\ restarts < MaxRestarts
    /\ dlq' = IF RestartForgetsInflight THEN dlq
              ELSE dlq \cup {[msg |-> fault, reason |-> "handler_fault"]}
    /\ fault' = None
    /\ handled' = 0
    /\ restarts' = restarts + 1
    /\ state' = "Initializing"
    /\ UNCHANGED <<inbox, inflight, accepted, answered, stopping, nextMsg>>

\* Restart budget exhausted: dead-letter the faulting message and everything
\* still queued, and terminate the actor; later sends are rejected.
\* models: runtime/src/actor/supervisor.rs check
\* models: runtime/src/actor/host/lifecycle.rs give_up
\* models: runtime/src/actor/host/lifecycle.rs dead_letter_unprocessed
\* models: device-lib/cuda/rk_control.cuh rk_control_set_state
GiveUp ==
    /\ state = "Failed"
    /\ restarts = MaxRestarts
    /\ dlq' = dlq \cup {[msg |-> fault, reason |-> "handler_fault"]}
                  \cup {[msg |-> inbox[i], reason |-> "supervisor_gave_up"] :
                          i \in 1 .. Len(inbox)}
    /\ inbox' = <<>>
    /\ fault' = None
    /\ state' = "Terminated"
    /\ UNCHANGED <<inflight, handled, accepted, answered, restarts, stopping, nextMsg>>

\* Terminated and the host done: the system idles (not a deadlock).
Done ==
    /\ state = "Terminated"
    /\ UNCHANGED vars

Actor == Launch \/ Activate \/ BeginDrain \/ Take \/ Answer \/ Fault \/ Finish
Supervisor == Restart \/ GiveUp

Next == Send \/ Stop \/ Actor \/ Supervisor \/ Done

\* The host eventually calls stop; the actor and the supervisor make progress.
\* (A handler may fault on any message; fairness only forces *a* handler
\* outcome, Answer or Fault, not which one.)
Spec == Init /\ [][Next]_vars
        /\ WF_vars(Stop) /\ WF_vars(Actor) /\ WF_vars(Supervisor)

(* ---------------------------- properties ------------------------------- *)

InboxSet == {inbox[i] : i \in 1 .. Len(inbox)}
Pending == InboxSet \cup ({inflight, fault} \ {None})

TypeOK ==
    /\ state \in States
    /\ inbox \in Seq(Msgs) /\ Len(inbox) <= InboxCap
    /\ inflight \in Msgs \cup {None}
    /\ fault \in Msgs \cup {None}
    /\ dlq \subseteq [msg : Msgs, reason : Reasons]
    /\ restarts \in 0 .. MaxRestarts

\* Never both: no message is answered and dead-lettered, and none is
\* dead-lettered twice (with two reasons).
NeverBoth ==
    /\ answered \cap DeadMsgs = {}
    /\ \A d, e \in dlq : d.msg = e.msg => d = e

\* Never neither (safety half): every accepted message is, at every moment,
\* queued, in flight, in the fault record, answered or dead-lettered.
NoMessageLost == accepted = Pending \cup answered \cup DeadMsgs

\* A restart resets the handler's state to Default: an actor (re)starting
\* has handled nothing yet.
StateResetOnRestart == state = "Initializing" => handled = 0

\* Each message is answered at most once and only if it was accepted.
OnlyAccepted == answered \cup DeadMsgs \subseteq accepted

\* Liveness: every accepted message is eventually answered or dead-lettered,
\* and the actor eventually terminates (stop drains, or the supervisor gives up).
EventuallyResolved ==
    \A m \in Msgs : (m \in accepted) ~> (m \in answered \cup DeadMsgs)
EventuallyTerminated == <>(state = "Terminated")
=============================================================================
