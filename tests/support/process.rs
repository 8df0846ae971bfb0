//! The `resource-reserver` binary as a child process, as an operator runs it: the one way the
//! server's tests and the CLI's tests start a server process. `cli/tests/support` includes this
//! file by path and passes the binary it found; the server's own tests use the binary Cargo
//! built for them ([`ServerProcess::start`], [`server_command`]).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running server process; killed when dropped.
pub struct ServerProcess {
    pub child: Child,
    pub address: String,
    /// Every line the process prints is sent here…
    lines: mpsc::Receiver<String>,
    /// …and kept here once read.
    log: Vec<String>,
}

/// The binary Cargo built for the server package's own tests. The CLI's tests compile this file
/// too, where Cargo names no server binary; they call only [`ServerProcess::start_binary`].
#[allow(clippy::option_env_unwrap)]
fn own_server_binary() -> &'static Path {
    Path::new(option_env!("CARGO_BIN_EXE_resource-reserver").expect("a test of the server package"))
}

/// The server binary with a clean environment (plus `PATH`) and the given variables.
pub fn server_command(env: &[(&str, &str)], args: &[&str]) -> Command {
    binary_command(own_server_binary(), env, args)
}

/// `binary` with a clean environment (plus `PATH`) and the given variables.
pub fn binary_command(binary: &Path, env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command.envs(env.iter().copied()).args(args);
    command
}

impl ServerProcess {
    /// Starts `serve` on port 0 and waits until it listens.
    pub fn start(env: &[(&str, &str)]) -> ServerProcess {
        ServerProcess::start_binary(own_server_binary(), env)
    }

    /// Starts `serve` on `port` and waits until it listens: a node restarted where its load
    /// balancer expects it.
    pub fn start_on(env: &[(&str, &str)], port: u16) -> ServerProcess {
        ServerProcess::spawn(own_server_binary(), env, port)
    }

    /// Starts `binary serve --port 0` and waits until it listens.
    pub fn start_binary(binary: &Path, env: &[(&str, &str)]) -> ServerProcess {
        ServerProcess::spawn(binary, env, 0)
    }

    fn spawn(binary: &Path, env: &[(&str, &str)], port: u16) -> ServerProcess {
        let port = port.to_string();
        let mut child = binary_command(binary, env, &["serve", "--port", &port])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting the server binary");
        let (tx, lines) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        let mut process = ServerProcess {
            child,
            address: String::new(),
            lines,
            log: Vec::new(),
        };
        // In a JSON log the address ends inside a string, so it stops at a quote too.
        let line = process.wait_for_line("listening on http://", Duration::from_secs(60));
        let address = line
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| c.is_whitespace() || c == '"').next());
        process.address = address.expect("address in the log line").to_owned();
        process
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.address
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .expect("an address with a port")
    }

    /// Waits for a printed line containing `needle` and returns it (panics on timeout or exit).
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(remaining) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no line containing {needle:?}; output so far:\n{}", self.log.join("\n")),
            }
        }
    }

    /// Every line printed so far.
    pub fn output(&mut self) -> &[String] {
        self.log.extend(self.lines.try_iter());
        &self.log
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{signal} failed");
    }

    /// Waits for the process to exit and returns its exit code.
    pub fn wait(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("waiting for the server") {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the server did not exit within {timeout:?}");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
