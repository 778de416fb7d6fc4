//! Starting a system on the GPU: one launch of the system kernel (the
//! transpiler's `compose_system`, a role per handler), its K2K inboxes and
//! route tables in device memory, or in the blocks' shared memory for the
//! cluster and block placements.

use ringkernel_transpiler::back::cuda::system::SystemOutput;

use super::*;

impl SystemBuilder<'_> {
    /// The system kernel for this builder's actors and placement, as
    /// `start_gpu` compiles and launches it (and [`cuda_source`] hands out):
    /// one role per distinct handler, in order of first appearance, composed
    /// for the placement's tier under the symbol `rk_system_`,
    /// `rk_cluster_system_` or `rk_block_system_` followed by the roles'
    /// handler names joined by `_`.
    ///
    /// [`cuda_source`]: SystemBuilder::cuda_source
    pub(super) fn compose(&self) -> Result<ComposedSystem> {
        // Roles: one per distinct handler, in order of first appearance. A
        // prepared module (memoised by content) can hold several handlers,
        // so a handler is its module and its name.
        let keys: Vec<(usize, &str)> = self
            .members
            .iter()
            .map(|m| (Arc::as_ptr(&m.prepared) as usize, m.kernel.name.as_str()))
            .collect();
        let (role_of, role_members) = assign_roles(&keys);
        let roles: Vec<SystemRole<'_>> = role_members
            .iter()
            .map(|&i| SystemRole {
                output: &self.members[i].prepared.transpiled.cuda,
                kernel: &self.members[i].kernel.name,
            })
            .collect();
        let names: Vec<&str> = roles.iter().map(|r| r.kernel).collect();
        let (prefix, tier) = match self.placement {
            Placement::Cluster => ("rk_cluster_system", K2kTier::Cluster),
            Placement::Block => ("rk_block_system", K2kTier::Block),
            _ => ("rk_system", K2kTier::Global),
        };
        let symbol = format!("{prefix}_{}", names.join("_"));
        let system = compose_system_tiered(&symbol, &roles, tier).map_err(|e| {
            Error::Actor(ActorError::Wiring {
                problem: e.to_string(),
            })
        })?;
        let mut cuda = CudaSource::from_system(&symbol, &system);
        crate::cuda::compile::push_actor_trace_option(&mut cuda.options);
        Ok(ComposedSystem {
            symbol,
            system,
            role_of,
            cuda,
        })
    }

    /// One launch of the system kernel; K2K inboxes and route tables in
    /// device memory.
    pub(super) fn start_gpu(
        &self,
        buffers: Vec<MappedBuffer>,
        k2k_layouts: &[Option<K2kLayout>],
    ) -> Result<Vec<Box<dyn ActorDriver>>> {
        let rt = self.rt;
        let cluster = self.placement == Placement::Cluster;
        let block_placed = self.placement == Placement::Block;
        if cluster {
            crate::actor::gpu::cluster_precheck(rt, self.members.len() as u32)?;
        }
        if block_placed {
            crate::actor::gpu::block_precheck(rt)?;
        }
        let ComposedSystem {
            symbol,
            system,
            role_of,
            cuda,
        } = self.compose()?;
        let (module, _) = rt.load_module(&cuda)?;
        let function = module.function(&symbol)?;
        let offset = GpuLaunch::hlc_offset(rt)?;

        let mut staging_bytes = self
            .members
            .iter()
            .map(|m| m.abi.staging_bytes(m.abi.batch))
            .max()
            .unwrap_or(0);
        // Cluster placement: the driver's limits, and the inboxes after
        // the staging area in every block's shared memory, then the credit
        // run (every block's copies of each inbox's empty barriers).
        let mut cluster_blocks = None;
        let shared = if cluster {
            let shape = crate::actor::gpu::cluster_shape(
                rt,
                &function,
                system.block,
                self.members.len() as u32,
                staging_bytes,
                k2k_layouts,
            )?;
            cluster_blocks = Some(shape.max_blocks);
            Some(shape.layout)
        } else if block_placed {
            // Block placement: every warp's slice, then each inbox on a
            // line, then the credit run.
            Some(crate::actor::gpu::block_shape(
                rt,
                &function,
                system.warp_stride,
                k2k_layouts,
            )?)
        } else {
            None
        };
        if let Some(shared) = &shared {
            staging_bytes = shared.bytes;
        }
        // Cluster: the consumer of inbox i returns its slots to every block
        // that sends to it (each keeps a copy of its credit array).
        let ranks = if cluster {
            credit_ranks(&self.links, self.members.len())
        } else {
            vec![0; self.members.len()]
        };
        let credits: Vec<K2kCredits> = (0..self.members.len())
            .map(|id| match &shared {
                Some(shared) => K2kCredits {
                    credit: shared.credits[id] as u32,
                    ranks: ranks[id],
                    run: shared.credit_run as u32,
                    run_bytes: shared.credit_run_bytes as u32,
                },
                None => K2kCredits::default(),
            })
            .collect();

        // K2K inboxes, then route tables (which point at them): device
        // memory with the initial image, or (shared tiers) the offset in
        // the block's shared memory, where the actor lays the inbox out.
        let mut keep = Vec::new();
        let mut inbox_ptrs = Vec::new();
        for (id, layout) in k2k_layouts.iter().enumerate() {
            match (layout, &shared) {
                (Some(_), Some(shared)) => inbox_ptrs.push(shared.inboxes[id]),
                (Some(layout), None) => {
                    let buffer = rt.upload(&layout.initial_image(id as u32))?;
                    inbox_ptrs.push(buffer.device_ptr().unwrap_or(0));
                    keep.push(buffer);
                }
                (None, _) => inbox_ptrs.push(0),
            }
        }
        let mut route_ptrs = Vec::new();
        for i in 0..self.members.len() {
            let table: Vec<Route> = self
                .routes(i)
                .into_iter()
                .map(|r| {
                    r.map_or(Route::default(), |r| Route {
                        inbox: inbox_ptrs[r.dest_actor as usize],
                        credit: credits[r.dest_actor as usize].credit,
                        ..r
                    })
                })
                .collect();
            if table.is_empty() {
                route_ptrs.push((0, 0));
                continue;
            }
            let bytes: Vec<u8> = table.iter().flat_map(route_bytes).collect();
            let buffer = rt.upload(&bytes)?;
            route_ptrs.push((buffer.device_ptr().unwrap_or(0), table.len() as u32));
            keep.push(buffer);
        }
        let actors = self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| GpuActor {
                buffer: &buffers[i],
                layout: m.layout,
                state: &m.state,
                actor_id: i as u32,
                message_type_id: m.options.message_type_id,
                reply_type_id: m.options.reply_type_id,
                batch: m.abi.batch,
                role: role_of[i],
                k2k_inbox: inbox_ptrs[i],
                k2k_capacity: k2k_layouts[i].map_or(0, |l| l.capacity()),
                k2k_slot_size: k2k_layouts[i].map_or(0, |l| l.slot_size()),
                k2k_credits: credits[i],
                routes: route_ptrs[i].0,
                route_count: route_ptrs[i].1,
            })
            .collect();
        // Block placement: one block of a warp per actor.
        let members = self.members.len() as u32;
        let (block, actors_per_block) = if block_placed {
            ([32 * members, 1, 1], members)
        } else {
            (system.block, 1)
        };
        let launch = GpuLaunch::launch(
            rt,
            GpuLaunchSpec {
                module,
                function,
                block,
                staging_bytes,
                cluster: cluster_blocks,
                actors_per_block,
                hlc_offset_ns: offset,
                actors,
            },
            keep,
        )?;
        launch.keep_buffers(buffers);
        Ok((0..self.members.len() as u32)
            .map(|id| Box::new(launch.driver(id)) as Box<dyn ActorDriver>)
            .collect())
    }
}

