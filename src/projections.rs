//! What the server's events give besides themselves, handed to the
//! [`EventWriter`](crate::events::EventWriter) when the server is assembled: in the transaction
//! of each change, the in-app notices of the users its events concern ([`notifications`]), the
//! e-mail those notices give when `EMAIL_ENABLED` ([`crate::email::project`]) and the webhook
//! deliveries ([`crate::webhooks::project`]); after commit, the webhook dispatcher and the mail
//! sender are woken for the events they send (for another process's events, by a sweep a
//! moment later: see [`crate::events::tailer`]); last, the analytics rollups
//! ([`crate::analytics::rollup::project`]). Derived from the events, all of it follows every
//! path that changes state, and exists if and only if the change committed.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::email::Email;
use crate::events::{Event, NewEvent, Projection};
use crate::notifications;
use crate::storage::{StorageError, Transaction};
use crate::webhooks::Webhooks;

/// The notices, e-mails and webhook deliveries of events.
pub struct Projections {
    webhooks: Arc<Webhooks>,
    email: Arc<Email>,
    /// Whether notices are also mailed (`EMAIL_ENABLED`).
    mail: bool,
}

impl Projections {
    pub fn new(webhooks: Arc<Webhooks>, email: Arc<Email>, mail: bool) -> Projections {
        Projections { webhooks, email, mail }
    }
}

#[async_trait]
impl Projection for Projections {
    async fn record(
        &self,
        tx: &mut Box<dyn Transaction>,
        events: &[NewEvent],
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let notices = notifications::project(tx, events, now).await?;
        if self.mail {
            for (event, (user, notice)) in events.iter().zip(notices).filter_map(|(e, n)| Some((e, n?))) {
                crate::email::project::project(tx, &event.event, user, &notice, now).await?;
            }
        }
        crate::webhooks::project::project(tx, events, now).await?;
        crate::analytics::rollup::project(tx, events).await
    }

    fn committed(&self, events: &[&Event]) {
        if events.iter().any(|event| crate::webhooks::topics::is_announced(event)) {
            self.webhooks.wake();
        }
        if events.iter().any(|event| crate::email::project::is_mailed(event)) {
            self.email.wake();
        }
    }

    fn committed_elsewhere(&self) {
        self.webhooks.wake();
        self.email.wake();
    }
}
