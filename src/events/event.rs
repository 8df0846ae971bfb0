//! The events the server announces, with the original's message types and field names.
//!
//! Each constructor fixes an event's `type`, its own fields, and its [`Audience`]. On the wire
//! every message also carries `seq` (its outbox id) and `timestamp` (when the change was made),
//! added when it is read back from the outbox (see [`super::outbox`]).
//!
//! Who sees what: reservation events go to the reservation's owner (the original told the
//! *canceller*; §9 defect 15) and to subscribers of the resource or of all availability; they
//! carry ids, times and status only — never a username or user id — which is what the public
//! schedule of a resource already shows. Resource and tag events go to everyone, as in the
//! original.
//!
//! Invariant: what only the user an event concerns may read (an approver's reason for rejecting
//! a request) is kept under [`OWNER_ONLY`] in the payload and reaches that user alone: their
//! sockets get it merged into the message ([`owner_view`]), every other recipient gets the
//! message without it ([`public_view`]); in-app notices, e-mail and webhooks (which reach the
//! owner or holders of the matching "any" permission) read the owner's view.

use chrono::{DateTime, Utc};
use reserver_actors::domain::Interval;
use reserver_actors::notifier::{Audience, Revoke};
use reserver_actors::resource::{ReservationId, ResourceId, ResourceInfo, UserId};
use serde_json::{Value, json};

use crate::reservations::model::utc;

pub const BUSINESS_HOURS_UPDATED: &str = "business_hours_updated";
pub const BLACKOUT_DATES_UPDATED: &str = "blackout_dates_updated";
pub const SIGN_IN_REVOKED: &str = "sign_in_revoked";

/// Whether an event of `kind` about `resource` changes what every resource accepts: the global
/// opening hours or blackout dates. Then every resource actor must reload, not one.
pub fn concerns_every_resource(kind: &str, resource: Option<ResourceId>) -> bool {
    resource.is_none() && (kind == BUSINESS_HOURS_UPDATED || kind == BLACKOUT_DATES_UPDATED)
}

/// The revocation an event of `kind` carries, if it is a [`NewEvent::sign_in_revoked`].
pub fn revocation(kind: &str, payload: &Value) -> Option<Revoke> {
    if kind != SIGN_IN_REVOKED {
        return None;
    }
    Some(Revoke {
        user: payload.get("user_id")?.as_i64()?,
        login: payload.get("session_id").and_then(Value::as_str).map(Into::into),
    })
}

/// The payload key of the fields only the user an event concerns (`Audience::user`) receives.
/// Never sent as such: see [`owner_view`] and [`public_view`].
pub const OWNER_ONLY: &str = "owner_only";

/// A payload as the user the event concerns sees it: the [`OWNER_ONLY`] fields merged in.
pub fn owner_view(payload: &Value) -> Value {
    let mut view = payload.clone();
    if let Some(fields) = view.as_object_mut()
        && let Some(Value::Object(private)) = fields.remove(OWNER_ONLY)
    {
        fields.extend(private);
    }
    view
}

/// A payload as every other recipient sees it: without the [`OWNER_ONLY`] fields.
pub fn public_view(payload: &Value) -> Value {
    let mut view = payload.clone();
    if let Some(fields) = view.as_object_mut() {
        fields.remove(OWNER_ONLY);
    }
    view
}

/// Whether a payload holds fields for its owner only (then owner and others get different text).
pub fn has_owner_only(payload: &Value) -> bool {
    payload.get(OWNER_ONLY).is_some()
}

/// An event to append to the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: &'static str,
    pub audience: Audience,
    /// The message's own fields, a JSON object.
    pub payload: Value,
}

fn reservation_audience(owner: UserId, resource: ResourceId) -> Audience {
    Audience {
        user: Some(owner),
        resource: Some(resource),
        everyone: false,
        availability: true,
    }
}

fn everyone(resource: Option<ResourceId>, availability: bool) -> Audience {
    Audience {
        user: None,
        resource,
        everyone: true,
        availability,
    }
}

/// A reservation as the events about it describe it.
#[derive(Debug, Clone, Copy)]
pub struct ReservationRef {
    pub id: ReservationId,
    pub resource: ResourceId,
    pub owner: UserId,
    pub interval: Interval,
}

impl NewEvent {
    /// The payload as the user the event concerns sees it.
    pub fn owner_view(&self) -> Value {
        owner_view(&self.payload)
    }

    pub fn reservation_created(reservation: &ReservationRef) -> NewEvent {
        NewEvent {
            kind: "reservation_created",
            audience: reservation_audience(reservation.owner, reservation.resource),
            payload: json!({
                "reservation_id": reservation.id,
                "resource_id": reservation.resource,
                "start_time": utc(reservation.interval.start()),
                "end_time": utc(reservation.interval.end()),
            }),
        }
    }

