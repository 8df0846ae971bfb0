//! What an event writes besides its outbox row, in the same transaction: the in-app
//! notifications of the users it concerns, the e-mails they get (when `mail`, i.e.
//! `EMAIL_ENABLED`), and the webhook deliveries it gives. Being derived
//! from the events, it follows every path that changes state, and exists if and only if the
//! change committed.

use chrono::{DateTime, Utc};

use super::NewEvent;
use crate::notifications;
use crate::storage::{StorageError, Transaction};

pub async fn record(
    tx: &mut Box<dyn Transaction>,
    events: &[NewEvent],
    now: DateTime<Utc>,
    mail: bool,
) -> Result<(), StorageError> {
    for event in events {
        if let Some((user, notice)) = notifications::project(tx, event, now).await?
            && mail
        {
            crate::email::project::project(tx, event, user, &notice, now).await?;
        }
    }
    crate::webhooks::project::project(tx, events, now).await
}
