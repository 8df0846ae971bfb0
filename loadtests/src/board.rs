//! `rr-load board`: the dashboard's board in headless Chromium (Debian's, through chromedriver),
//! measured against issue 13's budgets — a benchmark, not a test:
//!
//! - **first load** of `#/board`, cold cache (a fresh profile): the sum of `transferSize` of
//!   the Performance API's navigation and resource entries, i.e. bytes on the wire after
//!   compression, headers included; budget ≤ 200 kB. Measured with a few resources (the page's
//!   own weight), and again with all of them (the data's share).
//! - **live updates** on a board of 1,000 resources: bookings made through the API one at a
//!   time; the page records how long it took to apply each update in
//!   `window.__rrBoard.applied` (milliseconds, kept by the board page); budget < 100 ms each.
//!
//! The server must be fresh (its first account becomes the admin) or `--admin` must name an
//! admin with the load-test password. `--screenshots DIR` also writes `board.png` there.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use fantoccini::{Client, ClientBuilder};
use futures::{StreamExt, TryStreamExt, stream};
use serde::Serialize;
use serde_json::{Value, json};

use crate::api::{Account, Api, Booked, PASSWORD};

pub const FIRST_LOAD_BUDGET_BYTES: f64 = 200_000.0;
pub const APPLY_BUDGET_MS: f64 = 100.0;

pub struct Settings {
    pub url: String,
    pub admin: String,
    pub resources: usize,
    pub updates: usize,
    pub small_board: usize,
    pub screenshots: Option<PathBuf>,
}

#[derive(Serialize)]
pub struct FirstLoad {
    pub resources: usize,
    pub transfer_bytes: f64,
    pub encoded_body_bytes: f64,
    pub decoded_body_bytes: f64,
    pub requests: usize,
    /// Every entry: (name, transferSize), largest first.
    pub entries: Vec<(String, f64)>,
    pub holds: bool,
}

#[derive(Serialize)]
pub struct Apply {
    pub resources: usize,
    pub updates_sent: usize,
    pub updates_applied: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    /// Time from opening `#/board` to all tiles shown.
    pub initial_render_ms: f64,
    pub holds: bool,
}

#[derive(Serialize)]
pub struct BoardReport {
    pub date: String,
    pub url: String,
    pub chromium: String,
    pub first_load_small: FirstLoad,
    pub first_load_full: FirstLoad,
    pub apply: Apply,
}

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_driver() -> Result<Driver> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(std::env::var("RR_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting chromedriver (apt-get install chromium-driver)")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("chromedriver did not listen on {port}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    })
}

/// A fresh headless session (new empty profile, so a cold cache).
async fn session(driver: &Driver, profile: &std::path::Path) -> Result<Client> {
    let chromium = std::env::var("RR_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1600,1000", "--lang=en-US",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .context("a Chromium session")?;
    client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(120)),
            Some(Duration::from_secs(120)),
            Some(Duration::ZERO),
        ))
        .await?;
    Ok(client)
}

/// Signs the browser in with the web-session cookie, from a page of the server that is not the
/// dashboard (`/health`), so that the dashboard's assets are still uncached afterwards.
async fn sign_in(client: &Client, base: &str, username: &str) -> Result<()> {
    client.goto(&format!("{base}/health")).await?;
    let status = client
        .execute_async(
            "const [name, password, done] = arguments;
             fetch('/api/v1/web/session', {method: 'POST', headers: {'Content-Type': 'application/json'},
                   body: JSON.stringify({username: name, password})})
               .then((r) => done(r.status)).catch((e) => done(String(e)));",
            vec![json!(username), json!(PASSWORD)],
        )
        .await?;
    if status != json!(200) {
        bail!("web sign-in answered {status}");
    }
    Ok(())
}

