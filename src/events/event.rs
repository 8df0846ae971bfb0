//! The events the server announces: a closed vocabulary, one [`Event`] variant per message
//! `type`, each with its own struct of fields, under the message types and field names of the
//! `/ws` protocol.
//!
//! Producers build a [`NewEvent`] with one of its constructors, which fixes the event and its
//! [`Audience`]. The outbox stores the variant's name as `kind` and its fields as the JSON
//! `payload`; the tailer decodes stored rows back into [`Event`]. On the wire every message also
//! carries `type` (the kind), `seq` (its outbox id) and `timestamp` (when the change was made),
//! added when it is read back from the outbox (see [`super::outbox`]). Payload keys are sorted
//! (`serde_json` maps), whatever the order of the struct fields.
//!
//! Adding a variant is meant to fail to compile until every projection (in-app notifications,
//! e-mail, webhooks) says what the new event gives: they match [`Event`] exhaustively.
//!
//! Who sees what: reservation events go to the reservation's owner and to subscribers of the
//! resource or of all availability; they carry ids, times and status only — never a username or
//! user id — which is what the public schedule of a resource already shows. Resource and tag
//! events go to everyone.
//!
//! Invariant: what only the user an event concerns may read (an approver's reason for rejecting
//! a request) is kept under [`OWNER_ONLY`] in the payload and reaches that user alone: their
//! sockets get it merged into the message ([`owner_view`]), every other recipient gets the
//! message without it ([`public_view`]); in-app notices, e-mail and webhooks (which reach the
//! owner or holders of the matching "any" permission) read the owner's view.

use chrono::{DateTime, Utc};
use reserver_actors::domain::Interval;
use reserver_actors::notifier::{Audience, Revoke};
use reserver_actors::resource::{Booking, Followed, ReservationId, ResourceId, ResourceInfo, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::wire::time::utc;

/// Every event the server records. The variant's snake_case name is its `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum Event {
    ReservationCreated(ReservationCreated),
    ReservationCancelled(ReservationCancelled),
    ReservationUpdated(ReservationUpdated),
    ReservationExpired(ReservationExpired),
    ReservationReleased(ReservationReleased),
    ReservationCheckedIn(ReservationCheckedIn),
    ReservationApproved(ReservationApproved),
    ReservationRejected(ReservationRejected),
    HoldCreated(HoldChanged),
    HoldExpired(HoldChanged),
    HoldReleased(HoldChanged),
    ApprovalRequest(ApprovalRequested),
    WaitlistOffer(WaitlistOffered),
    WaitlistOfferExpired(WaitlistOfferExpired),
    WaitlistAccepted(WaitlistAccepted),
    ResourceStatusChanged(ResourceStatusChanged),
    ResourceUpdated(ResourceUpdated),
    ResourceCreated(ResourceCreated),
    ResourceDeleted(ResourceDeleted),
    BusinessHoursUpdated(BusinessHoursUpdated),
    BlackoutDatesUpdated(BlackoutDatesUpdated),
    TagRenamed(TagRenamed),
    TagDeleted(TagDeleted),
    /// A resource group was created, changed or deleted.
    ResourceGroupChanged(ResourceGroupChanged),
    /// A resource joined or left a group, or got or lost a parent resource.
    ResourceHierarchyChanged(ResourceHierarchyChanged),
    UserCreated(UserCreated),
    /// Not an announcement (no socket receives it, nothing derives from it): every process's
    /// tailer reads it and has its notifier close the sockets opened with those sign-ins.
    SignInRevoked(SignInRevoked),
    /// Not an announcement either: someone joined or left a resource's waitlist. Other
    /// processes' actors of that resource reload on it, so that a slot freed through any
    /// process is offered to the whole waitlist.
    WaitlistChanged(WaitlistChanged),
}

/// An outbox row's `kind` and `payload` that are no [`Event`] this release knows.
#[derive(Debug, thiserror::Error)]
#[error("event of kind {kind:?} cannot be decoded: {source}")]
pub struct UnknownEvent {
    pub kind: String,
    #[source]
    pub source: serde_json::Error,
}

