//! Access control on every route, and the attacks on access tokens: `alg: none`, another key,
//! expiry (by the server's clock), revocation.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use resource_reserver::auth::Access;
use serde_json::{Value, json};

use crate::both_backends;

async fn assert_bad_credentials(response: reqwest::Response) {
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"detail": "Could not validate credentials"})
    );
}

fn forge(token: &str, header: &str, claims: impl FnOnce(&mut Value)) -> String {
    let mut parts = token.split('.');
    let _ = parts.next();
    let mut payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    claims(&mut payload);
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        parts.next().unwrap()
    )
}

both_backends! {
    async fn every_protected_route_answers_401_without_credentials(app: TestApp) {
        let table = resource_reserver::routes::table();
        let protected: Vec<_> = table.endpoints().filter(|e| e.access != Access::Public).collect();
        assert!(!protected.is_empty());
        for endpoint in protected {
            let path = endpoint
                .path
                .split('/')
                .map(|segment| match segment.split_once('}') {
                    Some((_, suffix)) if segment.starts_with('{') => format!("1{suffix}"), // `{id}.ics` → `1.ics`
                    _ => segment.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("/");
            let response = app
                .client
                .request(reqwest::Method::from_bytes(endpoint.method.as_str().as_bytes()).unwrap(), app.url(&path))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 401, "{} {}", endpoint.method, endpoint.path);
            assert_eq!(response.headers()["www-authenticate"], "Bearer", "{} {}", endpoint.method, endpoint.path);
            assert_eq!(
                response.json::<Value>().await.unwrap(),
                json!({"detail": "Not authenticated"}),
                "{} {}",
                endpoint.method,
                endpoint.path
            );
        }
    }

    async fn forged_tokens_are_refused(app: TestApp) {
        let bob = app.user("bob").await;
        assert_eq!(app.get_as(&bob, "/api/v1/users/me").await.status(), 200);

        // alg: none, without a signature.
        let none = forge(&bob.token, r#"{"alg":"none","typ":"at+jwt"}"#, |_| {});
        let none = format!("{}.", none.rsplit_once('.').unwrap().0);
        let response = app.client.get(app.url("/api/v1/users/me")).bearer_auth(none).send().await.unwrap();
        assert_bad_credentials(response).await;

        // Claims changed under the original signature (escalating to another user).
        let admin = app.admin().await;
        let tampered = forge(&bob.token, r#"{"alg":"HS256","typ":"at+jwt"}"#, |c| {
            c["sub"] = json!("admin");
            c["uid"] = json!(admin.id);
        });
        let response = app.client.get(app.url("/api/v1/users/me")).bearer_auth(tampered).send().await.unwrap();
        assert_bad_credentials(response).await;

        // Signed with another key.
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(bob.token.split('.').nth(1).unwrap()).unwrap()).unwrap();
        let header = jsonwebtoken::Header { typ: Some("at+jwt".into()), ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256) };
        let foreign = jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(b"someone-elses-key-of-32-bytes!!!")).unwrap();
        let response = app.client.get(app.url("/api/v1/users/me")).bearer_auth(foreign).send().await.unwrap();
        assert_bad_credentials(response).await;

        // Garbage.
        let response = app.client.get(app.url("/api/v1/users/me")).bearer_auth("not-a-token").send().await.unwrap();
        assert_bad_credentials(response).await;
    }

    async fn logout_ends_access_and_refresh_tokens_at_once(app: TestApp) {
        let bob = app.user("bob").await;
        let response = app.post_json_as(&bob, "/api/v1/logout", &json!({})).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"message": "Successfully logged out", "revoked_tokens": 1})
        );
        assert_bad_credentials(app.get_as(&bob, "/api/v1/users/me").await).await;
        let response = app
            .client
            .post(app.url(&format!("/api/v1/token/refresh?refresh_token={}", bob.refresh_token)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
}

both_backends! {
    #[app(clock)]
    async fn access_tokens_expire_by_the_servers_clock(app: TestApp, clock: Arc<ManualClock>) {
        let bob = app.user("bob").await;
        clock.advance(Duration::from_secs(29 * 60));
        assert_eq!(app.get_as(&bob, "/api/v1/users/me").await.status(), 200);
        clock.advance(Duration::from_secs(61));
        assert_bad_credentials(app.get_as(&bob, "/api/v1/users/me").await).await;
    }
}
