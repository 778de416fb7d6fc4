// rk_control.cuh: the per-actor control block.
//
// The host's window onto a running actor: lifecycle state, a heartbeat the
// watchdog checks for hangs, message counters, the fault count and the last
// fault with its Rust source location, and the stop request the host sets.
// It lives where both sides can reach it (mapped pinned host memory, or
// device memory read by copy), so every access is at system scope. Fields
// the device writes and the field the host writes sit on different 128-byte
// lines.
//
// Hot fields (heartbeat, counters) are stored, not incremented: the device
// keeps the running values in registers and stores them, so the message loop
// never reads back over PCIe. Store the counters before publishing the reply
// they account for; the ring's release store then makes them visible with it.
#ifndef RK_CONTROL_CUH
#define RK_CONTROL_CUH

#include "rk_types.cuh"
#include "rk_sync.cuh"
#include "rk_ring.cuh"

// Lifecycle states (rk_control_block::state).
enum rk_lifecycle : rk_u32 {
    RK_STATE_DORMANT = 0,      // allocated, not yet started
    RK_STATE_INITIALIZING = 1, // the kernel is attaching rings and state
    RK_STATE_ACTIVE = 2,       // processing messages
    RK_STATE_DRAINING = 3,     // stop requested: finishing the inbox
    RK_STATE_TERMINATED = 4,   // stopped cleanly
    RK_STATE_FAILED = 5,       // a handler faulted; see last_fault
};

// Fault kinds (rk_actor_fault::kind). Codes 1-5 are the codes of the
// transpiler's rk_rust.cuh (RK_FAULT_*), which the actor loop copies from the
// handler's fault record; rk_actor.cuh asserts that they agree.
enum rk_actor_fault_kind : rk_u32 {
    RK_ACTOR_FAULT_NONE = 0,
    RK_ACTOR_FAULT_INDEX_OUT_OF_BOUNDS = 1, // index out of bounds
    RK_ACTOR_FAULT_DIVISION_BY_ZERO = 2,    // division or remainder by zero (or MIN / -1)
    RK_ACTOR_FAULT_OVERFLOW = 3,            // overflow (add, sub, mul, neg, shift) with checks on
    RK_ACTOR_FAULT_INVALID_ARGUMENT = 4,    // an intrinsic's argument out of its domain
    RK_ACTOR_FAULT_PANIC = 5,               // panic!, assert!, unreachable!
    RK_ACTOR_FAULT_BAD_MESSAGE = 6,         // wrong type id or payload size for this actor
    RK_ACTOR_FAULT_UNROUTED = 7,            // ctx.send on a port the host wired to no actor
    RK_ACTOR_FAULT_UNDELIVERABLE = 8,       // ctx.send to an actor that has terminated
};

// A fault and where it happened in the user's Rust source.
struct rk_actor_fault {
    rk_u64 sequence; // envelope sequence number of the faulting message
    rk_u32 kind;     // rk_actor_fault_kind
    rk_u32 file_id;  // index into the module's source-file table
    rk_u32 line;     // 1-based Rust line
    rk_u32 column;   // 1-based Rust column
};

RK_ASSERT_SIZE(rk_actor_fault, 24);
RK_ASSERT_OFFSET(rk_actor_fault, sequence, 0);
RK_ASSERT_OFFSET(rk_actor_fault, kind, 8);
RK_ASSERT_OFFSET(rk_actor_fault, file_id, 12);
RK_ASSERT_OFFSET(rk_actor_fault, line, 16);
RK_ASSERT_OFFSET(rk_actor_fault, column, 20);

struct alignas(128) rk_control_block {
    // line 0: written by the device only
    rk_u32 state;           // rk_lifecycle
    rk_u32 actor_id;        // written by the host before launch
    rk_u64 heartbeat;       // grows while the actor's loop runs
    rk_u64 messages_in;     // messages taken from the inbox
    rk_u64 messages_out;    // replies published to the outbox
    rk_u64 fault_count;     // faults recorded; stored after last_fault
    rk_actor_fault last_fault;
    rk_u8 device_pad[64];
    // line 1: written by the host only
    rk_u32 stop_requested;  // nonzero: drain the inbox, then terminate
    rk_u32 restart_requested; // a counter: each increment restarts a Failed actor
    rk_u8 host_pad[120];
};

RK_ASSERT_SIZE(rk_control_block, 256);
RK_ASSERT_OFFSET(rk_control_block, state, 0);
RK_ASSERT_OFFSET(rk_control_block, actor_id, 4);
RK_ASSERT_OFFSET(rk_control_block, heartbeat, 8);
RK_ASSERT_OFFSET(rk_control_block, messages_in, 16);
RK_ASSERT_OFFSET(rk_control_block, messages_out, 24);
RK_ASSERT_OFFSET(rk_control_block, fault_count, 32);
RK_ASSERT_OFFSET(rk_control_block, last_fault, 40);
RK_ASSERT_OFFSET(rk_control_block, stop_requested, 128);
RK_ASSERT_OFFSET(rk_control_block, restart_requested, 132);
static_assert(alignof(rk_control_block) == 128, "rk_control_block is line-aligned");

