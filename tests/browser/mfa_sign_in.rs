//! MFA sign-in: an account with MFA enabled (through the API) is asked for its code after the
//! password, a wrong code is refused in words, and the right one (TOTP computed here) signs in.

use chrono::Utc;
use serde_json::{Value, json};
use totp_rs::{Builder, Secret};

use crate::both_backends;
use crate::harness;
use crate::support::PASSWORD;

fn code(secret: &str, at: chrono::DateTime<Utc>) -> String {
    let totp = Builder::new()
        .with_secret(Secret::try_from_base32(secret).expect("a base32 secret"))
        .build()
        .expect("a TOTP");
    totp.generate(at.timestamp() as u64).to_string()
}

both_backends! {
    async fn mfa_sign_in_asks_for_the_code(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };
        app.admin().await;
        let bob = app.user("bob").await;
        let setup: Value = app.post_json_as(&bob, "/api/v1/auth/mfa/setup", &json!({})).await.json().await.expect("JSON");
        let secret = setup["secret"].as_str().expect("a secret").to_owned();
        // Enabled with the previous step's code (±1 step is accepted), so that the sign-in's code,
        // of the current step, is a later one: each step is accepted once.
        let earlier = Utc::now() - chrono::Duration::seconds(30);
        let enabled = app.post_json_as(&bob, "/api/v1/auth/mfa/verify", &json!({"code": code(&secret, earlier)})).await;
        assert_eq!(enabled.status(), 200, "enabling MFA");

        browser.goto("/signin").await;
        browser.fill("signin-username", "bob").await;
        browser.fill("signin-password", PASSWORD).await;
        browser.click("signin-submit").await;
        browser.find("signin-mfa-code").await;
        assert!(!browser.shows("nav-user").await, "not signed in without the code");

        browser.fill("signin-mfa-code", "000000").await;
        browser.click("signin-submit").await;
        browser
            .wait_until("the wrong code to be refused in words", || async {
                browser.flash_text().await.into_iter().find(|text| !text.trim().is_empty())
            })
            .await;
        assert!(!browser.shows("nav-user").await, "a wrong code does not sign in");

        browser.fill("signin-mfa-code", &code(&secret, Utc::now())).await;
        browser.click("signin-submit").await;
        browser.wait_for_text("nav-user", "bob").await;
    }
}
