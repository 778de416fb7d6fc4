// rk_actor.cuh: the persistent actor loop that runs #[ring_kernel] handlers.
//
// Generated code (transpiler/src/back/cuda/actor.rs) defines, per handler, an
// adapter struct H with
//     static constexpr rk_u32 message_size, reply_size, state_size;
//     static __device__ void run(rk_fault_ctx*, void* state, const void* msg, void* reply);
// (`run` is called by every thread of the block; the leader's reply is the
// one written to `reply`) and a __global__ wrapper that calls
// rk_actor_main<H>. The loop implements DESIGN.md section 4 over the
// device-lib protocol headers (rings, control block, HLC):
//
//   leader (thread 0)                         every thread
//   -----------------                         ------------
//   poll the inbox (backoff when idle,
//   stop = drain then exit); validate the
//   envelope, keep its header; HLC receive
//                       --- __syncthreads ---
//                                             copy the payload into shared memory
//                       --- __syncthreads ---
//   free the inbox slot (the host may         run the handler on the shared copy
//   refill it while the handler runs)
//                       --- __syncthreads ---
//   fault?  record it, dead-letter the
//           request, state = Failed (parked
//           until the host restarts or stops it)
//   else    HLC send, write the reply, counters,
//           publish (release); heartbeat
//
// Exactly once: only the leader pops, and every thread runs the handler on
// the message the leader broadcast, so block and grid size do not matter.
// One actor per block: block b serves actors[b]; blocks past actor_count
// return at once.
//
// Dead letters: a request the handler faulted on, or one with the wrong type
// id or size, is published to the outbox with RK_ENVELOPE_FLAG_FAULT, its
// original payload, its correlation id, and the reason in `reserved`
// ([kind, line, column]), so nothing accepted is lost silently.
#ifndef RK_ACTOR_CUH
#define RK_ACTOR_CUH

#ifndef RK_RUST_CUH
#error "include rk_rust.cuh before rk_actor.cuh"
#endif
#include "ringkernel.cuh"

static_assert(RK_ACTOR_FAULT_INDEX_OUT_OF_BOUNDS == RK_FAULT_INDEX_OUT_OF_BOUNDS, "fault codes agree");
static_assert(RK_ACTOR_FAULT_DIVISION_BY_ZERO == RK_FAULT_DIVISION_BY_ZERO, "fault codes agree");
static_assert(RK_ACTOR_FAULT_OVERFLOW == RK_FAULT_OVERFLOW, "fault codes agree");
static_assert(RK_ACTOR_FAULT_INVALID_ARGUMENT == RK_FAULT_INVALID_ARGUMENT, "fault codes agree");
static_assert(RK_ACTOR_FAULT_PANIC == RK_FAULT_EXPLICIT, "fault codes agree");

// What handler code can ask of its actor (RingContext intrinsics), set by the
// leader before each message is broadcast.
struct rk_actor_env {
    rk_u32 actor_id;
    rk_hlc_timestamp received; // the HLC timestamp of the message's receipt
};
static __shared__ rk_actor_env rk_actor;

// Idle backoff: spin this many empty polls, then sleep with exponential
// growth up to RK_ACTOR_MAX_SLEEP_NS. The stop flag is read every
// RK_ACTOR_STOP_POLL empty polls (a PCIe read, so not on every spin).
#define RK_ACTOR_SPIN_POLLS 4096u
#define RK_ACTOR_MAX_SLEEP_NS 20000u
#define RK_ACTOR_STOP_POLL 32u

// Payload bytes rounded up to the 16-byte words the loop copies.
#define RK_ACTOR_WORDS(bytes) (((bytes) + 15u) / 16u)

enum rk_actor_command : rk_u32 {
    RK_ACTOR_RUN = 0,  // a message is in the shared buffer's source slot
    RK_ACTOR_SKIP = 1, // the leader dead-lettered a bad envelope; poll again
    RK_ACTOR_EXIT = 2, // stop: the inbox is drained
};

