//! Where a system's actors run, and so which tier their K2K messages take
//! (DESIGN.md §4): [`Placement::Gpu`], one block per actor anywhere on the
//! device, inboxes in global memory; [`Placement::Cluster`], the whole
//! system one thread-block cluster (Hopper), each inbox in its receiver's
//! block's shared memory, reached by the other blocks over DSMEM.
//!
//! The route table is built from the placement ([`route_table`]): every
//! route of a cluster-placed system has tier DSMEM and the destination's
//! cluster rank (its block, which is its index: the cluster is the grid).
//! The checks a placement needs before anything is allocated or launched
//! are pure functions of numbers the driver reports ([`check_cluster_fit`],
//! [`cluster_shared_layout`]), so they are unit-tested without a device;
//! the GPU start feeds them the driver's answers.

use ringkernel_device::control::{
    Route, ROUTE_SOLE_PRODUCER, ROUTE_TIER_DSMEM, ROUTE_TIER_GLOBAL, ROUTE_TIER_SHARED,
};
use ringkernel_device::k2k::K2kLayout;

use crate::cuda::MAX_PORTABLE_CLUSTER;

/// Where the actors of a system run ([`super::SystemBuilder::placement`]).
/// The CPU backend accepts every placement and runs the same protocol
/// (the tier is a GPU detail), with the same actor-count limit, so a suite
/// runs unchanged on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Placement {
    /// One block per actor, anywhere on the device; K2K inboxes in device
    /// global memory (`.gpu` scope). Any number of actors.
    #[default]
    Gpu,
    /// The whole system is one thread-block cluster (compute capability
    /// 9.0+), one block per actor; each receiving actor's K2K inbox lives
    /// in its block's shared memory, after the staging area, and senders
    /// write it over DSMEM (`mapa`, `.cluster` scope). At most
    /// [`MAX_PORTABLE_CLUSTER`] actors, or up to [`MAX_CLUSTER`] where the
    /// driver allows a non-portable cluster of that size for this kernel.
    Cluster,
    /// The whole system is one block of warp actors (every actor a
    /// `#[ring_kernel(warps = 1)]` handler, one warp each, at most
    /// [`MAX_BLOCK_ACTORS`]); each receiving actor's K2K inbox lives in that
    /// block's shared memory after every warp's staging slice, and senders
    /// write it directly (`.cta` scope): the shared-memory tier.
    Block,
}

/// The most warp actors one block-placed system holds (a block of 256
/// threads: `MAX_PACK` warps).
pub const MAX_BLOCK_ACTORS: u32 = ringkernel_transpiler::back::cuda::MAX_PACK;

/// The most blocks any device puts in one cluster (Hopper's non-portable
/// limit); more actors never fit a cluster.
pub const MAX_CLUSTER: u32 = 16;

