------------------------------ MODULE SpscRing ------------------------------
(***************************************************************************)
(* The host<->device single-producer single-consumer ring (DESIGN.md §4).  *)
(*                                                                         *)
(* The ring lives in mapped pinned host memory: Cap slots and two indices. *)
(* The producer owns `tail`, the consumer owns `head`; each side stores    *)
(* only its own index (st.release.sys) and reads the other's               *)
(* (ld.acquire.sys).  Indices are free-running counters; the slot of       *)
(* position i is i % Cap.                                                  *)
(*                                                                         *)
(* Each side keeps its own index and a cached copy of the other side's     *)
(* (`hcache`, `tcache`: registers on the device, fields of the host's      *)
(* Producer/Consumer), and re-reads the other index only when the cache    *)
(* says full (producer) or empty (consumer), exactly as rk_ring.cuh and    *)
(* device-lib/src/ring/host.rs do.  Batched pushes/pops (one index store   *)
(* for n slots) are not modelled; they publish/free a prefix of the slots  *)
(* a sequence of single operations would.                                  *)
(*                                                                         *)
(* Memory model.  Release/acquire on the index makes every payload write   *)
(* that precedes the release visible to a reader that acquired that index  *)
(* value, so the interleaving semantics of TLA+ is sound for the indices   *)
(* themselves.  What is *not* atomic is the payload: writing a slot is a   *)
(* separate step from publishing it, and reading a slot is a separate step *)
(* from observing that it is published and from freeing it.  Those are the *)
(* steps modelled here, and the order between them is the protocol.        *)
(*                                                                         *)
(* Messages are the integers 1..N, pushed in order.  A slot that was never *)
(* written holds 0.  A full ring makes the push fail (backpressure): the   *)
(* producer retries later; it never overwrites an unconsumed slot.         *)
(*                                                                         *)
(* PublishBeforeWrite = TRUE plants the bug "store tail, then write the    *)
(* slot"; TLC must then report NoReadBeforeWrite violated.                 *)
(***************************************************************************)
EXTENDS Naturals, Sequences

CONSTANTS
    Cap,                \* number of slots
    N,                  \* number of messages the producer pushes
    PublishBeforeWrite  \* planted bug: publish the slot before writing it

ASSUME Cap \in Nat \ {0} /\ N \in Nat /\ PublishBeforeWrite \in BOOLEAN

VARIABLES
    buf,    \* slot contents: buf[s] is the payload in slot s (0 = never written)
    tail,   \* producer-owned index: positions < tail are published
    head,   \* consumer-owned index: positions < head are consumed and free
    hcache, \* producer local: last value of head it acquire-loaded
    tcache, \* consumer local: last value of tail it acquire-loaded
    next,   \* producer local: the next message to push (N+1 when done)
    ppc,    \* producer program counter
    got,    \* consumer local: the payload it copied out of the slot
    cpc,    \* consumer program counter
    recv    \* ghost: the messages the consumer handed on, in order

vars == <<buf, tail, head, hcache, tcache, next, ppc, got, cpc, recv>>

Slot(i) == i % Cap

Init ==
    /\ buf = [s \in 0 .. Cap - 1 |-> 0]
    /\ tail = 0
    /\ head = 0
    /\ hcache = 0
    /\ tcache = 0
    /\ next = 1
    /\ ppc = "idle"
    /\ got = 0
    /\ cpc = "idle"
    /\ recv = <<>>

(* ---------------------------- producer --------------------------------- *)

\* models: device-lib/cuda/rk_ring.cuh rk_ring_try_push_begin
\* models: device-lib/src/ring/host.rs try_push
\* Free space by the cached head; only when that says full, acquire-load the
\* consumer's head.  Still full: the push fails and nothing is written
\* (backpressure).  Otherwise the producer owns slot tail.
PushBegin ==
    /\ ppc = "idle"
    /\ next <= N
    /\ LET h == IF tail - hcache = Cap THEN head ELSE hcache IN
         /\ hcache' = h
         /\ ppc' = IF tail - h = Cap THEN "idle"
                   ELSE IF PublishBeforeWrite THEN "publish_early" ELSE "write"
    /\ UNCHANGED <<buf, tail, head, tcache, next, got, cpc, recv>>

\* The caller fills the slot it was given: plain (non-atomic) stores.
\* (Host: the `fill` closure of try_push; device: the leader's reply write.)
WriteSlot ==
    /\ ppc \in {"write", "write_late"}
    /\ buf' = [buf EXCEPT ![Slot(tail - (IF ppc = "write_late" THEN 1 ELSE 0))] = next]
    /\ ppc' = IF ppc = "write_late" THEN "idle" ELSE "publish"
    /\ next' = IF ppc = "write_late" THEN next + 1 ELSE next
    /\ UNCHANGED <<tail, head, hcache, tcache, got, cpc, recv>>

\* models: device-lib/cuda/rk_ring.cuh rk_ring_push_commit
\* models: device-lib/src/ring/host.rs try_push
\* Release-store tail + 1: the slot becomes visible to the consumer.
PushCommit ==
    /\ ppc \in {"publish", "publish_early"}
    /\ tail' = tail + 1
    /\ ppc' = IF ppc = "publish_early" THEN "write_late" ELSE "idle"
    /\ next' = IF ppc = "publish_early" THEN next ELSE next + 1
    /\ UNCHANGED <<buf, head, hcache, tcache, got, cpc, recv>>

(* ---------------------------- consumer --------------------------------- *)

\* models: device-lib/cuda/rk_ring.cuh rk_ring_try_pop_begin
\* models: device-lib/src/ring/host.rs try_pop
\* Published slots by the cached tail; only when that says empty,
\* acquire-load the producer's tail.  Still empty: nothing to do.
\* Otherwise the consumer owns slot head.
PopBegin ==
    /\ cpc = "idle"
    /\ LET t == IF tcache = head THEN tail ELSE tcache IN
         /\ tcache' = t
         /\ cpc' = IF t = head THEN "idle" ELSE "read"
    /\ UNCHANGED <<buf, tail, head, hcache, next, ppc, got, recv>>

\* The handler reads the payload out of the slot (non-atomic).
\* (Host: the `read` closure of try_pop; device: the block's handler.)
ReadSlot ==
    /\ cpc = "read"
    /\ got' = buf[Slot(head)]
    /\ cpc' = "commit"
    /\ UNCHANGED <<buf, tail, head, hcache, tcache, next, ppc, recv>>

\* models: device-lib/cuda/rk_ring.cuh rk_ring_pop_commit
\* models: device-lib/src/ring/host.rs try_pop
\* Release-store head + 1: the slot is free for the producer again.
PopCommit ==
    /\ cpc = "commit"
    /\ recv' = Append(recv, got)
    /\ head' = head + 1
    /\ cpc' = "idle"
    /\ UNCHANGED <<buf, tail, hcache, tcache, next, ppc, got>>

\* Everything pushed and consumed: the system idles (not a deadlock).
Done ==
    /\ next = N + 1 /\ ppc = "idle" /\ cpc = "idle" /\ head = tail
    /\ UNCHANGED vars

Producer == PushBegin \/ WriteSlot \/ PushCommit
Consumer == PopBegin \/ ReadSlot \/ PopCommit

Next == Producer \/ Consumer \/ Done

Spec == Init /\ [][Next]_vars /\ WF_vars(Producer) /\ WF_vars(Consumer)

(* ---------------------------- properties ------------------------------- *)

TypeOK ==
    /\ buf \in [0 .. Cap - 1 -> 0 .. N]
    /\ head \in 0 .. N /\ tail \in 0 .. N /\ head <= tail
    /\ hcache <= head /\ head <= tcache /\ tcache <= tail
    /\ next \in 1 .. N + 1
    /\ got \in 0 .. N
    /\ recv \in Seq(1 .. N)

\* The consumer never copies out a payload other than the message that was
\* pushed at that position (message head + 1): no stale and no unwritten slot.
NoReadBeforeWrite == cpc = "commit" => got = head + 1

\* No message is delivered twice.
NoDuplicate == \A i, j \in 1 .. Len(recv) : i # j => recv[i] # recv[j]

\* Messages are delivered in the order they were pushed.
Fifo == \A i, j \in 1 .. Len(recv) : i < j => recv[i] < recv[j]

\* Nothing is skipped (lost): the k-th delivery is the k-th message pushed.
NoLoss == \A i \in 1 .. Len(recv) : recv[i] = i

\* Backpressure, never overwrite: published-but-unconsumed positions never
\* exceed the capacity.
NoOverwrite == tail - head <= Cap

\* Liveness: under weak fairness every message is eventually received.
AllDelivered == <>[](Len(recv) = N)
EachDelivered == \A m \in 1 .. N : <>(\E i \in 1 .. Len(recv) : recv[i] = m)
=============================================================================
