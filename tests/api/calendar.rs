//! Calendar feeds and exports: what a calendar app receives (checked as RFC 5545 text), who may
//! read it, and the secret feed URL's life.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::booking::at;
use crate::support::timers::eventually;
use crate::support::{Backend, TestApp, TestUser};

/// The content lines of an `.ics` body, after checking its physical form: every line ends with
/// CRLF and is at most 75 octets; folded lines are joined again.
fn content_lines(body: &str) -> Vec<String> {
    assert!(body.ends_with("\r\n"), "the last line ends with CRLF");
    let mut lines: Vec<String> = Vec::new();
    for physical in body[..body.len() - 2].split("\r\n") {
        assert!(!physical.contains(['\r', '\n']), "a bare line break in {physical:?}");
        assert!(physical.len() <= 75, "{} octets: {physical:?}", physical.len());
        match physical.strip_prefix(' ') {
            Some(continued) => lines.last_mut().expect("a first line").push_str(continued),
            None => lines.push(physical.to_owned()),
        }
    }
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
    lines
}

/// The `VEVENT`s of an `.ics` body, each as its content lines.
fn events(body: &str) -> Vec<Vec<String>> {
    let mut events = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in content_lines(body) {
        match line.as_str() {
            "BEGIN:VEVENT" => current = Some(Vec::new()),
            "END:VEVENT" => events.push(current.take().expect("BEGIN before END")),
            _ => {
                if let Some(event) = current.as_mut() {
                    event.push(line);
                }
            }
        }
    }
    events
}

/// The value of property `name` in an event.
fn property<'a>(event: &'a [String], name: &str) -> &'a str {
    let prefix = format!("{name}:");
    event
        .iter()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name} in {event:?}"))
}

fn uids(body: &str) -> Vec<String> {
    events(body).iter().map(|e| property(e, "UID").to_owned()).collect()
}

fn uid(id: i64) -> String {
    format!("reservation-{id}@resource-reserver")
}

async fn id_of(response: reqwest::Response) -> i64 {
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn subscription(app: &TestApp, user: &TestUser) -> Value {
    let response = app.get_as(user, "/api/v1/calendar/subscription-url").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

async fn fetch_feed(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    app.get(&format!("/api/v1/calendar/feed/{token}.ics{query}")).await
}

async fn feed_text(app: &TestApp, token: &str, query: &str) -> String {
    let response = fetch_feed(app, token, query).await;
    assert_eq!(response.status(), 200, "feed{query}");
    response.text().await.unwrap()
}

async fn assert_invalid_token(response: reqwest::Response) {
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"detail": "Invalid calendar token"})
    );
}

const BOOKED_AT: &str = "2030-01-03T10:00:00Z";
const BOOKED_UNTIL: &str = "2030-01-03T11:00:00Z";

