//! `rr-instructions`: the booking path and the availability read, `--requests` times each, on a
//! server started in this process (release build, SQLite in a fresh temporary directory), for
//! `valgrind --tool=callgrind` to count the instructions of. Instruction counts barely move
//! with the machine's load, unlike rates, so `loadtests/callgrind-guard` compares them with the
//! recorded figures and fails on a growth.
//!
//! Run under callgrind with `--instr-atstart=no`: start-up, sign-up and the warm-up run
//! uninstrumented (fast); each measured part is bracketed by callgrind client requests (zero
//! the counters, then dump them under the part's name), so a dump holds exactly that part: the
//! server's work for the requests on every thread (HTTP workers, the resource actor, the SQLite
//! writer, the outbox tailer catching up), and the client's (reqwest over loopback, in this
//! process too). Natively the client requests do nothing, so the binary also runs on its own.
//!
//! Unlike `rr-load`, this links the server: counting its instructions needs it in the process.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use chrono::{DateTime, DurationRound, SecondsFormat, TimeDelta, Utc};
use clap::Parser;
use resource_reserver::config::{Settings, SettingsArgs};
use resource_reserver::startup::Application;
use serde_json::{Value, json};

#[derive(Parser)]
#[command(about = "Counts the instructions of bookings and availability reads (run under callgrind)")]
struct Cli {
    /// Requests per measured part.
    #[arg(long, default_value_t = 200)]
    requests: u32,
}

const PASSWORD: &str = "Xq9!zV7#Lp2$Ww";
/// Bookings on the resource whose availability is read (as in W3), inside its 7-day window.
const BOOKINGS_IN_WINDOW: i64 = 20;
/// Time for the work that follows the last request (the tailer publishing its events).
const SETTLE: Duration = Duration::from_millis(500);

