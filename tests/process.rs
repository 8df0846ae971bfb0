//! The `resource-reserver` binary run as an operator runs it: start-up, configuration errors,
//! restarts on the same data, graceful shutdown on signals.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use serde_json::Value;
use support::process::{ServerProcess, server_command};
use support::server::http_client;
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
