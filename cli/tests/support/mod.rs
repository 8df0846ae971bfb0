//! The real server binary on a temporary database, and the CLI binary run against it with a
//! temporary configuration directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

// The one way of starting a server process, shared with the server's own tests.
#[allow(dead_code)] // the server package's own starters are for its tests only
#[path = "../../../tests/support/process.rs"]
mod process;

use process::ServerProcess;

/// The `resource-reserver` binary of this workspace (or the one named by `RR_SERVER_BIN`).
/// It is built once per test run unless it is newer than every source of the server (as after
/// `cargo test --workspace`, which builds it for its own tests with other features: building it
/// again here would compile much of the server a second time).
fn server_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(path) = std::env::var_os("RR_SERVER_BIN") {
            return PathBuf::from(path);
        }
        // Next to this package's binary: target/<profile>/.
        let dir = Path::new(env!("CARGO_BIN_EXE_resource-reserver-cli"))
            .parent()
            .expect("the CLI binary is in a directory")
            .to_owned();
        let binary = dir.join(format!("resource-reserver{}", std::env::consts::EXE_SUFFIX));
        if is_fresh(&binary) {
            return binary;
        }
        let mut build = Command::new(env!("CARGO"));
        build
            .args([
                "build",
                "--quiet",
                "-p",
                "resource-reserver",
                "--bin",
                "resource-reserver",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if dir.file_name().is_some_and(|name| name == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("running cargo build for the server");
        assert!(status.success(), "building the server binary failed");
        assert!(binary.exists(), "no server binary at {}", binary.display());
        binary
    })
}

/// Whether `binary` was built after the last change to the server's sources.
fn is_fresh(binary: &Path) -> bool {
    let Some(built) = modified(binary) else {
        return false;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut newest = None;
    for entry in ["src", "actors", "schema", "Cargo.toml", "Cargo.lock"] {
        newest = newest.max(newest_under(&root.join(entry)));
    }
    newest.is_some_and(|newest| newest <= built)
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The latest modification time of a file or of any file below a directory.
fn newest_under(path: &Path) -> Option<std::time::SystemTime> {
    let own = modified(path);
    let Ok(entries) = std::fs::read_dir(path) else {
        return own;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| newest_under(&entry.path()))
        .fold(own, |newest, time| newest.max(Some(time)))
}

/// Which database the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A server process on port 0 with a fresh database; killed when dropped, then its database
/// goes.
pub struct Server {
    /// Killed when the server is dropped, before its data directory goes.
    process: ServerProcess,
    pub url: String,
    _postgres: Option<PostgresDatabase>,
    _data: tempfile::TempDir,
}

impl Server {
    /// A server on SQLite.
    pub fn start() -> Server {
        Server::on(Backend::Sqlite, &[]).expect("SQLite is always available")
    }

    /// A server on `backend` with extra environment variables; `None` when PostgreSQL is not
    /// reachable and not required (`RR_REQUIRE_POSTGRES=1` turns that into a failure).
    pub fn on(backend: Backend, env: &[(&str, &str)]) -> Option<Server> {
        let data = tempfile::tempdir().expect("temporary data directory");
        let data_dir = data.path().display().to_string();
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PostgresDatabase::create()?),
        };
        let mut vars = vec![
            ("DATA_DIR", data_dir.as_str()),
            ("RUST_LOG", "info"),
            ("LOG_FORMAT", "text"),
        ];
        if let Some(database) = &postgres {
            vars.push(("DATABASE_URL", database.url.as_str()));
        }
        vars.extend_from_slice(env);
        let process = ServerProcess::start_binary(server_binary(), &vars);
        Some(Server {
            url: process.address.clone(),
            process,
            _postgres: postgres,
            _data: data,
        })
    }

    /// Every line the server printed so far.
    #[allow(dead_code)]
    pub fn log(&mut self) -> String {
        self.process.output().join("\n")
    }
}

/// Runs a test body once on each backend: `on_both_backends!(name, |server| { … })` makes the
/// tests `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $env:expr, $body:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn sqlite() {
                let body: fn(support::Server) = $body;
                body(support::Server::on(support::Backend::Sqlite, $env).expect("SQLite"));
            }

            #[test]
            fn postgres() {
                let body: fn(support::Server) = $body;
                if let Some(server) = support::Server::on(support::Backend::Postgres, $env) {
                    body(server);
                }
            }
        }
    };
}

