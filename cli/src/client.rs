//! The API client: requests to `<API_URL>/api/v1/…`, the bearer token from the saved session,
//! refreshed shortly before it expires or when the server answers 401 (the request is then
//! retried once), and API errors turned into [`CliError`]s carrying the API's `detail`.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use indicatif::ProgressBar;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::config::{self, TokenStore, Tokens};
use crate::error::{CliError, detail_of};

/// How a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// Never send a token (registration, sign-in, token refresh).
    Public,
    /// A signed-in user is required.
    Required,
    /// The saved session's token if there is one: public reads that show a signed-in user more
    /// (who booked a slot); without a session they are sent anonymously.
    IfSignedIn,
}

/// A request body.
#[derive(Debug, Clone)]
enum Payload {
    Empty,
    Json(Value),
    Form(Vec<(String, String)>),
    /// A `multipart/form-data` upload, sent in chunks that advance the progress bar.
    Upload {
        content: Bytes,
        content_type: String,
        progress: ProgressBar,
    },
}

/// A client of one API server, with the session saved in the configuration directory.
pub struct Client {
    base: String,
    http: reqwest::Client,
    store: TokenStore,
    timezone: Option<&'static str>,
}

impl Client {
    /// `api_url` is the server's base URL (`http://localhost:8000`); `timezone` is sent as
    /// `X-Timezone` so the API writes times in the user's zone.
    pub fn new(api_url: &str, store: TokenStore, timezone: Option<&'static str>) -> Result<Client> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        check_api_url(api_url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("resource-reserver-cli/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            base: api_url.trim_end_matches('/').to_owned(),
            http,
            store,
            timezone,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn store(&self) -> &TokenStore {
        &self.store
    }

    pub fn get(&self, path: impl Into<String>) -> Request<'_> {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: impl Into<String>) -> Request<'_> {
        self.request(Method::POST, path)
    }

    pub fn put(&self, path: impl Into<String>) -> Request<'_> {
        self.request(Method::PUT, path)
    }

    pub fn patch(&self, path: impl Into<String>) -> Request<'_> {
        self.request(Method::PATCH, path)
    }

    pub fn delete(&self, path: impl Into<String>) -> Request<'_> {
        self.request(Method::DELETE, path)
    }

    fn request(&self, method: Method, path: impl Into<String>) -> Request<'_> {
        Request {
            client: self,
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            payload: Payload::Empty,
            auth: Auth::Required,
        }
    }

    /// The access token to send, refreshed first when it is about to expire.
    pub async fn bearer(&self) -> Result<String> {
        let tokens = self.store.load()?.ok_or(CliError::NotLoggedIn)?;
        if tokens.expiring(config::now()) && tokens.refresh_token.is_some() {
            return Ok(self.refresh(Refresh::IfExpiring).await?.access_token);
        }
        Ok(tokens.access_token)
    }

    /// Exchanges the refresh token for a new pair and saves it. Serialised between processes:
    /// whoever waited for the lock first re-reads the file, and does nothing if another
    /// process has refreshed meanwhile.
    pub async fn refresh(&self, when: Refresh<'_>) -> Result<Tokens> {
        let _lock = self.store.lock()?;
        let current = self.store.load()?.ok_or(CliError::NotLoggedIn)?;
        let already_done = match when {
            Refresh::Always => false,
            Refresh::IfExpiring => !current.expiring(config::now()),
            Refresh::Rejected(used) => current.access_token != used && !current.expiring(config::now()),
        };
        if already_done {
            return Ok(current);
        }
        let refresh_token = current
            .refresh_token
            .clone()
            .ok_or_else(|| CliError::SessionExpired("no refresh token saved".into()))?;
        // Sent without a token, so not through `send` (which may refresh).
        let request = self
            .post("/api/v1/token/refresh")
            .public()
            .json(&json!({ "refresh_token": refresh_token }));
        let answer: Result<TokenAnswer> = match request.attempt(None).await {
            Ok(response) => decode(response).await,
            Err(error) => Err(error),
        };
        let answer = match answer {
            Ok(answer) => answer,
            Err(error) => {
                return Err(match CliError::api(&error) {
                    Some((400..=499, detail, _)) => CliError::SessionExpired(detail.to_owned()).into(),
                    _ => error,
                });
            }
        };
        let tokens = answer.into_tokens(Some(refresh_token));
        self.store.save(&tokens)?;
        Ok(tokens)
    }
}

