//! The real server, in process, on port 0, against a fresh database, started by
//! [`TestApp::builder`] (whose methods are also the options of `both_backends!`'s
//! `#[app(...)]`, see `support::runner`).

use std::sync::Arc;

use reserver_actors::{Clock, ManualClock, SystemClock};
use resource_reserver::config::{Settings, SettingsArgs};
use resource_reserver::{Application, ShutdownHandle};

use super::database::{Backend, TestDatabase};
use super::smtp::{SmtpServer, mailing};
use super::timers::clock_start;
use super::webhook_receiver::{WebhookReceiver, hooked};

pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    /// The manual clock, when the app was built with one.
    pub clock: Option<Arc<ManualClock>>,
    /// The setup token the server logged at start-up (while first-run setup is incomplete).
    pub setup_token: Option<String>,
    /// `http://…` of the separate `/metrics` listener, when `METRICS_ADDRESS` is set.
    pub metrics_address: Option<String>,
    /// The test SMTP server the app mails through, when built `with_smtp`.
    pub smtp: Option<SmtpServer>,
    /// The webhook receiver the app may reach, when built `with_webhook_receiver`.
    pub webhook_receiver: Option<WebhookReceiver>,
    /// The administrator the auth helpers create on first use (see `support::auth`).
    pub(crate) first_admin: tokio::sync::OnceCell<super::auth::TestUser>,
    database: Option<TestDatabase>,
    shutdown: ShutdownHandle,
}

pub struct TestAppBuilder {
    backend: Backend,
    clock: Option<Arc<ManualClock>>,
    args: SettingsArgs,
    database: Option<TestDatabase>,
    smtp: bool,
    webhook_receiver: bool,
}

pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("building the HTTP client")
}

/// Registers `name` through the server at `address` (with [`super::PASSWORD`]) and signs in:
/// the bearer token. For servers started as processes, which have no [`TestApp`].
pub async fn sign_up_at(address: &str, name: &str) -> String {
    let client = http_client();
    let registered = client
        .post(format!("{address}/api/v1/register"))
        .json(&serde_json::json!({"username": name, "password": super::PASSWORD}))
        .send()
        .await
        .expect("registering");
    assert_eq!(registered.status(), 201, "registering {name}");
    let tokens: serde_json::Value = client
        .post(format!("{address}/api/v1/token"))
        .form(&[("username", name), ("password", super::PASSWORD)])
        .send()
        .await
        .expect("signing in")
        .json()
        .await
        .expect("a token answer");
    tokens["access_token"].as_str().expect("an access token").to_owned()
}

/// Creates a resource named `name` through the server at `address` as the admin `token`; its
/// id. For servers started as processes, like [`sign_up_at`].
pub async fn create_resource_at(address: &str, token: &str, name: &str) -> i64 {
    let room: serde_json::Value = post_at(
        address,
        token,
        "/api/v1/resources",
        &serde_json::json!({ "name": name }),
    )
    .await
    .json()
    .await
    .expect("a resource");
    room["id"].as_i64().expect("a resource id")
}