// 16 bytes from mapped host memory at system scope (never a stale L1 line).
RK_INLINE void rk_actor_load16(const void* src, void* dst) {
    rk_u32 a, b, c, d;
    asm volatile("ld.relaxed.sys.global.v4.b32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(a), "=r"(b), "=r"(c), "=r"(d)
                 : "l"(src)
                 : "memory");
    rk_u32* out = reinterpret_cast<rk_u32*>(dst);
    out[0] = a;
    out[1] = b;
    out[2] = c;
    out[3] = d;
}

// The leader's private loop state (registers).
struct rk_actor_leader {
    rk_ring inbox;
    rk_ring outbox;
    rk_hlc_clock clock;
    rk_u64 heartbeat;
    rk_u64 messages_in;
    rk_u64 messages_out;
    rk_u64 sequence;     // replies and dead letters this actor issued
    rk_u32 restarts_seen;
    bool failed;
};

// Publishes an envelope built by `fill` into the outbox, waiting for space
// (backpressure: the host drains the outbox; nothing is overwritten).
RK_INLINE rk_envelope_header* rk_actor_outbox_slot(rk_actor_leader* l, rk_control_block* cb) {
    rk_envelope_header* slot;
    rk_u32 sleep = 32u;
    while ((slot = rk_ring_try_push_begin(&l->outbox)) == nullptr) {
        rk_control_heartbeat(cb, ++l->heartbeat);
        rk_nanosleep(sleep);
        sleep = sleep < RK_ACTOR_MAX_SLEEP_NS ? sleep * 2u : sleep;
    }
    return slot;
}

// Writes `words` 16-byte words from `src` (shared) to `dst` (mapped).
RK_INLINE void rk_actor_store_words(void* dst, const void* src, rk_u32 words) {
    const rk_u32* in = reinterpret_cast<const rk_u32*>(src);
    volatile rk_u32* out = reinterpret_cast<volatile rk_u32*>(dst);
    for (rk_u32 i = 0; i < words * 4u; ++i) {
        out[i] = in[i];
    }
}

// Dead-letters a request: the original header (correlation id, sequence)
// and `payload_words` of payload, flagged FAULT, the reason in `reserved`.
RK_INLINE void rk_actor_dead_letter(rk_actor_leader* l, const rk_actor_desc* d,
                                    const rk_envelope_header* request, const void* payload,
                                    rk_u32 payload_bytes, rk_u32 kind, rk_u32 line, rk_u32 column) {
    rk_envelope_header* slot = rk_actor_outbox_slot(l, d->control);
    rk_u32 room = l->outbox.slot_size - RK_ENVELOPE_HEADER_SIZE;
    rk_u32 bytes = payload_bytes < room ? payload_bytes : room;
    rk_hlc_timestamp t = rk_hlc_send(&l->clock, rk_hlc_physical_now(&l->clock));
    slot->type_id = request->type_id;
    slot->payload_size = bytes;
    slot->source_actor = d->actor_id;
    slot->dest_actor = request->source_actor;
    slot->correlation_id = request->correlation_id;
    slot->sequence = request->sequence;
    slot->hlc = t;
    slot->flags = RK_ENVELOPE_FLAG_FAULT | RK_ENVELOPE_FLAG_REPLY;
    slot->reserved[0] = kind;
    slot->reserved[1] = line;
    slot->reserved[2] = column;
    rk_actor_store_words(rk_envelope_payload(slot), payload, bytes / 16u);
    const unsigned char* tail_in = reinterpret_cast<const unsigned char*>(payload) + (bytes & ~15u);
    unsigned char* tail_out = rk_envelope_payload(slot) + (bytes & ~15u);
    for (rk_u32 i = 0; i < (bytes & 15u); ++i) {
        tail_out[i] = tail_in[i];
    }
    rk_control_set_counters(d->control, l->messages_in, l->messages_out);
    rk_ring_push_commit(&l->outbox);
}

