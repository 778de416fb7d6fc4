------------------------------ MODULE K2kClose ------------------------------
(***************************************************************************)
(* Closing a K2K inbox (DESIGN.md section 4), and ctx.send / ctx.try_send  *)
(* against it, as rk_actor.cuh implements them.  K2kInbox.tla checks the   *)
(* queue itself (slot writes and reads, commit waits); this spec keeps its *)
(* reservation (rk_k2k_reserve: load tail, seq check, CAS; with GuessStart *)
(* rk_k2k_mp's start from a guess, as rk_actor_send_to) and commit, and    *)
(* adds what happens when the consumer stops:                              *)
(*                                                                         *)
(*   tail is a 64-bit word whose bit 63 is RK_ACTOR_K2K_CLOSED; here the   *)
(*   record [pos, closed].  A reservation CASes the whole word, so it      *)
(*   fails once the bit is set; a reserve that reads a closed tail sees    *)
(*   seq - tail < 0 (bit 63 makes the difference negative) and returns     *)
(*   false, like a full inbox.                                             *)
(*                                                                         *)
(*   producer (the leader thread in rk_actor_send_to<Wait>): reserve; on   *)
(*   false, load tail: closed -> the send faults UNDELIVERABLE (nothing    *)
(*   written); not closed -> full: ctx.send waits and retries,             *)
(*   ctx.try_send returns false (nothing written, the handler decides).    *)
(*   Each message is sent by one of the two, chosen freely.                *)
(*                                                                         *)
(*   consumer (the actor loop): takes committed messages in order; may     *)
(*   fault (Failed, parked: messages stay queued); the host may ask it to  *)
(*   stop.  A stopping actor closes with rk_actor_k2k_close: CAS tail from *)
(*   [head, open] to [head, closed], which fails while any position past   *)
(*   head is reserved (committed or not).  Active, it keeps consuming      *)
(*   until the CAS succeeds; Failed, rk_actor_k2k_shutdown dead-letters    *)
(*   each committed message (UNDELIVERABLE, to the host) instead.          *)
(*                                                                         *)
(* Ghosts: owner (the message reserved at each position), taken (what the  *)
(* consumer did with each position it passed: consumed or dead-lettered),  *)
(* refused (try_send returned false), undeliverable (the send faulted),    *)
(* closedAt (how many positions were reserved when the inbox closed).      *)
(*                                                                         *)
(* CreditClaim = TRUE is the global tier's protocol since the credit      *)
(* claim (rk_k2k_credit_try_claim, rk_actor_send_to): the reservation's    *)
(* seq check is replaced by a credit, free = a head read + Cap (re-read    *)
(* only when the position reaches it; still there: full), and the         *)
(* consumer frees slots by head alone, never rewriting seq.                *)
(* CreditSlack = 1 plants the bug "a credit one slot too large"; TLC must  *)
(* report WriteAfterCredit (a producer writes a slot whose previous lap    *)
(* is not consumed).                                                       *)
(*                                                                         *)
(* SoleProducer = TRUE (one producer, with CreditClaim) is a route the    *)
(* host wired alone into its destination (RK_ROUTE_SOLE_PRODUCER): the     *)
(* producer's position is its own count, checked against its credit only; *)
(* it announces the position with a fetch-add on tail, stores the message  *)
(* (writes are K2kInbox's business; WriteAfterCredit covers them from the  *)
(* announce on) and commits only if the add found tail open.  An add that  *)
(* lands on a closed tail moves its low bits in the code; here it leaves   *)
(* tail as it is (nobody reads those bits after the close).                *)
(* AnnounceIgnoresClosed = TRUE plants the bug "commit whatever the add    *)
(* found"; TLC must report CloseStrandsNothing.                           *)
(*                                                                         *)
(* CloseIgnoresReservations = TRUE plants the bug "close once nothing is   *)
(* committed at head (what the consumer can see), by setting the bit on    *)
(* whatever tail is, instead of the CAS from head"; a producer that had    *)
(* reserved then commits into an inbox nobody reads.  TLC must report      *)
(* CloseStrandsNothing.                                                    *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    Producers,                 \* set of producer ids (model values)
    Cap,                       \* slots (>= 2, see K2kInbox.tla)
    M,                         \* messages per producer
    CloseIgnoresReservations,  \* planted bug
    GuessStart,                \* a reserve may start from the sender's guess
    CreditClaim,               \* the credit claim instead of the seq check
    CreditSlack,               \* planted bug: the credit this much too large
    SoleProducer,              \* one producer: claim by count, announce on tail
    AnnounceIgnoresClosed      \* planted bug: the sole producer commits anyway

ASSUME Cap \in Nat \ {0, 1} /\ M \in Nat /\ CloseIgnoresReservations \in BOOLEAN
       /\ GuessStart \in BOOLEAN /\ CreditClaim \in BOOLEAN /\ CreditSlack \in Nat
       /\ SoleProducer \in BOOLEAN /\ AnnounceIgnoresClosed \in BOOLEAN
       /\ SoleProducer => (CreditClaim /\ Cardinality(Producers) = 1)

Msgs == Producers \X (1 .. M)
Total == Cardinality(Producers) * M

VARIABLES
    seq,            \* seq[s]: slot s's sequence number
    tail,           \* [pos |-> n, closed |-> b]: one word, CAS by producers and close
    head,           \* consumer-owned
    pc,             \* pc[p]: producer program counter
    mode,           \* mode[p]: "send" (waits while full) or "try" (ctx.try_send)
    pos,            \* pos[p]: the tail word producer p loaded / reserved
    free,           \* free[p]: CreditClaim: positions below it are free (head read + Cap)
    k,              \* k[p]: index of p's next message (M + 1 when done)
    cstate,         \* consumer: "active", "failed", "exited"
    stop,           \* the host asked the actor to stop
    owner,          \* ghost: owner[i] = the message reserved at position i - 1
    committed,      \* ghost: messages committed to the inbox
    taken,          \* ghost: <<message, "consumed" | "dead">> per position passed
    refused,        \* ghost: messages try_send reported false for
    undeliverable,  \* ghost: messages whose send faulted UNDELIVERABLE
    closedAt        \* ghost: Len(owner) when the inbox closed (0 before)

vars == <<seq, tail, head, pc, mode, pos, free, k, cstate, stop, owner, committed,
          taken, refused, undeliverable, closedAt>>

Slot(i) == i % Cap
Msg(p) == <<p, k[p]>>

Init ==
    /\ seq = [s \in 0 .. Cap - 1 |-> s]
    /\ tail = [pos |-> 0, closed |-> FALSE]
    /\ head = 0
    /\ pc = [p \in Producers |-> "idle"]
    /\ mode = [p \in Producers |-> "send"]
    /\ pos = [p \in Producers |-> [pos |-> 0, closed |-> FALSE]]
    /\ free = [p \in Producers |-> 0]
    /\ k = [p \in Producers |-> 1]
    /\ cstate = "active"
    /\ stop = FALSE
    /\ owner = <<>>
    /\ committed = {}
    /\ taken = <<>>
    /\ refused = {}
    /\ undeliverable = {}
    /\ closedAt = 0

ConsumerVars == <<head, cstate, stop, taken, closedAt>>

(* ---------------------------- producers -------------------------------- *)

\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_send
\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_try_send
\* The handler sends its next message with ctx.send or ctx.try_send.
Begin(p) ==
    /\ pc[p] = "idle"
    /\ k[p] <= M
    /\ \E m \in {"send", "try"} : mode' = [mode EXCEPT ![p] = m]
    /\ pc' = [pc EXCEPT ![p] = "load"]
    /\ UNCHANGED <<seq, tail, pos, free, k, owner, committed, refused, undeliverable>>
    /\ UNCHANGED ConsumerVars

\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_reserve
\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_mp_try_reserve
\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_send_to
\* models: runtime/src/actor/k2k_queue.rs reserve
\* Reservation, step 1: load the tail word; or, with GuessStart, start from
\* the sender's guess (rk_actor_send_to keeps one per port, rk_k2k_mp): one
\* past its last claim, or the word of its last refusal, so any open
\* position up to tail's, or tail itself (closed or not).  Also allowed on
\* a reload, where the code loads tail: more behaviours, the same checks.
\* SoleProducer: the producer's own count of the positions it announced
\* open, which are all the positions there are (owner's length).
Guesses == {tail} \cup {[pos |-> q, closed |-> FALSE] : q \in 0 .. tail.pos}
Starts == IF SoleProducer THEN {[pos |-> Len(owner), closed |-> FALSE]}
          ELSE IF GuessStart THEN Guesses ELSE {tail}
LoadTail(p) ==
    /\ pc[p] = "load"
    /\ \E g \in Starts : pos' = [pos EXCEPT ![p] = g]
    /\ pc' = [pc EXCEPT ![p] = "seq"]
    /\ UNCHANGED <<seq, tail, mode, free, k, owner, committed, refused, undeliverable>>
    /\ UNCHANGED ConsumerVars

\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_reserve
\* models: runtime/src/actor/k2k_queue.rs reserve
\* Step 2: acquire-load seq of the slot.  seq = pos: go on to the CAS;
\* seq < pos (full, or a closed word: bit 63 makes seq - pos negative):
\* rk_k2k_reserve returns false; seq > pos: reload the tail.
LoadSeq(p) ==
    /\ pc[p] = "seq"
    /\ ~CreditClaim
    /\ LET w == pos[p] IN
       pc' = [pc EXCEPT ![p] =
                IF w.closed THEN "refusedby"
                ELSE IF seq[Slot(w.pos)] = w.pos THEN "cas"
                ELSE IF seq[Slot(w.pos)] < w.pos THEN "refusedby"
                ELSE "load"]
    /\ UNCHANGED <<seq, tail, mode, pos, free, k, owner, committed, refused, undeliverable>>
    /\ UNCHANGED ConsumerVars

\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_credit_try_claim
\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_send_to
\* CreditClaim, step 2: below the credit, go on to the CAS; at or past it,
\* acquire-load head for a new credit (head + Cap, plus the planted slack),
\* and still at or past it: full (rk_k2k_credit_try_claim returns FULL; the
\* caller tells a closed word apart).  A guess that is a closed word (the
\* code's guesses never are; its CAS would fail and return the bit) goes
\* to the refusal at once.
Claim == IF SoleProducer THEN "announce" ELSE "cas"
Credit(p) ==
    /\ pc[p] = "seq"
    /\ CreditClaim
    /\ LET w == pos[p]
           fresh == head + Cap + CreditSlack
       IN IF w.closed
            THEN /\ pc' = [pc EXCEPT ![p] = "refusedby"]
                 /\ UNCHANGED free
            ELSE IF w.pos < free[p]
            THEN /\ pc' = [pc EXCEPT ![p] = Claim]
                 /\ UNCHANGED free
            ELSE /\ free' = [free EXCEPT ![p] = fresh]
                 /\ pc' = [pc EXCEPT ![p] = IF w.pos < fresh THEN Claim ELSE "refusedby"]
    /\ UNCHANGED <<seq, tail, mode, pos, k, owner, committed, refused, undeliverable>>
    /\ UNCHANGED ConsumerVars

\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_reserve
\* models: runtime/src/actor/k2k_queue.rs reserve
\* Step 3: CAS the tail word from what was loaded to pos + 1 (open).  A
\* closed word never equals an open one, so no reservation succeeds after
\* the close.  Failure: retry step 2 with the word the CAS saw.
Cas(p) ==
    /\ pc[p] = "cas"
    /\ IF tail = pos[p]
         THEN /\ tail' = [pos |-> tail.pos + 1, closed |-> FALSE]
              /\ owner' = Append(owner, Msg(p))
              /\ pc' = [pc EXCEPT ![p] = "commit"]
              /\ UNCHANGED pos
         ELSE /\ pos' = [pos EXCEPT ![p] = tail]
              /\ pc' = [pc EXCEPT ![p] = "seq"]
              /\ UNCHANGED <<tail, owner>>
    /\ UNCHANGED <<seq, mode, free, k, committed, refused, undeliverable>>
    /\ UNCHANGED ConsumerVars

\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_credit_announce
\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_send_to
\* SoleProducer, step 3: fetch-add tail (the message's stores are issued
\* meanwhile); the old value closed: no commit, the send faults
\* UNDELIVERABLE (through the refusal, which finds the closed bit); open:
\* the position is held, on to the commit.  The planted bug commits either way.
Announce(p) ==
    /\ pc[p] = "announce"
    /\ IF tail.closed /\ ~AnnounceIgnoresClosed
         THEN /\ pc' = [pc EXCEPT ![p] = "refusedby"]
              /\ UNCHANGED <<tail, owner>>
         ELSE /\ tail' = [tail EXCEPT !.pos = tail.pos + 1]
              /\ owner' = Append(owner, Msg(p))
              /\ pc' = [pc EXCEPT ![p] = "commit"]
    /\ UNCHANGED <<seq, mode, pos, free, k, committed, refused, undeliverable>>
    /\ UNCHANGED ConsumerVars

\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_send_to
\* models: runtime/src/actor/k2k_queue.rs reserve
\* models: runtime/src/actor/cpu.rs attempt
\* The reservation failed: the closed bit tells a terminated destination
\* (fault UNDELIVERABLE, nothing written) from a full inbox (send: back
\* off and retry; try_send: return false, nothing written).
Refused(p) ==
    /\ pc[p] = "refusedby"
    /\ IF tail.closed
         THEN /\ undeliverable' = undeliverable \cup {Msg(p)}
              /\ k' = [k EXCEPT ![p] = k[p] + 1]
              /\ pc' = [pc EXCEPT ![p] = "idle"]
              /\ UNCHANGED refused
         ELSE IF mode[p] = "try"
              THEN /\ refused' = refused \cup {Msg(p)}
                   /\ k' = [k EXCEPT ![p] = k[p] + 1]
                   /\ pc' = [pc EXCEPT ![p] = "idle"]
                   /\ UNCHANGED undeliverable
              ELSE /\ pc' = [pc EXCEPT ![p] = "load"]
                   /\ UNCHANGED <<k, refused, undeliverable>>
    /\ UNCHANGED <<seq, tail, mode, pos, free, owner, committed>>
    /\ UNCHANGED ConsumerVars

\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_commit
\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_send_to
\* models: runtime/src/actor/k2k_queue.rs try_push_with
\* Write the envelope (K2kInbox.tla checks the write/read order), then
\* release-store seq = pos + 1; ctx.try_send returns true.
Commit(p) ==
    /\ pc[p] = "commit"
    /\ seq' = [seq EXCEPT ![Slot(pos[p].pos)] = pos[p].pos + 1]
    /\ committed' = committed \cup {Msg(p)}
    /\ k' = [k EXCEPT ![p] = k[p] + 1]
    /\ pc' = [pc EXCEPT ![p] = "idle"]
    /\ UNCHANGED <<tail, mode, pos, free, owner, refused, undeliverable>>
    /\ UNCHANGED ConsumerVars

(* ---------------------------- consumer --------------------------------- *)

Ready == seq[Slot(head)] = head + 1   \* the message at head is committed

ProducerVars == <<pc, mode, pos, free, k, owner, committed, refused, undeliverable>>

\* What the consumer leaves in seq when it frees the slot at head: the next
\* lap's free mark (rk_k2k_reserve's protocol), or, CreditClaim, nothing
\* (head alone hands the slot back).
Freed == IF CreditClaim THEN seq ELSE [seq EXCEPT ![Slot(head)] = head + Cap]

\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_k2k_available
\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_k2k_release
\* models: runtime/src/actor/k2k_queue.rs pop
\* The actor takes the committed message at head and runs it (also while
\* stopping: the stop drains), then frees the slot for the next lap.
Consume ==
    /\ cstate = "active"
    /\ Ready
    /\ taken' = Append(taken, <<owner[head + 1], "consumed">>)
    /\ seq' = Freed
    /\ head' = head + 1
    /\ UNCHANGED <<tail, cstate, stop, closedAt>>
    /\ UNCHANGED ProducerVars

\* A handler faults: the actor is Failed and parked; its queued K2K
\* messages stay in the inbox.
Fail ==
    /\ cstate = "active"
    /\ cstate' = "failed"
    /\ UNCHANGED <<seq, tail, head, stop, taken, closedAt>>
    /\ UNCHANGED ProducerVars

\* models: device-lib/cuda/rk_control.cuh rk_control_stop_requested
\* The host asks the actor to stop.
Stop ==
    /\ ~stop
    /\ stop' = TRUE
    /\ UNCHANGED <<seq, tail, head, cstate, taken, closedAt>>
    /\ UNCHANGED ProducerVars

\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_k2k_shutdown
\* models: runtime/src/actor/cpu.rs shutdown_k2k
\* A Failed actor asked to stop dead-letters each committed K2K message
\* (UNDELIVERABLE, to the host) and frees its slot.
DeadLetter ==
    /\ cstate = "failed" /\ stop
    /\ Ready
    /\ taken' = Append(taken, <<owner[head + 1], "dead">>)
    /\ seq' = Freed
    /\ head' = head + 1
    /\ UNCHANGED <<tail, cstate, stop, closedAt>>
    /\ UNCHANGED ProducerVars

\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_k2k_close
\* models: transpiler/cuda/rk_actor_poll.cuh rk_actor_poll
\* models: runtime/src/actor/k2k_queue.rs try_close
\* A stopping actor (active and drained, or failed and shutting down)
\* closes: CAS the tail word from [head, open] to [head, closed]; it fails
\* while any position past head is reserved, and the actor polls on.  The
\* planted bug sets the bit on whatever tail is once nothing is committed
\* at head.
Close ==
    /\ cstate \in {"active", "failed"} /\ stop
    /\ IF CloseIgnoresReservations
         THEN /\ ~Ready
              /\ tail' = [tail EXCEPT !.closed = TRUE]
         ELSE /\ tail = [pos |-> head, closed |-> FALSE]
              /\ tail' = [pos |-> head, closed |-> TRUE]
    /\ cstate' = "exited"
    /\ closedAt' = Len(owner)
    /\ UNCHANGED <<seq, head, stop, taken>>
    /\ UNCHANGED ProducerVars

AllDone ==
    /\ \A p \in Producers : k[p] = M + 1 /\ pc[p] = "idle"
    /\ cstate = "exited"

\* Everything sent and the actor gone: the system idles (not a deadlock).
Done == AllDone /\ UNCHANGED vars

Producer(p) == Begin(p) \/ LoadTail(p) \/ LoadSeq(p) \/ Credit(p) \/ Cas(p) \/ Announce(p)
               \/ Refused(p) \/ Commit(p)
Consumer == Consume \/ Fail \/ Stop \/ DeadLetter \/ Close

Next == (\E p \in Producers : Producer(p)) \/ Consumer \/ Done

Spec == Init /\ [][Next]_vars

(* ---------------------------- properties ------------------------------- *)

TypeOK ==
    /\ seq \in [0 .. Cap - 1 -> 0 .. Total + Cap]
    /\ tail \in [pos : 0 .. Total, closed : BOOLEAN]
    /\ head \in 0 .. Total /\ head <= tail.pos
    /\ free \in [Producers -> 0 .. Total + Cap + CreditSlack]
    /\ Len(owner) = tail.pos
    /\ cstate \in {"active", "failed", "exited"}
    /\ committed \subseteq Msgs /\ refused \subseteq Msgs /\ undeliverable \subseteq Msgs

\* A producer writes (and commits) a slot only once the slot's previous
\* lap is consumed: its position is below head + Cap.
WriteAfterCredit ==
    \A p \in Producers : pc[p] \in {"announce", "commit"} => pos[p].pos < head + Cap

\* SoleProducer: the count is the tail's position whenever the producer
\* announces (rk_actor_send_to traps if the add ever returns another).
SoleCountRight ==
    SoleProducer => \A p \in Producers : pc[p] = "announce" => pos[p].pos = tail.pos

\* Close never strands a reserved slot: once closed, every position ever
\* reserved has been consumed or dead-lettered (none is reserved or
\* committed past head).
CloseStrandsNothing == tail.closed => Len(owner) = head

\* No send succeeds after the close: no reservation past the positions
\* reserved when the inbox closed.
NoSendAfterClose == tail.closed => Len(owner) = closedAt

\* Nothing committed is lost: each committed message is still queued
\* (past head, with a consumer that will take or dead-letter it) or was
\* consumed or dead-lettered; once the actor is gone, the latter.
NothingLost ==
    \A i \in 1 .. Len(owner) :
        owner[i] \in committed => (i <= head \/ cstate # "exited")

\* Exactly once, in reservation order: the consumer's i-th step (consume
\* or dead-letter) is the message reserved at position i - 1.
ExactlyOnce == \A i \in 1 .. Len(taken) : taken[i][1] = owner[i]

\* A send faults UNDELIVERABLE only once the destination has closed, and a
\* message try_send reported false for (or whose send faulted) was never
\* written: it is never consumed or dead-lettered.
OutcomesAgree ==
    /\ undeliverable # {} => tail.closed
    /\ \A i \in 1 .. Len(owner) : owner[i] \notin refused \cup undeliverable
    /\ committed \cap (refused \cup undeliverable) = {}
=============================================================================