impl Event {
    /// The outbox `kind` (the wire `type`) and the `payload` (a JSON object) it is stored as.
    pub fn encode(&self) -> (String, Value) {
        let mut tagged = serde_json::to_value(self).unwrap_or_default();
        let kind = tagged["kind"].as_str().unwrap_or_default().to_owned();
        (kind, tagged["payload"].take())
    }

    /// The event stored as `kind` and `payload`.
    pub fn decode(kind: &str, payload: &Value) -> Result<Event, UnknownEvent> {
        serde_json::from_value(json!({ "kind": kind, "payload": payload })).map_err(|source| UnknownEvent {
            kind: kind.to_owned(),
            source,
        })
    }

    /// Whether it changes what every resource accepts: the global opening hours or blackout
    /// dates. Then every resource actor must reload, not one.
    pub fn concerns_every_resource(&self) -> bool {
        matches!(
            self,
            Event::BusinessHoursUpdated(BusinessHoursUpdated { resource_id: None })
                | Event::BlackoutDatesUpdated(BlackoutDatesUpdated { resource_id: None, .. })
        )
    }

    /// The resource an event that no socket receives concerns (a [`Event::WaitlistChanged`]):
    /// other processes' actors of it must follow the change all the same.
    pub fn unannounced_change_of(&self) -> Option<ResourceId> {
        match self {
            Event::WaitlistChanged(changed) => Some(changed.resource_id),
            _ => None,
        }
    }

    /// What another process's actor of the event's resource learns of the booking the event is
    /// about, when the event changes nothing else that such an actor holds: that it ended, or
    /// only that it changed (to be read again; the outbox row may carry the booking itself,
    /// see [`NewEvent::with_booking`]). Every other change of a resource (waitlists, offers,
    /// approvals, the resource itself) makes those actors reload the resource.
    pub fn changed_booking(&self) -> Option<Followed> {
        match self {
            Event::ReservationCreated(ReservationCreated { slot, .. })
            | Event::ReservationUpdated(ReservationUpdated { slot, .. })
            | Event::ReservationCheckedIn(ReservationCheckedIn { slot, .. })
            | Event::ReservationApproved(ReservationApproved { slot, .. })
            | Event::HoldCreated(HoldChanged { slot, .. }) => Some(Followed::Changed(slot.reservation_id)),
            // Each of these leaves the booking in a state that no longer blocks, for good.
            Event::ReservationCancelled(ReservationCancelled { slot, .. })
            | Event::ReservationExpired(ReservationExpired { slot, .. })
            | Event::ReservationReleased(ReservationReleased { slot, .. })
            | Event::ReservationRejected(ReservationRejected { slot, .. })
            | Event::HoldExpired(HoldChanged { slot, .. })
            | Event::HoldReleased(HoldChanged { slot, .. }) => Some(Followed::Ended(slot.reservation_id)),
            Event::ApprovalRequest(_)
            | Event::WaitlistOffer(_)
            | Event::WaitlistOfferExpired(_)
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
            | Event::WaitlistChanged(_) => None,
        }
    }

