//! The OpenAPI document (`/openapi.json`) against the route table and against the real answers,
//! and the documentation pages (`/docs`, `/redoc`) against the rule that they load nothing from
//! outside the server.

use reqwest::Method;
use resource_reserver::auth::Access;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::TestApp;
use crate::support::auth::TestUser;
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
    let errors = violations(doc, &described["schema"], &body);
    assert!(
        errors.is_empty(),
        "{method} {template} {status} does not match its schema: {errors:?}\nbody: {body}"
    );
    body
}

/// Where `instance` breaks the documented `schema`, in words (empty when it matches).
fn violations(doc: &Value, schema: &Value, instance: &Value) -> Vec<String> {
    // The schema's `$ref`s point into the document: validate against a root that carries the
    // document's components, so `#/components/schemas/…` resolves as it does in the document.
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    });
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the documented schema compiles");
    validator
        .iter_errors(instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect()
}

/// Checks a request body the API accepted against the operation's documented request body of
/// `media_type` (a form's fields as a JSON object of strings): the schema is derived from the
/// handler's type, so one that drifted from what the type really accepts fails here.
fn accepted(doc: &Value, (method, template): (&Method, &str), media_type: &str, body: &Value) {
    let described = &operation(doc, method, template)["requestBody"]["content"][media_type]["schema"];
    assert!(
        described.is_object(),
        "{method} {template} accepted a {media_type} body the document does not describe: {body}"
    );
    let errors = violations(doc, described, body);
    assert!(
        errors.is_empty(),
        "{method} {template} accepted a body its documented schema refuses: {errors:?}\nbody: {body}"
    );
}

