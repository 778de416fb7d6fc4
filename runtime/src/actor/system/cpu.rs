//! Starting a system on the CPU backend: a thread per actor, K2K inboxes
//! in host memory (`k2k_queue`, the device protocol with std atomics).

use super::*;

impl SystemBuilder<'_> {
    /// A thread per actor; K2K inboxes in host memory.
    pub(super) fn start_cpu(
        &self,
        memories: &[Arc<ActorMemory>],
        infos: &[ActorInfo],
        buffers: Vec<MappedBuffer>,
        k2k_layouts: &[Option<K2kLayout>],
    ) -> Result<Vec<Box<dyn ActorDriver>>> {
        // Each inbox's senders share the queue; its consumer goes to the
        // owning actor's executor.
        let (inboxes, mut consumers): (Vec<Option<Arc<CpuK2k>>>, Vec<_>) = k2k_layouts
            .iter()
            .map(|l| match l {
                Some(l) => {
                    let (queue, consumer) = CpuK2k::new(l.capacity());
                    (Some(queue), Some(consumer))
                }
                None => (None, None),
            })
            .unzip();
        let buffers = Arc::new(buffers);
        let mut drivers = Vec::new();
        for (i, m) in self.members.iter().enumerate() {
            crate::cpu::program(&m.prepared, &m.kernel.name)?;
            let routes = self
                .routes(i)
                .into_iter()
                .map(|r| {
                    r.map(|route| CpuRoute {
                        inbox: inboxes[route.dest_actor as usize]
                            .clone()
                            .expect("a routed actor has an inbox"),
                        route,
                    })
                })
                .collect();
            let driver = CpuDriver::start(CpuActor {
                program: m.prepared.clone(),
                handler: m.kernel.name.clone(),
                block: m.info.block,
                info: infos[i].clone(),
                memory: memories[i].clone(),
                state: (m.abi.state_size > 0).then(|| m.state.clone()),
                keep_alive: buffers.clone(),
                k2k: consumers[i].take(),
                routes,
            });
            drivers.push(Box::new(driver) as Box<dyn ActorDriver>);
        }
        Ok(drivers)
    }
}
