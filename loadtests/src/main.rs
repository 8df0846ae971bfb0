//! `rr-load`: a load generator for any server speaking the Resource Reserver `/api/v1`.
//!
//! Workloads set themselves up through the public API only, so the same run can target this
//! server or the Python original. See `loadtests/README.md`.

mod api;
mod board;
mod process;
mod report;
mod stats;
mod workloads;
mod ws;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use chrono::Utc;
use clap::{Parser, Subcommand};

use report::{BackendRun, Machine, Report};
use workloads::{Context, Settings, Stop};

#[derive(Parser)]
#[command(name = "rr-load", about = "Load generator for Resource Reserver servers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run workloads against one server and write that backend's results as JSON
    Run {
        /// Server base URL (with --peer-url: the first node)
        #[arg(long, default_value = "http://127.0.0.1:8000")]
        url: String,
        /// Another node of the same server (a process on the same database); repeatable. The
        /// booking and contention clients are spread round-robin over every node, W4's sockets
        /// are held on the peers, `handover` kills the last one
        #[arg(long)]
        peer_url: Vec<String>,
        /// Label of the server in the report (e.g. sqlite, postgres)
        #[arg(long, default_value = "server")]
        backend: String,
        /// Comma-separated workloads: memory, w1, w2, w3, w4, fanout (default: these, in that
        /// order), search, analytics and handover (only when named; analytics needs a database
        /// seeded by `loadtests/analytics-seed`; handover needs peers and SIGKILLs the last node)
        #[arg(long, value_delimiter = ',', default_values_t = workloads::ALL.map(String::from))]
        workloads: Vec<String>,
        /// The server's pid, to report its memory and CPU (same machine only); with peers, one
        /// per node, in the order of --url then --peer-url
        #[arg(long)]
        server_pid: Vec<u32>,
        /// The server's PostgreSQL database, when PostgreSQL runs on this machine: its
        /// processes' CPU (the database's backends, the cluster's WAL writer, background writer
        /// and checkpointer) is reported too
        #[arg(long)]
        database: Option<String>,
        /// Account used as admin: registered as the first account on a fresh server
        #[arg(long, default_value = "loadadmin")]
        admin: String,
        /// Concurrent clients of the throughput and contention workloads
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// Seconds each throughput workload runs
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// W1 sends at most this many bookings per second in total, evenly paced (default: each
        /// client books again as soon as it is answered). Compares deployments at one offered
        /// load below saturation, where CPU per booking measures work rather than contention
        #[arg(long)]
        booking_rate: Option<f64>,
        /// WebSocket subscribers of the fan-out workload
        #[arg(long, default_value_t = 10_000)]
        subscribers: usize,
        /// Reservations the memory workload creates
        #[arg(long, default_value_t = 100_000)]
        reservations: u64,
        /// Resources the search workload creates
        #[arg(long, default_value_t = 10_000)]
        search_resources: usize,
        /// Reservations the search workload creates (spread over its resources)
        #[arg(long, default_value_t = 1_000_000)]
        search_reservations: u64,
        /// The search workload uses the data `loadtests/search-seed` wrote instead of creating
        /// its own through the API
        #[arg(long)]
        search_seeded: bool,
        /// Where to write the JSON results (default: stdout only gets the table)
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Merge backend results into one report (JSON) and print the table
    Report {
        /// Print the comparison of deployments (one column per input, e.g. 1 node and 3 nodes;
        /// `loadtests/multinode`) instead of the budgets table
        #[arg(long)]
        nodes: bool,
        /// The command that produced the run, recorded in the report
        #[arg(long, default_value = "")]
        command: String,
        /// Where to write the merged JSON report
        #[arg(long)]
        out: PathBuf,
        /// Backend results written by `rr-load run --out`
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
    /// The dashboard's board in headless Chromium: first-load bytes and live-update apply times
    Board {
        /// Server base URL (a fresh server: its first account becomes the admin)
        #[arg(long, default_value = "http://127.0.0.1:8000")]
        url: String,
        /// Account used as admin (registered as the first account on a fresh server)
        #[arg(long, default_value = "loadadmin")]
        admin: String,
        /// Resources on the board whose live updates are timed
        #[arg(long, default_value_t = 1_000)]
        resources: usize,
        /// Resources on the board whose first load is weighed
        #[arg(long, default_value_t = 8)]
        small_board: usize,
        /// Live updates (bookings) sent while the big board is open
        #[arg(long, default_value_t = 100)]
        updates: usize,
        /// Where to write the JSON results
        #[arg(long)]
        out: Option<PathBuf>,
        /// A directory to write a screenshot of the big board into
        #[arg(long)]
        screenshots: Option<PathBuf>,
    },
    /// Hammer one GET path with N concurrent clients and report throughput and latency
    Probe {
        /// Server base URL
        #[arg(long, default_value = "http://127.0.0.1:8000")]
        url: String,
        /// Path to request
        #[arg(long, default_value = "/health")]
        path: String,
        /// Concurrent clients
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Seconds to run
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    match Cli::parse().command {
        Command::Run {
            url,
            peer_url,
            backend,
            workloads,
            server_pid,
            database,
            admin,
            clients,
            seconds,
            booking_rate,
            subscribers,
            reservations,
            search_resources,
            search_reservations,
            search_seeded,
            out,
        } => {
            if let Some(unknown) = workloads.iter().find(|w| !workloads::KNOWN.contains(&w.as_str())) {
                bail!("unknown workload {unknown:?}; known: {}", workloads::KNOWN.join(", "));
            }
            let settings = Settings {
                clients,
                duration: Duration::from_secs(seconds),
                booking_rate,
                subscribers,
                reservations,
                search_resources,
                search_reservations,
                search_seeded,
                server_pids: server_pid,
                database,
            };
            let mut urls = vec![url];
            urls.extend(peer_url);
            if !settings.server_pids.is_empty() && settings.server_pids.len() != urls.len() {
                bail!(
                    "{} --server-pid for {} nodes: give one per node, or none",
                    settings.server_pids.len(),
                    urls.len()
                );
            }
            let run = run(&urls, &backend, &admin, settings, &workloads).await?;
            if let Some(out) = out {
                std::fs::write(&out, serde_json::to_string_pretty(&run)?)?;
            }
        }
        Command::Report {
            nodes,
            command,
            out,
            inputs,
        } => {
            let report = Report {
                date: Utc::now().to_rfc3339(),
                command,
                machine: Machine::this(),
                backends: inputs
                    .iter()
                    .map(|path| report::read_backend(path))
                    .collect::<Result<_>>()?,
            };
            std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
            println!("{}", report::table(&report));
            if nodes {
                println!("{}", report::nodes(&report));
            } else {
                println!("{}", report::budgets(&report));
            }
            println!("report: {}", out.display());
        }
        Command::Board {
            url,
            admin,
            resources,
            small_board,
            updates,
            out,
            screenshots,
        } => {
            let report = board::run(board::Settings {
                url,
                admin,
                resources,
                updates,
                small_board,
                screenshots,
            })
            .await?;
            println!("{}", board::table(&report));
            if let Some(out) = out {
                std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
                println!("report: {}", out.display());
            }
        }
        Command::Probe {
            url,
            path,
            concurrency,
            seconds,
        } => {
            let api = api::Api::new(&url, concurrency)?;
            let (samples, elapsed) =
                workloads::closed_loop(concurrency, Stop::After(Duration::from_secs(seconds)), move |_, _| {
                    let (api, path) = (api.clone(), path.clone());
                    async move { api.get(&path).await }
                })
                .await;
            println!("{}", serde_json::to_string_pretty(&samples.summarize(elapsed))?);
        }
    }
    Ok(())
}

/// Sets up the run's accounts, then runs `names` in order, printing each row as it completes.
/// `urls` are the server's nodes (usually one).
async fn run(urls: &[String], backend: &str, admin: &str, settings: Settings, names: &[String]) -> Result<BackendRun> {
    let started_at = Utc::now().to_rfc3339();
    let ctx = Context::setup(urls, admin, settings).await?;
    let mut rows = Vec::new();
    for name in names {
        eprintln!("[{backend}] {name} …");
        let produced = match name.as_str() {
            "memory" => vec![workloads::memory::run(&ctx).await?],
            "w1" => vec![workloads::w1_booking::run(&ctx).await?],
            "w2" => vec![workloads::w2_contention::run(&ctx).await?],
            "w3" => workloads::w3_reads::run(&ctx).await?,
            "w4" => vec![workloads::w4_websocket::run(&ctx).await?],
            "fanout" => vec![workloads::fanout::run(&ctx).await?],
            "search" => vec![workloads::search::run(&ctx).await?],
            "analytics" => workloads::analytics::run(&ctx).await?,
            "handover" => vec![workloads::handover::run(&ctx).await?],
            other => bail!("unknown workload {other:?}"),
        };
        for row in &produced {
            eprintln!("[{backend}] {}: {}", row.workload, serde_json::to_string(row)?);
        }
        rows.extend(produced);
    }
    Ok(BackendRun {
        backend: backend.to_owned(),
        url: urls.join(" "),
        started_at,
        rows,
    })
}
