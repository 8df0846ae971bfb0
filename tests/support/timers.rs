//! Tests of time-driven behaviour: where a manual clock starts (`#[app(clock)]`), and a way to
//! wait for what the actors' timers do after the clock moves.

use std::future::Future;
use std::time::Duration;

use chrono::TimeZone;

/// 2030-01-01 09:00 UTC, a Tuesday.
pub fn clock_start() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap()
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
