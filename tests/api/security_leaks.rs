//! Attacks on leaks, performed on SQLite and PostgreSQL (docs/src/security.md, "Deployment surface").

use std::collections::HashMap;

use crate::both_backends;
use crate::support::process::server_command;
use crate::support::{Backend, PASSWORD, TestApp, TestDatabase};
use resource_reserver::config::{Settings, SettingsArgs};
use serde_json::{Value, json};

/// What a spreadsheet takes for the start of a formula (OWASP).
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A token long enough for `METRICS_TOKEN`.
const METRICS_TOKEN: &str = "metrics-token-0123456789abcdef0123456789";

fn settings(env: &[(&str, &str)]) -> Result<Settings, String> {
    let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Settings::from_args_and_env(&SettingsArgs::default(), &move |name| env.get(name).cloned()).map_err(|e| e.0)
}

/// The value of an unlabelled series in Prometheus text.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in {text}"))
}

/// The records of a CSV document, header first.
fn records(csv: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes())
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

both_backends! {
    /// An anonymous caller puts formulas into the audit log by failing to sign in with them as
    /// user names (and anyone can register `-a1`, which a spreadsheet reads as `=-A1`); the
    /// administrator's CSV export must not hand them to a spreadsheet as formulas.
    async fn exported_csv_cells_never_start_a_formula(app: TestApp) {
        let admin = app.admin().await;
        let payloads = [
            r#"=hyperlink("http://x.test","y")"#,
            "+1+cmd|' /c calc'!a0",
            "-2+3",
            "@sum(1+1)",
            "\t=1+2",
            "\r=1+2",
        ];
        let mut stored = Vec::new();
        for payload in payloads {
            match app.login(payload, "wrong", None).await.status().as_u16() {
                401 => stored.push(payload),
                422 => {} // refused before anything is stored: no less safe
                other => panic!("signing in as {payload:?} answered {other}"),
            }
        }
        assert_eq!(app.register("-a1", PASSWORD).await.status(), 201);

        let response = app.get_as(&admin, "/api/v1/audit/export/csv").await;
        assert_eq!(response.status(), 200);
        let rows = records(&response.text().await.unwrap());
        let column = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
        let (id, username, action) = (column("id"), column("username"), column("action"));
        for row in &rows[1..] {
            for cell in row {
                assert!(!cell.starts_with(FORMULA_TRIGGERS), "a formula reaches the spreadsheet: {cell:?}");
            }
            assert!(row[id].parse::<i64>().is_ok(), "numbers the server writes stay numbers: {row:?}");
        }
        assert!(rows.iter().any(|row| row[username] == "'-a1"), "{rows:?}");
        let mut exported: Vec<&str> = rows[1..]
            .iter()
            .filter(|row| row[action] == "login_failed")
            .map(|row| row[username].strip_prefix('\'').expect("neutralised"))
            .collect();
        exported.sort_unstable();
        stored.sort_unstable();
        assert_eq!(exported, stored, "the text itself is kept, after the quote");

        // The JSON export is data, not a spreadsheet: it keeps the values as they are.
        let json: Value = app.get_as(&admin, "/api/v1/audit/export/json").await.json().await.unwrap();
        let logs = json["logs"].as_array().unwrap();
        assert!(logs.iter().any(|log| log["username"] == "-a1"), "{json}");
    }

    /// A broken database (here its `resources` table renamed away under the running server)
    /// makes `/health` unhealthy, but its public answer names no table, SQL or driver error.
    async fn health_does_not_echo_database_errors(app: TestApp) {
        let admin = app.admin().await;
        let before: Value = app.get_as(&admin, "/api/v1/metrics/summary").await.json().await.unwrap();
        let outside = app.database().connect().await;
        outside.execute("ALTER TABLE resources RENAME TO resources_gone", vec![]).await.unwrap();

        let response = app.get("/health").await;
        assert_eq!(response.status(), 200, "as the original, /health itself answers 200");
        let text = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["status"], "unhealthy");
        assert_eq!(body["database"], "unhealthy");
        assert_eq!(body["api"], "error: database unavailable");
        for leak in ["table", "relation", "SQL", "does not exist", "database error", "\"resources\""] {
            assert!(!text.contains(leak), "/health leaks {leak:?}: {text}");
        }
        // The fault is counted where operators look for it.
        let after: Value = app.get_as(&admin, "/api/v1/metrics/summary").await.json().await.unwrap();
        assert!(
            after["database"]["errors"].as_u64().unwrap() > before["database"]["errors"].as_u64().unwrap(),
            "{before} → {after}"
        );
    }

    /// The summary's figures move with the work done: requests, database statements, sockets.
    async fn the_metrics_summary_reports_real_figures(app: TestApp) {
        let admin = app.admin().await;
        app.resource(&admin, "Room 1").await;
        let mut socket = app.ws(&admin).await;
        socket.send_json(json!({"type": "ping"})).await;
        socket.next_of("pong").await;

        let summary: Value = app.get_as(&admin, "/api/v1/metrics/summary").await.json().await.unwrap();
        assert!(summary["requests"]["total"].as_u64().unwrap() >= 3, "{summary}");
        let database = &summary["database"];
        assert!(database["queries"].as_u64().unwrap() > 0, "{summary}");
        assert_eq!(database["errors"], 0, "{summary}");
        let websocket = &summary["websocket"];
        assert_eq!(websocket["active_connections"], 1, "{summary}");
        assert_eq!(websocket["total_connections"], 1, "{summary}");
        assert!(websocket["messages_sent"].as_u64().unwrap() >= 1, "{summary}");
        assert_eq!(websocket["messages_received"], 1, "{summary}");
        assert_eq!(summary["cache"]["hits"], 0, "there is no cache");

        let text = app.get("/metrics").await.text().await.unwrap();
        assert!(sample(&text, "db_queries_total") > 0.0, "{text}");
        assert!(sample(&text, "db_query_duration_seconds_total") > 0.0, "{text}");
        assert_eq!(sample(&text, "websocket_messages_received_total"), 1.0, "{text}");
    }

    /// Listed origins get CORS answers, others none (the default settings).
    async fn cors_answers_listed_origins_only(app: TestApp) {
        let listed = preflight(&app, "http://localhost:3000").await;
        assert_eq!(listed.headers()["access-control-allow-origin"], "http://localhost:3000");
        assert_eq!(listed.headers()["access-control-allow-credentials"], "true");
        let evil = preflight(&app, "https://evil.test").await;
        assert!(evil.headers().get("access-control-allow-origin").is_none(), "{:?}", evil.headers());
    }
}

