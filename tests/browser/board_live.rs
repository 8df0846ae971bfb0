//! The live board: a second browser's `#/board` follows a booking the first makes and cancels
//! in the UI, without a reload (a marker set on `window` before the booking survives) and
//! without anyone touching the board.

use serde_json::json;

use crate::both_backends;
use crate::harness::{self, Browser};
use crate::seed::{input_value, reservations_of, resource, soon};
use crate::support::PASSWORD;

/// The time of `iso` as the board's page formats a time in UTC (its language, 2-digit clock).
async fn shown_time(browser: &Browser, iso: &str) -> String {
    browser
        .js(
            "return new Intl.DateTimeFormat(document.documentElement.lang || 'en',
                 {timeZone: 'UTC', hour: '2-digit', minute: '2-digit'}).format(new Date(arguments[0]));",
            vec![json!(iso)],
        )
        .await
        .as_str()
        .expect("a formatted time")
        .to_owned()
}

both_backends! {
    async fn board_follows_a_booking_and_its_cancellation_live(app: TestApp) {
        let Some(wall) = harness::open(&app, module_path!(), "").await else { return };
        let Some(booker) = harness::open(&app, module_path!(), "-booker").await else { return };
        let admin = app.admin().await;
        let room = resource(&app, &admin, "Board Room").await;
        let other = resource(&app, &admin, "Quiet Room").await;
        let bob = app.user("bob").await;
        app.user("alice").await;

        wall.sign_in("alice", PASSWORD).await;
        wall.goto(&format!("/board?resources={room},{other}")).await;
        let tile = format!("[data-test=\"board-tile\"][data-resource-id=\"{room}\"]");
        wall.find_css(&tile).await;
        wall.find_css(&format!("[data-test=\"board-tile\"][data-resource-id=\"{other}\"]")).await;
        wall.find_css("[data-test=\"live-indicator\"][data-status=\"live\"]").await;
        let tile_text = || async { wall.find_css(&tile).await.text().await.unwrap_or_default() };
        let state = || async { wall.find_css(&tile).await.attr("data-state").await.ok().flatten() };
        assert_eq!(state().await.as_deref(), Some("free"));
        let before = tile_text().await;
        wall.mark_document().await;

        // Bob books in his own browser.
        let start = soon();
        let end = start + chrono::Duration::minutes(30);
        let start_time = shown_time(&wall, &crate::seed::rfc3339(start)).await;
        assert!(!before.contains(&start_time), "the tile does not show {start_time} before: {before:?}");
        booker.sign_in("bob", PASSWORD).await;
        booker.navigate(&format!("/resources/{room}")).await;
        booker.set_value("book-start", &input_value(start)).await;
        booker.set_value("book-end", &input_value(end)).await;
        booker.click("book-submit").await;

        // The wall shows it: the next booking's start, "free until" it.
        let shown = wall
            .wait_until(&format!("the board tile to show the booking at {start_time}"), || async {
                let text = tile_text().await;
                text.contains(&start_time).then_some(text)
            })
            .await;
        assert_eq!(state().await.as_deref(), Some("free"), "free until the booking starts: {shown:?}");
        assert!(wall.still_same_document().await, "the board updated without a reload");
        assert_eq!(reservations_of(&app, &bob).await.len(), 1, "bob's booking is stored");

        // Bob cancels from "mine"; the wall drops it.
        booker.click("nav-mine").await;
        booker.click("cancel-reservation").await;
        booker.click("cancel-confirm").await; // the page's "are you sure" dialog
        wall.wait_until("the board tile to drop the cancelled booking", || async {
            (!tile_text().await.contains(&start_time)).then_some(())
        })
        .await;
        assert_eq!(state().await.as_deref(), Some("free"));
        assert!(wall.still_same_document().await, "the board updated without a reload");
        let mine = reservations_of(&app, &bob).await;
        assert!(mine.iter().all(|r| r["status"] != "active"), "the booking is cancelled: {mine:?}");
    }
}
