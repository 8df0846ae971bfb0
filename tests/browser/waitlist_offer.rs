//! The waitlist: a user joins the queue for a taken slot on the resource's page; when the slot
//! frees, the offer reaches their open page live (no reload) and they accept it there.

use crate::both_backends;
use crate::harness;
use crate::seed::{input_value, reservations_of, resource, rfc3339, tomorrow_at, waitlist_of};
use crate::support::PASSWORD;

both_backends! {
    async fn a_waitlist_offer_arrives_live_and_is_accepted(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };
        let admin = app.admin().await;
        let room = resource(&app, &admin, "Loft").await;
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let (start, end) = (tomorrow_at(14), tomorrow_at(15));
        let taken = app.book(&alice, room, &rfc3339(start), &rfc3339(end)).await;
        assert_eq!(taken.status(), 201);
        let taken: serde_json::Value = taken.json().await.expect("JSON");

        // Bob finds the slot taken and joins the waitlist from the resource's page.
        browser.sign_in("bob", PASSWORD).await;
        browser.navigate(&format!("/resources/{room}")).await;
        browser.set_value("book-start", &input_value(start)).await;
        browser.set_value("book-end", &input_value(end)).await;
        browser.click("waitlist-join").await;
        let entry = browser
            .wait_until("bob's waitlist entry", || async { waitlist_of(&app, &bob).await.into_iter().next() })
            .await;
        assert_eq!(entry["status"], "waiting");
        browser.click("nav-mine").await;
        browser.find_css("[data-test=\"live-indicator\"][data-status=\"live\"]").await;
        browser.mark_document().await;

        // Alice cancels: the offer reaches Bob's page by itself.
        let cancelled = app
            .post_json_as(&alice, &format!("/api/v1/reservations/{}/cancel", taken["id"]), &serde_json::json!({}))
            .await;
        assert_eq!(cancelled.status(), 200);
        let offer = browser
            .find_css(&format!("[data-test=\"offer\"][data-waitlist-id=\"{}\"]", entry["id"]))
            .await;
        assert!(browser.still_same_document().await, "the offer arrived without a reload");
        let text = offer.text().await.unwrap_or_default();
        assert!(text.contains("Loft"), "the offer names the resource: {text:?}");

        let accept = offer
            .find(fantoccini::Locator::Css("[data-test=\"offer-accept\"]"))
            .await
            .expect("an accept button in the offer");
        browser.click_element(&accept, "offer-accept").await;
        let booked = browser
            .wait_until("bob's booking from the offer", || async {
                reservations_of(&app, &bob).await.into_iter().find(|r| r["status"] == "active")
            })
            .await;
        assert_eq!((booked["resource_id"].as_i64(), booked["start_time"].as_str()), (Some(room), Some(rfc3339(start).as_str())));
        // The page says so: the offer turns into a link to the booking, or goes away.
        browser
            .wait_until("the page to show the accepted offer's booking", || async {
                let offer = format!("[data-test=\"offer\"][data-waitlist-id=\"{}\"]", entry["id"]);
                let gone = browser.all(&offer).await.is_empty();
                (gone || browser.shows("offer-booking-link").await).then_some(())
            })
            .await;
        assert!(browser.still_same_document().await);
        // And "mine" lists it (a fresh visit of the page).
        browser.goto("/mine").await;
        browser
            .find_css(&format!("[data-test=\"my-reservation\"][data-reservation-id=\"{}\"]", booked["id"]))
            .await;
    }
}
