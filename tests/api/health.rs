//! Probes and metrics: shapes the original's clients and operators rely on.

use crate::both_backends;
use serde_json::Value;

both_backends! {
    async fn health_reports_a_healthy_database(app: TestApp) {
        let response = app.get("/health").await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "healthy");
        assert_eq!(body["database"], "healthy");
        assert_eq!(body["resources_count"], 0);
        assert!(body["timestamp"].as_str().unwrap().ends_with('Z'), "RFC 3339 with an offset: {body}");
        assert_eq!(body["rate_limiting"]["enabled"], false, "the test harness turns it off");
    }

    async fn ready_and_live_answer_with_the_original_shapes(app: TestApp) {
        let ready: Value = app.get("/ready").await.json().await.unwrap();
        assert_eq!(ready["ready"], true);
        assert_eq!(ready["components"]["database"]["status"], "healthy");
        let live = app.get("/live").await;
        assert_eq!(live.status(), 200);
        let live: Value = live.json().await.unwrap();
        assert_eq!(live["alive"], true);
        assert!(live["uptime_seconds"].as_f64().unwrap() >= 0.0);
    }

    async fn versions_list_only_real_versions(app: TestApp) {
        let body: Value = app.get("/api/versions").await.json().await.unwrap();
        assert_eq!(body["current_version"], "v1");
        assert_eq!(body["versions"]["v1"]["status"], "current");
        assert!(body["versions"].get("v2").is_none(), "no v2 exists, so none is advertised");
        assert_eq!(body["deprecated_endpoints"].as_array().unwrap().len(), 4);
    }

    async fn metrics_count_requests_by_route_pattern(app: TestApp) {
        app.get("/health").await;
        app.get("/no/such/path/123").await;
        let response = app.get("/metrics").await;
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        let text = response.text().await.unwrap();
        assert!(text.contains(r#"http_requests_total{method="GET",route="/health",status="200"} 1"#), "{text}");
        assert!(text.contains(r#"route="<unmatched>",status="404""#), "{text}");
        assert!(!text.contains("/no/such/path"), "raw paths never become labels");
        assert!(text.contains("http_request_duration_seconds_bucket"));
        assert!(text.contains("app_uptime_seconds"));
        assert!(text.contains("db_pool_size"));
    }

    async fn metrics_follow_the_resource_actors(app: TestApp) {
        let admin = app.admin().await;
        let before = app.get("/metrics").await.text().await.unwrap();
        assert!(before.contains("resource_actors_live 0"), "{before}");
        let room = app.resource(&admin, "Room 1").await;
        app.get_as(&admin, &format!("/api/v1/resources/{room}/availability")).await;
        let after = app.get("/metrics").await.text().await.unwrap();
        assert!(after.contains("resource_actors_live 1"), "{after}");
        assert!(after.contains("resource_actors_started_total 1"), "{after}");
        assert!(after.contains("resource_actors_replaced_total 0"), "{after}");
    }
}

#[actix_web::test]
async fn ready_is_503_while_the_database_is_gone_and_recovers_after() {
    let Some(app) = crate::support::TestApp::spawn(crate::support::Backend::Postgres).await else {
        return;
    };
    assert_eq!(app.get("/ready").await.status(), 200);
    app.database().set_connections_allowed(false).await;
    let response = app.get("/ready").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ready"], false);
    assert_eq!(body["components"]["database"]["status"], "unhealthy");
    let health: Value = app.get("/health").await.json().await.unwrap();
    assert_eq!(health["status"], "unhealthy", "/health stays 200 but says unhealthy");
    app.database().set_connections_allowed(true).await;
    assert_eq!(app.get("/ready").await.status(), 200, "the pool reconnects by itself");
}
