//! Servers with rate limiting on (the harness turns it off for every other test), on a manual
//! clock: the per-minute windows stand still while a test runs and move only when it says so.

use std::sync::Arc;

use reqwest::Response;
use reserver_actors::ManualClock;

use super::database::{Backend, TestDatabase};
use super::server::TestApp;
use super::timers::clock_start;

/// A rate-limited server on `database` (a fresh one if `None`), with day-long tokens.
pub async fn limited_app(backend: Backend, database: Option<TestDatabase>, clock: Arc<ManualClock>) -> Option<TestApp> {
    let mut builder = TestApp::builder(backend).manual_clock(clock).settings(|args| {
        args.rate_limit_enabled = Some("true".into());
        args.access_token_expire_minutes = Some("1440".into());
    });
    if let Some(database) = database {
        builder = builder.database(database);
    }
    builder.spawn().await
}

pub fn new_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(clock_start()))
}

/// A response header as text ("" when absent).
pub fn header<'r>(response: &'r Response, name: &str) -> &'r str {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// Runs an async test body on both backends with a rate-limited app on a manual clock (starting
/// at `timers::clock_start`): `async fn name(app: TestApp, clock: Arc<ManualClock>) { ... }`.
#[macro_export]
macro_rules! rate_limited_tests {
    ($($(#[$meta:meta])* async fn $name:ident($app:ident: TestApp, $clock:ident: Arc<ManualClock>) $body:block)*) => {$(
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($app: $crate::support::TestApp, $clock: std::sync::Arc<reserver_actors::ManualClock>) $body

            async fn run(backend: $crate::support::Backend) {
                let clock = $crate::support::rate_limit::new_clock();
                let Some(app) = $crate::support::rate_limit::limited_app(backend, None, clock.clone()).await else {
                    return;
                };
                body(app, clock).await;
            }

            #[actix_web::test]
            async fn sqlite() {
                run($crate::support::Backend::Sqlite).await;
            }

            #[actix_web::test]
            async fn postgres() {
                run($crate::support::Backend::Postgres).await;
            }
        }
    )*};
}
