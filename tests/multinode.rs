//! Several server processes on one PostgreSQL database, as a scaled-out deployment runs them:
//! live updates cross processes through `LISTEN/NOTIFY`, a socket resumes on another process
//! with nothing lost or repeated, a waitlist entry is offered a slot freed on another process
//! (even by a cancellation racing its join), and rate limits hold in total across processes.
//!
//! Every test here needs PostgreSQL (skipped loudly without it; `RR_REQUIRE_POSTGRES=1` fails).

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use support::process::ServerProcess;
use support::server::{create_resource_at, http_client, post_at, sign_up_at};
use support::timers::eventually;
use support::{Backend, TestDatabase};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Longest wait for an expected frame (never reached when things work).
const PATIENCE: Duration = Duration::from_secs(10);

/// The settings of every node on `database` (one secret key for all), with `extra` ones.
fn node_env(database: &TestDatabase, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("DATA_DIR", database.data_dir.path().display().to_string()),
        ("DATABASE_URL", database.url()),
        (
            "SECRET_KEY",
            "a-secret-shared-by-every-node-0123456789abcdef".to_owned(),
        ),
    ];
    env.extend(extra.iter().map(|(name, value)| (*name, (*value).to_owned())));
    env
}

fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(name, value)| (*name, value.as_str())).collect()
}

