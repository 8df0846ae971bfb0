//! The bridge between the HTTP layer and the resource actors: the SQL [`store::SqlScheduleStore`]
//! the actors persist through, and the mapping of their errors to HTTP.

pub mod store;

use reserver_actors::resource::ScheduleError;

use crate::error::ApiError;

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
            | ScheduleError::AlreadyStarted => ApiError::BadRequest(message),
            ScheduleError::Conflict { .. }
            | ScheduleError::UnderMaintenance
            | ScheduleError::NothingToBook
            | ScheduleError::DuplicateName(_)
            | ScheduleError::HasUpcomingReservations(_) => ApiError::Conflict(message),
            ScheduleError::SeriesConflict { occurrences } => ApiError::ConflictWith {
                detail: message,
                conflicts: occurrences
                    .iter()
                    .map(|i| {
                        serde_json::json!({
                            "start_time": crate::reservations::model::utc(i.start()),
                            "end_time": crate::reservations::model::utc(i.end()),
                        })
                    })
                    .collect(),
            },
            ScheduleError::ResourceNotFound | ScheduleError::ReservationNotFound => ApiError::NotFound(message),
            ScheduleError::Unavailable(why) => ApiError::Unavailable(why),
            ScheduleError::Store(why) => ApiError::Internal(why),
        }
    }
}
