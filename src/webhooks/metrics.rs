//! Webhook metrics, registered on the server's Prometheus registry.

use prometheus::IntCounter;
use reserver_actors::webhook::Attempt;

use crate::metrics::Metrics;

#[derive(Clone)]
pub struct WebhookMetrics {
    pub sent: IntCounter,
    pub failed: IntCounter,
}

impl WebhookMetrics {
    pub fn register(metrics: &Metrics) -> WebhookMetrics {
        let webhook_metrics = WebhookMetrics {
            sent: IntCounter::new(
                "webhook_deliveries_sent_total",
                "Webhook delivery attempts their receiver accepted (2xx)",
            )
            .expect("valid metric"),
            failed: IntCounter::new(
                "webhook_deliveries_failed_total",
                "Webhook delivery attempts that failed (refused address, network error, timeout, non-2xx answer)",
            )
            .expect("valid metric"),
        };
        metrics.register(Box::new(webhook_metrics.sent.clone()));
        metrics.register(Box::new(webhook_metrics.failed.clone()));
        webhook_metrics
    }

    pub fn count(&self, attempt: &Attempt) {
        match attempt {
            Attempt::Delivered { .. } => self.sent.inc(),
            Attempt::Failed { .. } => self.failed.inc(),
        }
    }
}
