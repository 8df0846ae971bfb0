//! The outbox table `events`: appended inside the transaction of the change an event describes,
//! read back after commit (by the tailer, and by sessions that resume), pruned after the
//! retention period (by [`crate::retention`]).
//!
//! Invariant: [`append`] is called after the transaction's first write (every store method
//! writes its change first). On PostgreSQL this guarantees the transaction holds its xid before
//! it takes the sequence value, which the tailer's gap rule relies on (see [`super::tailer`]).
//!
//! The PostgreSQL table declares `tx XID8 DEFAULT pg_current_xact_id()` before `id`, so the xid is
//! taken before the sequence value; no query outside the tailer names that column (SQLite has
//! none).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use reserver_actors::notifier::{self, Audience, GroupId};
use reserver_actors::request::RequestId;
use reserver_actors::resource::{Booking, BookingCopy, UserId};
use serde_json::Value as Json;

use super::event::{self, Event, NewEvent};
use crate::params;
use crate::storage::{BackendKind, Binder, Db, Row, StorageError, Transaction};
use crate::wire::time::utc;

/// Appends `event` to the outbox inside the caller's transaction; `origin` names the server
/// process whose actors made the change, if any. The row records the id of the request the
/// change is made for ([`RequestId::current`]), if any.
pub async fn append(
    tx: &mut dyn Transaction,
    event: NewEvent,
    now: DateTime<Utc>,
    origin: Option<&str>,
) -> Result<(), StorageError> {
    let audience = event.audience;
    let booking = event.booking.as_ref().and_then(booking_copy);
    let (kind, payload) = event.event.encode();
    tx.execute(
        "INSERT INTO events (kind, user_id, resource_id, broadcast, availability, payload, created_at, origin, request_id, booking)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        params![
            kind,
            audience.user,
            audience.resource,
            audience.everyone,
            audience.availability,
            payload,
            now,
            origin,
            RequestId::current().as_ref().map(RequestId::as_str),
            booking
        ],
    )
    .await
    .map(drop)
}

/// The stored form of the booking a change made ([`BookingCopy`]); a struct of numbers,
/// strings and instants, whose serialisation does not fail.
fn booking_copy(booking: &Booking) -> Option<String> {
    serde_json::to_string(&BookingCopy::from(booking)).ok()
}

/// Most outbox rows written by one statement (10 parameters a row: within every backend's limit).
const APPEND_CHUNK: usize = 100;

/// Appends `events` to the outbox inside the caller's transaction, in order, a hundred rows a
/// statement (the events of a group commit: see `scheduling::group_commit`). Each comes with the
/// instant of its change and the request it was made for; `origin` is as for [`append`].
pub async fn append_all(
    tx: &mut dyn Transaction,
    events: Vec<(NewEvent, DateTime<Utc>, Option<RequestId>)>,
    origin: Option<&str>,
) -> Result<(), StorageError> {
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        let mut binder = Binder::new();
        let mut rows = Vec::new();
        for (event, at, request_id) in events.by_ref().take(APPEND_CHUNK) {
            let audience = event.audience;
            let booking = event.booking.as_ref().and_then(booking_copy);
            let (kind, payload) = event.event.encode();
            let cells = [
                binder.bind(kind),
                binder.bind(audience.user),
                binder.bind(audience.resource),
                binder.bind(audience.everyone),
                binder.bind(audience.availability),
                binder.bind(payload),
                binder.bind(at),
                binder.bind(origin),
                binder.bind(request_id.as_ref().map(RequestId::as_str)),
                binder.bind(booking),
            ];
            rows.push(format!("({})", cells.join(", ")));
        }
        let sql = format!(
            "INSERT INTO events (kind, user_id, resource_id, broadcast, availability, payload, created_at, origin, request_id, booking)
             VALUES {}",
            rows.join(", ")
        );
        tx.execute(&sql, binder.into_values()).await?;
    }
    Ok(())
}

/// An event as stored. Its frames are made from the stored `kind` and `payload` as they are, so
/// the bytes on the wire are the bytes in the row; `event` is the same row decoded, for what
/// the server does with it (`None`, with a warning, for a kind this release does not know).
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: i64,
    pub kind: String,
    pub audience: Audience,
    pub payload: Json,
    pub created_at: DateTime<Utc>,
    pub origin: Option<String>,
    /// The request whose change this event records, if any (for the logs; never sent).
    pub request_id: Option<String>,
    pub event: Option<Event>,
    /// The booking the change made, as stored beside the event (never sent): read only where
    /// it is used ([`StoredEvent::booking`]), by other processes than the one that made it.
    pub booking_copy: Option<String>,
}

const COLUMNS: &str = "e.id, e.kind, e.user_id, e.resource_id, e.broadcast, e.availability, e.payload, e.created_at, e.origin, e.request_id, e.booking";

impl StoredEvent {
    fn decode(row: &Row) -> Result<StoredEvent, StorageError> {
        let id = row.get("id")?;
        let kind: String = row.get("kind")?;
        let payload: Json = row.get("payload")?;
        let event = Event::decode(&kind, &payload)
            .inspect_err(|error| tracing::warn!(id, %error, "an outbox row is no event this server knows"))
            .ok();
        Ok(StoredEvent {
            id,
            kind,
            audience: Audience {
                user: row.get("user_id")?,
                resource: row.get("resource_id")?,
                everyone: row.get("broadcast")?,
                availability: row.get("availability")?,
            },
            payload,
            created_at: row.get("created_at")?,
            origin: row.get("origin")?,
            request_id: row.get("request_id")?,
            event,
            booking_copy: row.get("booking")?,
        })
    }

