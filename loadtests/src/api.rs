//! The one client of the server's `/api/v1` every workload uses: accounts, resources, bookings,
//! reads and the WebSocket URL. Only public endpoints, so any server speaking the API can be
//! driven (ours on either backend, or the Python original).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Satisfies the original's password policy for every generated username.
pub const PASSWORD: &str = "Xq9!zV7#Lp2$Ww";

/// A signed-in account (its bearer access token).
#[derive(Debug, Clone)]
pub struct Account {
    pub token: String,
}

/// How the server answered a booking request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Booked {
    /// 201, with the reservation's id.
    Accepted(i64),
    /// 409: the slot was taken.
    Conflict,
    /// Anything else (status code, or 0 when the request itself failed).
    Failed(u16),
}

/// A timed answer: the outcome and when the response was complete.
pub struct Timed<T> {
    pub outcome: T,
    pub latency: Duration,
    pub answered_at: Instant,
}

impl<T> Timed<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Timed<U> {
        Timed {
            outcome: f(self.outcome),
            latency: self.latency,
            answered_at: self.answered_at,
        }
    }
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// A client keeping up to `connections` idle keep-alive connections to `base`.
    pub fn new(base: &str, connections: usize) -> Result<Api> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Api {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `ws://…/ws?token=…&{query}`.
    pub fn ws_url(&self, account: &Account, query: &str) -> String {
        let base = self.base.replacen("http", "ws", 1);
        format!("{base}/ws?token={}&{query}", account.token)
    }

    /// Registers `username` (the first account of a fresh server becomes its admin) and signs
    /// in. An account that already exists is only signed in, so an existing admin can be reused.
    pub async fn account(&self, username: &str) -> Result<Account> {
        let registered = self
            .http
            .post(self.url("/api/v1/register"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await?;
        let status = registered.status();
        if !status.is_success() && status != StatusCode::BAD_REQUEST {
            bail!("registering {username}: {status} {}", registered.text().await?);
        }
        let tokens = self
            .http
            .post(self.url("/api/v1/token"))
            .form(&[("username", username), ("password", PASSWORD)])
            .send()
            .await?;
        let tokens = expect_json(tokens, StatusCode::OK, &format!("signing in {username}")).await?;
        let token = tokens["access_token"].as_str().context("no access_token")?.to_owned();
        Ok(Account { token })
    }

    /// `POST /api/v1/resources` (an admin's call); returns the new resource's id.
    pub async fn create_resource(&self, admin: &Account, name: &str) -> Result<i64> {
        let response = self
            .http
            .post(self.url("/api/v1/resources"))
            .bearer_auth(&admin.token)
            .json(&json!({"name": name, "tags": ["loadtest"]}))
            .send()
            .await?;
        let created = expect_json(response, StatusCode::CREATED, &format!("creating resource {name}")).await?;
        created["id"].as_i64().context("a resource without id")
    }

    /// `POST /api/v1/reservations` for `[start, end)`.
    pub async fn book(
        &self,
        account: &Account,
        resource: i64,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Timed<Booked> {
        let sent = Instant::now();
        let outcome = match self
            .http
            .post(self.url("/api/v1/reservations"))
            .bearer_auth(&account.token)
            .json(&json!({"resource_id": resource, "start_time": rfc3339(start), "end_time": rfc3339(end)}))
            .send()
            .await
        {
            Ok(response) => match response.status() {
                StatusCode::CREATED => match response.json::<Value>().await {
                    Ok(body) => body["id"].as_i64().map_or(Booked::Failed(201), Booked::Accepted),
                    Err(_) => Booked::Failed(201),
                },
                StatusCode::CONFLICT => Booked::Conflict,
                other => Booked::Failed(other.as_u16()),
            },
            Err(_) => Booked::Failed(0),
        };
        Timed {
            outcome,
            latency: sent.elapsed(),
            answered_at: Instant::now(),
        }
    }

    /// `POST /api/v1/holds`: a hold of `[start, end)` lapsing after `minutes`; its id and when
    /// it lapses.
    pub async fn hold(
        &self,
        account: &Account,
        resource: i64,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        minutes: i64,
    ) -> Result<(i64, DateTime<Utc>)> {
        let body = json!({"resource_id": resource, "start_time": rfc3339(start), "end_time": rfc3339(end), "minutes": minutes});
        let hold = self
            .send_json(
                account,
                reqwest::Method::POST,
                "/api/v1/holds",
                &body,
                StatusCode::CREATED,
            )
            .await?;
        let expires_at = hold["expires_at"].as_str().context("a hold without expires_at")?;
        Ok((
            hold["id"].as_i64().context("a hold without id")?,
            DateTime::parse_from_rfc3339(expires_at)?.with_timezone(&Utc),
        ))
    }

    /// A counter or gauge of `GET /metrics` (Prometheus text; a series without labels), or
    /// `None` when the server does not expose it.
    pub async fn metric(&self, name: &str) -> Option<f64> {
        let text = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        metric_value(&text, name)
    }

    /// `GET path`, body read to the end; the outcome is whether it answered 2xx.
    pub async fn get(&self, path: &str) -> Timed<bool> {
        let sent = Instant::now();
        let outcome = match self.http.get(self.url(path)).send().await {
            Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
            Err(_) => false,
        };
        Timed {
            outcome,
            latency: sent.elapsed(),
            answered_at: Instant::now(),
        }
    }

    /// `GET path` as `account` (routes that need a signed-in user), body read to the end; the
    /// outcome is whether it answered 2xx.
    pub async fn get_as(&self, account: &Account, path: &str) -> Timed<bool> {
        let sent = Instant::now();
        let outcome = match self.http.get(self.url(path)).bearer_auth(&account.token).send().await {
            Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
            Err(_) => false,
        };
        Timed {
            outcome,
            latency: sent.elapsed(),
            answered_at: Instant::now(),
        }
    }

    /// GET `path` as `account`, timed to the first chunk of a successful answer's body (a
    /// streamed answer's latency); the rest is not read (the connection is dropped).
    pub async fn first_bytes_as(&self, account: &Account, path: &str) -> Timed<bool> {
        let sent = Instant::now();
        let outcome = match self.http.get(self.url(path)).bearer_auth(&account.token).send().await {
            Ok(mut response) => response.status().is_success() && matches!(response.chunk().await, Ok(Some(_))),
            Err(_) => false,
        };
        Timed {
            outcome,
            latency: sent.elapsed(),
            answered_at: Instant::now(),
        }
    }

    /// `method path` with a JSON body as `account`, expecting `expected`; the answer's JSON.
    pub async fn send_json(
        &self,
        account: &Account,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        expected: StatusCode,
    ) -> Result<Value> {
        let response = self
            .http
            .request(method.clone(), self.url(path))
            .bearer_auth(&account.token)
            .json(body)
            .send()
            .await?;
        expect_json(response, expected, &format!("{method} {path}")).await
    }

    /// The bookings of `resource` from today to `days_ahead` days ahead, as the server reports
    /// them (`GET /api/v1/resources/{id}/availability`): `(id, start, end)`.
    pub async fn schedule(&self, resource: i64, days_ahead: u32) -> Result<Vec<(i64, DateTime<Utc>, DateTime<Utc>)>> {
        let response = self
            .http
            .get(self.url(&format!(
                "/api/v1/resources/{resource}/availability?days_ahead={days_ahead}"
            )))
            .send()
            .await?;
        let body = expect_json(response, StatusCode::OK, "reading a schedule").await?;
        let reservations = body["data"]["reservations"]
            .as_array()
            .context("a schedule without data.reservations")?;
        reservations
            .iter()
            .map(|r| {
                let time = |field: &str| -> Result<DateTime<Utc>> {
                    let text = r[field].as_str().context("a reservation without times")?;
                    Ok(DateTime::parse_from_rfc3339(text)?.with_timezone(&Utc))
                };
                Ok((
                    r["id"].as_i64().context("no id")?,
                    time("start_time")?,
                    time("end_time")?,
                ))
            })
            .collect()
    }
}

/// The value of the series `name` (without labels) in Prometheus text.
fn metric_value(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

/// The body of a response with the expected status, or an error quoting what came instead.
async fn expect_json(response: reqwest::Response, expected: StatusCode, what: &str) -> Result<Value> {
    let status = response.status();
    if status != expected {
        bail!("{what}: expected {expected}, got {status}: {}", response.text().await?);
    }
    Ok(response.json().await?)
}

pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metric_is_read_from_its_own_line_only() {
        let text = "# HELP db_overlap_refusals_total Writes refused\n\
                    # TYPE db_overlap_refusals_total counter\n\
                    db_overlap_refusals_total_other 9\n\
                    db_overlap_refusals_total 3\n";
        assert_eq!(metric_value(text, "db_overlap_refusals_total"), Some(3.0));
        assert_eq!(metric_value(text, "db_overlap_refusals"), None);
        assert_eq!(metric_value(text, "absent_total"), None);
    }
}
