//! Data the flows need but do not exercise, made through the HTTP API with bearer tokens, and
//! the times the flows book (always in the future, on the real clock the browser also uses).

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

/// A resource in UTC (the browser runs with `TZ=UTC`, so no zone note and plain wall times).
pub async fn resource(app: &TestApp, admin: &TestUser, name: &str) -> i64 {
    app.create_resource(admin, json!({"name": name, "timezone": "UTC"}))
        .await
}

/// Tomorrow at `hour`:00 UTC.
pub fn tomorrow_at(hour: u32) -> DateTime<Utc> {
    let midnight = Utc::now().duration_trunc(Duration::days(1)).expect("a day boundary");
    midnight + Duration::days(1) + Duration::hours(i64::from(hour))
}

/// The `datetime-local` value of an instant in UTC: `2026-12-07T10:00`.
pub fn input_value(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M").to_string()
}

pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `user`'s reservations as the API lists them.
pub async fn reservations_of(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let body: Value = app
        .get_as(user, "/api/v1/reservations/my")
        .await
        .json()
        .await
        .expect("JSON");
    body["data"].as_array().cloned().unwrap_or_default()
}

/// `user`'s waitlist entries as the API lists them.
pub async fn waitlist_of(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let body: Value = app.get_as(user, "/api/v1/waitlist").await.json().await.expect("JSON");
    body.get("data")
        .unwrap_or(&body)
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A start a few minutes from now, on a five-minute boundary (so a booking made from it is in
/// the future however slow the flow is, and shows on today's board).
pub fn soon() -> DateTime<Utc> {
    Utc::now()
        .duration_trunc(Duration::minutes(5))
        .expect("a 5-minute boundary")
        + Duration::minutes(10)
}
