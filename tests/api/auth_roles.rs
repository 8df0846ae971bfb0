//! Roles: who may list, create, assign and remove them; what they grant.

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::response::status_and_body as detail;

both_backends! {
    async fn only_admins_manage_roles_with_the_originals_messages(app: TestApp) {
        let bob = app.user("bob").await;
        assert_eq!(
            detail(app.get_as(&bob, "/api/v1/roles/").await).await,
            (403, json!({"detail": "Insufficient permissions: read on user"}))
        );
        assert_eq!(
            detail(app.post_json_as(&bob, "/api/v1/roles/assign", &json!({"user_id": bob.id, "role_name": "admin"})).await).await,
            (403, json!({"detail": "Role required: admin"}))
        );
        let admin = app.admin().await;
        let (status, roles) = detail(app.get_as(&admin, "/roles").await).await;
        assert_eq!(status, 200);
        let names: Vec<_> = roles.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["admin", "manager", "user", "guest"]);
        assert_eq!(roles[0]["description"], "Administrator with full access");
    }

    async fn roles_are_created_assigned_and_removed(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let (status, role) = detail(app.post_json_as(&admin, "/api/v1/roles/", &json!({"name": "auditor", "description": "Reads"})).await).await;
        assert_eq!(status, 200);
        assert_eq!(role["name"], "auditor");
        assert_eq!(
            detail(app.post_json_as(&admin, "/api/v1/roles", &json!({"name": "auditor"})).await).await,
            (400, json!({"detail": "Role already exists"}))
        );
        assert_eq!(
            detail(app.post_json_as(&admin, "/api/v1/roles/assign", &json!({"username": "bob", "role_name": "Manager"})).await).await,
            (200, json!({"message": "Role 'Manager' assigned successfully"}))
        );
        let mine: Value = app.get_as(&bob, "/api/v1/roles/my-roles").await.json().await.unwrap();
        let names: Vec<_> = mine.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["manager", "user"]);
        let removal = app
            .request_as(&admin, reqwest::Method::DELETE, "/roles/assign")
            .json(&json!({"user_id": bob.id, "role_name": "manager"}))
            .send()
            .await
            .unwrap();
        assert_eq!(detail(removal).await, (200, json!({"message": "Role 'manager' removed successfully"})));
        let mine: Value = app.get_as(&bob, "/api/v1/roles/my-roles").await.json().await.unwrap();
        assert_eq!(mine.as_array().unwrap().len(), 1);
        let last_admin = app
            .request_as(&admin, reqwest::Method::DELETE, "/api/v1/roles/assign")
            .json(&json!({"user_id": admin.id, "role_name": "admin"}))
            .send()
            .await
            .unwrap();
        assert_eq!(detail(last_admin).await, (400, json!({"detail": "Cannot remove the last admin"})));

        for (body, expected) in [
            (json!({"username": "nobody", "role_name": "user"}), (404, json!({"detail": "User 'nobody' not found"}))),
            (json!({"user_id": 999_999, "role_name": "user"}), (404, json!({"detail": "User not found"}))),
            (json!({"role_name": "user"}), (400, json!({"detail": "Either user_id or username is required"}))),
            (json!({"user_id": bob.id, "role_name": "wizard"}), (404, json!({"detail": "Role not found"}))),
        ] {
            assert_eq!(detail(app.post_json_as(&admin, "/api/v1/roles/assign", &body).await).await, expected);
        }
    }

    async fn a_removed_role_stops_working_at_once(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user_with_role("bob", "admin").await;
        assert_eq!(app.get_as(&bob, "/api/v1/roles").await.status(), 200);
        let removal = app
            .request_as(&admin, reqwest::Method::DELETE, "/api/v1/roles/assign")
            .json(&json!({"user_id": bob.id, "role_name": "admin"}))
            .send()
            .await
            .unwrap();
        assert_eq!(removal.status(), 200);
        assert_eq!(app.get_as(&bob, "/api/v1/roles").await.status(), 403);
    }

    async fn guests_only_read(app: TestApp) {
        let gus = app.guest("gus").await;
        assert_eq!(app.get_as(&gus, "/api/v1/users/me").await.status(), 200);
        let response = app
            .post_json_as(&gus, "/api/v1/oauth/clients", &json!({"client_name": "x", "redirect_uris": ["https://x.example"]}))
            .await;
        assert_eq!(detail(response).await, (403, json!({"detail": "Insufficient permissions: manage on oauth_client"})));
        let manager = app.manager("mia").await;
        let roles: Value = app.get_as(&manager, "/api/v1/roles/my-roles").await.json().await.unwrap();
        assert_eq!(roles.as_array().unwrap().len(), 2);
        assert_eq!(app.assert_denied(&manager, reqwest::Method::GET, "/api/v1/audit/logs", &json!({})).await, 403);
    }
}