/// Why a system cannot run with the placement it asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    /// More actors than one cluster can hold.
    #[error(
        "a cluster-placed system has one block per actor, and {actors} actors do not fit one \
         thread-block cluster: {limit} is the most {why}; use fewer actors or Placement::Gpu"
    )]
    TooManyActors {
        actors: u32,
        limit: u32,
        why: ClusterLimit,
    },
    /// The device has no thread-block clusters.
    #[error(
        "Placement::Cluster needs thread-block clusters (compute capability 9.0 or newer); \
         the device is {}.{}",
        arch.0,
        arch.1
    )]
    NoClusters { arch: (u32, u32) },
    /// A block-placed system on a device older than Hopper.
    #[error(
        "Placement::Block hands K2K messages over with mbarriers (compute capability 9.0 or \
         newer); the device is {}.{}; use Placement::Gpu",
        arch.0,
        arch.1
    )]
    NoMbarriers { arch: (u32, u32) },
    /// More warp actors than one block holds.
    #[error(
        "a block-placed system is one block of warp actors, one warp each, and {actors} actors do \
         not fit: a block holds {limit}; use fewer actors"
    )]
    TooManyWarpActors { actors: u32, limit: u32 },
    /// A block actor in a block-placed system.
    #[error(
        "actor {actor} (`{kernel}`) is a block actor, and a block-placed system is one block of \
         warp actors: give `{kernel}` `#[ring_kernel(warps = 1)]`, or use Placement::Gpu"
    )]
    NotWarpActor { actor: u32, kernel: String },
    /// A warp actor in a system placed one block (or cluster block) per actor.
    #[error(
        "actor {actor} (`{kernel}`) is a warp actor (`#[ring_kernel(warps = 1)]`), and only \
         Placement::Block packs warp actors into a block; use Placement::Block, or drop \
         `warps = 1`"
    )]
    WarpActorNeedsBlock { actor: u32, kernel: String },
    /// The staging area and the K2K inboxes do not fit a block's shared
    /// memory.
    #[error(
        "a cluster- or block-placed system keeps each K2K inbox in shared memory: the staging \
         area ({staging} bytes) and inboxes (with their credit barriers) of {inbox} bytes need \
         {needed} bytes of dynamic shared memory, the kernel can have {available}; lower \
         k2k_capacity"
    )]
    SharedMemory {
        staging: u64,
        inbox: u64,
        needed: u64,
        available: u64,
    },
}

/// What bounded a cluster's size, for [`PlacementError::TooManyActors`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterLimit {
    /// The portable cluster size (the CPU backend has no device to ask,
    /// so it holds a system to what every cluster-capable GPU runs).
    Portable,
    /// The most any device allows.
    Hardware,
    /// The driver's `cuOccupancyMaxPotentialClusterSize` for this kernel,
    /// block and shared memory on this device.
    Driver,
}

impl std::fmt::Display for ClusterLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ClusterLimit::Portable => "a portable cluster holds",
            ClusterLimit::Hardware => "any device puts in one cluster",
            ClusterLimit::Driver => {
                "the driver can co-schedule in one cluster for this kernel's block and shared memory"
            }
        })
    }
}

/// The actor count against the cluster limits: `driver_limit` is the
/// driver's largest cluster for this kernel (GPU), `None` on the CPU
/// backend, which holds a system to the portable size.
pub fn check_cluster_fit(actors: u32, driver_limit: Option<u32>) -> Result<(), PlacementError> {
    let (limit, why) = if actors > MAX_CLUSTER {
        (MAX_CLUSTER, ClusterLimit::Hardware)
    } else {
        match driver_limit {
            Some(limit) => (limit, ClusterLimit::Driver),
            None => (MAX_PORTABLE_CLUSTER as u32, ClusterLimit::Portable),
        }
    };
    if actors > limit {
        return Err(PlacementError::TooManyActors { actors, limit, why });
    }
    Ok(())
}

/// Bytes a K2K inbox in shared memory is aligned to (`RK_LINE`).
const INBOX_ALIGN: u64 = 128;

/// Bytes of an inbox's credit array: one 8-byte mbarrier per slot
/// (`RK_K2K_MBAR_CREDIT_BYTES`).
fn credit_bytes(layout: &K2kLayout) -> u64 {
    u64::from(layout.capacity()) * 8
}

/// Where a shared-memory tier's K2K inboxes go in the dynamic shared
/// memory (the same offsets in every block of a cluster): each receiver's
/// inbox (`rk_k2k_mbar`: header, full barriers, slots), then one run of
/// credit arrays, one per receiver (its empty barriers: in a cluster every
/// block keeps a copy at the same offset, since `mapa` maps by offset, and
/// a sender waits on its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedLayout {
    /// Each actor's inbox offset (0: none).
    pub inboxes: Vec<u64>,
    /// Each actor's credit array offset (0: none), inside the run.
    pub credits: Vec<u64>,
    /// The run of credit arrays: its offset (on a line) ...
    pub credit_run: u64,
    /// ... and bytes (0 when no actor has an inbox).
    pub credit_run_bytes: u64,
    /// The dynamic shared memory a block needs.
    pub bytes: u64,
}

