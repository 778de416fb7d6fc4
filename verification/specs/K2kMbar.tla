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
(* Planted bugs (Bug):                                                     *)
(*   "consumer_parity" the consumer waits for parity (lap + 1) % 2: lap 0  *)
(*                     passes on a fresh barrier, before anything is       *)
(*                     written (NoReadBeforeWrite);                        *)
(*   "no_head_cap"     the MP reserve claims tail without the head check   *)
(*                     (a bare atomicAdd): a producer two laps ahead finds *)
(*                     the empty barrier's parity right two phases early   *)
(*                     and overwrites an unread message (NoOverwrite).     *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS Producers, Cap, M, MP, Bug

ASSUME Cap \in Nat \ {0} /\ M \in Nat \ {0} /\ MP \in BOOLEAN
ASSUME Bug \in {"none", "consumer_parity", "no_head_cap"}
ASSUME ~MP => Cardinality(Producers) = 1

N == Cardinality(Producers) * M
Slots == 0 .. (Cap - 1)
Pos == 0 .. (N - 1)
Slot(p) == p % Cap
Lap(p) == p \div Cap
Xor1(b) == 1 - b
Passes(c, parity) == c % 2 # parity

NoMsg == [pos |-> N, who |-> CHOOSE x \in Producers : TRUE, idx |-> 0]
Msg == [pos : Pos, who : Producers, idx : 0 .. (M - 1)]

VARIABLES tail, head, fu, full, empty, slot, ppc, ppos, sent, cpc, log, readset

vars == <<tail, head, fu, full, empty, slot, ppc, ppos, sent, cpc, log, readset>>

TypeOK ==
    /\ tail \in 0 .. N /\ head \in 0 .. N
    /\ fu \in [Producers -> 0 .. (N + Cap)]
    /\ full \in [Slots -> 0 .. N] /\ empty \in [Slots -> 0 .. N]
    /\ slot \in [Slots -> Msg \cup {NoMsg}]
    /\ ppc \in [Producers -> {"idle", "waitE", "write", "commit", "done"}]
    /\ ppos \in [Producers -> 0 .. N]
    /\ sent \in [Producers -> 0 .. M]
    /\ cpc \in {"wait", "read", "free", "head", "done"}
    /\ readset \subseteq Pos

Init ==
    /\ tail = 0 /\ head = 0
    /\ fu = [p \in Producers |-> Cap]
    /\ full = [s \in Slots |-> 0] /\ empty = [s \in Slots |-> 0]
    /\ slot = [s \in Slots |-> NoMsg]
    /\ ppc = [p \in Producers |-> "idle"]
    /\ ppos = [p \in Producers |-> 0]
    /\ sent = [p \in Producers |-> 0]
    /\ cpc = "wait" /\ log = << >> /\ readset = {}

Claim(p) ==
    /\ ppos' = [ppos EXCEPT ![p] = tail]
    /\ tail' = tail + 1
    /\ ppc' = [ppc EXCEPT ![p] = "waitE"]

\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_mp_try_reserve
\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_sp_try_reserve
Reserve(p) ==
    /\ ppc[p] = "idle" /\ sent[p] < M /\ tail < N
    /\ IF ~MP \/ Bug = "no_head_cap"
          THEN Claim(p) /\ UNCHANGED fu
          ELSE IF tail < fu[p]
                  THEN Claim(p) /\ UNCHANGED fu
                  ELSE /\ fu' = [fu EXCEPT ![p] = head + Cap] \* a failed try: retried later
                       /\ UNCHANGED <<tail, ppos, ppc>>
    /\ UNCHANGED <<head, full, empty, slot, sent, cpc, log, readset>>

\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_mp_reserve_wait
\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_sp_reserve_wait
WaitEmpty(p) ==
    /\ ppc[p] = "waitE"
    /\ Passes(empty[Slot(ppos[p])], Xor1(Lap(ppos[p]) % 2))
    /\ ppc' = [ppc EXCEPT ![p] = "write"]
    /\ UNCHANGED <<tail, head, fu, full, empty, slot, ppos, sent, cpc, log, readset>>

\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_slot
Write(p) ==
    /\ ppc[p] = "write"
    /\ slot' = [slot EXCEPT ![Slot(ppos[p])] = [pos |-> ppos[p], who |-> p, idx |-> sent[p]]]
    /\ ppc' = [ppc EXCEPT ![p] = "commit"]
    /\ UNCHANGED <<tail, head, fu, full, empty, ppos, sent, cpc, log, readset>>

\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_commit
Commit(p) ==
    /\ ppc[p] = "commit"
    /\ full' = [full EXCEPT ![Slot(ppos[p])] = @ + 1]
    /\ sent' = [sent EXCEPT ![p] = @ + 1]
    /\ ppc' = [ppc EXCEPT ![p] = IF sent[p] + 1 = M THEN "done" ELSE "idle"]
    /\ UNCHANGED <<tail, head, fu, empty, slot, ppos, cpc, log, readset>>

ConsumerParity == IF Bug = "consumer_parity" THEN Xor1(Lap(head) % 2) ELSE Lap(head) % 2

\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_rx_try_begin
\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_rx_begin_wait
CWait ==
    /\ cpc = "wait" /\ head < N
    /\ Passes(full[Slot(head)], ConsumerParity)
    /\ cpc' = "read"
    /\ UNCHANGED <<tail, head, fu, full, empty, slot, ppc, ppos, sent, log, readset>>

CRead ==
    /\ cpc = "read"
    /\ log' = Append(log, slot[Slot(head)])
    /\ readset' = readset \cup {head}
    /\ cpc' = "free"
    /\ UNCHANGED <<tail, head, fu, full, empty, slot, ppc, ppos, sent>>

\* models: device-lib/cuda/rk_k2k_mbar.cuh rk_k2k_mbar_rx_commit
CFree ==
    /\ cpc = "free"
    /\ empty' = [empty EXCEPT ![Slot(head)] = @ + 1]
    /\ cpc' = "head"
    /\ UNCHANGED <<tail, head, fu, full, slot, ppc, ppos, sent, log, readset>>

CHead ==
    /\ cpc = "head"
    /\ head' = head + 1
    /\ cpc' = IF head + 1 = N THEN "done" ELSE "wait"
    /\ UNCHANGED <<tail, fu, full, empty, slot, ppc, ppos, sent, log, readset>>

Done ==
    /\ cpc = "done" /\ \A p \in Producers : ppc[p] = "done"
    /\ UNCHANGED vars

Next ==
    \/ \E p \in Producers : Reserve(p) \/ WaitEmpty(p) \/ Write(p) \/ Commit(p)
    \/ CWait \/ CRead \/ CFree \/ CHead \/ Done

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

(* The parity waits are never more than one phase apart from their lap.    *)
PhasesInStep == \A s \in Slots : full[s] <= empty[s] + 1 /\ empty[s] <= full[s]
==============================================================================
