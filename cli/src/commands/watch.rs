//! `watch`: a live board of reservations and resource states over the `/ws` WebSocket.
//!
//! It subscribes in the URL (`resources=…`, `group=…`, or `availability=true` for everything),
//! so that a resumed connection's replay covers the same subscriptions. Every message carries
//! `seq`; the highest one seen is kept, and after a disconnect the socket is opened again with
//! `since=<seq>`: the server replays what was missed, in order, then live events follow —
//! nothing lost, nothing shown twice. Connection attempts back off (0.5 s doubling to 5 s);
//! `--retries` failed attempts in a row end the command with the "unreachable" exit code. A
//! close for an ended token (4401) refreshes the session first; a refused handshake (401/403,
//! an unknown group's 404) ends it with the matching exit code.
//!
//! Output: on a terminal, a board (one row per resource, its state and last event, and the
//! latest events under it) redrawn on every event; otherwise, and with `--lines`, one line per
//! event. `--output json` prints each message as one JSON line, `--output csv` one CSV row per
//! event. Connection news goes to stderr, so stdout holds events only.

use std::collections::{BTreeMap, VecDeque};
use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Result;
use futures::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::Ctx;
use crate::client::Refresh;
use crate::error::{CliError, detail_of};
use crate::output::{Column, csv_row, line, plain, text, time};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    resource-reserver-cli watch                    # every resource\n  \
    resource-reserver-cli watch -r 3,4             # two resources\n  \
    resource-reserver-cli watch --group 2          # a building, floor or room, as it changes\n  \
    resource-reserver-cli watch --output json -n 1 # wait for the next event, print it, exit")]
pub struct Args {
    /// Only these resources (repeat, or separate with commas)
    #[arg(long = "resource", short = 'r', value_delimiter = ',', conflicts_with = "group")]
    resources: Vec<i64>,
    /// Every resource in this group and its subgroups, following the hierarchy as it changes
    #[arg(long, short = 'g')]
    group: Option<i64>,
    /// Start after this event sequence number (the events after it are replayed first)
    #[arg(long)]
    since: Option<i64>,
    /// Stop after this many events
    #[arg(long, short = 'n', value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    /// Give up after this many failed connection attempts in a row
    #[arg(long, default_value_t = 10)]
    retries: u32,
    /// One line per event, even on a terminal (no board)
    #[arg(long)]
    lines: bool,
}

/// Messages that answer the client or report on the connection, not changes.
const CONTROL: &[&str] = &[
    "subscribed",
    "unsubscribed",
    "pong",
    "authenticated",
    "error",
    "resync_required",
];

/// What the connection ended with.
enum Ended {
    /// `--count` events were shown.
    Done,
    /// The connection dropped or was closed; open it again.
    Lost(String),
    /// The token ended (close code 4401): refresh, then open it again.
    TokenExpired(String),
}

pub async fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let mut view = View::new(ctx, &args);
    view.load_names(ctx, &args).await;
    let mut since = args.since;
    let mut failures = 0u32;
    let mut shown = 0u64;
    loop {
        let token = ctx.api.bearer().await?;
        let url = socket_url(ctx.api.base_url(), &token, &args, since)?;
        match tokio_tungstenite::connect_async(url.as_str()).await {
            Ok((mut socket, _)) => {
                failures = 0;
                match since {
                    Some(seq) => status(format!("Connected, resuming after event {seq}.")),
                    None => status("Connected; waiting for events."),
                }
                let ended = loop {
                    let Some(message) = socket.next().await else {
                        break Ended::Lost("the server closed the connection".into());
                    };
                    match message {
                        Ok(Message::Text(text)) => {
                            let Ok(event) = serde_json::from_str::<Value>(&text) else {
                                continue;
                            };
                            since = event["seq"].as_i64().max(since);
                            if view.show(&event) {
                                shown += 1;
                                if args.count.is_some_and(|count| shown >= count) {
                                    let _ = socket.close(None).await;
                                    break Ended::Done;
                                }
                            }
                        }
                        Ok(Message::Close(frame)) => {
                            let (code, reason) =
                                frame.map_or((None, String::new()), |f| (Some(f.code), f.reason.to_string()));
                            break match code {
                                Some(CloseCode::Library(4401)) => Ended::TokenExpired(reason),
                                _ => Ended::Lost(format!("closed by the server ({reason})")),
                            };
                        }
                        Ok(_) => {}
                        Err(error) => break Ended::Lost(error.to_string()),
                    }
                };
                match ended {
                    Ended::Done => return Ok(()),
                    Ended::Lost(why) => status(format!("Connection lost: {why}. Reconnecting…")),
                    Ended::TokenExpired(why) => {
                        status(format!("Session token ended ({why}); refreshing and reconnecting…"));
                        ctx.api.refresh(Refresh::Always).await?;
                    }
                }
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let code = response.status().as_u16();
                let body = response
                    .body()
                    .as_deref()
                    .and_then(|bytes| serde_json::from_slice(bytes).ok())
                    .unwrap_or(Value::Null);
                return Err(CliError::Api {
                    status: code,
                    detail: detail_of(code, &body),
                    body,
                }
                .into());
            }
            Err(error) => {
                failures += 1;
                if failures > args.retries {
                    status(format!("Cannot connect: {error}."));
                    return Err(CliError::Unreachable {
                        url: ctx.api.base_url().to_owned(),
                    }
                    .into());
                }
                status(format!("Cannot connect: {error}. Retrying…"));
            }
        }
        tokio::time::sleep(backoff(failures)).await;
    }
}

