-------------------------------- MODULE K2kLl --------------------------------
(***************************************************************************)
(* The low-latency K2K inbox (device-lib/cuda/rk_k2k_ll.cuh): every word   *)
(* of a slot carries its own flag, Flag(pos) = pos + 1, beside its data.   *)
(*                                                                         *)
(* Cap slots of W words; position p lives in slot p % Cap.  Every word     *)
(* starts as <<0, Empty>>.                                                 *)
(*   producer: reserve - when tail < its credit (free_until), claim tail   *)
(*                       (the CAS; a failed CAS returns the real tail and  *)
(*                       is retried, so only the real tail is claimed);    *)
(*                       when tail >= free_until, re-read head:            *)
(*                       free_until = head + Cap (still full: the reserve  *)
(*                       fails, backpressure);                             *)
(*             write   - W word stores <<Flag(pos), message>>, in ANY      *)
(*                       order, each one step (8-byte stores are atomic,   *)
(*                       nothing orders them among themselves);            *)
(*   consumer: look    - W word loads of slot(head), in any order, each    *)
(*                       one step, interleaved with everything else;       *)
(*             decide  - every loaded flag = Flag(head): take the data;    *)
(*                       otherwise look again;                             *)
(*             commit  - head = head + 1 (after the loads have returned:   *)
(*                       the dependency argument of rk_k2k_ll_consume).    *)
(*                                                                         *)
(* Planted bugs (Bug):                                                     *)
(*   "lap_flag"        Flag(pos) = pos \div Cap, the lap alone: lap 0's    *)
(*                     flag is the initial 0, so an unwritten slot looks   *)
(*                     written (NoReadBeforeWrite);                        *)
(*   "first_word_only" the consumer checks word 1's flag only: a message  *)
(*                     whose other words have not landed is taken torn     *)
(*                     (NoReadBeforeWrite).                                *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    Producers,  \* producer ids (model values)
    Cap,        \* slots
    M,          \* messages per producer
    W,          \* words per message
    Bug         \* "none", "lap_flag" or "first_word_only"

ASSUME Cap \in Nat \ {0} /\ M \in Nat /\ W \in Nat \ {0}
ASSUME Bug \in {"none", "lap_flag", "first_word_only"}

Empty == <<"empty", 0>>
Msgs == Producers \X (1 .. M)
Total == Cardinality(Producers) * M
Words == 1 .. W

Flag(p) == IF Bug = "lap_flag" THEN p \div Cap ELSE p + 1
Slot(i) == i % Cap

VARIABLES
    mem,     \* mem[s][w] = <<flag, message>>
    tail,    \* shared claim counter (CAS)
    head,    \* consumer's position, in memory (the consumer's own copy is the same)
    pc,      \* pc[p]: "idle" or "write"
    pos,     \* pos[p]: the position producer p claimed
    fu,      \* fu[p]: producer p's credit, free_until
    k,       \* k[p]: producer p's next message index (M + 1 when done)
    wrote,   \* wrote[p]: the words of its message p has stored
    cpc,     \* consumer: "look" or "commit"
    loaded,  \* loaded[w]: the value the consumer's load of word w returned
    looked,  \* the words whose loads have returned this look
    owner,   \* ghost: owner[i] = the message claimed at position i - 1
    recv     \* ghost: the messages taken, in order

vars == <<mem, tail, head, pc, pos, fu, k, wrote, cpc, loaded, looked, owner, recv>>

Init ==
    /\ mem = [s \in 0 .. Cap - 1 |-> [w \in Words |-> <<0, Empty>>]]
    /\ tail = 0
    /\ head = 0
    /\ pc = [p \in Producers |-> "idle"]
    /\ pos = [p \in Producers |-> 0]
    /\ fu = [p \in Producers |-> Cap]
    /\ k = [p \in Producers |-> 1]
    /\ wrote = [p \in Producers |-> {}]
    /\ cpc = "look"
    /\ loaded = [w \in Words |-> <<0, Empty>>]
    /\ looked = {}
    /\ owner = <<>>
    /\ recv = <<>>

\* models: device-lib/cuda/rk_k2k_ll.cuh rk_k2k_ll_mp_try_reserve
Reserve(p) ==
    /\ pc[p] = "idle" /\ k[p] <= M
    /\ tail < fu[p]
    /\ pos' = [pos EXCEPT ![p] = tail]
    /\ tail' = tail + 1
    /\ owner' = Append(owner, <<p, k[p]>>)
    /\ pc' = [pc EXCEPT ![p] = "write"]
    /\ wrote' = [wrote EXCEPT ![p] = {}]
    /\ UNCHANGED <<mem, head, fu, k, cpc, loaded, looked, recv>>

\* models: device-lib/cuda/rk_k2k_ll.cuh rk_k2k_ll_mp_try_reserve
\* The credit refresh: re-read head.
RefreshCredit(p) ==
    /\ pc[p] = "idle" /\ k[p] <= M
    /\ tail >= fu[p]
    /\ fu[p] # head + Cap
    /\ fu' = [fu EXCEPT ![p] = head + Cap]
    /\ UNCHANGED <<mem, tail, head, pc, pos, k, wrote, cpc, loaded, looked, owner, recv>>

\* models: device-lib/cuda/rk_k2k_ll.cuh rk_k2k_ll_put
WriteWord(p, w) ==
    /\ pc[p] = "write" /\ w \notin wrote[p]
    /\ mem' = [mem EXCEPT ![Slot(pos[p])][w] = <<Flag(pos[p]), <<p, k[p]>>>>]
    /\ IF wrote[p] \cup {w} = Words
         THEN /\ pc' = [pc EXCEPT ![p] = "idle"]
              /\ k' = [k EXCEPT ![p] = k[p] + 1]
              /\ wrote' = [wrote EXCEPT ![p] = {}]
         ELSE /\ wrote' = [wrote EXCEPT ![p] = wrote[p] \cup {w}]
              /\ UNCHANGED <<pc, k>>
    /\ UNCHANGED <<tail, head, pos, fu, cpc, loaded, looked, owner, recv>>

\* models: device-lib/cuda/rk_k2k_ll.cuh rk_k2k_ll_look
\* One lane's load.
LoadWord(w) ==
    /\ cpc = "look" /\ head < Total /\ w \notin looked
    /\ loaded' = [loaded EXCEPT ![w] = mem[Slot(head)][w]]
    /\ looked' = looked \cup {w}
    /\ UNCHANGED <<mem, tail, head, pc, pos, fu, k, wrote, cpc, owner, recv>>

Checked == IF Bug = "first_word_only" THEN {1} ELSE Words

\* models: device-lib/cuda/rk_k2k_ll.cuh rk_k2k_ll_look
\* The vote over every loaded flag.
Decide ==
    /\ cpc = "look" /\ looked = Words
    /\ IF \A w \in Checked : loaded[w][1] = Flag(head)
         THEN cpc' = "commit"
         ELSE cpc' = "look"
    /\ looked' = {}
    /\ UNCHANGED <<mem, tail, head, pc, pos, fu, k, wrote, loaded, owner, recv>>

\* models: device-lib/cuda/rk_k2k_ll.cuh rk_k2k_ll_consume
Consume ==
    /\ cpc = "commit"
    /\ head' = head + 1
    /\ recv' = Append(recv, loaded[1][2])
    /\ cpc' = "look"
    /\ UNCHANGED <<mem, tail, pc, pos, fu, k, wrote, loaded, looked, owner>>

Done ==
    /\ \A p \in Producers : k[p] = M + 1
    /\ head = Total
    /\ UNCHANGED vars

Next ==
    \/ \E p \in Producers : Reserve(p) \/ RefreshCredit(p) \/ \E w \in Words : WriteWord(p, w)
    \/ \E w \in Words : LoadWord(w)
    \/ Decide \/ Consume \/ Done

Spec == Init /\ [][Next]_vars

(* ---------------------------- properties ------------------------------- *)

TypeOK ==
    /\ head \in 0 .. Total /\ tail \in 0 .. Total /\ head <= tail
    /\ Len(owner) = tail
    /\ cpc \in {"look", "commit"}

\* The consumer takes only the message claimed at its position, every word
\* of it written: never an unwritten, stale or torn slot.
NoReadBeforeWrite ==
    cpc = "commit" => /\ head < Len(owner)
                      /\ \A w \in Words : loaded[w] = <<Flag(head), owner[head + 1]>>

\* Nothing lost, duplicated or reordered: the i-th taken message is the one
\* claimed at position i - 1.
NoLoss == \A i \in 1 .. Len(recv) : recv[i] = owner[i]

\* Backpressure, never overwrite.
NoOverwrite == tail - head <= Cap
=============================================================================
