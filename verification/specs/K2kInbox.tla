------------------------------ MODULE K2kInbox ------------------------------
(***************************************************************************)
(* The K2K multi-producer single-consumer inbox (DESIGN.md §4), a bounded  *)
(* Vyukov queue with per-slot sequence numbers.                            *)
(*                                                                         *)
(* Cap slots; slot s carries a sequence number seq[s], initially s.        *)
(* Positions are free-running counters; position p lives in slot p % Cap.  *)
(*   producer: reserve  - load tail (pos); then, in a loop:                *)
(*                        acquire-load seq[slot(pos)];                     *)
(*                        seq = pos -> CAS tail pos -> pos+1; success:     *)
(*                                     the producer owns the slot;         *)
(*                                     failure:                            *)
(*                                     retry with the tail the CAS saw;    *)
(*                        seq < pos -> full: reserve fails (backpressure,  *)
(*                                     the send is retried later);         *)
(*                        seq > pos -> stale pos: reload tail, retry.      *)
(*             write    - plain stores of the payload into the slot;       *)
(*             commit   - release-store seq[slot] = pos + 1.               *)
(*   consumer: begin    - acquire-load seq[slot(head)]; = head + 1 means   *)
(*                        committed, anything else means empty;            *)
(*             read     - the handler copies the payload out;              *)
(*             commit   - release-store seq[slot] = head + Cap (the slot   *)
(*                        is free for position head + Cap), head + 1.      *)
(*                                                                         *)
(* Capacity must be at least 2: with Cap = 1 the committed value pos + 1   *)
(* equals the "free for the next lap" value pos + Cap, so a second         *)
(* producer overwrites an unconsumed message; K2kInbox_cap1.cfg shows TLC  *)
(* finding exactly that.                                                   *)
(*                                                                         *)
(* Payload writes and reads are separate steps from the atomic operations  *)
(* that order them, as in SpscRing.                                        *)
(*                                                                         *)
(* Producer p sends the messages <<p, 1>>, ..., <<p, M>> in order.  A slot *)
(* that was never written holds Empty.                                     *)
(*                                                                         *)
(* SkipCommitWait = TRUE plants the bug "the consumer takes a slot once a  *)
(* producer has reserved it (head < tail) instead of waiting for the       *)
(* slot's commit (seq = head + 1)"; TLC must report NoReadBeforeWrite.     *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    Producers,       \* set of producer ids (model values)
    Cap,             \* number of slots
    M,               \* messages per producer
    SkipCommitWait,  \* planted bug: consume without waiting for the commit
    GuessStart,      \* producers may start a reserve from a guess (rk_k2k_mp)
    GuessAboveTail   \* planted bug: a guess may be above tail

ASSUME Cap \in Nat \ {0} /\ M \in Nat /\ SkipCommitWait \in BOOLEAN
       /\ GuessStart \in BOOLEAN /\ GuessAboveTail \in BOOLEAN

Empty == <<"empty", 0>>
Msgs == Producers \X (1 .. M)
Total == Cardinality(Producers) * M

VARIABLES
    buf,     \* buf[s]: the payload in slot s
    seq,     \* seq[s]: the slot's sequence number
    tail,    \* shared enqueue position (CAS by producers)
    head,    \* consumer-owned dequeue position
    pc,      \* pc[p]: producer program counter
    pos,     \* pos[p]: the position producer p loaded / reserved
    k,       \* k[p]: the index of producer p's next message (M+1 when done)
    cpc,     \* consumer program counter
    got,     \* consumer local: the payload it copied out
    owner,   \* ghost: owner[i] = the message reserved at position i
    recv,    \* ghost: the messages the consumer handed on, in order
    wrongFull \* ghost: a reserve said "full" while tail - head < Cap

vars == <<buf, seq, tail, head, pc, pos, k, cpc, got, owner, recv, wrongFull>>

Slot(i) == i % Cap

Init ==
    /\ buf = [s \in 0 .. Cap - 1 |-> Empty]
    /\ seq = [s \in 0 .. Cap - 1 |-> s]
    /\ tail = 0
    /\ head = 0
    /\ pc = [p \in Producers |-> "idle"]
    /\ pos = [p \in Producers |-> 0]
    /\ k = [p \in Producers |-> 1]
    /\ cpc = "idle"
    /\ got = Empty
    /\ owner = <<>>
    /\ recv = <<>>
    /\ wrongFull = FALSE

(* ---------------------------- producers -------------------------------- *)

\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_reserve
\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_send
\* models: device-lib/src/k2k/host.rs try_send
\* Reservation, step 1: load tail.
ReserveLoadTail(p) ==
    /\ pc[p] = "idle"
    /\ k[p] <= M
    /\ pos' = [pos EXCEPT ![p] = tail]
    /\ pc' = [pc EXCEPT ![p] = "seq"]
    /\ UNCHANGED <<buf, seq, tail, head, k, cpc, got, owner, recv, wrongFull>>

\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_reserve
\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_mp_try_reserve
\* Reservation, step 2: acquire-load the slot's sequence number.
\*   seq = pos: the slot is free for this lap, go on to the CAS;
\*   seq < pos: the inbox is full, the send fails (retried later);
\*   seq > pos: another producer took pos already, retry from step 1.
\* (The full case returns false from rk_k2k_reserve: the send fails and the
\* caller tries again later, which is what going back to "idle" models.)
\* (A full verdict must be right: the inbox really is full when it is taken,
\* FullVerdictRight; the guess of rk_k2k_mp relies on it.)
ReserveLoadSeq(p) ==
    /\ pc[p] = "seq"
    /\ pc' = [pc EXCEPT ![p] = IF seq[Slot(pos[p])] = pos[p] THEN "cas" ELSE "idle"]
    /\ wrongFull' = (wrongFull \/ (seq[Slot(pos[p])] < pos[p] /\ tail - head < Cap))
    /\ UNCHANGED <<buf, seq, tail, head, pos, k, cpc, got, owner, recv>>

\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_mp_try_reserve
\* Reservation, step 1 from a guess instead of a load of tail: each producer
\* keeps one past its own last claim (or the tail a lost CAS returned),
\* never above tail since tail only grows; modelled as any position up to
\* tail (any stale read of tail). Steps 2 and 3 are the same.
ReserveFromGuess(p) ==
    /\ GuessStart
    /\ pc[p] = "idle"
    /\ k[p] <= M
    /\ \E g \in 0 .. (IF GuessAboveTail THEN tail + 1 ELSE tail) :
           pos' = [pos EXCEPT ![p] = g]
    /\ pc' = [pc EXCEPT ![p] = "seq"]
    /\ UNCHANGED <<buf, seq, tail, head, k, cpc, got, owner, recv, wrongFull>>

\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_reserve
\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_mp_try_reserve
\* Reservation, step 3: CAS tail from pos to pos + 1.  Losing the race
\* returns the current tail, and the producer retries from step 2 with it.
ReserveCas(p) ==
    /\ pc[p] = "cas"
    /\ IF tail = pos[p]
         THEN /\ tail' = tail + 1
              /\ owner' = Append(owner, <<p, k[p]>>)
              /\ pc' = [pc EXCEPT ![p] = "write"]
              /\ UNCHANGED pos
         ELSE /\ pos' = [pos EXCEPT ![p] = tail]
              /\ pc' = [pc EXCEPT ![p] = "seq"]
              /\ UNCHANGED <<tail, owner>>
    /\ UNCHANGED <<buf, seq, head, k, cpc, got, recv, wrongFull>>

\* The sender fills the slot it reserved: plain stores.
WriteSlot(p) ==
    /\ pc[p] = "write"
    /\ buf' = [buf EXCEPT ![Slot(pos[p])] = <<p, k[p]>>]
    /\ pc' = [pc EXCEPT ![p] = "commit"]
    /\ UNCHANGED <<seq, tail, head, pos, k, cpc, got, owner, recv, wrongFull>>

\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_commit
\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_send
\* Release-store seq = pos + 1: the slot is published to the consumer.
Commit(p) ==
    /\ pc[p] = "commit"
    /\ seq' = [seq EXCEPT ![Slot(pos[p])] = pos[p] + 1]
    /\ k' = [k EXCEPT ![p] = k[p] + 1]
    /\ pc' = [pc EXCEPT ![p] = "idle"]
    /\ UNCHANGED <<buf, tail, head, pos, cpc, got, owner, recv, wrongFull>>

(* ---------------------------- consumer --------------------------------- *)

\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_try_consume_begin
\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_rx_try_begin
\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_k2k_available
\* models: device-lib/src/k2k/host.rs try_recv
\* Acquire-load the slot's sequence number; head + 1 means committed.
\* (The actor loop takes a batch: it checks the next n slots' sequence
\* numbers, reads all n, then frees them in order: n rounds of
\* ConsumeBegin, ReadSlot, ConsumeCommit with nothing of the consumer's in
\* between, which producers cannot tell apart from the rounds one by one.)
ConsumeBegin ==
    /\ cpc = "idle"
    /\ IF SkipCommitWait THEN head < tail
                         ELSE seq[Slot(head)] = head + 1
    /\ cpc' = "read"
    /\ UNCHANGED <<buf, seq, tail, head, pc, pos, k, got, owner, recv, wrongFull>>

\* The handler copies the payload out of the slot.
ReadSlot ==
    /\ cpc = "read"
    /\ got' = buf[Slot(head)]
    /\ cpc' = "commit"
    /\ UNCHANGED <<buf, seq, tail, head, pc, pos, k, owner, recv, wrongFull>>

\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_consume_commit
\* models: device-lib/cuda/rk_k2k.cuh rk_k2k_rx_commit
\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_k2k_release
\* Release-store seq = head + Cap (slot free for the next lap), head + 1.
ConsumeCommit ==
    /\ cpc = "commit"
    /\ seq' = [seq EXCEPT ![Slot(head)] = head + Cap]
    /\ head' = head + 1
    /\ recv' = Append(recv, got)
    /\ cpc' = "idle"
    /\ UNCHANGED <<buf, tail, pc, pos, k, got, owner, wrongFull>>

AllSentAndReceived ==
    /\ \A p \in Producers : k[p] = M + 1 /\ pc[p] = "idle"
    /\ cpc = "idle" /\ head = Total

\* Everything sent and consumed: the system idles (not a deadlock).
Done == AllSentAndReceived /\ UNCHANGED vars

Producer(p) == ReserveLoadTail(p) \/ ReserveFromGuess(p) \/ ReserveLoadSeq(p) \/ ReserveCas(p) \/ WriteSlot(p) \/ Commit(p)
Consumer == ConsumeBegin \/ ReadSlot \/ ConsumeCommit

Next == (\E p \in Producers : Producer(p)) \/ Consumer \/ Done

Spec == Init /\ [][Next]_vars
        /\ \A p \in Producers : WF_vars(Producer(p))
        /\ WF_vars(Consumer)

(* ---------------------------- properties ------------------------------- *)

TypeOK ==
    /\ buf \in [0 .. Cap - 1 -> Msgs \cup {Empty}]
    /\ seq \in [0 .. Cap - 1 -> 0 .. Total + Cap]
    /\ head \in 0 .. Total /\ tail \in 0 .. Total /\ head <= tail
    /\ Len(owner) = tail
    /\ got \in Msgs \cup {Empty}

\* The consumer only ever copies out the message that was reserved at the
\* position it consumes, fully written: never an unwritten or stale slot.
NoReadBeforeWrite == cpc = "commit" => got = owner[head + 1]

\* No message is delivered twice.
NoDuplicate == \A i, j \in 1 .. Len(recv) : i # j => recv[i] # recv[j]

\* Nothing is lost or skipped: the i-th delivery is the message reserved at
\* position i - 1 (so the inbox is FIFO in reservation order).
NoLoss == \A i \in 1 .. Len(recv) : recv[i] = owner[i]

\* Per-producer FIFO: one producer's messages arrive in the order it sent them.
Fifo == \A i, j \in 1 .. Len(recv) :
            (i < j /\ recv[i][1] = recv[j][1]) => recv[i][2] < recv[j][2]

\* Backpressure, never overwrite: reserved-but-unconsumed positions never
\* exceed the capacity.
NoOverwrite == tail - head <= Cap

\* Every "full" verdict of a reserve is true when it is taken (backpressure
\* only when the inbox is full, from a loaded tail or from a guess).
FullVerdictRight == ~wrongFull

\* Liveness: under weak fairness every message of every producer arrives.
EachDelivered ==
    \A m \in Msgs : <>(\E i \in 1 .. Len(recv) : recv[i] = m)
=============================================================================
