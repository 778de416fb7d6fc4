//! Nested structs in a kernel buffer, passed to and returned from a
//! `#[device_fn]` that calls another one.

use ringkernel::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, GpuType)]
#[repr(C)]
pub struct Vec2 {
    pub x: f32,
    pub y: f32,
}

#[derive(Clone, Copy, Debug, PartialEq, GpuType)]
#[repr(C)]
pub struct Particle {
    pub pos: Vec2,
    pub vel: Vec2,
    pub alive: u32,
    pub age: u32,
}

#[device_fn]
pub fn advance(v: Vec2, d: Vec2, dt: f32) -> Vec2 {
    Vec2 {
        x: v.x + d.x * dt,
        y: v.y + d.y * dt,
    }
}

#[device_fn]
pub fn step(p: Particle, dt: f32) -> Particle {
    Particle {
        pos: advance(p.pos, p.vel, dt),
        vel: p.vel,
        alive: p.alive,
        age: p.age + 1,
    }
}

#[gpu_kernel(block_size = 64)]
pub fn simulate(ctx: &ThreadContext, dt: f32, particles: &mut [Particle]) {
    let i = ctx.global_id() as usize;
    if i < particles.len() && particles[i].alive != 0 {
        particles[i] = step(particles[i], dt);
    }
}
