//! The WebSocket protocol beyond the event messages: what clients may send, and the server's
//! control messages.
//!
//! Client → server (JSON text frames):
//! - `{"type":"subscribe","resources":[1,2]}` and/or `"availability":true` and/or
//!   `"groups":[3]` → `subscribed`. A group is followed with everything under it, subgroups
//!   included, as the hierarchy changes (see `super::hierarchy`); an unknown group is an
//!   `error` and changes nothing.
//! - `{"type":"unsubscribe","resources":[1]}` and/or `"availability":true` and/or `"groups":[3]`
//!   → `unsubscribed`
//! - `{"type":"ping"}` → `pong` (an application-level keep-alive for clients that cannot see
//!   WebSocket pings)
//! - `{"type":"authenticate","token":"…"}` → `{"type":"authenticated","expires_at":…}`: a fresh
//!   access token of the same user keeps the socket open past the expiry of the one it was
//!   opened with. A refused token (invalid, expired, revoked, another user's) gets an `error`
//!   and changes nothing.
//!
//! Anything else is answered with an `error` message; the connection stays open. Every control
//! message carries `seq`: the sequence number of the last event sent before it, so that a
//! client may always resume from the highest `seq` it has seen.
//!
//! Close codes of the application (besides 1001 shutdown, 1008 slow consumer or silent client):
//! [`CLOSE_SIGNED_OUT`] and [`CLOSE_TOO_MANY_SOCKETS`].

use chrono::{DateTime, Utc};
use reserver_actors::notifier::Interests;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    Subscribe {
        #[serde(default)]
        resources: Vec<i64>,
        #[serde(default)]
        availability: bool,
        #[serde(default)]
        groups: Vec<i64>,
    },
    Unsubscribe {
        #[serde(default)]
        resources: Vec<i64>,
        #[serde(default)]
        availability: bool,
        #[serde(default)]
        groups: Vec<i64>,
    },
    Ping,
    Authenticate {
        token: String,
    },
}

/// Close code: the sign-in the socket was opened with ended — revoked (logout, account disabled,
/// password reset) or its token expired without an `authenticate`. Sign in (or refresh the
/// token) and reconnect.
pub const CLOSE_SIGNED_OUT: u16 = 4401;
/// Close code: the account already holds `WS_MAX_SOCKETS_PER_USER` sockets on this server.
pub const CLOSE_TOO_MANY_SOCKETS: u16 = 4429;

impl ClientMessage {
    /// Parses a text frame; the error is the `detail` of the `error` message to send back.
    pub fn parse(text: &str) -> Result<ClientMessage, String> {
        serde_json::from_str(text).map_err(|error| {
            format!(
                "cannot understand the message ({error}); expected {{\"type\":\"subscribe\",\"resources\":[…]}}, \
                 {{\"type\":\"subscribe\",\"availability\":true}}, {{\"type\":\"subscribe\",\"groups\":[…]}}, \
                 \"unsubscribe\" likewise, {{\"type\":\"ping\"}} \
                 or {{\"type\":\"authenticate\",\"token\":\"…\"}}"
            )
        })
    }
}

/// A control message of the server.
pub fn control(kind: &str, seq: i64, mut fields: Value) -> String {
    if let Value::Object(map) = &mut fields {
        map.insert("type".into(), json!(kind));
        map.insert("seq".into(), json!(seq));
    }
    fields.to_string()
}

/// The answer to `subscribe`/`unsubscribe`: the subscriptions now in force.
pub fn subscriptions(kind: &str, seq: i64, interests: &Interests) -> String {
    control(
        kind,
        seq,
        json!({ "resources": interests.resources, "availability": interests.availability, "groups": interests.groups }),
    )
}

/// The answer to `authenticate`: the socket now lasts until the new token's expiry.
pub fn authenticated(seq: i64, expires_at: DateTime<Utc>) -> String {
    control(
        "authenticated",
        seq,
        json!({ "expires_at": crate::wire::time::utc(expires_at) }),
    )
}

pub fn error(seq: i64, detail: &str) -> String {
    control("error", seq, json!({ "detail": detail }))
}

/// The client must reload its state through the API: the events since its `since` cannot be
/// replayed. Live events follow from `seq` on.
pub fn resync_required(seq: i64, reason: &str) -> String {
    control("resync_required", seq, json!({ "reason": reason }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_and_malformed_frames_parse_without_panicking() {
        assert_eq!(
            ClientMessage::parse(r#"{"type":"subscribe","resources":[3,4]}"#),
            Ok(ClientMessage::Subscribe {
                resources: vec![3, 4],
                availability: false,
                groups: vec![]
            })
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"unsubscribe","availability":true}"#),
            Ok(ClientMessage::Unsubscribe {
                resources: vec![],
                availability: true,
                groups: vec![]
            })
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"subscribe","groups":[5]}"#),
            Ok(ClientMessage::Subscribe {
                resources: vec![],
                availability: false,
                groups: vec![5]
            })
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"authenticate","token":"a.b.c"}"#),
            Ok(ClientMessage::Authenticate { token: "a.b.c".into() })
        );
        for bad in [
            "",
            "ping",
            "{}",
            r#"{"type":"subscribe","resources":"x"}"#,
            r#"{"type":"subscribe","groups":"x"}"#,
            r#"{"type":"subscribe","group_id":3}"#,
            r#"{"type":"nope"}"#,
            r#"{"type":"authenticate"}"#,
            "[1]",
        ] {
            assert!(ClientMessage::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn control_messages_carry_type_and_seq() {
        let text = resync_required(7, "too old");
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value, json!({"type": "resync_required", "seq": 7, "reason": "too old"}));
    }
}