// Publishes a new lifecycle state (release: everything the actor wrote
// before, e.g. the fault record, is visible to a host that sees the state).
RK_DEVICE void rk_control_set_state(rk_control_block* cb, rk_u32 state) {
    rk_st_release_sys_u32(&cb->state, state);
}

RK_DEVICE rk_u32 rk_control_state(const rk_control_block* cb) {
    return rk_ld_acquire_sys_u32(&cb->state);
}

// Stores the heartbeat value the loop keeps in a register (bump it, then call).
RK_DEVICE void rk_control_heartbeat(rk_control_block* cb, rk_u64 beat) {
    rk_st_relaxed_sys_u64(&cb->heartbeat, beat);
}

// Stores the message counters the loop keeps in registers.
RK_DEVICE void rk_control_set_counters(rk_control_block* cb, rk_u64 messages_in,
                                       rk_u64 messages_out) {
    rk_st_relaxed_sys_u64(&cb->messages_in, messages_in);
    rk_st_relaxed_sys_u64(&cb->messages_out, messages_out);
}

// Records a fault: writes last_fault, then publishes fault_count + 1 with a
// release store, so a host that reads fault_count (acquire) and sees the new
// count reads the complete record. Faults are rare, so reading fault_count
// back over PCIe here is fine. Only the actor's leader thread calls this.
RK_DEVICE void rk_control_record_fault(rk_control_block* cb, rk_u32 kind, rk_u32 file_id,
                                       rk_u32 line, rk_u32 column, rk_u64 sequence) {
    rk_u64 count = rk_ld_relaxed_sys_u64(&cb->fault_count);
    rk_st_relaxed_sys_u64(&cb->last_fault.sequence, sequence);
    rk_st_relaxed_sys_u32(&cb->last_fault.kind, kind);
    rk_st_relaxed_sys_u32(&cb->last_fault.file_id, file_id);
    rk_st_relaxed_sys_u32(&cb->last_fault.line, line);
    rk_st_relaxed_sys_u32(&cb->last_fault.column, column);
    rk_st_release_sys_u64(&cb->fault_count, count + 1u);
}

// The host's restart counter (acquire): when it differs from the value the
// actor last acted on, a Failed actor resumes from the state the host reset.
RK_DEVICE rk_u32 rk_control_restart_requested(const rk_control_block* cb) {
    return rk_ld_acquire_sys_u32(&cb->restart_requested);
}

// Whether the host asked the actor to stop (acquire).
RK_DEVICE bool rk_control_stop_requested(const rk_control_block* cb) {
    return rk_ld_acquire_sys_u32(&cb->stop_requested) != 0u;
}

// Where a handler's `ctx.send(port, &msg)` goes: entry `port` of its actor's
// route table, built by the host from the system's wiring and placement.
// A port with no route has a null inbox: the send faults (UNROUTED), it
// never writes anywhere.
//
// `inbox` by tier: GLOBAL, the inbox's device address; DSMEM, its byte
// offset from the start of the destination block's dynamic shared memory
// (the host cannot know a shared-memory address; the sender maps
// `rk_actor_dynamic + offset` into block `rank` of its cluster with mapa).
struct rk_route {
    void* inbox;         // the destination's K2K inbox (rk_k2k_header), or null
    rk_u32 dest_actor;   // the destination's actor id
    rk_u32 type_id;      // the type id the destination accepts
    rk_u32 payload_size; // the destination's message size
    rk_u32 tier;         // RK_ROUTE_TIER_*
    rk_u32 rank;         // DSMEM: the destination block's rank in the cluster
    rk_u32 credit;       // DSMEM, SHARED: the byte offset of the inbox's credit array
                         // (rk_k2k_mbar's empty barriers) in the sender's own block
    rk_u32 flags;        // RK_ROUTE_SOLE_PRODUCER, or 0
    rk_u32 reserved;     // 0
};

RK_ASSERT_SIZE(rk_route, 40);
RK_ASSERT_OFFSET(rk_route, inbox, 0);
RK_ASSERT_OFFSET(rk_route, dest_actor, 8);
RK_ASSERT_OFFSET(rk_route, type_id, 12);
RK_ASSERT_OFFSET(rk_route, payload_size, 16);
RK_ASSERT_OFFSET(rk_route, tier, 20);
RK_ASSERT_OFFSET(rk_route, rank, 24);
RK_ASSERT_OFFSET(rk_route, credit, 28);
RK_ASSERT_OFFSET(rk_route, flags, 32);
RK_ASSERT_OFFSET(rk_route, reserved, 36);

