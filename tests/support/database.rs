//! A fresh database for each test: a SQLite file in its own temporary directory, or a
//! PostgreSQL database created on the server named by `RR_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and dropped when the test ends.
//!
//! When no PostgreSQL server answers, PostgreSQL tests are skipped with a loud message, unless
//! `RR_REQUIRE_POSTGRES=1` (set by `.ci/run`), which turns the skip into a failure.

use std::path::PathBuf;

use resource_reserver::storage::{DatabaseLocation, Db, PoolOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDatabase {
    pub location: DatabaseLocation,
    /// The data directory (always a fresh temporary directory, whatever the backend).
    pub data_dir: tempfile::TempDir,
    postgres: Option<PostgresDatabase>,
}

struct PostgresDatabase {
    admin_url: String,
    name: String,
}

fn admin_url() -> String {
    std::env::var("RR_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn postgres_required() -> bool {
    std::env::var("RR_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("RR_TEST_POSTGRES_URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

async fn admin_client(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

impl TestDatabase {
    /// A new, empty database of the given kind; `None` when PostgreSQL is not available and
    /// not required.
    pub async fn create(backend: Backend) -> Option<TestDatabase> {
        let data_dir = tempfile::tempdir().expect("temporary directory");
        match backend {
            Backend::Sqlite => Some(TestDatabase {
                location: DatabaseLocation::Sqlite(data_dir.path().join("test.db")),
                data_dir,
                postgres: None,
            }),
            Backend::Postgres => {
                let admin_url = admin_url();
                let client = match admin_client(&admin_url).await {
                    Ok(client) => client,
                    Err(error) if !postgres_required() => {
                        eprintln!(
                            "\n!!! SKIPPED: no PostgreSQL at {admin_url} ({error}).\n!!! Set RR_TEST_POSTGRES_URL to a \
                             server, or RR_REQUIRE_POSTGRES=1 to make this a failure.\n"
                        );
                        return None;
                    }
                    Err(error) => panic!("PostgreSQL is required (RR_REQUIRE_POSTGRES) but {admin_url} fails: {error}"),
                };
                let name = format!("rr_test_{}", uuid::Uuid::new_v4().simple());
                client
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("creating the test database");
                Some(TestDatabase {
                    location: DatabaseLocation::Postgres(with_database(&admin_url, &name)),
                    data_dir,
                    postgres: Some(PostgresDatabase { admin_url, name }),
                })
            }
        }
    }

    /// The same temporary data directory, but pointing at another SQLite file inside it (the
    /// server's default file name, for tests that run the binary without `DATABASE_URL`).
    pub fn for_sqlite_file(mut database: TestDatabase, path: PathBuf) -> TestDatabase {
        database.location = DatabaseLocation::Sqlite(path);
        database
    }

    pub fn backend(&self) -> Backend {
        match self.location {
            DatabaseLocation::Sqlite(_) => Backend::Sqlite,
            DatabaseLocation::Postgres(_) => Backend::Postgres,
        }
    }

    /// The value to pass as `DATABASE_URL`.
    pub fn url(&self) -> String {
        match &self.location {
            DatabaseLocation::Sqlite(path) => format!("sqlite:///{}", path.display()),
            DatabaseLocation::Postgres(url) => url.clone(),
        }
    }

    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match &self.location {
            DatabaseLocation::Sqlite(path) => Some(path.clone()),
            DatabaseLocation::Postgres(_) => None,
        }
    }

    /// A storage handle on this database (not migrated).
    pub async fn connect(&self) -> Db {
        let options = PoolOptions {
            max_connections: 4,
            acquire_timeout: std::time::Duration::from_secs(5),
            statement_timeout: std::time::Duration::from_secs(30),
        };
        Db::connect(&self.location, &options)
            .await
            .expect("connecting to the test database")
    }
}

impl TestDatabase {
    /// PostgreSQL only: refuse (and cut) or allow again every connection to this database, to
    /// simulate the database going away and coming back.
    pub async fn set_connections_allowed(&self, allowed: bool) {
        let pg = self.postgres.as_ref().expect("a PostgreSQL test database");
        let client = admin_client(&pg.admin_url).await.expect("admin connection");
        client
            .batch_execute(&format!("ALTER DATABASE {} ALLOW_CONNECTIONS {allowed}", pg.name))
            .await
            .expect("ALTER DATABASE");
        if !allowed {
            client
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                    &[&pg.name],
                )
                .await
                .expect("terminating connections");
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(pg) = self.postgres.take() else { return };
        // Drop needs its own runtime: the test's may already be shutting down.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(client) = admin_client(&pg.admin_url).await {
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg.name))
                        .await;
                }
            });
        })
        .join();
    }
}