    /// The booking the change made, as it stands after it, if the row carries it; a copy this
    /// server cannot read is left out (with a warning), and the booking is then read again.
    pub fn booking(&self) -> Option<Booking> {
        let copy = self.booking_copy.as_deref()?;
        serde_json::from_str::<BookingCopy>(copy)
            .map_err(|e| e.to_string())
            .and_then(|copy| Booking::try_from(copy).map_err(|e| e.to_string()))
            .inspect_err(|error| tracing::warn!(id = self.id, %error, "an outbox row's booking copy is unreadable"))
            .ok()
    }

    /// The wire message for a recipient: the payload's fields (with the owner-only ones only
    /// for `owner`, the user the event concerns) plus `type`, `seq` and `timestamp`.
    pub fn frame(&self, owner: bool) -> String {
        let view = if owner {
            event::owner_view(&self.payload)
        } else {
            event::public_view(&self.payload)
        };
        let mut message = match view {
            Json::Object(fields) => fields,
            _ => serde_json::Map::new(),
        };
        message.insert("type".into(), Json::from(self.kind.as_str()));
        message.insert("seq".into(), Json::from(self.id));
        message.insert("timestamp".into(), Json::from(utc(self.created_at)));
        Json::Object(message).to_string()
    }

    /// The wire message for the session of `user`.
    pub fn frame_for(&self, user: UserId) -> String {
        self.frame(self.audience.user == Some(user))
    }

    /// Ready for the notifier, with the groups its resource is under: the frames are encoded
    /// once and shared by every recipient.
    pub fn into_event(self, groups: Arc<[GroupId]>) -> notifier::Event {
        notifier::Event {
            seq: self.id,
            audience: self.audience,
            groups,
            frame: self.frame(false).into(),
            owner_frame: event::has_owner_only(&self.payload).then(|| self.frame(true).into()),
        }
    }
}

/// PostgreSQL's view of in-flight transactions when a [`tail`] was read.
///
/// Only `xmin` is of use: the snapshot's `xmax` is one past the latest *completed* transaction
/// id, not the next one to be assigned, so a transaction running with an id at or above it is
/// neither in the snapshot's in-progress list nor below its `xmax`. [`horizon`] gives a true
/// upper bound instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Every transaction id below this had ended (`pg_snapshot_xmin`), among those below the
    /// snapshot's `xmax`.
    pub xmin: i64,
}

/// One read of the outbox after a position.
#[derive(Debug, Default)]
pub struct Tail {
    pub events: Vec<StoredEvent>,
    /// `None` on SQLite, where writes are serialised and ids become visible in order.
    pub snapshot: Option<Snapshot>,
}

/// The visible events after `after`, in id order, at most `limit`; on PostgreSQL with the
/// snapshot the rows were read in (one statement, so both describe the same instant).
pub async fn tail(db: &Db, after: i64, limit: i64) -> Result<Tail, StorageError> {
    match db.kind() {
        BackendKind::Sqlite => Ok(Tail {
            events: range(db, after, i64::MAX, limit).await?,
            snapshot: None,
        }),
        BackendKind::Postgres => {
            let sql = format!(
                "SELECT s.xmin, {COLUMNS}
                 FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) s
                 LEFT JOIN LATERAL (SELECT * FROM events WHERE id > $1 ORDER BY id LIMIT $2) e ON TRUE
                 ORDER BY e.id"
            );
            let rows = db.query(&sql, params![after, limit]).await?;
            let first = rows
                .first()
                .ok_or_else(|| StorageError::Decode("the snapshot row is missing".into()))?;
            let snapshot = Snapshot {
                xmin: first.get("xmin")?,
            };
            let mut events = Vec::with_capacity(rows.len());
            for row in &rows {
                if row.get::<Option<i64>>("id")?.is_some() {
                    events.push(StoredEvent::decode(row)?);
                }
            }
            Ok(Tail {
                events,
                snapshot: Some(snapshot),
            })
        }
    }
}

/// The events with `after < id <= upto`, in id order, at most `limit` (replays).
pub async fn range(db: &Db, after: i64, upto: i64, limit: i64) -> Result<Vec<StoredEvent>, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM events e WHERE e.id > $1 AND e.id <= $2 ORDER BY e.id LIMIT $3");
    db.query(&sql, params![after, upto, limit])
        .await?
        .iter()
        .map(StoredEvent::decode)
        .collect()
}

/// The highest id in the outbox (0 when empty).
pub async fn latest(db: &Db) -> Result<i64, StorageError> {
    let row = db.query_one("SELECT MAX(id) AS id FROM events", vec![]).await?;
    Ok(row.get::<Option<i64>>("id")?.unwrap_or(0))
}

/// On PostgreSQL, a transaction id above every id assigned before the call: a new one, taken by
/// the statement's own transaction (which ends at once, writing nothing that waits for the
/// disk). Once [`oldest_running`] reaches it, every transaction that held an id before the call
/// has ended. `None` on SQLite, whose writes are serialised.
pub async fn horizon(db: &Db) -> Result<Option<i64>, StorageError> {
    if db.kind() == BackendKind::Sqlite {
        return Ok(None);
    }
    let row = db
        .query_one("SELECT pg_current_xact_id()::text::bigint AS xid", vec![])
        .await?;
    Ok(Some(row.get("xid")?))
}

/// Every transaction id below this has ended (PostgreSQL's `pg_snapshot_xmin`, now).
pub async fn oldest_running(db: &Db) -> Result<i64, StorageError> {
    let row = db
        .query_one(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin",
            vec![],
        )
        .await?;
    row.get("xmin")
}

/// The lowest id still kept, if any.
pub async fn oldest(db: &Db) -> Result<Option<i64>, StorageError> {
    let row = db.query_one("SELECT MIN(id) AS id FROM events", vec![]).await?;
    row.get("id")
}
