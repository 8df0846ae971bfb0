//! The OAuth2 provider: clients, authorization code with mandatory PKCE, client credentials,
//! refresh, revocation, introspection, and OAuth2 tokens used on the API within their scopes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::both_backends;
use crate::support::response::status_and_body as detail;
use crate::support::{TestApp, TestUser};

pub(crate) const REDIRECT: &str = "https://app.example/callback";
pub(crate) const VERIFIER: &str = "a-long-random-verifier-string-of-at-least-43-characters-0123";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Registers a client for `owner`: (client_id, client_secret).
pub(crate) async fn client(app: &TestApp, owner: &TestUser, scope: &str) -> (String, String) {
    let response = app
        .post_json_as(
            owner,
            "/api/v1/oauth/clients",
            &json!({"client_name": "App", "redirect_uris": [REDIRECT], "scope": scope}),
        )
        .await;
    let (status, body) = detail(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["client_id"].as_str().unwrap().len(), 32);
    assert_eq!(body["client_secret"].as_str().unwrap().len(), 64);
    (
        body["client_id"].as_str().unwrap().into(),
        body["client_secret"].as_str().unwrap().into(),
    )
}

async fn authorize(app: &TestApp, user: &TestUser, client_id: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let mut params = vec![("client_id", client_id), ("redirect_uri", REDIRECT)];
    params.extend_from_slice(query);
    let query = serde_urlencoded::to_string(&params).unwrap();
    detail(app.get_as(user, &format!("/api/v1/oauth/authorize?{query}")).await).await
}

