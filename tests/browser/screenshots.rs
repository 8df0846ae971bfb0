//! The README's pictures, written from a seeded server (not a test: ignored, run on purpose):
//!
//! ```text
//! cargo test --test browser -- --ignored readme_screenshots
//! ```
//!
//! writes `docs/screenshots/board.png` (the board of a floor: busy, free until, maintenance)
//! and `docs/screenshots/booking.png` (a resource's page with its booking form and day).

use std::path::PathBuf;
use std::time::Duration;

use crate::harness::{self, Browser, Options};
use crate::seed::{input_value, resource, rfc3339, tomorrow_at};
use crate::support::{Backend, PASSWORD, TestApp};

#[actix_web::test]
#[ignore = "writes docs/screenshots/*.png for the README; run on purpose"]
async fn readme_screenshots() {
    let app = TestApp::spawn(Backend::Sqlite)
        .await
        .expect("SQLite is always available");
    let Some(driver) = harness::driver() else { return };
    let admin = app.admin().await;
    let alice = app.user("alice").await;
    let names = [
        "Aurora (8 seats)",
        "Boreal (4 seats)",
        "Cedar (12 seats)",
        "Delta phone booth",
        "Echo studio",
        "Fjord (6 seats)",
    ];
    let mut rooms = Vec::new();
    for name in names {
        rooms.push(resource(&app, &admin, name).await);
    }
    let now = chrono::Utc::now();
    // Busy now: bookings that start a few seconds from now (the API books only the future).
    let starts = now + chrono::Duration::seconds(4);
    for (room, minutes) in [(rooms[0], 50), (rooms[3], 25)] {
        let response = app
            .book(
                &alice,
                room,
                &rfc3339(starts),
                &rfc3339(starts + chrono::Duration::minutes(minutes)),
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    // Free until a later booking.
    for (room, after) in [(rooms[1], 40), (rooms[2], 95), (rooms[5], 20)] {
        let start = now + chrono::Duration::minutes(after);
        let response = app
            .book(
                &alice,
                room,
                &rfc3339(start),
                &rfc3339(start + chrono::Duration::minutes(60)),
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    let maintenance = app
        .request_as(
            &admin,
            reqwest::Method::PUT,
            &format!("/api/v1/resources/{}/status/unavailable", rooms[4]),
        )
        .send()
        .await
        .expect("request");
    assert!(
        maintenance.status().is_success(),
        "maintenance: {}",
        maintenance.status()
    );
    tokio::time::sleep(Duration::from_secs(6)).await; // the first bookings have started

    let options = Options {
        width: 1280,
        height: 760,
        ..Options::default()
    };
    let browser = Browser::open_with(driver, &app.address, "readme-board", options).await;
    browser.sign_in("admin", PASSWORD).await;
    browser.goto("/board?kiosk=1").await;
    browser
        .wait_until("six tiles", || async {
            (browser.all(&Browser::sel("board-tile")).await.len() == names.len()).then_some(())
        })
        .await;
    browser
        .find_css("[data-test=\"board-tile\"][data-state=\"busy\"]")
        .await;
    write(&browser, "board.png").await;

    browser.goto(&format!("/resources/{}", rooms[1])).await;
    browser.set_value("book-start", &input_value(tomorrow_at(10))).await;
    browser.set_value("book-end", &input_value(tomorrow_at(11))).await;
    browser.find_css("h1").await;
    write(&browser, "booking.png").await;
}

async fn write(browser: &Browser, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    std::fs::create_dir_all(&dir).expect("docs/screenshots");
    let png = browser.client.screenshot().await.expect("a screenshot");
    std::fs::write(dir.join(name), png).expect("writing the screenshot");
    eprintln!("wrote docs/screenshots/{name}");
}
