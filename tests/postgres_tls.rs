//! TLS to PostgreSQL (`sslmode` in `DATABASE_URL`) against a real PostgreSQL that accepts only
//! TLS: a private, throwaway cluster (initdb) with a self-signed certificate made for the test
//! by `openssl`. Skipped loudly when initdb or openssl is missing; `RR_REQUIRE_INITDB=1` fails
//! instead.

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use resource_reserver::storage::{DatabaseLocation, Db, PoolOptions};
use support::process::ServerProcess;
use support::server::http_client;

/// The directory of `initdb` and `postgres`: on PATH, else Debian's versioned directory.
fn postgres_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .find(|dir| dir.join("initdb").exists() && dir.join("postgres").exists());
    let debian = || {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists())
            .collect();
        dirs.sort();
        dirs.pop()
    };
    on_path.or_else(debian)
}

fn tools() -> Option<PathBuf> {
    let openssl = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    match postgres_bin() {
        Some(bin) if openssl => Some(bin),
        _ => {
            assert!(
                std::env::var("RR_REQUIRE_INITDB").map_or(true, |v| v != "1"),
                "RR_REQUIRE_INITDB=1 but initdb/postgres or openssl is missing"
            );
            eprintln!(
                "\n!!! SKIPPED: PostgreSQL's initdb or openssl is missing (RR_REQUIRE_INITDB=1 makes this a failure).\n"
            );
            None
        }
    }
}