/// `count` server processes on `database`, sharing a secret key, with `extra` settings.
fn nodes(database: &TestDatabase, count: usize, extra: &[(&'static str, &str)]) -> Vec<ServerProcess> {
    let env = node_env(database, extra);
    (0..count).map(|_| ServerProcess::start(&borrowed(&env))).collect()
}

/// Two nodes on one database and a room created through the first, as the tests of one
/// resource served by two nodes begin.
struct TwoNodes {
    /// Kept for the processes' lifetime: dropping it stops them.
    _nodes: Vec<ServerProcess>,
    a: String,
    b: String,
    room: i64,
}

async fn two_nodes_with_a_room(database: &TestDatabase, extra: &[(&'static str, &str)]) -> TwoNodes {
    let nodes = nodes(database, 2, extra);
    let (a, b) = (nodes[0].address.clone(), nodes[1].address.clone());
    let admin = sign_up_at(&a, "admin").await;
    let room = create_resource_at(&a, &admin, "Shared room").await;
    TwoNodes {
        _nodes: nodes,
        a,
        b,
        room,
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A socket to `/ws` of the node at `address` (`http://…`), with `query` appended.
async fn socket(address: &str, token: &str, query: &str) -> Socket {
    let url = format!("{}/ws?token={token}&{query}", address.replacen("http", "ws", 1));
    let (socket, response) = tokio_tungstenite::connect_async(url)
        .await
        .expect("WebSocket handshake");
    assert_eq!(response.status(), 101);
    socket
}

/// The next event frame (one about a reservation), skipping control messages.
async fn next_event(socket: &mut Socket) -> Value {
    next_event_within(socket, PATIENCE).await
}

async fn next_event_within(socket: &mut Socket, patience: Duration) -> Value {
    loop {
        let message = tokio::time::timeout(patience, socket.next())
            .await
            .expect("an event within the patience")
            .expect("the socket is open")
            .expect("a frame");
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text).expect("JSON frame");
            if frame["type"] != "pong" && frame["type"] != "subscribed" && frame.get("reservation_id").is_some() {
                return frame;
            }
        }
    }
}

/// Books hour `hour` of tomorrow on `room` through `address`; the status.
async fn book(address: &str, token: &str, room: i64, hour: i64) -> u16 {
    let start = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc()
        + chrono::Duration::days(2)
        + chrono::Duration::hours(hour);
    http_client()
        .post(format!("{address}/api/v1/reservations"))
        .bearer_auth(token)
        .json(&json!({
            "resource_id": room,
            "start_time": start.to_rfc3339(),
            "end_time": (start + chrono::Duration::hours(1)).to_rfc3339(),
        }))
        .send()
        .await
        .expect("POST /api/v1/reservations")
        .status()
        .as_u16()
}

/// With the outbox poll set to a minute, an event committed through node A still reaches a
/// socket held by node B at once: B's tailer is woken by A's `NOTIFY`, not by its poll. Then
/// the socket moves: closed on B, resumed on A with `since=`, it receives exactly the events
/// committed meanwhile (through both nodes), in order, none twice.
#[tokio::test]
async fn events_cross_nodes_at_once_and_a_socket_resumes_on_another_node() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let TwoNodes { _nodes, a, b, room } =
        two_nodes_with_a_room(&database, &[("EVENTS_POLL_MILLISECONDS", "60000")]).await;
    let user = sign_up_at(&b, "walker").await;

    let mut on_b = socket(&b, &user, "").await;
    // Both nodes have caught up with the outbox before the first booking.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut seen = Vec::new();
    for hour in 0..3 {
        assert_eq!(book(&a, &user, room, hour).await, 201);
        // Well under B's one-minute poll.
        let event = next_event_within(&mut on_b, Duration::from_secs(30)).await;
        assert_eq!(event["type"], "reservation_created");
        seen.push(event["seq"].as_i64().unwrap());
    }
    on_b.close(None).await.unwrap();

    // Missed while away: bookings through both nodes.
    for (hour, node) in [(3, &a), (4, &b), (5, &a)] {
        assert_eq!(book(node, &user, room, hour).await, 201);
    }
    let since = *seen.last().unwrap();
    let mut on_a = socket(&a, &user, &format!("since={since}")).await;
    let mut resumed = Vec::new();
    for _ in 0..3 {
        resumed.push(next_event(&mut on_a).await["seq"].as_i64().unwrap());
    }
    // And a live one after the replay.
    assert_eq!(book(&b, &user, room, 6).await, 201);
    resumed.push(next_event(&mut on_a).await["seq"].as_i64().unwrap());
    assert!(resumed.windows(2).all(|w| w[0] < w[1]), "in order: {resumed:?}");
    assert!(resumed.iter().all(|seq| *seq > since), "nothing repeated: {resumed:?}");
    let stored = database
        .connect()
        .await
        .query_one(
            "SELECT COUNT(*) AS n FROM events WHERE kind = 'reservation_created' AND id > $1",
            resource_reserver::params![since],
        )
        .await
        .unwrap()
        .get::<i64>("n")
        .unwrap();
    assert_eq!(stored, 4, "every event committed since was delivered, and only those");
    // That the live events came at once through `LISTEN` (not the one-minute poll) is what the
    // 30-second patience above proves. Whether the relay had to open its connection twice is not
    // asserted: on a busy PostgreSQL (out of connections) it retries a second later, as designed.
}

/// Waits until `node`'s actor of `room` shows reservation `booked` (it learns of bookings made
/// through other nodes from their events).
async fn until_node_knows(node: &str, room: i64, booked: &Value) {
    let client = http_client();
    eventually(&format!("node {node} knows booking {booked}"), || {
        let request = client.get(format!("{node}/api/v1/resources/{room}/availability?days_ahead=4"));
        async move {
            let schedule = request.send().await.ok()?.json::<Value>().await.ok()?;
            let reservations = schedule["data"]["reservations"].as_array()?.clone();
            reservations.iter().any(|r| r["id"] == *booked).then_some(())
        }
    })
    .await;
}

/// A waitlist joined through node A is offered a slot freed through node B. B's actor of the
/// room was loaded (it served the booking) before the join, which it learns of from the
/// outbox: without that, B would free the slot from a waitlist it thinks empty, and the waiting
/// user would never be offered it.
#[tokio::test]
async fn a_waitlist_joined_on_one_node_is_offered_a_slot_freed_on_another() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let TwoNodes { _nodes, a, b, room } = two_nodes_with_a_room(&database, &[]).await;
    let (holder, waiter) = (sign_up_at(&b, "holder").await, sign_up_at(&a, "waiter").await);
    let client = http_client();
    let at = chrono::Utc::now().date_naive().and_hms_opt(10, 0, 0).unwrap().and_utc() + chrono::Duration::days(2);
    let (start, end) = (at.to_rfc3339(), (at + chrono::Duration::hours(1)).to_rfc3339());
    let booking = json!({"resource_id": room, "start_time": start, "end_time": end});
    let booked: Value = post_at(&b, &holder, "/api/v1/reservations", &booking)
        .await
        .json()
        .await
        .unwrap();
    // A joins a waitlist of a slot it knows is taken (had the join come first, A would have
    // offered the slot it thought free, and the database would have refused that offer: a 409).
    until_node_knows(&a, room, &booked["id"]).await;
    let wish = json!({"resource_id": room, "desired_start": start, "desired_end": end});
    let joined = post_at(&a, &waiter, "/api/v1/waitlist", &wish).await;
    assert_eq!(joined.status(), 201);
    let entry = joined.json::<Value>().await.unwrap()["id"].clone();
    // B follows A's outbox within milliseconds (NOTIFY); the cancellation comes well after.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cancel = format!("/api/v1/reservations/{}/cancel", booked["id"]);
    let cancelled = post_at(&b, &holder, &cancel, &json!({})).await;
    assert_eq!(cancelled.status(), 200);
    let status = client
        .get(format!("{a}/api/v1/waitlist/{entry}"))
        .bearer_auth(&waiter)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["status"]
        .clone();
    assert_eq!(
        status, "offered",
        "the cancellation and the offer are one step, on any node"
    );
}

/// The race [`a_waitlist_joined_on_one_node_is_offered_a_slot_freed_on_another`] leaves out: a
/// join through node A and the cancellation of the slot through node B sent at once, round after
/// round. When they commit within the milliseconds before either node has read the other's
/// event, A records the join as waiting (its actor still sees the booking) and B frees the slot
/// without offering it (its actor does not see the entry yet); each node then reloads on the
/// other's event, and whichever loads last offers the free slot. Every round ends offered.
#[tokio::test]
async fn a_join_racing_a_cancellation_on_another_node_is_offered_the_slot() {
    const ROUNDS: i64 = 20;
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let TwoNodes { _nodes, a, b, room } = two_nodes_with_a_room(&database, &[("RATE_LIMIT_ENABLED", "false")]).await;
    let (holder, waiter) = (sign_up_at(&a, "holder").await, sign_up_at(&a, "waiter").await);
    let first = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc() + chrono::Duration::days(2);
    for round in 0..ROUNDS {
        let start = first + chrono::Duration::hours(round);
        let (start, end) = (start.to_rfc3339(), (start + chrono::Duration::hours(1)).to_rfc3339());
        // Booked through A, so A's actor knows the booking when the join reaches it.
        let booking = json!({"resource_id": room, "start_time": start, "end_time": end});
        let booked = post_at(&a, &holder, "/api/v1/reservations", &booking).await;
        assert_eq!(booked.status(), 201, "round {round}");
        let booked = booked.json::<Value>().await.unwrap()["id"].clone();
        // B's actor must know the booking to cancel it (it learns of it from A's event).
        until_node_knows(&b, room, &booked).await;
        let client = http_client();
        let wish = json!({"resource_id": room, "desired_start": start, "desired_end": end});
        let cancel = format!("/api/v1/reservations/{booked}/cancel");
        let nothing = json!({});
        let (joined, cancelled) = tokio::join!(
            post_at(&a, &waiter, "/api/v1/waitlist", &wish),
            post_at(&b, &holder, &cancel, &nothing),
        );
        assert_eq!(
            (joined.status().as_u16(), cancelled.status().as_u16()),
            (201, 200),
            "round {round}"
        );
        let entry = joined.json::<Value>().await.unwrap()["id"].clone();
        eventually(&format!("round {round}: entry {entry} offered"), || {
            let request = client.get(format!("{a}/api/v1/waitlist/{entry}")).bearer_auth(&waiter);
            async move {
                let status = request.send().await.ok()?.json::<Value>().await.ok()?["status"].clone();
                (status == "offered").then_some(())
            }
        })
        .await;
    }
}

/// Three nodes on one database allow the configured limit in total: 30 registrations from one
/// address, sent at once and spread over the three nodes, are admitted exactly 20 times (the
/// limit of `/api/v1/register`), not 20 per node. (In memory, each node would have admitted its
/// 10.)
#[tokio::test]
async fn three_nodes_allow_the_rate_limit_in_total() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let nodes = nodes(&database, 3, &[("RATE_LIMIT_ENABLED", "true")]);
    registrations_are_limited_in_total(&nodes).await;
}

/// The same through Redis (`REDIS_URL`), when a Redis is given by `RR_TEST_REDIS_URL`; skipped
/// loudly otherwise, a failure with `RR_REQUIRE_REDIS=1`.
#[tokio::test]
async fn three_nodes_allow_the_rate_limit_in_total_through_redis() {
    let Some(redis) = test_redis().await else {
        return;
    };
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let nodes = nodes(
        &database,
        3,
        &[("RATE_LIMIT_ENABLED", "true"), ("REDIS_URL", redis.as_str())],
    );
    registrations_are_limited_in_total(&nodes).await;
    let stored = database
        .connect()
        .await
        .query_one("SELECT COUNT(*) AS n FROM rate_limit_buckets", vec![])
        .await
        .unwrap()
        .get::<i64>("n")
        .unwrap();
    assert_eq!(stored, 0, "with Redis, PostgreSQL holds no bucket");
}

/// `RR_TEST_REDIS_URL`, emptied of this test's keys; `None` (after a loud message) without it.
async fn test_redis() -> Option<String> {
    let required = std::env::var("RR_REQUIRE_REDIS").is_ok_and(|v| v == "1");
    let Ok(url) = std::env::var("RR_TEST_REDIS_URL") else {
        assert!(!required, "RR_REQUIRE_REDIS=1 but RR_TEST_REDIS_URL is not set");
        eprintln!("\n!!! SKIPPED: set RR_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379) to run the Redis tests.\n");
        return None;
    };
    // Each test's client addresses are the same (loopback): start from no buckets.
    let client = redis::Client::open(url.as_str()).expect("RR_TEST_REDIS_URL is a Redis URL");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("RR_TEST_REDIS_URL answers");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("rr:rl:*")
        .query_async(&mut connection)
        .await
        .unwrap();
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL").arg(keys).query_async(&mut connection).await.unwrap();
    }
    Some(url)
}