// rk_route::flags: this route is the only one into its destination's inbox
// (one sending actor, one port; the host's wiring says so), so its sender's
// leader is the inbox's only producer thread: it takes positions by its own
// count and announces each on tail (rk_actor_send_to) instead of claiming
// it with a CAS.
#define RK_ROUTE_SOLE_PRODUCER 1u

// Delivery tiers (rk_route::tier).
#define RK_ROUTE_TIER_GLOBAL 0u  // the inbox is in device global memory (.gpu scope)
#define RK_ROUTE_TIER_DSMEM 1u   // the inbox is in the shared memory of a block of the
                                 // sender's cluster (.cluster scope, through mapa)
#define RK_ROUTE_TIER_SHARED 2u  // the inbox is in the sender's own block's shared
                                 // memory (warp actors of one block, .cta scope)

// What the host gives the persistent kernel for each actor it runs: one
// entry per block, in an array in device memory (the kernel's first
// parameter). Written once before launch; the kernel only reads it.
struct rk_actor_desc {
    rk_control_block* control; // mapped pinned host memory
    rk_ring_header* inbox;     // host -> actor ring (mapped pinned)
    rk_ring_header* outbox;    // actor -> host ring (mapped pinned)
    void* state;               // the actor's state in device memory; null when stateless
    rk_i64 hlc_offset_ns;      // host time minus %globaltimer, calibrated at launch
    rk_u32 actor_id;           // also the HLC node id
    rk_u32 message_type_id;    // the type id every request must carry
    rk_u32 reply_type_id;      // the type id replies carry
    rk_u32 batch;              // messages staged per poll (0: the handler's default)
    void* k2k_inbox;           // actor -> actor inbox (rk_k2k_header), or null: its device
                               // address, or in a cluster-placed system its byte offset
                               // in this block's dynamic shared memory (rk_route::inbox)
    const rk_route* routes;    // route table, indexed by port (device memory), or null
    rk_u32 route_count;        // entries in `routes`
    rk_u32 role;               // which handler of a system kernel runs this actor
    rk_u32 k2k_capacity;       // the K2K inbox's slots and slot size: what a block lays
    rk_u32 k2k_slot_size;      // its shared-memory inbox out with (0 without one)
    // The shared-memory tiers (block and cluster placements), whose inboxes
    // are rk_k2k_mbar's: byte offsets in the dynamic shared memory; 0 in
    // the global tier.
    rk_u32 k2k_credit;         // this inbox's credit array (its empty barriers), 0 without one
    rk_u32 k2k_credit_ranks;   // cluster: the ranks holding a copy of it (its senders'); 0 (block)
    rk_u32 k2k_credits;        // the system's credit arrays, one run (8-byte aligned) ...
    rk_u32 k2k_credits_bytes;  // ... of this many bytes; a cluster block lays all of it out
};

RK_ASSERT_SIZE(rk_actor_desc, 104);
RK_ASSERT_OFFSET(rk_actor_desc, control, 0);
RK_ASSERT_OFFSET(rk_actor_desc, inbox, 8);
RK_ASSERT_OFFSET(rk_actor_desc, outbox, 16);
RK_ASSERT_OFFSET(rk_actor_desc, state, 24);
RK_ASSERT_OFFSET(rk_actor_desc, hlc_offset_ns, 32);
RK_ASSERT_OFFSET(rk_actor_desc, actor_id, 40);
RK_ASSERT_OFFSET(rk_actor_desc, message_type_id, 44);
RK_ASSERT_OFFSET(rk_actor_desc, reply_type_id, 48);
RK_ASSERT_OFFSET(rk_actor_desc, batch, 52);
RK_ASSERT_OFFSET(rk_actor_desc, k2k_inbox, 56);
RK_ASSERT_OFFSET(rk_actor_desc, routes, 64);
RK_ASSERT_OFFSET(rk_actor_desc, route_count, 72);
RK_ASSERT_OFFSET(rk_actor_desc, role, 76);
RK_ASSERT_OFFSET(rk_actor_desc, k2k_capacity, 80);
RK_ASSERT_OFFSET(rk_actor_desc, k2k_slot_size, 84);
RK_ASSERT_OFFSET(rk_actor_desc, k2k_credit, 88);
RK_ASSERT_OFFSET(rk_actor_desc, k2k_credit_ranks, 92);
RK_ASSERT_OFFSET(rk_actor_desc, k2k_credits, 96);
RK_ASSERT_OFFSET(rk_actor_desc, k2k_credits_bytes, 100);

#endif // RK_CONTROL_CUH