// The leader's wait for the next message. Returns the command to broadcast;
// for RK_ACTOR_RUN, *env is the inbox slot (still owned by the consumer).
template <typename H>
__device__ __noinline__ rk_u32 rk_actor_poll(rk_actor_leader* l, const rk_actor_desc* d,
                                             rk_envelope_header** env) {
    rk_control_block* cb = d->control;
    rk_u32 empty = 0u;
    rk_u32 sleep = 32u;
    for (;;) {
        if (l->failed) {
            // Parked after a fault: the host resets the state, then bumps
            // restart_requested (or asks to stop). Messages stay queued.
            if (rk_control_stop_requested(cb)) {
                return RK_ACTOR_EXIT;
            }
            rk_u32 restart = rk_control_restart_requested(cb);
            if (restart != l->restarts_seen) {
                l->restarts_seen = restart;
                l->failed = false;
                rk_control_set_state(cb, RK_STATE_ACTIVE);
                continue;
            }
            rk_control_heartbeat(cb, ++l->heartbeat);
            rk_nanosleep(RK_ACTOR_MAX_SLEEP_NS);
            continue;
        }
        rk_envelope_header* slot = rk_ring_try_pop_begin(&l->inbox);
        if (slot != nullptr) {
            *env = slot;
            return RK_ACTOR_RUN;
        }
        ++empty;
        if (empty % RK_ACTOR_STOP_POLL == 0u && rk_control_stop_requested(cb)) {
            // The host publishes every message before it asks to stop, so
            // one more look at the tail (acquire) sees all of them.
            slot = rk_ring_try_pop_begin(&l->inbox);
            if (slot != nullptr) {
                *env = slot;
                return RK_ACTOR_RUN;
            }
            return RK_ACTOR_EXIT;
        }
        if (empty % 256u == 0u) {
            rk_control_heartbeat(cb, ++l->heartbeat);
        }
        if (empty > RK_ACTOR_SPIN_POLLS) {
            rk_nanosleep(sleep);
            sleep = sleep < RK_ACTOR_MAX_SLEEP_NS ? sleep * 2u : sleep;
        }
    }
}