async fn registrations_are_limited_in_total(nodes: &[ServerProcess]) {
    let client = http_client();
    let attempts = (0..30).map(|i| {
        let request = client
            .post(format!("{}/api/v1/register", nodes[i % nodes.len()].address))
            .json(&json!({"username": format!("newcomer{i}"), "password": support::PASSWORD}));
        async move {
            let response = request.send().await.expect("POST /api/v1/register");
            let limit = response
                .headers()
                .get("x-ratelimit-limit")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            (response.status().as_u16(), limit)
        }
    });
    let answers = futures::future::join_all(attempts).await;
    let admitted = answers.iter().filter(|(status, _)| *status == 201).count();
    let refused = answers.iter().filter(|(status, _)| *status == 429).count();
    assert_eq!((admitted, refused), (20, 10), "{answers:?}");
    assert!(
        answers.iter().all(|(_, limit)| limit.as_deref() == Some("20")),
        "{answers:?}"
    );
}

/// A hold placed through node A, which is then killed (SIGKILL: no hand-over of any kind),
/// expires on time on node B, which learned of it from A's event; its owner, connected to B,
/// is told once.
#[tokio::test]
async fn a_hold_placed_on_a_killed_node_expires_on_time_on_a_survivor() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let mut nodes = nodes(&database, 2, &[]);
    let (a, b) = (nodes[0].address.clone(), nodes[1].address.clone());
    let admin = sign_up_at(&b, "admin").await;
    let room = create_resource_at(&b, &admin, "Held room").await;
    let user = sign_up_at(&b, "holder").await;
    let mut on_b = socket(&b, &user, "").await;
    let start = chrono::Utc::now() + chrono::Duration::days(1);
    let hold: Value = http_client()
        .post(format!("{a}/api/v1/holds"))
        .bearer_auth(&user)
        .json(&json!({
            "resource_id": room,
            "start_time": start.to_rfc3339(),
            "end_time": (start + chrono::Duration::hours(1)).to_rfc3339(),
            "minutes": 1,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expires_at: chrono::DateTime<chrono::Utc> = hold["expires_at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("a hold with its expiry: {hold}"));
    let created = next_event(&mut on_b).await;
    assert_eq!(created["type"], "hold_created");
    nodes[0].child.kill().unwrap();
    nodes[0].child.wait().unwrap();

    let wait = (expires_at - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(20);
    let expired = next_event_within(&mut on_b, wait).await;
    let arrived = chrono::Utc::now();
    assert_eq!(expired["type"], "hold_expired");
    assert_eq!(expired["reservation_id"], hold["id"]);
    assert!(
        arrived >= expires_at && arrived - expires_at < chrono::Duration::seconds(5),
        "on time: due {expires_at}, announced {arrived}"
    );
    let db = database.connect().await;
    let row = db
        .query_one(
            "SELECT status, (SELECT COUNT(*) FROM events WHERE kind = 'hold_expired') AS announced
             FROM reservations WHERE id = $1",
            resource_reserver::params![hold["id"].as_i64().unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<String>("status").unwrap(), "expired");
    assert_eq!(row.get::<i64>("announced").unwrap(), 1, "expired once");
}

/// HAProxy (Debian's `haproxy`) when installed; `None` (after a loud message) without it, a
/// failure with `RR_REQUIRE_HAPROXY=1`.
/// The `id` column of what `sql` selects.
async fn ids_of(
    db: &resource_reserver::storage::Db,
    sql: &str,
    params: Vec<resource_reserver::storage::Value>,
) -> Vec<i64> {
    db.query(sql, params)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<i64>("id").unwrap())
        .collect()
}

fn haproxy() -> Option<&'static str> {
    let found = std::process::Command::new("haproxy")
        .arg("-v")
        .output()
        .is_ok_and(|output| output.status.success());
    if found {
        return Some("haproxy");
    }
    assert!(
        std::env::var("RR_REQUIRE_HAPROXY").map_or(true, |v| v != "1"),
        "RR_REQUIRE_HAPROXY=1 but no haproxy on PATH (apt-get install haproxy)"
    );
    eprintln!(
        "\n!!! SKIPPED: no haproxy on PATH (apt-get install haproxy; RR_REQUIRE_HAPROXY=1 makes this a failure).\n"
    );
    None
}

/// A free loopback port (bound, then released for HAProxy to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// HAProxy in front of `nodes` on a loopback port, as deploy/haproxy/haproxy.cfg sets it up
/// (health checks on `/ready`, WebSocket tunnels, redispatch of refused connections), with the
/// servers listed instead of resolved. Killed when dropped.
struct Balancer {
    child: std::process::Child,
    address: String,
    /// HAProxy's statistics page, where it says which servers it considers up.
    stats: String,
    _dir: tempfile::TempDir,
}

impl Balancer {
    fn start(binary: &str, nodes: &[ServerProcess]) -> Balancer {
        let (port, stats_port) = (free_port(), free_port());
        let servers: String = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                format!(
                    "    server node{i} {} check\n",
                    node.address.trim_start_matches("http://")
                )
            })
            .collect();
        let config = format!(
            "global\n    maxconn 4096\n\
             defaults\n    mode http\n    timeout connect 2s\n    timeout client 60s\n    timeout server 60s\n    \
             timeout tunnel 1h\n    retries 3\n    option redispatch 1\n\
             frontend api\n    bind 127.0.0.1:{port}\n    default_backend nodes\n\
             backend nodes\n    balance roundrobin\n    option httpchk GET /ready\n    \
             default-server inter 300ms fall 2 rise 1\n{servers}\
             listen stats\n    bind 127.0.0.1:{stats_port}\n    stats enable\n    stats uri /stats\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).unwrap();
        let child = std::process::Command::new(binary)
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("starting haproxy");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "haproxy did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Balancer {
            child,
            address: format!("http://127.0.0.1:{port}"),
            stats: format!("http://127.0.0.1:{stats_port}/stats;csv"),
            _dir: dir,
        }
    }

    /// Whether HAProxy sends requests to `node{index}` (its health checks passed `rise` times).
    async fn is_up(&self, index: usize) -> bool {
        let csv = http_client()
            .get(&self.stats)
            .send()
            .await
            .expect("HAProxy's statistics")
            .text()
            .await
            .expect("HAProxy's statistics as CSV");
        let mut lines = csv.lines();
        let header: Vec<&str> = lines
            .next()
            .unwrap_or_default()
            .trim_start_matches("# ")
            .split(',')
            .collect();
        let column = |name: &str| header.iter().position(|c| *c == name).expect("a statistics column");
        let (proxy, server, status) = (column("pxname"), column("svname"), column("status"));
        let name = format!("node{index}");
        lines
            .map(|line| line.split(',').collect::<Vec<_>>())
            .find(|fields| fields[proxy] == "nodes" && fields[server] == name)
            .is_some_and(|fields| fields[status] == "UP")
    }

    /// Waits until HAProxy considers `node{index}` up.
    async fn wait_until_up(&self, index: usize) {
        let deadline = std::time::Instant::now() + PATIENCE;
        while !self.is_up(index).await {
            assert!(std::time::Instant::now() < deadline, "HAProxy never saw node{index} up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The scale-out proof: three nodes on one PostgreSQL behind HAProxy, 32 clients racing for one
/// slot per round through the balancer, and one node SIGKILLed in the middle of a round. Every
/// round has exactly one winner, no two bookings overlap, every 201 is stored, and a WebSocket
/// client of the killed node resumes through the balancer (`since=`) with every event of the run,
/// none twice.
#[tokio::test]
async fn three_nodes_behind_haproxy_survive_a_node_killed_mid_load() {
    let Some(binary) = haproxy() else {
        return;
    };
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let mut nodes = nodes(&database, 3, &[("RATE_LIMIT_ENABLED", "false")]);
    let balancer = Balancer::start(binary, &nodes);
    let front = balancer.address.clone();
    let admin = sign_up_at(&front, "admin").await;
    let room = create_resource_at(&front, &admin, "Contended").await;
    let mut racers = Vec::new();
    for i in 0..8 {
        racers.push(sign_up_at(&front, &format!("racer{i}")).await);
    }
    // A watcher of every booking, connected straight to the node that will die.
    let watcher = sign_up_at(&front, "watcher").await;
    let doomed = 1;
    let mut watching = socket(&nodes[doomed].address, &watcher, "availability=true").await;
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::<i64>::new()));
    let reader = {
        let received = received.clone();
        tokio::spawn(async move {
            // Until the node dies: the socket ends.
            while let Some(Ok(message)) = watching.next().await {
                if let Message::Text(text) = message {
                    let frame: Value = serde_json::from_str(&text).unwrap();
                    if let Some(seq) = frame["seq"].as_i64().filter(|_| frame["type"] == "reservation_created") {
                        received.lock().unwrap().push(seq);
                    }
                }
            }
        })
    };

    let client = http_client();
    let rounds = 12;
    let kill_round = 4;
    let mut winners = Vec::new();
    for round in 0..rounds {
        let start = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc()
            + chrono::Duration::days(3)
            + chrono::Duration::hours(round);
        let attempts = (0..32).map(|i| {
            let request = client
                .post(format!("{front}/api/v1/reservations"))
                .bearer_auth(&racers[i % racers.len()])
                .json(&json!({
                    "resource_id": room,
                    "start_time": start.to_rfc3339(),
                    "end_time": (start + chrono::Duration::hours(1)).to_rfc3339(),
                }));
            async move {
                match request.send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let body: Value = response.json().await.unwrap_or(Value::Null);
                        (status, body["id"].as_i64())
                    }
                    Err(_) => (0, None),
                }
            }
        });
        let race = futures::future::join_all(attempts);
        let answers = if round == kill_round {
            let (answers, ()) = tokio::join!(race, async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                nodes[doomed].child.kill().unwrap();
            });
            answers
        } else {
            race.await
        };
        let won: Vec<i64> = answers
            .iter()
            .filter(|(s, _)| *s == 201)
            .filter_map(|(_, id)| *id)
            .collect();
        assert!(won.len() <= 1, "round {round}: {answers:?}");
        if round != kill_round {
            assert!(
                answers.iter().all(|(s, _)| *s == 201 || *s == 409),
                "round {round}: only the round of the kill may see a failed request: {answers:?}"
            );
            assert_eq!(won.len(), 1, "round {round}: a winner every round");
        }
        winners.extend(won);
    }
    nodes[doomed].child.wait().unwrap();
    reader.await.unwrap();

    let db = database.connect().await;
    // Exactly one stored winner per round (the kill round's may have lost its answer), no two
    // overlapping, and every 201 among them.
    let stored: Vec<i64> = ids_of(
        &db,
        "SELECT id FROM reservations WHERE resource_id = $1 AND status = 'active' ORDER BY start_time",
        resource_reserver::params![room],
    )
    .await;
    assert_eq!(stored.len() as i64, rounds, "one winner per round");
    assert!(winners.iter().all(|id| stored.contains(id)), "every 201 is stored");
    let overlapping = db
        .query_one(
            "SELECT COUNT(*) AS n FROM reservations a JOIN reservations b
               ON a.resource_id = b.resource_id AND a.id < b.id
              AND a.status = 'active' AND b.status = 'active'
              AND a.start_time < b.end_time AND b.start_time < a.end_time",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overlapping.get::<i64>("n").unwrap(), 0);

    // The watcher resumes through the balancer (on a survivor) from the last event it saw.
    let announced: Vec<i64> = ids_of(
        &db,
        "SELECT id FROM events WHERE kind = 'reservation_created' ORDER BY id",
        vec![],
    )
    .await;
    assert_eq!(announced.len() as i64, rounds);
    let mut seen = received.lock().unwrap().clone();
    let since = seen.last().copied().unwrap_or(0);
    let mut resumed = socket(&front, &watcher, &format!("availability=true&since={since}")).await;
    while seen.len() < announced.len() {
        let event = next_event(&mut resumed).await;
        if event["type"] == "reservation_created" {
            seen.push(event["seq"].as_i64().unwrap());
        }
    }
    assert_eq!(seen, announced, "every event once, in order, across the node's death");
    drop(balancer);
}

/// What the load of the rolling restart came to: every request is counted, every booking
/// answered 201 kept, and every answer that is not the expected success described.
#[derive(Default)]
struct Load {
    answered: usize,
    booked: Vec<i64>,
    failures: Vec<String>,
}

type Shared<T> = std::sync::Arc<std::sync::Mutex<T>>;

fn answered(load: &Shared<Load>) -> usize {
    load.lock().unwrap().answered
}

/// Sends `request` and records its outcome in `load`: the body when the status is `expected`,
/// a failure otherwise (another status, or no answer at all).
async fn expect(load: &Shared<Load>, what: &str, request: reqwest::RequestBuilder, expected: u16) -> Option<Value> {
    let outcome = match request.send().await {
        Ok(response) if response.status().as_u16() == expected => response
            .json::<Value>()
            .await
            .map_err(|error| format!("{what}: unreadable body: {error}")),
        Ok(response) => {
            let status = response.status();
            Err(format!(
                "{what}: {status} {}",
                response.text().await.unwrap_or_default()
            ))
        }
        Err(error) => Err(format!("{what}: no answer: {error:?}")),
    };
    let mut load = load.lock().unwrap();
    load.answered += 1;
    match outcome {
        Ok(body) => Some(body),
        Err(failure) => {
            load.failures.push(failure);
            None
        }
    }
}

/// A light client of the balancer `front`: books one half hour after another on its own `room`
/// and reads each booking back, then the list of resources, with a pause between rounds, until
/// `stop`.
async fn book_and_read(front: String, token: String, room: i64, stop: Shared<bool>, load: Shared<Load>) {
    let client = http_client();
    let base = chrono::DateTime::parse_from_rfc3339("2030-01-07T00:00:00Z")
        .unwrap()
        .to_utc();
    for slot in 0.. {
        if *stop.lock().unwrap() {
            return;
        }
        let start = base + chrono::Duration::hours(slot);
        let booking = client
            .post(format!("{front}/api/v1/reservations"))
            .bearer_auth(&token)
            .json(&json!({
                "resource_id": room,
                "start_time": start.to_rfc3339(),
                "end_time": (start + chrono::Duration::minutes(30)).to_rfc3339(),
            }));
        let what = format!("booking hour {slot} of room {room}");
        if let Some(id) = expect(&load, &what, booking, 201)
            .await
            .and_then(|body| body["id"].as_i64())
        {
            load.lock().unwrap().booked.push(id);
            let read = client
                .get(format!("{front}/api/v1/reservations/{id}"))
                .bearer_auth(&token);
            expect(&load, &format!("reading reservation {id}"), read, 200).await;
        }
        let list = client.get(format!("{front}/api/v1/resources")).bearer_auth(&token);
        expect(&load, "listing resources", list, 200).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What a WebSocket client following every booking saw: the `seq` of each `reservation_created`
/// in the order received, the highest `seq` of any frame, how many sockets it opened, and
/// anything that went wrong.
#[derive(Default)]
struct Watch {
    created: Vec<i64>,
    last_seq: Option<i64>,
    connections: usize,
    failures: Vec<String>,
    /// Each connection: the `since` it resumed from, and the `seq`s of the frames it received
    /// (for the message of a failed assertion).
    history: Vec<(Option<i64>, Vec<i64>)>,
}

/// Follows every booking through the balancer `front` as a real client does: whenever its socket
/// ends (a node going away closes it with 1001) it reconnects with `since=` the last `seq` it
/// received. Runs until aborted.
async fn follow(front: String, token: String, watch: Shared<Watch>) {
    let base = format!("{}/ws?token={token}&availability=true", front.replacen("http", "ws", 1));
    loop {
        let url = match watch.lock().unwrap().last_seq {
            Some(seq) => format!("{base}&since={seq}"),
            None => base.clone(),
        };
        let mut socket = match tokio_tungstenite::connect_async(url).await {
            Ok((socket, _)) => socket,
            Err(error) => {
                watch
                    .lock()
                    .unwrap()
                    .failures
                    .push(format!("WebSocket handshake: {error}"));
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        {
            let mut watch = watch.lock().unwrap();
            watch.connections += 1;
            let since = watch.last_seq;
            watch.history.push((since, Vec::new()));
        }
        while let Some(Ok(message)) = socket.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let frame: Value = serde_json::from_str(&text).expect("JSON frame");
            let mut watch = watch.lock().unwrap();
            if frame["type"] == "resync_required" {
                watch.failures.push(format!("resumed too late: {frame}"));
            }
            if let Some(seq) = frame["seq"].as_i64() {
                if let Some((_, seqs)) = watch.history.last_mut() {
                    seqs.push(seq);
                }
                if frame["type"] == "reservation_created" {
                    watch.created.push(seq);
                }
                watch.last_seq = watch.last_seq.max(Some(seq));
            }
        }
    }
}

/// Every outbox row's id, kind and origin, for the message of a failed assertion.
async fn ids_and_origins(db: &resource_reserver::storage::Db) -> Vec<(i64, String, Option<String>)> {
    db.query("SELECT id, kind, origin FROM events ORDER BY id", vec![])
        .await
        .expect("reading the outbox")
        .iter()
        .map(|row| {
            (
                row.get("id").unwrap(),
                row.get("kind").unwrap(),
                row.get("origin").unwrap(),
            )
        })
        .collect()
}

/// Waits (without blocking the runtime) until `node` exits; its exit code.
async fn exited(node: &mut ServerProcess) -> Option<i32> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = node.child.try_wait().expect("waiting for a node") {
            return status.code();
        }
        assert!(std::time::Instant::now() < deadline, "the node did not exit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A rolling update as Kubernetes runs one, under a light load through HAProxy: each of three
/// nodes in turn is sent SIGTERM, exits, and is replaced by a new process on the same port, which
/// HAProxy takes back once its health check passes; then the next. Throughout, three clients book
/// distinct slots and read, and a WebSocket client follows every booking, resuming with `since=`
/// whenever its socket closes. No request fails (no 5xx, no connection error), every 201 is
/// stored, and the WebSocket client received every `reservation_created` of the run exactly once,
/// in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_of_three_nodes_fails_no_request_and_loses_no_event() {
    let Some(binary) = haproxy() else {
        return;
    };
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    // HAProxy checks every 300 ms and marks a node down after 2 failures: well within the drain.
    let env = node_env(
        &database,
        &[("RATE_LIMIT_ENABLED", "false"), ("SHUTDOWN_DRAIN_SECONDS", "2")],
    );
    let mut nodes: Vec<ServerProcess> = (0..3).map(|_| ServerProcess::start(&borrowed(&env))).collect();
    let balancer = Balancer::start(binary, &nodes);
    for index in 0..nodes.len() {
        balancer.wait_until_up(index).await;
    }
    let front = balancer.address.clone();
    let admin = sign_up_at(&front, "admin").await;
    let watcher = sign_up_at(&front, "watcher").await;
    let watch = Shared::<Watch>::default();
    let following = tokio::spawn(follow(front.clone(), watcher, watch.clone()));
    // Registered before its handshake was answered: every later event reaches it.
    let deadline = std::time::Instant::now() + PATIENCE;
    while watch.lock().unwrap().connections == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the WebSocket client never connected"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (stop, load) = (Shared::<bool>::default(), Shared::<Load>::default());
    let mut clients = Vec::new();
    for i in 0..3 {
        let room = create_resource_at(&front, &admin, &format!("Room {i}")).await;
        let token = sign_up_at(&front, &format!("booker{i}")).await;
        clients.push(tokio::spawn(book_and_read(
            front.clone(),
            token,
            room,
            stop.clone(),
            load.clone(),
        )));
    }

    let mut retired = Vec::new();
    for (index, node) in nodes.iter_mut().enumerate() {
        // The load runs before, during and after each restart.
        let before = answered(&load);
        while answered(&load) < before + 20 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let stopping = answered(&load);
        node.signal("TERM");
        let code = exited(node).await;
        assert_eq!(code, Some(0), "node{index} stops cleanly: {:?}", node.output());
        let port = node.port();
        let env = env.clone();
        let replacement = tokio::task::spawn_blocking(move || ServerProcess::start_on(&borrowed(&env), port))
            .await
            .unwrap();
        retired.push(std::mem::replace(node, replacement));
        balancer.wait_until_up(index).await;
        assert!(
            answered(&load) > stopping,
            "requests were answered while node{index} restarted"
        );
    }
    let after = answered(&load);
    while answered(&load) < after + 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    *stop.lock().unwrap() = true;
    for client in clients {
        client.await.unwrap();
    }

    let load = std::mem::take(&mut *load.lock().unwrap());
    assert!(
        load.failures.is_empty(),
        "{} of {} requests failed: {:#?}",
        load.failures.len(),
        load.answered,
        load.failures
    );
    let db = database.connect().await;
    let stored: Vec<i64> = ids_of(
        &db,
        "SELECT id FROM reservations WHERE status = 'active' ORDER BY id",
        vec![],
    )
    .await;
    let mut booked = load.booked.clone();
    booked.sort_unstable();
    assert_eq!(booked, stored, "every 201 is stored, and nothing else");
    let announced: Vec<i64> = ids_of(
        &db,
        "SELECT id FROM events WHERE kind = 'reservation_created' ORDER BY id",
        vec![],
    )
    .await;
    assert_eq!(announced.len(), booked.len(), "one event per booking");
    let deadline = std::time::Instant::now() + PATIENCE;
    while watch.lock().unwrap().created.len() < announced.len() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    following.abort();
    let watch = std::mem::take(&mut *watch.lock().unwrap());
    assert!(watch.failures.is_empty(), "{:#?}", watch.failures);
    assert!(watch.connections > 1, "the WebSocket client resumed at least once");
    if watch.created != announced {
        let rows = ids_and_origins(&db).await;
        let warnings: Vec<String> = retired
            .iter_mut()
            .chain(nodes.iter_mut())
            .flat_map(|node| node.output().to_vec())
            .filter(|line| line.contains("WARN") || line.contains("ERROR"))
            .collect();
        panic!(
            "every event once, in order, across the restarts:\nreceived  {:?}\nannounced {:?}\n\
             connections (since, seqs received): {:?}\nevents (id, kind, origin): {rows:?}\n\
             the nodes' warnings: {warnings:#?}",
            watch.created, announced, watch.history
        );
    }
    drop(balancer);
}
