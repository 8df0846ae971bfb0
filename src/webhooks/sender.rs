//! The HTTP side of deliveries: one signed `POST` per attempt, through a client that connects
//! only where [`AddressPolicy`] allows.
//!
//! The request: the stored body as is (`Content-Type: application/json`),
//! `X-Webhook-Signature`, `X-Webhook-Event`, `X-Webhook-Delivery`, `User-Agent:
//! ResourceReserver-Webhook/1.0`, plus `X-Webhook-Timestamp` and `X-Webhook-Signature-V2` (see
//! [`super::signature`]). Redirects are not followed (a 3xx is a failure), proxies from the
//! environment are not used (the guard must see the real destination), an attempt is bounded by
//! the configured timeout, and at most 1,000 characters of the answer are kept.

use std::error::Error as _;
use std::net::SocketAddr;
use std::sync::Arc;

use futures::future::BoxFuture;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::CONTENT_TYPE;
use reserver_actors::Clock;
use reserver_actors::webhook::{Attempt, Claimed, WebhookSender};

use super::WebhookConfig;
use super::address::AddressPolicy;
use super::metrics::WebhookMetrics;
use super::signature::{SIGNATURE_HEADER, SIGNATURE_V2_HEADER, TIMESTAMP_HEADER, signature, signature_v2};

pub const USER_AGENT: &str = "ResourceReserver-Webhook/1.0";
/// Longest answer kept, in characters (the column's size).
const RESPONSE_CHARS: usize = 1000;
/// Longest error message kept, in characters (the column's size).
const ERROR_CHARS: usize = 500;

/// Resolves host names, keeping only the addresses the policy allows: the check happens on
/// every connection, so a name cannot rebind to an internal address after registration.
struct GuardedResolver {
    policy: Arc<AddressPolicy>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(String);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed = policy.resolved(&host, found).map_err(Refused)?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[derive(Clone)]
pub struct HttpSender {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    clock: Arc<dyn Clock>,
    metrics: WebhookMetrics,
}

impl HttpSender {
    pub fn new(
        config: &WebhookConfig,
        clock: Arc<dyn Clock>,
        metrics: WebhookMetrics,
    ) -> Result<HttpSender, reqwest::Error> {
        // reqwest is built without a TLS provider of its own: install the process-wide one
        // (main does too; an embedding such as the tests may not have).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let policy = Arc::new(config.allowed.clone());
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .dns_resolver(GuardedResolver { policy: policy.clone() })
            .build()?;
        Ok(HttpSender {
            client,
            policy,
            clock,
            metrics,
        })
    }

    async fn attempt(&self, delivery: &Claimed) -> Attempt {
        let failed = |error: String| Attempt::Failed {
            status: None,
            body: None,
            error: truncate(&error, ERROR_CHARS),
        };
        let url = match reqwest::Url::parse(&delivery.url) {
            Ok(url) => url,
            Err(error) => return failed(format!("invalid URL: {error}")),
        };
        if let Err(refusal) = self.policy.check_url(&url) {
            return failed(refusal);
        }
        let body = delivery.body.as_bytes();
        let timestamp = self.clock.now().timestamp();
        let sent = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature(&delivery.secret.0, body))
            .header("X-Webhook-Event", delivery.event.as_str())
            .header("X-Webhook-Delivery", delivery.id.to_string())
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_V2_HEADER, signature_v2(&delivery.secret.0, timestamp, body))
            .body(delivery.body.clone())
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(error) => return failed(describe(&error)),
        };
        let status = response.status().as_u16();
        let answer = read_prefix(&mut response).await;
        if response.status().is_success() {
            Attempt::Delivered { status, body: answer }
        } else {
            Attempt::Failed {
                status: Some(status),
                body: Some(answer),
                error: format!("HTTP {status}"),
            }
        }
    }
}

impl WebhookSender for HttpSender {
    fn send(&self, delivery: &Claimed) -> BoxFuture<'static, Attempt> {
        let (sender, delivery) = (self.clone(), delivery.clone());
        Box::pin(async move {
            let attempt = sender.attempt(&delivery).await;
            sender.metrics.count(&attempt);
            attempt
        })
    }
}

/// The first characters of the answer, reading no more of it than needed.
async fn read_prefix(response: &mut reqwest::Response) -> String {
    let mut bytes = Vec::new();
    // A character is at most 4 bytes.
    while bytes.len() < RESPONSE_CHARS * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    truncate(&String::from_utf8_lossy(&bytes), RESPONSE_CHARS)
}

fn truncate(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

/// An HTTP error with its causes ("cannot connect: refused: … does not resolve to …"): reqwest's
/// own message names only the URL. No cause names an address a name resolved to (see
/// [`super::address`]).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut message = kind.to_owned();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use reserver_actors::SystemClock;
    use reserver_actors::webhook::Secret;

    fn delivery(url: &str) -> Claimed {
        Claimed {
            id: 1,
            claim: "c".into(),
            url: url.into(),
            secret: Secret("s".into()),
            event: "resource.created".into(),
            body: "{}".into(),
            failures: 0,
        }
    }

    #[tokio::test]
    async fn internal_addresses_are_refused_before_any_connection() {
        let config = WebhookConfig::default();
        let metrics = WebhookMetrics::register(&crate::metrics::Metrics::new());
        let sender = HttpSender::new(&config, Arc::new(SystemClock), metrics).unwrap();
        for (url, expected) in [
            ("http://127.0.0.1:9/hook", "127.0.0.1 is a loopback address"),
            ("http://[::1]:9/hook", "::1 is a loopback address"),
            ("http://169.254.169.254/latest", "a link-local address"),
            ("http://localhost:9/hook", "localhost is a loopback host name"),
        ] {
            match sender.send(&delivery(url)).await {
                Attempt::Failed {
                    status: None, error, ..
                } => {
                    assert!(error.contains(expected), "{url}: {error}")
                }
                other => panic!("{url}: {other:?}"),
            }
        }
    }
}
