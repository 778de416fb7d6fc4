//! `#[device_fn]`s of every accepted shape (callable on the host too), the
//! derives on every accepted field type, kernels in nested modules, private
//! and `cfg`-gated items.

use ringkernel::prelude::*;

pub mod geometry {
    use ringkernel::prelude::*;

    #[derive(Clone, Copy, Debug, PartialEq, GpuType)]
    #[repr(C)]
    pub struct V3 {
        pub x: f32,
        pub y: f32,
        pub z: f32,
    }

    /// Every scalar, arrays, nested structs and arrays of them; padding
    /// (`u8` then `u64`) is fine for a `GpuType`.
    #[derive(Clone, Copy, Debug, GpuType)]
    #[repr(C)]
    pub struct Everything {
        pub a: bool,
        pub b: u64,
        pub c: i8,
        pub d: i16,
        pub e: i32,
        pub f: i64,
        pub g: isize,
        pub h: u8,
        pub i: u16,
        pub j: u32,
        pub k: usize,
        pub l: f32,
        pub m: f64,
        pub grid: [[u16; 3]; 2],
        pub corner: V3,
        pub path: [V3; 4],
    }

    #[device_fn]
    pub fn dot(a: V3, b: V3) -> f32 {
        a.x * b.x + a.y * b.y + a.z * b.z
    }

    #[device_fn]
    pub(crate) fn length2(v: V3) -> f32 {
        dot(v, v)
    }

    #[device_fn]
    fn sum4(v: [f32; 4]) -> f32 {
        v[0] + v[1] + v[2] + v[3]
    }

    #[device_fn]
    pub fn nothing() {}

    #[gpu_kernel]
    pub fn lengths(ctx: &ThreadContext, vs: &[V3], out: &mut [f32]) {
        let i = ctx.global_id() as usize;
        if i < vs.len() {
            nothing();
            out[i] = length2(vs[i]) + sum4([0.0f32; 4]);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
#[ring_message(type_id = 77)]
pub struct Tagged {
    pub v: geometry::V3,
}

#[cfg(any())]
#[gpu_kernel]
pub fn compiled_out(ctx: &ThreadContext, y: &mut [f32]) {}

fn main() {
    use geometry::V3;
    let v = V3 { x: 1.0, y: 2.0, z: 2.0 };
    // Device functions are ordinary Rust on the host.
    assert_eq!(geometry::length2(v), 9.0);
    assert_eq!(<Tagged as RingMessage>::TYPE_ID, 77);
    let everything = <geometry::Everything as GpuType>::LAYOUT;
    assert_eq!(everything.fields.len(), 16);
    assert_eq!(everything.with_nested().len(), 2);

    let rt = Runtime::cpu();
    let vs = rt.upload(&[v; 3]).unwrap();
    let mut out = rt.upload(&[0.0f32; 3]).unwrap();
    geometry::lengths::launch(&rt, Grid::for_elements(3), &vs, &mut out).unwrap();
    assert_eq!(out.to_vec().unwrap(), [9.0; 3]);
}
