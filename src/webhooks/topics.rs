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

use crate::auth::Permission;
use crate::events::{Event, NewEvent};

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

/// The webhook event of a server event, if it has one.
fn topic_of(event: &Event) -> Option<(&'static str, Reach)> {
    use Permission::{ReservationReadAny, UserAdmin, WaitlistManageAny};
    let reservations = Reach::SubjectOr(ReservationReadAny);
    let waitlists = Reach::SubjectOr(WaitlistManageAny);
    Some(match event {
        Event::ReservationCreated(_) => ("reservation.created", reservations),
        Event::ReservationCancelled(_) | Event::ReservationReleased(_) | Event::ReservationRejected(_) => {
            ("reservation.cancelled", reservations)
        }
        Event::ReservationUpdated(_) | Event::ReservationApproved(_) | Event::ReservationCheckedIn(_) => {
            ("reservation.updated", reservations)
        }
        Event::ReservationExpired(_) => ("reservation.expired", reservations),
        Event::ResourceCreated(_) => ("resource.created", Reach::Everyone),
        Event::ResourceUpdated(_) => ("resource.updated", Reach::Everyone),
        Event::ResourceDeleted(_) => ("resource.deleted", Reach::Everyone),
        Event::ResourceStatusChanged(changed) if changed.is_unavailable() => ("resource.unavailable", Reach::Everyone),
        Event::ResourceStatusChanged(_) => ("resource.available", Reach::Everyone),
        Event::UserCreated(_) => ("user.created", Reach::SubjectOr(UserAdmin)),
        Event::WaitlistOffer(_) => ("waitlist.offer", waitlists),
        Event::WaitlistAccepted(_) => ("waitlist.accepted", waitlists),
        Event::WaitlistOfferExpired(_) => ("waitlist.expired", waitlists),
        Event::HoldCreated(_)
        | Event::HoldExpired(_)
        | Event::HoldReleased(_)
        | Event::ApprovalRequest(_)
        | Event::BusinessHoursUpdated(_)
        | Event::BlackoutDatesUpdated(_)
        | Event::TagRenamed(_)
        | Event::TagDeleted(_)
        | Event::ResourceGroupChanged(_)
        | Event::ResourceHierarchyChanged(_)
        | Event::SignInRevoked(_)
        | Event::WaitlistChanged(_) => return None,
    })
}

/// Whether `event` is announced to webhooks (the dispatcher is woken for it).
pub fn is_announced(event: &Event) -> bool {
    topic_of(event).is_some()
}

/// `event` as a webhook event, if it is one.
pub fn announcement(event: &NewEvent) -> Option<Announcement> {
    let (topic, reach) = topic_of(&event.event)?;
    Some(Announcement {
        topic,
        subject: event.audience.user,
        reach,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::event::ReservationRef;
    use chrono::TimeZone;
    use reserver_actors::domain::Interval;
    use reserver_actors::resource::ResourceInfo;

    fn booking() -> ReservationRef {
        let start = chrono::Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
        ReservationRef {
            id: 1,
            resource: 1,
            owner: 7,
            interval: Interval::new(start, start + chrono::Duration::hours(1)).unwrap(),
        }
    }

    fn resource() -> ResourceInfo {
        ResourceInfo {
            id: 1,
            name: "Room".into(),
            description: None,
            tags: vec![],
            enabled: true,
            maintenance: None,
            timezone: chrono_tz::UTC,
            created_at: chrono::DateTime::UNIX_EPOCH,
            approver: None,
            requires_approval: false,
            checkin_window: None,
        }
    }

    #[test]
    fn every_announced_event_has_a_known_name() {
        let r = booking();
        let now = chrono::DateTime::UNIX_EPOCH;
        let announced = [
            NewEvent::reservation_created(&r),
            NewEvent::reservation_cancelled(&r, now),
            NewEvent::reservation_released(&r, now, None),
            NewEvent::approval_answer(false, &r, None, "Room", None),
            NewEvent::reservation_updated(&r, r.interval, "active"),
            NewEvent::approval_answer(true, &r, None, "Room", None),
            NewEvent::reservation_checked_in(&r, now),
            NewEvent::reservation_expired(&r, now),
            NewEvent::resource_created(1, "Room", None, &[], true, "UTC"),
            NewEvent::resource_updated(&resource()),
            NewEvent::resource_deleted(1),
            NewEvent::resource_status_changed(&resource(), "unavailable", false),
            NewEvent::resource_status_changed(&resource(), "in_use", false),
            NewEvent::user_created(7, "bob"),
            NewEvent::waitlist_offer(1, 7, &r, "Room", now),
            NewEvent::waitlist_accepted(1, 7, 1, None),
            NewEvent::waitlist_offer_expired(1, 7, 1),
        ];
        let mut named: Vec<&str> = announced
            .iter()
            .map(|event| announcement(event).expect("announced").topic)
            .collect();
        named.sort_unstable();
        named.dedup();
        assert!(named.iter().all(|name| is_known(name)));
        assert_eq!(named.len(), TOPICS.len(), "every name is produced by some event");
        assert_eq!(announcement(&NewEvent::hold_created(&r, now)), None);
    }

    #[test]
    fn events_about_a_user_reach_that_user_or_those_who_see_everyones() {
        let booked = announcement(&NewEvent::reservation_created(&booking())).unwrap();
        assert!(booked.reaches(7, |_| false));
        assert!(!booked.reaches(8, |_| false));
        assert!(booked.reaches(8, |p| p == Permission::ReservationReadAny));
        assert!(!booked.reaches(8, |p| p == Permission::UserAdmin));
        let created = announcement(&NewEvent::resource_created(1, "Room", None, &[], true, "UTC")).unwrap();
        assert!(created.reaches(8, |_| false));
    }
}
