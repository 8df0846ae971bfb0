//! Attacks on queries, performed on SQLite and PostgreSQL (docs/src/security.md): unbounded lists,
//! statements that would run for ever, bodies that are not UTF-8, and the inputs the original
//! accepted (booleans, Unicode names, tag order, the 7-day schema rule).

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::booking::at;
use crate::support::{Backend, TestApp, TestUser};

/// The tag limit of a resource and of a search (`MAX_TAGS`).
const MAX_TAGS: usize = 50;

fn tags_query(count: usize, spelling: impl Fn(usize) -> String) -> String {
    (0..count)
        .map(|i| format!("tags={}", spelling(i)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The single 422 entry of a response, checked to be Pydantic's `too_long` at `loc` naming `max`.
async fn assert_too_long(response: reqwest::Response, loc: Value, max: usize) {
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    let error = &body["detail"][0];
    assert_eq!(error["type"], "too_long", "{body}");
    assert_eq!(error["loc"], loc, "{body}");
    let msg = error["msg"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!("List should have at most {max} items")),
        "{msg}"
    );
}

fn names(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

both_backends! {
    async fn a_search_for_500_tags_is_refused_naming_the_limit_and_the_limit_works(app: TestApp) {
        let admin = app.admin().await;
        let every: Vec<String> = (0..MAX_TAGS).map(|i| format!("t{i}")).collect();
        app.create_resource(&admin, json!({"name": "All tags", "tags": every})).await;
        app.create_resource(&admin, json!({"name": "All but one", "tags": every[1..].to_vec()})).await;

        // The hostile request, anonymous: 500 tags.
        let hostile = app.get(&format!("/api/v1/resources/search?{}&status=all", tags_query(500, |i| format!("t{i}")))).await;
        assert_too_long(hostile, json!(["query", "tags"]), MAX_TAGS).await;
        let one_over = app.get(&format!("/api/v1/resources/search?{}&status=all", tags_query(MAX_TAGS + 1, |i| format!("t{i}")))).await;
        assert_too_long(one_over, json!(["query", "tags"]), MAX_TAGS).await;

        // At the limit the filter works: every tag (case-insensitively), as one predicate.
        let at_limit = app.get(&format!("/api/v1/resources/search?{}&status=all", tags_query(MAX_TAGS, |i| format!("T{i}")))).await;
        assert_eq!(at_limit.status(), 200);
        assert_eq!(names(&at_limit.json().await.unwrap()), ["All tags"]);
        let two: Value = app.get("/api/v1/resources/search?tags=t1&tags=T2&tags=t1&status=all").await.json().await.unwrap();
        assert_eq!(names(&two), ["All but one", "All tags"], "a repeated tag is one tag");
        let missing: Value = app.get("/api/v1/resources/search?tags=t1&tags=nowhere&status=all").await.json().await.unwrap();
        assert_eq!(names(&missing), Vec::<String>::new());
    }

    async fn every_list_a_client_sends_is_bounded(app: TestApp) {
        let admin = app.admin().await;
        let room = app.resource(&admin, "Room").await;
        let many = |n: usize| (0..n).map(|i| format!("x{i}")).collect::<Vec<_>>();

        let create = app.post_json_as(&admin, "/api/v1/resources", &json!({"name": "Tagged", "tags": many(MAX_TAGS + 1)})).await;
        assert_too_long(create, json!(["body", "tags"]), MAX_TAGS).await;
        let update = app.put_json_as(&admin, &format!("/api/v1/resources/{room}"), &json!({"tags": many(500)})).await;
        assert_too_long(update, json!(["body", "tags"]), MAX_TAGS).await;
        let resource: Value = app.get(&format!("/api/v1/resources/{room}")).await.json().await.unwrap();
        assert_eq!(resource["tags"], json!([]), "nothing was written");

        let events = vec!["reservation.created"; 33];
        let webhook = app.post_json_as(&admin, "/api/v1/webhooks", &json!({"url": "https://example.com/hook", "events": events})).await;
        assert_too_long(webhook, json!(["body", "events"]), 32).await;

        let uris: Vec<String> = (0..11).map(|i| format!("https://example.com/cb{i}")).collect();
        let client = app.post_json_as(&admin, "/api/v1/oauth/clients", &json!({"client_name": "c", "redirect_uris": uris})).await;
        assert_too_long(client, json!(["body", "redirect_uris"]), 10).await;

        let series = json!({"resource_id": room, "start_time": at(9, 0), "end_time": at(10, 0),
            "recurrence": {"frequency": "weekly", "days_of_week": [0, 1, 2, 3, 4, 5, 6, 0], "end_type": "after_count", "occurrence_count": 2}});
        let series = app.post_json_as(&admin, "/api/v1/reservations/recurring", &series).await;
        assert_too_long(series, json!(["body", "recurrence", "days_of_week"]), 7).await;

        let day = |d: i64| json!({"day_of_week": d % 7, "open_time": "08:00", "close_time": "18:00"});
        let hours = json!({"hours": (0..8).map(day).collect::<Vec<_>>()});
        let hours = app.put_json_as(&admin, &format!("/api/v1/resources/{room}/business-hours"), &hours).await;
        assert_too_long(hours, json!(["body", "hours"]), 7).await;
        assert_eq!(app.stored_reservations("active").await, 0);
    }

    async fn json_bodies_that_are_not_utf8_are_refused_everywhere(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room").await;
        // Invalid UTF-8 hidden where serde would not look: in a field nobody reads.
        let with_bad_bytes = |json: &str| {
            let mut bytes = json.trim_end_matches('}').as_bytes().to_vec();
            bytes.extend_from_slice(b", \"ignored\": \"\xff\xfe\"}");
            bytes
        };
        let attempts = [
            ("PATCH", "/api/v1/users/me/preferences".to_owned(), with_bad_bytes(r#"{"reminder_hours": 2}"#)),
            ("POST", "/api/v1/resources".to_owned(), with_bad_bytes(r#"{"name": "Sneaky"}"#)),
            ("POST", "/api/v1/reservations".to_owned(), with_bad_bytes(&json!({"resource_id": room, "start_time": at(9, 0), "end_time": at(10, 0)}).to_string())),
            ("PUT", format!("/api/v1/resources/{room}"), with_bad_bytes(r#"{"description": "changed"}"#)),
        ];
        for (method, path, body) in attempts {
            let user = if method == "PATCH" { &bob } else { &admin };
            let response = app
                .request_as(user, method.parse().unwrap(), &path)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 422, "{method} {path}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["detail"][0]["type"], "json_invalid", "{method} {path}: {body}");
        }
        let me: Value = app.get_as(&bob, "/api/v1/users/me").await.json().await.unwrap();
        assert_eq!(me["reminder_hours"], 24, "the preferences did not change");
        let listed: Value = app.get("/api/v1/resources").await.json().await.unwrap();
        assert_eq!(names(&listed), ["Room"]);
        assert_eq!(listed["data"][0]["description"], Value::Null);
        assert_eq!(app.stored_reservations("active").await, 0);
    }

    async fn non_ascii_names_and_tags_are_found_case_insensitively(app: TestApp) {
        let admin = app.admin().await;
        app.create_resource(&admin, json!({"name": "Sala de reunión Ñandú", "tags": ["Ñandú", "Éclair"]})).await;
        app.resource(&admin, "Other").await;
        for q in ["Sala de reunión Ñandú", "sala de reunión ñandú", "SALA DE REUNIÓN ÑANDÚ", "ñandú", "éclair"] {
            let found: Value = app.get(&format!("/api/v1/resources/search?status=all&q={}", urlencode(q))).await.json().await.unwrap();
            assert_eq!(names(&found), ["Sala de reunión Ñandú"], "q={q}");
        }
        let by_tag: Value = app.get(&format!("/api/v1/resources/search?status=all&tags={}", urlencode("ÉCLAIR"))).await.json().await.unwrap();
        assert_eq!(names(&by_tag), ["Sala de reunión Ñandú"]);
    }

    async fn tags_come_back_in_the_order_given(app: TestApp) {
        let admin = app.admin().await;
        let created = app.post_json_as(&admin, "/api/v1/resources", &json!({"name": "Lab", "tags": ["zeta", "alpha", "Mid", "ALPHA"]})).await;
        assert_eq!(created.status(), 201);
        let id = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let order = json!(["zeta", "alpha", "Mid"]);
        let one: Value = app.get(&format!("/api/v1/resources/{id}")).await.json().await.unwrap();
        assert_eq!(one["tags"], order);
        let listed: Value = app.get("/api/v1/resources").await.json().await.unwrap();
        assert_eq!(listed["data"][0]["tags"], order);

        let updated: Value = app.put_json_as(&admin, &format!("/api/v1/resources/{id}"), &json!({"tags": ["b", "c", "a"]})).await.json().await.unwrap();
        assert_eq!(updated["tags"], json!(["b", "c", "a"]));
        let renamed = app.put_json_as(&admin, "/api/v1/resources/tags/rename", &json!({"old_name": "c", "new_name": "z"})).await;
        assert_eq!(renamed.status(), 200);
        let one: Value = app.get(&format!("/api/v1/resources/{id}")).await.json().await.unwrap();
        assert_eq!(one["tags"], json!(["b", "z", "a"]), "a renamed tag keeps its place");
    }

    async fn a_booking_longer_than_seven_days_is_a_validation_error(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room").await;
        let eight_days = app.book(&bob, room, &at(9, 0), &at(9 + 8 * 24, 0)).await;
        assert_eq!(eight_days.status(), 422);
        let body: Value = eight_days.json().await.unwrap();
        assert_eq!(body["detail"][0]["type"], "value_error", "{body}");
        assert_eq!(body["detail"][0]["loc"], json!(["body", "end_time"]));
        assert_eq!(body["detail"][0]["msg"], "Value error, Reservation cannot exceed 7 days");
        // Within the schema's 7 days, the configurable maximum (24 hours) still answers 400.
        let two_days = app.book(&bob, room, &at(9, 0), &at(9 + 48, 0)).await;
        assert_eq!(two_days.status(), 400);
        assert_eq!(app.stored_reservations("active").await, 0);
    }

    async fn booleans_are_read_as_the_original_read_them(app: TestApp) {
        app.resource(&app.admin().await, "Room").await;
        for yes in ["true", "True", "TRUE", "1", "yes", "Yes", "on", "ON", "t", "y"] {
            let page: Value = app.get(&format!("/api/v1/resources?include_total={yes}")).await.json().await.unwrap();
            assert_eq!(page["total_count"], 1, "include_total={yes}");
        }
        for no in ["false", "False", "0", "no", "NO", "off", "Off", "f", "n"] {
            let page: Value = app.get(&format!("/api/v1/resources?include_total={no}")).await.json().await.unwrap();
            assert_eq!(page["total_count"], Value::Null, "include_total={no}");
        }
        let refused = app.get("/api/v1/resources?include_total=maybe").await;
        assert_eq!(refused.status(), 422);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["detail"][0]["loc"], json!(["query", "include_total"]));
        // A text parameter spelled like a boolean is left alone.
        let text: Value = app.get("/api/v1/resources/search?q=True&status=all&available_only=False").await.json().await.unwrap();
        assert_eq!(names(&text), Vec::<String>::new());
    }

    async fn the_original_cli_lists_work_as_it_sends_them(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room").await;
        let booking: Value = app.book(&bob, room, &at(9, 0), &at(10, 0)).await.json().await.unwrap();
        let cancelled: Value = app.book(&bob, room, &at(11, 0), &at(12, 0)).await.json().await.unwrap();
        let cancel = app.post_json_as(&bob, &format!("/api/v1/reservations/{}/cancel", cancelled["id"]), &json!({})).await;
        assert_eq!(cancel.status(), 200);
        let waiting = app.post_json_as(&bob, "/api/v1/waitlist", &json!({"resource_id": room, "desired_start": at(9, 0), "desired_end": at(10, 0)})).await;
        assert_eq!(waiting.status(), 201, "{}", waiting.text().await.unwrap());

        // The requests of the original CLI (Python `requests` writes booleans as True/False).
        let anonymous = [
            ("resources list", "/api/v1/resources?limit=20&sort_by=name&sort_order=asc&include_total=True", 1),
            ("resources search", "/api/v1/resources/search?q=Room&available_only=True&limit=20&include_total=True", 1),
            ("resources search --all", "/api/v1/resources/search?available_only=False&limit=20&include_total=True", 1),
        ];
        for (command, path, total) in anonymous {
            let response = app.get(path).await;
            assert_eq!(response.status(), 200, "{command}: {path}");
            assert_eq!(response.json::<Value>().await.unwrap()["total_count"], total, "{command}");
        }
        let signed_in = [
            ("reservations list", "/api/v1/reservations/my?include_cancelled=False&upcoming=False&limit=20&sort_by=start_time&sort_order=desc&include_total=True", 1),
            ("reservations list -c -u", "/api/v1/reservations/my?include_cancelled=True&upcoming=True&limit=20&sort_by=start_time&sort_order=desc&include_total=True", 2),
            ("upcoming", "/api/v1/reservations/my?sort_by=start_time&sort_order=asc&upcoming=True&include_cancelled=False&include_total=True", 1),
            ("waitlist list", "/api/v1/waitlist?include_completed=False&limit=20&sort_by=created_at&sort_order=desc&include_total=True", 1),
        ];
        for (command, path, total) in signed_in {
            let response = app.get_as(&bob, path).await;
            assert_eq!(response.status(), 200, "{command}: {path}");
            let page: Value = response.json().await.unwrap();
            assert_eq!(page["total_count"], total, "{command}: {page}");
        }
        let upcoming: Value = app.get_as(&bob, "/api/v1/reservations/my?sort_by=start_time&sort_order=asc&upcoming=True").await.json().await.unwrap();
        assert_eq!(upcoming["data"][0]["id"], booking["id"]);
    }
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A server whose statements may run one second.
async fn impatient_app(backend: Backend) -> Option<TestApp> {
    TestApp::builder(backend)
        .settings(|args| args.statement_timeout_seconds = Some("1".into()))
        .spawn()
        .await
}

/// Makes every insert into `resources` run for ever (hours): a genuinely expensive statement,
/// planted in the database as an attacker's request would cause one.
async fn plant_a_slow_insert(app: &TestApp) {
    let db = app.database().connect().await;
    let sql = match app.database().backend() {
        Backend::Postgres => {
            "CREATE FUNCTION slow_down() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3600); RETURN NEW; END $$;
             CREATE TRIGGER resources_slow BEFORE INSERT ON resources FOR EACH ROW EXECUTE FUNCTION slow_down();"
        }
        Backend::Sqlite => {
            // 2,000³ combinations: hours of work for SQLite's virtual machine.
            "CREATE TABLE slow_rows (x INTEGER);
             WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000) INSERT INTO slow_rows SELECT x FROM n;
             CREATE TRIGGER resources_slow AFTER INSERT ON resources BEGIN
                 SELECT COUNT(*) FROM slow_rows a, slow_rows b, slow_rows c WHERE a.x + b.x + c.x < 0;
             END;"
        }
    };
    let mut tx = db.begin().await.unwrap();
    tx.execute_batch(sql).await.unwrap();
    tx.commit().await.unwrap();
    db.close().await;
}

async fn remove_the_slow_insert(app: &TestApp) {
    let db = app.database().connect().await;
    let sql = match app.database().backend() {
        Backend::Postgres => "DROP TRIGGER resources_slow ON resources",
        Backend::Sqlite => "DROP TRIGGER resources_slow",
    };
    let mut tx = db.begin().await.unwrap();
    tx.execute_batch(sql).await.unwrap();
    tx.commit().await.unwrap();
    db.close().await;
}

/// PostgreSQL: statements of this database still running the slow insert.
async fn still_running(app: &TestApp) -> i64 {
    let db = app.database().connect().await;
    let row = db
        .query_one(
            "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE 'INSERT INTO resources%'",
            vec![],
        )
        .await
        .unwrap();
    db.close().await;
    row.get("n").unwrap()
}

async fn a_statement_past_the_timeout_is_cancelled_and_the_server_keeps_serving(backend: Backend) {
    let Some(app) = impatient_app(backend).await else {
        return;
    };
    let admin: TestUser = app.admin().await;
    plant_a_slow_insert(&app).await;

    let response = app
        .request_as(&admin, reqwest::Method::POST, "/api/v1/resources")
        .json(&json!({"name": "Slow"}))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("an answer, not a hung request");
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["detail"],
        "The request took too long and was cancelled; narrow it down or retry later"
    );

    if backend == Backend::Postgres {
        // Cancelled by the database itself, not merely abandoned by the server.
        crate::support::timers::eventually("the slow statement to stop", || async {
            (still_running(&app).await == 0).then_some(())
        })
        .await;
    }
    // Nothing half-written, and the server (its SQLite writer included) serves the next request.
    let listed: Value = app
        .get("/api/v1/resources?include_total=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total_count"], 0);
    remove_the_slow_insert(&app).await;
    let created = app
        .post_json_as(&admin, "/api/v1/resources", &json!({"name": "Fast"}))
        .await;
    assert_eq!(created.status(), 201);
}

mod statement_timeout {
    use super::*;

    #[actix_web::test]
    async fn sqlite() {
        a_statement_past_the_timeout_is_cancelled_and_the_server_keeps_serving(Backend::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        a_statement_past_the_timeout_is_cancelled_and_the_server_keeps_serving(Backend::Postgres).await;
    }
}