both_backends! {
    #[app(clock, long_tokens)]
    async fn a_feed_shows_the_owners_bookings_in_its_window_as_valid_icalendar(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let (bob, carol) = (app.user("bob").await, app.user("carol").await);
        let tail = "— Zürich Hauptbahnhof, Konferenzraum mit Aussicht 🏔️🏔️ und Kaffeemaschine ☕";
        let name = format!("Room 1, east; \\\"big\"\nwing 🚀 {tail}");
        let room = app.create_resource(&admin, json!({"name": name, "tags": ["big", "east"]})).await;
        let kept = id_of(app.book(&bob, room, BOOKED_AT, BOOKED_UNTIL).await).await;
        let cancelled = id_of(app.book(&bob, room, "2030-01-03T12:00:00Z", "2030-01-03T13:00:00Z").await).await;
        app.post_json_as(&bob, &format!("/api/v1/reservations/{cancelled}/cancel"), &json!({})).await;
        let carols = id_of(app.book(&carol, room, "2030-01-03T14:00:00Z", "2030-01-03T15:00:00Z").await).await;
        let gated = app.resource(&admin, "Gated").await;
        let settings = json!({"requires_approval": true, "default_approver_id": admin.id});
        app.put_json_as(&admin, &format!("/api/v1/approvals/resources/{gated}/settings"), &settings).await;
        let pending = id_of(app.book(&bob, gated, "2030-01-03T10:30:00Z", BOOKED_UNTIL).await).await;

        let subscribed = subscription(&app, &bob).await;
        let token = subscribed["token"].as_str().unwrap().to_owned();
        assert!(token.len() == 64 && token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        // No API_URL configured: the URL is built from the request's scheme and host.
        assert_eq!(subscribed["url"], format!("{}/api/v1/calendar/feed/{token}.ics", app.address));
        assert_eq!(subscription(&app, &bob).await, subscribed, "the same URL is shown again");

        let response = app.client.get(subscribed["url"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers();
        assert_eq!(headers["content-type"], "text/calendar; charset=utf-8");
        assert_eq!(headers["content-disposition"], "attachment; filename=reservations.ics");
        assert_eq!(headers["cache-control"], "no-cache, must-revalidate");
        let body = response.text().await.unwrap();
        let lines = content_lines(&body);
        for expected in ["PRODID:-//Resource-Reserver//EN", "VERSION:2.0", "METHOD:PUBLISH", "X-WR-CALNAME:Resource Reserver"] {
            assert!(lines.iter().any(|l| l == expected), "{expected}");
        }
        // Bob's booking and request; not his cancelled booking, not Carol's.
        assert_eq!(uids(&body), [uid(kept), uid(pending)]);
        assert!(!body.contains(&uid(cancelled)) && !body.contains(&uid(carols)));
        let shown = events(&body);
        let escaped = format!("Room 1\\, east\\; \\\\\"big\"\\nwing 🚀 {}", tail.replace(',', "\\,"));
        assert_eq!(property(&shown[0], "SUMMARY"), format!("{escaped} Reservation"));
        assert_eq!(property(&shown[0], "LOCATION"), escaped);
        assert_eq!(property(&shown[0], "DESCRIPTION"), format!("Reserved by bob\\nReservation ID: #{kept}\\nTags: big\\, east"));
        assert_eq!(property(&shown[0], "DTSTART"), "20300103T100000Z");
        assert_eq!(property(&shown[0], "DTEND"), "20300103T110000Z");
        assert_eq!(property(&shown[0], "DTSTAMP"), "20300101T090000Z");
        assert_eq!(property(&shown[0], "CREATED"), "20300101T090000Z");
        assert_eq!(property(&shown[0], "STATUS"), "CONFIRMED");
        assert_eq!(property(&shown[1], "STATUS"), "TENTATIVE", "waiting for approval");
        assert!(body.lines().count() > lines.len(), "the long lines were folded");

        let mine = app.get_as(&bob, "/api/v1/calendar/my-feed").await;
        assert_eq!(mine.headers()["content-disposition"], "attachment; filename=reservations.ics");
        assert_eq!(mine.text().await.unwrap(), body, "my-feed is the same feed");
        assert_eq!(uids(&app.get_as(&carol, "/api/v1/calendar/my-feed").await.text().await.unwrap()), [uid(carols)]);

        // The window: bookings starting from days_back days ago to days_ahead days ahead.
        assert_eq!(uids(&feed_text(&app, &token, "?days_ahead=2").await), Vec::<String>::new(), "2 days and 1 hour ahead");
        assert_eq!(uids(&feed_text(&app, &token, "?days_ahead=3&days_back=0").await).len(), 2);
        for (query, field) in [
            ("days_back=366", "days_back"),
            ("days_back=-1", "days_back"),
            ("days_ahead=0", "days_ahead"),
            ("days_ahead=366", "days_ahead"),
            ("days_ahead=soon", "days_ahead"),
        ] {
            let response = fetch_feed(&app, &token, &format!("?{query}")).await;
            assert_eq!(response.status(), 422, "{query}");
            assert_eq!(response.json::<Value>().await.unwrap()["detail"][0]["loc"], json!(["query", field]), "{query}");
            assert_eq!(app.get_as(&bob, &format!("/api/v1/calendar/my-feed?{query}")).await.status(), 422, "{query}");
        }

        // Once it has taken place a booking stays in the feed for days_back days; the request
        // nobody answered was rejected at its start and leaves it.
        clock.advance(Duration::from_secs(51 * 3600)); // 2030-01-03 12:00
        eventually("the booking expires", || async { (app.stored_reservations("expired").await == 1).then_some(()) }).await;
        eventually("the request is rejected", || async { (app.stored_reservations("rejected").await == 1).then_some(()) }).await;
        let after = feed_text(&app, &token, "").await;
        assert_eq!(uids(&after), [uid(kept)]);
        assert_eq!(property(&events(&after)[0], "STATUS"), "CONFIRMED");
        assert_eq!(uids(&feed_text(&app, &token, "?days_back=0").await), Vec::<String>::new());
    }
}

both_backends! {
    async fn exports_belong_to_the_owner_and_to_roles_that_read_every_reservation(app: TestApp) {
        let admin = app.admin().await;
        let (bob, eve, mia) = (app.user("bob").await, app.user("eve").await, app.manager("mia").await);
        let room = app.resource(&admin, "Room 7").await;
        let booked = id_of(app.book(&bob, room, &at(10, 0), &at(11, 0)).await).await;
        let path = format!("/api/v1/calendar/export/{booked}.ics");

        let response = app.get_as(&bob, &path).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/calendar; charset=utf-8");
        assert_eq!(response.headers()["content-disposition"], format!("attachment; filename=reservation-{booked}.ics"));
        let body = response.text().await.unwrap();
        assert!(!body.contains("X-WR-CALNAME"), "single exports are not a named calendar");
        assert_eq!(uids(&body), [uid(booked)]);
        assert_eq!(property(&events(&body)[0], "DESCRIPTION"), format!("Reserved by bob\\nReservation ID: #{booked}"));

        // Anyone else: the reservation does not exist. A manager reads every reservation.
        assert_eq!(app.assert_denied(&eve, reqwest::Method::GET, &path, &json!({})).await, 404);
        assert_eq!(app.get_as(&eve, &path).await.json::<Value>().await.unwrap(), json!({"detail": "Reservation not found"}));
        assert_eq!(app.get_as(&mia, &path).await.status(), 200);
        assert_eq!(app.get_as(&bob, "/api/v1/calendar/export/999999.ics").await.status(), 404);
        assert_eq!(app.get_as(&bob, "/api/v1/calendar/export/abc.ics").await.status(), 422);
        assert_eq!(uids(&app.get_as(&eve, "/api/v1/calendar/my-feed?days_ahead=365").await.text().await.unwrap()).len(), 0);

        // Any status of one's own reservation can be exported.
        app.post_json_as(&bob, &format!("/api/v1/reservations/{booked}/cancel"), &json!({})).await;
        let body = app.get_as(&bob, &path).await.text().await.unwrap();
        assert_eq!(property(&events(&body)[0], "STATUS"), "CANCELLED");
    }
}

/// A server whose public URL is configured (`API_URL` / `API_BASE_URL`, given here as its flag).
async fn with_public_url(backend: Backend) -> Option<TestApp> {
    TestApp::builder(backend)
        .settings(|args| args.api_url = Some("https://calendar.example.com/".into()))
        .spawn()
        .await
}

/// The token's life: shown once per user, replaced at once by regeneration, kept only as a
/// digest, useless as an API credential, dead while its account is disabled.
async fn feed_tokens_are_secret_per_user_and_revocable(app: TestApp) {
    let admin = app.admin().await;
    let (bob, carol) = (app.user("bob").await, app.user("carol").await);
    let old = subscription(&app, &bob).await["token"].as_str().unwrap().to_owned();
    let carols = subscription(&app, &carol).await["token"].as_str().unwrap().to_owned();
    assert_ne!(old, carols);
    feed_text(&app, &old, "").await;

    // Regenerating (with an Idempotency-Key: the answer holds a secret and is not stored).
    let response = app
        .request_as(&bob, reqwest::Method::POST, "/api/v1/calendar/regenerate-token")
        .header("Idempotency-Key", "rotate-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let text = response.text().await.unwrap();
    assert!(text.starts_with("{\"token\":"), "the original's key order: {text}");
    let regenerated: Value = serde_json::from_str(&text).unwrap();
    let new = regenerated["token"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(
        regenerated["url"],
        format!("https://calendar.example.com/api/v1/calendar/feed/{new}.ics")
    );
    assert_eq!(
        subscription(&app, &bob).await,
        json!({"url": regenerated["url"], "token": new})
    );
    assert_invalid_token(fetch_feed(&app, &old, "").await).await;
    feed_text(&app, &new, "").await;
    feed_text(&app, &carols, "").await; // Carol's feed is hers alone: untouched

    // Only digests rest in the database.
    let db = app.database().connect().await;
    let rows = db.query("SELECT * FROM calendar_feeds", vec![]).await.unwrap();
    let stored = format!("{rows:?}");
    let idempotency = format!(
        "{:?}",
        db.query("SELECT * FROM idempotency_keys", vec![]).await.unwrap()
    );
    db.close().await;
    assert_eq!(rows.len(), 2);
    for token in [&new, &carols] {
        assert!(!stored.contains(token.as_str()) && !idempotency.contains(token.as_str()));
    }
    assert!(stored.contains(&resource_reserver::secret::digest(&new)));

    // Wrong and malformed tokens.
    for wrong in [
        new.to_uppercase(),
        "0".repeat(64),
        format!("{}g", &new[..63]),
        "abc".into(),
        format!("{new}0"),
    ] {
        assert_invalid_token(fetch_feed(&app, &wrong, "").await).await;
    }
    assert_eq!(app.get(&format!("/api/v1/calendar/feed/{new}")).await.status(), 404);

    // The feed token is no API credential.
    for path in [
        "/api/v1/users/me",
        "/api/v1/calendar/my-feed",
        "/api/v1/calendar/subscription-url",
    ] {
        let response = app.client.get(app.url(path)).bearer_auth(&new).send().await.unwrap();
        assert_eq!(response.status(), 401, "{path}");
    }

    // A delegated OAuth2 token reads the calendar but cannot obtain a feed token, which would
    // outlive it.
    let client = json!({"client_name": "App", "redirect_uris": ["https://app.example.com/cb"], "scope": "read"});
    let client: Value = app
        .post_json_as(&bob, "/api/v1/oauth/clients", &client)
        .await
        .json()
        .await
        .unwrap();
    let grant = [
        ("grant_type", "client_credentials"),
        ("client_id", client["client_id"].as_str().unwrap()),
        ("client_secret", client["client_secret"].as_str().unwrap()),
    ];
    let grant: Value = app
        .client
        .post(app.url("/api/v1/oauth/token"))
        .form(&grant)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let delegated = TestUser {
        token: grant["access_token"].as_str().unwrap().into(),
        ..bob.clone()
    };
    assert_eq!(app.get_as(&delegated, "/api/v1/calendar/my-feed").await.status(), 200);
    assert_eq!(
        app.get_as(&delegated, "/api/v1/calendar/subscription-url")
            .await
            .status(),
        403
    );
    assert_eq!(
        app.post_json_as(&delegated, "/api/v1/calendar/regenerate-token", &json!({}))
            .await
            .status(),
        403
    );

    // A disabled account's feed stops at once, and works again when it is re-enabled.
    let disable = format!("/api/v1/auth/admin/users/{}/disable", bob.id);
    assert_eq!(app.post_json_as(&admin, &disable, &json!({})).await.status(), 200);
    assert_invalid_token(fetch_feed(&app, &new, "").await).await;
    let enable = format!("/api/v1/auth/admin/users/{}/enable", bob.id);
    assert_eq!(app.post_json_as(&admin, &enable, &json!({})).await.status(), 200);
    feed_text(&app, &new, "").await;

    // Guests hold no calendar permission.
    let gus = app.guest("gus").await;
    assert_eq!(
        app.get_as(&gus, "/api/v1/calendar/subscription-url").await.status(),
        403
    );
}

mod feed_tokens {
    use super::*;

    #[actix_web::test]
    async fn sqlite() {
        if let Some(app) = with_public_url(Backend::Sqlite).await {
            feed_tokens_are_secret_per_user_and_revocable(app).await;
        }
    }

    #[actix_web::test]
    async fn postgres() {
        if let Some(app) = with_public_url(Backend::Postgres).await {
            feed_tokens_are_secret_per_user_and_revocable(app).await;
        }
    }
}