/// A system kernel composed for the GPU ([`SystemBuilder::compose`]).
pub(super) struct ComposedSystem {
    /// The dispatching entry's symbol (also `cuda`'s name).
    pub(super) symbol: String,
    pub(super) system: SystemOutput,
    /// Each member's role (its index in the system's roles).
    pub(super) role_of: Vec<u32>,
    /// The kernel as the runtime compiles it: the composition's source,
    /// headers and options, the device library, the loop trace's options.
    pub(super) cuda: CudaSource,
}

/// Each member's role and each role's first member, for members keyed by
/// (module, handler name): members running the same handler share a role.
fn assign_roles(keys: &[(usize, &str)]) -> (Vec<u32>, Vec<usize>) {
    let mut role_of = Vec::with_capacity(keys.len());
    let mut role_members: Vec<usize> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let role = match role_members.iter().position(|&r| keys[r] == *key) {
            Some(role) => role,
            None => {
                role_members.push(i);
                role_members.len() - 1
            }
        };
        role_of.push(role as u32);
    }
    (role_of, role_members)
}

fn route_bytes(r: &Route) -> [u8; size_of::<Route>()] {
    let mut b = [0u8; size_of::<Route>()];
    // SAFETY: Route is repr(C) with no padding (its layout assertions).
    unsafe {
        std::ptr::copy_nonoverlapping((r as *const Route).cast::<u8>(), b.as_mut_ptr(), b.len())
    };
    b
}

#[cfg(test)]
mod tests {
    use super::assign_roles;

    /// Two handlers of one module are two roles (the GPU ran the first
    /// handler for both when roles were keyed by module alone).
    #[test]
    fn roles_are_per_handler_not_per_module() {
        let keys = [
            (1, "collect"),
            (1, "forward"),
            (1, "forward"),
            (2, "forward"),
        ];
        let (role_of, firsts) = assign_roles(&keys);
        assert_eq!(role_of, [0, 1, 1, 2]);
        assert_eq!(firsts, [0, 1, 3]);
    }
}
