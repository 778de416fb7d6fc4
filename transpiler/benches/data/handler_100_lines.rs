// A 100-line transaction-scoring handler: the size the transpile-time bar
// is stated for.

#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Txn {
    pub account: u32,
    pub merchant: u32,
    pub amount_cents: u64,
    pub hour: u8,
    pub country: u16,
    pub features: [f32; 16],
}

#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Verdict {
    pub account: u32,
    pub score: f32,
    pub flags: u32,
    pub alert: bool,
}

#[derive(Clone, Copy, Default, GpuType)]
#[repr(C)]
pub struct Model {
    pub weights: [f32; 16],
    pub seen: u64,
    pub alerts: u64,
    pub last_amount: [u64; 64],
}

#[device_fn]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

#[device_fn]
fn clamp01(x: f32) -> f32 {
    if x < 0.0 {
        0.0
    } else if x > 1.0 {
        1.0
    } else {
        x
    }
}

#[ring_kernel(block_size = 32)]
pub fn score(ctx: &RingContext, state: &mut Model, msg: &Txn) -> Verdict {
    let lane = ctx.lane_id() as usize;
    let term = if lane < 16 { msg.features[lane] * state.weights[lane] } else { 0.0 };
    let dot = ctx.warp_reduce_sum(term);
    let mut flags = 0u32;
    let amount = msg.amount_cents as f64 / 100.0;
    if amount > 10_000.0 {
        flags |= 1;
    }
    match msg.hour {
        0..=5 => flags |= 2,
        22 | 23 => flags |= 4,
        _ => {}
    }
    let slot = (msg.account % 64) as usize;
    let previous = state.last_amount[slot];
    let ratio = if previous == 0 { 1.0 } else { msg.amount_cents as f32 / previous as f32 };
    if ratio > 8.0 {
        flags |= 8;
    }
    let mut risk = sigmoid(dot);
    let mut i = 0;
    while i < 4 {
        if flags & (1 << i) != 0 {
            risk += 0.05 * (i + 1) as f32;
        }
        i += 1;
    }
    for k in (0..16usize).step_by(4) {
        let f = msg.features[k];
        if f.is_nan() {
            flags |= 16;
        } else if f.abs() > 100.0 {
            risk += 0.01;
        }
    }
    let country_risk = match msg.country {
        1 | 44 | 49 => 0.0,
        7 | 86 => 0.1,
        _ => 0.05,
    };
    risk = clamp01(risk + country_risk);
    let alert = risk > 0.9 || flags & 16 != 0;
    if ctx.is_leader() {
        state.seen += 1;
        state.last_amount[slot] = msg.amount_cents;
        if alert {
            state.alerts = state.alerts.wrapping_add(1);
        }
    }
    Verdict {
        account: msg.account,
        score: risk,
        flags,
        alert,
    }
}
