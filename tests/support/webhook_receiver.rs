//! A real HTTP server on port 0 that receives webhooks: it records every request (path,
//! headers, exact body bytes) and answers with the status the test chooses, or holds its
//! answers back (a silent receiver) until released.
//!
//! ```ignore
//! let receiver = WebhookReceiver::start().await;
//! receiver.answer_with(500);
//! let url = receiver.url("/alice");
//! let requests = receiver.wait_for(1).await;
//! ```

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::watch;

use reserver_actors::ManualClock;
use resource_reserver::config::SettingsArgs;

use super::database::{Backend, TestDatabase};
use super::server::TestApp;

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(&name.to_lowercase()).map_or("", String::as_str)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// Whether the signature headers are right for `secret`, computed here independently of the
    /// server: `sha256=` + hex HMAC-SHA256 of the raw body, and of `"<timestamp>.<body>"`.
    pub fn signed_with(&self, secret: &str) -> bool {
        let hmac = |message: &[u8]| {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(message);
            let digest = mac.finalize().into_bytes();
            format!(
                "sha256={}",
                digest.iter().map(|b| format!("{b:02x}")).collect::<String>()
            )
        };
        let timestamped = [self.header("X-Webhook-Timestamp").as_bytes(), b".", &self.body].concat();
        self.header("X-Webhook-Signature") == hmac(&self.body)
            && self.header("X-Webhook-Signature-V2") == hmac(&timestamped)
    }
}

pub struct WebhookReceiver {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    held: Arc<watch::Sender<bool>>,
    handle: ServerHandle,
}

struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    /// While true, requests are recorded but not answered.
    held: Arc<watch::Sender<bool>>,
}

async fn record(req: HttpRequest, body: Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let headers = req
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_lowercase(),
                value.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    shared.received.lock().unwrap().push(Received {
        path: req.path().to_owned(),
        headers,
        body: body.to_vec(),
    });
    let mut held = shared.held.subscribe();
    while *held.borrow_and_update() {
        if held.changed().await.is_err() {
            break;
        }
    }
    let status = shared.status.load(Ordering::SeqCst);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).body(format!("answered {status}"))
}

impl WebhookReceiver {
    /// Starts a receiver answering 200.
    pub async fn start() -> WebhookReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().unwrap().port();
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let held = Arc::new(watch::Sender::new(false));
        let shared = web::Data::new(Shared {
            received: received.clone(),
            status: status.clone(),
            held: held.clone(),
        });
        let server = HttpServer::new(move || App::new().app_data(shared.clone()).default_service(web::to(record)))
            .workers(1)
            .disable_signals()
            .listen(listener)
            .expect("listening")
            .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        WebhookReceiver {
            address: format!("http://127.0.0.1:{port}"),
            port,
            received,
            status,
            held,
            handle,
        }
    }

    /// Later requests get no answer until [`WebhookReceiver::release`] (a receiver that hangs).
    pub fn hold(&self) {
        self.held.send_replace(true);
    }

    /// Answers the requests held, and later ones at once.
    pub fn release(&self) {
        self.held.send_replace(false);
    }

    /// The URL of `path` on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The status later requests are answered with.
    pub fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// Everything received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// What was received on `path`.
    pub fn received_on(&self, path: &str) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.path == path).collect()
    }

    /// Waits until `count` requests arrived on `path`, and returns them.
    pub async fn wait_for(&self, path: &str, count: usize) -> Vec<Received> {
        super::timers::eventually(&format!("{count} webhook requests on {path}"), || async {
            let received = self.received_on(path);
            (received.len() >= count).then_some(received)
        })
        .await
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.release();
        drop(self.handle.stop(false));
    }
}

/// Day-long tokens, and the test receiver on 127.0.0.1 allowed.
pub fn hooked(args: &mut SettingsArgs) {
    args.access_token_expire_minutes = Some("1440".into());
    args.webhook_allowed_hosts = Some("127.0.0.1".into());
}

/// A server on a manual clock that may reach the test receiver.
pub async fn hooked_app(backend: Backend, database: Option<TestDatabase>, clock: Arc<ManualClock>) -> Option<TestApp> {
    let builder = TestApp::builder(backend).manual_clock(clock).settings(hooked);
    match database {
        Some(database) => builder.database(database).spawn().await,
        None => builder.spawn().await,
    }
}
