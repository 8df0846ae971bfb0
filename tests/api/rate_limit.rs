//! Rate limiting: per-minute buckets per user or client address, endpoint limits, daily quotas,
//! and the 429s and headers of the original. Every server here runs on a manual clock, so a
//! minute passes only when a test moves it.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::TestApp;
use crate::support::rate_limit::{header, limited_app};
use crate::support::timers::clock_start;

const RATE_EXCEEDED: &str = "Rate limit exceeded. Please try again later.";
const QUOTA_EXCEEDED: &str = "Daily API quota exceeded. Resets at midnight UTC.";

fn epoch(seconds_after_start: i64) -> String {
    (clock_start().timestamp() + seconds_after_start).to_string()
}

async fn get(app: &TestApp, path: &str, bearer: Option<&str>) -> reqwest::Response {
    let request = app.client.get(app.url(path));
    let request = match bearer {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request.send().await.expect("request failed")
}

async fn set_limits(app: &TestApp, user_id: i64, limits: Value) {
    let admin = app.admin().await;
    let response = app
        .patch_json_as(&admin, &format!("/api/v1/quotas/users/{user_id}"), &limits)
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
}

both_backends! {
    #[app(clock, long_tokens, rate_limited)]
    async fn anonymous_callers_and_made_up_tokens_share_the_address_bucket(app: TestApp, clock: Arc<ManualClock>) {
        let first = get(&app, "/api/versions", None).await;
        assert_eq!(first.status(), 200);
        assert_eq!(header(&first, "x-ratelimit-limit"), "60");
        assert_eq!(header(&first, "x-ratelimit-remaining"), "59");
        assert_eq!(header(&first, "x-ratelimit-reset"), epoch(1), "one request refills in a second");
        assert_eq!(header(&first, "x-quota-limit"), "", "no daily quota without a user");
        // Each made-up token is refused as a credential, so it counts as its address.
        for i in 1..60 {
            let token = if i % 2 == 0 { format!("garbage-{i}") } else { format!("a.b.{i}") };
            let response = get(&app, "/api/versions", Some(&token)).await;
            assert_eq!(response.status(), 200, "request {i}");
            assert_eq!(header(&response, "x-ratelimit-remaining"), (59 - i).to_string());
        }
        for bearer in [None, Some("yet-another-token")] {
            let refused = get(&app, "/api/versions", bearer).await;
            assert_eq!(refused.status(), 429);
            assert_eq!(header(&refused, "x-ratelimit-limit"), "60");
            assert_eq!(header(&refused, "x-ratelimit-remaining"), "0");
            assert_eq!(header(&refused, "x-ratelimit-reset"), epoch(60));
            assert_eq!(header(&refused, "retry-after"), "1");
            assert_eq!(refused.json::<Value>().await.unwrap(), json!({ "detail": RATE_EXCEEDED }));
        }
        // A protected route refuses the same way, before it even looks at the credentials.
        assert_eq!(get(&app, "/api/v1/users/me", Some("garbage")).await.status(), 429);

        for path in ["/health", "/ready", "/live", "/metrics", "/api/v1/setup/status", "/setup/status"] {
            let response = get(&app, path, None).await;
            assert_eq!(response.status(), 200, "{path} is never limited");
            assert_eq!(header(&response, "x-ratelimit-limit"), "", "{path} is not counted");
        }
        assert_eq!(get(&app, "/ws", None).await.status(), 401, "/ws is never limited");
        let health: Value = get(&app, "/health", None).await.json().await.unwrap();
        assert_eq!(health["rate_limiting"]["enabled"], true);

        clock.advance(Duration::from_secs(1));
        assert_eq!(get(&app, "/api/versions", None).await.status(), 200, "a second later, one more");
        assert_eq!(get(&app, "/api/versions", None).await.status(), 429);
    }

    #[app(clock, long_tokens, rate_limited)]
    async fn each_user_has_a_bucket_and_custom_limits_apply(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let (alice, bob) = (app.user("alice").await, app.user("bob").await);
        set_limits(&app, alice.id, json!({ "custom_rate_limit": 2 })).await;
        set_limits(&app, bob.id, json!({ "custom_rate_limit": 2 })).await;
        // Signing in already used some of their minute: start from full buckets.
        clock.advance(Duration::from_secs(60));

        for remaining in ["1", "0"] {
            let response = app.get_as(&alice, "/api/v1/users/me").await;
            assert_eq!(response.status(), 200);
            assert_eq!(header(&response, "x-ratelimit-limit"), "2");
            assert_eq!(header(&response, "x-ratelimit-remaining"), remaining);
            assert_eq!(header(&response, "x-quota-limit"), "5000");
        }
        let refused = app.get_as(&alice, "/api/v1/users/me").await;
        assert_eq!(refused.status(), 429);
        assert_eq!(header(&refused, "x-ratelimit-limit"), "2");
        assert_eq!(header(&refused, "retry-after"), "30");
        assert_eq!(refused.json::<Value>().await.unwrap()["detail"], RATE_EXCEEDED);

        let bobs = app.get_as(&bob, "/api/v1/users/me").await;
        assert_eq!(bobs.status(), 200, "bob's bucket is his own");
        let admins = app.get_as(&admin, "/api/v1/users/me").await;
        assert_eq!(header(&admins, "x-ratelimit-limit"), "1000", "admins get the admin tier");
        assert_eq!(header(&admins, "x-quota-limit"), "", "and no daily quota");
        let anonymous = get(&app, "/api/versions", None).await;
        assert_eq!(header(&anonymous, "x-ratelimit-remaining"), "59", "users do not use the address's bucket");

        clock.advance(Duration::from_secs(60));
        assert_eq!(app.get_as(&alice, "/api/v1/users/me").await.status(), 200, "a minute later");

        // The tier follows a PATCH too.
        set_limits(&app, alice.id, json!({ "custom_rate_limit": null, "tier": "premium" })).await;
        let premium = app.get_as(&alice, "/api/v1/users/me").await;
        assert_eq!(header(&premium, "x-ratelimit-limit"), "500");
        assert_eq!(header(&premium, "x-quota-limit"), "50000");
    }

    #[app(clock, long_tokens, rate_limited)]
    async fn the_token_endpoint_and_its_alias_share_a_limit_of_their_own(app: TestApp, _clock: Arc<ManualClock>) {
        for i in 0..30 {
            let path = if i % 2 == 0 { "/api/v1/token" } else { "/token" };
            let response = app.client.post(app.url(path)).form(&[("username", "")]).send().await.unwrap();
            assert_eq!(response.status(), 422, "request {i} reaches the endpoint");
            assert_eq!(header(&response, "x-ratelimit-limit"), "30");
            assert_eq!(header(&response, "x-ratelimit-remaining"), (29 - i).to_string());
        }
        for path in ["/token", "/api/v1/token"] {
            let refused = app.client.post(app.url(path)).form(&[("username", "")]).send().await.unwrap();
            assert_eq!(refused.status(), 429, "{path}");
            assert_eq!(header(&refused, "x-ratelimit-limit"), "30");
            assert_eq!(header(&refused, "retry-after"), "2");
        }
        let other = get(&app, "/api/versions", None).await;
        assert_eq!(other.status(), 200);
        assert_eq!(header(&other, "x-ratelimit-limit"), "60");
        assert_eq!(header(&other, "x-ratelimit-remaining"), "59", "the general limit is untouched");
        let refresh = app.client.post(app.url("/api/v1/token/refresh")).send().await.unwrap();
        assert_eq!(header(&refresh, "x-ratelimit-limit"), "60", "refresh is not the sign-in endpoint");
    }

    #[app(clock, long_tokens, rate_limited)]
    async fn a_daily_quota_refuses_until_midnight_and_survives_a_restart(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await; // signing in made one counted request (GET /users/me)
        set_limits(&app, bob.id, json!({ "custom_daily_quota": 3 })).await;
        for remaining in ["1", "0"] {
            let response = app.get_as(&bob, "/api/v1/users/me").await;
            assert_eq!(response.status(), 200);
            assert_eq!(header(&response, "x-quota-limit"), "3");
            assert_eq!(header(&response, "x-quota-remaining"), remaining);
        }
        let refused = app.get_as(&bob, "/api/v1/users/me").await;
        assert_eq!(refused.status(), 429);
        assert_eq!(header(&refused, "x-quota-limit"), "3");
        assert_eq!(header(&refused, "x-quota-remaining"), "0");
        assert_eq!(header(&refused, "retry-after"), (15 * 3600).to_string(), "until midnight UTC");
        assert_eq!(refused.json::<Value>().await.unwrap(), json!({ "detail": QUOTA_EXCEEDED }));

        // A graceful restart writes the counts; the new server enforces and reports them.
        let database = app.stop().await;
        let app = limited_app(database.backend(), Some(database), clock.clone()).await.unwrap();
        let stored: Value = app.get_as(&admin, &format!("/api/v1/quotas/users/{}", bob.id)).await.json().await.unwrap();
        assert_eq!(stored["daily_request_count"], 3);
        assert_eq!(stored["total_requests"], 3);
        assert_eq!(stored["last_request_date"], "2030-01-01");
        assert_eq!(stored["daily_quota"], 3);
        assert_eq!(app.get_as(&bob, "/api/v1/users/me").await.status(), 429, "still over after the restart");

        let reset: Value = app
            .patch_json_as(&admin, &format!("/api/v1/quotas/users/{}", bob.id), &json!({ "reset_daily_count": true }))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!((reset["daily_request_count"].as_i64(), reset["total_requests"].as_i64()), (Some(0), Some(3)));
        let after_reset = app.get_as(&bob, "/api/v1/users/me").await;
        assert_eq!(after_reset.status(), 200);
        assert_eq!(header(&after_reset, "x-quota-remaining"), "2");

        clock.advance(Duration::from_secs(15 * 3600));
        let next_day = app.get_as(&bob, "/api/v1/users/me").await;
        assert_eq!(next_day.status(), 200);
        assert_eq!(header(&next_day, "x-quota-remaining"), "2", "a new day");
        let usage: Value = app.get_as(&bob, "/api/v1/quotas/my-usage").await.json().await.unwrap();
        assert_eq!(usage["daily_used"], 2, "{usage}");
        assert_eq!(usage["daily_remaining"], 1);
        assert_eq!(usage["total_requests"], 6);
        assert_eq!(usage["percentage_used"], 66.67);
    }
}