/// A PostgreSQL database of its own on the server named by `RR_TEST_POSTGRES_URL`, dropped
/// with it (as the server's tests do, see `tests/support/database.rs`).
struct PostgresDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PostgresDatabase {
    fn create() -> Option<PostgresDatabase> {
        let admin_url = std::env::var("RR_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let required = std::env::var("RR_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
        let name = format!("rr_cli_test_{}_{}", std::process::id(), unique());
        if let Err(error) = postgres_admin(&admin_url, &format!("CREATE DATABASE {name}")) {
            assert!(
                !required,
                "PostgreSQL is required (RR_REQUIRE_POSTGRES) but {admin_url} fails: {error}"
            );
            eprintln!("\n!!! SKIPPED: no PostgreSQL at {admin_url} ({error}).\n");
            return None;
        }
        let mut url = url::Url::parse(&admin_url).expect("RR_TEST_POSTGRES_URL is a URL");
        url.set_path(&format!("/{name}"));
        Some(PostgresDatabase {
            admin_url,
            name,
            url: url.to_string(),
        })
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let _ = postgres_admin(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// A number no other database of this process has.
fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Runs one statement on the administration database.
fn postgres_admin(admin_url: &str, statement: &str) -> Result<(), tokio_postgres::Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        client.batch_execute(statement).await
    })
}

/// What a CLI run printed.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    #[track_caller]
    pub fn success(self) -> Outcome {
        assert_eq!(self.code, 0, "the command failed: {self:#?}");
        self
    }

    #[track_caller]
    pub fn failure(self, code: i32) -> Outcome {
        assert_eq!(self.code, code, "expected exit code {code}: {self:#?}");
        self
    }
}

/// The CLI with its own configuration directory, talking to one server, in the Paris zone.
pub struct Cli {
    pub api_url: String,
    pub config: tempfile::TempDir,
}

pub const TIME_ZONE: &str = "Europe/Paris";

impl Cli {
    pub fn new(api_url: &str) -> Cli {
        Cli {
            api_url: api_url.to_owned(),
            config: tempfile::tempdir().expect("temporary config directory"),
        }
    }

    pub fn auth_file(&self) -> PathBuf {
        self.config.path().join("auth.json")
    }

    pub fn run(&self, args: &[&str]) -> Outcome {
        self.run_with_stdin(args, "")
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Outcome {
        let mut child = Command::new(env!("CARGO_BIN_EXE_resource-reserver-cli"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("API_URL", &self.api_url)
            .env("CLI_CONFIG_DIR", self.config.path())
            .env("TZ", TIME_ZONE)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting the CLI");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("writing stdin");
        let output = child.wait_with_output().expect("waiting for the CLI");
        Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs with `--output json`, expects success and JSON alone on stdout.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.extend(["--output", "json"]);
        let outcome = self.run(&args).success();
        serde_json::from_str(&outcome.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?}", outcome.stdout))
    }

    /// Registers and logs in `username`.
    pub fn sign_up(&self, username: &str) {
        let password = format!("{PASSWORD}\n");
        self.run_with_stdin(&["auth", "register", "-u", username, "--password-stdin"], &password)
            .success();
        self.run_with_stdin(&["auth", "login", "-u", username, "--password-stdin"], &password)
            .success();
    }
}

pub const PASSWORD: &str = "Correct-Horse-9";

impl Cli {
    /// Another CLI on another URL (a proxy in front of the same server) with a copy of this
    /// one's session.
    #[allow(dead_code)]
    pub fn via(&self, api_url: &str) -> Cli {
        let other = Cli::new(api_url);
        std::fs::copy(self.auth_file(), other.auth_file()).expect("copying the session");
        other
    }

    /// Starts a long-running command (`watch`); its stdout and stderr lines are read as they
    /// come.
    #[allow(dead_code)]
    pub fn spawn(&self, args: &[&str]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_resource-reserver-cli"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("API_URL", &self.api_url)
            .env("CLI_CONFIG_DIR", self.config.path())
            .env("TZ", TIME_ZONE)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting the CLI");
        let (tx, lines) = std::sync::mpsc::channel();
        let mut readers = Vec::new();
        for (stream, from_stdout) in [
            (
                Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
                true,
            ),
            (Box::new(child.stderr.take().expect("stderr")), false),
        ] {
            let tx = tx.clone();
            readers.push(std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send((from_stdout, line));
                }
            }));
        }
        Running {
            child,
            lines,
            stdout: Vec::new(),
            stderr: Vec::new(),
        }
    }
}

/// A CLI process that is still running.
#[allow(dead_code)]
pub struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<(bool, String)>,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
}

