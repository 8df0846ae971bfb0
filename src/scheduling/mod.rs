//! The bridge between the HTTP layer and the resource actors: the SQL [`store::SqlScheduleStore`]
//! the actors persist through (the SQL of a change in `apply`; the batches of many actors share
//! one transaction and one commit, each in its savepoint, see [`group_commit`]), and the mapping
//! of their errors to HTTP.
//!
//! Every change to a resource's schedule or state goes through its actor. The only writes made
//! outside an actor (renaming or deleting a tag across resources, importing new resources from CSV)
//! are followed by `ResourceSupervisor::refresh` of the actors concerned, so their caches reload.

mod apply;
pub mod group_commit;
pub mod store;

use std::sync::Arc;

use reserver_actors::resource::{ScheduleError, UserRef};

use crate::auth::Principal;
use crate::error::ApiError;

/// The caller, as the actors know users.
pub fn user_ref(principal: &Principal) -> UserRef {
    UserRef {
        id: principal.user_id,
        name: Arc::from(principal.username.as_str()),
    }
}

impl From<ScheduleError> for ApiError {
    fn from(error: ScheduleError) -> Self {
        let message = error.to_string();
        match error {
            ScheduleError::StartInPast => ApiError::invalid(&["body", "start_time"], message, serde_json::Value::Null),
            ScheduleError::Recurrence(_) => {
                ApiError::invalid(&["body", "recurrence"], message, serde_json::Value::Null)
            }
            ScheduleError::TooShort { .. } => ApiError::invalid(&["body"], message, serde_json::Value::Null),
            ScheduleError::TooLong { .. }
            | ScheduleError::ResourceDisabled
            | ScheduleError::AlreadyCancelled
            | ScheduleError::NotActive
            | ScheduleError::AlreadyEnded
            | ScheduleError::AlreadyStarted
            | ScheduleError::AlreadyOnWaitlist
            | ScheduleError::NoOffer
            | ScheduleError::CheckInNotRequired
            | ScheduleError::CheckInNotOpen(_)
            | ScheduleError::AlreadyCheckedIn
            | ScheduleError::NoApprover
            | ScheduleError::NotPending => ApiError::BadRequest(message),
            ScheduleError::OfferExpired | ScheduleError::HoldExpired | ScheduleError::CheckInClosed => {
                ApiError::Gone(message)
            }
            ScheduleError::Conflict { .. }
            | ScheduleError::ConflictFoundByStore
            | ScheduleError::BatchConflict
            | ScheduleError::UnderMaintenance
            | ScheduleError::NotOpen(_)
            | ScheduleError::NothingToBook
            | ScheduleError::DuplicateName(_)
            | ScheduleError::HasUpcomingReservations(_)
            // Planned on this node's stale copy of a row another node changed: the actor has
            // reloaded, so a retry gets the answer the stored state gives.
            | ScheduleError::Stale(_) => ApiError::Conflict(message),
            ScheduleError::SeriesConflict { occurrences } => ApiError::ConflictWith {
                detail: message,
                conflicts: occurrences
                    .iter()
                    .map(|refused| {
                        serde_json::json!({
                            "start_time": crate::wire::time::utc(refused.interval.start()),
                            "end_time": crate::wire::time::utc(refused.interval.end()),
                            "reason": refused.reason.as_str(),
                        })
                    })
                    .collect(),
            },
            ScheduleError::ResourceNotFound
            | ScheduleError::ReservationNotFound
            | ScheduleError::WaitlistEntryNotFound
            | ScheduleError::HoldNotFound => ApiError::NotFound(message),
            ScheduleError::Unavailable(why) => ApiError::Unavailable(why),
            ScheduleError::Store(why) => ApiError::Internal(why),
        }
    }
}