template <typename H>
__device__ __forceinline__ void rk_actor_main(const rk_actor_desc* actors, rk_u32 actor_count) {
    if (blockIdx.x >= actor_count) {
        return;
    }
    constexpr rk_u32 msg_words = RK_ACTOR_WORDS(H::message_size);
    constexpr rk_u32 reply_words = RK_ACTOR_WORDS(H::reply_size);
    __shared__ alignas(16) unsigned char msg_buf[msg_words * 16u];
    __shared__ alignas(16) unsigned char reply_buf[(reply_words > 0u ? reply_words : 1u) * 16u];
    __shared__ rk_fault_record fault;
    __shared__ rk_u32 command;
    __shared__ const unsigned char* payload;

    const rk_actor_desc* d = &actors[blockIdx.x];
    const bool leader = rk_thread_id() == 0u;
    const rk_u32 threads = rk_block_threads();
    rk_actor_leader l;
    rk_envelope_header* env = nullptr;
    rk_envelope_header req; // the leader's copy of the request's header
    if (leader) {
        rk_control_block* cb = d->control;
        rk_control_set_state(cb, RK_STATE_INITIALIZING);
        rk_ring_attach_consumer(&l.inbox, d->inbox);
        rk_ring_attach_producer(&l.outbox, d->outbox);
        l.clock.last.physical_ns = 0u;
        l.clock.last.logical = 0u;
        l.clock.last.node = d->actor_id;
        l.clock.offset_ns = d->hlc_offset_ns;
        l.heartbeat = rk_ld_relaxed_sys_u64(&cb->heartbeat);
        l.messages_in = rk_ld_relaxed_sys_u64(&cb->messages_in);
        l.messages_out = rk_ld_relaxed_sys_u64(&cb->messages_out);
        l.sequence = l.messages_out;
        l.restarts_seen = rk_control_restart_requested(cb);
        l.failed = false;
        rk_actor.actor_id = d->actor_id;
        bool geometry_ok = l.inbox.slot_size >= RK_ENVELOPE_HEADER_SIZE + msg_words * 16u &&
                           l.outbox.slot_size >= RK_ENVELOPE_HEADER_SIZE + reply_words * 16u;
        if (!geometry_ok) {
            // The host sized the rings for another actor: refuse to run.
            rk_control_record_fault(cb, RK_ACTOR_FAULT_BAD_MESSAGE, 0u, 0u, 0u, 0u);
            rk_control_set_state(cb, RK_STATE_FAILED);
            command = RK_ACTOR_EXIT;
        } else {
            rk_control_set_state(cb, RK_STATE_ACTIVE);
            command = RK_ACTOR_SKIP;
        }
    }
    __syncthreads();
    const rk_u32 start = command;
    __syncthreads(); // everyone has read `command` before the leader polls
    if (start == RK_ACTOR_EXIT) {
        return;
    }
    for (;;) {
        if (leader) {
            command = rk_actor_poll<H>(&l, d, &env);
            if (command == RK_ACTOR_RUN) {
                l.messages_in += 1u;
                if (env->type_id != d->message_type_id || env->payload_size != H::message_size) {
                    // Not this actor's message: dead-letter it, keep running.
                    rk_u32 bytes = env->payload_size;
                    rk_u32 room = l.inbox.slot_size - RK_ENVELOPE_HEADER_SIZE;
                    rk_actor_dead_letter(&l, d, env, rk_envelope_payload(env), bytes < room ? bytes : room,
                                         RK_ACTOR_FAULT_BAD_MESSAGE, 0u, 0u);
                    rk_ring_pop_commit(&l.inbox);
                    command = RK_ACTOR_SKIP;
                } else {
                    req = *env;
                    rk_actor.received = rk_hlc_receive(&l.clock, &req.hlc, rk_hlc_physical_now(&l.clock));
                    payload = rk_envelope_payload(env);
                    fault.state = 0u;
                }
            }
        }
        __syncthreads();
        const rk_u32 cmd = command;
        if (cmd == RK_ACTOR_EXIT) {
            break;
        }
        if (cmd == RK_ACTOR_SKIP) {
            __syncthreads(); // the leader rewrites `command` only after everyone read it
            continue;
        }
        for (rk_u32 i = rk_thread_id(); i < msg_words; i += threads) {
            rk_actor_load16(payload + 16u * i, msg_buf + 16u * i);
        }
        __syncthreads();
        if (leader) {
            rk_ring_pop_commit(&l.inbox);
        }
        rk_fault_ctx f = rk_fault_ctx_new(&fault);
        H::run(&f, d->state, msg_buf, reply_buf);
        __syncthreads();
        if (leader) {
            rk_control_block* cb = d->control;
            if (fault.state != 0u) {
                // Fault record and Failed state first: the dead letter's
                // release store publishes them with it, so a host that sees
                // the dead letter sees the actor Failed.
                rk_control_record_fault(cb, fault.kind, 0u, fault.line, fault.column, req.sequence);
                l.failed = true;
                rk_control_set_state(cb, RK_STATE_FAILED);
                rk_actor_dead_letter(&l, d, &req, msg_buf, H::message_size, fault.kind, fault.line,
                                     fault.column);
            } else {
                if (H::reply_size > 0u) {
                    rk_envelope_header* slot = rk_actor_outbox_slot(&l, cb);
                    rk_hlc_timestamp t = rk_hlc_send(&l.clock, rk_hlc_physical_now(&l.clock));
                    slot->type_id = d->reply_type_id;
                    slot->payload_size = H::reply_size;
                    slot->source_actor = d->actor_id;
                    slot->dest_actor = req.source_actor;
                    slot->correlation_id = req.correlation_id;
                    slot->sequence = ++l.sequence;
                    slot->hlc = t;
                    slot->flags = RK_ENVELOPE_FLAG_REPLY;
                    slot->reserved[0] = 0u;
                    slot->reserved[1] = 0u;
                    slot->reserved[2] = 0u;
                    rk_actor_store_words(rk_envelope_payload(slot), reply_buf, reply_words);
                    l.messages_out += 1u;
                    rk_control_set_counters(cb, l.messages_in, l.messages_out);
                    rk_ring_push_commit(&l.outbox);
                } else {
                    rk_control_set_counters(cb, l.messages_in, l.messages_out);
                }
            }
            rk_control_heartbeat(cb, ++l.heartbeat);
        }
    }
    if (leader) {
        rk_control_set_counters(d->control, l.messages_in, l.messages_out);
        rk_control_set_state(d->control, RK_STATE_TERMINATED);
    }
}

#endif // RK_ACTOR_CUH