/// A server base URL must be an http(s) URL.
pub fn check_api_url(api_url: &str) -> Result<()> {
    let parsed = url::Url::parse(api_url).map_err(|e| CliError::usage(format!("invalid API URL {api_url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(CliError::usage(format!(
            "invalid API URL {api_url:?}: use http:// or https://"
        )));
    }
    Ok(())
}

/// When [`Client::refresh`] refreshes.
#[derive(Debug, Clone, Copy)]
pub enum Refresh<'a> {
    Always,
    IfExpiring,
    /// The server refused this access token.
    Rejected(&'a str),
}

/// The answer of `/token` and `/token/refresh`.
#[derive(Debug, serde::Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    pub refresh_token: Option<String>,
}

impl TokenAnswer {
    /// The tokens to save; a server that does not rotate keeps the previous refresh token.
    pub fn into_tokens(self, previous_refresh: Option<String>) -> Tokens {
        Tokens::issued(
            self.access_token,
            self.refresh_token.or(previous_refresh),
            config::now(),
        )
    }
}

/// One request, built step by step and sent with [`Request::send`].
pub struct Request<'a> {
    client: &'a Client,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(&'static str, String)>,
    payload: Payload,
    auth: Auth,
}

impl Request<'_> {
    /// Sends no token.
    pub fn public(mut self) -> Self {
        self.auth = Auth::Public;
        self
    }

    /// Sends the saved session's token if there is one (see [`Auth::IfSignedIn`]).
    pub fn if_signed_in(mut self) -> Self {
        self.auth = Auth::IfSignedIn;
        self
    }

    pub fn query(mut self, name: &str, value: impl ToString) -> Self {
        self.query.push((name.to_owned(), value.to_string()));
        self
    }

    pub fn query_opt(self, name: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(value) => self.query(name, value),
            None => self,
        }
    }

    /// Adds `name=true` when `flag` is set.
    pub fn flag(self, name: &str, flag: bool) -> Self {
        if flag { self.query(name, true) } else { self }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn json(mut self, body: &impl Serialize) -> Self {
        self.payload = Payload::Json(serde_json::to_value(body).unwrap_or(Value::Null));
        self
    }

    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        self.payload = Payload::Form(fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
        self
    }

    /// A multipart upload of one file field; `progress` advances as the bytes are sent.
    pub fn upload(mut self, field: &str, file_name: &str, content: &[u8], progress: ProgressBar) -> Self {
        let (content, content_type) = multipart(field, file_name, "text/csv", content);
        progress.set_length(content.len() as u64);
        self.payload = Payload::Upload {
            content,
            content_type,
            progress,
        };
        self
    }

    /// Sends the request and decodes the answer (an empty answer decodes as `null`).
    pub async fn send<T: DeserializeOwned>(self) -> Result<T> {
        let response = self.respond().await?;
        decode(response)
            .await
            .map_err(|error| self.explain_unknown_route(error))
    }

    /// Sends the request and reads the answer's bytes as they come (a file download: a CSV
    /// export, an `.ics`), advancing `progress` by each chunk. An error answer is decoded as
    /// by [`Request::send`].
    pub async fn download(self, progress: &ProgressBar) -> Result<Vec<u8>> {
        let mut response = self.respond().await?;
        if !response.status().is_success() {
            let error = decode::<Value>(response).await.err();
            return Err(self.explain_unknown_route(error.unwrap_or_else(|| anyhow::anyhow!("download failed"))));
        }
        if let Some(length) = response.content_length() {
            progress.set_length(length);
        }
        let mut content = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            progress.inc(chunk.len() as u64);
            content.extend_from_slice(&chunk);
        }
        progress.finish_and_clear();
        Ok(content)
    }

    /// The answer, after one refresh and retry when the server refused the access token.
    async fn respond(&self) -> Result<reqwest::Response> {
        let token = match self.auth {
            Auth::Public => None,
            Auth::Required => Some(self.client.bearer().await?),
            Auth::IfSignedIn => self.client.bearer().await.ok(),
        };
        let mut response = self.attempt(token.as_deref()).await?;
        if response.status() == StatusCode::UNAUTHORIZED
            && let Some(used) = token.as_deref()
        {
            let fresh = self.client.refresh(Refresh::Rejected(used)).await?;
            response = self.attempt(Some(&fresh.access_token)).await?;
        }
        Ok(response)
    }

    /// The server's bare 404 for a path it does not serve (unlike "Reservation not found"),
    /// which says the server is older than this CLI.
    fn explain_unknown_route(&self, error: anyhow::Error) -> anyhow::Error {
        match CliError::api(&error) {
            Some((404, "Not Found", _)) => anyhow::anyhow!(
                "Not Found: the server at {} does not offer {} {} (is it older than this CLI?)",
                self.client.base,
                self.method,
                self.path
            ),
            _ => error,
        }
    }

    async fn attempt(&self, token: Option<&str>) -> Result<reqwest::Response> {
        let url = format!("{}{}", self.client.base, self.path);
        let mut url = url::Url::parse(&url).map_err(|e| anyhow::anyhow!("invalid URL {url}: {e}"))?;
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        let mut request = self
            .client
            .http
            .request(self.method.clone(), url)
            .header("Accept", "application/json");
        if let Some(zone) = self.client.timezone {
            request = request.header("X-Timezone", zone);
        }
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request = match &self.payload {
            Payload::Empty => request,
            Payload::Json(body) => request.json(body),
            Payload::Form(fields) => request.form(fields),
            Payload::Upload {
                content,
                content_type,
                progress,
            } => {
                progress.set_position(0);
                request
                    .header("Content-Type", content_type)
                    .header("Content-Length", content.len())
                    .body(reqwest::Body::wrap(ProgressBody {
                        content: content.clone(),
                        progress: progress.clone(),
                    }))
            }
        };
        request.send().await.map_err(|error| {
            if error.is_connect() {
                CliError::Unreachable {
                    url: self.client.base.clone(),
                }
                .into()
            } else {
                anyhow::Error::new(error).context(format!("request to {} failed", self.client.base))
            }
        })
    }
}

