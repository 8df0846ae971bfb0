//! The `resource-reserver` binary: `serve` runs the server, `migrate` prepares the database,
//! `healthcheck` asks a running server's `/health` (for container health checks: the image has no
//! shell and no curl).
//!
//! Before anything else starts, glibc's mmap threshold is set to 1 MiB, so the 19 MiB buffers of
//! argon2id hashing go back to the kernel when freed instead of staying resident in malloc's
//! arenas.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use resource_reserver::config::{Settings, SettingsArgs};
use resource_reserver::{Application, telemetry};

/// Blocks of 1 MiB and more come straight from the kernel and go back to it when freed. glibc's
/// default threshold grows with the largest block freed, so after the first password hash its
/// 19 MiB blocks were carved from the arenas and stayed resident there, fragmented: a burst of
/// 40 sign-ins left ~100 MB (with hashing on the blocking pool, 300 MB) for good (measured by
/// `loadtests/`). Mapping a hash's memory afresh costs about a millisecond of its ~25.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_kernel() {
    // SAFETY: mallopt only sets an allocator parameter; it runs before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[derive(Parser)]
#[command(
    name = "resource-reserver",
    version,
    about = "Real-time scheduling server for shared resources"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server until SIGTERM or SIGINT (then drain, finish in-flight requests and exit 0)
    Serve(SettingsArgs),
    /// Apply pending database migrations and exit
    Migrate(SettingsArgs),
    /// Ask the server these settings describe (HOST, PORT) for GET /health; exit 0 when it
    /// answers that it is healthy, 1 otherwise (a container's health check)
    Healthcheck(SettingsArgs),
}

/// The command line. clap shows each setting's variable and default in `--help` and refuses
/// unknown flags, but the values it returns are the flags alone: variables and defaults are applied
/// by [`Settings`] (one resolver, the one tests use with an injected environment), so a second
/// parse runs against the declaration with its variables and defaults taken off. Only the first
/// parse's help and version count: its other errors (such as a variable that is not UTF-8, which
/// `Settings` ignores) are left to the second.
fn parse_command_line() -> Cli {
    use clap::error::ErrorKind;
    let hide_values = |arg: clap::Arg| arg.hide_env_values(true);
    let declared = Cli::command().mut_subcommands(|command| command.mut_args(hide_values));
    if let Err(error) = declared.try_get_matches()
        && matches!(
            error.kind(),
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        )
    {
        error.exit();
    }
    let flags_only = |arg: clap::Arg| arg.env(None::<&'static str>).default_value(None::<&'static str>);
    let matches = Cli::command()
        .mut_subcommands(|command| command.mut_args(flags_only))
        .get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

fn main() -> ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    return_large_blocks_to_the_kernel();
    let cli = parse_command_line();
    let (Command::Serve(args) | Command::Migrate(args) | Command::Healthcheck(args)) = &cli.command;
    let settings = match Settings::from_args(args) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let serving = match cli.command {
        Command::Healthcheck(_) => return healthcheck(&settings),
        Command::Serve(_) => true,
        Command::Migrate(_) => false,
    };
    telemetry::init(settings.log_format);
    // One process-wide TLS provider for every outbound client (webhooks, SMTP).
    let _ = rustls::crypto::ring::default_provider().install_default();

    let result = actix_web::rt::System::new().block_on(async move {
        if serving {
            serve(settings).await
        } else {
            migrate(settings).await
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", telemetry::one_line(&*error));
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> Result<(), Box<dyn std::error::Error>> {
    let app = Application::build(settings).await?;
    let shutdown = app.shutdown_handle();
    actix_web::rt::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested");
        shutdown.graceful().await;
    });
    app.run_until_stopped().await?;
    Ok(())
}

async fn migrate(settings: Settings) -> Result<(), Box<dyn std::error::Error>> {
    let pool = resource_reserver::storage::PoolOptions {
        max_connections: 1,
        acquire_timeout: std::time::Duration::from_secs(5),
        statement_timeout: settings.statement_timeout,
    };
    let db = resource_reserver::storage::Db::connect(&settings.database, &pool).await?;
    let report = db.migrate().await?;
    println!(
        "schema version {}; applied {:?}",
        report.current_version, report.applied
    );
    db.close().await;
    Ok(())
}

/// Longest wait for the server to connect and answer `/health`.
const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// `healthcheck`: 0 when the server answers `GET /health` with 200 and `"status": "healthy"`
/// (so also when its database answers), 1 with the reason on stderr otherwise. Plain HTTP/1.0
/// over a socket, without an async runtime: it runs every few seconds in the container.
fn healthcheck(settings: &Settings) -> ExitCode {
    match ask_health(settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("unhealthy: {reason}");
            ExitCode::FAILURE
        }
    }
}

fn ask_health(settings: &Settings) -> Result<(), String> {
    let address = local_address(&settings.host, settings.port)?;
    let mut stream = TcpStream::connect_timeout(&address, HEALTHCHECK_TIMEOUT)
        .map_err(|error| format!("cannot connect to {address}: {error}"))?;
    let answer = (|| {
        stream.set_read_timeout(Some(HEALTHCHECK_TIMEOUT))?;
        stream.set_write_timeout(Some(HEALTHCHECK_TIMEOUT))?;
        write!(stream, "GET /health HTTP/1.0\r\nHost: {address}\r\n\r\n")?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok::<_, std::io::Error>(answer)
    })()
    .map_err(|error| format!("no answer from {address}: {error}"))?;
    let (head, body) = answer.split_once("\r\n\r\n").ok_or("not an HTTP answer")?;
    let status = head.split_whitespace().nth(1).unwrap_or_default();
    if status != "200" {
        return Err(format!("GET /health answered {status}"));
    }
    let body: serde_json::Value = serde_json::from_str(body).map_err(|_| "GET /health did not answer JSON")?;
    match body["status"].as_str() {
        Some("healthy") => Ok(()),
        other => Err(format!("the server says its status is {}", other.unwrap_or("missing"))),
    }
}

/// Where to reach the server from its own machine: loopback when it listens on every address.
fn local_address(host: &str, port: u16) -> Result<SocketAddr, String> {
    let host = match host.trim_matches(['[', ']']) {
        "0.0.0.0" => "127.0.0.1",
        "::" => "::1",
        host => host,
    };
    (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addresses| addresses.next())
        .ok_or_else(|| format!("cannot resolve {host}:{port}"))
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            tracing::error!("cannot install signal handlers; stop the server with SIGKILL");
            std::future::pending::<()>().await;
        }
    }
}
