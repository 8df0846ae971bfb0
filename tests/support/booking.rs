//! Resources and bookings for tests, made through the API.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::auth::TestUser;
use super::server::TestApp;

impl TestApp {
    /// Creates a resource as `admin` and returns its id.
    pub async fn create_resource(&self, admin: &TestUser, body: Value) -> i64 {
        let response = self.post_json_as(admin, "/api/v1/resources", &body).await;
        assert_eq!(
            response.status(),
            201,
            "creating {body}: {}",
            response.text().await.unwrap_or_default()
        );
        response.json::<Value>().await.expect("JSON")["id"]
            .as_i64()
            .expect("an id")
    }

    /// Creates a resource named `name` with default settings.
    pub async fn resource(&self, admin: &TestUser, name: &str) -> i64 {
        self.create_resource(admin, json!({ "name": name })).await
    }

    /// `POST /api/v1/reservations` for `resource` from `start` to `end` (RFC 3339).
    pub async fn book(&self, user: &TestUser, resource: i64, start: &str, end: &str) -> reqwest::Response {
        self.post_json_as(
            user,
            "/api/v1/reservations",
            &json!({"resource_id": resource, "start_time": start, "end_time": end}),
        )
        .await
    }

    /// How many reservations with `status` the database holds, whatever the API says.
    pub async fn stored_reservations(&self, status: &str) -> i64 {
        self.stored_row(
            "SELECT COUNT(*) AS n FROM reservations WHERE status = $1",
            resource_reserver::params![status],
        )
        .await
        .get("n")
        .expect("a count")
    }

    /// Reservation `id` as the database holds it: its status, start and end.
    pub async fn stored_reservation(&self, id: i64) -> (String, DateTime<Utc>, DateTime<Utc>) {
        let row = self
            .stored_row(
                "SELECT status, start_time, end_time FROM reservations WHERE id = $1",
                resource_reserver::params![id],
            )
            .await;
        let column = |name: &str| row.get::<DateTime<Utc>>(name).expect("a time");
        (
            row.get("status").expect("a status"),
            column("start_time"),
            column("end_time"),
        )
    }

    /// The one row `sql` reads from the database directly, whatever the API says.
    pub async fn stored_row(
        &self,
        sql: &str,
        params: Vec<resource_reserver::storage::Value>,
    ) -> resource_reserver::storage::Row {
        let db = self.database().connect().await;
        let row = db.query_one(sql, params).await.expect("reading the database");
        db.close().await;
        row
    }

    /// Runs `sql` on the database directly, as another server sharing it would, but without that
    /// server's event: this server's actors keep their copy, now stale, until they reload.
    pub async fn behind_the_servers_back(&self, sql: &str, params: Vec<resource_reserver::storage::Value>) {
        let db = self.database().connect().await;
        let changed = db.execute(sql, params).await.expect("writing behind the server's back");
        assert_eq!(changed, 1, "{sql} changes one row");
        db.close().await;
    }
}

/// RFC 3339 for `hours` hours (and `minutes`) after the start of 2030-01-07 (a Monday), UTC.
pub fn at(hours: i64, minutes: i64) -> String {
    use chrono::TimeZone;
    let base = chrono::Utc.with_ymd_and_hms(2030, 1, 7, 0, 0, 0).unwrap();
    (base + chrono::Duration::hours(hours) + chrono::Duration::minutes(minutes))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl TestApp {
    /// Signs `user` in again (after the clock moved past the token's lifetime).
    pub async fn login_again(&self, user: &TestUser) -> TestUser {
        let response = self.login(&user.username, &user.password, None).await;
        assert_eq!(response.status(), 200, "signing in {} again", user.username);
        let tokens: Value = response.json().await.expect("JSON");
        TestUser {
            token: tokens["access_token"].as_str().expect("access token").to_owned(),
            refresh_token: tokens["refresh_token"].as_str().expect("refresh token").to_owned(),
            ..user.clone()
        }
    }
}
