//! The OpenAPI document (`/openapi.json`) against the route table and against the real answers,
//! and the documentation pages (`/docs`, `/redoc`) against the rule that they load nothing from
//! outside the server.

use reqwest::Method;
use resource_reserver::auth::Access;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::TestApp;
use crate::support::booking::at;

async fn document(app: &TestApp) -> Value {
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    response.json().await.expect("/openapi.json is JSON")
}

/// The documented operation of `method` at the path template `template`.
fn operation<'a>(doc: &'a Value, method: &Method, template: &str) -> &'a Value {
    let operation = &doc["paths"][template][method.as_str().to_ascii_lowercase()];
    assert!(operation.is_object(), "{method} {template} is not in the document");
    operation
}

/// Checks one real answer against the document: its status is documented for the operation,
/// and a JSON body matches the documented schema. Returns the body.
async fn conforms(doc: &Value, method: Method, template: &str, response: reqwest::Response) -> Value {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    let mut documented = operation(doc, &method, template)["responses"][status.to_string()].clone();
    assert!(
        documented.is_object(),
        "{method} {template} answered {status}, which is not documented: {text}"
    );
    if let Some(reference) = documented["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        documented = doc["components"]["responses"][name].clone();
    }
    let Some(content) = documented["content"].as_object() else {
        assert!(
            text.is_empty(),
            "{method} {template} {status}: documented without a body, got {text}"
        );
        return Value::Null;
    };
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    let Some(described) = content.get(media_type) else {
        panic!("{method} {template} {status}: content type {content_type} is not documented ({content:?})");
    };
    if media_type != "application/json" {
        return Value::String(text);
    }
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {template}: not JSON: {text}"));
    // The schema's `$ref`s point into the document: validate against a root that carries the
    // document's components, so `#/components/schemas/…` resolves as it does in the document.
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [described["schema"]],
    });
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the documented schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {template} {status} does not match its schema: {errors:?}\nbody: {body}"
    );
    body
}

