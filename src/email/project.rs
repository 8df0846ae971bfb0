//! The messages an event gives, written in the change's transaction (so a message exists iff
//! its change committed). They are the in-app notice of the event (`notifications`) mailed to
//! the user it concerns — a reservation's owner, whoever made the change — and only when that
//! user has a verified address and keeps `email_notifications` on.

use chrono::{DateTime, Utc};

use crate::events::Event;
use crate::notifications::Notice;
use crate::params;
use crate::storage::{StorageError, Transaction};

/// Whether `event` is worth an e-mail: bookings made, cancelled, offered, approved or rejected
/// (the sender is woken after they commit).
pub fn is_mailed(event: &Event) -> bool {
    match event {
        Event::ReservationCreated(_)
        | Event::ReservationCancelled(_)
        | Event::WaitlistOffer(_)
        | Event::ReservationApproved(_)
        | Event::ReservationRejected(_) => true,
        Event::ReservationUpdated(_)
        | Event::ReservationExpired(_)
        | Event::ReservationReleased(_)
        | Event::ReservationCheckedIn(_)
        | Event::HoldCreated(_)
        | Event::HoldExpired(_)
        | Event::HoldReleased(_)
        | Event::ApprovalRequest(_)
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
        | Event::WaitlistChanged(_) => false,
    }
}

/// Enqueues the e-mail `event` gives `user`, told by `notice`, if any.
pub async fn project(
    tx: &mut Box<dyn Transaction>,
    event: &Event,
    user: i64,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    if !is_mailed(event) {
        return Ok(());
    }
    let address = tx
        .query_opt(
            "SELECT email FROM users
             WHERE id = $1 AND email IS NOT NULL AND email_verified = $2 AND email_notifications = $2",
            params![user, true],
        )
        .await?;
    let Some(row) = address else { return Ok(()) };
    let recipient: String = row.get("email")?;
    super::store::enqueue(
        tx,
        &recipient,
        notice.title,
        &super::store::with_footer(&notice.message),
        now,
    )
    .await
}
