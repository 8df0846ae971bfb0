//! Bulk reservations (`/api/v1/bulk`): many bookings in one request, all or nothing.
//!
//! A batch is booked by the resource actors through their coordinator
//! ([`reserver_actors::resource::batch`]): every item is checked by its resource's actor with
//! the rules of a single booking — in the future, the configured minimum and maximum duration,
//! the resource enabled, not under maintenance, inside its opening hours and on no blackout
//! date, free of blocking bookings and of the batch's other items — and admitted as a single
//! booking is (pending on a resource that requires approval). Then every item is stored in one
//! transaction with its history and events, so a batch makes the same notifications, e-mail,
//! webhook deliveries and `/ws` events as the same bookings made one by one.
//!
//! - [`Batch`]: the items of a request (JSON body or CSV rows), checked and booked.
//! - [`import`]: the CSV upload (`/bulk/reservations/import`).
//! - [`export`]: the CSV download, of what the caller may read.
//!
//! Invariants: a batch that is not a dry run books every item or none, and its answer says
//! which; an item's refusal carries its index (and, from CSV, its row). A batch counts as one
//! request against the caller's rate limit and daily quota (the `/api/v1/bulk/` endpoint limit
//! applies to it as a whole).

pub mod export;
pub mod import;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use reserver_actors::domain::Interval;
use reserver_actors::resource::{
    BatchError, BatchItem, BookingStatus, Checked, Planned, ResourceSupervisor, ScheduleError, UserRef,
};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::wire::time::utc;

/// The most items a JSON batch may have.
pub const MAX_ITEMS: usize = 100;

/// One requested item, as parsed: its slot, or why it has none.
#[derive(Debug, Clone)]
pub struct Requested {
    pub resource: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The CSV row it came from (1 for the first data line), for imports.
    pub row: Option<u64>,
}

impl Requested {
    /// The item as the answer echoes it.
    fn data(&self) -> Value {
        json!({
            "resource_id": self.resource,
            "start_time": utc(self.start),
            "end_time": utc(self.end),
        })
    }

    fn slot(&self) -> Result<BatchItem, String> {
        Interval::new(self.start, self.end)
            .map(|interval| BatchItem {
                resource: self.resource,
                interval,
            })
            .map_err(|_| "end_time must be after start_time".to_owned())
    }
}

/// A refused item: its index, and why.
struct Refused {
    index: usize,
    error: String,
}

/// The words of an item's refusal. The wording of the original API is kept where the rule is the
/// same one; the limits are the single booking's (one rule for every path).
fn reason(item: &Requested, error: &ScheduleError) -> String {
    match error {
        ScheduleError::StartInPast => "start_time must be in the future".into(),
        ScheduleError::ResourceNotFound => format!("Resource {} not found", item.resource),
        ScheduleError::ResourceDisabled => format!("Resource {} is not available", item.resource),
        ScheduleError::TooLong { max } => format!(
            "Reservation cannot exceed {}",
            reserver_actors::resource::error::human_duration(*max)
        ),
        other => other.to_string(),
    }
}

/// A batch of requested items and what became of it.
pub struct Batch {
    items: Vec<Requested>,
    /// Items refused before any resource saw them (an end before the start).
    malformed: Vec<Refused>,
    /// The well-formed items, with their index among `items`.
    slots: Vec<(usize, BatchItem)>,
    /// CSV rows that could not be read as an item: their row, and why.
    unreadable: Vec<(u64, String)>,
}

/// The outcome of a batch: what was (or would be) booked, and what was refused.
pub struct Outcome {
    pub dry_run: bool,
    /// Whether the batch was refused as a whole (some item was refused; nothing was booked).
    pub rolled_back: bool,
    created: Vec<(usize, Planned)>,
    refused: Vec<Refused>,
    items: Vec<Requested>,
    unreadable: Vec<(u64, String)>,
}

impl Batch {
    /// The batch of `items`; `unreadable` are the CSV rows that could not be read as items (the
    /// batch then books nothing, but its items are still checked and reported).
    pub fn new(items: Vec<Requested>, unreadable: Vec<(u64, String)>) -> Batch {
        let (mut malformed, mut slots) = (Vec::new(), Vec::new());
        for (index, item) in items.iter().enumerate() {
            match item.slot() {
                Ok(slot) => slots.push((index, slot)),
                Err(error) => malformed.push(Refused { index, error }),
            }
        }
        Batch {
            items,
            malformed,
            slots,
            unreadable,
        }
    }

    fn batch_items(&self) -> Vec<BatchItem> {
        self.slots.iter().map(|(_, slot)| *slot).collect()
    }

    /// Maps a batch index (among the well-formed items) back to the request's.
    fn request_index(&self, batch_index: usize) -> usize {
        self.slots.get(batch_index).map_or(batch_index, |(index, _)| *index)
    }