#[allow(dead_code)]
impl Running {
    /// Waits (at most a minute) for a line on stdout (`true`) or stderr containing `needle`.
    #[track_caller]
    pub fn wait_for(&mut self, on_stdout: bool, needle: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let seen = if on_stdout { &self.stdout } else { &self.stderr };
        if let Some(line) = seen.iter().find(|line| line.contains(needle)) {
            return line.clone();
        }
        loop {
            let remaining = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(remaining) {
                Ok((from_stdout, line)) => {
                    if from_stdout {
                        self.stdout.push(line.clone());
                    } else {
                        self.stderr.push(line.clone());
                    }
                    if from_stdout == on_stdout && line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line with {needle:?} on {}; stdout:\n{}\nstderr:\n{}",
                    if on_stdout { "stdout" } else { "stderr" },
                    self.stdout.join("\n"),
                    self.stderr.join("\n")
                ),
            }
        }
    }

    /// Waits (at most a minute) for the process to exit; its exit code and remaining lines.
    #[track_caller]
    pub fn finish(mut self) -> Outcome {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waiting for the CLI") {
                break status;
            }
            assert!(std::time::Instant::now() < deadline, "the CLI did not exit");
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        while let Ok((from_stdout, line)) = self.lines.recv_timeout(std::time::Duration::from_secs(5)) {
            if from_stdout {
                self.stdout.push(line);
            } else {
                self.stderr.push(line);
            }
        }
        Outcome {
            code: status.code().unwrap_or(-1),
            stdout: self.stdout.join("\n"),
            stderr: self.stderr.join("\n"),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP proxy in front of a server, whose connections the test can cut and whose door it
/// can close for a while: a network failure between the CLI and the server, the server itself
/// untouched.
#[allow(dead_code)]
pub struct Proxy {
    pub url: String,
    state: std::sync::Arc<ProxyState>,
}

#[derive(Default)]
struct ProxyState {
    open: std::sync::atomic::AtomicBool,
    connections: std::sync::Mutex<Vec<std::net::TcpStream>>,
}

#[allow(dead_code)]
impl Proxy {
    pub fn start(server_url: &str) -> Proxy {
        let upstream = server_url.trim_start_matches("http://").to_owned();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding the proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let state = std::sync::Arc::new(ProxyState::default());
        state.open.store(true, std::sync::atomic::Ordering::SeqCst);
        let shared = state.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                if !shared.open.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(&upstream) else {
                    continue;
                };
                if let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) {
                    let mut connections = shared.connections.lock().expect("proxy lock");
                    connections.push(c);
                    connections.push(s);
                }
                pipe(client.try_clone(), server.try_clone());
                pipe(server.try_clone(), client.try_clone());
            }
        });
        Proxy { url, state }
    }

    /// Cuts every connection through the proxy and refuses new ones until [`Proxy::reopen`].
    pub fn cut_and_close(&self) {
        self.state.open.store(false, std::sync::atomic::Ordering::SeqCst);
        for connection in self.state.connections.lock().expect("proxy lock").drain(..) {
            let _ = connection.shutdown(std::net::Shutdown::Both);
        }
    }

    pub fn reopen(&self) {
        self.state.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Copies one direction of a proxied connection until either side ends.
fn pipe(from: std::io::Result<std::net::TcpStream>, to: std::io::Result<std::net::TcpStream>) {
    if let (Ok(mut from), Ok(mut to)) = (from, to) {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(std::net::Shutdown::Both);
        });
    }
}

/// A webhook receiver on 127.0.0.1 that keeps the bodies it receives and answers 200, or 500
/// while it is set failing.
#[allow(dead_code)]
pub struct Receiver {
    pub url: String,
    pub bodies: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    pub failing: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

#[allow(dead_code)]
impl Receiver {
    pub fn start(failing: bool) -> Receiver {
        use std::io::{BufRead, Read};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding the receiver");
        let url = format!("http://{}/hook", listener.local_addr().expect("receiver address"));
        let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = bodies.clone();
        let failing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(failing));
        let fail = failing.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let mut reader = std::io::BufReader::new(stream);
                let mut length = 0usize;
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                kept.lock()
                    .expect("receiver lock")
                    .push(String::from_utf8_lossy(&body).into_owned());
                let answer: &[u8] = if fail.load(std::sync::atomic::Ordering::SeqCst) {
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope"
                } else {
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                };
                let _ = reader.get_mut().write_all(answer);
            }
        });
        Receiver { url, bodies, failing }
    }
}
