// The transpile-time input: a ~100-line handler of the kind a user writes
// (an order-risk check with per-symbol limits, statistics over the order's
// price history by warp reductions, device functions, match, loops, state).

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Order {
    pub id: u64,
    pub symbol: u32,
    pub side: u32,
    pub quantity: u32,
    pub price_ticks: u32,
    pub history: [u32; 16],
}

#[derive(Clone, Copy, Debug, PartialEq, RingMessage)]
#[repr(C)]
pub struct Verdict {
    pub id: u64,
    pub accepted: u32,
    pub reason: u32,
    pub exposure: i64,
    pub score: f32,
    pub average: f32,
}

#[derive(Clone, Copy, Debug, Default, GpuType)]
#[repr(C)]
pub struct Book {
    pub positions: [i64; 32],
    pub limits: [i64; 32],
    pub orders: u64,
    pub rejected: u64,
}

#[device_fn]
pub fn signed_quantity(side: u32, quantity: u32) -> i64 {
    match side {
        0 => quantity as i64,
        1 => -(quantity as i64),
        _ => 0,
    }
}

#[device_fn]
pub fn clamp_score(x: f32) -> f32 {
    if x < 0.0 {
        0.0
    } else if x > 1.0 {
        1.0
    } else {
        x
    }
}

#[device_fn]
pub fn volatility(mean: f32, sq_mean: f32) -> f32 {
    let var = sq_mean - mean * mean;
    if var <= 0.0 {
        0.0
    } else {
        var.sqrt()
    }
}

#[ring_kernel(block_size = 32)]
pub fn risk(ctx: &RingContext, book: &mut Book, order: &Order) -> Verdict {
    let lane = ctx.lane_id() as usize;
    let sample = if lane < 16 { order.history[lane] as f32 } else { 0.0 };
    let total = ctx.warp_reduce_sum(sample);
    let total_sq = ctx.warp_reduce_sum(sample * sample);
    let average = total / 16.0;
    let vol = volatility(average, total_sq / 16.0);
    let slot = (order.symbol % 32) as usize;
    let delta = signed_quantity(order.side, order.quantity);
    let position = book.positions[slot];
    let limit = book.limits[slot];
    let next = position + delta;
    let price = order.price_ticks as f32;
    let deviation = if average > 0.0 {
        (price - average).abs() / average
    } else {
        0.0
    };
    let mut reason = 0u32;
    if order.side > 1 {
        reason = 1;
    } else if order.quantity == 0 {
        reason = 2;
    } else if limit > 0 && (next > limit || next < -limit) {
        reason = 3;
    } else if deviation > 0.25 {
        reason = 4;
    }
    let mut score = clamp_score(deviation * 2.0 + vol / (average + 1.0));
    for step in 0..4 {
        score = match step {
            0 => score * 0.9,
            1 | 2 => score + 0.01,
            _ => clamp_score(score),
        };
    }
    let accepted = if reason == 0 && score < 0.95 { 1u32 } else { 0u32 };
    if ctx.is_leader() {
        book.orders += 1;
        if accepted == 1 {
            book.positions[slot] = next;
        } else {
            book.rejected += 1;
        }
    }
    Verdict {
        id: order.id,
        accepted,
        reason,
        exposure: if accepted == 1 { next } else { position },
        score,
        average,
    }
}
