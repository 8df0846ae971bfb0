//! `/api/v1/quotas/*`: the original's shapes, backed by the usage the rate limiter counted.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;

both_backends! {
    async fn users_read_the_limits_and_their_usage_and_only_admins_manage_them(app: TestApp) {
        let bob = app.user("bob").await;
        let config: Value = app.get_as(&bob, "/api/v1/quotas/config").await.json().await.unwrap();
        assert_eq!(config["tiers"][0], json!({ "tier": "anonymous", "rate_limit_per_minute": 60, "daily_quota": 500 }));
        assert_eq!(config["tiers"][3], json!({ "tier": "admin", "rate_limit_per_minute": 1000, "daily_quota": null }));
        assert_eq!(config["endpoint_limits"][0], json!({ "endpoint": "/api/v1/token", "limit_per_minute": 30 }));
        let summary: Value = app.get_as(&bob, "/api/v1/quotas/summary").await.json().await.unwrap();
        assert_eq!(summary["tier_limits"]["premium"], 500);
        assert_eq!(summary["daily_quotas"]["admin"], Value::Null);
        assert_eq!(summary["endpoint_limits"]["/api/v1/bulk/"], 10);
        let usage: Value = app.get_as(&bob, "/api/v1/quotas/my-usage").await.json().await.unwrap();
        assert_eq!(usage["user_id"], bob.id);
        assert_eq!((usage["tier"].as_str(), usage["daily_quota"].as_i64()), (Some("authenticated"), Some(5000)));

        let user_path = format!("/api/v1/quotas/users/{}", bob.id);
        for (method, path) in [
            (Method::GET, "/api/v1/quotas/users"),
            (Method::GET, user_path.as_str()),
            (Method::PATCH, user_path.as_str()),
            (Method::GET, "/api/v1/quotas/stats"),
            (Method::GET, "/api/v1/quotas/alerts"),
            (Method::POST, "/api/v1/quotas/reset-daily"),
        ] {
            let response = app.send_json_as(&bob, method.clone(), path, &json!({ "tier": "admin" })).await;
            assert_eq!(response.status(), 403, "{method} {path}");
            assert_eq!(response.json::<Value>().await.unwrap()["detail"], "Role required: admin");
        }
        let admin = app.admin().await;
        let unchanged: Value = app.get_as(&admin, &user_path).await.json().await.unwrap();
        assert_eq!(unchanged["tier"], "authenticated", "bob's PATCH changed nothing");
        let me: Value = app.get_as(&admin, &format!("/api/v1/quotas/users/{}", admin.id)).await.json().await.unwrap();
        assert_eq!((me["tier"].as_str(), me["daily_quota"].as_i64()), (Some("admin"), None));
    }

    async fn bad_quota_input_is_refused_and_changes_nothing(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let path = format!("/api/v1/quotas/users/{}", bob.id);
        let refused = [
            (json!({ "tier": "gold" }), 400),
            (json!({ "custom_rate_limit": 0 }), 422),
            (json!({ "custom_rate_limit": 10_001 }), 422),
            (json!({ "custom_daily_quota": 1_000_001 }), 422),
            (json!({ "custom_daily_quota": "many" }), 422),
            (json!({ "reset_daily_count": "yes" }), 422),
        ];
        for (body, status) in refused {
            let response = app.patch_json_as(&admin, &path, &body).await;
            assert_eq!(response.status(), status, "{body}");
            let detail = response.json::<Value>().await.unwrap()["detail"].clone();
            if status == 400 {
                assert_eq!(detail, "Invalid tier. Must be one of: ['anonymous', 'authenticated', 'premium', 'admin']");
            } else {
                assert_eq!(detail[0]["loc"][0], "body", "{detail}");
            }
        }
        let low = app.patch_json_as(&admin, &path, &json!({ "custom_rate_limit": 0 })).await;
        assert_eq!(low.json::<Value>().await.unwrap()["detail"][0]["type"], "greater_than_equal");
        let stored: Value = app.get_as(&admin, &path).await.json().await.unwrap();
        assert_eq!((stored["tier"].as_str(), &stored["custom_rate_limit"]), (Some("authenticated"), &Value::Null));

        let missing = app.patch_json_as(&admin, "/api/v1/quotas/users/999999", &json!({ "tier": "premium" })).await;
        assert_eq!(missing.status(), 404);
        assert_eq!(missing.json::<Value>().await.unwrap()["detail"], "User not found");
        assert_eq!(app.get_as(&admin, "/api/v1/quotas/users/999999").await.status(), 404);
        assert_eq!(app.get_as(&admin, "/api/v1/quotas/users/abc").await.status(), 422);
        for query in ["limit=0", "limit=101", "skip=-1"] {
            assert_eq!(app.get_as(&admin, &format!("/api/v1/quotas/users?{query}")).await.status(), 422, "{query}");
        }
        assert_eq!(app.get_as(&admin, "/api/v1/quotas/users?tier=gold").await.status(), 400);
        assert_eq!(app.get_as(&admin, "/api/v1/quotas/alerts?threshold=101").await.status(), 422);

        // Set, list by tier, clear with null.
        let set: Value = app
            .patch_json_as(&admin, &path, &json!({ "tier": "premium", "custom_rate_limit": 5 }))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!((set["tier"].as_str(), set["rate_limit_per_minute"].as_i64()), (Some("premium"), Some(5)));
        assert_eq!(set["daily_quota"], 50_000);
        let premium: Value = app.get_as(&admin, "/api/v1/quotas/users?tier=premium").await.json().await.unwrap();
        assert_eq!(premium.as_array().map(|users| users.len()), Some(1));
        assert_eq!(premium[0]["username"], "bob");
        let admins: Value = app.get_as(&admin, "/api/v1/quotas/users?tier=admin").await.json().await.unwrap();
        assert_eq!(admins[0]["username"], "admin", "the admin role gives the admin tier");
        let cleared: Value = app
            .patch_json_as(&admin, &path, &json!({ "tier": null, "custom_rate_limit": null }))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!((cleared["tier"].as_str(), cleared["rate_limit_per_minute"].as_i64()), (Some("authenticated"), Some(200)));
    }
}

