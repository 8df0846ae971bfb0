//! Reading a reservation's status from a row: through [`ReservationStatus`], so a status the
//! server does not know is a decoding error (a server fault, 500) rather than a guess.

use reserver_actors::resource::ReservationStatus;

use crate::storage::{Row, StorageError};

/// The status in `column` of `row`.
pub fn status(row: &Row, column: &str) -> Result<ReservationStatus, StorageError> {
    row.get::<String>(column)?
        .parse()
        .map_err(|unknown: reserver_actors::resource::UnknownStatus| StorageError::Decode(unknown.to_string()))
}