both_backends! {
    async fn the_document_is_openapi_3_1_and_lists_every_route_of_the_table(app: TestApp) {
        let doc = document(&app).await;
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."), "{}", doc["openapi"]);
        let table = resource_reserver::routes::table();
        let mut listed = 0;
        for endpoint in table.endpoints() {
            if resource_reserver::openapi::excluded(&endpoint.path) {
                continue;
            }
            listed += 1;
            let operation = &doc["paths"][&endpoint.path][endpoint.method.as_str().to_ascii_lowercase()];
            assert!(
                operation.is_object(),
                "{} {} is in the route table but not in /openapi.json: describe it in src/openapi/catalogue.rs",
                endpoint.method,
                endpoint.path
            );
            assert_eq!(operation["deprecated"].as_bool().unwrap_or(false), endpoint.alias, "{}", endpoint.path);
            let security = operation["security"].as_array().expect("security is explicit");
            match endpoint.access {
                Access::Public => assert!(security.is_empty(), "{} is public", endpoint.path),
                Access::Permission(permission) => {
                    let expected = format!("{}:{}", permission.object(), permission.action());
                    assert_eq!(operation["x-permission"], expected.as_str(), "{}", endpoint.path);
                    assert!(operation["description"].as_str().unwrap().contains(&expected));
                    assert!(security.contains(&json!({ "bearer": [] })));
                    assert!(operation["responses"]["403"].is_object());
                }
                _ => {
                    assert!(!security.is_empty(), "{} needs credentials", endpoint.path);
                    assert!(operation["responses"]["401"].is_object(), "{}", endpoint.path);
                }
            }
            assert!(operation["responses"]["422"].is_object(), "{}", endpoint.path);
            let has_success = operation["responses"]
                .as_object()
                .unwrap()
                .keys()
                .any(|status| status.starts_with('2') || status == "101");
            assert!(has_success, "{} {} documents no success answer", endpoint.method, endpoint.path);
        }
        // And nothing is documented that the server does not answer.
        let mut documented = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                documented += 1;
                assert!(
                    table.endpoints().any(|e| &e.path == path && e.method.as_str().eq_ignore_ascii_case(method)),
                    "{method} {path} is documented but not a route"
                );
            }
        }
        assert_eq!(listed, documented);
        for scheme in ["bearer", "oauth2", "cookie"] {
            assert!(doc["components"]["securitySchemes"][scheme].is_object(), "{scheme}");
        }
        let flow = &doc["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"];
        assert_eq!(flow["authorizationUrl"], "/api/v1/oauth/authorize");
        assert_eq!(flow["tokenUrl"], "/api/v1/oauth/token");
    }

    async fn the_dashboard_and_the_documentation_are_excluded_explicitly(app: TestApp) {
        let doc = document(&app).await;
        for path in ["/", "/index.html", "/assets/{path}", "/api/v1/web/session", "/docs", "/redoc", "/openapi.json"] {
            assert!(doc["paths"][path].is_null(), "{path} is documented");
        }
        // Excluding is by name: an unrelated route is not excluded by accident.
        assert!(!resource_reserver::openapi::excluded("/api/v1/reservations"));
    }

    async fn swagger_ui_and_redoc_load_only_from_the_server(app: TestApp) {
        for (page, base) in [("/docs", "/"), ("/docs/", "/"), ("/redoc", "/")] {
            let response = app.get(page).await;
            assert_eq!(response.status(), 200, "{page}");
            let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
            assert!(policy.contains("default-src 'self'") && !policy.contains("http"), "{policy}");
            let html = response.text().await.unwrap();
            let assets = attribute_values(&html, &["src=\"", "href=\""]);
            assert!(!assets.is_empty(), "{page} loads its scripts");
            for asset in assets {
                assert!(!asset.contains("//"), "{page} loads {asset} from elsewhere");
                let url = if asset.starts_with('/') { asset.clone() } else { format!("{base}{}", asset.trim_start_matches("./")) };
                let loaded = app.get(&url).await;
                assert_eq!(loaded.status(), 200, "{page} needs {url}");
                assert!(!loaded.bytes().await.unwrap().is_empty(), "{url}");
            }
        }
        let initializer = app.get("/docs/swagger-initializer.js").await.text().await.unwrap();
        assert!(initializer.contains("\"/openapi.json\""), "{initializer}");
        assert!(initializer.contains("\"validatorUrl\": \"none\""), "no outside validator: {initializer}");
        let redoc = app.get("/redoc").await.text().await.unwrap();
        assert!(redoc.contains("spec-url=\"/openapi.json\""), "{redoc}");
        let script = app.get("/redoc/redoc.standalone.js").await.text().await.unwrap();
        assert!(!script.contains("cdn.redoc.ly"), "the vendored ReDoc loads no logo from a CDN");
    }

    async fn real_answers_conform_to_the_document(app: TestApp) {
        let doc = document(&app).await;
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let carol = app.user("carol").await;

        // Probes and the public answers.
        for path in ["/health", "/ready", "/live", "/api/versions", "/metrics", "/api/v1/setup/status"] {
            conforms(&doc, Method::GET, path, app.get(path).await).await;
        }

        // Accounts.
        let form = [("username", "dave"), ("password", crate::support::PASSWORD)];
        let register = app.client.post(app.url("/api/v1/register")).json(&json!({"username": "dave", "password": crate::support::PASSWORD})).send().await.unwrap();
        conforms(&doc, Method::POST, "/api/v1/register", register).await;
        let again = app.client.post(app.url("/api/v1/register")).json(&json!({"username": "dave", "password": crate::support::PASSWORD})).send().await.unwrap();
        assert!(again.status().is_client_error());
        conforms(&doc, Method::POST, "/api/v1/register", again).await;
        let token = app.client.post(app.url("/api/v1/token")).form(&form).send().await.unwrap();
        assert_eq!(token.status(), 200);
        let tokens = conforms(&doc, Method::POST, "/api/v1/token", token).await;
        let wrong = app.client.post(app.url("/api/v1/token")).form(&[("username", "dave"), ("password", "wrong")]).send().await.unwrap();
        assert_eq!(wrong.status(), 401);
        conforms(&doc, Method::POST, "/api/v1/token", wrong).await;
        let refresh_token = tokens["refresh_token"].as_str().unwrap();
        let refreshed = app.client.post(app.url(&format!("/api/v1/token/refresh?refresh_token={refresh_token}"))).send().await.unwrap();
        conforms(&doc, Method::POST, "/api/v1/token/refresh", refreshed).await;
        conforms(&doc, Method::GET, "/api/v1/users/me", app.get_as(&bob, "/api/v1/users/me").await).await;
        conforms(&doc, Method::GET, "/api/v1/users/me", app.get("/api/v1/users/me").await).await;
        let preferences = app.patch_json_as(&bob, "/api/v1/users/me/preferences", &json!({"reminder_hours": 2})).await;
        assert_eq!(preferences.status(), 200);
        conforms(&doc, Method::PATCH, "/api/v1/users/me/preferences", preferences).await;
        let invalid = app.patch_json_as(&bob, "/api/v1/users/me/preferences", &json!({"reminder_hours": 0})).await;
        assert_eq!(invalid.status(), 422);
        conforms(&doc, Method::PATCH, "/api/v1/users/me/preferences", invalid).await;

        // Resources.
        let created = app.post_json_as(&admin, "/api/v1/resources", &json!({"name": "Room 1", "tags": ["big"]})).await;
        assert_eq!(created.status(), 201);
        let room = conforms(&doc, Method::POST, "/api/v1/resources", created).await["id"].as_i64().unwrap();
        let nameless = app.post_json_as(&admin, "/api/v1/resources", &json!({"name": ""})).await;
        assert_eq!(nameless.status(), 422);
        conforms(&doc, Method::POST, "/api/v1/resources", nameless).await;
        let forbidden = app.post_json_as(&bob, "/api/v1/resources", &json!({"name": "Mine"})).await;
        assert_eq!(forbidden.status(), 403);
        conforms(&doc, Method::POST, "/api/v1/resources", forbidden).await;
        let updated = app.put_json_as(&admin, &format!("/api/v1/resources/{room}"), &json!({"description": "Big room"})).await;
        conforms(&doc, Method::PUT, "/api/v1/resources/{resource_id}", updated).await;
        for template in [
            "/api/v1/resources/{resource_id}",
            "/api/v1/resources/{resource_id}/status",
            "/api/v1/resources/{resource_id}/availability",
            "/api/v1/resources/{resource_id}/schedule",
        ] {
            let path = template.replace("{resource_id}", &room.to_string());
            conforms(&doc, Method::GET, template, app.get_as(&bob, &path).await).await;
            let missing = template.replace("{resource_id}", "999999");
            conforms(&doc, Method::GET, template, app.get_as(&bob, &missing).await).await;
        }
        conforms(&doc, Method::GET, "/api/v1/resources/search", app.get_as(&bob, "/api/v1/resources/search?q=room").await).await;
        conforms(&doc, Method::GET, "/api/v1/resources", app.get("/api/v1/resources?limit=0").await).await;

        // Reservations.
        let booked = app.book(&bob, room, &at(9, 0), &at(10, 0)).await;
        assert_eq!(booked.status(), 201);
        let booking = conforms(&doc, Method::POST, "/api/v1/reservations", booked).await["id"].as_i64().unwrap();
        let overlap = app.book(&carol, room, &at(9, 30), &at(10, 30)).await;
        assert_eq!(overlap.status(), 409);
        conforms(&doc, Method::POST, "/api/v1/reservations", overlap).await;
        let backwards = app.book(&carol, room, &at(11, 0), &at(10, 0)).await;
        assert_eq!(backwards.status(), 422);
        conforms(&doc, Method::POST, "/api/v1/reservations", backwards).await;
        let anonymous = app.client.post(app.url("/api/v1/reservations")).json(&json!({"resource_id": room})).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        conforms(&doc, Method::POST, "/api/v1/reservations", anonymous).await;
        let one = format!("/api/v1/reservations/{booking}");
        conforms(&doc, Method::GET, "/api/v1/reservations/{reservation_id}", app.get_as(&bob, &one).await).await;
        let strangers = app.get_as(&carol, &one).await;
        assert_eq!(strangers.status(), 404);
        conforms(&doc, Method::GET, "/api/v1/reservations/{reservation_id}", strangers).await;
        let moved = app.patch_json_as(&bob, &one, &json!({"start_time": at(12, 0), "end_time": at(13, 0)})).await;
        conforms(&doc, Method::PATCH, "/api/v1/reservations/{reservation_id}", moved).await;
        conforms(&doc, Method::GET, "/api/v1/reservations/my", app.get_as(&bob, "/api/v1/reservations/my").await).await;
        conforms(&doc, Method::GET, "/api/v1/reservations/{reservation_id}/history", app.get_as(&bob, &format!("{one}/history")).await).await;

        // The waiting list for the booked slot.
        let joined = app.post_json_as(&carol, "/api/v1/waitlist", &json!({"resource_id": room, "desired_start": at(12, 0), "desired_end": at(13, 0)})).await;
        assert_eq!(joined.status(), 201);
        let entry = conforms(&doc, Method::POST, "/api/v1/waitlist", joined).await["id"].as_i64().unwrap();
        conforms(&doc, Method::GET, "/api/v1/waitlist", app.get_as(&carol, "/api/v1/waitlist").await).await;
        conforms(&doc, Method::GET, "/api/v1/waitlist/{waitlist_id}", app.get_as(&carol, &format!("/api/v1/waitlist/{entry}")).await).await;
        conforms(&doc, Method::GET, "/api/v1/waitlist/resource/{resource_id}", app.get_as(&bob, &format!("/api/v1/waitlist/resource/{room}")).await).await;
        conforms(&doc, Method::GET, "/api/v1/waitlist/{waitlist_id}", app.get_as(&bob, &format!("/api/v1/waitlist/{entry}")).await).await;
        conforms(&doc, Method::DELETE, "/api/v1/waitlist/{waitlist_id}", app.delete_as(&carol, &format!("/api/v1/waitlist/{entry}")).await).await;

        let cancelled = app.post_json_as(&bob, &format!("{one}/cancel"), &json!({"reason": "plans changed"})).await;
        assert_eq!(cancelled.status(), 200);
        conforms(&doc, Method::POST, "/api/v1/reservations/{reservation_id}/cancel", cancelled).await;
        let cleanup = app.post_json_as(&admin, "/api/v1/admin/cleanup-expired", &json!({})).await;
        conforms(&doc, Method::POST, "/api/v1/admin/cleanup-expired", cleanup).await;
        let not_admin = app.post_json_as(&bob, "/api/v1/admin/cleanup-expired", &json!({})).await;
        assert_eq!(not_admin.status(), 403);
        conforms(&doc, Method::POST, "/api/v1/admin/cleanup-expired", not_admin).await;

        // Every parameterless read of the document, as the administrator, as a user and anonymously.
        let mut reads = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            if item["get"].is_object() && !path.contains('{') && path != "/ws" && item["get"]["deprecated"] != true {
                reads.push(path.clone());
            }
        }
        assert!(reads.len() > 40, "{reads:?}");
        for path in &reads {
            conforms(&doc, Method::GET, path, app.get_as(&admin, path).await).await;
            conforms(&doc, Method::GET, path, app.get_as(&bob, path).await).await;
            conforms(&doc, Method::GET, path, app.get(path).await).await;
        }

        // Signing out, then the resource's deletion.
        conforms(&doc, Method::POST, "/api/v1/logout", app.post_json_as(&bob, "/api/v1/logout", &json!({})).await).await;
        let deleted = app.delete_as(&admin, &format!("/api/v1/resources/{room}?cancel_reservations=true")).await;
        assert_eq!(deleted.status(), 200);
        conforms(&doc, Method::DELETE, "/api/v1/resources/{resource_id}", deleted).await;
    }
}

/// The values of the attributes that start with one of `prefixes` (`src="`), in order.
fn attribute_values(html: &str, prefixes: &[&str]) -> Vec<String> {
    let mut values = Vec::new();
    for prefix in prefixes {
        let mut rest = html;
        while let Some(start) = rest.find(prefix) {
            let after = &rest[start + prefix.len()..];
            let end = after.find('"').unwrap_or(after.len());
            values.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    values
}
