//! What can go wrong, and the exit code each kind of failure gives.
//!
//! The exit codes are part of the CLI's interface (scripts branch on them), documented in
//! `--help` ([`EXIT_CODES_HELP`]) and in the docs book; they must not change meaning.

use std::fmt;

use serde_json::Value;

/// Any other failure: the API refused the request (a 422, a 400, a 5xx), a file could not be
/// read, a batch had refused items.
pub const FAILURE: u8 = 1;
/// The command line is wrong (clap's own usage errors exit 2 too).
pub const USAGE: u8 = 2;
/// Not logged in, the session has ended, or the server answered 401 or 403.
pub const AUTH: u8 = 3;
/// The server answered 404: no such resource, reservation, webhook…
pub const NOT_FOUND: u8 = 4;
/// The server answered 409: the slot is taken, the name exists, the state forbids it.
pub const CONFLICT: u8 = 5;
/// No connection to the server (or it vanished mid-way, for `watch`: after its retries).
pub const UNREACHABLE: u8 = 6;

/// The table of exit codes, for `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  other error (the API refused the request, a file could not be read, …)
  2  usage error (wrong options or arguments)
  3  authentication: not logged in, session ended, or the server answered 401/403
  4  not found (404)
  5  conflict (409: slot taken, name exists, …)
  6  server unreachable";

/// Errors the CLI reports itself (anything else is an `anyhow` error and exits 1).
#[derive(Debug)]
pub enum CliError {
    /// The command line is wrong (exit 2, like clap's own usage errors).
    Usage(String),
    /// The API answered with an error status.
    Api { status: u16, detail: String, body: Value },
    /// No connection to the API.
    Unreachable { url: String },
    /// A command needs a signed-in user and there is none.
    NotLoggedIn,
    /// The saved session cannot be refreshed any more.
    SessionExpired(String),
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> anyhow::Error {
        CliError::Usage(message.into()).into()
    }

    /// The process exit code for this error (see [`EXIT_CODES_HELP`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => USAGE,
            CliError::NotLoggedIn | CliError::SessionExpired(_) => AUTH,
            CliError::Unreachable { .. } => UNREACHABLE,
            CliError::Api { status, .. } => match status {
                401 | 403 => AUTH,
                404 => NOT_FOUND,
                409 => CONFLICT,
                _ => FAILURE,
            },
        }
    }

    /// The error as the API sent it, for commands that react to a particular answer.
    pub fn api(error: &anyhow::Error) -> Option<(u16, &str, &Value)> {
        match error.downcast_ref::<CliError>() {
            Some(CliError::Api { status, detail, body }) => Some((*status, detail.as_str(), body)),
            _ => None,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(message) => f.write_str(message),
            CliError::Api { detail, .. } => f.write_str(detail),
            CliError::Unreachable { url } => write!(f, "Unable to reach API at {url}. Is the server running?"),
            CliError::NotLoggedIn => f.write_str("Not logged in. Run `resource-reserver-cli auth login` first."),
            CliError::SessionExpired(why) => write!(
                f,
                "Your session has ended ({why}). Run `resource-reserver-cli auth login` again."
            ),
        }
    }
}

impl std::error::Error for CliError {}

/// The exit code for any error (see [`EXIT_CODES_HELP`]); errors that are not [`CliError`]s
/// exit [`FAILURE`]. A `CliError` wrapped in context still gives its own code.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<CliError>())
        .map_or(FAILURE, CliError::exit_code)
}

/// The message of an API error body: `detail` as a string, or a validation list joined as
/// `field: msg; …` (the location without its `body`/`query`/`path` part).
pub fn detail_of(status: u16, body: &Value) -> String {
    match body.get("detail") {
        Some(Value::String(detail)) => detail.clone(),
        Some(Value::Array(items)) => items.iter().map(validation_item).collect::<Vec<_>>().join("; "),
        Some(other) => other.to_string(),
        None => match body {
            Value::String(text) if !text.trim().is_empty() => format!("HTTP {status}: {}", first_line(text)),
            Value::Null | Value::String(_) => format!("HTTP {status}"),
            other => format!("HTTP {status}: {other}"),
        },
    }
}

/// One entry of a 422 list: `field: msg`.
pub fn validation_item(item: &Value) -> String {
    let msg = item
        .get("msg")
        .and_then(Value::as_str)
        .map_or_else(|| item.to_string(), str::to_owned);
    let field = item
        .get("loc")
        .and_then(Value::as_array)
        .map(|loc| {
            loc.iter()
                .enumerate()
                .filter(|(i, part)| !(*i == 0 && matches!(part.as_str(), Some("body" | "query" | "path" | "header"))))
                .map(|(_, part)| part.as_str().map_or_else(|| part.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(".")
        })
        .unwrap_or_default();
    if field.is_empty() {
        msg
    } else {
        format!("{field}: {msg}")
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    line.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn string_details_are_shown_as_they_are() {
        assert_eq!(
            detail_of(404, &json!({"detail": "Resource not found"})),
            "Resource not found"
        );
    }

    #[test]
    fn validation_lists_are_joined_by_field() {
        let body = json!({"detail": [
            {"type": "value_error", "loc": ["body", "end_time"], "msg": "End time must be after start time", "input": null},
            {"type": "missing", "loc": ["query", "limit"], "msg": "Field required"},
            {"type": "x", "loc": ["body"], "msg": "Bad body"},
            {"type": "x", "loc": ["body", "recurrence", "days_of_week", 0], "msg": "out of range"},
        ]});
        assert_eq!(
            detail_of(422, &body),
            "end_time: End time must be after start time; limit: Field required; Bad body; \
             recurrence.days_of_week.0: out of range"
        );
    }

    #[test]
    fn bodies_without_detail() {
        assert_eq!(detail_of(502, &Value::Null), "HTTP 502");
        assert_eq!(detail_of(502, &json!("Bad gateway\nmore")), "HTTP 502: Bad gateway");
        assert_eq!(detail_of(500, &json!({"error": "x"})), r#"HTTP 500: {"error":"x"}"#);
    }

    fn api(status: u16) -> anyhow::Error {
        CliError::Api {
            status,
            detail: "x".into(),
            body: Value::Null,
        }
        .into()
    }

    #[test]
    fn each_kind_of_failure_has_its_exit_code() {
        assert_eq!(exit_code(&CliError::usage("bad")), 2);
        assert_eq!(exit_code(&CliError::NotLoggedIn.into()), 3);
        assert_eq!(exit_code(&CliError::SessionExpired("x".into()).into()), 3);
        assert_eq!(exit_code(&api(401)), 3);
        assert_eq!(exit_code(&api(403)), 3);
        assert_eq!(exit_code(&api(404)), 4);
        assert_eq!(exit_code(&api(409)), 5);
        assert_eq!(exit_code(&api(422)), 1);
        assert_eq!(exit_code(&api(500)), 1);
        assert_eq!(exit_code(&CliError::Unreachable { url: "u".into() }.into()), 6);
        assert_eq!(exit_code(&api(404).context("while doing x")), 4);
        assert_eq!(exit_code(&anyhow::anyhow!("other")), 1);
    }
}