async fn wait_for(client: &Client, what: &str, timeout: Duration, script: &str) -> Result<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let value = client.execute(script, vec![]).await?;
        if !value.is_null() && value != json!(false) {
            return Ok(value);
        }
        if Instant::now() > deadline {
            bail!("waited {timeout:?} for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Opens `#/board` on a cold cache and waits for `tiles` tiles and a quiet network.
async fn open_board(client: &Client, base: &str, tiles: usize) -> Result<Duration> {
    let opened = Instant::now();
    client.goto(&format!("{base}/#/board")).await?;
    wait_for(
        client,
        &format!("{tiles} board tiles"),
        Duration::from_secs(120),
        &format!("return document.documentElement.dataset.ready === 'true' && document.querySelectorAll('[data-test=\"board-tile\"]').length >= {tiles};"),
    )
    .await?;
    let rendered = opened.elapsed();
    // Lazily loaded modules and data: wait until no new resource entry for a second.
    let mut count = -1;
    loop {
        let now = client
            .execute("return performance.getEntriesByType('resource').length;", vec![])
            .await?
            .as_i64()
            .unwrap_or(0);
        if now == count {
            break;
        }
        count = now;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(rendered)
}

async fn first_load(client: &Client, resources: usize) -> Result<FirstLoad> {
    let entries = client
        .execute(
            "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
               .map((e) => ({name: e.name, transfer: e.transferSize || 0, encoded: e.encodedBodySize || 0, decoded: e.decodedBodySize || 0}));",
            vec![],
        )
        .await?;
    let entries = entries.as_array().cloned().unwrap_or_default();
    let sum = |key: &str| entries.iter().map(|e| e[key].as_f64().unwrap_or(0.0)).sum::<f64>();
    let transfer_bytes = sum("transfer");
    let mut listed: Vec<(String, f64)> = entries
        .iter()
        .map(|e| {
            let name = e["name"].as_str().unwrap_or("").to_owned();
            let path = name.splitn(4, '/').nth(3).map_or(name.clone(), |p| format!("/{p}"));
            (path, e["transfer"].as_f64().unwrap_or(0.0))
        })
        .collect();
    listed.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(FirstLoad {
        resources,
        transfer_bytes,
        encoded_body_bytes: sum("encoded"),
        decoded_body_bytes: sum("decoded"),
        requests: entries.len(),
        entries: listed,
        holds: transfer_bytes <= FIRST_LOAD_BUDGET_BYTES,
    })
}

/// The apply times the board recorded, in ms (numbers, or objects with `ms`/`duration`).
fn applied(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| {
            item.as_f64()
                .or_else(|| item["ms"].as_f64())
                .or_else(|| item["duration"].as_f64())
        })
        .collect()
}

async fn create_resources(api: &Api, admin: &Account, label: &str, count: usize) -> Result<Vec<i64>> {
    stream::iter(0..count)
        .map(|i| {
            let name = format!("{label} {i:04}");
            async move { api.create_resource(admin, &name).await }
        })
        .buffered(8)
        .try_collect()
        .await
}

pub async fn run(settings: Settings) -> Result<BoardReport> {
    let base = settings.url.trim_end_matches('/').to_owned();
    let api = Api::new(&base, 8)?;
    let admin = api.account(&settings.admin).await?;
    let stamp = Utc::now().format("%H%M%S").to_string();
    let driver = start_driver()?;
    let chromium = String::from_utf8_lossy(
        &Command::new(std::env::var("RR_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()))
            .arg("--version")
            .output()
            .map(|o| o.stdout)
            .unwrap_or_default(),
    )
    .trim()
    .to_owned();

    // (a) First load with a small board: the page's own weight.
    let mut ids = create_resources(&api, &admin, &format!("Room {stamp}"), settings.small_board).await?;
    let profile = tempfile_dir("small")?;
    let client = session(&driver, &profile).await?;
    sign_in(&client, &base, &settings.admin).await?;
    open_board(&client, &base, ids.len()).await?;
    let first_load_small = first_load(&client, ids.len()).await?;
    eprintln!(
        "[board] first load, {} resources: {:.1} kB transferred in {} requests",
        ids.len(),
        first_load_small.transfer_bytes / 1000.0,
        first_load_small.requests
    );
    client.close().await?;
    let _ = std::fs::remove_dir_all(&profile);

    // (b) A board of `resources` tiles.
    let more = settings.resources.saturating_sub(ids.len());
    eprintln!("[board] creating {more} more resources …");
    ids.extend(create_resources(&api, &admin, &format!("Desk {stamp}"), more).await?);
    let profile = tempfile_dir("full")?;
    let client = session(&driver, &profile).await?;
    sign_in(&client, &base, &settings.admin).await?;
    let rendered = open_board(&client, &base, ids.len()).await?;
    let first_load_full = first_load(&client, ids.len()).await?;
    eprintln!(
        "[board] first load, {} resources: {:.1} kB transferred; all tiles shown after {:.0} ms",
        ids.len(),
        first_load_full.transfer_bytes / 1000.0,
        rendered.as_secs_f64() * 1000.0
    );
    wait_for(
        &client,
        "the live connection",
        Duration::from_secs(30),
        "const el = document.querySelector('[data-test=\"live-indicator\"]'); return !el || el.dataset.status === 'live';",
    )
    .await?;
    let before = applied(
        &client
            .execute("return (window.__rrBoard && window.__rrBoard.applied) || [];", vec![])
            .await?,
    )
    .len();
    let user = api.account(&format!("boardbench{stamp}")).await?;
    let start = Utc::now() + chrono::Duration::hours(2);
    let mut sent = 0;
    for i in 0..settings.updates {
        let resource = ids[(i * 7919) % ids.len()];
        let slot = start + chrono::Duration::minutes(30 * (i / ids.len()) as i64);
        match api
            .book(&user, resource, slot, slot + chrono::Duration::minutes(30))
            .await
            .outcome
        {
            Booked::Accepted(_) => sent += 1,
            other => eprintln!("[board] booking {i} answered {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let script = format!(
        "const a = (window.__rrBoard && window.__rrBoard.applied) || []; return a.length >= {} ? a : null;",
        before + sent
    );
    let recorded = match wait_for(&client, "the board's apply times", Duration::from_secs(60), &script).await {
        Ok(value) => value,
        Err(error) => {
            eprintln!("[board] {error}; reading what was recorded");
            client
                .execute("return (window.__rrBoard && window.__rrBoard.applied) || [];", vec![])
                .await?
        }
    };
    let times: Vec<f64> = applied(&recorded).into_iter().skip(before).collect();
    if let Some(dir) = &settings.screenshots {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("board-1000.png"), client.screenshot().await?)?;
    }
    client.close().await?;
    let _ = std::fs::remove_dir_all(&profile);
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        if sorted.is_empty() {
            f64::NAN
        } else {
            // the rule of `stats::Samples::summarize`: the sample at the rounded rank
            sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
        }
    };
    let max_ms = sorted.last().copied().unwrap_or(f64::NAN);
    let apply = Apply {
        resources: ids.len(),
        updates_sent: sent,
        updates_applied: times.len(),
        p50_ms: pick(0.50),
        p90_ms: pick(0.90),
        p99_ms: pick(0.99),
        max_ms,
        mean_ms: times.iter().sum::<f64>() / times.len().max(1) as f64,
        initial_render_ms: rendered.as_secs_f64() * 1000.0,
        holds: !times.is_empty() && times.len() >= sent && max_ms < APPLY_BUDGET_MS,
    };
    Ok(BoardReport {
        date: Utc::now().to_rfc3339(),
        url: base,
        chromium,
        first_load_small,
        first_load_full,
        apply,
    })
}

fn tempfile_dir(label: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "rr-board-{label}-{}-{}",
        std::process::id(),
        Utc::now().timestamp_millis()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The report as a table for RESULTS.md.
pub fn table(report: &BoardReport) -> String {
    let kb = |bytes: f64| format!("{:.1} kB", bytes / 1000.0);
    let yes = |holds: bool| if holds { "yes" } else { "**no**" };
    let a = &report.apply;
    format!(
        "| budget (issue 13) | measured | holds? |\n|---|---|---|\n\
         | first load of `#/board`, cold cache, transferred (compressed): ≤ 200 kB | {} over {} requests, {} resources (bodies {} encoded, {} decoded) | {} |\n\
         | the same with {} resources (the resource list included) | {} over {} requests | {} |\n\
         | board of {} resources applies a live update: < 100 ms | p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} of {} updates | {} |\n",
        kb(report.first_load_small.transfer_bytes),
        report.first_load_small.requests,
        report.first_load_small.resources,
        kb(report.first_load_small.encoded_body_bytes),
        kb(report.first_load_small.decoded_body_bytes),
        yes(report.first_load_small.holds),
        report.first_load_full.resources,
        kb(report.first_load_full.transfer_bytes),
        report.first_load_full.requests,
        yes(report.first_load_full.holds),
        a.resources,
        a.p50_ms,
        a.p90_ms,
        a.p99_ms,
        a.max_ms,
        a.updates_applied,
        a.updates_sent,
        yes(a.holds),
    )
}
