//! What an event writes besides its outbox row, in the same transaction: the in-app
//! notifications of the users it concerns, and the webhook deliveries it gives. Being derived
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
) -> Result<(), StorageError> {
    for event in events {
        notifications::project(tx, event, now).await?;
    }
    crate::webhooks::project::project(tx, events, now).await
}
