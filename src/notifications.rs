//! In-app notifications (`NotificationOut`): written from the events of a change, in its
//! transaction, for the user each event concerns; read and marked read by that user.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::events::NewEvent;
use crate::http::pagination::{Page, Paged, SortKey, SortKind};
use crate::params;
use crate::reservations::model::utc;
use crate::storage::{Binder, Db, Row, StorageError, Transaction};

pub const SORT_KEYS: &[SortKey] = &[
    SortKey {
        name: "id",
        sql: "n.id",
        kind: SortKind::Int,
    },
    SortKey {
        name: "created_at",
        sql: "n.created_at",
        kind: SortKind::Time,
    },
    SortKey {
        name: "type",
        sql: "n.type",
        kind: SortKind::Text,
    },
    SortKey {
        name: "read",
        sql: "CASE WHEN n.read THEN 1 ELSE 0 END",
        kind: SortKind::Int,
    },
];

/// The wire format's key order: type, title, message, link, id, read, created_at.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationOut {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub message: String,
    pub link: Option<String>,
    pub id: i64,
    pub read: bool,
    pub created_at: String,
}

impl NotificationOut {
    fn decode(row: &Row) -> Result<NotificationOut, StorageError> {
        Ok(NotificationOut {
            kind: row.get("type")?,
            title: row.get("title")?,
            message: row.get("message")?,
            link: row.get("link")?,
            id: row.get("id")?,
            read: row.get("read")?,
            created_at: utc(row.get("created_at")?),
        })
    }
}

/// What a user is told of an event: type, title, message, link (also the subject and text of
/// the e-mail some events give, `email::project`).
pub struct Notice {
    pub kind: &'static str,
    pub title: &'static str,
    pub message: String,
    pub link: Option<String>,
}

fn text(payload: &Value, field: &str) -> String {
    payload[field].as_str().unwrap_or_default().to_owned()
}

async fn resource_name(tx: &mut Box<dyn Transaction>, payload: &Value) -> Result<String, StorageError> {
    if let Some(name) = payload["resource_name"].as_str() {
        return Ok(name.to_owned());
    }
    let row = tx
        .query_opt(
            "SELECT name FROM resources WHERE id = $1",
            params![payload["resource_id"].as_i64()],
        )
        .await?;
    Ok(row
        .map(|row| row.get::<String>("name"))
        .transpose()?
        .unwrap_or_default())
}

