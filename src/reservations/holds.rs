//! Reading a user's open holds: reservations in `held` status that are not waitlist offers
//! (an offer is a hold too, but belongs to the waitlist). Placing, confirming and releasing a
//! hold go through the resource's actor.

use chrono::{DateTime, Utc};
use reserver_actors::resource::ReservationStatus;

use crate::params;
use crate::storage::{Db, StorageError};

/// A hold as its owner lists it.
#[derive(Debug, Clone)]
pub struct OpenHold {
    pub id: i64,
    pub resource_id: i64,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// How many open holds `user_id` has.
pub async fn count_of(db: &Db, user_id: i64) -> Result<i64, StorageError> {
    db.query_one(
        "SELECT COUNT(*) AS n FROM reservations r WHERE r.user_id = $1 AND r.status = $2
           AND NOT EXISTS (SELECT 1 FROM waitlist w WHERE w.offered_reservation_id = r.id)",
        params![user_id, ReservationStatus::Held.as_str()],
    )
    .await?
    .get("n")
}

/// `user_id`'s open holds, the soonest to lapse first.
pub async fn of_user(db: &Db, user_id: i64) -> Result<Vec<OpenHold>, StorageError> {
    db.query(
        "SELECT r.id, r.resource_id, r.start_time, r.end_time, r.hold_expires_at FROM reservations r
         WHERE r.user_id = $1 AND r.status = $2
           AND NOT EXISTS (SELECT 1 FROM waitlist w WHERE w.offered_reservation_id = r.id)
         ORDER BY r.hold_expires_at",
        params![user_id, ReservationStatus::Held.as_str()],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(OpenHold {
            id: row.get("id")?,
            resource_id: row.get("resource_id")?,
            start_time: row.get("start_time")?,
            end_time: row.get("end_time")?,
            expires_at: row.get("hold_expires_at")?,
        })
    })
    .collect()
}
