//! Fan-out: many connected subscribers (10,000 by default), one booking, its event on every
//! socket.

use anyhow::Result;

use super::Context;
use super::w4_websocket::measure_delivery;
use crate::report::Row;

pub async fn run(ctx: &Context) -> Result<Row> {
    let subscribers = ctx.settings.subscribers;
    let budget = format!("{subscribers} subscribers: all delivered, p99 ≤ 100 ms");
    measure_delivery(ctx, "fan-out", subscribers, 1, &budget, 100.0).await
}
