//! Servers with rate limiting on (the harness turns it off for every other test), on a manual
//! clock: the per-minute windows stand still while a test runs and move only when it says so.
//! A fresh one is `#[app(clock, long_tokens, rate_limited)]`; [`limited_app`] restarts one on an
//! existing database.

use std::sync::Arc;

use reqwest::Response;
use reserver_actors::ManualClock;

use super::database::{Backend, TestDatabase};
use super::server::TestApp;

/// A rate-limited server on `database` (a fresh one if `None`), with day-long tokens.
pub async fn limited_app(backend: Backend, database: Option<TestDatabase>, clock: Arc<ManualClock>) -> Option<TestApp> {
    let mut builder = TestApp::builder(backend)
        .manual_clock(clock)
        .rate_limited()
        .long_tokens();
    if let Some(database) = database {
        builder = builder.database(database);
    }
    builder.spawn().await
}

/// A response header as text ("" when absent).
pub fn header<'r>(response: &'r Response, name: &str) -> &'r str {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}
