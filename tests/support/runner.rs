//! The one way a test runs on both backends: [`both_backends!`](crate::both_backends) expands a
//! test into a module with a `sqlite` and a `postgres` test, each on a fresh server built by
//! [`TestApp::builder`]. The optional `#[app(...)]` attribute lists builder methods to call
//! before the server starts, and the test's parameters are handed out by type ([`Fixture`]):
//!
//! ```ignore
//! both_backends! {
//!     async fn plain(app: TestApp) { ... }
//!
//!     #[app(clock, long_tokens, rate_limited)]
//!     async fn limited(app: TestApp, clock: Arc<ManualClock>) { ... }
//!
//!     #[app(clock, smtp, settings(|args| args.reminder_hours = Some("2".into())))]
//!     async fn mailed(app: TestApp, clock: Arc<ManualClock>, smtp: SmtpServer) { ... }
//!
//!     #[database]
//!     async fn storage_only(database: TestDatabase) { ... }
//! }
//! ```
//!
//! `#[app(...)]` must be the first attribute of its test (before doc comments); each entry is a
//! [`TestAppBuilder`](super::server::TestAppBuilder) method, with its arguments when it has any.

use std::sync::Arc;

use reserver_actors::ManualClock;

use super::database::Backend;
use super::server::TestApp;
use super::smtp::SmtpServer;
use super::webhook_receiver::WebhookReceiver;

/// What a spawned test server offers its test, taken apart so that each parameter can be
/// handed out by type, in any order.
pub struct Fixtures {
    app: Option<TestApp>,
    backend: Backend,
    clock: Option<Arc<ManualClock>>,
    smtp: Option<SmtpServer>,
    webhook_receiver: Option<WebhookReceiver>,
}

impl From<TestApp> for Fixtures {
    fn from(mut app: TestApp) -> Fixtures {
        Fixtures {
            backend: app.database().backend(),
            clock: app.clock.clone(),
            smtp: app.smtp.take(),
            webhook_receiver: app.webhook_receiver.take(),
            app: Some(app),
        }
    }
}

/// A value a test may ask for as a parameter; it says which builder method provides it.
pub trait Fixture {
    fn take(fixtures: &mut Fixtures) -> Self;
}

impl Fixture for TestApp {
    fn take(fixtures: &mut Fixtures) -> Self {
        fixtures.app.take().expect("one TestApp parameter")
    }
}

/// The backend under test (to start another server on it).
impl Fixture for Backend {
    fn take(fixtures: &mut Fixtures) -> Self {
        fixtures.backend
    }
}

impl Fixture for Arc<ManualClock> {
    fn take(fixtures: &mut Fixtures) -> Self {
        fixtures
            .clock
            .clone()
            .expect("a ManualClock parameter needs #[app(clock)]")
    }
}

impl Fixture for SmtpServer {
    fn take(fixtures: &mut Fixtures) -> Self {
        fixtures
            .smtp
            .take()
            .expect("an SmtpServer parameter needs #[app(smtp)]")
    }
}

impl Fixture for WebhookReceiver {
    fn take(fixtures: &mut Fixtures) -> Self {
        fixtures
            .webhook_receiver
            .take()
            .expect("a WebhookReceiver parameter needs #[app(webhook_receiver)]")
    }
}

/// Runs an async test body against both backends, each on a fresh server (see the module docs
/// of `support::runner` for the `#[app(...)]` and `#[database]` forms):
///
/// ```ignore
/// both_backends! {
///     async fn name(app: TestApp) { ... }
/// }
/// ```
/// expands to a module `name` with a `sqlite` and a `postgres` test.
#[macro_export]
macro_rules! both_backends {
    () => {};

    // A test of the storage layer: a fresh database, no server.
    (#[database] $(#[$meta:meta])* async fn $name:ident($database:ident: TestDatabase) $body:block $($rest:tt)*) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($database: $crate::support::TestDatabase) $body

            #[actix_web::test]
            async fn sqlite() {
                let database = $crate::support::TestDatabase::create($crate::support::Backend::Sqlite).await.expect("SQLite is always available");
                body(database).await;
            }

            #[actix_web::test]
            async fn postgres() {
                let Some(database) = $crate::support::TestDatabase::create($crate::support::Backend::Postgres).await else { return };
                body(database).await;
            }
        }
        $crate::both_backends! { $($rest)* }
    };

    // A server built with the listed builder methods.
    (#[app($($option:ident $(($($argument:tt)*))?),* $(,)?)] $(#[$meta:meta])* async fn $name:ident($($parameter:ident: $type:ty),* $(,)?) $body:block $($rest:tt)*) => {
        $crate::both_backends! {
            @test [$name] [$(#[$meta])*] [$($parameter: $type),*] $body
            [$(.$option($($($argument)*)?))*]
        }
        $crate::both_backends! { $($rest)* }
    };

    // A server with default settings.
    ($(#[$meta:meta])* async fn $name:ident($($parameter:ident: $type:ty),* $(,)?) $body:block $($rest:tt)*) => {
        $crate::both_backends! {
            @test [$name] [$(#[$meta])*] [$($parameter: $type),*] $body []
        }
        $crate::both_backends! { $($rest)* }
    };

    (@test [$name:ident] [$(#[$meta:meta])*] [$($parameter:ident: $type:ty),*] $body:block [$($build:tt)*]) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            // The parameter types, whatever the test file imports.
            #[allow(unused_imports)]
            use {
                reserver_actors::ManualClock,
                std::sync::Arc,
                $crate::support::Backend,
                $crate::support::smtp::SmtpServer,
                $crate::support::webhook_receiver::WebhookReceiver,
                $crate::support::TestApp,
            };

            async fn body($($parameter: $type),*) $body

            /// `None` when the backend is unavailable and not required.
            async fn run(backend: $crate::support::Backend) -> Option<()> {
                let app = $crate::support::TestApp::builder(backend) $($build)* .spawn().await?;
                let mut fixtures = $crate::support::runner::Fixtures::from(app);
                body($(<$type as $crate::support::runner::Fixture>::take(&mut fixtures)),*).await;
                Some(())
            }

            #[actix_web::test]
            async fn sqlite() {
                run($crate::support::Backend::Sqlite).await.expect("SQLite is always available");
            }

            #[actix_web::test]
            async fn postgres() {
                run($crate::support::Backend::Postgres).await;
            }
        }
    };
}
