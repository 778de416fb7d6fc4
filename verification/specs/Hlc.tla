--------------------------------- MODULE Hlc ---------------------------------
(***************************************************************************)
(* Hybrid logical clocks (Kulkarni et al., "Logical Physical Clocks",      *)
(* OPODIS 2014), one clock per actor (DESIGN.md §4).                       *)
(*                                                                         *)
(* Each actor a has a physical clock pt[a] (device %globaltimer plus the   *)
(* host-calibrated offset) that advances nondeterministically and          *)
(* independently of the others (arbitrary skew within 0..MaxPt), and an    *)
(* HLC (l[a], c[a]).  Timestamps are ordered lexicographically on (l, c).  *)
(*                                                                         *)
(* The model uses the rules in the code's formulation; an ASSUME checks    *)
(* they agree with the paper's:                                            *)
(*   send / local event:  l' = max(l, pt)                                  *)
(*                        c' = IF l' = l THEN c + 1 ELSE 0                 *)
(*   receive of m:        l' = max(l, m.l, pt)                             *)
(*                        c' = IF l' = l /\ l' = m.l THEN max(c, m.c) + 1  *)
(*                             ELSE IF l' = l   THEN c + 1                 *)
(*                             ELSE IF l' = m.l THEN m.c + 1               *)
(*                             ELSE 0                                      *)
(*                                                                         *)
(* The model is bounded: at most MaxEvents events per actor and MaxPt      *)
(* physical ticks.  Messages may be delivered in any order (the network    *)
(* is a set), which covers H2K, K2K and K2H alike.                         *)
(*                                                                         *)
(* IgnoreMsgCounter = TRUE plants the bug "receive ignores m.c" (as if     *)
(* m.c were 0); TLC must report Causality violated.                        *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

CONSTANTS
    Actors,            \* set of actor ids (model values)
    MaxPt,             \* physical clocks range over 0..MaxPt
    MaxEvents,         \* at most this many HLC events per actor
    IgnoreMsgCounter   \* planted bug: receive ignores the message's counter

ASSUME MaxPt \in Nat /\ MaxEvents \in Nat /\ IgnoreMsgCounter \in BOOLEAN

Max2(a, b) == IF a >= b THEN a ELSE b
Max3(a, b, c) == Max2(Max2(a, b), c)

\* Lexicographic order on timestamps <<l, c>>.
Less(s, t) == s[1] < t[1] \/ (s[1] = t[1] /\ s[2] < t[2])

(* The rules as rk_hlc_send / rk_hlc_receive write them (the code's        *)
(* branch order; the 32-bit counter overflow branch is out of range here). *)
CodeSendL(l0, p) == IF p > l0 THEN p ELSE l0
CodeSendC(l0, c0, p) == IF p > l0 THEN 0 ELSE c0 + 1
CodeRecvL(l0, ml, p) == IF p > Max2(l0, ml) THEN p ELSE Max2(l0, ml)
CodeRecvC(l0, c0, ml, mc, p) ==
    IF p > Max2(l0, ml) THEN 0
    ELSE IF l0 = ml THEN Max2(c0, mc) + 1
    ELSE IF l0 > ml THEN c0 + 1
    ELSE mc + 1

(* The paper's rules (Kulkarni et al., Figure 5), used only to check that  *)
(* the code's formulation above agrees with them on every input in range.  *)
PaperSendL(l0, p) == Max2(l0, p)
PaperSendC(l0, c0, p) == IF PaperSendL(l0, p) = l0 THEN c0 + 1 ELSE 0
PaperRecvL(l0, ml, p) == Max3(l0, ml, p)
PaperRecvC(l0, c0, ml, mc, p) ==
    LET nl == PaperRecvL(l0, ml, p) IN
    IF nl = l0 /\ nl = ml THEN Max2(c0, mc) + 1
    ELSE IF nl = l0 THEN c0 + 1
    ELSE IF nl = ml THEN mc + 1
    ELSE 0

\* TLC evaluates this before model checking: on every input in range the
\* code's formulation equals the paper's (a failed ASSUME is an error).
ASSUME PaperAgreesWithCode ==
    \A l0, ml, p \in 0 .. MaxPt, c0, mc \in 0 .. 3 * MaxEvents :
        /\ CodeSendL(l0, p) = PaperSendL(l0, p)
        /\ CodeSendC(l0, c0, p) = PaperSendC(l0, c0, p)
        /\ CodeRecvL(l0, ml, p) = PaperRecvL(l0, ml, p)
        /\ CodeRecvC(l0, c0, ml, mc, p) = PaperRecvC(l0, c0, ml, mc, p)

VARIABLES
    pt,      \* pt[a]: physical clock of actor a
    l,       \* l[a]: HLC logical-physical part
    c,       \* c[a]: HLC counter
    events,  \* events[a]: number of HLC events actor a issued
    prev,    \* ghost: prev[a] = the timestamp actor a issued before its last one
    net,     \* messages in flight: records [src, dst, ts] (no two are
             \* equal: a sender's timestamps strictly increase)
    lastRecv \* ghost: <<message timestamp, receive timestamp>> of the last receive

vars == <<pt, l, c, events, prev, net, lastRecv>>

NoRecv == <<<<0, 0>>, <<0, 1>>>>   \* a dummy pair satisfying Causality

Init ==
    /\ pt = [a \in Actors |-> 0]
    /\ l = [a \in Actors |-> 0]
    /\ c = [a \in Actors |-> 0]
    /\ events = [a \in Actors |-> 0]
    /\ prev = [a \in Actors |-> <<0, 0>>]
    /\ net = {}
    /\ lastRecv = NoRecv

\* Physical time advances (independently per actor).
Tick(a) ==
    /\ pt[a] < MaxPt
    /\ pt' = [pt EXCEPT ![a] = pt[a] + 1]
    /\ UNCHANGED <<l, c, events, prev, net, lastRecv>>

\* The send rule applied to actor a.
SendL(a) == CodeSendL(l[a], pt[a])
SendC(a) == CodeSendC(l[a], c[a], pt[a])

\* models: device-lib/cuda/rk_hlc.cuh rk_hlc_send
\* A local event (e.g. a reply stamped without a message out).
LocalEvent(a) ==
    /\ events[a] < MaxEvents
    /\ l' = [l EXCEPT ![a] = SendL(a)]
    /\ c' = [c EXCEPT ![a] = SendC(a)]
    /\ events' = [events EXCEPT ![a] = events[a] + 1]
    /\ prev' = [prev EXCEPT ![a] = <<l[a], c[a]>>]
    /\ UNCHANGED <<pt, net, lastRecv>>

\* models: device-lib/cuda/rk_hlc.cuh rk_hlc_send
\* Send a message to b stamped with the new timestamp.
Send(a, b) ==
    /\ events[a] < MaxEvents
    /\ l' = [l EXCEPT ![a] = SendL(a)]
    /\ c' = [c EXCEPT ![a] = SendC(a)]
    /\ events' = [events EXCEPT ![a] = events[a] + 1]
    /\ prev' = [prev EXCEPT ![a] = <<l[a], c[a]>>]
    /\ net' = net \cup {[src |-> a, dst |-> b, ts |-> <<SendL(a), SendC(a)>>]}
    /\ UNCHANGED <<pt, lastRecv>>

\* models: device-lib/cuda/rk_hlc.cuh rk_hlc_receive
\* Receive message m at its destination b.
Receive(m) ==
    LET b  == m.dst
        ml == m.ts[1]
        mc == IF IgnoreMsgCounter THEN 0 ELSE m.ts[2]
        nl == CodeRecvL(l[b], ml, pt[b])
        nc == CodeRecvC(l[b], c[b], ml, mc, pt[b])
    IN /\ events[b] < MaxEvents
       /\ l' = [l EXCEPT ![b] = nl]
       /\ c' = [c EXCEPT ![b] = nc]
       /\ events' = [events EXCEPT ![b] = events[b] + 1]
       /\ prev' = [prev EXCEPT ![b] = <<l[b], c[b]>>]
       /\ net' = net \ {m}
       /\ lastRecv' = <<m.ts, <<nl, nc>>>>
       /\ UNCHANGED pt

\* The bounded model has run out of events: idle (not a deadlock).
Done ==
    /\ \A a \in Actors : events[a] = MaxEvents /\ pt[a] = MaxPt
    /\ UNCHANGED vars

Next ==
    \/ \E a \in Actors : Tick(a) \/ LocalEvent(a)
    \/ \E a, b \in Actors : a # b /\ Send(a, b)
    \/ \E m \in net : Receive(m)
    \/ Done

Spec == Init /\ [][Next]_vars

(* ---------------------------- properties ------------------------------- *)

TypeOK ==
    /\ pt \in [Actors -> 0 .. MaxPt]
    /\ l \in [Actors -> 0 .. MaxPt]
    /\ c \in [Actors -> Nat]
    /\ events \in [Actors -> 0 .. MaxEvents]

\* Per actor, every issued timestamp is strictly greater than the one before.
Monotonic ==
    \A a \in Actors : events[a] > 0 => Less(prev[a], <<l[a], c[a]>>)

\* A receive is stamped strictly after the message it received.
Causality == Less(lastRecv[1], lastRecv[2])

=============================================================================
