//! One request can be followed through the logs: a booking sent with `X-Request-Id: abc` logs
//! `abc` at the handler (the `request` span), in its resource actor, at the commit and when the
//! tailer hands its event to the sockets, in the JSON log of the real binary; its outbox row
//! records it. (A child process, so the test reads exactly what an operator's pipeline reads.)

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::process::ServerProcess;
use support::server::{http_client, sign_up_at};
use support::{Backend, TestDatabase};

/// The server on `database`, logging JSON at debug for the server and its actors.
fn json_logging_server(database: &TestDatabase) -> ServerProcess {
    let env = [
        ("DATA_DIR", database.data_dir.path().display().to_string()),
        ("DATABASE_URL", database.url()),
        ("LOG_FORMAT", "json".to_owned()),
        (
            "RUST_LOG",
            "info,resource_reserver=debug,reserver_actors=debug".to_owned(),
        ),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    ServerProcess::start(&env)
}

/// The JSON log lines printed so far that carry `request_id` (in a span or as a field).
fn lines_of(server: &mut ServerProcess, request_id: &str) -> Vec<Value> {
    server
        .output()
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| {
            let in_spans = line["spans"]
                .as_array()
                .is_some_and(|spans| spans.iter().any(|span| span["request_id"] == request_id));
            in_spans || line["fields"]["request_id"] == request_id
        })
        .collect()
}

fn message(line: &Value) -> &str {
    line["fields"]["message"].as_str().unwrap_or_default()
}

fn in_span(line: &Value, name: &str) -> bool {
    line["spans"]
        .as_array()
        .is_some_and(|spans| spans.iter().any(|span| span["name"] == name))
}

async fn a_booking_is_followed_by_its_request_id(database: TestDatabase) {
    let mut server = json_logging_server(&database);
    let address = server.address.clone();
    let admin = sign_up_at(&address, "admin").await;
    let client = http_client();
    let room: Value = client
        .post(format!("{address}/api/v1/resources"))
        .bearer_auth(&admin)
        .json(&json!({"name": "Traced room"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let start = chrono::Utc::now() + chrono::Duration::days(1);
    let booked = client
        .post(format!("{address}/api/v1/reservations"))
        .bearer_auth(&admin)
        .header("X-Request-Id", "abc")
        .json(&json!({
            "resource_id": room["id"],
            "start_time": start.to_rfc3339(),
            "end_time": (start + chrono::Duration::hours(1)).to_rfc3339(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(booked.status(), 201);
    assert_eq!(booked.headers()["x-request-id"], "abc");

    // The event reaches the tailer shortly after the commit, and the request's own last line
    // ("request served", written once the body is sent) may come after the client has read the
    // answer: wait for both.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let lines = loop {
        let lines = lines_of(&mut server, "abc");
        let logged = |text: &str| lines.iter().any(|l| message(l) == text);
        if (logged("publishing an event to the sockets") && logged("request served"))
            || std::time::Instant::now() > deadline
        {
            break lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let all = || lines.iter().map(|l| l.to_string()).collect::<Vec<_>>().join("\n");
    let served = lines
        .iter()
        .find(|l| message(l) == "request served")
        .unwrap_or_else(|| panic!("handler: {}", all()));
    assert_eq!(served["span"]["route"], "/api/v1/reservations", "{served}");
    assert_eq!(served["span"]["user_id"], 1, "{served}");
    assert!(
        lines
            .iter()
            .any(|l| message(l) == "handling a message" && in_span(l, "resource_actor")),
        "actor: {}",
        all()
    );
    assert!(
        lines.iter().any(|l| message(l) == "transaction committed"
            && l["fields"]["request_id"] == "abc"
            && in_span(l, "group_commit")),
        "commit: {}",
        all()
    );
    assert!(
        lines
            .iter()
            .any(|l| message(l) == "publishing an event to the sockets" && l["fields"]["request_id"] == "abc"),
        "tailer: {}",
        all()
    );

    let db = database.connect().await;
    let row = db
        .query_one(
            "SELECT request_id FROM events WHERE kind = 'reservation_created'",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<Option<String>>("request_id").unwrap().as_deref(), Some("abc"));
    db.close().await;
}

#[tokio::test]
async fn a_booking_is_followed_by_its_request_id_on_sqlite() {
    let database = TestDatabase::create(Backend::Sqlite).await.unwrap();
    a_booking_is_followed_by_its_request_id(database).await;
}

#[tokio::test]
async fn a_booking_is_followed_by_its_request_id_on_postgres() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    a_booking_is_followed_by_its_request_id(database).await;
}