/// The credit run from `start`, one array per inbox, in actor order: the
/// arrays' offsets (0: none) and the run's end.
fn credit_run(start: u64, inboxes: &[Option<K2kLayout>]) -> (Vec<u64>, u64) {
    let mut end = start;
    let credits = inboxes
        .iter()
        .map(|inbox| match inbox {
            Some(l) => {
                let at = end;
                end += credit_bytes(l);
                at
            }
            None => 0,
        })
        .collect();
    (credits, end)
}

/// Where the K2K inboxes of a cluster-placed system go in each block's
/// dynamic shared memory: at one offset in every block, the largest
/// staging area rounded up to a line, then (after the largest inbox, on a
/// line) the credit run, the same in every block. Returns the layout, or
/// the error when it exceeds `available` (the kernel's opt-in maximum less
/// its static shared memory).
pub fn cluster_shared_layout(
    staging: u64,
    inboxes: &[Option<K2kLayout>],
    available: u64,
) -> Result<SharedLayout, PlacementError> {
    let offset = staging.next_multiple_of(INBOX_ALIGN);
    let inbox = inboxes
        .iter()
        .flatten()
        .map(|l| l.bytes() as u64)
        .max()
        .unwrap_or(0);
    if inbox == 0 {
        if staging > available {
            return Err(PlacementError::SharedMemory {
                staging,
                inbox: 0,
                needed: staging,
                available,
            });
        }
        return Ok(SharedLayout {
            inboxes: vec![0; inboxes.len()],
            credits: vec![0; inboxes.len()],
            credit_run: 0,
            credit_run_bytes: 0,
            bytes: staging,
        });
    }
    let run = (offset + inbox).next_multiple_of(INBOX_ALIGN);
    let (credits, needed) = credit_run(run, inboxes);
    if needed > available {
        return Err(PlacementError::SharedMemory {
            staging,
            inbox: needed - staging,
            needed,
            available,
        });
    }
    Ok(SharedLayout {
        inboxes: inboxes
            .iter()
            .map(|i| if i.is_some() { offset } else { 0 })
            .collect(),
        credits,
        credit_run: run,
        credit_run_bytes: needed - run,
        bytes: needed,
    })
}

/// Where the K2K inboxes of a block-placed system go in its block's dynamic
/// shared memory: after the `actors` warps' staging slices of `stride`
/// bytes each, one after another, each on a line, then the credit run on a
/// line. Returns the layout, or the error when it exceeds `available`.
pub fn block_shared_layout(
    stride: u64,
    inboxes: &[Option<K2kLayout>],
    available: u64,
) -> Result<SharedLayout, PlacementError> {
    let staging = stride * inboxes.len() as u64;
    let mut end = staging;
    let mut offsets = Vec::with_capacity(inboxes.len());
    for inbox in inboxes {
        match inbox {
            Some(l) => {
                let offset = end.next_multiple_of(INBOX_ALIGN);
                offsets.push(offset);
                end = offset + l.bytes() as u64;
            }
            None => offsets.push(0),
        }
    }
    let any = inboxes.iter().any(Option::is_some);
    let run = if any {
        end.next_multiple_of(INBOX_ALIGN)
    } else {
        0
    };
    let (credits, run_end) = credit_run(run, inboxes);
    let needed = if any { run_end } else { end };
    if needed > available {
        return Err(PlacementError::SharedMemory {
            staging,
            inbox: needed - staging,
            needed,
            available,
        });
    }
    Ok(SharedLayout {
        inboxes: offsets,
        credits,
        credit_run: run,
        credit_run_bytes: if any { run_end - run } else { 0 },
        bytes: needed,
    })
}

/// Cluster placement: for each actor, the ranks (bit r: block r) that send
/// to it, and so hold a copy of its credit array the consumer arrives on.
pub(crate) fn credit_ranks(links: &[Link], actors: usize) -> Vec<u32> {
    let mut ranks = vec![0u32; actors];
    for l in links {
        ranks[l.to] |= 1 << l.from;
    }
    ranks
}