/// The notice for `event`, if it tells its user something they act on.
async fn notice(
    tx: &mut Box<dyn Transaction>,
    event: &NewEvent,
    now: DateTime<Utc>,
) -> Result<Option<Notice>, StorageError> {
    // Notices go to the user the event concerns, who may read its owner-only fields.
    let payload = &event.owner_view();
    let reservation = payload["reservation_id"]
        .as_i64()
        .map(|id| format!("/reservations/{id}"));
    let slot = || format!("from {} to {}", text(payload, "start_time"), text(payload, "end_time"));
    let name = match event.kind {
        "reservation_created"
        | "reservation_cancelled"
        | "reservation_released"
        | "reservation_updated"
        | "waitlist_offer"
        | "waitlist_offer_expired"
        | "approval_request"
        | "reservation_approved"
        | "reservation_rejected" => resource_name(tx, payload).await?,
        _ => return Ok(None),
    };
    Ok(Some(match event.kind {
        "reservation_created" if payload["status"] == "pending_approval" => Notice {
            kind: "system_announcement",
            title: "Reservation requested",
            message: format!("{name} {} waits for approval", slot()),
            link: reservation,
        },
        "reservation_created" => Notice {
            kind: "reservation_confirmed",
            title: "Reservation confirmed",
            message: format!("{name} booked {}", slot()),
            link: reservation,
        },
        "reservation_cancelled" => Notice {
            kind: "reservation_cancelled",
            title: "Reservation cancelled",
            message: format!("{name} {} was cancelled", slot()),
            link: reservation,
        },
        "reservation_released" => Notice {
            kind: "reservation_cancelled",
            title: "Reservation released",
            message: format!("{name} {} was released: it was not checked in on time", slot()),
            link: reservation,
        },
        "reservation_updated" => Notice {
            kind: "system_announcement",
            title: "Reservation moved",
            message: format!("{name} is now booked {}", slot()),
            link: reservation,
        },
        "waitlist_offer" => {
            let expires = payload["expires_at"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
            let minutes = expires.map_or(0, |t| (t.with_timezone(&Utc) - now).num_minutes().max(1));
            Notice {
                kind: "resource_available",
                title: "Slot available!",
                message: format!("{name} is now available! Accept within {minutes} minutes."),
                link: payload["waitlist_id"]
                    .as_i64()
                    .map(|id| format!("/waitlist/{id}/accept")),
            }
        }
        "waitlist_offer_expired" => Notice {
            kind: "system_announcement",
            title: "Offer expired",
            message: format!("Your offer for {name} has expired"),
            link: payload["waitlist_id"].as_i64().map(|id| format!("/waitlist/{id}")),
        },
        "approval_request" => Notice {
            kind: "system_announcement",
            title: "Approval Request",
            message: format!("{} requests {name}", text(payload, "requester")),
            link: payload["approval_id"].as_i64().map(|id| format!("/approvals/{id}")),
        },
        "reservation_approved" => Notice {
            kind: "reservation_confirmed",
            title: "Reservation Approved",
            message: format!("Your request for {name} {} was approved", slot()),
            link: reservation,
        },
        _ => {
            let reason = payload["reason"]
                .as_str()
                .map(|r| format!(" Reason: {r}"))
                .unwrap_or_default();
            Notice {
                kind: "reservation_cancelled",
                title: "Reservation Rejected",
                message: format!("Your request for {name} {} was rejected.{reason}", slot()),
                link: reservation,
            }
        }
    }))
}

/// Writes the notification `event` gives its user, if any (called for every event recorded),
/// and answers with that user and notice.
pub async fn project(
    tx: &mut Box<dyn Transaction>,
    event: &NewEvent,
    now: DateTime<Utc>,
) -> Result<Option<(i64, Notice)>, StorageError> {
    let Some(user) = event.audience.user else {
        return Ok(None);
    };
    let Some(notice) = notice(tx, event, now).await? else {
        return Ok(None);
    };
    tx.execute(
        "INSERT INTO notifications (user_id, type, title, message, link, read, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![user, notice.kind, notice.title, notice.message.as_str(), notice.link.as_deref(), false, now],
    )
    .await?;
    Ok(Some((user, notice)))
}

/// One page of `user`'s notifications (only unread ones with `unread_only`), with the unread count.
pub async fn page_of_user(db: &Db, user: i64, unread_only: bool, page: &Page) -> Result<Value, ApiError> {
    let unread = db
        .query_one(
            "SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND read = $2",
            params![user, false],
        )
        .await?
        .get::<i64>("n")?;
    let mut binder = Binder::new();
    let mut conditions = vec![format!("n.user_id = {}", binder.bind(user))];
    if unread_only {
        conditions.push(format!("n.read = {}", binder.bind(false)));
    }
    let filter = conditions.join(" AND ");
    let total = if page.include_total {
        let sql = format!("SELECT COUNT(*) AS n FROM notifications n WHERE {filter}");
        Some(
            db.query_one(&sql, binder.clone().into_values())
                .await?
                .get::<i64>("n")?,
        )
    } else {
        None
    };
    let keyset = page.condition("n.id", &mut binder);
    let limit = binder.bind(page.fetch_limit());
    let sql = format!(
        "SELECT n.id, n.type, n.title, n.message, n.link, n.read, n.created_at, {} AS sort_value
         FROM notifications n WHERE {filter} AND {keyset} ORDER BY {} LIMIT {limit}",
        page.key.sql,
        page.order_by("n.id")
    );
    let mut items = Vec::new();
    for row in db.query(&sql, binder.into_values()).await? {
        let item = NotificationOut::decode(&row)?;
        items.push(Paged {
            sort_value: page.sort_value(&row)?,
            id: item.id,
            item,
        });
    }
    let mut envelope = page.envelope(items, total);
    envelope["unread_count"] = serde_json::json!(unread);
    Ok(envelope)
}

/// Marks one of `user`'s notifications read and returns it; `None` if it is not theirs.
pub async fn mark_read(db: &Db, user: i64, id: i64) -> Result<Option<NotificationOut>, StorageError> {
    db.execute(
        "UPDATE notifications SET read = $1 WHERE id = $2 AND user_id = $3",
        params![true, id, user],
    )
    .await?;
    let row = db
        .query_opt(
            "SELECT id, type, title, message, link, read, created_at FROM notifications WHERE id = $1 AND user_id = $2",
            params![id, user],
        )
        .await?;
    row.as_ref().map(NotificationOut::decode).transpose()
}

/// Marks all of `user`'s notifications read; returns how many were unread.
pub async fn mark_all_read(db: &Db, user: i64) -> Result<u64, StorageError> {
    db.execute(
        "UPDATE notifications SET read = $1 WHERE user_id = $2 AND read = $3",
        params![true, user, false],
    )
    .await
}