/// The output of `id <args>` as a number.
fn id(args: &[&str]) -> Option<u32> {
    let output = Command::new("id").args(args).output().ok()?;
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

fn is_root() -> bool {
    id(&["-u"]) == Some(0)
}

/// A command run as the `postgres` user when this process is root (PostgreSQL refuses to run
/// as root); the child is PostgreSQL itself, so killing it stops the server.
fn as_owner(program: &Path) -> Command {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(program);
    if is_root() {
        let uid = id(&["-u", "postgres"]).expect("a postgres user to run PostgreSQL as");
        let gid = id(&["-g", "postgres"]).expect("the postgres user's group");
        command.uid(uid).gid(gid);
    }
    command
}

fn run(command: &mut Command) {
    let output = command.output().expect("running a setup command");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

const EC_KEY: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

/// A self-signed authority `<stem>.crt` / `<stem>.key` in `dir`.
fn authority(dir: &Path, stem: &str) -> PathBuf {
    let cert = dir.join(format!("{stem}.crt"));
    run(Command::new("openssl")
        .args(["req", "-x509", "-nodes", "-days", "2"])
        .args(EC_KEY)
        .args(["-subj", &format!("/CN={stem}")])
        .arg("-keyout")
        .arg(dir.join(format!("{stem}.key")))
        .arg("-out")
        .arg(&cert));
    cert
}

/// `server.crt` / `server.key` in `dir`, issued by the authority `ca` for `names`
/// (subjectAltName entries).
fn server_certificate(dir: &Path, ca: &str, names: &str) {
    run(Command::new("openssl")
        .args(["req", "-nodes", "-subj", "/CN=reserver-test"])
        .args(EC_KEY)
        .arg("-keyout")
        .arg(dir.join("server.key"))
        .arg("-out")
        .arg(dir.join("server.csr")));
    let extensions = dir.join("server.ext");
    std::fs::write(
        &extensions,
        format!("subjectAltName={names}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"),
    )
    .unwrap();
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-set_serial", "1"])
        .arg("-in")
        .arg(dir.join("server.csr"))
        .arg("-CA")
        .arg(dir.join(format!("{ca}.crt")))
        .arg("-CAkey")
        .arg(dir.join(format!("{ca}.key")))
        .arg("-extfile")
        .arg(&extensions)
        .arg("-out")
        .arg(dir.join("server.crt")));
}

/// A PostgreSQL cluster of its own, accepting only TLS connections; stopped when dropped.
struct TlsCluster {
    server: Child,
    port: u16,
    root: PathBuf,
    _dir: tempfile::TempDir,
}

impl TlsCluster {
    fn start(bin: &Path) -> TlsCluster {
        let dir = tempfile::tempdir().unwrap();
        let root = authority(dir.path(), "test-ca");
        server_certificate(dir.path(), "test-ca", "DNS:localhost");
        let data = dir.path().join("data");
        run(Command::new("chmod").arg("600").arg(dir.path().join("server.key")));
        if is_root() {
            run(Command::new("chown").arg("-R").arg("postgres").arg(dir.path()));
        }
        run(as_owner(&bin.join("initdb"))
            .args(["-U", "postgres", "--auth=trust", "-D"])
            .arg(&data));
        std::fs::write(
            data.join("pg_hba.conf"),
            "hostssl all all 127.0.0.1/32 trust\nhostnossl all all 0.0.0.0/0 reject\n",
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let server = as_owner(&bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args([
                "-p",
                &port.to_string(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "ssl=on",
            ])
            .arg("-c")
            .arg(format!("ssl_cert_file={}", dir.path().join("server.crt").display()))
            .arg("-c")
            .arg(format!("ssl_key_file={}", dir.path().join("server.key").display()))
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.path().display()))
            .args(["-c", "fsync=off"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting postgres");
        let cluster = TlsCluster {
            server,
            port,
            root,
            _dir: dir,
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the throwaway PostgreSQL did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        cluster
    }

    fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres?{query}", self.port)
    }
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        // SIGQUIT: an immediate shutdown (the cluster is thrown away).
        let _ = Command::new("kill")
            .arg("-QUIT")
            .arg(self.server.id().to_string())
            .status();
        let _ = self.server.wait();
    }
}

async fn connect(url: &str) -> Result<Db, String> {
    let options = PoolOptions {
        max_connections: 2,
        acquire_timeout: Duration::from_secs(2),
        statement_timeout: Duration::from_secs(30),
    };
    Db::connect(&DatabaseLocation::Postgres(url.to_owned()), &options)
        .await
        .map_err(|e| e.to_string())
}

/// Whether the connection `db` uses is encrypted, as PostgreSQL sees it.
async fn encrypted(db: &Db) -> bool {
    db.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", vec![])
        .await
        .unwrap()
        .get::<bool>("ssl")
        .unwrap()
}

#[tokio::test]
async fn sslmode_require_and_verify_full_against_a_server_with_a_self_signed_certificate() {
    let Some(bin) = tools() else {
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cluster = TlsCluster::start(&bin);
    let root = format!("sslrootcert={}", cluster.root.display());

    // The server takes no plain connection: whatever connects below spoke TLS.
    assert!(
        connect(&cluster.url("localhost", "")).await.is_err(),
        "plain TCP is refused"
    );

    // require: encrypted, certificate unchecked (libpq's meaning).
    let db = connect(&cluster.url("127.0.0.1", "sslmode=require")).await.unwrap();
    assert!(encrypted(&db).await);
    db.close().await;

    // verify-full: the chain and the name.
    let db = connect(&cluster.url("localhost", &format!("sslmode=verify-full&{root}")))
        .await
        .unwrap();
    assert!(encrypted(&db).await);
    db.close().await;

    // The certificate names localhost, not 127.0.0.1: verify-full refuses, verify-ca accepts.
    // (The pool retries a refused handshake until its acquire timeout, so a refusal is a
    // connection that never became available.)
    assert!(
        connect(&cluster.url("127.0.0.1", &format!("sslmode=verify-full&{root}")))
            .await
            .is_err(),
        "verify-full refuses a certificate for another name"
    );
    let db = connect(&cluster.url("127.0.0.1", &format!("sslmode=verify-ca&{root}")))
        .await
        .unwrap();
    assert!(encrypted(&db).await);
    db.close().await;

    // Against another authority the server's certificate is refused by verify-full and
    // verify-ca alike, and by default (the public roots).
    let other_dir = tempfile::tempdir().unwrap();
    let other = authority(other_dir.path(), "other-ca");
    for mode in ["verify-full", "verify-ca"] {
        let url = cluster.url("localhost", &format!("sslmode={mode}&sslrootcert={}", other.display()));
        assert!(connect(&url).await.is_err(), "{mode} with the wrong root");
    }
    assert!(connect(&cluster.url("localhost", "sslmode=verify-full")).await.is_err());

    // The server binary itself, with the URL as an operator writes it: it migrates and serves.
    let data_dir = tempfile::tempdir().unwrap();
    let url = cluster.url("localhost", &format!("sslmode=verify-full&{root}"));
    let server = ServerProcess::start(&[
        ("DATA_DIR", &data_dir.path().display().to_string()),
        ("DATABASE_URL", &url),
    ]);
    let health: serde_json::Value = http_client()
        .get(format!("{}/health", server.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "healthy", "{health}");
}
