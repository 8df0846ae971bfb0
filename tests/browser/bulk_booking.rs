//! Issue 15's bulk booking page (`#/bulk`): two rooms × three days at 09:00–10:00 are checked
//! with a dry run, which names the one refused slot (resource and time) and books nothing; more
//! than 100 bookings are refused before anything is sent; a commit that meets a booking made
//! after its dry run is rolled back entirely and says so; and a clean dry run followed by a
//! commit books all six, which the API then lists.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::{self, Browser};
use crate::seed::{reservations_of, resource, rfc3339, tomorrow_at};
use crate::support::{PASSWORD, TestApp, TestUser};

/// `(resource_id, start)` of each active reservation of `user`, sorted.
async fn booked(app: &TestApp, user: &TestUser) -> Vec<(i64, DateTime<Utc>)> {
    let mut slots: Vec<(i64, DateTime<Utc>)> = reservations_of(app, user)
        .await
        .iter()
        .filter(|r| r["status"] != "cancelled")
        .map(|r| {
            let start = r["start_time"].as_str().expect("a start time");
            let start = DateTime::parse_from_rfc3339(start)
                .expect("an RFC 3339 start")
                .with_timezone(&Utc);
            (r["resource_id"].as_i64().expect("a resource id"), start)
        })
        .collect();
    slots.sort();
    slots
}

/// Books `resource` at `start` for an hour as `user`; the reservation's id.
async fn book_hour(app: &TestApp, user: &TestUser, resource: i64, start: DateTime<Utc>) -> i64 {
    let response = app
        .book(user, resource, &rfc3339(start), &rfc3339(start + Duration::hours(1)))
        .await;
    assert_eq!(response.status(), 201, "booking {resource} at {start}");
    let body: Value = response.json().await.expect("JSON");
    body["id"].as_i64().expect("the reservation's id")
}

async fn cancel(app: &TestApp, user: &TestUser, reservation: i64) {
    let response = app
        .post_json_as(user, &format!("/api/v1/reservations/{reservation}/cancel"), &json!({}))
        .await;
    assert!(
        response.status().is_success(),
        "cancelling {reservation}: {}",
        response.status()
    );
}

/// The number of `[data-test=…]` elements on the page now.
async fn count(browser: &Browser, test: &str) -> usize {
    browser.all(&Browser::sel(test)).await.len()
}

async fn commit_enabled(browser: &Browser) -> bool {
    browser.find("bulk-commit").await.is_enabled().await.unwrap_or(false)
}

both_backends! {
    async fn bulk_dry_run_then_commit(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let carol = app.user("carol").await;
        let room_a = resource(&app, &admin, "Bulk Room A").await;
        let room_b = resource(&app, &admin, "Bulk Room B").await;
        let first = tomorrow_at(9);
        let days: Vec<DateTime<Utc>> = (0..3).map(|n| first + Duration::days(n)).collect();
        // Carol holds Room A on the second day: the dry run must name that slot.
        let carols = book_hour(&app, &carol, room_a, days[1]).await;

        browser.sign_in("bob", PASSWORD).await;
        browser.click("nav-bulk").await;
        browser.find("bulk-form").await;
        for room in [room_a, room_b] {
            let box_ = browser.find_css(&format!("#bulk-resource-{room}")).await;
            browser.click_element(&box_, "a resource box").await;
        }
        // Every weekday, so the three dates count whatever day tomorrow is.
        for day in 0..7 {
            let box_ = browser.find(&format!("bulk-day-{day}")).await;
            if !box_.is_selected().await.unwrap_or(false) {
                browser.click_element(&box_, "a weekday box").await;
            }
        }
        let from = first.format("%Y-%m-%d").to_string();
        browser.set_value("bulk-from", &from).await;
        browser.set_value("bulk-to", &(first + Duration::days(59)).format("%Y-%m-%d").to_string()).await;
        let summary = browser.wait_for_text("bulk-summary", "120").await;
        assert!(summary.contains("100"), "more than 100 bookings are refused before sending: {summary:?}");
        browser.set_value("bulk-to", &days[2].format("%Y-%m-%d").to_string()).await;
        browser.set_value("bulk-start", "09:00").await;
        browser.set_value("bulk-end", "10:00").await;
        browser.wait_for_text("bulk-summary", "6 bookings").await;

        // The dry run: one refusal, named by resource and time; nothing booked.
        browser.click("bulk-dry-run").await;
        browser.find("bulk-dry-errors").await;
        assert_eq!(count(&browser, "bulk-error").await, 1);
        let refusal = browser.text("bulk-error").await;
        assert!(refusal.contains("Bulk Room A") && refusal.contains("09:00"), "the refusal names the slot: {refusal:?}");
        let index = browser.find("bulk-error").await.attr("data-index").await.ok().flatten();
        assert_eq!(index.as_deref(), Some("2"), "the second day's Room A item (items go day by day, room by room)");
        let verdict = browser.text("bulk-result").await;
        assert!(verdict.contains("1 of 6 bookings would be refused"), "the dry run counts the refusal: {verdict:?}");
        assert!(!commit_enabled(&browser).await, "a refused dry run cannot be committed");
        assert!(booked(&app, &bob).await.is_empty(), "a dry run books nothing");

        // Carol lets go; the dry run is clean; then she books Room B on the third day before
        // Bob commits: the whole batch is rolled back.
        cancel(&app, &carol, carols).await;
        browser.click("bulk-dry-run").await;
        browser.wait_until("the commit button to be enabled", || async { commit_enabled(&browser).await.then_some(()) }).await;
        assert_eq!(count(&browser, "bulk-error").await, 0);
        assert_eq!(count(&browser, "bulk-created-item").await, 6);
        let late = book_hour(&app, &carol, room_b, days[2]).await;
        browser.click("bulk-commit").await;
        browser.find("bulk-commit-errors").await;
        let result = browser.text("bulk-result").await;
        assert!(result.contains("Nothing was booked"), "the page says nothing was booked: {result:?}");
        assert!(result.contains("Bulk Room B"), "and names the slot that made it fail: {result:?}");
        assert!(booked(&app, &bob).await.is_empty(), "a failed commit leaves nothing booked");

        // Clean again: dry run, commit, six bookings.
        cancel(&app, &carol, late).await;
        browser.click("bulk-dry-run").await;
        browser.wait_until("the commit button to be enabled", || async { commit_enabled(&browser).await.then_some(()) }).await;
        browser.click("bulk-commit").await;
        browser.find("bulk-committed").await;
        assert_eq!(count(&browser, "bulk-created-item").await, 6);
        let mut expected: Vec<(i64, DateTime<Utc>)> =
            days.iter().flat_map(|day| [(room_a, *day), (room_b, *day)]).collect();
        expected.sort();
        assert_eq!(booked(&app, &bob).await, expected, "the API lists the six bookings");
        assert!(!commit_enabled(&browser).await, "a committed batch is not committed twice");
    }
}
