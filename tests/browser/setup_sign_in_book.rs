//! The first user's path on a fresh install: first-run setup in the browser (`#/setup`), sign
//! out and in again, book a slot on the resource's page, and find the booking in `#/mine`.

use crate::both_backends;
use crate::harness;
use crate::seed::{input_value, reservations_of, resource, tomorrow_at};
use crate::support::PASSWORD;

both_backends! {
    async fn setup_sign_in_and_book(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };

        // Setup, from the browser, on a server nobody has set up.
        browser.goto("/setup").await;
        browser.fill("setup-username", "root").await;
        browser.fill("setup-password", PASSWORD).await;
        if browser.shows("setup-token").await {
            let token = app.setup_token.clone().expect("a fresh server logs a setup token");
            browser.fill("setup-token", &token).await;
        }
        browser.click("setup-submit").await;
        browser.wait_for_text("nav-user", "root").await;

        // Sign out, then in again.
        browser.click("signout").await;
        browser.find("signin-username").await;
        assert!(!browser.shows("nav-user").await, "signed out, the shell shows no user");
        browser.sign_in("root", PASSWORD).await;

        // A resource to book (made through the API: not what this flow is about).
        let root = app.sign_in("root", PASSWORD).await;
        let room = resource(&app, &root, "Blue Room").await;

        // Book tomorrow 10:00–11:00 on the resource's page.
        let (start, end) = (tomorrow_at(10), tomorrow_at(11));
        browser.navigate(&format!("/resources/{room}")).await;
        browser.set_value("book-start", &input_value(start)).await;
        browser.set_value("book-end", &input_value(end)).await;
        browser.click("book-submit").await;
        browser
            .wait_until("the booking to be stored", || async {
                let mine = reservations_of(&app, &root).await;
                (mine.len() == 1).then_some(())
            })
            .await;
        let booked = reservations_of(&app, &root).await.remove(0);
        assert_eq!(booked["resource_id"], room);
        assert_eq!(booked["start_time"], crate::seed::rfc3339(start), "the form's time is meant in the resource's zone");
        assert_eq!(booked["end_time"], crate::seed::rfc3339(end));

        // The booking is listed in "mine", with its resource.
        browser.click("nav-mine").await;
        let row = browser
            .find_css(&format!("[data-test=\"my-reservation\"][data-reservation-id=\"{}\"]", booked["id"]))
            .await;
        let text = row.text().await.unwrap_or_default();
        assert!(text.contains("Blue Room"), "the row names the resource: {text:?}");
        assert!(browser.shows("cancel-reservation").await, "a booking can be cancelled from the list");
    }
}