    pub fn reservation_cancelled(reservation: &ReservationRef, at: DateTime<Utc>) -> NewEvent {
        NewEvent {
            kind: "reservation_cancelled",
            audience: reservation_audience(reservation.owner, reservation.resource),
            payload: json!({
                "reservation_id": reservation.id,
                "resource_id": reservation.resource,
                "status": "cancelled",
                "cancelled_at": utc(at),
                "start_time": utc(reservation.interval.start()),
                "end_time": utc(reservation.interval.end()),
            }),
        }
    }

    /// A booking moved to another slot (`start_time`/`end_time` are the new ones), now in
    /// `status` (`pending_approval` when the move waits for the approver).
    pub fn reservation_updated(reservation: &ReservationRef, from: Interval, status: &str) -> NewEvent {
        NewEvent {
            kind: "reservation_updated",
            audience: reservation_audience(reservation.owner, reservation.resource),
            payload: json!({
                "reservation_id": reservation.id,
                "resource_id": reservation.resource,
                "status": status,
                "start_time": utc(reservation.interval.start()),
                "end_time": utc(reservation.interval.end()),
                "previous_start_time": utc(from.start()),
                "previous_end_time": utc(from.end()),
            }),
        }
    }

    pub fn reservation_expired(reservation: &ReservationRef, at: DateTime<Utc>) -> NewEvent {
        NewEvent {
            kind: "reservation_expired",
            audience: reservation_audience(reservation.owner, reservation.resource),
            payload: json!({
                "reservation_id": reservation.id,
                "resource_id": reservation.resource,
                "status": "expired",
                "expired_at": utc(at),
                "start_time": utc(reservation.interval.start()),
                "end_time": utc(reservation.interval.end()),
            }),
        }
    }

    /// Maintenance started or ended, or the base availability flag changed. `auto_reset_hours`
    /// is present only when entering maintenance, as in the original.
    pub fn resource_status_changed(
        resource: &ResourceInfo,
        status: &'static str,
        entering_maintenance: bool,
    ) -> NewEvent {
        let mut payload = json!({
            "resource_id": resource.id,
            "status": status,
            "available": resource.enabled,
        });
        if entering_maintenance {
            let hours = resource.maintenance.as_ref().and_then(|m| m.auto_reset_hours());
            payload["auto_reset_hours"] = json!(hours);
        }
        NewEvent {
            kind: "resource_status_changed",
            audience: everyone(Some(resource.id), true),
            payload,
        }
    }

    /// Name, description, tags or time zone changed.
    pub fn resource_updated(resource: &ResourceInfo) -> NewEvent {
        NewEvent {
            kind: "resource_updated",
            audience: everyone(Some(resource.id), false),
            payload: json!({
                "resource_id": resource.id,
                "name": resource.name,
                "description": resource.description,
                "tags": resource.tags,
                "timezone": resource.timezone.name(),
            }),
        }
    }

    pub fn resource_created(
        id: ResourceId,
        name: &str,
        description: Option<&str>,
        tags: &[String],
        available: bool,
        timezone: &str,
    ) -> NewEvent {
        NewEvent {
            kind: "resource_created",
            audience: everyone(Some(id), true),
            payload: json!({
                "resource_id": id,
                "name": name,
                "description": description,
                "tags": tags,
                "available": available,
                "status": "available",
                "timezone": timezone,
            }),
        }
    }

    pub fn resource_deleted(id: ResourceId) -> NewEvent {
        NewEvent {
            kind: "resource_deleted",
            audience: everyone(Some(id), true),
            payload: json!({ "resource_id": id }),
        }
    }

    /// The weekly opening hours of a resource (`None`: the global hours) were replaced.
    pub fn business_hours_updated(resource: Option<ResourceId>) -> NewEvent {
        NewEvent {
            kind: BUSINESS_HOURS_UPDATED,
            audience: everyone(resource, true),
            payload: json!({ "resource_id": resource }),
        }
    }

    /// A blackout date of a resource (`None`: global) was `"added"` or `"deleted"`.
    pub fn blackout_dates_updated(resource: Option<ResourceId>, blackout: i64, date: &str, action: &str) -> NewEvent {
        NewEvent {
            kind: BLACKOUT_DATES_UPDATED,
            audience: everyone(resource, true),
            payload: json!({ "resource_id": resource, "blackout_id": blackout, "date": date, "action": action }),
        }
    }

    pub fn tag_renamed(old_name: &str, new_name: &str, updated_count: usize) -> NewEvent {
        NewEvent {
            kind: "tag_renamed",
            audience: everyone(None, false),
            payload: json!({ "old_name": old_name, "new_name": new_name, "updated_count": updated_count }),
        }
    }