both_backends! {
    #[app(clock, long_tokens, rate_limited)]
    async fn statistics_alerts_and_resets_report_the_counted_usage(app: TestApp, _clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let patched = app
            .patch_json_as(&admin, &format!("/api/v1/quotas/users/{}", bob.id), &json!({ "custom_daily_quota": 4 }))
            .await;
        assert_eq!(patched.status(), 200);
        for _ in 0..3 {
            assert_eq!(app.get_as(&bob, "/api/v1/users/me").await.status(), 200);
        }
        assert_eq!(app.get_as(&bob, "/api/v1/users/me").await.status(), 429, "4 of 4 used");

        let stats: Value = app.get_as(&admin, "/api/v1/quotas/stats").await.json().await.unwrap();
        let today = stats["total_requests_today"].as_i64().unwrap();
        assert!(today >= 9, "registrations, sign-ins and the calls above: {stats}");
        assert_eq!(stats["total_requests_week"], today);
        assert_eq!(stats["total_requests_month"], today);
        assert_eq!(stats["unique_users_today"], 2);
        assert_eq!(stats["rate_limit_hits_today"], 1);
        assert!(stats["average_response_time_ms"].as_f64().is_some());
        assert_eq!(stats["top_endpoints"][0], json!({ "endpoint": "/api/v1/users/me", "count": 6 }));
        let hours = stats["requests_by_hour"].as_array().unwrap();
        assert_eq!(hours.len(), 24);
        assert_eq!(hours[0]["hour"], "10:00");
        assert_eq!(hours[23]["hour"], "09:00", "ending with the current hour");
        assert_eq!(hours[23]["count"], today);

        let alerts: Value = app.get_as(&admin, "/api/v1/quotas/alerts?threshold=50").await.json().await.unwrap();
        assert_eq!(
            alerts,
            json!([{ "user_id": bob.id, "username": "bob", "tier": "authenticated", "daily_quota": 4,
                     "daily_used": 4, "percentage_used": 100.0 }]),
            "admins have no quota, so no alerts"
        );
        let listed: Value = app.get_as(&admin, "/api/v1/quotas/users?limit=1&skip=1").await.json().await.unwrap();
        assert_eq!(listed[0]["username"], "bob");
        assert_eq!(listed[0]["daily_request_count"], 4);

        let reset: Value = app.post_json_as(&admin, "/api/v1/quotas/reset-daily", &json!({})).await.json().await.unwrap();
        assert_eq!(reset["reset_count"], 2, "{reset}");
        assert_eq!(reset["message"], "Reset daily quotas for 2 users");
        let after = app.get_as(&bob, "/api/v1/users/me").await;
        assert_eq!(after.status(), 200, "the reset lifts the quota");
        assert_eq!(after.headers()["x-quota-remaining"], "3");
        let usage: Value = app.get_as(&bob, "/api/v1/quotas/my-usage").await.json().await.unwrap();
        assert_eq!((usage["daily_used"].as_i64(), usage["total_requests"].as_i64()), (Some(2), Some(6)));
    }
}
