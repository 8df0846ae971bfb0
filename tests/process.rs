//! The `resource-reserver` binary run as an operator runs it: start-up, configuration errors,
//! restarts on the same data, graceful shutdown on signals.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use serde_json::Value;
use support::process::{ServerProcess, server_command};
use support::server::{create_resource_at, http_client, sign_up_at};
use support::{Backend, TestDatabase};

async fn health(address: &str) -> Value {
    let response = http_client()
        .get(format!("{address}/health"))
        .send()
        .await
        .expect("GET /health");
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON body")
}

/// Two starts of the binary on the same database: the second keeps the data and applies no
/// migration; both exit 0 on SIGTERM.
async fn restart_keeps_data_and_applies_nothing_twice(
    database: TestDatabase,
    env: Vec<(&str, String)>,
) -> TestDatabase {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut first = ServerProcess::start(&env);
    let applied = first
        .output()
        .iter()
        .find(|l| l.contains("database ready"))
        .cloned()
        .expect("database ready line");
    assert!(!applied.contains("applied=[]"), "the first start migrates: {applied}");
    assert_eq!(health(&first.address).await["status"], "healthy");

    // Data written while the first server runs…
    let db = database.connect().await;
    db.execute(
        "INSERT INTO resources (name, created_at) VALUES ($1, $2)",
        resource_reserver::params!["Kept across restarts", chrono::Utc::now()],
    )
    .await
    .unwrap();
    db.close().await;
    first.signal("TERM");
    assert_eq!(first.wait(Duration::from_secs(30)), Some(0), "SIGTERM exits 0");

    // …is still there after a restart, and no migration runs again.
    let mut second = ServerProcess::start(&env);
    let ready = second
        .output()
        .iter()
        .find(|l| l.contains("database ready"))
        .cloned()
        .expect("database ready line");
    assert!(ready.contains("applied=[]"), "nothing applied twice: {ready}");
    assert_eq!(health(&second.address).await["resources_count"], 1);
    second.signal("INT");
    assert_eq!(second.wait(Duration::from_secs(30)), Some(0), "SIGINT exits 0 too");
    database
}

#[tokio::test]
async fn the_embedded_default_needs_nothing_but_a_data_directory() {
    let database = TestDatabase::create(Backend::Sqlite).await.unwrap();
    let data_dir = database.data_dir.path().to_path_buf();
    let env = vec![("DATA_DIR", data_dir.display().to_string())];
    // No DATABASE_URL: the default SQLite file in the data directory is created on first start.
    let default_file = data_dir.join("resource-reserver.db");
    let database = TestDatabase::for_sqlite_file(database, default_file.clone());
    let _database = restart_keeps_data_and_applies_nothing_twice(database, env).await;
    assert!(default_file.exists());
    assert!(
        data_dir.join("secret.key").exists(),
        "a signing key is generated and kept"
    );
}

#[tokio::test]
async fn one_postgresql_database_across_restarts() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let env = vec![
        ("DATA_DIR", database.data_dir.path().display().to_string()),
        ("DATABASE_URL", database.url()),
    ];
    restart_keeps_data_and_applies_nothing_twice(database, env).await;
}

