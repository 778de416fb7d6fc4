//! The DSL surface handlers and kernels are written against.
//!
//! [`ThreadContext`] (for `#[gpu_kernel]`) and [`RingContext`] (for
//! `#[ring_kernel]`, which dereferences to a `ThreadContext` so it has every
//! method) declare each intrinsic with a real Rust signature, so rustc
//! type-checks handler bodies and rust-analyzer completes them. The
//! transpiler's front end lowers each method to the IR by name on a receiver
//! of these types.
//!
//! The bodies never run on the host: no value of either type can exist
//! (each holds an [`Infallible`]), so every method is statically unreachable.
//! Kernels run on the GPU, or on the CPU backend through the IR interpreter,
//! never as this Rust code.

use core::convert::Infallible;

/// The context of a data-parallel `#[gpu_kernel]` thread.
#[derive(Debug)]
pub struct ThreadContext {
    never: Infallible,
}

/// The context of a `#[ring_kernel]` actor handler.
#[derive(Debug)]
pub struct RingContext {
    never: Infallible,
}

impl RingContext {
    /// This actor's id (also its HLC node id).
    pub fn actor_id(&self) -> u32 {
        match self.never {}
    }

    /// The actor's hybrid logical clock at the receipt of the current
    /// message: greater than the message's send timestamp and than every
    /// timestamp this actor issued before; the reply is stamped later still.
    pub fn now(&self) -> crate::hlc::HlcTimestamp {
        match self.never {}
    }

    /// Sends `msg` to the actor the host wired to output `port`
    /// (`SystemBuilder::connect`): handlers never name other actors. `port`
    /// is a constant below 64 and carries one message type. Only the leader
    /// thread (thread 0) sends, as only its return value is the reply.
    /// Waits while the destination's inbox is full (backpressure, never an
    /// overwrite); faults (the message is dead-lettered with the reason)
    /// when nothing is wired to `port` or the destination has terminated.
    pub fn send<T: crate::layout::RingMessage>(&self, port: u32, msg: &T) {
        let _ = (port, msg);
        match self.never {}
    }

    /// Sends `msg` on output `port` if the destination's inbox has room
    /// now, without waiting: `true` when the message was committed to the
    /// inbox, `false` when the inbox was full (nothing was written, nothing
    /// is lost: the handler decides whether to drop, count or retry). Same
    /// port and message rules as [`RingContext::send`]; an unwired port or
    /// a terminated destination faults like `send` (those are not
    /// backpressure).
    ///
    /// A block-wide call, like `block_reduce_sum`: every thread of the
    /// block must reach it (it contains a barrier). The leader (thread 0)
    /// makes the attempt and every thread gets its answer, so the result is
    /// the same on every thread.
    pub fn try_send<T: crate::layout::RingMessage>(&self, port: u32, msg: &T) -> bool {
        let _ = (port, msg);
        match self.never {}
    }
}

impl core::ops::Deref for RingContext {
    type Target = ThreadContext;
    fn deref(&self) -> &ThreadContext {
        match self.never {}
    }
}

/// Integer and float scalars the warp and block collectives accept.
pub trait ShuffleValue: Copy + sealed::Sealed {}
/// Scalars the atomics accept.
pub trait AtomicValue: Copy + sealed::Sealed {}

mod sealed {
    pub trait Sealed {}
}

macro_rules! scalars {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl ShuffleValue for $t {}
        impl AtomicValue for $t {}
    )*};
}
scalars!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);

