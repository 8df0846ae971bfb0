//! The audit log of security and administration events (logins and their failures, role, MFA
//! and account changes, revocations, setup), with the request's origin.
//!
//! Writing an entry never fails the request that caused it: the event has already happened, so
//! a failed write is logged as an error instead.

use actix_web::http::header::USER_AGENT;
use actix_web::{HttpRequest, web};
use reserver_actors::Clock;
use serde_json::Value as Json;

use super::principal::Principal;
use crate::client_ip::{TrustedProxies, client_ip};
use crate::params;
use crate::storage::Db;

/// One event, built with the methods below and written with [`Event::record`].
#[derive(Debug, Default)]
pub struct Event {
    action: &'static str,
    entity_type: &'static str,
    entity_id: Option<i64>,
    entity_name: Option<String>,
    user_id: Option<i64>,
    username: Option<String>,
    details: Option<String>,
    old_values: Option<Json>,
    new_values: Option<Json>,
    error_message: Option<String>,
}

impl Event {
    pub fn new(action: &'static str, entity_type: &'static str) -> Event {
        Event {
            action,
            entity_type,
            ..Event::default()
        }
    }

    /// Who acted.
    pub fn by(mut self, user_id: Option<i64>, username: &str) -> Event {
        self.user_id = user_id;
        self.username = Some(username.to_owned());
        self
    }

    pub fn by_principal(self, principal: &Principal) -> Event {
        self.by(Some(principal.user_id), &principal.username)
    }

    /// What was acted on.
    pub fn on(mut self, entity_id: Option<i64>, entity_name: &str) -> Event {
        self.entity_id = entity_id;
        self.entity_name = Some(entity_name.to_owned());
        self
    }

    pub fn details(mut self, details: impl Into<String>) -> Event {
        self.details = Some(details.into());
        self
    }

    pub fn change(mut self, old: Option<Json>, new: Option<Json>) -> Event {
        self.old_values = old;
        self.new_values = new;
        self
    }

    /// Marks the event as a failed attempt.
    pub fn failed(mut self, error: impl Into<String>) -> Event {
        self.error_message = Some(error.into());
        self
    }

    pub async fn record(self, db: &Db, clock: &dyn Clock, req: &HttpRequest) {
        let ip = client_address(req);
        let agent = req
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(500).collect::<String>());
        let written = db
            .execute(
                "INSERT INTO audit_logs (timestamp, user_id, username, action, entity_type, entity_id, entity_name,
                     ip_address, user_agent, request_method, request_path, old_values, new_values, details,
                     success, error_message)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                params![
                    clock.now(),
                    self.user_id,
                    self.username,
                    self.action,
                    self.entity_type,
                    self.entity_id,
                    self.entity_name,
                    ip,
                    agent,
                    req.method().as_str(),
                    req.path(),
                    self.old_values.map(|v| v.to_string()),
                    self.new_values.map(|v| v.to_string()),
                    self.details,
                    self.error_message.is_none(),
                    self.error_message
                ],
            )
            .await;
        if let Err(error) = written {
            tracing::error!(%error, action = self.action, "could not write an audit log entry");
        }
    }
}

/// The client's address: the TCP peer, or what a proxy in `TRUSTED_PROXIES` forwarded (never a
/// forwarding header from anyone else, which anyone can forge). The server registers its
/// `TRUSTED_PROXIES` as application data of their own.
pub fn client_address(req: &HttpRequest) -> String {
    let address = match req.app_data::<web::Data<TrustedProxies>>() {
        Some(proxies) => client_ip(req, proxies),
        None => req.peer_addr().map(|peer| peer.ip()),
    };
    address.map_or_else(|| "unknown".into(), |ip| ip.to_string())
}
