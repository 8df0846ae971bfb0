//! Issue 15's analytics charts on `#/analytics`, over a fixture booked through the API on a
//! manual clock and then left behind it: "Heat Room" is booked on two Wednesdays from 10:00 to
//! 12:00 (UTC), "Quiet Room" once on a Friday at 15:00 and that booking is cancelled. The
//! heatmap of Heat Room is full on Wednesday 10:00 and 11:00 and empty around them, the
//! cancelled Friday hour stays empty, the weekday and hour charts peak on Wednesday and 10:00,
//! Heat Room tops the most-booked chart, and the cancellation chart counts one of three. The
//! page is saved as `analytics_heatmap-<backend>.png` in `target/browser-artifacts/`.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::{self, Browser, Options};
use crate::support::{PASSWORD, TestApp, TestUser};

/// Books `resource` from `start` to `end` as `user`; the reservation's id.
async fn book(app: &TestApp, user: &TestUser, resource: i64, start: &str, end: &str) -> i64 {
    let response = app.book(user, resource, start, end).await;
    assert_eq!(response.status(), 201, "booking {resource} {start}–{end}");
    let body: Value = response.json().await.expect("JSON");
    body["id"].as_i64().expect("the reservation's id")
}

/// Each `[data-test=<chart>-bar]` (or `-cell`) as `key → value`, with `extra` attributes joined
/// to the key (`data-series` for stacked bars).
async fn marks(browser: &Browser, test: &str, key: &str) -> HashMap<String, String> {
    let found = browser
        .js(
            "return [...document.querySelectorAll(`[data-test=\"${arguments[0]}\"]`)]
                .map((mark) => [arguments[1].split(',').map((name) => mark.getAttribute(name)).join('/'), mark.getAttribute('data-value')]);",
            vec![json!(test), json!(key)],
        )
        .await;
    found
        .as_array()
        .into_iter()
        .flatten()
        .map(|pair| {
            (
                pair[0].as_str().unwrap_or_default().to_owned(),
                pair[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn number(marks: &HashMap<String, String>, key: &str) -> f64 {
    let value = marks
        .get(key)
        .unwrap_or_else(|| panic!("no mark {key} among {} marks", marks.len()));
    value
        .parse()
        .unwrap_or_else(|_| panic!("mark {key} is {value:?}, not a number"))
}

both_backends! {
    #[app(clock, long_tokens)]
    async fn analytics_heatmap_shows_the_seeded_pattern(app: TestApp, clock: Arc<ManualClock>) {
        let Some(driver) = harness::driver() else { return };
        let label = harness::label(module_path!(), app.database().backend());
        let options = Options { height: 2600, ..Options::default() };
        let browser = Browser::open_with(driver, &app.address, &label, options).await;
        // The clock starts on Tuesday 2030-01-01 09:00 UTC.
        let admin = app.admin().await;
        let heat = app.create_resource(&admin, json!({"name": "Heat Room", "timezone": "UTC"})).await;
        let quiet = app.create_resource(&admin, json!({"name": "Quiet Room", "timezone": "UTC"})).await;
        book(&app, &admin, heat, "2030-01-02T10:00:00Z", "2030-01-02T12:00:00Z").await;
        book(&app, &admin, heat, "2030-01-09T10:00:00Z", "2030-01-09T12:00:00Z").await;
        let dropped = book(&app, &admin, quiet, "2030-01-04T15:00:00Z", "2030-01-04T16:00:00Z").await;
        let cancelled = app
            .post_json_as(&admin, &format!("/api/v1/reservations/{dropped}/cancel"), &json!({}))
            .await;
        assert!(cancelled.status().is_success(), "cancelling: {}", cancelled.status());
        // Thirteen days on (Monday 2030-01-14): every booking is in the last 30 days.
        clock.advance(Duration::from_secs(13 * 24 * 3600));

        browser.sign_in("admin", PASSWORD).await;
        browser.click("nav-analytics").await;
        browser.find("chart-heatmap").await;
        browser.set_value("analytics-heatmap-resource", &heat.to_string()).await;
        browser.wait_for_text_anywhere("Utilisation of Heat Room").await;

        // The heatmap: day 2 is Wednesday (Monday first).
        let cells = marks(&browser, "chart-heatmap-cell", "data-day,data-hour").await;
        assert_eq!(cells.len(), 7 * 24, "seven rows of 24 hours");
        let busy = number(&cells, "2/10");
        assert!(busy > 0.0, "Wednesday 10:00 is booked: {busy}");
        assert_eq!(number(&cells, "2/11"), busy, "Wednesday 11:00 as much as 10:00");
        for quiet_hour in ["2/9", "2/12", "4/15", "1/10", "3/10"] {
            assert_eq!(number(&cells, quiet_hour), 0.0, "{quiet_hour} is not booked (a cancelled booking counts for nothing)");
        }
        let highest = cells.values().filter_map(|value| value.parse::<f64>().ok()).fold(0.0, f64::max);
        assert_eq!(highest, busy, "Wednesday 10:00–12:00 is the busiest time");

        // Peak times: the two used bookings start on Wednesdays at 10:00.
        let weekdays = marks(&browser, "chart-weekdays-bar", "data-key").await;
        assert_eq!(number(&weekdays, "2"), 2.0, "two bookings on Wednesdays");
        let hours = marks(&browser, "chart-hours-bar", "data-key").await;
        assert_eq!(number(&hours, "10"), 2.0, "two bookings at 10:00");

        // Most booked: Heat Room, first, with two.
        let first_bar = browser.find("chart-popular-bar").await;
        assert_eq!(first_bar.attr("data-key").await.ok().flatten(), Some(heat.to_string()));
        assert_eq!(first_bar.attr("data-value").await.ok().flatten().as_deref(), Some("2"));

        // Cancellations: one of the three bookings made.
        let stacks = marks(&browser, "chart-cancellations-bar", "data-key,data-series").await;
        let total = |series: &str| -> f64 {
            stacks.iter().filter(|(key, _)| key.ends_with(series)).map(|(_, value)| value.parse::<f64>().unwrap_or(0.0)).sum()
        };
        assert_eq!((total("/0"), total("/1")), (2.0, 1.0), "two kept and one cancelled");
        let summary = browser.text("analytics-cancellation-summary").await;
        assert!(summary.contains("1 of 3"), "the summary counts one of three: {summary:?}");

        browser.find_css("[data-test=chart-heatmap]").await;
        let saved = browser.save_screenshot(&format!("analytics_heatmap-{}", label.rsplit('-').next().unwrap_or("db"))).await;
        assert!(saved.exists());
    }
}
