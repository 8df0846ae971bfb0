//! Every endpoint of the server, declared in one [`RouteTable`].
//!
//! One module per area. Each module exposes `declare(&mut RouteTable)` and keeps its handlers
//! private; the table is the single list of what the server answers.

mod admin;
mod analytics;
mod approvals;
mod audit;
mod auth;
mod board;
mod bulk;
mod calendar;
mod docs;
mod groups;
mod health;
mod holds;
mod hours;
pub mod idempotency;
mod labels;
mod metrics;
mod mfa;
mod notifications;
mod oauth;
mod quotas;
mod reservations;
mod resources;
mod roles;
mod search;
mod series;
mod setup;
pub mod table;
mod users;
mod waitlist;
mod web;
mod webhooks;
mod ws;

pub use health::{MetricsListener, metrics_listener_table};

use table::RouteTable;

/// The full route table of the server.
pub fn table() -> RouteTable {
    let mut table = RouteTable::new();
    health::declare(&mut table);
    auth::declare(&mut table);
    admin::declare(&mut table);
    analytics::declare(&mut table);
    audit::declare(&mut table);
    users::declare(&mut table);
    mfa::declare(&mut table);
    metrics::declare(&mut table);
    oauth::declare(&mut table);
    roles::declare(&mut table);
    setup::declare(&mut table);
    resources::declare(&mut table);
    board::declare(&mut table);
    reservations::declare(&mut table);
    series::declare(&mut table);
    bulk::declare(&mut table);
    waitlist::declare(&mut table);
    holds::declare(&mut table);
    hours::declare(&mut table);
    approvals::declare(&mut table);
    notifications::declare(&mut table);
    calendar::declare(&mut table);
    quotas::declare(&mut table);
    webhooks::declare(&mut table);
    groups::declare(&mut table);
    labels::declare(&mut table);
    search::declare(&mut table);
    ws::declare(&mut table);
    web::declare(&mut table);
    docs::declare(&mut table);
    table
}