    pub fn tag_deleted(name: &str, updated_count: usize) -> NewEvent {
        NewEvent {
            kind: "tag_deleted",
            audience: everyone(None, false),
            payload: json!({ "name": name, "updated_count": updated_count }),
        }
    }

    /// Any other event about a reservation: its id, resource, times and status, plus `extra`.
    pub fn reservation(kind: &'static str, reservation: &ReservationRef, status: &str, extra: Value) -> NewEvent {
        let mut payload = json!({
            "reservation_id": reservation.id,
            "resource_id": reservation.resource,
            "status": status,
            "start_time": utc(reservation.interval.start()),
            "end_time": utc(reservation.interval.end()),
        });
        if let (Some(payload), Value::Object(extra)) = (payload.as_object_mut(), extra) {
            payload.extend(extra);
        }
        NewEvent {
            kind,
            audience: reservation_audience(reservation.owner, reservation.resource),
            payload,
        }
    }

    /// A slot offered to a waitlist entry (the original's fields, plus the slot).
    pub fn waitlist_offer(
        entry: i64,
        user: UserId,
        hold: &ReservationRef,
        resource_name: &str,
        expires_at: DateTime<Utc>,
    ) -> NewEvent {
        NewEvent {
            kind: "waitlist_offer",
            audience: Audience {
                user: Some(user),
                resource: Some(hold.resource),
                everyone: false,
                availability: true,
            },
            payload: json!({
                "waitlist_id": entry,
                "resource_id": hold.resource,
                "resource_name": resource_name,
                "expires_at": utc(expires_at),
                "start_time": utc(hold.interval.start()),
                "end_time": utc(hold.interval.end()),
            }),
        }
    }

    /// An offer nobody took in time: the entry left the queue.
    pub fn waitlist_offer_expired(entry: i64, user: UserId, resource: ResourceId) -> NewEvent {
        NewEvent {
            kind: "waitlist_offer_expired",
            audience: Audience {
                user: Some(user),
                resource: None,
                everyone: false,
                availability: false,
            },
            payload: json!({ "waitlist_id": entry, "resource_id": resource }),
        }
    }

    /// An offer accepted: the entry left the queue with the offered slot booked (its
    /// `reservation_created` comes with it).
    pub fn waitlist_accepted(
        entry: i64,
        user: UserId,
        resource: ResourceId,
        reservation: Option<ReservationId>,
    ) -> NewEvent {
        NewEvent {
            kind: "waitlist_accepted",
            audience: Audience {
                user: Some(user),
                resource: None,
                everyone: false,
                availability: false,
            },
            payload: json!({ "waitlist_id": entry, "resource_id": resource, "reservation_id": reservation }),
        }
    }

    /// A new account. No socket receives it (nobody watches for it live, and the new user's
    /// first socket would get it as a stray first message); administrators' webhooks do.
    pub fn user_created(user: UserId, username: &str) -> NewEvent {
        NewEvent {
            kind: "user_created",
            audience: Audience::default(),
            payload: json!({ "user_id": user, "username": username }),
        }
    }

    /// Sign-ins of `user` were revoked: all of them, or the one named `login`. Not an
    /// announcement (no socket receives it, nothing derives from it): every process's tailer
    /// reads it and has its notifier close the sockets opened with those sign-ins.
    pub fn sign_in_revoked(user: UserId, login: Option<&str>) -> NewEvent {
        NewEvent {
            kind: SIGN_IN_REVOKED,
            audience: Audience::default(),
            payload: json!({ "user_id": user, "session_id": login }),
        }
    }

    /// A booking waits for `approver` (the original's fields).
    pub fn approval_request(
        approval: i64,
        approver: UserId,
        reservation: ReservationId,
        resource_name: &str,
        requester: &str,
    ) -> NewEvent {
        NewEvent {
            kind: "approval_request",
            audience: Audience {
                user: Some(approver),
                resource: None,
                everyone: false,
                availability: false,
            },
            payload: json!({
                "approval_id": approval,
                "reservation_id": reservation,
                "resource_name": resource_name,
                "requester": requester,
            }),
        }
    }

    /// The answer to a request, for its requester and the resource's subscribers
    /// (`reservation_approved` / `reservation_rejected`). A rejection's `reason` is the
    /// requester's alone ([`OWNER_ONLY`]).
    pub fn approval_answer(
        approved: bool,
        reservation: &ReservationRef,
        approval: Option<i64>,
        resource_name: &str,
        reason: Option<&str>,
    ) -> NewEvent {
        let (kind, status) = if approved {
            ("reservation_approved", "active")
        } else {
            ("reservation_rejected", "rejected")
        };
        let mut extra = json!({ "approval_id": approval, "resource_name": resource_name });
        if !approved {
            extra[OWNER_ONLY] = json!({ "reason": reason });
        }
        NewEvent::reservation(kind, reservation, status, extra)
    }
}