pub(crate) async fn token(app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    detail(
        app.client
            .post(app.url("/api/v1/oauth/token"))
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

pub(crate) async fn code_for(app: &TestApp, user: &TestUser, client_id: &str, scope: &str) -> String {
    let challenge = challenge(VERIFIER);
    let (status, body) = authorize(
        app,
        user,
        client_id,
        &[
            ("scope", scope),
            ("state", "a b&c"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let redirect = body["redirect_uri"].as_str().unwrap();
    assert!(redirect.starts_with(&format!("{REDIRECT}?code=")));
    assert!(redirect.ends_with("&state=a+b%26c"), "state is URL-encoded: {redirect}");
    body["code"].as_str().unwrap().into()
}

both_backends! {
    async fn authorization_code_with_pkce_yields_a_token_usable_within_its_scope(app: TestApp) {
        let bob = app.user("bob").await;
        let (client_id, secret) = client(&app, &bob, "read write").await;
        let code = code_for(&app, &bob, &client_id, "read").await;
        let exchange = |code: String, verifier: &'static str| {
            let (client_id, secret) = (client_id.clone(), secret.clone());
            let app = &app;
            async move {
                token(app, &[("grant_type", "authorization_code"), ("client_id", &client_id), ("client_secret", &secret),
                    ("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", verifier)]).await
            }
        };
        let (status, grant) = exchange(code.clone(), VERIFIER).await;
        assert_eq!(status, 200, "{grant}");
        assert_eq!(grant["token_type"], "Bearer");
        assert_eq!(grant["expires_in"], 3600);
        assert_eq!(grant["scope"], "read");
        assert_eq!(grant["access_token"].as_str().unwrap().len(), 64);
        // Single use.
        assert_eq!(exchange(code, VERIFIER).await, (400, json!({"detail": "Invalid or expired authorization code"})));

        // The token works on the API, within its scope only.
        let delegated = TestUser { token: grant["access_token"].as_str().unwrap().into(), ..bob.clone() };
        let me = app.get_as(&delegated, "/api/v1/users/me").await;
        assert_eq!(me.status(), 200);
        assert_eq!(me.json::<Value>().await.unwrap()["username"], "bob");
        let (status, body) = detail(app.patch_json_as(&delegated, "/api/v1/users/me/preferences", &json!({"reminder_hours": 3})).await).await;
        assert_eq!((status, body), (403, json!({"detail": "Scope 'write' required"})));
        assert_eq!(app.post_json_as(&delegated, "/api/v1/auth/mfa/setup", &json!({})).await.status(), 403);
        assert_eq!(app.post_json_as(&delegated, "/api/v1/oauth/clients", &json!({"client_name": "x", "redirect_uris": [REDIRECT]})).await.status(), 403);
        let protected = app.get_as(&delegated, "/api/v1/oauth/protected").await;
        assert_eq!(
            detail(protected).await,
            (200, json!({"message": "Access granted via OAuth2", "client_id": client_id, "scope": "read"}))
        );

        // Refresh rotates; the old refresh token is then dead.
        let refresh = grant["refresh_token"].as_str().unwrap();
        let form = |refresh: &str| vec![("grant_type", "refresh_token".to_owned()), ("client_id", client_id.clone()), ("client_secret", secret.clone()), ("refresh_token", refresh.to_owned())];
        let send = |form: Vec<(&'static str, String)>| {
            let app = &app;
            async move { detail(app.client.post(app.url("/oauth/token")).form(&form).send().await.unwrap()).await }
        };
        let (status, renewed) = send(form(refresh)).await;
        assert_eq!(status, 200, "{renewed}");
        assert_eq!(send(form(refresh)).await, (400, json!({"detail": "Invalid refresh token"})));
        assert_eq!(app.get_as(&delegated, "/api/v1/users/me").await.status(), 401, "the rotated pair's access token is revoked");

        // Introspection and revocation by the owning client.
        let access = renewed["access_token"].as_str().unwrap();
        let introspect = |token: &str| vec![("token", token.to_owned()), ("client_id", client_id.clone()), ("client_secret", secret.clone())];
        let response = app.client.post(app.url("/api/v1/oauth/introspect")).form(&introspect(access)).send().await.unwrap();
        let (_, body) = detail(response).await;
        assert_eq!((body["active"].clone(), body["username"].clone(), body["scope"].clone()), (json!(true), json!("bob"), json!("read")));
        let response = app.client.post(app.url("/api/v1/oauth/revoke")).form(&introspect(access)).send().await.unwrap();
        assert_eq!(detail(response).await, (200, json!({"message": "Token revoked"})));
        let response = app.client.post(app.url("/api/v1/oauth/introspect")).form(&introspect(access)).send().await.unwrap();
        assert_eq!(detail(response).await.1["active"], false);
    }

    async fn pkce_is_mandatory_and_checked(app: TestApp) {
        let bob = app.user("bob").await;
        let (client_id, secret) = client(&app, &bob, "read").await;
        let challenge = challenge(VERIFIER);
        assert_eq!(
            authorize(&app, &bob, &client_id, &[]).await,
            (400, json!({"detail": "code_challenge is required (PKCE)"}))
        );
        assert_eq!(
            authorize(&app, &bob, &client_id, &[("code_challenge", &challenge), ("code_challenge_method", "plain")]).await,
            (400, json!({"detail": "code_challenge_method must be S256"}))
        );
        for (verifier, expected) in [
            (None, "code_verifier is required (PKCE)"),
            (Some("the-wrong-verifier-the-wrong-verifier-the-wrong"), "Invalid code_verifier"),
        ] {
            let code = code_for(&app, &bob, &client_id, "read").await;
            let mut form = vec![("grant_type", "authorization_code"), ("client_id", client_id.as_str()), ("client_secret", secret.as_str()),
                ("code", code.as_str()), ("redirect_uri", REDIRECT)];
            if let Some(verifier) = verifier {
                form.push(("code_verifier", verifier));
            }
            assert_eq!(token(&app, &form).await, (400, json!({"detail": expected})));
            // A failed attempt burns the code.
            let mut form = form.clone();
            form.retain(|(k, _)| *k != "code_verifier");
            form.push(("code_verifier", VERIFIER));
            assert_eq!(token(&app, &form).await, (400, json!({"detail": "Invalid or expired authorization code"})));
        }
    }

    async fn scopes_are_limited_to_the_clients_registration(app: TestApp) {
        let admin = app.admin().await;
        let (client_id, secret) = client(&app, &admin, "read").await;
        let challenge = challenge(VERIFIER);
        assert_eq!(
            authorize(&app, &admin, &client_id, &[("scope", "read admin"), ("code_challenge", &challenge), ("code_challenge_method", "S256")]).await,
            (400, json!({"detail": "Invalid scope"}))
        );
        assert_eq!(
            token(&app, &[("grant_type", "client_credentials"), ("client_id", &client_id), ("client_secret", &secret), ("scope", "admin delete")]).await,
            (400, json!({"detail": "Invalid scope"}))
        );
        let (status, grant) = token(&app, &[("grant_type", "client_credentials"), ("client_id", &client_id), ("client_secret", &secret)]).await;
        assert_eq!(status, 200);
        assert_eq!((grant["scope"].clone(), grant["refresh_token"].clone()), (json!("read"), Value::Null));
        // Acting for the client's owner (an admin) but with `read` only: no admin routes.
        let delegated = TestUser { token: grant["access_token"].as_str().unwrap().into(), ..admin.clone() };
        assert_eq!(app.get_as(&delegated, "/api/v1/users/me").await.status(), 200);
        assert_eq!(app.get_as(&delegated, "/api/v1/auth/admin/users").await.status(), 403);
        // Bad client credentials, unknown grants.
        assert_eq!(
            token(&app, &[("grant_type", "client_credentials"), ("client_id", &client_id), ("client_secret", "wrong")]).await,
            (401, json!({"detail": "Invalid client credentials"}))
        );
        assert_eq!(
            token(&app, &[("grant_type", "password"), ("client_id", &client_id), ("client_secret", &secret)]).await,
            (400, json!({"detail": "Unsupported grant_type: password"}))
        );
    }

    async fn clients_belong_to_their_owner(app: TestApp) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let (alice_client, alice_secret) = client(&app, &alice, "read").await;
        let (bob_client, bob_secret) = client(&app, &bob, "read").await;
        let listed: Value = app.get_as(&bob, "/api/v1/oauth/clients").await.json().await.unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert_eq!(listed[0]["client_id"], json!(bob_client));
        assert_eq!(listed[0]["redirect_uris"], json!([REDIRECT]));
        assert_eq!(
            detail(app.delete_as(&bob, &format!("/api/v1/oauth/clients/{alice_client}")).await).await,
            (404, json!({"detail": "OAuth2 client not found or unauthorized"}))
        );
        // Bob's client cannot introspect or revoke Alice's client's token.
        let (_, grant) = token(&app, &[("grant_type", "client_credentials"), ("client_id", &alice_client), ("client_secret", &alice_secret)]).await;
        let alices_token = grant["access_token"].as_str().unwrap();
        let form = [("token", alices_token), ("client_id", &bob_client), ("client_secret", &bob_secret)];
        let response = app.client.post(app.url("/api/v1/oauth/introspect")).form(&form).send().await.unwrap();
        assert_eq!(detail(response).await.1["active"], false);
        app.client.post(app.url("/api/v1/oauth/revoke")).form(&form).send().await.unwrap();
        let delegated = TestUser { token: alices_token.into(), ..alice.clone() };
        assert_eq!(app.get_as(&delegated, "/api/v1/users/me").await.status(), 200);
        // Deleting the client ends its tokens.
        assert_eq!(app.delete_as(&alice, &format!("/oauth/clients/{alice_client}")).await.status(), 200);
        assert_eq!(app.get_as(&delegated, "/api/v1/users/me").await.status(), 401);
    }

    async fn client_registration_is_validated(app: TestApp) {
        let bob = app.user("bob").await;
        let response = app.post_json_as(&bob, "/api/v1/oauth/clients", &json!({"client_name": "x", "redirect_uris": ["ftp://x"]})).await;
        let (status, body) = detail(response).await;
        assert_eq!(status, 422);
        assert_eq!(body["detail"][0]["msg"], "Value error, Redirect URIs must use http:// or https://");
        let response = app.post_json_as(&bob, "/api/v1/oauth/clients", &json!({"client_name": "x", "redirect_uris": [REDIRECT], "scope": "root"})).await;
        assert_eq!(response.status(), 422);
        let response = app.client.get(app.url("/api/v1/oauth/protected")).send().await.unwrap();
        assert_eq!(detail(response).await, (401, json!({"detail": "Missing or invalid authorization header"})));
        let response = app.get_as(&bob, "/api/v1/oauth/protected").await;
        assert_eq!(detail(response).await, (401, json!({"detail": "Invalid or expired token"})));
    }

    async fn a_code_redeemed_concurrently_yields_one_token(app: TestApp) {
        let bob = app.user("bob").await;
        let (client_id, secret) = client(&app, &bob, "read").await;
        let code = code_for(&app, &bob, &client_id, "read").await;
        let form = [("grant_type", "authorization_code"), ("client_id", client_id.as_str()), ("client_secret", secret.as_str()),
            ("code", code.as_str()), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)];
        let attempts = (0..8).map(|_| token(&app, &form));
        let statuses: Vec<u16> = futures::future::join_all(attempts).await.into_iter().map(|(s, _)| s).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 400), "{statuses:?}");
    }

    async fn delegated_tokens_book_only_with_the_write_scope(app: TestApp) {
        let admin = app.admin().await;
        let room = app.resource(&admin, "Room 1").await;
        let bob = app.user("bob").await;
        let (client_id, secret) = client(&app, &bob, "read write").await;
        let delegated = |scope: &'static str| {
            let (app, bob, client_id, secret) = (&app, &bob, client_id.clone(), secret.clone());
            async move {
                let code = code_for(app, bob, &client_id, scope).await;
                let (_, grant) = token(app, &[("grant_type", "authorization_code"), ("client_id", &client_id), ("client_secret", &secret),
                    ("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)]).await;
                TestUser { token: grant["access_token"].as_str().unwrap().into(), ..bob.clone() }
            }
        };
        let start = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%dT10:00:00Z").to_string();
        let end = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%dT11:00:00Z").to_string();
        let reader = delegated("read").await;
        assert_eq!(
            detail(app.book(&reader, room, &start, &end).await).await,
            (403, json!({"detail": "Scope 'write' required"}))
        );
        assert_eq!(app.get_as(&reader, "/api/v1/reservations/my").await.status(), 200);
        let writer = delegated("write").await;
        assert_eq!(app.book(&writer, room, &start, &end).await.status(), 201);
    }
}
