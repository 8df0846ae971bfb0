//! The messages an event gives, written in the change's transaction (so a message exists iff
//! its change committed). They are the in-app notice of the event (`notifications`) mailed to
//! the user it concerns — a reservation's owner, whoever made the change — and only when that
//! user has a verified address and keeps `email_notifications` on.

use chrono::{DateTime, Utc};

use crate::events::NewEvent;
use crate::notifications::Notice;
use crate::params;
use crate::storage::{StorageError, Transaction};

/// The events worth an e-mail: bookings made, cancelled, offered, approved or rejected.
const MAILED: &[&str] = &[
    "reservation_created",
    "reservation_cancelled",
    "waitlist_offer",
    "reservation_approved",
    "reservation_rejected",
];

/// `text` with the note that tells how to stop these messages.
pub fn with_footer(text: &str) -> String {
    format!(
        "{text}\n\n--\nYou receive this because e-mail notifications are on for your account. Switch them off \
         with PATCH /api/v1/users/me/preferences {{\"email_notifications\": false}}."
    )
}

/// Whether events of `kind` give e-mail (the sender is woken after they commit).
pub fn is_mailed(kind: &str) -> bool {
    MAILED.contains(&kind)
}

/// Enqueues the e-mail `event` gives `user`, told by `notice`, if any.
pub async fn project(
    tx: &mut Box<dyn Transaction>,
    event: &NewEvent,
    user: i64,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    if !is_mailed(event.kind) {
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
    super::store::enqueue(tx, &recipient, notice.title, &with_footer(&notice.message), now).await
}