fn main() -> Result<()> {
    let cli = Cli::parse();
    let data_dir = std::env::temp_dir().join(format!("rr-instructions-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir)?;
    let result = actix_rt::System::new().block_on(run(&cli, &data_dir));
    let _ = std::fs::remove_dir_all(&data_dir);
    result
}

async fn run(cli: &Cli, data_dir: &std::path::Path) -> Result<()> {
    let data_dir = data_dir.display().to_string();
    let env = |name: &str| -> Option<String> {
        Some(match name {
            "HOST" => "127.0.0.1".into(),
            "PORT" => "0".into(),
            "DATA_DIR" => data_dir.clone(),
            "ENVIRONMENT" => "test".into(),
            "RATE_LIMIT_ENABLED" => "false".into(),
            // One HTTP worker and one actor thread: fewer threads, steadier counts.
            "WORKERS" => "1".into(),
            "ACTOR_THREADS" => "1".into(),
            // The tailer is woken by each commit; its timed poll would only add idle work.
            "EVENTS_POLL_MILLISECONDS" => "60000".into(),
            "LOG_FORMAT" => "text".into(),
            _ => return None,
        })
    };
    let settings = Settings::from_args_and_env(&SettingsArgs::default(), &env).context("settings")?;
    let app = Application::build(settings).await.context("starting the server")?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let shutdown = app.shutdown_handle();
    let server = actix_rt::spawn(app.run_until_stopped());

    let http = reqwest::Client::builder().timeout(Duration::from_secs(600)).build()?;
    let token = account(&http, &base, "bench-admin").await?;
    let read = resource(&http, &base, &token, "read").await?;
    let booked = resource(&http, &base, &token, "booked").await?;
    let tomorrow = (Utc::now() + TimeDelta::days(1)).duration_trunc(TimeDelta::hours(1))?;
    for i in 0..BOOKINGS_IN_WINDOW {
        book(&http, &base, &token, read, tomorrow + TimeDelta::hours(2 * i)).await?;
    }
    let path = format!("{base}/api/v1/resources/{read}/availability?days_ahead=7");
    // Warm-up: the actors are loaded and every lazy start-up cost is paid before counting.
    let later = tomorrow + TimeDelta::days(30);
    for i in 0..20 {
        book(&http, &base, &token, booked, later + TimeDelta::hours(i)).await?;
        get(&http, &path).await?;
    }
    tokio::time::sleep(SETTLE).await;

    let requests = i64::from(cli.requests);
    callgrind::start_instrumentation();
    callgrind::zero_stats();
    for i in 0..requests {
        book(&http, &base, &token, booked, later + TimeDelta::hours(20 + i)).await?;
    }
    tokio::time::sleep(SETTLE).await;
    callgrind::dump_stats_at(c"booking");
    tokio::time::sleep(SETTLE).await;
    callgrind::zero_stats();
    for _ in 0..requests {
        get(&http, &path).await?;
    }
    callgrind::dump_stats_at(c"availability");
    callgrind::stop_instrumentation();
    println!("booking: {requests} requests; availability: {requests} requests");

    shutdown.graceful().await;
    server.await??;
    Ok(())
}

async fn account(http: &reqwest::Client, base: &str, username: &str) -> Result<String> {
    let registered = http
        .post(format!("{base}/api/v1/register"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await?;
    ensure!(registered.status().is_success(), "registering: {}", registered.status());
    let tokens: Value = http
        .post(format!("{base}/api/v1/token"))
        .form(&[("username", username), ("password", PASSWORD)])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(tokens["access_token"].as_str().context("no access_token")?.to_owned())
}

async fn resource(http: &reqwest::Client, base: &str, token: &str, name: &str) -> Result<i64> {
    let created: Value = http
        .post(format!("{base}/api/v1/resources"))
        .bearer_auth(token)
        .json(&json!({"name": name}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    created["id"].as_i64().context("a resource without id")
}

async fn book(http: &reqwest::Client, base: &str, token: &str, resource: i64, start: DateTime<Utc>) -> Result<()> {
    let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let body =
        json!({"resource_id": resource, "start_time": time(start), "end_time": time(start + TimeDelta::hours(1))});
    let response = http
        .post(format!("{base}/api/v1/reservations"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    if response.status() != reqwest::StatusCode::CREATED {
        bail!("booking {body}: {} {}", response.status(), response.text().await?);
    }
    response.bytes().await?;
    Ok(())
}

async fn get(http: &reqwest::Client, url: &str) -> Result<()> {
    let response = http.get(url).send().await?.error_for_status()?;
    response.bytes().await?;
    Ok(())
}

/// Callgrind's client requests (`valgrind/callgrind.h`): the special instruction sequence
/// valgrind recognises; natively it does nothing.
mod callgrind {
    use std::ffi::CStr;

    /// `VG_USERREQ_TOOL_BASE('C', 'T')` and the requests after it, in `callgrind.h`'s order.
    const BASE: usize = ((b'C' as usize) << 24) | ((b'T' as usize) << 16);
    const ZERO_STATS: usize = BASE + 1;
    const DUMP_STATS_AT: usize = BASE + 3;
    const START_INSTRUMENTATION: usize = BASE + 4;
    const STOP_INSTRUMENTATION: usize = BASE + 5;

    pub fn zero_stats() {
        request(ZERO_STATS, 0);
    }

    /// Dumps the counters (named `label` in the dump) and zeroes them.
    pub fn dump_stats_at(label: &CStr) {
        request(DUMP_STATS_AT, label.as_ptr() as usize);
    }

    pub fn start_instrumentation() {
        request(START_INSTRUMENTATION, 0);
    }

    pub fn stop_instrumentation() {
        request(STOP_INSTRUMENTATION, 0);
    }

    #[cfg(target_arch = "x86_64")]
    fn request(code: usize, argument: usize) {
        let args: [usize; 6] = [code, argument, 0, 0, 0, 0];
        // SAFETY: valgrind.h's amd64 client request: four rotations of rdi that add up to a
        // full turn (rdi unchanged) and `xchg rbx, rbx` (a no-op); under valgrind it reads the
        // six words at rax and writes its answer to rdx. Natively nothing changes but rdx.
        unsafe {
            std::arch::asm!(
                "rol rdi, 3",
                "rol rdi, 13",
                "rol rdi, 61",
                "rol rdi, 51",
                "xchg rbx, rbx",
                in("rax") args.as_ptr(),
                inout("rdx") 0usize => _,
                out("rdi") _,
            );
        }
    }

    /// Elsewhere the counts are not taken (the guard runs on x86-64).
    #[cfg(not(target_arch = "x86_64"))]
    fn request(_code: usize, _argument: usize) {}
}
