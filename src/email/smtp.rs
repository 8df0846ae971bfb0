//! The SMTP side of the mail sender: one lettre transport per process, and the counters of
//! attempts.
//!
//! TLS is rustls on ring (no OpenSSL); plain SMTP only when both `SMTP_TLS` and `SMTP_SSL` are
//! off. lettre's `is_permanent` (a 5xx answer) decides between a permanent failure and one that is
//! retried.

use std::time::Duration;

use futures::future::BoxFuture;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use prometheus::IntCounter;
use reserver_actors::mail::{Attempt, MailTransport, Outgoing};

use super::EmailSettings;
use crate::metrics::Metrics;

/// Longest SMTP exchange (connecting, every command and the message).
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct MailMetrics {
    pub sent: IntCounter,
    pub failed: IntCounter,
}

impl MailMetrics {
    /// Registered whether or not e-mail is enabled, so dashboards see zeros rather than gaps.
    pub fn register(metrics: &Metrics) -> MailMetrics {
        let mail_metrics = MailMetrics {
            sent: IntCounter::new("emails_sent_total", "E-mail messages the SMTP server accepted")
                .expect("valid metric"),
            failed: IntCounter::new(
                "emails_failed_total",
                "E-mail send attempts that failed (no connection, timeout, 4xx or 5xx answer, bad address)",
            )
            .expect("valid metric"),
        };
        metrics.register(Box::new(mail_metrics.sent.clone()));
        metrics.register(Box::new(mail_metrics.failed.clone()));
        mail_metrics
    }
}

pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    metrics: MailMetrics,
}

impl SmtpSender {
    pub fn new(settings: &EmailSettings, metrics: MailMetrics) -> Result<SmtpSender, String> {
        let host = settings.smtp_host.as_str();
        let builder = if settings.implicit_tls {
            AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|e| e.to_string())?
        } else if settings.starttls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(|e| e.to_string())?
        } else {
            // SMTP_TLS=false and SMTP_SSL=false: plain SMTP, as asked (a local relay, tests).
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        };
        let mut builder = builder.port(settings.smtp_port).timeout(Some(TIMEOUT));
        if let (Some(user), Some(password)) = (&settings.smtp_user, &settings.smtp_password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let address = settings
            .from_address
            .parse()
            .map_err(|e| format!("SMTP_FROM is not a usable address: {e}"))?;
        Ok(SmtpSender {
            transport: builder.build(),
            from: Mailbox::new(Some(settings.from_name.clone()), address),
            metrics,
        })
    }

    /// How long a claim keeps other processes off a message: a whole batch of attempts.
    pub fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(TIMEOUT * 10).unwrap_or(chrono::Duration::MAX)
    }
}

impl MailTransport for SmtpSender {
    fn send(&self, message: &Outgoing) -> BoxFuture<'static, Attempt> {
        let (transport, metrics) = (self.transport.clone(), self.metrics.clone());
        let built = message
            .recipient
            .parse::<Mailbox>()
            .map_err(|e| Attempt::Permanent(format!("bad recipient address: {e}")))
            .and_then(|to| {
                Message::builder()
                    .from(self.from.clone())
                    .to(to)
                    .subject(message.subject.clone())
                    .header(ContentType::TEXT_PLAIN)
                    .body(message.body.clone())
                    .map_err(|e| Attempt::Permanent(format!("cannot build the message: {e}")))
            });
        Box::pin(async move {
            let attempt = match built {
                Err(refused) => refused,
                Ok(email) => match transport.send(email).await {
                    Ok(_) => Attempt::Sent,
                    Err(error) if error.is_permanent() => Attempt::Permanent(error.to_string()),
                    Err(error) => Attempt::Transient(error.to_string()),
                },
            };
            match attempt {
                Attempt::Sent => metrics.sent.inc(),
                _ => metrics.failed.inc(),
            }
            attempt
        })
    }
}
