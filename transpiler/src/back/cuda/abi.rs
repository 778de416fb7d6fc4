//! The host-visible ABI of generated kernels: the fault record the runtime
//! reads, and the codes in it. The CUDA side is `rk_fault_record` in
//! `transpiler/cuda/rk_rust.cuh`; both sides pin size and offsets.

use crate::ir::CheckKind;

/// `rk_fault_record`: the first fault of a launch, in global memory. Its
/// device pointer is every kernel's hidden last parameter (null is allowed:
/// faulting threads then just stop).
///
/// Protocol: the faulting thread that wins `atomicCAS(&state, 0, 1)` writes
/// the other fields, issues `__threadfence_system()` and sets `state` to
/// [`FaultRecord::PUBLISHED`]. The host zeroes the record before a launch and
/// trusts the fields only once `state` reads `PUBLISHED` (with acquire
/// ordering, or after the launch completed).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultRecord {
    /// [`FaultRecord::EMPTY`], [`FaultRecord::CLAIMED`] or
    /// [`FaultRecord::PUBLISHED`].
    pub state: u32,
    /// A [`FaultKind`] code.
    pub kind: u32,
    /// The Rust source line of the failed check (1-based; 0 if unknown).
    pub line: u32,
    /// The Rust source column (1-based, as rustc's panic messages; 0 if unknown).
    pub column: u32,
    /// `blockIdx` of the faulting thread.
    pub block: [u32; 3],
    /// `threadIdx` of the faulting thread.
    pub thread: [u32; 3],
}

impl FaultRecord {
    pub const EMPTY: u32 = 0;
    pub const CLAIMED: u32 = 1;
    pub const PUBLISHED: u32 = 2;

    /// The kind, when the record is published and the code known.
    pub fn fault_kind(&self) -> Option<FaultKind> {
        if self.state == Self::PUBLISHED {
            FaultKind::from_code(self.kind)
        } else {
            None
        }
    }
}

const _: () = {
    assert!(std::mem::size_of::<FaultRecord>() == 40);
    assert!(std::mem::align_of::<FaultRecord>() == 4);
    assert!(std::mem::offset_of!(FaultRecord, state) == 0);
    assert!(std::mem::offset_of!(FaultRecord, kind) == 4);
    assert!(std::mem::offset_of!(FaultRecord, line) == 8);
    assert!(std::mem::offset_of!(FaultRecord, column) == 12);
    assert!(std::mem::offset_of!(FaultRecord, block) == 16);
    assert!(std::mem::offset_of!(FaultRecord, thread) == 28);
};

/// Why a thread faulted: the `kind` field of [`FaultRecord`], the
/// `RK_FAULT_*` macros of `rk_rust.cuh`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum FaultKind {
    IndexOutOfBounds = 1,
    DivisionByZero = 2,
    Overflow = 3,
    InvalidArgument = 4,
    Explicit = 5,
    /// `ctx.send`/`ctx.try_send` on an unwired port (`rk_actor_send`,
    /// `rk_actor_try_send`).
    Unrouted = 7,
    /// `ctx.send`/`ctx.try_send` to a terminated actor.
    Undeliverable = 8,
}

impl FaultKind {
    pub fn code(self) -> u32 {
        self as u32
    }

    pub fn from_code(code: u32) -> Option<FaultKind> {
        Some(match code {
            1 => FaultKind::IndexOutOfBounds,
            2 => FaultKind::DivisionByZero,
            3 => FaultKind::Overflow,
            4 => FaultKind::InvalidArgument,
            5 => FaultKind::Explicit,
            7 => FaultKind::Unrouted,
            8 => FaultKind::Undeliverable,
            _ => return None,
        })
    }

    /// The macro the generated code uses for this kind.
    pub fn macro_name(self) -> &'static str {
        match self {
            FaultKind::IndexOutOfBounds => "RK_FAULT_INDEX_OUT_OF_BOUNDS",
            FaultKind::DivisionByZero => "RK_FAULT_DIVISION_BY_ZERO",
            FaultKind::Overflow => "RK_FAULT_OVERFLOW",
            FaultKind::InvalidArgument => "RK_FAULT_INVALID_ARGUMENT",
            FaultKind::Explicit => "RK_FAULT_EXPLICIT",
            FaultKind::Unrouted => "RK_FAULT_UNROUTED",
            FaultKind::Undeliverable => "RK_FAULT_UNDELIVERABLE",
        }
    }
}

impl From<CheckKind> for FaultKind {
    fn from(kind: CheckKind) -> Self {
        match kind {
            CheckKind::IndexOutOfBounds => FaultKind::IndexOutOfBounds,
            CheckKind::DivisionByZero => FaultKind::DivisionByZero,
            CheckKind::Overflow => FaultKind::Overflow,
            CheckKind::InvalidArgument => FaultKind::InvalidArgument,
            CheckKind::Explicit => FaultKind::Explicit,
            CheckKind::Unrouted => FaultKind::Unrouted,
            CheckKind::Undeliverable => FaultKind::Undeliverable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header's macros and the Rust codes agree.
    #[test]
    fn fault_kind_macros_match_the_header() {
        let header = super::super::RUST_HEADER.contents;
        for code in [1, 2, 3, 4, 5, 7, 8] {
            let kind = FaultKind::from_code(code).unwrap();
            assert_eq!(kind.code(), code);
            let define = format!("#define {} {}u", kind.macro_name(), code);
            assert!(
                header.contains(&define),
                "missing `{define}` in rk_rust.cuh"
            );
        }
        assert!(FaultKind::from_code(0).is_none());
        assert!(header.contains("static_assert(sizeof(rk_fault_record) == 40"));
    }
}
