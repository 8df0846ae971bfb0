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

/// A server process on port 0 with a fresh SQLite database; killed when dropped.
pub struct Server {
    /// Killed when the server is dropped, before its data directory goes.
    _process: ServerProcess,
    pub url: String,
    _data: tempfile::TempDir,
}

impl Server {
    pub fn start() -> Server {
        let data = tempfile::tempdir().expect("temporary data directory");
        let data_dir = data.path().display().to_string();
        let process = ServerProcess::start_binary(
            server_binary(),
            &[("DATA_DIR", &data_dir), ("RUST_LOG", "info"), ("LOG_FORMAT", "text")],
        );
        Server {
            url: process.address.clone(),
            _process: process,
            _data: data,
        }
    }
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