    /// The revocation it carries, if it is a [`Event::SignInRevoked`].
    pub fn revocation(&self) -> Option<Revoke> {
        match self {
            Event::SignInRevoked(revoked) => Some(Revoke {
                user: revoked.user_id,
                login: revoked.session_id.as_deref().map(Into::into),
            }),
            _ => None,
        }
    }
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

/// An event to append to the outbox, with who receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event: Event,
    pub audience: Audience,
    /// The booking the change made, as it stands after it (a new booking, a hold): stored
    /// beside the event for other server processes' actors, never sent (see
    /// [`NewEvent::with_booking`]).
    pub booking: Option<Booking>,
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

fn only(user: UserId, resource: Option<ResourceId>, availability: bool) -> Audience {
    Audience {
        user: Some(user),
        resource,
        everyone: false,
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

/// The time format of holds, releases and check-ins (Python's `isoformat`, which `/ws` clients parse).
fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

impl NewEvent {
    /// The event with the booking its change made, which other server processes' actors then
    /// take in from the outbox instead of reading it again
    /// ([`reserver_actors::resource::Followed::Now`]).
    pub fn with_booking(self, booking: Booking) -> NewEvent {
        NewEvent {
            booking: Some(booking),
            ..self
        }
    }

    /// The payload as the user the event concerns sees it.
    pub fn owner_view(&self) -> Value {
        owner_view(&self.event.encode().1)
    }

    fn about(reservation: &ReservationRef, event: Event) -> NewEvent {
        NewEvent {
            event,
            audience: reservation_audience(reservation.owner, reservation.resource),
            booking: None,
        }
    }

    pub fn reservation_created(reservation: &ReservationRef) -> NewEvent {
        let slot = Slot::of(reservation);
        NewEvent::about(
            reservation,
            Event::ReservationCreated(ReservationCreated { slot, status: None }),
        )
    }

    /// A booking that waits for its approver (its `approval_request` comes with it).
    pub fn reservation_requested(reservation: &ReservationRef) -> NewEvent {
        let created = ReservationCreated {
            slot: Slot::of(reservation),
            status: Some("pending_approval".into()),
        };
        NewEvent::about(reservation, Event::ReservationCreated(created))
    }

    pub fn reservation_cancelled(reservation: &ReservationRef, at: DateTime<Utc>) -> NewEvent {
        let cancelled = ReservationCancelled {
            slot: Slot::of(reservation),
            status: "cancelled".into(),
            cancelled_at: utc(at),
        };
        NewEvent::about(reservation, Event::ReservationCancelled(cancelled))
    }

    /// A booking moved to another slot (`start_time`/`end_time` are the new ones), now in
    /// `status` (`pending_approval` when the move waits for the approver).
    pub fn reservation_updated(reservation: &ReservationRef, from: Interval, status: &str) -> NewEvent {
        let updated = ReservationUpdated {
            slot: Slot::of(reservation),
            status: status.into(),
            previous_start_time: Some(utc(from.start())),
            previous_end_time: Some(utc(from.end())),
        };
        NewEvent::about(reservation, Event::ReservationUpdated(updated))
    }

    /// A booking active again where it was.
    pub fn reservation_reactivated(reservation: &ReservationRef) -> NewEvent {
        let updated = ReservationUpdated {
            slot: Slot::of(reservation),
            status: "active".into(),
            previous_start_time: None,
            previous_end_time: None,
        };
        NewEvent::about(reservation, Event::ReservationUpdated(updated))
    }

    pub fn reservation_expired(reservation: &ReservationRef, at: DateTime<Utc>) -> NewEvent {
        let expired = ReservationExpired {
            slot: Slot::of(reservation),
            status: "expired".into(),
            expired_at: utc(at),
        };
        NewEvent::about(reservation, Event::ReservationExpired(expired))
    }

    /// A booking released at `at` because it was not checked in.
    pub fn reservation_released(reservation: &ReservationRef, at: DateTime<Utc>, reason: Option<&str>) -> NewEvent {
        let released = ReservationReleased {
            slot: Slot::of(reservation),
            status: "released".into(),
            released_at: rfc3339(at),
            reason: reason.map(Into::into),
        };
        NewEvent::about(reservation, Event::ReservationReleased(released))
    }

    pub fn reservation_checked_in(reservation: &ReservationRef, at: DateTime<Utc>) -> NewEvent {
        let checked_in = ReservationCheckedIn {
            slot: Slot::of(reservation),
            status: "active".into(),
            checked_in_at: rfc3339(at),
        };
        NewEvent::about(reservation, Event::ReservationCheckedIn(checked_in))
    }

    /// A hold on a slot, lapsing at `until` unless confirmed.
    pub fn hold_created(hold: &ReservationRef, until: DateTime<Utc>) -> NewEvent {
        let held = HoldChanged {
            slot: Slot::of(hold),
            status: "held".into(),
            expires_at: Some(rfc3339(until)),
        };
        NewEvent::about(hold, Event::HoldCreated(held))
    }

    pub fn hold_expired(hold: &ReservationRef) -> NewEvent {
        let expired = HoldChanged {
            slot: Slot::of(hold),
            status: "expired".into(),
            expires_at: None,
        };
        NewEvent::about(hold, Event::HoldExpired(expired))
    }

    pub fn hold_released(hold: &ReservationRef) -> NewEvent {
        let released = HoldChanged {
            slot: Slot::of(hold),
            status: "cancelled".into(),
            expires_at: None,
        };
        NewEvent::about(hold, Event::HoldReleased(released))
    }

    /// Maintenance started or ended, or the base availability flag changed. `auto_reset_hours`
    /// is present only when entering maintenance.
    pub fn resource_status_changed(
        resource: &ResourceInfo,
        status: &'static str,
        entering_maintenance: bool,
    ) -> NewEvent {
        let changed = ResourceStatusChanged {
            resource_id: resource.id,
            status: status.into(),
            available: resource.enabled,
            auto_reset_hours: entering_maintenance
                .then(|| resource.maintenance.as_ref().and_then(|m| m.auto_reset_hours())),
        };
        NewEvent {
            event: Event::ResourceStatusChanged(changed),
            audience: everyone(Some(resource.id), true),
            booking: None,
        }
    }

    /// Name, description, tags or time zone changed.
    pub fn resource_updated(resource: &ResourceInfo) -> NewEvent {
        let updated = ResourceUpdated {
            resource_id: resource.id,
            name: resource.name.clone(),
            description: resource.description.clone(),
            tags: resource.tags.clone(),
            timezone: resource.timezone.name().into(),
        };
        NewEvent {
            event: Event::ResourceUpdated(updated),
            audience: everyone(Some(resource.id), false),
            booking: None,
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
        let created = ResourceCreated {
            resource_id: id,
            name: name.into(),
            description: description.map(Into::into),
            tags: tags.to_vec(),
            available,
            status: "available".into(),
            timezone: timezone.into(),
        };
        NewEvent {
            event: Event::ResourceCreated(created),
            audience: everyone(Some(id), true),
            booking: None,
        }
    }

    pub fn resource_deleted(id: ResourceId) -> NewEvent {
        NewEvent {
            event: Event::ResourceDeleted(ResourceDeleted { resource_id: id }),
            audience: everyone(Some(id), true),
            booking: None,
        }
    }

    /// The weekly opening hours of a resource (`None`: the global hours) were replaced.
    pub fn business_hours_updated(resource: Option<ResourceId>) -> NewEvent {
        NewEvent {
            event: Event::BusinessHoursUpdated(BusinessHoursUpdated { resource_id: resource }),
            audience: everyone(resource, true),
            booking: None,
        }
    }

    /// A blackout date of a resource (`None`: global) was `"added"` or `"deleted"`.
    pub fn blackout_dates_updated(resource: Option<ResourceId>, blackout: i64, date: &str, action: &str) -> NewEvent {
        let updated = BlackoutDatesUpdated {
            resource_id: resource,
            blackout_id: blackout,
            date: date.into(),
            action: action.into(),
        };
        NewEvent {
            event: Event::BlackoutDatesUpdated(updated),
            audience: everyone(resource, true),
            booking: None,
        }
    }

    pub fn tag_renamed(old_name: &str, new_name: &str, updated_count: usize) -> NewEvent {
        let renamed = TagRenamed {
            old_name: old_name.into(),
            new_name: new_name.into(),
            updated_count,
        };
        NewEvent {
            event: Event::TagRenamed(renamed),
            audience: everyone(None, false),
            booking: None,
        }
    }

    pub fn tag_deleted(name: &str, updated_count: usize) -> NewEvent {
        let deleted = TagDeleted {
            name: name.into(),
            updated_count,
        };
        NewEvent {
            event: Event::TagDeleted(deleted),
            audience: everyone(None, false),
            booking: None,
        }
    }

    /// A resource group changed (see [`ResourceGroupChanged`]); everyone may see groups.
    pub fn resource_group_changed(group: i64, action: &str, name: &str, parent: Option<i64>) -> NewEvent {
        let changed = ResourceGroupChanged {
            group_id: group,
            action: action.into(),
            name: name.into(),
            parent_id: parent,
        };
        NewEvent {
            event: Event::ResourceGroupChanged(changed),
            audience: everyone(None, false),
            booking: None,
        }
    }

    /// A resource moved in the hierarchy (see [`ResourceHierarchyChanged`]).
    pub fn resource_hierarchy_changed(
        resource: ResourceId,
        group: Option<i64>,
        parent: Option<ResourceId>,
    ) -> NewEvent {
        let changed = ResourceHierarchyChanged {
            resource_id: resource,
            group_id: group,
            parent_id: parent,
        };
        NewEvent {
            event: Event::ResourceHierarchyChanged(changed),
            audience: everyone(Some(resource), false),
            booking: None,
        }
    }

    /// A slot offered to a waitlist entry (the protocol's fields, plus the slot).
    pub fn waitlist_offer(
        entry: i64,
        user: UserId,
        hold: &ReservationRef,
        resource_name: &str,
        expires_at: DateTime<Utc>,
    ) -> NewEvent {
        let offered = WaitlistOffered {
            waitlist_id: entry,
            resource_id: hold.resource,
            resource_name: resource_name.into(),
            expires_at: utc(expires_at),
            start_time: utc(hold.interval.start()),
            end_time: utc(hold.interval.end()),
        };
        NewEvent {
            event: Event::WaitlistOffer(offered),
            audience: only(user, Some(hold.resource), true),
            booking: None,
        }
    }

    /// An offer nobody took in time: the entry left the queue.
    pub fn waitlist_offer_expired(entry: i64, user: UserId, resource: ResourceId) -> NewEvent {
        let expired = WaitlistOfferExpired {
            waitlist_id: entry,
            resource_id: resource,
        };
        NewEvent {
            event: Event::WaitlistOfferExpired(expired),
            audience: only(user, None, false),
            booking: None,
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
        let accepted = WaitlistAccepted {
            waitlist_id: entry,
            resource_id: resource,
            reservation_id: reservation,
        };
        NewEvent {
            event: Event::WaitlistAccepted(accepted),
            audience: only(user, None, false),
            booking: None,
        }
    }

    /// A new account. No socket receives it (nobody watches for it live, and the new user's
    /// first socket would get it as a stray first message); administrators' webhooks do.
    pub fn user_created(user: UserId, username: &str) -> NewEvent {
        NewEvent {
            event: Event::UserCreated(UserCreated {
                user_id: user,
                username: username.into(),
            }),
            audience: Audience::default(),
            booking: None,
        }
    }

    /// Sign-ins of `user` were revoked: all of them, or the one named `login`.
    /// Someone joined or left `resource`'s waitlist (for the other processes' actors only).
    pub fn waitlist_changed(resource: ResourceId) -> NewEvent {
        NewEvent {
            event: Event::WaitlistChanged(WaitlistChanged { resource_id: resource }),
            audience: Audience::default(),
            booking: None,
        }
    }

    pub fn sign_in_revoked(user: UserId, login: Option<&str>) -> NewEvent {
        NewEvent {
            event: Event::SignInRevoked(SignInRevoked {
                user_id: user,
                session_id: login.map(Into::into),
            }),
            audience: Audience::default(),
            booking: None,
        }
    }

    /// A booking waits for `approver` (the protocol's fields).
    pub fn approval_request(
        approval: i64,
        approver: UserId,
        reservation: ReservationId,
        resource_name: &str,
        requester: &str,
    ) -> NewEvent {
        let requested = ApprovalRequested {
            approval_id: approval,
            reservation_id: reservation,
            resource_name: resource_name.into(),
            requester: requester.into(),
        };
        NewEvent {
            event: Event::ApprovalRequest(requested),
            audience: only(approver, None, false),
            booking: None,
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
        let slot = Slot::of(reservation);
        let resource_name = resource_name.to_owned();
        let event = if approved {
            Event::ReservationApproved(ReservationApproved {
                slot,
                status: "active".into(),
                approval_id: approval,
                resource_name,
            })
        } else {
            Event::ReservationRejected(ReservationRejected {
                slot,
                status: "rejected".into(),
                approval_id: approval,
                resource_name,
                owner_only: RejectionReason {
                    reason: reason.map(Into::into),
                },
            })
        };
        NewEvent::about(reservation, event)
    }
}

/// What every event about a reservation carries: which booking, where, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    pub reservation_id: ReservationId,
    pub resource_id: ResourceId,
    pub start_time: String,
    pub end_time: String,
}

impl Slot {
    fn of(reservation: &ReservationRef) -> Slot {
        Slot {
            reservation_id: reservation.id,
            resource_id: reservation.resource,
            start_time: utc(reservation.interval.start()),
            end_time: utc(reservation.interval.end()),
        }
    }

    /// `start` to `end` as the messages about the booking say it.
    pub fn span(&self) -> String {
        format!("from {} to {}", self.start_time, self.end_time)
    }
}

/// A booking made, or (with `status` `pending_approval`) requested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservationCreated {
    #[serde(flatten)]
    pub slot: Slot,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl ReservationCreated {
    /// Whether the booking waits for an approver.
    pub fn is_request(&self) -> bool {
        self.status.as_deref() == Some("pending_approval")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservationCancelled {
    #[serde(flatten)]
    pub slot: Slot,
    pub status: String,
    pub cancelled_at: String,
}

/// A booking moved (with the slot it left) or made active again in place (without).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservationUpdated {
    #[serde(flatten)]
    pub slot: Slot,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_end_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservationExpired {
    #[serde(flatten)]
    pub slot: Slot,
    pub status: String,
    pub expired_at: String,
}

/// A booking released because it was not checked in on time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservationReleased {
    #[serde(flatten)]
    pub slot: Slot,
    pub status: String,
    pub released_at: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservationCheckedIn {
    #[serde(flatten)]
    pub slot: Slot,
    pub status: String,
    pub checked_in_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservationApproved {
    #[serde(flatten)]
    pub slot: Slot,
    pub status: String,
    pub approval_id: Option<i64>,
    pub resource_name: String,
}

/// A request turned down; the approver's reason is the requester's alone ([`OWNER_ONLY`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservationRejected {
    #[serde(flatten)]
    pub slot: Slot,
    pub status: String,
    pub approval_id: Option<i64>,
    pub resource_name: String,
    pub owner_only: RejectionReason,
}

/// The fields of a rejection only its requester reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectionReason {
    pub reason: Option<String>,
}

/// A short hold on a slot (`hold_created`, `hold_expired`, `hold_released`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldChanged {
    #[serde(flatten)]
    pub slot: Slot,
    pub status: String,
    /// When an unconfirmed hold lapses (`hold_created` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRequested {
    pub approval_id: i64,
    pub reservation_id: ReservationId,
    pub resource_name: String,
    pub requester: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitlistOffered {
    pub waitlist_id: i64,
    pub resource_id: ResourceId,
    pub resource_name: String,
    pub expires_at: String,
    pub start_time: String,
    pub end_time: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitlistOfferExpired {
    pub waitlist_id: i64,
    pub resource_id: ResourceId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitlistAccepted {
    pub waitlist_id: i64,
    pub resource_id: ResourceId,
    pub reservation_id: Option<ReservationId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceStatusChanged {
    pub resource_id: ResourceId,
    pub status: String,
    pub available: bool,
    /// Present (possibly `null`) only when entering maintenance.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub auto_reset_hours: Option<Option<i64>>,
}

impl ResourceStatusChanged {
    pub fn is_unavailable(&self) -> bool {
        self.status == "unavailable"
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceUpdated {
    pub resource_id: ResourceId,
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub timezone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceCreated {
    pub resource_id: ResourceId,
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub available: bool,
    pub status: String,
    pub timezone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDeleted {
    pub resource_id: ResourceId,
}

/// Opening hours of a resource (`None`: the global hours) replaced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessHoursUpdated {
    pub resource_id: Option<ResourceId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlackoutDatesUpdated {
    pub resource_id: Option<ResourceId>,
    pub blackout_id: i64,
    pub date: String,
    /// `added` or `deleted`.
    pub action: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagRenamed {
    pub old_name: String,
    pub new_name: String,
    pub updated_count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagDeleted {
    pub name: String,
    pub updated_count: usize,
}

/// A resource group `"created"`, `"updated"` or `"deleted"` (with `cascade`, its subgroups
/// too: one event each).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceGroupChanged {
    pub group_id: i64,
    pub action: String,
    pub name: String,
    pub parent_id: Option<i64>,
}

/// Where a resource now sits: its group and its parent resource (either may be null).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceHierarchyChanged {
    pub resource_id: ResourceId,
    pub group_id: Option<i64>,
    pub parent_id: Option<ResourceId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserCreated {
    pub user_id: UserId,
    pub username: String,
}

/// Sign-ins of a user revoked: all of them, or the one named `session_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInRevoked {
    pub user_id: UserId,
    pub session_id: Option<String>,
}

/// A resource's waitlist gained or lost an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitlistChanged {
    pub resource_id: ResourceId,
}

/// A field that is either absent or present, possibly `null` (`Some(None)`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}
