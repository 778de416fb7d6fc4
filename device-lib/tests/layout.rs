//! Host and device agree on every shared struct byte for byte.
//!
//! The Rust mirrors pin their own layouts with const assertions, the CUDA
//! headers theirs with static_asserts; this test ties the two together. It
//! generates, from the Rust side (`size_of`, `align_of`, `offset_of!` and
//! the size of every field), a CUDA file of static_asserts about the CUDA
//! structs and constants, and compiles it with NVRTC. A negative case
//! perturbs one offset and must be rejected, so the check cannot pass
//! vacuously. Each struct's field list is also checked to tile the struct
//! exactly, so a Rust field missing from the list would be noticed.

use std::fmt::Write;
use std::mem::{align_of, offset_of, size_of};
use std::path::Path;

use ringkernel_device::control::{
    ActorDesc, ActorFault, ControlBlock, FaultKind, Lifecycle, Route, ROUTE_TIER_DSMEM,
    ROUTE_TIER_GLOBAL, ROUTE_TIER_SHARED,
};
use ringkernel_device::envelope::{flags, EnvelopeHeader, ACTOR_HOST, ENVELOPE_HEADER_SIZE};
use ringkernel_device::hlc::{HlcClock, HlcTimestamp};
use ringkernel_device::k2k::{K2kHeader, K2kLayout, K2K_MAGIC, K2K_SEQ_OFFSET};
use ringkernel_device::ring::{RingHeader, RING_MAGIC, RING_SLOTS_OFFSET, RING_VERSION};
use ringkernel_toolchain::{compile, require_nvrtc, Arch, CompileError, CompileOptions, Target};

