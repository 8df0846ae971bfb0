//! MFA: enrolment, sign-in with TOTP (each code once) or a backup code (each once), disabling.

use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use totp_rs::{Builder, Secret};

use crate::both_backends;
use crate::support::response::status_and_detail as detail;
use crate::support::{PASSWORD, TestApp, TestUser};

pub(crate) fn code(secret: &str, at: chrono::DateTime<Utc>) -> String {
    let totp = Builder::new()
        .with_secret(Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap();
    totp.generate(at.timestamp() as u64).to_string()
}

/// Enrols `user` and returns (secret, backup codes).
pub(crate) async fn enrol(app: &TestApp, user: &TestUser, now: chrono::DateTime<Utc>) -> (String, Vec<String>) {
    let response = app.post_json_as(user, "/api/v1/auth/mfa/setup", &json!({})).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 32);
    assert!(body["qr_code"].as_str().unwrap().starts_with("data:image/"));
    assert_eq!(
        body["totp_uri"].as_str().unwrap(),
        format!(
            "otpauth://totp/Resource%20Reserver:{}?secret={secret}&issuer=Resource%20Reserver",
            user.username
        )
    );
    let codes: Vec<String> = body["backup_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    assert!(
        codes
            .iter()
            .all(|c| c.len() == 8 && c.chars().all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_lowercase()))
    );
    let response = app
        .post_json_as(user, "/api/v1/auth/mfa/verify", &json!({"code": code(&secret, now)}))
        .await;
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"message": "MFA enabled successfully"})
    );
    (secret, codes)
}

both_backends! {
    #[app(clock)]
    async fn mfa_is_required_at_sign_in_once_enabled(app: TestApp, clock: Arc<ManualClock>) {
        let bob = app.user("bob").await;
        let start = reserver_actors::Clock::now(&*clock);
        let response = app.post_json_as(&bob, "/auth/mfa/verify", &json!({"code": "12345"})).await;
        assert_eq!(response.status(), 422);
        assert_eq!(detail(app.post_json_as(&bob, "/auth/mfa/verify", &json!({"code": "123456"})).await).await, (400, "Invalid MFA code".into()));
        let (secret, backup) = enrol(&app, &bob, start).await;
        assert_eq!(detail(app.post_json_as(&bob, "/api/v1/auth/mfa/setup", &json!({})).await).await, (400, "MFA is already enabled".into()));
        let me: Value = app.get_as(&bob, "/api/v1/users/me").await.json().await.unwrap();
        assert_eq!(me["mfa_enabled"], true);

        // No code: the original's frontend shows its MFA prompt on a detail that mentions MFA.
        assert_eq!(detail(app.login("bob", PASSWORD, None).await).await, (401, "MFA code required".into()));
        // A wrong code; the code used to enable MFA cannot be replayed either.
        assert_eq!(detail(app.login("bob", PASSWORD, Some("000000")).await).await.0, 401);
        assert_eq!(detail(app.login("bob", PASSWORD, Some(&code(&secret, start))).await).await.1, "Invalid MFA code.");
        clock.advance(Duration::from_secs(30));
        let now = reserver_actors::Clock::now(&*clock);
        assert_eq!(app.login("bob", PASSWORD, Some(&code(&secret, now))).await.status(), 200);
        assert_eq!(app.login("bob", PASSWORD, Some(&code(&secret, now))).await.status(), 401, "replayed");

        // Backup codes work once each, in either case.
        assert_eq!(app.login("bob", PASSWORD, Some(&backup[0].to_lowercase())).await.status(), 200);
        assert_eq!(app.login("bob", PASSWORD, Some(&backup[0])).await.status(), 401);
        // Regenerating (after re-authentication, with a fresh code) replaces them.
        clock.advance(Duration::from_secs(30));
        let later = reserver_actors::Clock::now(&*clock);
        let reauth = json!({"password": PASSWORD, "code": code(&secret, later)});
        let response = app.post_json_as(&bob, "/api/v1/auth/mfa/backup-codes", &reauth).await;
        let fresh: Value = response.json().await.unwrap();
        assert_eq!(fresh["backup_codes"].as_array().unwrap().len(), 10);
        assert_eq!(app.login("bob", PASSWORD, Some(&backup[1])).await.status(), 401);
        let fresh_code = fresh["backup_codes"][0].as_str().unwrap();
        assert_eq!(app.login("bob", PASSWORD, Some(fresh_code)).await.status(), 200);
    }

    #[app(clock)]
    async fn disabling_mfa_needs_the_password_and_a_code(app: TestApp, clock: Arc<ManualClock>) {
        let bob = app.user("bob").await;
        assert_eq!(detail(app.post_json_as(&bob, "/api/v1/auth/mfa/disable", &json!({"password": PASSWORD})).await).await, (400, "MFA is not enabled".into()));
        assert_eq!(detail(app.post_json_as(&bob, "/api/v1/auth/mfa/backup-codes", &json!({})).await).await, (400, "MFA is not enabled".into()));
        let (secret, _) = enrol(&app, &bob, reserver_actors::Clock::now(&*clock)).await;
        clock.advance(Duration::from_secs(30));
        let fresh = code(&secret, reserver_actors::Clock::now(&*clock));
        assert_eq!(detail(app.post_json_as(&bob, "/api/v1/auth/mfa/disable", &json!({"password": "nope", "code": fresh})).await).await, (400, "Invalid password".into()));
        let response = app.post_json_as(&bob, "/api/v1/auth/mfa/disable", &json!({"password": PASSWORD, "code": fresh})).await;
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"message": "MFA disabled successfully"}));
        assert_eq!(app.login("bob", PASSWORD, None).await.status(), 200);
    }
}
