//! `rr-load`: a load generator for any server speaking the Resource Reserver `/api/v1`.
//!
//! Workloads set themselves up through the public API only, so the same run can target this
//! server or the Python original. See `loadtests/README.md`.

mod stats;

use std::time::{Duration, Instant};

use anyhow::Result;
use clap::{Parser, Subcommand};
use stats::Samples;

#[derive(Parser)]
#[command(name = "rr-load", about = "Load generator for Resource Reserver servers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
        Command::Probe {
            url,
            path,
            concurrency,
            seconds,
        } => {
            let target = format!("{}{}", url.trim_end_matches('/'), path);
            let summary = probe(&target, concurrency, Duration::from_secs(seconds)).await?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
        }
    }
    Ok(())
}

async fn probe(target: &str, concurrency: usize, duration: Duration) -> Result<stats::Summary> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let started = Instant::now();
    let deadline = started + duration;
    let workers = (0..concurrency).map(|_| {
        let (client, target) = (client.clone(), target.to_owned());
        tokio::spawn(async move {
            let mut samples = Samples::default();
            while Instant::now() < deadline {
                let sent = Instant::now();
                match client.get(&target).send().await {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        samples.record(sent.elapsed());
                    }
                    _ => samples.errors += 1,
                }
            }
            samples
        })
    });
    let mut all = Samples::default();
    for worker in futures_join(workers).await {
        all.merge(worker?);
    }
    Ok(all.summarize(started.elapsed()))
}

async fn futures_join<T>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await);
    }
    results
}
