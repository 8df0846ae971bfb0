//! Webhook delivery: the dispatcher actor, what it needs from storage and from an HTTP client,
//! and the retry policy.
//!
//! Deliveries are rows written by the server in the transaction of the change they announce
//! (an outbox). The [`WebhookDispatcher`] sends them after commit: it *claims* due deliveries
//! from the [`DeliveryStore`] — atomically, so that of several server processes on one database
//! exactly one sends each attempt — hands them to the [`WebhookSender`], and records each
//! attempt's [`Settlement`]. A failed attempt is retried after [`RETRY_DELAYS`]; the last one
//! failing marks the delivery `failed`.
//!
//! This module knows nothing of SQL or HTTP: the server implements both traits, and tests use
//! in-memory ones.

mod dispatcher;

use std::fmt;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

pub use dispatcher::{DispatchConfig, Dispatched, SendClaimed, WakeDispatcher, WebhookDispatcher};

pub use crate::retry::{MAX_ATTEMPTS, RETRY_DELAYS};

pub type DeliveryId = i64;

/// A webhook's signing key. Its `Debug` output never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A delivery taken by one claim: everything needed to send it once.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: DeliveryId,
    /// The claim that took it; only this claim may record the outcome.
    pub claim: String,
    pub url: String,
    pub secret: Secret,
    /// The webhook event name (`reservation.created`, …).
    pub event: String,
    /// The exact request body.
    pub body: String,
    /// Attempts that failed before this one.
    pub failures: u32,
}

/// What one attempt to send gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered 2xx.
    Delivered { status: u16, body: String },
    /// Refused before sending, no answer, or a non-2xx answer (`status` and `body` then tell).
    Failed {
        status: Option<u16>,
        body: Option<String>,
        error: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
}

/// What the store records after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub status: DeliveryStatus,
    /// Failed attempts so far (`retry_count` on the wire).
    pub retry_count: u32,
    pub status_code: Option<u16>,
    pub response_body: Option<String>,
    pub error_message: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the next attempt is due (also when the dispatcher may take it again).
    pub next_retry_at: Option<DateTime<Utc>>,
}

impl Settlement {
    /// The bookkeeping of `attempt` on a delivery that had failed `failures` times, at `now`.
    pub fn of(attempt: Attempt, failures: u32, now: DateTime<Utc>) -> Settlement {
        match attempt {
            Attempt::Delivered { status, body } => Settlement {
                status: DeliveryStatus::Delivered,
                retry_count: failures,
                status_code: Some(status),
                response_body: Some(body),
                error_message: None,
                delivered_at: Some(now),
                next_retry_at: None,
            },
            Attempt::Failed { status, body, error } => {
                let retry_count = failures + 1;
                let next_retry_at = crate::retry::next_attempt(retry_count, now);
                Settlement {
                    status: if next_retry_at.is_none() {
                        DeliveryStatus::Failed
                    } else {
                        DeliveryStatus::Pending
                    },
                    retry_count,
                    status_code: status,
                    response_body: body,
                    error_message: Some(error),
                    delivered_at: None,
                    next_retry_at,
                }
            }
        }
    }

    /// The error of a failed attempt, for people ("HTTP 500", "connection refused", …).
    pub fn error(&self) -> &str {
        self.error_message.as_deref().unwrap_or_default()
    }
}

/// A storage failure, in words for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreFailure(pub String);

pub type StoreResult<T> = BoxFuture<'static, Result<T, StoreFailure>>;

/// What the dispatcher needs from storage. The server implements it over SQL.
pub trait DeliveryStore: Send + Sync + 'static {
    /// Claims up to `limit` pending deliveries of active webhooks that are due at `now`, until
    /// `until`: no other claim can take them before then. Atomic across processes.
    fn claim_due(&self, now: DateTime<Utc>, limit: usize, until: DateTime<Utc>) -> StoreResult<Vec<Claimed>>;
    /// When the earliest pending delivery of an active webhook is due (claims included: a
    /// delivery whose claim runs out is due again then). It must leave out due deliveries that
    /// [`DeliveryStore::claim_due`] would not take now (a per-owner cap holding them back):
    /// the dispatcher looks again at once for anything reported due, and a finished send or a
    /// claim's end, which frees such a delivery, makes it look anyway.
    fn next_due(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// Records the outcome of an attempt; ignored when `delivery`'s claim was lost meanwhile.
    fn settle(&self, delivery: &Claimed, settlement: &Settlement) -> StoreResult<()>;
}

/// Sends one delivery. The server implements it with an HTTP client.
pub trait WebhookSender: Send + Sync + 'static {
    fn send(&self, delivery: &Claimed) -> BoxFuture<'static, Attempt>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> Attempt {
        Attempt::Failed {
            status: Some(500),
            body: Some("oops".into()),
            error: "HTTP 500".into(),
        }
    }

    #[test]
    fn failures_are_retried_on_the_originals_schedule_then_given_up() {
        let now = Utc::now();
        let mut delays = Vec::new();
        let mut failures = 0;
        loop {
            let settled = Settlement::of(failed(), failures, now);
            failures = settled.retry_count;
            match settled.next_retry_at {
                Some(at) => {
                    assert_eq!(settled.status, DeliveryStatus::Pending);
                    delays.push((at - now).num_seconds());
                }
                None => {
                    assert_eq!(settled.status, DeliveryStatus::Failed);
                    break;
                }
            }
        }
        assert_eq!(delays, [60, 300, 900, 3600]);
        assert_eq!(failures, MAX_ATTEMPTS);
        // A manual retry of a failed delivery that fails again stays failed.
        assert_eq!(Settlement::of(failed(), failures, now).status, DeliveryStatus::Failed);
    }

    #[test]
    fn a_delivery_keeps_its_failure_count_and_records_the_answer() {
        let now = Utc::now();
        let settled = Settlement::of(
            Attempt::Delivered {
                status: 204,
                body: String::new(),
            },
            2,
            now,
        );
        assert_eq!(
            (settled.status, settled.retry_count, settled.status_code),
            (DeliveryStatus::Delivered, 2, Some(204))
        );
        assert_eq!((settled.delivered_at, settled.next_retry_at), (Some(now), None));
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        assert_eq!(format!("{:?}", Secret("hunter2".into())), "Secret(<redacted>)");
    }
}