/// The wait before attempt `failures + 1`: 0.5 s, doubling, at most 5 s.
fn backoff(failures: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << failures.min(4)).min(5_000))
}

/// `ws(s)://host/ws?token=…` with the subscriptions and `since`.
fn socket_url(base: &str, token: &str, args: &Args, since: Option<i64>) -> Result<url::Url> {
    let mut url = url::Url::parse(&format!("{base}/ws")).map_err(|e| anyhow::anyhow!("invalid URL {base}: {e}"))?;
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    url.set_scheme(scheme)
        .map_err(|()| anyhow::anyhow!("cannot make a WebSocket URL of {base}"))?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("token", token);
        if let Some(group) = args.group {
            query.append_pair("group", &group.to_string());
        } else if !args.resources.is_empty() {
            let ids: Vec<String> = args.resources.iter().map(i64::to_string).collect();
            query.append_pair("resources", &ids.join(","));
        } else {
            query.append_pair("availability", "true");
        }
        if let Some(since) = since {
            query.append_pair("since", &since.to_string());
        }
    }
    Ok(url)
}

/// Connection news, on stderr.
fn status(message: impl std::fmt::Display) {
    eprintln!("[INFO] {message}");
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Board,
    Lines,
    Json,
    Csv,
}

const CSV_COLUMNS: &[Column] = &[
    text("seq", "seq"),
    text("type", "type"),
    text("timestamp", "timestamp"),
    text("resource_id", "resource_id"),
    text("reservation_id", "reservation_id"),
    text("start_time", "start_time"),
    text("end_time", "end_time"),
    text("status", "status"),
];

const BOARD_COLUMNS: &[Column] = &[
    text("ID", "id"),
    text("Resource", "name"),
    text("State", "state"),
    text("Last event", "last"),
    time("At", "at"),
];

/// What is shown: the board's rows, or a line per event.
struct View<'c> {
    ctx: &'c Ctx,
    mode: Mode,
    names: BTreeMap<i64, String>,
    rows: BTreeMap<i64, Value>,
    recent: VecDeque<String>,
    csv_header: bool,
}

