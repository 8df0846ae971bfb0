//! Accounts and authenticated requests for tests.
//!
//! The first auth helper called on a [`TestApp`] registers `admin`, the first account, which
//! therefore becomes the administrator (first-run rule); every later [`TestApp::user`] is an
//! ordinary user with the `user` role. Tests of the first-run rules themselves register through
//! the API directly instead.
//!
//! ```ignore
//! let admin = app.admin().await;
//! let bob = app.user("bob").await;
//! let response = app.post_json_as(&bob, "/api/v1/reservations", &json!({...})).await;
//! let eve = app.user("eve").await;
//! app.assert_denied(&eve, Method::GET, &format!("/api/v1/reservations/{id}"), &json!({})).await;
//! ```

use reqwest::{Method, RequestBuilder, Response};
use serde::Serialize;
use serde_json::{Value, json};

use super::server::TestApp;

/// A password that satisfies the policy for any username of the helpers.
pub const PASSWORD: &str = "Xq9!zV7#Lp2$Ww";

/// A registered, signed-in account.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub username: String,
    pub password: String,
    /// Bearer access token.
    pub token: String,
    pub refresh_token: String,
}

impl TestApp {
    /// The administrator (registered as the first account on first use).
    pub async fn admin(&self) -> TestUser {
        self.first_admin
            .get_or_init(|| async { self.register_and_login("admin", PASSWORD).await })
            .await
            .clone()
    }

    /// A new ordinary user (`user` role) named `username`.
    pub async fn user(&self, username: &str) -> TestUser {
        self.admin().await;
        self.register_and_login(username, PASSWORD).await
    }

    /// A new user holding `role` (assigned by the admin) besides `user`.
    pub async fn user_with_role(&self, username: &str, role: &str) -> TestUser {
        let admin = self.admin().await;
        let user = self.user(username).await;
        let response = self
            .post_json_as(
                &admin,
                "/api/v1/roles/assign",
                &json!({"user_id": user.id, "role_name": role}),
            )
            .await;
        assert_eq!(
            response.status(),
            200,
            "assigning {role}: {}",
            response.text().await.unwrap_or_default()
        );
        user
    }

    /// A new user holding `manager` (and `user`).
    pub async fn manager(&self, username: &str) -> TestUser {
        self.user_with_role(username, "manager").await
    }

    /// A new account holding only `guest` (read-only).
    pub async fn guest(&self, username: &str) -> TestUser {
        let admin = self.admin().await;
        let guest = self.user_with_role(username, "guest").await;
        let response = self
            .request_as(&admin, Method::DELETE, "/api/v1/roles/assign")
            .json(&json!({"user_id": guest.id, "role_name": "user"}))
            .send()
            .await
            .expect("request failed");
        assert_eq!(response.status(), 200, "removing the user role");
        guest
    }

    /// The object-level check from outside: `stranger` sending `method path` (with a JSON body)
    /// must be refused with 404 or 403. Returns the status, to assert which one when it matters.
    pub async fn assert_denied(&self, stranger: &TestUser, method: Method, path: &str, body: &impl Serialize) -> u16 {
        let status = self
            .send_json_as(stranger, method.clone(), path, body)
            .await
            .status()
            .as_u16();
        assert!(
            status == 404 || status == 403,
            "{method} {path} as {} answered {status}",
            stranger.username
        );
        status
    }

    /// `POST /api/v1/register`.
    pub async fn register(&self, username: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/v1/register"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("request failed")
    }

    /// `POST /api/v1/token` with the password form (and an MFA code when given).
    pub async fn login(&self, username: &str, password: &str, mfa_code: Option<&str>) -> Response {
        let mut form = vec![("username", username), ("password", password)];
        if let Some(code) = mfa_code {
            form.push(("mfa_code", code));
        }
        self.client
            .post(self.url("/api/v1/token"))
            .form(&form)
            .send()
            .await
            .expect("request failed")
    }

    /// Registers `username` and signs in.
    pub async fn register_and_login(&self, username: &str, password: &str) -> TestUser {
        let registered = self.register(username, password).await;
        assert_eq!(
            registered.status(),
            201,
            "registering {username}: {}",
            registered.text().await.unwrap_or_default()
        );
        self.sign_in(username, password).await
    }

    /// Signs an existing account in (a new session).
    pub async fn sign_in(&self, username: &str, password: &str) -> TestUser {
        let tokens = self.login(username, password, None).await;
        assert_eq!(tokens.status(), 200, "signing in {username}");
        let tokens = tokens.json::<Value>().await.expect("JSON");
        let token = tokens["access_token"].as_str().expect("access token").to_owned();
        let me = self
            .client
            .get(self.url("/api/v1/users/me"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("request failed")
            .json::<Value>()
            .await
            .expect("JSON");
        TestUser {
            id: me["id"].as_i64().expect("an id"),
            username: username.to_lowercase(),
            password: password.to_owned(),
            token,
            refresh_token: tokens["refresh_token"].as_str().expect("refresh token").to_owned(),
        }
    }

    /// A request builder carrying `user`'s bearer token.
    pub fn request_as(&self, user: &TestUser, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(&user.token)
    }

    pub async fn get_as(&self, user: &TestUser, path: &str) -> Response {
        self.request_as(user, Method::GET, path)
            .send()
            .await
            .expect("request failed")
    }

    pub async fn delete_as(&self, user: &TestUser, path: &str) -> Response {
        self.request_as(user, Method::DELETE, path)
            .send()
            .await
            .expect("request failed")
    }

    pub async fn post_json_as(&self, user: &TestUser, path: &str, body: &impl Serialize) -> Response {
        self.send_json_as(user, Method::POST, path, body).await
    }

    pub async fn put_json_as(&self, user: &TestUser, path: &str, body: &impl Serialize) -> Response {
        self.send_json_as(user, Method::PUT, path, body).await
    }

    pub async fn patch_json_as(&self, user: &TestUser, path: &str, body: &impl Serialize) -> Response {
        self.send_json_as(user, Method::PATCH, path, body).await
    }

    pub async fn send_json_as(&self, user: &TestUser, method: Method, path: &str, body: &impl Serialize) -> Response {
        self.request_as(user, method, path)
            .json(body)
            .send()
            .await
            .expect("request failed")
    }
}