/// Sends a request to `path` (an instance of the template `template`) as `user`, with a JSON body
/// when given, and checks that it is answered with `status` and conforms to the document, and
/// that a body it accepted (a success) matches the documented request body. Returns the body.
async fn expect(
    app: &TestApp,
    doc: &Value,
    user: &TestUser,
    (method, template, path): (Method, &str, &str),
    body: Option<Value>,
    status: u16,
) -> Value {
    let mut request = app.request_as(user, method.clone(), path);
    let sent = body;
    if let Some(body) = &sent {
        request = request.json(body);
    }
    let response = request.send().await.expect("request failed");
    if response.status() != status {
        let answered = response.status();
        panic!(
            "{method} {path}: {answered}, not {status}: {}",
            response.text().await.unwrap_or_default()
        );
    }
    if let (Some(body), true) = (&sent, response.status().is_success()) {
        accepted(doc, (&method, template), "application/json", body);
    }
    conforms(doc, method, template, response).await
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
        let account = json!({"username": "dave", "password": crate::support::PASSWORD});
        let register = app.client.post(app.url("/api/v1/register")).json(&account).send().await.unwrap();
        assert_eq!(register.status(), 201);
        accepted(&doc, (&Method::POST, "/api/v1/register"), "application/json", &account);
        conforms(&doc, Method::POST, "/api/v1/register", register).await;
        let again = app.client.post(app.url("/api/v1/register")).json(&json!({"username": "dave", "password": crate::support::PASSWORD})).send().await.unwrap();
        assert!(again.status().is_client_error());
        conforms(&doc, Method::POST, "/api/v1/register", again).await;
        let token = app.client.post(app.url("/api/v1/token")).form(&form).send().await.unwrap();
        assert_eq!(token.status(), 200);
        accepted(&doc, (&Method::POST, "/api/v1/token"), "application/x-www-form-urlencoded", &account);
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
        accepted(&doc, (&Method::PATCH, "/api/v1/users/me/preferences"), "application/json", &json!({"reminder_hours": 2}));
        conforms(&doc, Method::PATCH, "/api/v1/users/me/preferences", preferences).await;
        let invalid = app.patch_json_as(&bob, "/api/v1/users/me/preferences", &json!({"reminder_hours": 0})).await;
        assert_eq!(invalid.status(), 422);
        conforms(&doc, Method::PATCH, "/api/v1/users/me/preferences", invalid).await;

        // Resources.
        let created = app.post_json_as(&admin, "/api/v1/resources", &json!({"name": "Room 1", "tags": ["big"]})).await;
        assert_eq!(created.status(), 201);
        accepted(&doc, (&Method::POST, "/api/v1/resources"), "application/json", &json!({"name": "Room 1", "tags": ["big"]}));
        let room = conforms(&doc, Method::POST, "/api/v1/resources", created).await["id"].as_i64().unwrap();
        let nameless = app.post_json_as(&admin, "/api/v1/resources", &json!({"name": ""})).await;
        assert_eq!(nameless.status(), 422);
        conforms(&doc, Method::POST, "/api/v1/resources", nameless).await;
        let forbidden = app.post_json_as(&bob, "/api/v1/resources", &json!({"name": "Mine"})).await;
        assert_eq!(forbidden.status(), 403);
        conforms(&doc, Method::POST, "/api/v1/resources", forbidden).await;
        let updated = app.put_json_as(&admin, &format!("/api/v1/resources/{room}"), &json!({"description": "Big room"})).await;
        assert_eq!(updated.status(), 200);
        accepted(&doc, (&Method::PUT, "/api/v1/resources/{resource_id}"), "application/json", &json!({"description": "Big room"}));
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
        let slot = json!({"start_time": at(12, 0), "end_time": at(13, 0)});
        let moved = app.patch_json_as(&bob, &one, &slot).await;
        assert_eq!(moved.status(), 200);
        accepted(&doc, (&Method::PATCH, "/api/v1/reservations/{reservation_id}"), "application/json", &slot);
        conforms(&doc, Method::PATCH, "/api/v1/reservations/{reservation_id}", moved).await;
        conforms(&doc, Method::GET, "/api/v1/reservations/my", app.get_as(&bob, "/api/v1/reservations/my").await).await;
        conforms(&doc, Method::GET, "/api/v1/reservations/{reservation_id}/history", app.get_as(&bob, &format!("{one}/history")).await).await;

        // The waiting list for the booked slot.
        let wish = json!({"resource_id": room, "desired_start": at(12, 0), "desired_end": at(13, 0)});
        let joined = app.post_json_as(&carol, "/api/v1/waitlist", &wish).await;
        assert_eq!(joined.status(), 201);
        accepted(&doc, (&Method::POST, "/api/v1/waitlist"), "application/json", &wish);
        let entry = conforms(&doc, Method::POST, "/api/v1/waitlist", joined).await["id"].as_i64().unwrap();
        conforms(&doc, Method::GET, "/api/v1/waitlist", app.get_as(&carol, "/api/v1/waitlist").await).await;
        conforms(&doc, Method::GET, "/api/v1/waitlist/{waitlist_id}", app.get_as(&carol, &format!("/api/v1/waitlist/{entry}")).await).await;
        conforms(&doc, Method::GET, "/api/v1/waitlist/resource/{resource_id}", app.get_as(&bob, &format!("/api/v1/waitlist/resource/{room}")).await).await;
        conforms(&doc, Method::GET, "/api/v1/waitlist/{waitlist_id}", app.get_as(&bob, &format!("/api/v1/waitlist/{entry}")).await).await;
        conforms(&doc, Method::DELETE, "/api/v1/waitlist/{waitlist_id}", app.delete_as(&carol, &format!("/api/v1/waitlist/{entry}")).await).await;

        let cancelled = app.post_json_as(&bob, &format!("{one}/cancel"), &json!({"reason": "plans changed"})).await;
        assert_eq!(cancelled.status(), 200);
        accepted(&doc, (&Method::POST, "/api/v1/reservations/{reservation_id}/cancel"), "application/json", &json!({"reason": "plans changed"}));
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

    #[app(webhook_receiver)]
    async fn the_answers_of_every_area_conform_to_the_document(app: TestApp, receiver: WebhookReceiver) {
        use Method as M;
        let doc = document(&app).await;
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let erin = app.user("erin").await;
        let room = app.create_resource(&admin, json!({"name": "Room 1", "tags": ["big", "quiet"]})).await;
        let other = app.create_resource(&admin, json!({"name": "Room 2"})).await;
        let r = |template: &str| template.replace("{resource_id}", &room.to_string());

        // Groups.
        let building = expect(&app, &doc, &admin, (M::POST, "/api/v1/resource-groups", "/api/v1/resource-groups"), Some(json!({"name": "North", "building": "N"})), 201).await["id"].as_i64().unwrap();
        let floor = expect(&app, &doc, &admin, (M::POST, "/api/v1/resource-groups", "/api/v1/resource-groups"), Some(json!({"name": "Floor 1", "parent_id": building, "floor": "1"})), 201).await["id"].as_i64().unwrap();
        let g = |template: &str| template.replace("{group_id}", &floor.to_string()).replace("{resource_id}", &room.to_string());
        expect(&app, &doc, &admin, (M::POST, "/api/v1/resource-groups/{group_id}/resources", &g("/api/v1/resource-groups/{group_id}/resources")), Some(json!({"resource_id": room})), 200).await;
        expect(&app, &doc, &admin, (M::POST, "/api/v1/resource-groups/resources/set-parent", "/api/v1/resource-groups/resources/set-parent"), Some(json!({"resource_id": other, "parent_id": room})), 200).await;
        let tree = expect(&app, &doc, &bob, (M::GET, "/api/v1/resource-groups/tree", "/api/v1/resource-groups/tree"), None, 200).await;
        assert_eq!(tree["groups"][0]["children"][0]["resource_count"], 1, "{tree}");
        let one = format!("/api/v1/resource-groups/{building}");
        expect(&app, &doc, &bob, (M::GET, "/api/v1/resource-groups/{group_id}", &one), None, 200).await;
        expect(&app, &doc, &admin, (M::PATCH, "/api/v1/resource-groups/{group_id}", &one), Some(json!({"room": null, "description": "The north wing"})), 200).await;
        expect(&app, &doc, &bob, (M::GET, "/api/v1/resource-groups/{group_id}/resources", &format!("{one}/resources?include_children=true")), None, 200).await;
        expect(&app, &doc, &bob, (M::GET, "/api/v1/resource-groups/resources/{resource_id}/children", &g("/api/v1/resource-groups/resources/{resource_id}/children")), None, 200).await;
        expect(&app, &doc, &bob, (M::GET, "/api/v1/resource-groups", "/api/v1/resource-groups?include_children=true"), None, 200).await;

        // Labels.
        let label = expect(&app, &doc, &admin, (M::POST, "/api/v1/labels", "/api/v1/labels"), Some(json!({"category": "floor", "value": "1"})), 201).await["id"].as_i64().unwrap();
        let spare = expect(&app, &doc, &admin, (M::POST, "/api/v1/labels", "/api/v1/labels"), Some(json!({"category": "floor", "value": "one", "description": "the same"})), 201).await["id"].as_i64().unwrap();
        expect(&app, &doc, &admin, (M::PUT, "/api/v1/labels/resources/{resource_id}", &r("/api/v1/labels/resources/{resource_id}")), Some(json!({"label_ids": [label, spare]})), 200).await;
        expect(&app, &doc, &bob, (M::GET, "/api/v1/labels/resources/{resource_id}", &r("/api/v1/labels/resources/{resource_id}")), None, 200).await;
        expect(&app, &doc, &admin, (M::POST, "/api/v1/labels/merge", "/api/v1/labels/merge"), Some(json!({"source_label_ids": [spare], "target_label_id": label})), 200).await;
        let l = format!("/api/v1/labels/{label}");
        expect(&app, &doc, &bob, (M::GET, "/api/v1/labels/{label_id}", &l), None, 200).await;
        expect(&app, &doc, &admin, (M::PUT, "/api/v1/labels/{label_id}", &l), Some(json!({"color": "#123456"})), 200).await;
        expect(&app, &doc, &bob, (M::GET, "/api/v1/labels", "/api/v1/labels?category=floor&limit=1"), None, 200).await;
        expect(&app, &doc, &bob, (M::GET, "/api/v1/resources/{resource_id}", &r("/api/v1/resources/{resource_id}")), None, 200).await;

        // Bookings of several kinds, and what reads them.
        let booked = expect(&app, &doc, &bob, (M::POST, "/api/v1/reservations", "/api/v1/reservations"), Some(json!({"resource_id": room, "start_time": at(9, 0), "end_time": at(10, 0)})), 201).await["id"].as_i64().unwrap();
        let batch = json!({"reservations": [{"resource_id": room, "start_time": at(11, 0), "end_time": at(12, 0)}, {"resource_id": room, "start_time": at(9, 30), "end_time": at(9, 45)}]});
        expect(&app, &doc, &bob, (M::POST, "/api/v1/bulk/reservations/validate", "/api/v1/bulk/reservations/validate"), Some(batch.clone()), 200).await;
        let mut dry_run = batch.clone();
        dry_run["dry_run"] = json!(true);
        expect(&app, &doc, &bob, (M::POST, "/api/v1/bulk/reservations", "/api/v1/bulk/reservations"), Some(dry_run), 200).await;
        expect(&app, &doc, &bob, (M::POST, "/api/v1/bulk/reservations", "/api/v1/bulk/reservations"), Some(batch), 200).await;
        let ok_batch = json!({"reservations": [{"resource_id": other, "start_time": at(11, 0), "end_time": at(12, 0)}]});
        let created = expect(&app, &doc, &bob, (M::POST, "/api/v1/bulk/reservations", "/api/v1/bulk/reservations"), Some(ok_batch), 200).await;
        let batch_booking = created["created"][0]["reservation_id"].as_i64().unwrap();
        expect(&app, &doc, &bob, (M::POST, "/api/v1/bulk/reservations/cancel", "/api/v1/bulk/reservations/cancel"), Some(json!({"reservation_ids": [batch_booking, 999999]})), 200).await;
        let series = json!({"resource_id": other, "start_time": at(13, 0), "end_time": at(14, 0), "recurrence": {"frequency": "daily", "end_type": "after_count", "occurrence_count": 2}});
        expect(&app, &doc, &bob, (M::POST, "/api/v1/reservations/recurring", "/api/v1/reservations/recurring"), Some(series.clone()), 201).await;
        // The third day is free: Bob's two are skipped.
        let mut skipping = series;
        skipping["skip_conflicts"] = json!(true);
        skipping["recurrence"]["occurrence_count"] = json!(3);
        expect(&app, &doc, &erin, (M::POST, "/api/v1/reservations/recurring", "/api/v1/reservations/recurring"), Some(skipping), 201).await;
        let hold = expect(&app, &doc, &bob, (M::POST, "/api/v1/holds", "/api/v1/holds"), Some(json!({"resource_id": room, "start_time": at(15, 0), "end_time": at(16, 0)})), 201).await["id"].as_i64().unwrap();
        expect(&app, &doc, &bob, (M::GET, "/api/v1/holds", "/api/v1/holds"), None, 200).await;
        expect(&app, &doc, &bob, (M::POST, "/api/v1/holds/{hold_id}/confirm", &format!("/api/v1/holds/{hold}/confirm")), None, 201).await;
        let ics = app.get_as(&bob, &format!("/api/v1/calendar/export/{booked}.ics")).await;
        assert_eq!(ics.status(), 200);
        conforms(&doc, M::GET, "/api/v1/calendar/export/{reservation_id}.ics", ics).await;
        expect(&app, &doc, &bob, (M::POST, "/api/v1/calendar/regenerate-token", "/api/v1/calendar/regenerate-token"), None, 200).await;

        // Search, with saved searches of both kinds.
        expect(&app, &doc, &bob, (M::GET, "/api/v1/search/resources", "/api/v1/search/resources?query=room&tags=big"), None, 200).await;
        expect(&app, &doc, &admin, (M::GET, "/api/v1/search/reservations", &format!("/api/v1/search/reservations?resource_id={room}&include_cancelled=true")), None, 200).await;
        expect(&app, &doc, &bob, (M::GET, "/api/v1/search/suggestions", "/api/v1/search/suggestions?query=ro"), None, 200).await;
        expect(&app, &doc, &bob, (M::GET, "/api/v1/search/resources/{resource_id}/availability", &r("/api/v1/search/resources/{resource_id}/availability?days_ahead=30")), None, 200).await;
        for (kind, filters) in [("resources", json!({"tags": ["big"]})), ("reservations", json!({"resource_id": room}))] {
            let saved = expect(&app, &doc, &bob, (M::POST, "/api/v1/search/saved", "/api/v1/search/saved"), Some(json!({"name": kind, "search_type": kind, "filters": filters})), 200).await["id"].as_i64().unwrap();
            let results = expect(&app, &doc, &bob, (M::POST, "/api/v1/search/saved/{search_id}/execute", &format!("/api/v1/search/saved/{saved}/execute")), None, 200).await;
            assert!(results["total"].as_i64().unwrap() >= 1, "{kind}: {results}");
        }
        let saved = expect(&app, &doc, &bob, (M::GET, "/api/v1/search/saved", "/api/v1/search/saved"), None, 200).await;
        let first = saved["saved_searches"][0]["id"].as_i64().unwrap();
        expect(&app, &doc, &bob, (M::DELETE, "/api/v1/search/saved/{search_id}", &format!("/api/v1/search/saved/{first}")), None, 200).await;

        // Opening hours, blackout dates, slots and the resource's state.
        let week: Vec<Value> = (0..7).map(|day| json!({"day_of_week": day, "open_time": "08:00", "close_time": "18:00"})).collect();
        expect(&app, &doc, &admin, (M::PUT, "/api/v1/resources/{resource_id}/business-hours", &r("/api/v1/resources/{resource_id}/business-hours")), Some(json!({"hours": week})), 200).await;
        expect(&app, &doc, &bob, (M::GET, "/api/v1/resources/{resource_id}/business-hours", &r("/api/v1/resources/{resource_id}/business-hours")), None, 200).await;
        expect(&app, &doc, &admin, (M::POST, "/api/v1/resources/{resource_id}/blackout-dates", &r("/api/v1/resources/{resource_id}/blackout-dates")), Some(json!({"date": "2030-01-09", "reason": "Painting"})), 201).await;
        expect(&app, &doc, &bob, (M::GET, "/api/v1/resources/{resource_id}/blackout-dates", &r("/api/v1/resources/{resource_id}/blackout-dates")), None, 200).await;
        let slots = expect(&app, &doc, &bob, (M::GET, "/api/v1/resources/{resource_id}/available-slots", &r("/api/v1/resources/{resource_id}/available-slots?date=2030-01-07")), None, 200).await;
        assert!(!slots["slots"].as_array().unwrap().is_empty(), "{slots}");
        expect(&app, &doc, &bob, (M::GET, "/api/v1/resources/{resource_id}/available-slots", &r("/api/v1/resources/{resource_id}/available-slots?date=2030-01-09")), None, 200).await;
        expect(&app, &doc, &bob, (M::GET, "/api/v1/resources/{resource_id}/next-available", &r("/api/v1/resources/{resource_id}/next-available")), None, 200).await;
        expect(&app, &doc, &admin, (M::PUT, "/api/v1/resources/{resource_id}/status/unavailable", &r("/api/v1/resources/{resource_id}/status/unavailable?auto_reset_hours=2")), None, 200).await;
        let status = expect(&app, &doc, &bob, (M::GET, "/api/v1/resources/{resource_id}/status", &r("/api/v1/resources/{resource_id}/status")), None, 200).await;
        assert_eq!(status["status"], "unavailable", "{status}");
        expect(&app, &doc, &admin, (M::PUT, "/api/v1/resources/{resource_id}/status/available", &r("/api/v1/resources/{resource_id}/status/available")), None, 200).await;
        expect(&app, &doc, &admin, (M::PUT, "/api/v1/resources/{resource_id}/availability", &r("/api/v1/resources/{resource_id}/availability")), Some(json!({"available": true})), 200).await;
        expect(&app, &doc, &admin, (M::PUT, "/api/v1/resources/tags/rename", "/api/v1/resources/tags/rename"), Some(json!({"old_name": "quiet", "new_name": "silent"})), 200).await;
        expect(&app, &doc, &admin, (M::DELETE, "/api/v1/resources/tags/{tag_name}", "/api/v1/resources/tags/silent"), None, 200).await;

        // Approvals.
        let approval_settings = r("/api/v1/approvals/resources/{resource_id}/settings");
        expect(&app, &doc, &admin, (M::PUT, "/api/v1/approvals/resources/{resource_id}/settings", &approval_settings), Some(json!({"requires_approval": true, "default_approver_id": admin.id})), 200).await;
        expect(&app, &doc, &bob, (M::GET, "/api/v1/approvals/resources/{resource_id}/settings", &approval_settings), None, 200).await;
        let requested = expect(&app, &doc, &bob, (M::POST, "/api/v1/approvals/reservations", "/api/v1/approvals/reservations"), Some(json!({"resource_id": room, "start_time": at(33, 0), "end_time": at(34, 0), "request_message": "please"})), 200).await;
        let approval = requested["approval_id"].as_i64().unwrap();
        expect(&app, &doc, &admin, (M::GET, "/api/v1/approvals/pending", "/api/v1/approvals/pending"), None, 200).await;
        expect(&app, &doc, &bob, (M::GET, "/api/v1/approvals/my-requests", "/api/v1/approvals/my-requests"), None, 200).await;
        let a = format!("/api/v1/approvals/{approval}");
        expect(&app, &doc, &bob, (M::GET, "/api/v1/approvals/{approval_id}", &a), None, 200).await;
        expect(&app, &doc, &admin, (M::POST, "/api/v1/approvals/{approval_id}/respond", &format!("{a}/respond")), Some(json!({"action": "approve"})), 200).await;
        expect(&app, &doc, &bob, (M::GET, "/api/v1/approvals/{approval_id}", &a), None, 200).await;

        // Notifications (the approval told Bob).
        let notifications = expect(&app, &doc, &bob, (M::GET, "/api/v1/notifications", "/api/v1/notifications?include_total=true"), None, 200).await;
        if let Some(id) = notifications["data"][0]["id"].as_i64() {
            expect(&app, &doc, &bob, (M::POST, "/api/v1/notifications/{notification_id}/read", &format!("/api/v1/notifications/{id}/read")), None, 200).await;
        }

        // Webhooks, with a delivery to a real receiver.
        let hook = expect(&app, &doc, &bob, (M::POST, "/api/v1/webhooks", "/api/v1/webhooks"), Some(json!({"url": receiver.url("/bob"), "events": ["reservation.created"], "description": "mine"})), 201).await;
        assert!(hook["secret"].is_string(), "{hook}");
        let w = format!("/api/v1/webhooks/{}", hook["id"]);
        expect(&app, &doc, &bob, (M::GET, "/api/v1/webhooks/{webhook_id}", &w), None, 200).await;
        expect(&app, &doc, &bob, (M::PATCH, "/api/v1/webhooks/{webhook_id}", &w), Some(json!({"description": "still mine"})), 200).await;
        expect(&app, &doc, &bob, (M::POST, "/api/v1/webhooks/{webhook_id}/regenerate-secret", &format!("{w}/regenerate-secret")), None, 200).await;
        let tested = expect(&app, &doc, &bob, (M::POST, "/api/v1/webhooks/{webhook_id}/test", &format!("{w}/test")), None, 200).await;
        let delivery = tested["delivery_id"].as_i64().unwrap();
        expect(&app, &doc, &bob, (M::GET, "/api/v1/webhooks/{webhook_id}/deliveries", &format!("{w}/deliveries")), None, 200).await;
        let d = format!("{w}/deliveries/{delivery}");
        expect(&app, &doc, &bob, (M::GET, "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}", &d), None, 200).await;
        let retried = app.request_as(&bob, M::POST, &format!("{d}/retry")).send().await.unwrap();
        conforms(&doc, M::POST, "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", retried).await;
        expect(&app, &doc, &bob, (M::GET, "/api/v1/webhooks", "/api/v1/webhooks"), None, 200).await;
        expect(&app, &doc, &bob, (M::DELETE, "/api/v1/webhooks/{webhook_id}", &w), None, 204).await;

        // OAuth2 clients, roles, quotas, audit and accounts.
        let client = expect(&app, &doc, &bob, (M::POST, "/api/v1/oauth/clients", "/api/v1/oauth/clients"), Some(json!({"client_name": "Tool", "redirect_uris": ["https://tool.example/cb"]})), 200).await;
        expect(&app, &doc, &bob, (M::GET, "/api/v1/oauth/clients", "/api/v1/oauth/clients"), None, 200).await;
        let client_id = client["client_id"].as_str().unwrap();
        expect(&app, &doc, &bob, (M::DELETE, "/api/v1/oauth/clients/{client_id}", &format!("/api/v1/oauth/clients/{client_id}")), None, 200).await;
        expect(&app, &doc, &admin, (M::POST, "/api/v1/roles", "/api/v1/roles"), Some(json!({"name": "auditor", "description": null})), 200).await;
        expect(&app, &doc, &admin, (M::POST, "/api/v1/roles/assign", "/api/v1/roles/assign"), Some(json!({"user_id": erin.id, "role_name": "auditor"})), 200).await;
        let q = format!("/api/v1/quotas/users/{}", bob.id);
        expect(&app, &doc, &admin, (M::GET, "/api/v1/quotas/users/{user_id}", &q), None, 200).await;
        expect(&app, &doc, &admin, (M::PATCH, "/api/v1/quotas/users/{user_id}", &q), Some(json!({"tier": "premium", "custom_daily_quota": 5000})), 200).await;
        expect(&app, &doc, &admin, (M::GET, "/api/v1/quotas/alerts", "/api/v1/quotas/alerts?threshold=0"), None, 200).await;
        expect(&app, &doc, &admin, (M::POST, "/api/v1/quotas/reset-daily", "/api/v1/quotas/reset-daily"), None, 200).await;
        let logs = expect(&app, &doc, &admin, (M::GET, "/api/v1/audit/logs", "/api/v1/audit/logs?limit=5"), None, 200).await;
        let entry = logs["logs"][0]["id"].as_i64().unwrap();
        expect(&app, &doc, &admin, (M::GET, "/api/v1/audit/logs/{log_id}", &format!("/api/v1/audit/logs/{entry}")), None, 200).await;
        expect(&app, &doc, &admin, (M::GET, "/api/v1/audit/entity/{entity_type}/{entity_id}", &format!("/api/v1/audit/entity/user/{}", erin.id)), None, 200).await;
        expect(&app, &doc, &admin, (M::GET, "/api/v1/audit/user/{user_id}/activity", &format!("/api/v1/audit/user/{}/activity", admin.id)), None, 200).await;
        expect(&app, &doc, &admin, (M::POST, "/api/v1/audit/retention", "/api/v1/audit/retention"), Some(json!({"retention_days": 365})), 200).await;
        let account = format!("/api/v1/auth/admin/users/{}", erin.id);
        expect(&app, &doc, &admin, (M::POST, "/api/v1/auth/admin/users/{user_id}/disable", &format!("{account}/disable")), None, 200).await;
        expect(&app, &doc, &admin, (M::POST, "/api/v1/auth/admin/users/{user_id}/enable", &format!("{account}/enable")), None, 200).await;
        expect(&app, &doc, &bob, (M::POST, "/api/v1/auth/mfa/setup", "/api/v1/auth/mfa/setup"), None, 200).await;

        // With all of that in the database, every parameterless read again, as the administrator.
        for (path, item) in doc["paths"].as_object().unwrap() {
            if item["get"].is_object() && !path.contains('{') && path != "/ws" && item["get"]["deprecated"] != true {
                conforms(&doc, M::GET, path, app.get_as(&admin, path).await).await;
            }
        }
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