impl<'c> View<'c> {
    fn new(ctx: &'c Ctx, args: &Args) -> View<'c> {
        let mode = if ctx.out.is_json() {
            Mode::Json
        } else if !ctx.out.is_human() {
            Mode::Csv
        } else if args.lines || !std::io::stdout().is_terminal() {
            Mode::Lines
        } else {
            Mode::Board
        };
        View {
            ctx,
            mode,
            names: BTreeMap::new(),
            rows: BTreeMap::new(),
            recent: VecDeque::new(),
            csv_header: false,
        }
    }

    /// The names of the watched resources, for the board and the lines (best effort: an
    /// event shows the id when the name is unknown).
    async fn load_names(&mut self, ctx: &Ctx, args: &Args) {
        if self.mode == Mode::Json || self.mode == Mode::Csv {
            return;
        }
        let listed: Result<Value> = match args.group {
            Some(group) => {
                ctx.api
                    .get(format!("/api/v1/resource-groups/{group}/resources"))
                    .query("include_children", true)
                    .send()
                    .await
            }
            None => {
                ctx.api
                    .get("/api/v1/resources")
                    .query("limit", 100)
                    .if_signed_in()
                    .send()
                    .await
            }
        };
        if let Ok(listed) = listed {
            for resource in super::items(&listed, "data") {
                if let (Some(id), Some(name)) = (resource["id"].as_i64(), resource["name"].as_str())
                    && (args.resources.is_empty() || args.resources.contains(&id))
                {
                    self.names.insert(id, name.to_owned());
                    self.rows.insert(id, board_row(id, name));
                }
            }
        }
    }

    /// Shows a message; true when it was an event (not a control message).
    fn show(&mut self, message: &Value) -> bool {
        let kind = message["type"].as_str().unwrap_or_default();
        if kind == "resync_required" {
            self.ctx.out.warn(format!(
                "Some events could not be replayed ({}); the board may be incomplete.",
                plain(&message["reason"])
            ));
        }
        if kind == "error" {
            self.ctx.out.warn(format!("Server: {}", plain(&message["detail"])));
        }
        let is_event = !CONTROL.contains(&kind);
        match self.mode {
            Mode::Json => line(message),
            Mode::Csv if is_event => {
                if !self.csv_header {
                    self.csv_header = true;
                    self.ctx.out.rows(&[], CSV_COLUMNS, "");
                }
                // One row per event: the header is not repeated.
                line(csv_row(message, CSV_COLUMNS));
            }
            Mode::Lines if is_event => line(self.describe(message)),
            Mode::Board if is_event => {
                self.update_board(message);
                self.redraw();
            }
            _ => {}
        }
        is_event
    }

    /// One line for an event: when, what, which resource and reservation, the slot.
    fn describe(&self, event: &Value) -> String {
        let zone = self.ctx.out.zone();
        let mut parts = vec![
            zone.display_text(event["timestamp"].as_str().unwrap_or_default()),
            format!("{:<24}", plain(&event["type"])),
        ];
        if let Some(id) = event["resource_id"].as_i64() {
            match self.names.get(&id).map(String::as_str).or(event["name"].as_str()) {
                Some(name) => parts.push(format!("resource {id} ({name})")),
                None => parts.push(format!("resource {id}")),
            }
        }
        if let Some(id) = event["reservation_id"].as_i64() {
            parts.push(format!("reservation {id}"));
        }
        if let (Some(start), Some(end)) = (event["start_time"].as_str(), event["end_time"].as_str()) {
            parts.push(format!("{} → {}", zone.display_text(start), zone.display_text(end)));
        }
        if let Some(status) = event["status"].as_str() {
            parts.push(format!("status {status}"));
        }
        parts.push(format!("[seq {}]", plain(&event["seq"])));
        parts.join("  ")
    }

    fn update_board(&mut self, event: &Value) {
        let kind = plain(&event["type"]);
        if let Some(id) = event["resource_id"].as_i64() {
            if let Some(name) = event["name"].as_str() {
                self.names.insert(id, name.to_owned());
            }
            let name = self.names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
            let row = self.rows.entry(id).or_insert_with(|| board_row(id, &name));
            row["name"] = Value::from(name);
            if kind == "resource_deleted" {
                self.rows.remove(&id);
            } else {
                if kind == "resource_status_changed" || kind == "resource_created" {
                    row["state"] = event["status"].clone();
                }
                row["last"] = Value::from(match event["reservation_id"].as_i64() {
                    Some(reservation) => format!("{kind} (reservation {reservation})"),
                    None => kind.clone(),
                });
                row["at"] = event["timestamp"].clone();
            }
        }
        self.recent.push_front(self.describe(event));
        self.recent.truncate(10);
    }

    fn redraw(&self) {
        // Clear the screen and go home, then the board and the latest events.
        print!("\x1b[2J\x1b[H");
        let rows: Vec<Value> = self.rows.values().cloned().collect();
        line(format!(
            "Resource Reserver — live ({}), Ctrl-C to stop",
            self.ctx.api.base_url()
        ));
        self.ctx.out.rows(&rows, BOARD_COLUMNS, "No resources yet.");
        line("Latest events:");
        for event in &self.recent {
            line(format!("  {event}"));
        }
    }
}

fn board_row(id: i64, name: &str) -> Value {
    serde_json::json!({ "id": id, "name": name, "state": null, "last": null, "at": null })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Harness {
        #[command(flatten)]
        args: Args,
    }

    fn url(argv: &[&str], since: Option<i64>) -> String {
        let harness = Harness::try_parse_from(std::iter::once("watch").chain(argv.iter().copied())).unwrap();
        socket_url("https://rr.example/base", "t0k", &harness.args, since)
            .unwrap()
            .to_string()
    }

    #[test]
    fn subscriptions_and_resume_point_are_in_the_url() {
        assert_eq!(url(&[], None), "wss://rr.example/base/ws?token=t0k&availability=true");
        assert_eq!(
            url(&["-r", "3,4"], Some(9)),
            "wss://rr.example/base/ws?token=t0k&resources=3%2C4&since=9"
        );
        assert_eq!(
            url(&["--group", "2"], None),
            "wss://rr.example/base/ws?token=t0k&group=2"
        );
        assert!(Harness::try_parse_from(["watch", "-r", "1", "-g", "2"]).is_err());
    }

    #[test]
    fn reconnections_back_off_up_to_five_seconds() {
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(1), Duration::from_millis(1_000));
        assert_eq!(backoff(3), Duration::from_millis(4_000));
        assert_eq!(backoff(30), Duration::from_millis(5_000));
    }
}