/// A system's wire from port `port` of actor `from` to actor `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Link {
    pub from: usize,
    pub port: u32,
    pub to: usize,
}

/// What a route needs of its destination actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RouteDest {
    pub type_id: u32,
    pub payload_size: u32,
}

/// Actor `from`'s route table, indexed by port: for each wired port the
/// destination, its type id and message size, the tier and rank the
/// placement gives, and [`ROUTE_SOLE_PRODUCER`] when the link is the only
/// one into its destination (`None` for ports nothing is wired to). Where
/// the inbox is, is the backend's part (`inbox` is left 0).
pub(crate) fn route_table(
    links: &[Link],
    dests: &[RouteDest],
    from: usize,
    placement: Placement,
) -> Vec<Option<Route>> {
    // Only the sending actor's leader thread sends, so a destination with
    // one link in has one producer thread: its sender may skip the claim's
    // CAS (rk_actor_send_to). Two ports of one sender into one inbox are
    // two links: each port keeps its own count, so neither is sole.
    let links_into = |to: usize| links.iter().filter(|l| l.to == to).count();
    let links: Vec<&Link> = links.iter().filter(|l| l.from == from).collect();
    let Some(len) = links.iter().map(|l| l.port + 1).max() else {
        return Vec::new();
    };
    let mut table = vec![None; len as usize];
    for l in links {
        let dest = dests[l.to];
        let (tier, rank) = match placement {
            Placement::Gpu => (ROUTE_TIER_GLOBAL, 0),
            // The cluster is the grid, one block per actor in order: the
            // destination's block, and so its rank, is its index.
            Placement::Cluster => (ROUTE_TIER_DSMEM, l.to as u32),
            // One block: the destination is another warp of the sender's.
            Placement::Block => (ROUTE_TIER_SHARED, 0),
        };
        table[l.port as usize] = Some(Route {
            inbox: 0,
            dest_actor: l.to as u32,
            type_id: dest.type_id,
            payload_size: dest.payload_size,
            tier,
            rank,
            credit: 0,
            flags: if links_into(l.to) == 1 {
                ROUTE_SOLE_PRODUCER
            } else {
                0
            },
            reserved: 0,
        });
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dests() -> Vec<RouteDest> {
        (0..4)
            .map(|i| RouteDest {
                type_id: 100 + i,
                payload_size: 16 * (i + 1),
            })
            .collect()
    }

    const LINKS: [Link; 4] = [
        Link {
            from: 1,
            port: 0,
            to: 0,
        },
        Link {
            from: 1,
            port: 2,
            to: 3,
        },
        Link {
            from: 2,
            port: 0,
            to: 0,
        },
        Link {
            from: 3,
            port: 1,
            to: 2,
        },
    ];

    #[test]
    fn gpu_routes_are_global_tier() {
        let table = route_table(&LINKS, &dests(), 1, Placement::Gpu);
        assert_eq!(table.len(), 3, "ports 0..=2");
        let r0 = table[0].unwrap();
        assert_eq!(
            (r0.tier, r0.rank, r0.dest_actor, r0.type_id, r0.payload_size),
            (ROUTE_TIER_GLOBAL, 0, 0, 100, 16)
        );
        assert_eq!(table[1], None, "port 1 is not wired");
        let r2 = table[2].unwrap();
        assert_eq!(
            (r2.tier, r2.dest_actor, r2.type_id),
            (ROUTE_TIER_GLOBAL, 3, 103)
        );
    }

    #[test]
    fn cluster_routes_are_dsmem_with_the_destination_rank() {
        for from in 0..4 {
            let table = route_table(&LINKS, &dests(), from, Placement::Cluster);
            for (port, route) in table.iter().enumerate() {
                let Some(r) = route else { continue };
                let link = LINKS
                    .iter()
                    .find(|l| l.from == from && l.port as usize == port)
                    .unwrap();
                assert_eq!(r.tier, ROUTE_TIER_DSMEM);
                assert_eq!(r.rank, link.to as u32, "rank = the destination's block");
                assert_eq!(r.dest_actor, link.to as u32);
                assert_eq!(r.inbox, 0, "the backend fills the inbox in");
            }
        }
        let table = route_table(&LINKS, &dests(), 3, Placement::Cluster);
        assert_eq!(table.len(), 2);
        assert_eq!(table[0], None);
        assert_eq!(table[1].unwrap().rank, 2);
        assert!(route_table(&LINKS, &dests(), 0, Placement::Cluster).is_empty());
    }

    #[test]
    fn block_routes_are_shared_tier_in_the_one_block() {
        for from in 0..4 {
            for (port, route) in route_table(&LINKS, &dests(), from, Placement::Block)
                .iter()
                .enumerate()
            {
                let Some(r) = route else { continue };
                let link = LINKS
                    .iter()
                    .find(|l| l.from == from && l.port as usize == port)
                    .unwrap();
                assert_eq!(r.tier, ROUTE_TIER_SHARED);
                assert_eq!(r.rank, 0, "every actor is a warp of the one block");
                assert_eq!(r.dest_actor, link.to as u32);
                assert_eq!(r.inbox, 0, "the backend fills the inbox in");
            }
        }
    }

    /// A route is its destination's sole producer exactly when no other
    /// link (another actor's, or another port of the same actor) goes
    /// into that destination, whatever the placement.
    #[test]
    fn a_route_is_sole_only_when_nothing_else_goes_into_its_destination() {
        for placement in [Placement::Gpu, Placement::Cluster, Placement::Block] {
            let sole = |from: usize, port: usize| {
                route_table(&LINKS, &dests(), from, placement)[port]
                    .unwrap()
                    .flags
                    == ROUTE_SOLE_PRODUCER
            };
            assert!(!sole(1, 0), "actor 0 hears from actors 1 and 2");
            assert!(!sole(2, 0), "actor 0 hears from actors 1 and 2");
            assert!(sole(1, 2), "only actor 1 sends to actor 3");
            assert!(sole(3, 1), "only actor 3 sends to actor 2");
            let same_sender_twice = [
                Link {
                    from: 0,
                    port: 0,
                    to: 1,
                },
                Link {
                    from: 0,
                    port: 1,
                    to: 1,
                },
            ];
            let table = route_table(&same_sender_twice, &dests(), 0, placement);
            assert!(
                table.iter().all(|r| r.unwrap().flags == 0),
                "two ports into one inbox count their positions apart: neither is sole"
            );
        }
    }

    /// Inboxes follow the warps' slices, each on a 128-byte line, in actor
    /// order, then the credit run on a line (one array of 8 bytes per slot
    /// per inbox); actors without one take no room; too much is an error
    /// that says how much was needed.
    #[test]
    fn block_inboxes_follow_every_slice_on_lines() {
        let small = K2kLayout::new(4, 128).unwrap();
        let big = K2kLayout::new(16, 128).unwrap();
        let l = block_shared_layout(1000, &[Some(small), None, Some(big)], 1 << 20).unwrap();
        assert_eq!(l.inboxes[0], 3072, "3 slices of 1000 bytes, on a line");
        assert_eq!(l.inboxes[1], 0);
        let after_small = 3072 + small.bytes() as u64;
        assert_eq!(l.inboxes[2], after_small.next_multiple_of(128));
        let run = (l.inboxes[2] + big.bytes() as u64).next_multiple_of(128);
        assert_eq!(l.credit_run, run);
        assert_eq!(l.credits, vec![run, 0, run + 4 * 8]);
        assert_eq!(l.credit_run_bytes, (4 + 16) * 8);
        assert_eq!(l.bytes, run + (4 + 16) * 8);
        // No inbox: the slices alone.
        assert_eq!(
            block_shared_layout(1000, &[None, None], 2000),
            Ok(SharedLayout {
                inboxes: vec![0, 0],
                credits: vec![0, 0],
                credit_run: 0,
                credit_run_bytes: 0,
                bytes: 2000
            })
        );
        let bytes = l.bytes;
        let e = block_shared_layout(1000, &[Some(small), None, Some(big)], bytes - 1).unwrap_err();
        assert_eq!(
            e,
            PlacementError::SharedMemory {
                staging: 3000,
                inbox: bytes - 3000,
                needed: bytes,
                available: bytes - 1
            }
        );
    }

    /// The ranks that hold a copy of each inbox's credit array: its senders.
    #[test]
    fn credit_ranks_are_the_senders() {
        assert_eq!(credit_ranks(&LINKS, 4), vec![0b0110, 0, 0b1000, 0b0010]);
    }

    #[test]
    fn cluster_size_limits() {
        // CPU: the portable 8.
        assert_eq!(check_cluster_fit(8, None), Ok(()));
        let e = check_cluster_fit(9, None).unwrap_err();
        assert_eq!(
            e,
            PlacementError::TooManyActors {
                actors: 9,
                limit: 8,
                why: ClusterLimit::Portable
            }
        );
        assert!(e.to_string().contains("9 actors do not fit"), "{e}");
        assert!(
            e.to_string()
                .contains("8 is the most a portable cluster holds"),
            "{e}"
        );
        // GPU: what the driver says, up to 16.
        assert_eq!(check_cluster_fit(12, Some(16)), Ok(()));
        assert_eq!(
            check_cluster_fit(12, Some(8)),
            Err(PlacementError::TooManyActors {
                actors: 12,
                limit: 8,
                why: ClusterLimit::Driver
            })
        );
        assert_eq!(
            check_cluster_fit(17, Some(32)),
            Err(PlacementError::TooManyActors {
                actors: 17,
                limit: 16,
                why: ClusterLimit::Hardware
            })
        );
        assert_eq!(
            check_cluster_fit(129, None),
            Err(PlacementError::TooManyActors {
                actors: 129,
                limit: 16,
                why: ClusterLimit::Hardware
            })
        );
    }

    #[test]
    fn inboxes_go_after_the_largest_staging_area_on_a_line() {
        let small = K2kLayout::new(8, 128).unwrap();
        let big = K2kLayout::new(256, 128).unwrap();
        let l = cluster_shared_layout(1000, &[None, Some(small), Some(big)], 1 << 20).unwrap();
        assert_eq!(l.inboxes, vec![0, 1024, 1024]);
        // Every block's credit run after the largest inbox, on a line: an
        // array per inbox, at the same offsets in every block.
        let run = (1024 + big.bytes() as u64).next_multiple_of(128);
        assert_eq!(l.credit_run, run);
        assert_eq!(l.credits, vec![0, run, run + 8 * 8]);
        assert_eq!(l.credit_run_bytes, (8 + 256) * 8);
        assert_eq!(l.bytes, run + (8 + 256) * 8);
        // No receiver: no inbox, just the staging area.
        assert_eq!(
            cluster_shared_layout(1000, &[None, None], 1000),
            Ok(SharedLayout {
                inboxes: vec![0, 0],
                credits: vec![0, 0],
                credit_run: 0,
                credit_run_bytes: 0,
                bytes: 1000
            })
        );
        // An aligned staging area is not moved.
        assert_eq!(
            cluster_shared_layout(1024, &[Some(small)], 1 << 20)
                .unwrap()
                .inboxes,
            vec![1024]
        );
    }

    #[test]
    fn inboxes_that_do_not_fit_shared_memory_are_an_error() {
        let big = K2kLayout::new(4096, 128).unwrap();
        let available = 227 * 1024;
        let e = cluster_shared_layout(5000, &[Some(big)], available).unwrap_err();
        let needed = (5120 + big.bytes() as u64).next_multiple_of(128) + 4096 * 8;
        assert_eq!(
            e,
            PlacementError::SharedMemory {
                staging: 5000,
                inbox: needed - 5000,
                needed,
                available,
            }
        );
        assert!(e.to_string().contains("lower k2k_capacity"), "{e}");
    }
}
