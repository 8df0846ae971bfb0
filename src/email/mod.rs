//! E-mail: verified addresses, and messages written to an outbox in the transaction of the
//! change they tell of, sent after commit over SMTP.
//!
//! ```text
//! change's tx ─EventWriter─▶ projections ─▶ project.rs: email_outbox (pending)   (verification: verify.rs)
//!    └─ commit ─▶ tailer ─projections─wake─▶ MailSender ─claim─▶ SmtpSender ─SMTP─▶ mail server
//!                                             └─ one timer at the next due message (retries, lost claims)
//! ```
//!
//! - [`verify`]: setting an address (a one-time code is mailed; only its hash is kept) and
//!   proving it.
//! - [`project`]: the messages an event gives — only to a verified address whose owner keeps
//!   `email_notifications` on.
//! - [`store`]: the outbox (enqueue in a transaction; the sender's atomic claims; the footer of
//!   notices).
//! - [`verification_code`]: a verification message's code, drawn when the message is claimed.
//! - [`smtp`]: the lettre transport, which tells transient failures from permanent ones, and
//!   the counters of attempts.
//!
//! With `EMAIL_ENABLED=false` nothing is written to the outbox and no sender runs.

pub mod project;
pub mod smtp;
pub mod store;
pub mod verification_code;
pub mod verify;

use std::sync::{Arc, Mutex};

use actix::prelude::*;
use reserver_actors::Clock;
use reserver_actors::mail::{MailSender, WakeMailer};

use crate::metrics::Metrics;
use crate::storage::Db;

/// How e-mail is sent (`EMAIL_ENABLED`, `SMTP_*`, …), as the configuration gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSettings {
    pub enabled: bool,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_user: Option<String>,
    pub smtp_password: Option<String>,
    pub from_address: String,
    pub from_name: String,
    pub starttls: bool,
    pub implicit_tls: bool,
    /// Verification messages one account may ask for per hour.
    pub verifications_per_user: u32,
    /// Verification messages to one address per hour.
    pub verifications_per_recipient: u32,
}

/// The e-mail machinery of one server: the sender on its own thread, when e-mail is enabled.
pub struct Email {
    sender: Option<Addr<MailSender>>,
    arbiter: Mutex<Option<Arbiter>>,
}

impl Email {
    /// Starts the sender (when enabled), which at once sends what is due and arms its timer for
    /// the rest. Must be called inside a running actix System.
    pub fn start(
        db: Db,
        clock: Arc<dyn Clock>,
        settings: &EmailSettings,
        metrics: &Metrics,
    ) -> Result<Arc<Email>, String> {
        let counters = smtp::MailMetrics::register(metrics);
        if !settings.enabled {
            return Ok(Arc::new(Email {
                sender: None,
                arbiter: Mutex::new(None),
            }));
        }
        let transport = smtp::SmtpSender::new(settings, counters)?;
        let store = store::SqlMailStore::new(db);
        let lease = transport.lease();
        let arbiter = Arbiter::new();
        let sender = MailSender::start_in_arbiter(&arbiter.handle(), move |_| {
            MailSender::new(Arc::new(store), Arc::new(transport), clock, lease)
        });
        Ok(Arc::new(Email {
            sender: Some(sender),
            arbiter: Mutex::new(Some(arbiter)),
        }))
    }

    pub fn enabled(&self) -> bool {
        self.sender.is_some()
    }

    /// Messages may have been committed: the sender looks for due ones.
    pub fn wake(&self) {
        if let Some(sender) = &self.sender {
            sender.do_send(WakeMailer);
        }
    }

    pub fn stop(&self) {
        let arbiter = self.arbiter.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(arbiter) = arbiter {
            arbiter.stop();
        }
    }
}
