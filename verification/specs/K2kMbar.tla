------------------------------- MODULE K2kMbar -------------------------------
(***************************************************************************)
(* The mbarrier K2K inbox (device-lib/cuda/rk_k2k_mbar.cuh): per slot a    *)
(* FULL and an EMPTY mbarrier of arrival count 1, waited on by PARITY.     *)
(*                                                                         *)
(* A barrier is modelled by the number of its completed phases c; its     *)
(* current (incomplete) phase is c.  try_wait.parity(P) succeeds iff       *)
(* c % 2 # P: only the parity is visible, so a waiter that is two phases   *)
(* behind is fooled.  Position p lives in slot p % Cap, lap p \div Cap.    *)
(*   producer: reserve - MP: when tail < its credit (free_until), claim    *)
(*                       tail (the CAS; a failed CAS returns the real tail *)
(*                       and is retried, so only the real tail is          *)
(*                       claimed); else re-read head: free_until = head +  *)
(*                       Cap (still full: the try-reserve fails). SP (one  *)
(*                       producer, MP = FALSE): claims its next position   *)
(*                       with no head at all;                              *)
(*             waitE   - try_wait.parity on empty[slot] with parity        *)
(*                       (lap % 2) XOR 1 (phase lap - 1 complete);         *)
(*             write   - the payload's plain stores (one step; the         *)
(*                       barriers order them, so their interleaving is     *)
(*                       what NoOverwrite / NoReadBeforeWrite judge);      *)
(*             commit  - arrive on full[slot]: its phase completes;        *)
(*   consumer: wait    - try_wait.parity on full[slot(head)], parity       *)
(*                       lap % 2;                                          *)
(*             read    - the payload's plain loads (one step);             *)
(*             free    - arrive on empty[slot]; then head + 1 (red).       *)
(*                                                                         *)
(* Closing (Close = TRUE; rk_k2k_mbar_close, as the actor loop's          *)
(* rk_actor_k2k_close uses it when an actor terminates): bit 63 of tail,   *)
(* here `closed`.  The consumer, between messages, CASes tail from head    *)
(* to head | bit: it succeeds only when nothing is claimed past head       *)
(* (tail = head), else the consumer goes on consuming.  A claim CASes an   *)
(* open position, so none succeeds on a closed tail; the failed CAS        *)
(* returns the tail with the bit and the claim says CLOSED (not FULL):     *)
(* the send faults UNDELIVERABLE and the producer gives up its remaining   *)
(* messages (ghost `undelivered`).                                         *)
(*                                                                         *)
(* Planted bugs (Bug):                                                     *)
(*   "consumer_parity" the consumer waits for parity (lap + 1) % 2: lap 0  *)
(*                     passes on a fresh barrier, before anything is       *)
(*                     written (NoReadBeforeWrite);                        *)
(*   "no_head_cap"     the MP reserve claims tail without the head check   *)
(*                     (a bare atomicAdd): a producer two laps ahead finds *)
(*                     the empty barrier's parity right two phases early   *)
(*                     and overwrites an unread message (NoOverwrite);     *)
(*   "cas_ignores_closed" the claim's CAS compares the position only (the  *)
(*                     closed bit masked off): a producer claims a closed  *)
(*                     inbox and commits a message nobody will read        *)
(*                     (CloseStrandsNothing);                              *)
(*   "close_ignores_reservations" the consumer closes once nothing is      *)
(*                     committed at head (its full barrier has not         *)
(*                     completed), setting the bit on whatever tail is: a  *)
(*                     producer that had claimed is stranded               *)
(*                     (CloseStrandsNothing).                              *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS Producers, Cap, M, MP, Bug, Close

ASSUME Cap \in Nat \ {0} /\ M \in Nat \ {0} /\ MP \in BOOLEAN /\ Close \in BOOLEAN
ASSUME Bug \in {"none", "consumer_parity", "no_head_cap", "cas_ignores_closed",
                "close_ignores_reservations"}
ASSUME ~MP => Cardinality(Producers) = 1
ASSUME Close => MP \* only multi-producer inboxes (the actors') are closed

N == Cardinality(Producers) * M
Slots == 0 .. (Cap - 1)
Pos == 0 .. (N - 1)
Slot(p) == p % Cap
Lap(p) == p \div Cap
Xor1(b) == 1 - b
Passes(c, parity) == c % 2 # parity

NoMsg == [pos |-> N, who |-> CHOOSE x \in Producers : TRUE, idx |-> 0]
Msg == [pos : Pos, who : Producers, idx : 0 .. (M - 1)]

VARIABLES tail, head, fu, full, empty, slot, ppc, ppos, sent, cpc, log, readset,
          closed, undelivered

vars == <<tail, head, fu, full, empty, slot, ppc, ppos, sent, cpc, log, readset,
          closed, undelivered>>
CloseVars == <<closed, undelivered>>

TypeOK ==
    /\ tail \in 0 .. N /\ head \in 0 .. N
    /\ fu \in [Producers -> 0 .. (N + Cap)]
    /\ full \in [Slots -> 0 .. N] /\ empty \in [Slots -> 0 .. N]
    /\ slot \in [Slots -> Msg \cup {NoMsg}]
    /\ ppc \in [Producers -> {"idle", "waitE", "write", "commit", "done", "gone"}]
    /\ ppos \in [Producers -> 0 .. N]
    /\ sent \in [Producers -> 0 .. M]
    /\ cpc \in {"wait", "read", "free", "head", "done", "closed"}
    /\ readset \subseteq Pos
    /\ closed \in BOOLEAN /\ undelivered \in 0 .. N

Init ==
    /\ tail = 0 /\ head = 0
    /\ fu = [p \in Producers |-> Cap]
    /\ full = [s \in Slots |-> 0] /\ empty = [s \in Slots |-> 0]
    /\ slot = [s \in Slots |-> NoMsg]
    /\ ppc = [p \in Producers |-> "idle"]
    /\ ppos = [p \in Producers |-> 0]
    /\ sent = [p \in Producers |-> 0]
    /\ cpc = "wait" /\ log = << >> /\ readset = {}
    /\ closed = FALSE /\ undelivered = 0

Claim(p) ==
    /\ ppos' = [ppos EXCEPT ![p] = tail]
    /\ tail' = tail + 1
    /\ ppc' = [ppc EXCEPT ![p] = "waitE"]

\* The claim's CAS on a closed tail: it fails and returns the tail with the
\* bit, so the claim says CLOSED; the send faults UNDELIVERABLE and the
\* producer gives up (its remaining messages are undelivered).
Refused(p) ==
    /\ ppc' = [ppc EXCEPT ![p] = "gone"]
    /\ undelivered' = undelivered + (M - sent[p])
    /\ UNCHANGED <<tail, fu, ppos, closed>>

\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_mp_try_claim
\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_mp_try_reserve
\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_sp_try_reserve
\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_send_to
Reserve(p) ==
    /\ ppc[p] = "idle" /\ sent[p] < M /\ tail < N
    /\ IF ~MP \/ Bug = "no_head_cap"
          THEN Claim(p) /\ UNCHANGED <<fu, CloseVars>>
          ELSE IF tail < fu[p]
                  THEN IF closed /\ Bug # "cas_ignores_closed"
                          THEN Refused(p)
                          ELSE Claim(p) /\ UNCHANGED <<fu, CloseVars>>
                  ELSE /\ fu' = [fu EXCEPT ![p] = head + Cap] \* FULL: retried later
                       /\ UNCHANGED <<tail, ppos, ppc, CloseVars>>
    /\ UNCHANGED <<head, full, empty, slot, sent, cpc, log, readset>>

\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_mp_reserve_wait
\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_sp_reserve_wait
WaitEmpty(p) ==
    /\ ppc[p] = "waitE"
    /\ Passes(empty[Slot(ppos[p])], Xor1(Lap(ppos[p]) % 2))
    /\ ppc' = [ppc EXCEPT ![p] = "write"]
    /\ UNCHANGED <<tail, head, fu, full, empty, slot, ppos, sent, cpc, log, readset, closed, undelivered>>

\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_slot
Write(p) ==
    /\ ppc[p] = "write"
    /\ slot' = [slot EXCEPT ![Slot(ppos[p])] = [pos |-> ppos[p], who |-> p, idx |-> sent[p]]]
    /\ ppc' = [ppc EXCEPT ![p] = "commit"]
    /\ UNCHANGED <<tail, head, fu, full, empty, ppos, sent, cpc, log, readset, closed, undelivered>>

\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_commit
Commit(p) ==
    /\ ppc[p] = "commit"
    /\ full' = [full EXCEPT ![Slot(ppos[p])] = @ + 1]
    /\ sent' = [sent EXCEPT ![p] = @ + 1]
    /\ ppc' = [ppc EXCEPT ![p] = IF sent[p] + 1 = M THEN "done" ELSE "idle"]
    /\ UNCHANGED <<tail, head, fu, empty, slot, ppos, cpc, log, readset, closed, undelivered>>

ConsumerParity == IF Bug = "consumer_parity" THEN Xor1(Lap(head) % 2) ELSE Lap(head) % 2

\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_rx_try_begin
\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_rx_begin_wait
CWait ==
    /\ cpc = "wait" /\ head < N
    /\ Passes(full[Slot(head)], ConsumerParity)
    /\ cpc' = "read"
    /\ UNCHANGED <<tail, head, fu, full, empty, slot, ppc, ppos, sent, log, readset, closed, undelivered>>

CRead ==
    /\ cpc = "read"
    /\ log' = Append(log, slot[Slot(head)])
    /\ readset' = readset \cup {head}
    /\ cpc' = "free"
    /\ UNCHANGED <<tail, head, fu, full, empty, slot, ppc, ppos, sent, closed, undelivered>>

\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_rx_commit
CFree ==
    /\ cpc = "free"
    /\ empty' = [empty EXCEPT ![Slot(head)] = @ + 1]
    /\ cpc' = "head"
    /\ UNCHANGED <<tail, head, fu, full, slot, ppc, ppos, sent, log, readset, closed, undelivered>>

CHead ==
    /\ cpc = "head"
    /\ head' = head + 1
    /\ cpc' = IF head + 1 = N THEN "done" ELSE "wait"
    /\ UNCHANGED <<tail, fu, full, empty, slot, ppc, ppos, sent, log, readset, closed, undelivered>>

\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_close
\* models: transpiler/cuda/rk_actor_k2k.cuh rk_actor_k2k_close
\* The consumer stops between messages: the CAS from [head, open] to
\* [head, closed] succeeds only when tail = head (nothing claimed past it);
\* otherwise it goes on consuming and tries again.  The planted bug closes
\* when nothing is committed at head (the full barrier's phase for head's
\* lap is not complete), whatever tail is.
CClose ==
    /\ Close /\ cpc = "wait" /\ ~closed
    /\ IF Bug = "close_ignores_reservations"
          THEN ~Passes(full[Slot(head)], Lap(head) % 2)
          ELSE tail = head
    /\ closed' = TRUE
    /\ cpc' = "closed"
    /\ UNCHANGED <<tail, head, fu, full, empty, slot, ppc, ppos, sent, log, readset, undelivered>>

Done ==
    /\ cpc \in {"done", "closed"} /\ \A p \in Producers : ppc[p] \in {"done", "gone"}
    /\ UNCHANGED vars

Next ==
    \/ \E p \in Producers : Reserve(p) \/ WaitEmpty(p) \/ Write(p) \/ Commit(p)
    \/ CWait \/ CRead \/ CFree \/ CHead \/ CClose \/ Done

Spec == Init /\ [][Next]_vars

(* The consumer reads position head only after its message is written: the *)
(* slot holds exactly that position.                                       *)
NoReadBeforeWrite == cpc = "free" => log[Len(log)].pos = head

(* A producer stores into a slot only when the slot's message was read.    *)
NoOverwrite ==
    \A p \in Producers :
        ppc[p] = "write" => (slot[Slot(ppos[p])] = NoMsg \/ slot[Slot(ppos[p])].pos \in readset)

(* Exactly once, in position order, FIFO per producer; all at the end.     *)
NoLoss ==
    /\ \A k \in 1 .. Len(log) : log[k].pos = k - 1
    /\ \A j, k \in 1 .. Len(log) :
          (j < k /\ log[j].who = log[k].who) => log[j].idx < log[k].idx
    /\ (cpc = "done") => Len(log) = N

(* Closing strands nothing: once the inbox is closed, no producer holds a  *)
(* claim (it would commit into an inbox nobody reads) and every claimed    *)
(* position was consumed.                                                  *)
CloseStrandsNothing ==
    closed => (tail = head /\ \A p \in Producers : ppc[p] \notin {"waitE", "write", "commit"})

(* Every message is delivered exactly once or reported undeliverable to    *)
(* its sender: none is lost silently.                                      *)
Accounted ==
    (cpc \in {"done", "closed"} /\ \A p \in Producers : ppc[p] \in {"done", "gone"})
        => Len(log) + undelivered = N

(* The parity waits are never more than one phase apart from their lap.    *)
PhasesInStep == \A s \in Slots : full[s] <= empty[s] + 1 /\ empty[s] <= full[s]
==============================================================================
