//! The audit log: security and admin events are recorded and readable by admins, with filters.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::PASSWORD;
use crate::support::response::status_and_body as detail;

fn actions(logs: &Value) -> Vec<String> {
    logs.as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap().to_owned())
        .collect()
}

both_backends! {
    async fn security_events_are_logged_and_filtered(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        app.login("bob", "Wrong-Passw0rd!", None).await;
        app.post_json_as(&admin, "/api/v1/roles/assign", &json!({"user_id": bob.id, "role_name": "manager"})).await;

        let (status, page) = detail(app.get_as(&admin, "/api/v1/audit/logs").await).await;
        assert_eq!(status, 200);
        let all = actions(&page["logs"]);
        for expected in ["register", "login", "login_failed", "role_assigned"] {
            assert!(all.contains(&expected.to_owned()), "{expected} in {all:?}");
        }
        assert_eq!(page["total"].as_u64().unwrap() as usize, all.len());
        assert_eq!((page["skip"].clone(), page["limit"].clone()), (json!(0), json!(100)));
        assert_eq!(all[0], "role_assigned", "newest first");
        let entry = &page["logs"][0];
        assert_eq!(entry["username"], "admin");
        assert_eq!(entry["entity_name"], "bob");
        assert_eq!(entry["request_path"], "/api/v1/roles/assign");
        assert_eq!(entry["ip_address"], "127.0.0.1");
        assert_eq!(entry["success"], true);

        let (_, failed) = detail(app.get_as(&admin, "/api/v1/audit/logs?success=false").await).await;
        assert_eq!(actions(&failed["logs"]), ["login_failed"]);
        assert_eq!(failed["logs"][0]["error_message"], "invalid credentials");
        let (_, searched) = detail(app.get_as(&admin, "/api/v1/audit/logs?search=BOB&action=login").await).await;
        assert_eq!(searched["total"], 1);
        let (_, paged) = detail(app.get_as(&admin, "/api/v1/audit/logs?skip=1&limit=2").await).await;
        assert_eq!(paged["logs"].as_array().unwrap().len(), 2);
        assert_eq!(app.get_as(&admin, "/api/v1/audit/logs?limit=0").await.status(), 422);
        assert_eq!(app.get_as(&admin, "/api/v1/audit/logs?start_date=yesterday").await.status(), 422);

        let id = entry["id"].as_i64().unwrap();
        assert_eq!(detail(app.get_as(&admin, &format!("/api/v1/audit/logs/{id}")).await).await.1, *entry);
        assert_eq!(
            detail(app.get_as(&admin, "/api/v1/audit/logs/999999").await).await,
            (404, json!({"detail": "Audit log entry not found"}))
        );
        let (_, on_bob) = detail(app.get_as(&admin, &format!("/api/v1/audit/entity/user/{}", bob.id)).await).await;
        assert!(actions(&on_bob).contains(&"role_assigned".to_owned()));
        let (_, by_admin) = detail(app.get_as(&admin, &format!("/api/v1/audit/user/{}/activity", admin.id)).await).await;
        assert!(by_admin.as_array().unwrap().iter().all(|l| l["user_id"] == json!(admin.id)));

        let (status, filters) = detail(app.get_as(&admin, "/api/v1/audit/filters").await).await;
        assert_eq!(status, 200);
        assert!(filters["actions"].as_array().unwrap().contains(&json!("login")));
        let (_, stats) = detail(app.get_as(&admin, "/api/v1/audit/statistics").await).await;
        assert_eq!(stats["by_success"]["failed"], 1);
        assert_eq!(stats["by_action"]["role_assigned"], 1);
        assert_eq!(stats["total_entries"].as_u64().unwrap() as usize, all.len());
    }

    async fn only_admins_read_the_log_and_users_see_their_own(app: TestApp) {
        let bob = app.user("bob").await;
        let _alice = app.user("alice").await;
        assert_eq!(
            detail(app.get_as(&bob, "/api/v1/audit/logs").await).await,
            (403, json!({"detail": "Role required: admin"}))
        );
        let (status, mine) = detail(app.get_as(&bob, "/api/v1/audit/my-activity").await).await;
        assert_eq!(status, 200);
        assert!(!mine.as_array().unwrap().is_empty());
        assert!(mine.as_array().unwrap().iter().all(|l| l["username"] == "bob"));
        assert_eq!(app.get_as(&bob, "/api/v1/audit/my-activity?days=0").await.status(), 422);
    }

    async fn exports_carry_the_originals_formats(app: TestApp) {
        let admin = app.admin().await;
        app.user("bob").await;
        let response = app.get_as(&admin, "/api/v1/audit/export/csv?action=register").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-disposition"], "attachment; filename=audit_logs.csv");
        let csv = response.text().await.unwrap();
        let lines: Vec<_> = csv.lines().collect();
        assert_eq!(lines[0], "id,timestamp,user_id,username,action,entity_type,entity_id,entity_name,ip_address,request_method,request_path,success,details,error_message");
        assert_eq!(lines.len(), 3, "{csv}");
        let response = app.get_as(&admin, "/api/v1/audit/export/json").await;
        assert_eq!(response.headers()["content-disposition"], "attachment; filename=audit_logs.json");
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(body["total"].as_u64().unwrap() as usize, body["logs"].as_array().unwrap().len());
    }
}

both_backends! {
    #[app(clock)]
    async fn retention_deletes_old_entries_and_is_itself_logged(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        app.login("admin", PASSWORD, None).await;
        clock.advance(Duration::from_secs(10 * 24 * 3600));
        let admin = crate::support::TestUser {
            token: app.login("admin", PASSWORD, None).await.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().into(),
            ..admin
        };
        let (status, body) = detail(app.post_json_as(&admin, "/api/v1/audit/retention", &json!({"retention_days": 5})).await).await;
        assert_eq!(status, 200);
        assert_eq!(body["deleted_count"], 3, "register and two logins: {body}");
        assert_eq!(body["message"], "Successfully deleted 3 audit log entries older than 5 days");
        let (_, page) = detail(app.get_as(&admin, "/api/v1/audit/logs").await).await;
        assert_eq!(actions(&page["logs"]), ["apply_retention", "login"]);
        assert_eq!(app.post_json_as(&admin, "/api/v1/audit/retention", &json!({"retention_days": 0})).await.status(), 422);
    }
}
