//! Labels (`/api/v1/labels`, original §2.22): every operation and error message, the fixed
//! `sort_by` (422, not 500), merge atomicity (a merge failing half-way changes nothing), labels
//! in the resource's answer and the `label=category:value` filter (AND).

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::TestApp;
use crate::support::auth::TestUser;

const BASE: &str = "/api/v1/labels";

async fn label(app: &TestApp, admin: &TestUser, category: &str, value: &str) -> i64 {
    let response = app
        .post_json_as(admin, BASE, &json!({"category": category, "value": value}))
        .await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn detail(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    response.json::<Value>().await.unwrap()["detail"].clone()
}

async fn ok_json(response: reqwest::Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn full_names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|l| l["full_name"].as_str().unwrap().to_owned())
        .collect()
}

async fn assign(app: &TestApp, admin: &TestUser, resource: i64, labels: &[i64]) -> Value {
    ok_json(
        app.put_json_as(
            admin,
            &format!("{BASE}/resources/{resource}"),
            &json!({"label_ids": labels}),
        )
        .await,
    )
    .await
}

both_backends! {
    async fn labels_are_created_read_changed_and_deleted_by_admins(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let response = app.post_json_as(&admin, BASE, &json!({"category": " equipment ", "value": " projector "})).await;
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["category"], "equipment");
        assert_eq!(created["value"], "projector");
        assert_eq!(created["color"], "#6366f1");
        assert_eq!(created["full_name"], "equipment:projector");
        assert_eq!(created["resource_count"], 0);
        assert_eq!(created["description"], Value::Null);
        assert_eq!(created["updated_at"], Value::Null);
        assert!(created["created_at"].is_string());
        let id = created["id"].as_i64().unwrap();

        assert_eq!(detail(app.post_json_as(&admin, BASE, &json!({"category": "equipment", "value": "projector"})).await, 409).await, "Label 'equipment:projector' already exists");
        assert_eq!(detail(app.post_json_as(&bob, BASE, &json!({"category": "a", "value": "b"})).await, 403).await, "Admin access required");
        assert_eq!(app.client.post(app.url(BASE)).json(&json!({"category": "a", "value": "b"})).send().await.unwrap().status(), 401);
        for bad in [json!({"category": " ", "value": "b"}), json!({"category": "a", "value": ""}), json!({"category": "a", "value": "b", "color": "red"}),
                    json!({"category": "a", "value": "b", "color": "#12345g"}), json!({"category": "c".repeat(101), "value": "b"}),
                    json!({"category": "a", "value": "v".repeat(201)}), json!({"value": "b"})] {
            assert_eq!(app.post_json_as(&admin, BASE, &bad).await.status(), 422, "{bad}");
        }

        let one = ok_json(app.get_as(&bob, &format!("{BASE}/{id}")).await).await;
        assert_eq!(one["full_name"], "equipment:projector");
        assert_eq!(detail(app.get_as(&bob, &format!("{BASE}/9999")).await, 404).await, "Label not found");

        let changed = ok_json(app.put_json_as(&admin, &format!("{BASE}/{id}"), &json!({"value": "beamer", "color": "#FF0000", "description": "HDMI"})).await).await;
        assert_eq!(changed["full_name"], "equipment:beamer");
        assert_eq!(changed["color"], "#FF0000");
        assert_eq!(changed["description"], "HDMI");
        assert!(changed["updated_at"].is_string());
        label(&app, &admin, "equipment", "screen").await;
        assert_eq!(detail(app.put_json_as(&admin, &format!("{BASE}/{id}"), &json!({"value": "screen"})).await, 409).await, "Label 'equipment:screen' already exists");
        assert_eq!(detail(app.put_json_as(&admin, &format!("{BASE}/9999"), &json!({"value": "x"})).await, 404).await, "Label not found");
        assert_eq!(detail(app.put_json_as(&bob, &format!("{BASE}/{id}"), &json!({"value": "x"})).await, 403).await, "Admin access required");
        assert_eq!(app.put_json_as(&admin, &format!("{BASE}/{id}"), &json!({"color": "blue"})).await.status(), 422);

        let room = app.resource(&admin, "Room").await;
        assign(&app, &admin, room, &[id]).await;
        let deleted = ok_json(app.delete_as(&admin, &format!("{BASE}/{id}")).await).await;
        assert_eq!(deleted["message"], "Label 'equipment:beamer' deleted successfully");
        assert_eq!(detail(app.delete_as(&admin, &format!("{BASE}/{id}")).await, 404).await, "Label not found");
        assert_eq!(detail(app.delete_as(&bob, &format!("{BASE}/9999")).await, 403).await, "Admin access required");
        assert_eq!(ok_json(app.get_as(&bob, &format!("{BASE}/resources/{room}")).await).await, json!([]), "its assignments went with it");
    }

    async fn lists_filter_sort_and_page_with_a_fixed_set_of_keys(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        for (category, value) in [("room", "quiet"), ("equipment", "projector"), ("equipment", "100%_sure"), ("access", "wheelchair"), ("equipment", "screen")] {
            label(&app, &admin, category, value).await;
        }
        let first = ok_json(app.get_as(&bob, &format!("{BASE}?limit=2")).await).await;
        assert_eq!(first["total_count"], 5, "always filled");
        assert_eq!(first["has_more"], true);
        assert_eq!(first["prev_cursor"], Value::Null);
        assert_eq!(full_names(&first["data"])[0], "access:wheelchair", "by category by default");
        let mut seen = full_names(&first["data"]);
        let mut cursor = first["next_cursor"].as_str().unwrap().to_owned();
        loop {
            let page = ok_json(app.get_as(&bob, &format!("{BASE}?limit=2&cursor={cursor}")).await).await;
            seen.extend(full_names(&page["data"]));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(seen.len(), 5, "pages neither skip nor repeat: {seen:?}");
        let by_value = ok_json(app.get_as(&bob, &format!("{BASE}?sort_by=value&sort_order=desc&limit=2")).await).await;
        assert_eq!(full_names(&by_value["data"]), ["access:wheelchair", "equipment:screen"]);
        let next = by_value["next_cursor"].as_str().unwrap();
        let by_value = ok_json(app.get_as(&bob, &format!("{BASE}?sort_by=value&sort_order=desc&limit=2&cursor={next}")).await).await;
        assert_eq!(full_names(&by_value["data"]), ["room:quiet", "equipment:projector"], "the cursor follows the sort (the original's did not)");
        for key in ["id", "created_at", "resource_count", "category", "value"] {
            assert_eq!(app.get_as(&bob, &format!("{BASE}?sort_by={key}")).await.status(), 200, "{key}");
        }
        let refused = app.get_as(&bob, &format!("{BASE}?sort_by=resources")).await;
        assert_eq!(refused.status(), 422, "an unknown sort key is the client's mistake (the original answered 500)");
        assert_eq!(app.get_as(&bob, &format!("{BASE}?sort_order=up")).await.status(), 400);
        assert_eq!(app.get_as(&bob, &format!("{BASE}?limit=101")).await.status(), 422);

        let equipment = ok_json(app.get_as(&bob, &format!("{BASE}?category=equipment")).await).await;
        assert_eq!(equipment["total_count"], 3);
        let searched = ok_json(app.get_as(&bob, &format!("{BASE}?search=PROJ")).await).await;
        assert_eq!(full_names(&searched["data"]), ["equipment:projector"]);
        let literal = ok_json(app.get_as(&bob, &format!("{BASE}?search=%25_")).await).await;
        assert_eq!(full_names(&literal["data"]), ["equipment:100%_sure"], "% and _ are matched literally");
        assert_eq!(app.get(BASE).await.status(), 401);

        let categories = ok_json(app.get_as(&bob, &format!("{BASE}/categories")).await).await;
        assert_eq!(categories, json!([
            {"category": "access", "label_count": 1},
            {"category": "equipment", "label_count": 3},
            {"category": "room", "label_count": 1},
        ]));
    }

    async fn resources_carry_labels_and_are_filtered_by_them(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let projector = label(&app, &admin, "equipment", "projector").await;
        let wheelchair = label(&app, &admin, "access", "wheelchair").await;
        let quiet = label(&app, &admin, "Ambiente", "Ñandú").await;
        let (a, b, c) = (app.resource(&admin, "A").await, app.resource(&admin, "B").await, app.resource(&admin, "C").await);

        let assigned = assign(&app, &admin, a, &[projector, wheelchair, projector]).await;
        assert_eq!(full_names(&assigned), ["access:wheelchair", "equipment:projector"], "deduplicated");
        assign(&app, &admin, b, &[projector, quiet]).await;
        assign(&app, &admin, c, &[wheelchair]).await;
        let replaced = assign(&app, &admin, c, &[quiet]).await;
        assert_eq!(full_names(&replaced), ["Ambiente:Ñandú"], "replaces, not adds");
        assert_eq!(detail(app.put_json_as(&admin, &format!("{BASE}/resources/{c}"), &json!({"label_ids": [quiet, 9999]})).await, 400).await, "One or more label IDs are invalid");
        assert_eq!(full_names(&ok_json(app.get_as(&bob, &format!("{BASE}/resources/{c}")).await).await), ["Ambiente:Ñandú"], "a refused replacement changes nothing");
        assert_eq!(detail(app.put_json_as(&admin, &format!("{BASE}/resources/9999"), &json!({"label_ids": []})).await, 404).await, "Resource not found");
        assert_eq!(detail(app.put_json_as(&bob, &format!("{BASE}/resources/{c}"), &json!({"label_ids": []})).await, 403).await, "Admin access required");
        assert_eq!(detail(app.get_as(&bob, &format!("{BASE}/resources/9999")).await, 404).await, "Resource not found");
        let of_a = ok_json(app.get_as(&bob, &format!("{BASE}/resources/{a}")).await).await;
        assert_eq!(full_names(&of_a), ["access:wheelchair", "equipment:projector"]);
        assert_eq!(ok_json(app.get_as(&bob, &format!("{BASE}/{projector}")).await).await["resource_count"], 2);

        // In the resource's answer.
        let one = ok_json(app.get(&format!("/api/v1/resources/{a}")).await).await;
        assert_eq!(one["labels"].as_array().unwrap().iter().map(|l| l["full_name"].as_str().unwrap()).collect::<Vec<_>>(), ["access:wheelchair", "equipment:projector"]);
        assert_eq!(one["labels"][0]["color"], "#6366f1");
        let listed = ok_json(app.get("/api/v1/resources").await).await;
        assert_eq!(listed["data"][2]["labels"][0]["full_name"], "Ambiente:Ñandú");

        // The filter: every label, case-insensitively (Unicode too).
        let found = |query: &str| {
            let app = &app;
            let query = query.to_owned();
            async move {
                let page = ok_json(app.get(&format!("/api/v1/resources/search?available_only=false&{query}")).await).await;
                page["data"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
            }
        };
        assert_eq!(found("label=equipment:projector").await, ["A", "B"]);
        assert_eq!(found("label=equipment:projector&label=access:wheelchair").await, ["A"], "AND");
        assert_eq!(found("label=EQUIPMENT:Projector&label=ambiente:ÑANDÚ").await, ["B"]);
        assert_eq!(found("label=access:wheelchair&label=access:wheelchair").await, ["A"], "a repeated label is one label");
        assert_eq!(app.get("/api/v1/resources/search?label=projector").await.status(), 422);
    }

    async fn merge_moves_assignments_and_deletes_the_sources(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let beamer = label(&app, &admin, "equipment", "beamer").await;
        let projector = label(&app, &admin, "equipment", "projector").await;
        let proj = label(&app, &admin, "equipment", "proj").await;
        let wheelchair = label(&app, &admin, "access", "wheelchair").await;
        let (a, b) = (app.resource(&admin, "A").await, app.resource(&admin, "B").await);
        assign(&app, &admin, a, &[beamer, projector]).await;
        assign(&app, &admin, b, &[proj]).await;
        let merge = |sources: Value, target: Value| json!({"source_label_ids": sources, "target_label_id": target});
        let path = format!("{BASE}/merge");

        assert_eq!(detail(app.post_json_as(&admin, &path, &merge(json!([beamer, projector]), json!(projector))).await, 400).await, "Target label cannot be in source labels list");
        assert_eq!(detail(app.post_json_as(&admin, &path, &merge(json!([beamer]), json!(9999))).await, 404).await, "Target label not found");
        assert_eq!(detail(app.post_json_as(&admin, &path, &merge(json!([beamer, 9999]), json!(projector))).await, 404).await, "One or more source labels not found");
        assert_eq!(detail(app.post_json_as(&admin, &path, &merge(json!([wheelchair]), json!(projector))).await, 400).await, "All labels must be in the same category to merge");
        assert_eq!(detail(app.post_json_as(&bob, &path, &merge(json!([beamer]), json!(projector))).await, 403).await, "Admin access required");
        assert_eq!(app.post_json_as(&admin, &path, &merge(json!([]), json!(projector))).await.status(), 422);
        assert_eq!(app.post_json_as(&admin, &path, &merge(json!([beamer, beamer]), json!(projector))).await.status(), 422);

        let merged = ok_json(app.post_json_as(&admin, &path, &merge(json!([beamer, proj]), json!(projector))).await).await;
        assert_eq!(merged["full_name"], "equipment:projector");
        assert_eq!(merged["resource_count"], 2);
        assert_eq!(full_names(&ok_json(app.get_as(&bob, &format!("{BASE}/resources/{a}")).await).await), ["equipment:projector"]);
        assert_eq!(full_names(&ok_json(app.get_as(&bob, &format!("{BASE}/resources/{b}")).await).await), ["equipment:projector"]);
        assert_eq!(app.get_as(&bob, &format!("{BASE}/{beamer}")).await.status(), 404);
        assert_eq!(app.get_as(&bob, &format!("{BASE}/{proj}")).await.status(), 404);
    }

    async fn a_merge_failing_half_way_changes_nothing(app: TestApp) {
        let admin = app.admin().await;
        let beamer = label(&app, &admin, "equipment", "beamer").await;
        let projector = label(&app, &admin, "equipment", "projector").await;
        let (a, b) = (app.resource(&admin, "A").await, app.resource(&admin, "B").await);
        assign(&app, &admin, a, &[beamer]).await;
        assign(&app, &admin, b, &[beamer, projector]).await;

        // A planted trigger makes the last step of the merge (deleting the sources) fail, after
        // the assignments were moved.
        let db = app.database().connect().await;
        let plant = match app.database().backend() {
            crate::support::Backend::Sqlite => "CREATE TRIGGER planted BEFORE DELETE ON labels BEGIN SELECT RAISE(ABORT, 'planted failure'); END".to_owned(),
            crate::support::Backend::Postgres => "CREATE FUNCTION planted() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'planted failure'; END $$ LANGUAGE plpgsql; \
                                  CREATE TRIGGER planted BEFORE DELETE ON labels FOR EACH ROW EXECUTE FUNCTION planted()".to_owned(),
        };
        let mut tx = db.begin().await.unwrap();
        tx.execute_batch(&plant).await.unwrap();
        tx.commit().await.unwrap();

        let response = app.post_json_as(&admin, &format!("{BASE}/merge"), &json!({"source_label_ids": [beamer], "target_label_id": projector})).await;
        assert_eq!(response.status(), 500);
        assert_eq!(full_names(&ok_json(app.get_as(&admin, &format!("{BASE}/resources/{a}")).await).await), ["equipment:beamer"], "nothing moved");
        assert_eq!(full_names(&ok_json(app.get_as(&admin, &format!("{BASE}/resources/{b}")).await).await), ["equipment:beamer", "equipment:projector"]);
        assert_eq!(ok_json(app.get_as(&admin, &format!("{BASE}/{projector}")).await).await["resource_count"], 1);
        assert_eq!(ok_json(app.get_as(&admin, &format!("{BASE}/{beamer}")).await).await["resource_count"], 2);
        let moved = db.query_one("SELECT COUNT(*) AS n FROM resource_labels", vec![]).await.unwrap();
        assert_eq!(moved.get::<i64>("n").unwrap(), 3);
        db.close().await;
    }
}