    fn refusals(&self, refused: Vec<(usize, ScheduleError)>) -> Vec<Refused> {
        refused
            .into_iter()
            .map(|(batch_index, error)| {
                let index = self.request_index(batch_index);
                let item = &self.items[index];
                Refused {
                    index,
                    error: reason(item, &error),
                }
            })
            .collect()
    }

    fn planned(&self, planned: Vec<Planned>) -> Vec<(usize, Planned)> {
        planned.into_iter().map(|p| (self.request_index(p.index), p)).collect()
    }

    /// Checks every item without booking any: what would be booked, and what is refused.
    pub async fn check(self, resources: &ResourceSupervisor, user: &UserRef) -> Result<Outcome, ApiError> {
        let checked = resources.check_batch(user, &self.batch_items()).await;
        self.outcome(true, checked)
    }

    /// Books every item, or none.
    pub async fn book(self, resources: &Arc<ResourceSupervisor>, user: UserRef) -> Result<Outcome, ApiError> {
        if !self.malformed.is_empty() || !self.unreadable.is_empty() {
            // Nothing will be booked; the resources still say what else they would refuse.
            let refused = resources.check_batch(&user, &self.batch_items()).await;
            let refused = refused.map(|checked| Checked {
                planned: Vec::new(),
                refused: checked.refused,
            });
            return self.outcome(false, refused);
        }
        let booked = match resources.book_batch(user, self.batch_items()).await {
            Ok(planned) => Ok(Checked {
                planned,
                refused: Vec::new(),
            }),
            Err(BatchError::Refused(refused)) => Ok(Checked {
                planned: Vec::new(),
                refused,
            }),
            Err(failed) => Err(failed),
        };
        self.outcome(false, booked)
    }

    /// `result`: what was (or would be) booked and what was refused.
    fn outcome(self, dry_run: bool, result: Result<Checked, BatchError>) -> Result<Outcome, ApiError> {
        let (created, mut refused) = match result {
            Ok(Checked { planned, refused }) => (self.planned(planned), self.refusals(refused)),
            Err(BatchError::Refused(refused)) => (Vec::new(), self.refusals(refused)),
            Err(BatchError::Failed(error)) => return Err(error.into()),
        };
        refused.extend(self.malformed);
        refused.sort_by_key(|r| r.index);
        Ok(Outcome {
            dry_run,
            rolled_back: !dry_run && (!refused.is_empty() || !self.unreadable.is_empty()),
            created,
            refused,
            items: self.items,
            unreadable: self.unreadable,
        })
    }
}

fn status_word(status: BookingStatus) -> &'static str {
    match status {
        BookingStatus::PendingApproval => "pending_approval",
        _ => "active",
    }
}

impl Outcome {
    /// Whether every item is (or would be) booked.
    pub fn valid(&self) -> bool {
        self.refused.is_empty() && self.unreadable.is_empty()
    }

    fn created_json(&self) -> Vec<Value> {
        self.created
            .iter()
            .map(|(index, planned)| {
                let mut entry = json!({
                    "index": index,
                    "resource_name": planned.resource.name,
                    "start_time": utc(planned.interval.start()),
                    "end_time": utc(planned.interval.end()),
                    "status": status_word(planned.status),
                });
                match planned.reservation {
                    Some(id) => entry["reservation_id"] = json!(id),
                    None => entry["would_create"] = json!(true),
                }
                entry
            })
            .collect()
    }

    /// The refused items (`{index, data, error}`, with `row` from CSV), then the unreadable rows
    /// (`{row, error}`).
    fn errors_json(&self) -> Vec<Value> {
        let unreadable = self
            .unreadable
            .iter()
            .map(|(row, error)| json!({ "row": row, "error": error }));
        self.refused
            .iter()
            .map(|refused| {
                let item = &self.items[refused.index];
                let mut entry = json!({
                    "index": refused.index,
                    "data": item.data(),
                    "error": refused.error,
                });
                if let Some(row) = item.row {
                    entry["row"] = json!(row);
                }
                entry
            })
            .chain(unreadable)
            .collect()
    }

    /// The answer of `POST /bulk/reservations` (and of the import, with rows): `{total,
    /// success, failed, dry_run, created, errors, message?}`.
    pub fn answer(&self) -> Value {
        let mut answer = json!({
            "total": self.items.len() + self.unreadable.len(),
            "success": self.created.len(),
            "failed": self.refused.len() + self.unreadable.len(),
            "dry_run": self.dry_run,
            "created": self.created_json(),
            "errors": self.errors_json(),
        });
        if self.rolled_back {
            answer["message"] = json!("All operations rolled back due to errors");
        }
        answer
    }

    /// The answer of `POST /bulk/reservations/validate`: `{valid, total, would_create, errors}`.
    pub fn validation(&self) -> Value {
        json!({
            "valid": self.valid(),
            "total": self.items.len() + self.unreadable.len(),
            "would_create": self.created.len(),
            "errors": self.errors_json(),
        })
    }
}
