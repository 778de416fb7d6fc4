//! The CUDA headers as text, for NVRTC.
//!
//! NVRTC compiles from strings and knows no include path but the ones it is
//! given, and a deployed program may not have this crate's source tree
//! around. So the headers are compiled into the crate with `include_str!`:
//! the runtime passes [`HEADERS`] to NVRTC as named headers, or writes them
//! into an include directory with [`write_include_dir`]; the module cache
//! keys on [`fingerprint`] so that a header change invalidates cached PTX.
//! Generated code includes exactly one of them, [`RINGKERNEL_CUH`].

use std::io;
use std::path::Path;

/// `rk_types.cuh`: fixed-width types and layout-assertion macros.
pub const RK_TYPES_CUH: &str = include_str!("../cuda/rk_types.cuh");
/// `rk_sync.cuh`: acquire/release loads and stores at each scope (inline
/// PTX), `%globaltimer`, `nanosleep`.
pub const RK_SYNC_CUH: &str = include_str!("../cuda/rk_sync.cuh");
/// `rk_envelope.cuh`: the 64-byte envelope header and HLC timestamp.
pub const RK_ENVELOPE_CUH: &str = include_str!("../cuda/rk_envelope.cuh");
/// `rk_ring.cuh`: the host↔device SPSC ring, device side.
pub const RK_RING_CUH: &str = include_str!("../cuda/rk_ring.cuh");
/// `rk_control.cuh`: the per-actor control block.
pub const RK_CONTROL_CUH: &str = include_str!("../cuda/rk_control.cuh");
/// `rk_hlc.cuh`: the hybrid logical clock.
pub const RK_HLC_CUH: &str = include_str!("../cuda/rk_hlc.cuh");
/// `rk_k2k.cuh`: multi-producer K2K inboxes.
pub const RK_K2K_CUH: &str = include_str!("../cuda/rk_k2k.cuh");
/// `rk_k2k_ll.cuh`: low-latency K2K inboxes (flagged words, NCCL's LL).
pub const RK_K2K_LL_CUH: &str = include_str!("../cuda/rk_k2k_ll.cuh");
/// `rk_k2k_mbar.cuh`: K2K inboxes in shared memory and DSMEM handed over
/// with mbarriers (sm_90+; racecheck sees the handoffs).
pub const RK_K2K_MBAR_CUH: &str = include_str!("../cuda/rk_k2k_mbar.cuh");
/// `ringkernel.cuh`: includes all of the above.
pub const RINGKERNEL_CUH: &str = include_str!("../cuda/ringkernel.cuh");

/// The name generated code uses: `#include "ringkernel.cuh"`.
pub const MAIN_HEADER: &str = "ringkernel.cuh";

/// Every header as `(include name, contents)`, dependencies first.
pub const HEADERS: &[(&str, &str)] = &[
    ("rk_types.cuh", RK_TYPES_CUH),
    ("rk_sync.cuh", RK_SYNC_CUH),
    ("rk_envelope.cuh", RK_ENVELOPE_CUH),
    ("rk_ring.cuh", RK_RING_CUH),
    ("rk_control.cuh", RK_CONTROL_CUH),
    ("rk_hlc.cuh", RK_HLC_CUH),
    ("rk_k2k.cuh", RK_K2K_CUH),
    ("rk_k2k_ll.cuh", RK_K2K_LL_CUH),
    ("rk_k2k_mbar.cuh", RK_K2K_MBAR_CUH),
    ("ringkernel.cuh", RINGKERNEL_CUH),
];

/// Writes every header into `dir` (created if missing), for NVRTC's
/// `--include-path`. Files whose contents already match are not rewritten.
pub fn write_include_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in HEADERS {
        let path = dir.join(name);
        if std::fs::read(&path).ok().as_deref() != Some(text.as_bytes()) {
            std::fs::write(&path, text)?;
        }
    }
    Ok(())
}

/// A stable 64-bit FNV-1a hash of every header's name and contents, for
/// cache keys. It changes whenever any header does.
pub fn fingerprint() -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, text) in HEADERS {
        for byte in name.bytes().chain([0]).chain(text.bytes()).chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_list_is_every_file_in_cuda_dir() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cuda");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".cuh"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = HEADERS.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "HEADERS must list every header in cuda/");
    }

    #[test]
    fn headers_include_only_each_other() {
        for (name, text) in HEADERS {
            for line in text
                .lines()
                .filter(|l| l.trim_start().starts_with("#include"))
            {
                let included = line
                    .split('"')
                    .nth(1)
                    .unwrap_or_else(|| panic!("{name}: system include `{line}`"));
                assert!(
                    HEADERS.iter().any(|(n, _)| *n == included),
                    "{name} includes {included}, which is not a device-lib header"
                );
            }
        }
    }

    #[test]
    fn write_include_dir_round_trips() {
        let dir = std::env::temp_dir().join(format!("rk-headers-{}", std::process::id()));
        write_include_dir(&dir).unwrap();
        for (name, text) in HEADERS {
            assert_eq!(std::fs::read_to_string(dir.join(name)).unwrap(), *text);
        }
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(fingerprint(), fingerprint());
        assert_ne!(fingerprint(), 0xcbf2_9ce4_8422_2325);
    }
}
