//! The thirteen webhook event names, and which of the server's events each one
//! announces (the live-update events of [`crate::events::event`]).
//!
//! | webhook event | announces |
//! |---|---|
//! | `reservation.created` | `reservation_created` (bookings, series occurrences, requests pending approval, confirmed holds, accepted offers) |
//! | `reservation.cancelled` | `reservation_cancelled`, `reservation_released` (no check-in), `reservation_rejected` |
//! | `reservation.updated` | `reservation_updated` (moved), `reservation_approved`, `reservation_checked_in` |
//! | `reservation.expired` | `reservation_expired` |
//! | `resource.created` / `.updated` / `.deleted` | `resource_created` / `resource_updated` / `resource_deleted` |
//! | `resource.unavailable` / `.available` | `resource_status_changed`, by its new status |
//! | `user.created` | `user_created` |
//! | `waitlist.offer` / `.accepted` / `.expired` | `waitlist_offer` / `waitlist_accepted` / `waitlist_offer_expired` |
//!
//! Holds, approval requests and tag changes have no webhook event.
//!
//! Who receives what: an event about a user (a reservation's owner, a waitlist entry's user)
//! reaches that user's webhooks and those of owners whose roles let them see everyone's (the
//! "any" permission below); a new account reaches owners who manage users; resource events
//! reach every subscriber.

use reserver_actors::resource::UserId;
use serde_json::Value;

use crate::auth::Permission;
use crate::events::NewEvent;

pub struct Topic {
    pub name: &'static str,
    pub description: &'static str,
}

pub const DEFAULT_TEST_TOPIC: &str = "resource.created";

pub const TOPICS: [Topic; 13] = [
    topic("reservation.created", "A new reservation was created"),
    topic("reservation.cancelled", "A reservation was cancelled"),
    topic("reservation.updated", "A reservation was updated"),
    topic("reservation.expired", "A reservation expired"),
    topic("resource.created", "A new resource was created"),
    topic("resource.updated", "A resource was updated"),
    topic("resource.deleted", "A resource was deleted"),
    topic("resource.unavailable", "A resource became unavailable"),
    topic("resource.available", "A resource became available"),
    topic("user.created", "A new user was created"),
    topic("waitlist.offer", "A waitlist slot was offered"),
    topic("waitlist.accepted", "A waitlist offer was accepted"),
    topic("waitlist.expired", "A waitlist offer expired"),
];

const fn topic(name: &'static str, description: &'static str) -> Topic {
    Topic { name, description }
}

pub fn is_known(name: &str) -> bool {
    TOPICS.iter().any(|topic| topic.name == name)
}

/// Who receives a webhook event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every subscriber (resource events).
    Everyone,
    /// The user it is about, and owners holding this permission (who see everyone's).
    SubjectOr(Permission),
}

/// An event as a webhook event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announcement {
    pub topic: &'static str,
    /// The user the event is about, if any.
    pub subject: Option<UserId>,
    pub reach: Reach,
}

impl Announcement {
    /// Whether a webhook owned by `owner`, whose roles hold what `holds` says, receives it.
    pub fn reaches(&self, owner: UserId, holds: impl Fn(Permission) -> bool) -> bool {
        match self.reach {
            Reach::Everyone => true,
            Reach::SubjectOr(any) => self.subject == Some(owner) || holds(any),
        }
    }
}

/// The webhook event of a server event of `kind`, if it has one.
fn topic_of(kind: &str, payload: &Value) -> Option<(&'static str, Reach)> {
    use Permission::{ReservationReadAny, UserAdmin, WaitlistManageAny};
    let reservations = Reach::SubjectOr(ReservationReadAny);
    let waitlists = Reach::SubjectOr(WaitlistManageAny);
    Some(match kind {
        "reservation_created" => ("reservation.created", reservations),
        "reservation_cancelled" | "reservation_released" | "reservation_rejected" => {
            ("reservation.cancelled", reservations)
        }
        "reservation_updated" | "reservation_approved" | "reservation_checked_in" => {
            ("reservation.updated", reservations)
        }
        "reservation_expired" => ("reservation.expired", reservations),
        "resource_created" => ("resource.created", Reach::Everyone),
        "resource_updated" => ("resource.updated", Reach::Everyone),
        "resource_deleted" => ("resource.deleted", Reach::Everyone),
        "resource_status_changed" if payload["status"] == "unavailable" => ("resource.unavailable", Reach::Everyone),
        "resource_status_changed" => ("resource.available", Reach::Everyone),
        "user_created" => ("user.created", Reach::SubjectOr(UserAdmin)),
        "waitlist_offer" => ("waitlist.offer", waitlists),
        "waitlist_accepted" => ("waitlist.accepted", waitlists),
        "waitlist_offer_expired" => ("waitlist.expired", waitlists),
        _ => return None,
    })
}

/// Whether events of `kind` are announced to webhooks (the dispatcher is woken for them).
pub fn is_announced(kind: &str, payload: &Value) -> bool {
    topic_of(kind, payload).is_some()
}

/// `event` as a webhook event, if it is one.
pub fn announcement(event: &NewEvent) -> Option<Announcement> {
    let (topic, reach) = topic_of(event.kind, &event.payload)?;
    Some(Announcement {
        topic,
        subject: event.audience.user,
        reach,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reserver_actors::notifier::Audience;
    use serde_json::json;

    fn event(kind: &'static str, audience: Audience, payload: Value) -> NewEvent {
        NewEvent {
            kind,
            audience,
            payload,
        }
    }

    #[test]
    fn every_announced_event_has_a_known_name() {
        let kinds = [
            "reservation_created",
            "reservation_cancelled",
            "reservation_released",
            "reservation_rejected",
            "reservation_updated",
            "reservation_approved",
            "reservation_checked_in",
            "reservation_expired",
            "resource_created",
            "resource_updated",
            "resource_deleted",
            "resource_status_changed",
            "user_created",
            "waitlist_offer",
            "waitlist_accepted",
            "waitlist_offer_expired",
        ];
        let mut named: Vec<&str> = kinds
            .iter()
            .filter_map(|kind| topic_of(kind, &json!({"status": "unavailable"})))
            .map(|(topic, _)| topic)
            .chain(topic_of("resource_status_changed", &json!({"status": "in_use"})).map(|(t, _)| t))
            .collect();
        named.sort_unstable();
        named.dedup();
        assert!(named.iter().all(|name| is_known(name)));
        assert_eq!(named.len(), TOPICS.len(), "every name is produced by some event");
        assert_eq!(topic_of("hold_created", &json!({})), None);
    }

    #[test]
    fn events_about_a_user_reach_that_user_or_those_who_see_everyones() {
        let owned = Audience {
            user: Some(7),
            resource: Some(1),
            everyone: false,
            availability: true,
        };
        let booked = announcement(&event("reservation_created", owned, json!({}))).unwrap();
        assert!(booked.reaches(7, |_| false));
        assert!(!booked.reaches(8, |_| false));
        assert!(booked.reaches(8, |p| p == Permission::ReservationReadAny));
        assert!(!booked.reaches(8, |p| p == Permission::UserAdmin));
        let everyone = Audience {
            everyone: true,
            ..Audience::default()
        };
        let created = announcement(&event("resource_created", everyone, json!({}))).unwrap();
        assert!(created.reaches(8, |_| false));
    }
}
