//! Every accepted `#[gpu_kernel]` shape, launched on the CPU backend.

use ringkernel::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, GpuType)]
#[repr(C)]
pub struct Body {
    pub mass: f32,
    pub pos: [f32; 3],
}

/// No context, no arguments.
#[gpu_kernel]
pub fn nothing() {}

/// Scalars of every type.
#[gpu_kernel(block_size = 32)]
pub fn scalars(
    ctx: &ThreadContext,
    a: i8,
    b: i16,
    c: i32,
    d: i64,
    e: isize,
    f: u8,
    g: u16,
    h: u32,
    i: u64,
    j: usize,
    k: f32,
    l: f64,
    m: bool,
    out: &mut [f64],
) {
    if ctx.global_id() == 0 {
        out[0] = a as f64 + b as f64 + c as f64 + d as f64 + e as f64;
        out[1] = f as f64 + g as f64 + h as f64 + i as f64 + j as f64;
        out[2] = if m { k as f64 + l } else { 0.0 };
    }
}

/// A 2-D block, a name, checks off; struct elements.
#[gpu_kernel(block = (8, 4), name = "weigh_bodies", checks = false)]
fn weigh(ctx: &ThreadContext, bodies: &[Body], masses: &mut [f32]) {
    let width = (ctx.grid_dim_x() * ctx.block_dim_x()) as u64;
    let i = (ctx.global_y() * width + ctx.global_x()) as usize;
    if i < bodies.len() {
        masses[i] = bodies[i].mass * bodies[i].pos[0];
    }
}

/// Parameter names the generated `launch` uses for itself.
#[gpu_kernel(block = (64))]
pub(crate) fn clash(runtime: u32, grid: &mut [u32]) {
    grid[0] = runtime;
}

fn main() {
    let rt = Runtime::cpu();
    nothing::launch(&rt, Grid::d1(1)).unwrap();

    let mut out = rt.upload(&[0.0f64; 3]).unwrap();
    scalars::launch(
        &rt,
        Grid::for_elements(1),
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        10,
        0.5,
        0.25,
        true,
        &mut out,
    )
    .unwrap();
    assert_eq!(out.to_vec().unwrap(), [15.0, 40.0, 0.75]);

    let bodies = rt
        .upload(&[Body { mass: 2.0, pos: [3.0, 0.0, 0.0] }; 4])
        .unwrap();
    let mut masses = rt.upload(&[0.0f32; 4]).unwrap();
    weigh::launch(&rt, Grid::d2(8, 4), &bodies, &mut masses).unwrap();
    assert_eq!(masses.to_vec().unwrap(), [6.0; 4]);
    assert_eq!(weigh::kernel().name, "weigh_bodies");
    assert!(weigh::cuda_source().contains("weigh_bodies("));

    let mut grid = rt.upload(&[0u32]).unwrap();
    clash::launch(&rt, Grid::d1(1), 7, &mut grid).unwrap();
    assert_eq!(grid.to_vec().unwrap(), [7]);
}