/// One struct's layout as the Rust side sees it.
struct StructLayout {
    cuda_name: &'static str,
    size: usize,
    align: usize,
    /// (field name, offset, size), in declaration order.
    fields: Vec<(&'static str, usize, usize)>,
}

fn field_size<T, F>(_: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

macro_rules! layout {
    ($ty:ty => $cuda:literal { $($field:ident),* $(,)? }) => {
        StructLayout {
            cuda_name: $cuda,
            size: size_of::<$ty>(),
            align: align_of::<$ty>(),
            fields: vec![$((
                stringify!($field),
                offset_of!($ty, $field),
                field_size(|s: &$ty| &s.$field),
            )),*],
        }
    };
}

fn shared_structs() -> Vec<StructLayout> {
    vec![
        layout!(HlcTimestamp => "rk_hlc_timestamp" { physical_ns, logical, node }),
        layout!(HlcClock => "rk_hlc_clock" { last, offset_ns }),
        layout!(EnvelopeHeader => "rk_envelope_header" {
            type_id, payload_size, source_actor, dest_actor, correlation_id, sequence, hlc,
            flags, reserved,
        }),
        layout!(RingHeader => "rk_ring_header" {
            tail, tail_pad, head, head_pad, capacity, slot_size, magic, version, ll_words,
            geometry_pad,
        }),
        layout!(ActorFault => "rk_actor_fault" { sequence, kind, file_id, line, column }),
        layout!(ActorDesc => "rk_actor_desc" {
            control, inbox, outbox, state, hlc_offset_ns, actor_id, message_type_id,
            reply_type_id, batch, k2k_inbox, routes, route_count, role, k2k_capacity,
            k2k_slot_size, k2k_credit, k2k_credit_ranks, k2k_credits, k2k_credits_bytes,
        }),
        layout!(Route => "rk_route" {
            inbox, dest_actor, type_id, payload_size, tier, rank, credit, flags, reserved,
        }),
        layout!(ControlBlock => "rk_control_block" {
            state, actor_id, heartbeat, messages_in, messages_out, fault_count, last_fault,
            device_pad, stop_requested, restart_requested, host_pad,
        }),
        layout!(K2kHeader => "rk_k2k_header" {
            tail, tail_pad, head, head_pad, capacity, slot_size, magic, owner_actor,
            geometry_pad,
        }),
    ]
}

/// `(CUDA expression, value)` pairs for every shared constant.
fn shared_constants() -> Vec<(String, u64)> {
    let mut constants: Vec<(String, u64)> = vec![
        (
            "RK_ENVELOPE_HEADER_SIZE".into(),
            ENVELOPE_HEADER_SIZE as u64,
        ),
        ("RK_ACTOR_HOST".into(), ACTOR_HOST.into()),
        ("RK_ENVELOPE_FLAG_REPLY".into(), flags::REPLY.into()),
        ("RK_ENVELOPE_FLAG_FAULT".into(), flags::FAULT.into()),
        ("RK_ENVELOPE_FLAG_CONTROL".into(), flags::CONTROL.into()),
        ("RK_ENVELOPE_FLAG_NO_REPLY".into(), flags::NO_REPLY.into()),
        ("RK_RING_MAGIC".into(), RING_MAGIC.into()),
        ("RK_RING_VERSION".into(), RING_VERSION.into()),
        ("RK_RING_SLOTS_OFFSET".into(), RING_SLOTS_OFFSET as u64),
        ("RK_K2K_MAGIC".into(), K2K_MAGIC.into()),
        ("RK_K2K_SEQ_OFFSET".into(), K2K_SEQ_OFFSET as u64),
        ("RK_ROUTE_TIER_GLOBAL".into(), ROUTE_TIER_GLOBAL.into()),
        ("RK_ROUTE_TIER_DSMEM".into(), ROUTE_TIER_DSMEM.into()),
        ("RK_ROUTE_TIER_SHARED".into(), ROUTE_TIER_SHARED.into()),
    ];
    for state in Lifecycle::ALL {
        constants.push((state.cuda_name().into(), state as u64));
    }
    for kind in FaultKind::ALL {
        constants.push((kind.cuda_name().into(), kind as u64));
    }
    for capacity in [2u32, 4, 8, 16, 64, 1024] {
        let layout = K2kLayout::new(capacity, 64).unwrap();
        constants.push((
            format!("RK_K2K_SLOTS_OFFSET({capacity}u)"),
            layout.slots_offset() as u64,
        ));
    }
    constants
}

fn assertions(structs: &[StructLayout], constants: &[(String, u64)]) -> String {
    let mut cuda = String::from("#include \"ringkernel.cuh\"\n\n");
    for s in structs {
        let name = s.cuda_name;
        writeln!(
            cuda,
            "static_assert(sizeof({name}) == {}, \"{name}: size\");",
            s.size
        )
        .unwrap();
        writeln!(
            cuda,
            "static_assert(alignof({name}) == {}, \"{name}: align\");",
            s.align
        )
        .unwrap();
        for (field, offset, size) in &s.fields {
            writeln!(
                cuda,
                "static_assert(RK_OFFSETOF({name}, {field}) == {offset}, \"{name}.{field}: offset\");"
            )
            .unwrap();
            writeln!(
                cuda,
                "static_assert(sizeof((({name}*)0)->{field}) == {size}, \"{name}.{field}: size\");"
            )
            .unwrap();
        }
        cuda.push('\n');
    }
    for (expr, value) in constants {
        writeln!(
            cuda,
            "static_assert((unsigned long long)({expr}) == {value}ull, \"{}: value\");",
            expr.replace('"', "")
        )
        .unwrap();
    }
    cuda
}

fn options() -> CompileOptions {
    let mut options = CompileOptions::new(Target::Ptx(Arch::SM_90));
    options.include_dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("cuda")
        .to_string_lossy()
        .into_owned()];
    options
}

#[test]
fn field_lists_tile_each_struct_exactly() {
    for s in shared_structs() {
        let mut end = 0;
        for (field, offset, size) in &s.fields {
            assert_eq!(
                *offset, end,
                "{}.{field}: a gap or an unlisted field before it",
                s.cuda_name
            );
            end = offset + size;
        }
        assert_eq!(end, s.size, "{}: fields do not reach the end", s.cuda_name);
    }
}

#[test]
fn cuda_and_rust_layouts_agree_field_by_field() {
    if require_nvrtc("host/device layout comparison").is_none() {
        return;
    }
    let source = assertions(&shared_structs(), &shared_constants());
    let asserts = source.matches("static_assert").count();
    assert!(asserts > 100, "only {asserts} assertions generated");
    if let Err(error) = compile("layout_check.cu", &source, &options()) {
        panic!("host and device disagree:\n{error}\n--- generated source ---\n{source}");
    }
}

#[test]
fn a_wrong_offset_size_or_constant_is_rejected() {
    if require_nvrtc("layout comparison negative case").is_none() {
        return;
    }
    type Perturb = fn(&mut Vec<StructLayout>, &mut Vec<(String, u64)>);
    let cases: [(&str, Perturb); 3] = [
        ("rk_envelope_header.correlation_id: offset", |s, _| {
            let envelope = s
                .iter_mut()
                .find(|s| s.cuda_name == "rk_envelope_header")
                .unwrap();
            envelope
                .fields
                .iter_mut()
                .find(|f| f.0 == "correlation_id")
                .unwrap()
                .1 += 8;
        }),
        ("rk_control_block: size", |s, _| {
            s.iter_mut()
                .find(|s| s.cuda_name == "rk_control_block")
                .unwrap()
                .size = 192;
        }),
        ("RK_STATE_FAILED: value", |_, c| {
            c.iter_mut().find(|c| c.0 == "RK_STATE_FAILED").unwrap().1 = 4;
        }),
    ];
    for (expected, perturb) in cases {
        let (mut structs, mut constants) = (shared_structs(), shared_constants());
        perturb(&mut structs, &mut constants);
        let source = assertions(&structs, &constants);
        match compile("layout_wrong.cu", &source, &options()) {
            Err(CompileError::Rejected { log, .. }) => {
                assert!(log.contains(expected), "expected `{expected}` in:\n{log}");
                assert_eq!(
                    log.matches("static assertion failed").count(),
                    1,
                    "exactly the perturbed assertion fails:\n{log}"
                );
            }
            other => panic!("a perturbed layout ({expected}) was not rejected: {other:?}"),
        }
    }
}
