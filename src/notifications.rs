//! In-app notifications (`NotificationOut`): written from the events of a change, in its
//! transaction, for the user each event concerns; read and marked read by that user.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use reserver_actors::resource::ResourceId;
use serde::Serialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::events::event::{Event, NewEvent, Slot};
use crate::pagination::{Page, Paged, SortKey, SortKind};
use crate::params;
use crate::storage::{Binder, Db, Row, StorageError, Transaction};
use crate::wire::time::utc;

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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NotificationOut {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub message: String,
    #[schema(required)]
    pub link: Option<String>,
    pub id: i64,
    pub read: bool,
    #[schema(format = DateTime)]
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

/// Resource names, read once per set of events (a group commit's events name many resources).
#[derive(Default)]
struct Names(HashMap<ResourceId, String>);

impl Names {
    /// Reads the names of every resource `events` need in one statement.
    async fn prefetch(tx: &mut Box<dyn Transaction>, events: &[NewEvent]) -> Result<Names, StorageError> {
        let wanted: BTreeSet<ResourceId> = events.iter().filter_map(|e| named_resource(&e.event)).collect();
        let mut names = Names::default();
        if wanted.is_empty() {
            return Ok(names);
        }
        let mut binder = Binder::new();
        let list: Vec<String> = wanted.iter().map(|id| binder.bind(*id)).collect();
        let sql = format!("SELECT id, name FROM resources WHERE id IN ({})", list.join(", "));
        for row in tx.query(&sql, binder.into_values()).await? {
            names.0.insert(row.get("id")?, row.get("name")?);
        }
        Ok(names)
    }

    /// The resource's name ("" for one deleted meanwhile).
    fn of(&self, resource: ResourceId) -> String {
        self.0.get(&resource).cloned().unwrap_or_default()
    }
}

/// The resource whose name the notice of `event` quotes, when the event does not carry it.
fn named_resource(event: &Event) -> Option<ResourceId> {
    match event {
        Event::ReservationCreated(e) => Some(e.slot.resource_id),
        Event::ReservationCancelled(e) => Some(e.slot.resource_id),
        Event::ReservationReleased(e) => Some(e.slot.resource_id),
        Event::ReservationUpdated(e) => Some(e.slot.resource_id),
        Event::WaitlistOfferExpired(e) => Some(e.resource_id),
        _ => None,
    }
}

fn reservation_link(slot: &Slot) -> Option<String> {
    Some(format!("/reservations/{}", slot.reservation_id))
}

/// The notice for `event`, if it tells its user something they act on. Notices go to the user
/// the event concerns, who may read its owner-only fields.
fn notice(names: &Names, event: &Event, now: DateTime<Utc>) -> Option<Notice> {
    Some(match event {
        Event::ReservationCreated(created) => {
            let name = names.of(created.slot.resource_id);
            let slot = &created.slot;
            if created.is_request() {
                Notice {
                    kind: "system_announcement",
                    title: "Reservation requested",
                    message: format!("{name} {} waits for approval", slot.span()),
                    link: reservation_link(slot),
                }
            } else {
                Notice {
                    kind: "reservation_confirmed",
                    title: "Reservation confirmed",
                    message: format!("{name} booked {}", slot.span()),
                    link: reservation_link(slot),
                }
            }
        }
        Event::ReservationCancelled(cancelled) => {
            let slot = &cancelled.slot;
            let name = names.of(slot.resource_id);
            Notice {
                kind: "reservation_cancelled",
                title: "Reservation cancelled",
                message: format!("{name} {} was cancelled", slot.span()),
                link: reservation_link(slot),
            }
        }
        Event::ReservationReleased(released) => {
            let slot = &released.slot;
            let name = names.of(slot.resource_id);
            Notice {
                kind: "reservation_cancelled",
                title: "Reservation released",
                message: format!("{name} {} was released: it was not checked in on time", slot.span()),
                link: reservation_link(slot),
            }
        }
        Event::ReservationUpdated(updated) => {
            let slot = &updated.slot;
            let name = names.of(slot.resource_id);
            Notice {
                kind: "system_announcement",
                title: "Reservation moved",
                message: format!("{name} is now booked {}", slot.span()),
                link: reservation_link(slot),
            }
        }
        Event::WaitlistOffer(offer) => {
            let expires = DateTime::parse_from_rfc3339(&offer.expires_at).ok();
            let minutes = expires.map_or(0, |t| (t.with_timezone(&Utc) - now).num_minutes().max(1));
            Notice {
                kind: "resource_available",
                title: "Slot available!",
                message: format!(
                    "{} is now available! Accept within {minutes} minutes.",
                    offer.resource_name
                ),
                link: Some(format!("/waitlist/{}/accept", offer.waitlist_id)),
            }
        }
        Event::WaitlistOfferExpired(expired) => {
            let name = names.of(expired.resource_id);
            Notice {
                kind: "system_announcement",
                title: "Offer expired",
                message: format!("Your offer for {name} has expired"),
                link: Some(format!("/waitlist/{}", expired.waitlist_id)),
            }
        }
        Event::ApprovalRequest(request) => Notice {
            kind: "system_announcement",
            title: "Approval Request",
            message: format!("{} requests {}", request.requester, request.resource_name),
            link: Some(format!("/approvals/{}", request.approval_id)),
        },
        Event::ReservationApproved(approved) => Notice {
            kind: "reservation_confirmed",
            title: "Reservation Approved",
            message: format!(
                "Your request for {} {} was approved",
                approved.resource_name,
                approved.slot.span()
            ),
            link: reservation_link(&approved.slot),
        },
        Event::ReservationRejected(rejected) => {
            let reason = rejected
                .owner_only
                .reason
                .as_deref()
                .map(|r| format!(" Reason: {r}"))
                .unwrap_or_default();
            Notice {
                kind: "reservation_cancelled",
                title: "Reservation Rejected",
                message: format!(
                    "Your request for {} {} was rejected.{reason}",
                    rejected.resource_name,
                    rejected.slot.span()
                ),
                link: reservation_link(&rejected.slot),
            }
        }
        // Seen live, or nothing its user acts on.
        Event::ReservationExpired(_)
        | Event::ReservationCheckedIn(_)
        | Event::HoldCreated(_)
        | Event::HoldExpired(_)
        | Event::HoldReleased(_)
        | Event::WaitlistAccepted(_)
        | Event::ResourceStatusChanged(_)
        | Event::ResourceUpdated(_)
        | Event::ResourceCreated(_)
        | Event::ResourceDeleted(_)
        | Event::BusinessHoursUpdated(_)
        | Event::BlackoutDatesUpdated(_)
        | Event::TagRenamed(_)
        | Event::TagDeleted(_)
        | Event::ResourceGroupChanged(_)
        | Event::ResourceHierarchyChanged(_)
        | Event::UserCreated(_)
        | Event::SignInRevoked(_)
        | Event::WaitlistChanged(_) => return None,
    })
}

/// Writes the notifications `events` give their users, if any (called for every set of events
/// recorded), in one statement, and answers with each event's user and notice.
pub async fn project(
    tx: &mut Box<dyn Transaction>,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> Result<Vec<Option<(i64, Notice)>>, StorageError> {
    let names = Names::prefetch(tx, events).await?;
    let notices: Vec<Option<(i64, Notice)>> = events
        .iter()
        .map(|event| Some((event.audience.user?, notice(&names, &event.event, now)?)))
        .collect();
    let mut binder = Binder::new();
    let rows: Vec<String> = notices
        .iter()
        .flatten()
        .map(|(user, notice)| {
            let cells = [
                binder.bind(*user),
                binder.bind(notice.kind),
                binder.bind(notice.title),
                binder.bind(notice.message.as_str()),
                binder.bind(notice.link.as_deref()),
                binder.bind(false),
                binder.bind(now),
            ];
            format!("({})", cells.join(", "))
        })
        .collect();
    // Seven parameters a row: a group's notices stay far below every backend's limit.
    if !rows.is_empty() {
        let sql = format!(
            "INSERT INTO notifications (user_id, type, title, message, link, read, created_at) VALUES {}",
            rows.join(", ")
        );
        tx.execute(&sql, binder.into_values()).await?;
    }
    Ok(notices)
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
