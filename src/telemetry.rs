//! Logging: `tracing` to standard output, as text for people or JSON for log pipelines.
//! The level comes from `RUST_LOG` (default `info`).
//!
//! Following one request: the `request` span (see [`crate::http::middleware::trace_requests`])
//! carries `request_id`, `route` and `user_id`; the resource actor's `resource_actor` span is
//! its child, so in JSON every line of the request lists them (`spans`). Writes are committed in
//! groups (the `group_commit` span, in a task of its own): at `debug`, the group logs
//! `transaction committed` once for each request it held, with its `request_id`, and the tailer's
//! publication of each event (`publishing an event to the sockets`) names the request id too;
//! outbox rows keep it in `events.request_id`.

use tracing_subscriber::EnvFilter;

/// How log lines are written (`LOG_FORMAT`): text for people, JSON for log pipelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi);
    // A second initialisation (tests that start several servers) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        // Each line carries the spans it was logged in, so the request id (`request` span) is on
        // every line logged for a request, down to its actor and its commit.
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(true).try_init(),
    };
}

/// `error` and its causes on one line, `": "` between them (for messages on standard error).
pub fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}