/// POSTs the JSON `body` to `path` of the server at `address` as `token`; its answer. For
/// servers started as processes, like [`sign_up_at`].
pub async fn post_at(address: &str, token: &str, path: &str, body: &serde_json::Value) -> reqwest::Response {
    http_client()
        .post(format!("{address}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|error| panic!("POST {path}: {error}"))
}

impl TestApp {
    /// A server with default settings on a fresh database; `None` when the backend is
    /// unavailable and not required (see [`TestDatabase::create`]).
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        TestApp::builder(backend).spawn().await
    }

    pub fn builder(backend: Backend) -> TestAppBuilder {
        TestAppBuilder {
            backend,
            clock: None,
            args: SettingsArgs::default(),
            database: None,
            smtp: false,
            webhook_receiver: false,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request failed")
    }

    /// The server's database.
    pub fn database(&self) -> &TestDatabase {
        self.database
            .as_ref()
            .expect("the database is kept until the app is stopped")
    }

    /// Stops the server gracefully and hands back its database (to start another server on it).
    pub async fn stop(mut self) -> TestDatabase {
        self.shutdown.graceful().await;
        self.database
            .take()
            .expect("the database is kept until the app is stopped")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.request_stop();
    }
}

impl TestAppBuilder {
    /// Uses the given manual clock.
    pub fn manual_clock(mut self, clock: Arc<ManualClock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Uses a new manual clock at [`clock_start`] (2030-01-01 09:00 UTC).
    pub fn clock(self) -> Self {
        self.manual_clock(Arc::new(ManualClock::new(clock_start())))
    }

    /// Day-long access tokens, to outlive the jumps of a manual clock.
    pub fn long_tokens(self) -> Self {
        self.settings(|args| args.access_token_expire_minutes = Some("1440".into()))
    }

    /// Rate limiting on (the harness turns it off for every other test).
    pub fn rate_limited(self) -> Self {
        self.settings(|args| args.rate_limit_enabled = Some("true".into()))
    }

    /// Mail through a fresh test SMTP server (see [`mailing`]), handed out as `app.smtp`.
    pub fn smtp(mut self) -> Self {
        self.smtp = true;
        self
    }

    /// Webhooks may reach a fresh test receiver (see [`hooked`]), handed out as
    /// `app.webhook_receiver`.
    pub fn webhook_receiver(mut self) -> Self {
        self.webhook_receiver = true;
        self.settings(hooked)
    }

    /// Adjusts settings before start (values as they would be given on the command line).
    pub fn settings(mut self, adjust: impl FnOnce(&mut SettingsArgs)) -> Self {
        adjust(&mut self.args);
        self
    }

    /// Reuses an existing database (e.g. one left by a stopped server).
    pub fn database(mut self, database: TestDatabase) -> Self {
        self.database = Some(database);
        self
    }

    pub async fn spawn(mut self) -> Option<TestApp> {
        let smtp = match self.smtp {
            true => Some(SmtpServer::start().await),
            false => None,
        };
        if let Some(smtp) = &smtp {
            mailing(smtp.port)(&mut self.args);
        }
        let database = match self.database {
            Some(database) => database,
            None => TestDatabase::create(self.backend).await?,
        };
        let mut app = start(self.args, &database, self.clock).await;
        app.database = Some(database);
        app.smtp = smtp;
        if self.webhook_receiver {
            app.webhook_receiver = Some(WebhookReceiver::start().await);
        }
        Some(app)
    }
}

/// Starts a server on `database` (which the caller keeps).
async fn start(mut args: SettingsArgs, database: &TestDatabase, clock: Option<Arc<ManualClock>>) -> TestApp {
    args.host.get_or_insert_with(|| "127.0.0.1".into());
    args.port.get_or_insert_with(|| "0".into());
    args.workers.get_or_insert_with(|| "2".into());
    args.environment.get_or_insert_with(|| "test".into());
    // Tests of other features fire requests freely; rate-limit tests turn limiting on.
    args.rate_limit_enabled.get_or_insert_with(|| "false".into());
    // Tests run in parallel against one PostgreSQL server: keep each server's pool small.
    args.db_pool_size.get_or_insert_with(|| "4".into());
    args.data_dir = Some(database.data_dir.path().display().to_string());
    args.database_url = Some(database.url());
    // The process environment is not consulted: tests are independent of the developer's shell.
    let settings = Settings::from_args_and_env(&args, &|_| None).expect("test settings are valid");
    let dyn_clock: Arc<dyn Clock> = match &clock {
        Some(clock) => clock.clone(),
        None => Arc::new(SystemClock),
    };
    let app = Application::build_with_clock(settings, dyn_clock)
        .await
        .expect("the server starts");
    let port = app.port();
    let setup_token = app.setup_token();
    let metrics_address = app.metrics_address().map(|address| format!("http://{address}"));
    let shutdown = app.shutdown_handle();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: http_client(),
        clock,
        setup_token,
        metrics_address,
        smtp: None,
        webhook_receiver: None,
        first_admin: tokio::sync::OnceCell::new(),
        database: None,
        shutdown,
    }
}

impl TestApp {
    /// A second server on this one's database and data directory (so the same signing key):
    /// another process of the same deployment. It does not own the database.
    pub async fn sibling(&self) -> TestApp {
        self.sibling_with(|_| {}).await
    }

    /// [`TestApp::sibling`] with adjusted settings.
    pub async fn sibling_with(&self, adjust: impl FnOnce(&mut SettingsArgs)) -> TestApp {
        let mut args = SettingsArgs::default();
        adjust(&mut args);
        start(args, self.database(), self.clock.clone()).await
    }
}