both_backends! {
    #[database]
    /// With `METRICS_TOKEN`, `/metrics` answers only that bearer token: not anonymous callers,
    /// not a wrong token, not a user's own access token.
    async fn metrics_need_the_metrics_token(database: TestDatabase) {
        let app = spawn_with(database, |args| args.metrics_token = Some(METRICS_TOKEN.into())).await;
        let user = app.user("bob").await;
        let anonymous = app.get("/metrics").await;
        assert_eq!(anonymous.status(), 401);
        assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
        assert_eq!(
            anonymous.json::<Value>().await.unwrap(),
            json!({"detail": "A valid metrics token is required"})
        );
        let longer = format!("{METRICS_TOKEN}x");
        for wrong in [user.token.as_str(), &METRICS_TOKEN[1..], longer.as_str()] {
            let response = app.client.get(app.url("/metrics")).bearer_auth(wrong).send().await.unwrap();
            assert_eq!(response.status(), 401, "{wrong}");
        }
        let scraped = app.client.get(app.url("/metrics")).bearer_auth(METRICS_TOKEN).send().await.unwrap();
        assert_eq!(scraped.status(), 200);
        assert!(scraped.text().await.unwrap().contains("http_requests_total"));
    }

    #[database]
    /// With `METRICS_ADDRESS`, `/metrics` is served there only (with the token, if set), and
    /// that listener serves nothing else.
    async fn metrics_can_live_on_their_own_address(database: TestDatabase) {
        let app = spawn_with(database, |args| {
            args.metrics_address = Some("127.0.0.1:0".into());
            args.metrics_token = Some(METRICS_TOKEN.into());
        })
        .await;
        let metrics = app.metrics_address.clone().expect("a metrics listener");
        assert_ne!(metrics, app.address);
        let main = app.client.get(app.url("/metrics")).bearer_auth(METRICS_TOKEN).send().await.unwrap();
        assert_eq!(main.status(), 404, "not on the main port");
        let anonymous = app.client.get(format!("{metrics}/metrics")).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        let scraped = app
            .client
            .get(format!("{metrics}/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(scraped.status(), 200);
        assert!(scraped.text().await.unwrap().contains("db_queries_total"));
        for path in ["/health", "/api/v1/resources"] {
            let response = app.client.get(format!("{metrics}{path}")).send().await.unwrap();
            assert_eq!(response.status(), 404, "{path} on the metrics listener");
        }
    }

    #[database]
    /// `*` is possible only without credentials, and is then a literal `*`, never the caller's
    /// origin echoed with credentials.
    async fn any_origin_comes_without_credentials(database: TestDatabase) {
        let app = spawn_with(database, |args| {
            args.cors_origins = Some("*".into());
            args.cors_allow_credentials = Some("false".into());
        })
        .await;
        let answer = preflight(&app, "https://evil.test").await;
        assert_eq!(answer.headers()["access-control-allow-origin"], "*");
        assert!(answer.headers().get("access-control-allow-credentials").is_none());
    }
}

async fn spawn_with(database: TestDatabase, adjust: impl FnOnce(&mut SettingsArgs)) -> TestApp {
    TestApp::builder(database.backend())
        .database(database)
        .settings(adjust)
        .spawn()
        .await
        .expect("the server starts")
}

/// A CORS preflight of `GET /api/v1/users/me` with a bearer token, from `origin`.
async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/users/me"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .expect("request failed")
}

/// `CORS_ORIGINS=*` with credentials (the default) is a configuration error naming both
/// settings; the server binary refuses to start with it.
#[test]
fn any_origin_with_credentials_is_refused_at_start() {
    let error = settings(&[("CORS_ORIGINS", "*")]).unwrap_err();
    assert!(
        error.contains("CORS_ORIGINS") && error.contains("CORS_ALLOW_CREDENTIALS"),
        "{error}"
    );
    assert!(settings(&[("CORS_ORIGINS", "*"), ("CORS_ALLOW_CREDENTIALS", "false")]).is_ok());

    let data_dir = tempfile::tempdir().unwrap();
    let output = server_command(
        &[
            ("CORS_ORIGINS", "*"),
            ("DATA_DIR", &data_dir.path().display().to_string()),
        ],
        &["serve", "--port", "0"],
    )
    .output()
    .expect("running the server binary");
    assert!(!output.status.success(), "the server started with CORS_ORIGINS=*");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(printed.contains("CORS_ORIGINS"), "{printed}");
}

/// PostgreSQL going away under a running server (its connections cut and refused): `/health`
/// says so without the driver's message, which names the database.
#[actix_web::test]
async fn health_does_not_echo_a_lost_postgres_connection() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    app.database().set_connections_allowed(false).await;
    let text = app.get("/health").await.text().await.unwrap();
    app.database().set_connections_allowed(true).await;
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["api"], "error: database unavailable");
    for leak in ["rr_test_", "connection", "accepting", "FATAL", "terminat"] {
        assert!(!text.contains(leak), "/health leaks {leak:?}: {text}");
    }
}
