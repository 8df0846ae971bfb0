//! Who may see a reservation: its owner, or a role that reads anyone's. To anyone else it does
//! not exist (404), so ids cannot be probed.

use crate::auth::{Permission, Principal, authorize_owner};
use crate::error::ApiError;
use crate::reservations::queries::{self, ReservationRecord};
use crate::storage::Db;

pub fn not_found() -> ApiError {
    ApiError::NotFound("Reservation not found".into())
}

/// The reservation, if the caller may see it.
pub async fn visible(db: &Db, principal: &Principal, id: i64) -> Result<ReservationRecord, ApiError> {
    let record = queries::record(db, id).await?.ok_or_else(not_found)?;
    authorize_owner(principal, record.user_id, Permission::ReservationReadAny, not_found())?;
    Ok(record)
}