macro_rules! index_methods {
    ($($(#[$doc:meta])* $name:ident -> $t:ty;)*) => {$(
        $(#[$doc])*
        pub fn $name(&self) -> $t {
            match self.never {}
        }
    )*};
}

impl ThreadContext {
    index_methods! {
        /// Linear thread index within the block.
        thread_id -> u32;
        thread_x -> u32;
        thread_y -> u32;
        thread_z -> u32;
        /// Linear block index within the grid.
        block_id -> u32;
        block_x -> u32;
        block_y -> u32;
        block_z -> u32;
        block_dim_x -> u32;
        block_dim_y -> u32;
        block_dim_z -> u32;
        grid_dim_x -> u32;
        grid_dim_y -> u32;
        grid_dim_z -> u32;
        /// Linear thread index within the grid, computed in 64 bits.
        global_id -> u64;
        global_x -> u64;
        global_y -> u64;
        global_z -> u64;
        lane_id -> u32;
        /// Warp index within the block.
        warp_id -> u32;
        /// `thread_id() == 0`.
        is_leader -> bool;
        /// `%globaltimer`, nanoseconds.
        clock_ns -> u64;
    }

    /// `__syncthreads()`: every thread of the block must reach it.
    pub fn sync_threads(&self) {
        match self.never {}
    }
    pub fn sync_warp(&self) {
        match self.never {}
    }
    pub fn threadfence(&self) {
        match self.never {}
    }
    pub fn threadfence_block(&self) {
        match self.never {}
    }
    pub fn threadfence_system(&self) {
        match self.never {}
    }

    /// A block-shared array (`__shared__ T[N]`), the same for every thread.
    #[allow(clippy::mut_from_ref)]
    pub fn shared_array<T: Copy, const N: usize>(&self) -> &mut [T; N] {
        match self.never {}
    }

    pub fn warp_shuffle<T: ShuffleValue>(&self, value: T, src_lane: u32) -> T {
        let _ = (value, src_lane);
        match self.never {}
    }
    pub fn warp_shuffle_up<T: ShuffleValue>(&self, value: T, delta: u32) -> T {
        let _ = (value, delta);
        match self.never {}
    }
    pub fn warp_shuffle_down<T: ShuffleValue>(&self, value: T, delta: u32) -> T {
        let _ = (value, delta);
        match self.never {}
    }
    pub fn warp_shuffle_xor<T: ShuffleValue>(&self, value: T, lane_mask: u32) -> T {
        let _ = (value, lane_mask);
        match self.never {}
    }
    pub fn warp_ballot(&self, predicate: bool) -> u32 {
        let _ = predicate;
        match self.never {}
    }
    pub fn warp_all(&self, predicate: bool) -> bool {
        let _ = predicate;
        match self.never {}
    }
    pub fn warp_any(&self, predicate: bool) -> bool {
        let _ = predicate;
        match self.never {}
    }
    pub fn warp_reduce_sum<T: ShuffleValue>(&self, value: T) -> T {
        let _ = value;
        match self.never {}
    }
    pub fn warp_reduce_min<T: ShuffleValue>(&self, value: T) -> T {
        let _ = value;
        match self.never {}
    }
    pub fn warp_reduce_max<T: ShuffleValue>(&self, value: T) -> T {
        let _ = value;
        match self.never {}
    }
    /// A reduction over the whole block; every thread must call it.
    pub fn block_reduce_sum<T: ShuffleValue>(&self, value: T) -> T {
        let _ = value;
        match self.never {}
    }
    pub fn block_reduce_min<T: ShuffleValue>(&self, value: T) -> T {
        let _ = value;
        match self.never {}
    }
    pub fn block_reduce_max<T: ShuffleValue>(&self, value: T) -> T {
        let _ = value;
        match self.never {}
    }
}

macro_rules! atomics {
    ($($name:ident),*) => {
        impl ThreadContext {$(
            /// Atomic read-modify-write of `place`; returns the old value.
            pub fn $name<T: AtomicValue>(&self, place: &mut T, value: T) -> T {
                let _ = (place, value);
                match self.never {}
            }
        )*}
    };
}
atomics!(
    atomic_add,
    atomic_sub,
    atomic_min,
    atomic_max,
    atomic_and,
    atomic_or,
    atomic_xor,
    atomic_exch
);

impl ThreadContext {
    /// Compare-and-swap: stores `new` if `place == expected`; returns the old value.
    pub fn atomic_cas<T: AtomicValue>(&self, place: &mut T, expected: T, new: T) -> T {
        let _ = (place, expected, new);
        match self.never {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A kernel body written against the surface type-checks as ordinary Rust.
    #[allow(dead_code)]
    fn saxpy(ctx: &ThreadContext, a: f32, x: &[f32], y: &mut [f32]) {
        let i = ctx.global_id() as usize;
        if i >= y.len() {
            return;
        }
        y[i] += a * x[i];
        let tile = ctx.shared_array::<f32, 256>();
        tile[ctx.thread_id() as usize] = ctx.warp_reduce_sum(y[i]);
        ctx.sync_threads();
        let _old = ctx.atomic_add(&mut tile[0], 1.0);
    }

    #[allow(dead_code)]
    fn handler(ctx: &RingContext) -> u32 {
        ctx.thread_id() + u32::from(ctx.is_leader())
    }

    #[test]
    fn contexts_cannot_be_constructed() {
        assert_eq!(core::mem::size_of::<ThreadContext>(), 0);
        assert_eq!(core::mem::size_of::<RingContext>(), 0);
    }
}
