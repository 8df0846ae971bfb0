//! What a calendar shows: which reservations a feed holds, and each one as a `VEVENT`
//! (the content `/api/v1` calendars show).

use chrono::{DateTime, Duration, Utc};
use reserver_actors::resource::ReservationStatus;

use super::ical::ICalendar;
use crate::reservations::queries::Scheduled;

/// Statuses a feed shows: bookings (`active`), requests waiting for approval (as TENTATIVE),
/// and bookings that took place (`expired`), so that past events stay in the calendar for
/// `days_back` days. Cancelled, rejected, released (no-show) and held slots are left out.
pub const FEED_STATUSES: &[ReservationStatus] = &[
    ReservationStatus::Active,
    ReservationStatus::PendingApproval,
    ReservationStatus::Expired,
];

/// The span of a feed around now: reservations starting from `days_back` days ago to
/// `days_ahead` days ahead (both ends included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    days_back: i64,
    days_ahead: i64,
}

/// Which query parameter is out of its range, the value and the range (for the 422).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfRange {
    pub name: &'static str,
    pub value: i64,
    pub min: i64,
    pub max: i64,
}

impl Window {
    pub const DEFAULT_DAYS_BACK: i64 = 30;
    pub const DEFAULT_DAYS_AHEAD: i64 = 90;

    /// `days_back` in 0..=365, `days_ahead` in 1..=365 (the wire format's bounds).
    pub fn new(days_back: i64, days_ahead: i64) -> Result<Window, OutOfRange> {
        let check = |name, value, min, max| {
            if (min..=max).contains(&value) {
                Ok(value)
            } else {
                Err(OutOfRange { name, value, min, max })
            }
        };
        Ok(Window {
            days_back: check("days_back", days_back, 0, 365)?,
            days_ahead: check("days_ahead", days_ahead, 1, 365)?,
        })
    }

    /// The first and last start times the window admits, seen from `now`.
    pub fn bounds(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            now - Duration::days(self.days_back),
            now + Duration::days(self.days_ahead),
        )
    }
}

/// A subscribed feed (named `Resource Reserver` in calendar apps) or one exported reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Feed,
    Single,
}

/// The `VCALENDAR` holding `reservations`, stamped `now`.
pub fn render(kind: Kind, reservations: &[Scheduled], now: DateTime<Utc>) -> String {
    let mut ical = ICalendar::new();
    ical.component("VCALENDAR", |cal| {
        cal.constant("PRODID", "-//Resource-Reserver//EN")
            .constant("VERSION", "2.0")
            .constant("CALSCALE", "GREGORIAN")
            .constant("METHOD", "PUBLISH");
        if kind == Kind::Feed {
            cal.constant("X-WR-CALNAME", "Resource Reserver");
        }
        for reservation in reservations {
            event(cal, reservation, now);
        }
    });
    ical.finish()
}

fn event(cal: &mut ICalendar, reservation: &Scheduled, now: DateTime<Utc>) {
    let name = &reservation.resource.name;
    let mut description = format!("Reserved by {}\nReservation ID: #{}", reservation.owner, reservation.id);
    if !reservation.resource.tags.is_empty() {
        description.push_str(&format!("\nTags: {}", reservation.resource.tags.join(", ")));
    }
    cal.component("VEVENT", |event| {
        event
            .text("UID", &format!("reservation-{}@resource-reserver", reservation.id))
            .utc("DTSTART", reservation.start_time)
            .utc("DTEND", reservation.end_time)
            .utc("DTSTAMP", now)
            .text("SUMMARY", &format!("{name} Reservation"))
            .text("DESCRIPTION", &description)
            .text("LOCATION", name)
            .constant("STATUS", status(reservation.status))
            .utc("CREATED", reservation.created_at);
    });
}

/// RFC 5545 event status of a reservation status.
fn status(reservation_status: ReservationStatus) -> &'static str {
    match reservation_status {
        ReservationStatus::PendingApproval | ReservationStatus::Held => "TENTATIVE",
        ReservationStatus::Cancelled | ReservationStatus::Rejected | ReservationStatus::Released => "CANCELLED",
        // It took place, or will.
        ReservationStatus::Active | ReservationStatus::Expired => "CONFIRMED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_keep_the_originals_bounds() {
        assert!(Window::new(0, 1).is_ok());
        assert!(Window::new(365, 365).is_ok());
        assert_eq!(Window::new(-1, 90).unwrap_err().name, "days_back");
        assert_eq!(Window::new(366, 90).unwrap_err().max, 365);
        assert_eq!(Window::new(30, 0).unwrap_err().min, 1);
        assert_eq!(Window::new(30, 366).unwrap_err().name, "days_ahead");
    }

    #[test]
    fn statuses_map_to_event_statuses() {
        assert_eq!(status(ReservationStatus::Active), "CONFIRMED");
        assert_eq!(status(ReservationStatus::Expired), "CONFIRMED");
        assert_eq!(status(ReservationStatus::PendingApproval), "TENTATIVE");
        assert_eq!(status(ReservationStatus::Cancelled), "CANCELLED");
        assert_eq!(status(ReservationStatus::Rejected), "CANCELLED");
    }
}
