//! Hostile input to the identity endpoints is a 4xx, never a 500.

use serde_json::json;

use crate::both_backends;

both_backends! {
    async fn nul_characters_and_odd_values_are_client_errors(app: TestApp) {
        let admin = app.admin().await;
        let cases = [
            ("/api/v1/roles", json!({"name": "a\u{0}b"})),
            ("/api/v1/oauth/clients", json!({"client_name": "x\u{0}", "redirect_uris": ["https://x.example/\u{0}"]})),
            ("/api/v1/register", json!({"username": "nul\u{0}user", "password": "Xq9!zV7#Lp2$Ww\u{0}"})),
            ("/api/v1/roles/assign", json!({"username": "x\u{0}", "role_name": "user"})),
            ("/api/v1/roles/assign", json!({"user_id": i64::MAX, "role_name": "a\u{0}"})),
        ];
        for (path, body) in cases {
            let status = app.post_json_as(&admin, path, &body).await.status().as_u16();
            assert!((400..500).contains(&status), "{path} {body}: {status}");
        }
        for path in [
            "/api/v1/audit/logs?search=%00",
            "/api/v1/audit/logs?action=%00",
            "/api/v1/audit/logs?user_id=99999999999999999999",
            "/api/v1/audit/entity/%00/1",
            "/api/v1/auth/admin/users?skip=-1",
            "/api/v1/oauth/authorize?client_id=%00&redirect_uri=x",
        ] {
            let status = app.get_as(&admin, path).await.status().as_u16();
            assert!((200..500).contains(&status), "{path}: {status}");
        }
        let requests = [
            app.client.post(app.url("/api/v1/token")).form(&[("username", "a\u{0}"), ("password", "b")]),
            app.client.post(app.url("/api/v1/token/refresh?refresh_token=%00")),
            app.client.post(app.url("/api/v1/oauth/token")).form(&[("grant_type", "x"), ("client_id", "\u{0}"), ("client_secret", "y")]),
            app.client.post(app.url("/api/v1/setup/initialize")).json(&json!({"existing_username": "\u{0}"})),
        ];
        for request in requests {
            let status = request.send().await.unwrap().status().as_u16();
            assert!((400..500).contains(&status), "{status}");
        }
    }
}
