//! Whose name a caller may see on someone's booking (`RESERVATION_NAMES_VISIBLE`).
//!
//! Invariant: every answer that says who booked a slot — the user id and username of each
//! booking in a resource's schedule, the holder of the booking in progress in resource lists,
//! searches and status — asks [`Viewer::sees`] first and sends `null` in those fields otherwise
//! (the field names stay, so clients keep parsing). Anonymous callers see busy intervals only.
//! Signed-in callers see everyone's names (`signed_in`, the default, as offices expect) or, with
//! `privileged`, only their own unless they hold `reservation:read_any`. Reservation events on
//! `/ws` carry no names at all (`crate::events::event`).

use crate::auth::{Permission, Principal};

/// Who may see others' names on bookings, besides holders of `reservation:read_any`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NamesVisible {
    /// Every signed-in user.
    #[default]
    SignedIn,
    /// Nobody else.
    Privileged,
}

impl NamesVisible {
    pub fn parse(raw: &str) -> Result<NamesVisible, String> {
        match raw.to_ascii_lowercase().as_str() {
            "signed_in" => Ok(NamesVisible::SignedIn),
            "privileged" => Ok(NamesVisible::Privileged),
            _ => Err("expected signed_in or privileged".into()),
        }
    }
}

/// The caller of a read, as far as names on bookings go.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    /// The signed-in caller's id and username; `None` for an anonymous caller.
    user: Option<(i64, String)>,
    sees_everyone: bool,
}

impl Viewer {
    pub fn anonymous() -> Viewer {
        Viewer::default()
    }

    pub fn of(principal: &Principal, setting: NamesVisible) -> Viewer {
        Viewer {
            user: Some((principal.user_id, principal.username.clone())),
            sees_everyone: setting == NamesVisible::SignedIn || principal.can(Permission::ReservationReadAny),
        }
    }

    /// Whether the caller may see who owns a booking of `owner`: always their own.
    pub fn sees(&self, owner: i64) -> bool {
        self.sees_everyone || self.user.as_ref().is_some_and(|(id, _)| *id == owner)
    }

    /// [`sees`](Viewer::sees) for reads that know the owner by username (unique) only.
    pub fn sees_named(&self, owner: &str) -> bool {
        self.sees_everyone || self.user.as_ref().is_some_and(|(_, name)| name == owner)
    }

    /// Which names this caller sees, as a key: two callers with the same key are shown the
    /// same names (for caches of answers that show them).
    pub fn names_key(&self) -> NamesKey {
        if self.sees_everyone {
            NamesKey::Everyone
        } else {
            NamesKey::Own(self.user.as_ref().map(|(_, name)| name.clone()))
        }
    }
}

/// Whose names on bookings a caller sees ([`Viewer::names_key`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NamesKey {
    Everyone,
    /// Only their own (the username; `None`: anonymous, no one's).
    Own(Option<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_callers_see_no_owner() {
        let anonymous = Viewer::anonymous();
        assert!(!anonymous.sees(1) && !anonymous.sees_named("bob"));
    }
}