/// Runs `serve` with the given environment and returns its stderr; the start must fail.
fn refused_start(env: &[(&str, &str)]) -> String {
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path().display().to_string();
    let mut env = env.to_vec();
    env.push(("DATA_DIR", &dir));
    let mut child = server_command(&env, &["serve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running the binary");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server started although it must refuse to: {env:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success(), "the server must refuse to start");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn production_without_a_secret_key_refuses_to_start() {
    let stderr = refused_start(&[("ENVIRONMENT", "production")]);
    assert!(stderr.contains("SECRET_KEY"), "{stderr}");
    let stderr = refused_start(&[
        ("ENVIRONMENT", "production"),
        ("SECRET_KEY", "your-secret-key-change-in-production"),
    ]);
    assert!(stderr.contains("SECRET_KEY"), "{stderr}");
}

#[test]
fn a_malformed_variable_is_named() {
    let stderr = refused_start(&[("PORT", "abc")]);
    assert!(stderr.contains("PORT") && stderr.contains("abc"), "{stderr}");
    let stderr = refused_start(&[("DATABASE_URL", "mysql://localhost/x")]);
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

#[test]
fn serve_help_explains_every_option() {
    let output = server_command(&[], &["serve", "--help"]).output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "--host",
        "--port",
        "--data-dir",
        "HOST",
        "PORT",
        "DATA_DIR",
        "DATABASE_URL",
        "SECRET_KEY",
        "SMTP_HOST",
    ] {
        assert!(help.contains(expected), "{expected} missing from:\n{help}");
    }
}

/// Two server processes on one PostgreSQL database, sharing a secret key.
fn two_processes_on(database: &TestDatabase) -> (ServerProcess, ServerProcess) {
    let env = [
        ("DATA_DIR", database.data_dir.path().display().to_string()),
        ("DATABASE_URL", database.url()),
        ("SECRET_KEY", "a-shared-secret-for-both-processes-0123456789".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    (ServerProcess::start(&env), ServerProcess::start(&env))
}

#[tokio::test]
async fn two_processes_on_one_postgresql_never_store_overlapping_bookings() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let (a, b) = two_processes_on(&database);
    let admin = sign_up_at(&a.address, "admin").await;
    let client = http_client();
    let room = create_resource_at(&a.address, &admin, "Contended").await;
    let mut tokens = Vec::new();
    for i in 0..8 {
        tokens.push(sign_up_at(&b.address, &format!("racer{i}")).await);
    }
    // Both processes have the resource's schedule in memory before the race.
    for address in [&a.address, &b.address] {
        client
            .get(format!("{address}/api/v1/resources/{room}/status"))
            .send()
            .await
            .unwrap();
    }
    for round in 0..10 {
        // Overlapping slots shifted by 30 minutes each round: each conflicts with its neighbours.
        let start = chrono::Utc::now() + chrono::Duration::days(1) + chrono::Duration::minutes(30 * round);
        let end = start + chrono::Duration::hours(1);
        let attempts = (0..32).map(|i| {
            let address = if i % 2 == 0 { &a.address } else { &b.address };
            let request = client
                .post(format!("{address}/api/v1/reservations"))
                .bearer_auth(&tokens[i % tokens.len()])
                .json(&serde_json::json!({"resource_id": room, "start_time": start.to_rfc3339(), "end_time": end.to_rfc3339()}));
            async move { request.send().await.unwrap().status().as_u16() }
        });
        let statuses = futures::future::join_all(attempts).await;
        assert!(
            statuses.iter().all(|s| *s == 201 || *s == 409),
            "round {round}: only 201 and 409, never a 5xx: {statuses:?}"
        );
        assert!(
            statuses.iter().filter(|s| **s == 201).count() <= 1,
            "round {round}: {statuses:?}"
        );
    }
    let db = database.connect().await;
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
    assert_eq!(
        overlapping.get::<i64>("n").unwrap(),
        0,
        "never two overlapping active rows"
    );
    let booked = db
        .query_one("SELECT COUNT(*) AS n FROM reservations WHERE status = 'active'", vec![])
        .await
        .unwrap();
    // Hour-long slots 30 minutes apart: each round's slot overlaps the previous one, so exactly
    // every other round has a winner.
    assert_eq!(booked.get::<i64>("n").unwrap(), 5);
    db.close().await;
}

/// The global opening hours changed through process A are enforced by process B, whose actor
/// for the resource was already live: B's tailer reads A's event from the outbox and reloads.
#[tokio::test]
async fn a_global_hours_change_made_through_one_process_is_enforced_by_the_other() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let (a, b) = two_processes_on(&database);
    let admin = sign_up_at(&a.address, "admin").await;
    let bob = sign_up_at(&b.address, "bob").await;
    let client = http_client();
    let room = create_resource_at(&a.address, &admin, "Room 1").await;
    // 2030-01-07 is a Monday; minute `m` after 07:00 there, for 15 minutes.
    let book = |m: u32| {
        let (start, end) = (
            format!("2030-01-07T07:{m:02}:00Z"),
            format!("2030-01-07T07:{:02}:00Z", m + 15),
        );
        client
            .post(format!("{}/api/v1/reservations", b.address))
            .bearer_auth(&bob)
            .json(&serde_json::json!({"resource_id": room, "start_time": start, "end_time": end}))
            .send()
    };
    assert_eq!(
        book(0).await.unwrap().status(),
        201,
        "open: no hours yet; B's actor is now live"
    );

    let weekdays: Vec<Value> = (0..5)
        .map(|day| serde_json::json!({"day_of_week": day, "open_time": "09:00", "close_time": "17:00"}))
        .collect();
    let changed = client
        .put(format!("{}/api/v1/business-hours/global", a.address))
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "hours": weekdays }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    for attempt in 0..250u32 {
        let response = book(15 + attempt % 30).await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        if status == 409
            && body["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("Resource is closed"))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("process B never enforced the global hours set through process A");
}

#[test]
fn sigterm_lets_a_slow_request_finish_and_exits_0() {
    use std::io::{Read, Write};

    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path().display().to_string();
    let mut server = ServerProcess::start(&[("DATA_DIR", &dir)]);
    let host = server.address.trim_start_matches("http://").to_owned();
    let body = format!(r#"{{"username": "slowpoke", "password": "{}"}}"#, support::PASSWORD);
    let (first_half, second_half) = body.split_at(body.len() / 2);
    let mut socket = std::net::TcpStream::connect(&host).unwrap();
    // A first request answered on the same connection: from then on a worker of the server
    // holds the connection, whatever the machine's load (a connection still waiting to be
    // accepted when the signal arrives would rightly not be waited for).
    write!(socket, "GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
    let health = read_one_response(&mut socket);
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    write!(
        socket,
        "POST /api/v1/register HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first_half}",
        body.len()
    )
    .unwrap();
    socket.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // The request is in flight (half its body sent) when the stop signal arrives.
    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server waits for the request in flight"
    );
    socket.write_all(second_half.as_bytes()).unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "the slow request completed: {answer}"
    );
    assert_eq!(server.wait(Duration::from_secs(30)), Some(0), "then the server exits 0");
    let refused = std::net::TcpStream::connect(&host);
    assert!(refused.is_err(), "and it no longer accepts connections");
}

/// Reads one HTTP/1.1 response (headers and a `Content-Length` body) from a kept-alive
/// connection, leaving the connection open.
fn read_one_response(socket: &mut std::net::TcpStream) -> String {
    use std::io::Read;

    let mut bytes = Vec::new();
    let mut byte = [0u8; 1];
    while !bytes.ends_with(b"\r\n\r\n") {
        socket.read_exact(&mut byte).expect("response headers");
        bytes.push(byte[0]);
    }
    let headers = String::from_utf8_lossy(&bytes).into_owned();
    let length = headers
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .expect("a Content-Length");
    let mut body = vec![0u8; length];
    socket.read_exact(&mut body).expect("response body");
    headers + String::from_utf8_lossy(&body).as_ref()
}

/// What one booking request came to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Answer {
    /// 201, with the new reservation's id.
    Created(i64),
    /// A 4xx: the server refused it.
    Refused(u16),
    /// No answer (the process died), or a 5xx: either outcome is allowed.
    Unknown,
}

/// One client booking back to back on its own resource through `address` until the process
/// stops answering: an hour after another, and every fourth request the hour it asked for just
/// before (refused, if that one was booked). Returns (resource, hour, answer) per request.
async fn book_until_killed(
    address: String,
    token: String,
    room: i64,
    booked: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Vec<(i64, i64, Answer)> {
    let client = http_client();
    let base = chrono::DateTime::parse_from_rfc3339("2030-01-07T00:00:00Z")
        .unwrap()
        .to_utc();
    let mut answers = Vec::new();
    let mut hour = 0;
    for request in 0.. {
        if request % 4 != 3 {
            hour += 1;
        }
        let start = base + chrono::Duration::hours(hour);
        let end = start + chrono::Duration::minutes(30);
        let sent = client
            .post(format!("{address}/api/v1/reservations"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"resource_id": room, "start_time": start.to_rfc3339(), "end_time": end.to_rfc3339()}))
            .send()
            .await;
        let answer = match sent {
            Err(_) => Answer::Unknown,
            Ok(response) => match response.status().as_u16() {
                201 => match response.json::<Value>().await.ok().and_then(|body| body["id"].as_i64()) {
                    Some(id) => {
                        booked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        Answer::Created(id)
                    }
                    // The process died while sending the body.
                    None => Answer::Unknown,
                },
                status if (400..500).contains(&status) => Answer::Refused(status),
                _ => Answer::Unknown,
            },
        };
        answers.push((room, hour, answer));
        if answer == Answer::Unknown {
            return answers;
        }
    }
    unreachable!("the loop ends when the server stops answering")
}

/// Waits until `booked` reaches `at_least` (the load is running), then SIGKILLs `process`.
async fn kill_once_booked(process: &mut ServerProcess, booked: &std::sync::atomic::AtomicUsize, at_least: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while booked.load(std::sync::atomic::Ordering::Relaxed) < at_least {
        assert!(
            std::time::Instant::now() < deadline,
            "the load never reached {at_least} bookings"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    process.child.kill().expect("SIGKILL");
    process.child.wait().expect("reaping the killed server");
}

/// After the crash: every answered 201 is stored (with its event), nothing refused is, and every
/// stored booking was answered 201 or not answered at all.
async fn check_after_crash(database: &TestDatabase, answers: &[(i64, i64, Answer)]) {
    let db = database.connect().await;
    let base = chrono::DateTime::parse_from_rfc3339("2030-01-07T00:00:00Z")
        .unwrap()
        .to_utc();
    let rows = db
        .query(
            "SELECT id, resource_id, start_time FROM reservations WHERE status = 'active'",
            vec![],
        )
        .await
        .unwrap();
    let stored: std::collections::HashMap<i64, (i64, i64)> = rows
        .iter()
        .map(|row| {
            let start: chrono::DateTime<chrono::Utc> = row.get("start_time").unwrap();
            let hour = (start - base).num_hours();
            (
                row.get::<i64>("id").unwrap(),
                (row.get::<i64>("resource_id").unwrap(), hour),
            )
        })
        .collect();
    let created: Vec<(i64, i64, i64)> = answers
        .iter()
        .filter_map(|(room, hour, answer)| match answer {
            Answer::Created(id) => Some((*room, *hour, *id)),
            _ => None,
        })
        .collect();
    assert!(
        created.len() >= 100,
        "the load ran: {} bookings answered",
        created.len()
    );
    for (room, hour, id) in &created {
        assert_eq!(
            stored.get(id),
            Some(&(*room, *hour)),
            "reservation {id} was answered 201 and must be stored"
        );
    }
    let refused = answers
        .iter()
        .filter(|(_, _, a)| matches!(a, Answer::Refused(_)))
        .count();
    assert!(refused > 0, "some requests were refused (their hour was taken)");
    for (id, (room, hour)) in &stored {
        let asked: Vec<&Answer> = answers
            .iter()
            .filter(|(r, h, _)| r == room && h == hour)
            .map(|(_, _, answer)| answer)
            .collect();
        assert!(
            asked
                .iter()
                .any(|answer| **answer == Answer::Created(*id) || **answer == Answer::Unknown),
            "reservation {id} (room {room}, hour {hour}) is stored but its requests were answered {asked:?}"
        );
    }
    // Each stored booking committed with its event (one transaction).
    let events = db
        .query_one(
            "SELECT COUNT(*) AS n FROM events WHERE kind = 'reservation_created'",
            vec![],
        )
        .await
        .unwrap()
        .get::<i64>("n")
        .unwrap();
    assert_eq!(events as usize, stored.len());
    db.close().await;
}

/// Sets up `rooms` resources (through `admin_at`) and a user per resource; their tokens.
async fn rooms_and_bookers(admin_at: &str, addresses: &[&str], rooms: usize) -> Vec<(String, i64)> {
    let admin = sign_up_at(admin_at, "admin").await;
    let mut bookers = Vec::new();
    for i in 0..rooms {
        let room = create_resource_at(admin_at, &admin, &format!("Room {i}")).await;
        let token = sign_up_at(addresses[i % addresses.len()], &format!("booker{i}")).await;
        bookers.push((token, room));
    }
    bookers
}

/// SIGKILL in the middle of group commits under load, then a restart on the same database.
async fn a_crash_keeps_every_answered_booking(database: TestDatabase, env: Vec<(&str, String)>) {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut server = ServerProcess::start(&env);
    let bookers = rooms_and_bookers(&server.address, &[&server.address], 16).await;
    let booked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let clients: Vec<_> = bookers
        .into_iter()
        .map(|(token, room)| tokio::spawn(book_until_killed(server.address.clone(), token, room, booked.clone())))
        .collect();
    kill_once_booked(&mut server, &booked, 150).await;
    let mut answers = Vec::new();
    for client in clients {
        answers.extend(client.await.unwrap());
    }
    let mut restarted = ServerProcess::start(&env);
    check_after_crash(&database, &answers).await;
    // The restarted server's actors load what was stored: a stored hour is refused, a new one
    // (hour 0 was never asked for) is booked.
    let user = sign_up_at(&restarted.address, "after").await;
    let (room, hour) = answers
        .iter()
        .find_map(|(room, hour, answer)| matches!(answer, Answer::Created(_)).then_some((*room, *hour)))
        .unwrap();
    let base = chrono::DateTime::parse_from_rfc3339("2030-01-07T00:00:00Z")
        .unwrap()
        .to_utc();
    for (hour, expected) in [(hour, 409), (0, 201)] {
        let start = base + chrono::Duration::hours(hour);
        let end = start + chrono::Duration::minutes(30);
        let response = http_client()
            .post(format!("{}/api/v1/reservations", restarted.address))
            .bearer_auth(&user)
            .json(&serde_json::json!({"resource_id": room, "start_time": start.to_rfc3339(), "end_time": end.to_rfc3339()}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            expected,
            "hour {hour} of room {room} after the restart"
        );
    }
    restarted.signal("TERM");
    assert_eq!(restarted.wait(Duration::from_secs(30)), Some(0));
}

#[tokio::test]
async fn sqlite_a_sigkill_during_group_commits_loses_no_answered_booking() {
    let database = TestDatabase::create(Backend::Sqlite).await.unwrap();
    let env = vec![
        ("DATA_DIR", database.data_dir.path().display().to_string()),
        ("DATABASE_URL", database.url()),
        ("RATE_LIMIT_ENABLED", "false".to_owned()),
    ];
    a_crash_keeps_every_answered_booking(database, env).await;
}

#[tokio::test]
async fn postgresql_a_sigkill_during_group_commits_loses_no_answered_booking() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let env = vec![
        ("DATA_DIR", database.data_dir.path().display().to_string()),
        ("DATABASE_URL", database.url()),
        ("RATE_LIMIT_ENABLED", "false".to_owned()),
    ];
    a_crash_keeps_every_answered_booking(database, env).await;
}

/// Two processes on one PostgreSQL under load: one is killed while the other goes on, then the
/// other is killed too; every answered booking of either is stored.
#[tokio::test]
async fn two_processes_on_postgresql_killed_during_group_commits_lose_no_answered_booking() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let env = [
        ("DATA_DIR", database.data_dir.path().display().to_string()),
        ("DATABASE_URL", database.url()),
        ("SECRET_KEY", "a-shared-secret-for-both-processes-0123456789".to_owned()),
        ("RATE_LIMIT_ENABLED", "false".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (mut a, mut b) = (ServerProcess::start(&env), ServerProcess::start(&env));
    let bookers = rooms_and_bookers(&a.address, &[&a.address, &b.address], 16).await;
    let (on_a, on_b) = (
        std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0)),
        std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0)),
    );
    // Even resources are booked through A, odd ones through B.
    let clients: Vec<_> = bookers
        .into_iter()
        .enumerate()
        .map(|(i, (token, room))| {
            let (address, counter) = if i % 2 == 0 {
                (&a.address, &on_a)
            } else {
                (&b.address, &on_b)
            };
            tokio::spawn(book_until_killed(address.clone(), token, room, counter.clone()))
        })
        .collect();
    kill_once_booked(&mut a, &on_a, 75).await;
    let b_before = on_b.load(std::sync::atomic::Ordering::Relaxed);
    kill_once_booked(&mut b, &on_b, b_before + 75).await;
    let mut answers = Vec::new();
    for client in clients {
        answers.extend(client.await.unwrap());
    }
    let _restarted = ServerProcess::start(&env);
    check_after_crash(&database, &answers).await;
}
