//! Tests of time-driven behaviour: a server on a manual clock (tokens long enough to outlive the
//! jumps), and a way to wait for what the actors' timers do after the clock moves.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use reserver_actors::ManualClock;

use super::database::Backend;
use super::server::TestApp;

/// 2030-01-01 09:00 UTC, a Tuesday.
pub fn clock_start() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap()
}

/// A server on a manual clock at [`clock_start`], with day-long access tokens.
pub async fn clocked_app(backend: Backend) -> Option<(TestApp, Arc<ManualClock>)> {
    let clock = Arc::new(ManualClock::new(clock_start()));
    let app = TestApp::builder(backend)
        .manual_clock(clock.clone())
        .settings(|args| args.access_token_expire_minutes = Some("1440".into()))
        .spawn()
        .await?;
    Some((app, clock))
}

/// Polls `check` until it returns `Some` (timers run on the actors' threads), or panics.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..250 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Runs an async test body on both backends with a clocked app:
/// `async fn name(app: TestApp, clock: Arc<ManualClock>) { ... }`.
#[macro_export]
macro_rules! clocked_tests {
    ($($(#[$meta:meta])* async fn $name:ident($app:ident: TestApp, $clock:ident: Arc<ManualClock>) $body:block)*) => {$(
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($app: $crate::support::TestApp, $clock: std::sync::Arc<reserver_actors::ManualClock>) $body

            #[actix_web::test]
            async fn sqlite() {
                let (app, clock) = $crate::support::timers::clocked_app($crate::support::Backend::Sqlite).await.expect("SQLite");
                body(app, clock).await;
            }

            #[actix_web::test]
            async fn postgres() {
                let Some((app, clock)) = $crate::support::timers::clocked_app($crate::support::Backend::Postgres).await else { return };
                body(app, clock).await;
            }
        }
    )*};
}