/// The body of a successful answer, or the API's error.
async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T> {
    let status = response.status();
    let text = response.text().await?;
    let body: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    if !status.is_success() {
        return Err(CliError::Api {
            status: status.as_u16(),
            detail: detail_of(status.as_u16(), &body),
            body,
        }
        .into());
    }
    serde_json::from_value(body).map_err(|e| anyhow::anyhow!("unexpected answer from the API: {e}"))
}

/// A `multipart/form-data` body with one file field, and its content type.
fn multipart(field: &str, file_name: &str, mime: &str, content: &[u8]) -> (Bytes, String) {
    let boundary = format!("----resource-reserver-cli-{:x}", config::now().to_bits());
    let file_name = file_name.replace(['"', '\r', '\n'], "_");
    let mut body = Vec::with_capacity(content.len() + 256);
    body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    body.extend_from_slice(
        format!("Content-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\n").as_bytes(),
    );
    body.extend_from_slice(format!("Content-Type: {mime}\r\n\r\n").as_bytes());
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (Bytes::from(body), format!("multipart/form-data; boundary={boundary}"))
}

/// Hands the body to the connection in chunks, advancing the progress bar with each.
struct ProgressBody {
    content: Bytes,
    progress: ProgressBar,
}

const CHUNK: usize = 16 * 1024;

impl http_body::Body for ProgressBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut TaskContext<'_>,
    ) -> Poll<Option<std::result::Result<http_body::Frame<Bytes>, Self::Error>>> {
        if self.content.is_empty() {
            self.progress.finish();
            return Poll::Ready(None);
        }
        let take = self.content.len().min(CHUNK);
        let chunk = self.content.split_to(take);
        self.progress.inc(take as u64);
        Poll::Ready(Some(Ok(http_body::Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.content.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.content.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_bodies_carry_one_file_field() {
        let (body, content_type) = multipart("file", "a\"b.csv", "text/csv", b"name\nDesk");
        let boundary = content_type.strip_prefix("multipart/form-data; boundary=").unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.contains("name=\"file\"; filename=\"a_b.csv\""));
        assert!(text.contains("\r\n\r\nname\nDesk\r\n"));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
    }

    #[test]
    fn api_urls_must_be_http() {
        let store = TokenStore::new(std::env::temp_dir());
        assert!(Client::new("ftp://x", store.clone(), None).is_err());
        assert!(Client::new("not a url", store.clone(), None).is_err());
        let client = Client::new("http://localhost:8000/", store, None).unwrap();
        assert_eq!(client.base_url(), "http://localhost:8000");
    }
}
