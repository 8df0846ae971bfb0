//! Issue 14's dashboard flows: the group tree (building → floor → room, with counts) and a
//! floor's page following its resources live; label chips and the AND label filter on the
//! resources list; the search page's "free between" window with a label, its result opening the
//! resource with the booking form filled in, and the booking; saved searches (save, run,
//! delete); the admin group editor refusing a cycle in words; and the label merge moving
//! assignments only after confirmation.

use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::{self, Browser};
use crate::seed::{input_value, reservations_of, resource, rfc3339, soon, tomorrow_at};
use crate::support::{PASSWORD, TestApp, TestUser};

/// A group made through the API; its id.
async fn group(app: &TestApp, admin: &TestUser, body: Value) -> i64 {
    let response = app.post_json_as(admin, "/api/v1/resource-groups", &body).await;
    assert_eq!(response.status(), 201, "creating the group {body}");
    let body: Value = response.json().await.expect("JSON");
    body["id"].as_i64().expect("the group's id")
}

async fn put_in(app: &TestApp, admin: &TestUser, group: i64, resource: i64) {
    let response = app
        .post_json_as(
            admin,
            &format!("/api/v1/resource-groups/{group}/resources"),
            &json!({"resource_id": resource}),
        )
        .await;
    assert!(
        response.status().is_success(),
        "assigning resource {resource} to group {group}: {}",
        response.status()
    );
}

/// A label made through the API; its id.
async fn label(app: &TestApp, admin: &TestUser, category: &str, value: &str, color: &str) -> i64 {
    let response = app
        .post_json_as(
            admin,
            "/api/v1/labels",
            &json!({"category": category, "value": value, "color": color}),
        )
        .await;
    assert_eq!(response.status(), 201, "creating the label {category}:{value}");
    let body: Value = response.json().await.expect("JSON");
    body["id"].as_i64().expect("the label's id")
}

async fn set_labels(app: &TestApp, admin: &TestUser, resource: i64, labels: &[i64]) {
    let response = app
        .put_json_as(
            admin,
            &format!("/api/v1/labels/resources/{resource}"),
            &json!({"label_ids": labels}),
        )
        .await;
    assert!(
        response.status().is_success(),
        "labelling resource {resource}: {}",
        response.status()
    );
}

/// The `category:value` of each label of `resource`, as the API lists them, sorted.
async fn labels_of(app: &TestApp, admin: &TestUser, resource: i64) -> Vec<String> {
    let body: Value = app
        .get_as(admin, &format!("/api/v1/labels/resources/{resource}"))
        .await
        .json()
        .await
        .expect("JSON");
    let list = body.get("labels").or(body.get("data")).unwrap_or(&body);
    let mut keys: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            format!(
                "{}:{}",
                l["category"].as_str().unwrap_or(""),
                l["value"].as_str().unwrap_or("")
            )
        })
        .collect();
    keys.sort();
    keys
}

/// The `data-resource-id`s of every element matching `css`, sorted.
async fn resource_ids(browser: &Browser, css: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    for element in browser.all(css).await {
        if let Ok(Some(id)) = element.attr("data-resource-id").await
            && let Ok(id) = id.parse()
        {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    ids
}

/// Waits until the elements matching `css` are exactly the resources `expected`.
async fn wait_for_resources(browser: &Browser, css: &str, expected: &[i64], what: &str) {
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    browser
        .wait_until(&format!("{what}: exactly the resources {expected:?}"), || async {
            (resource_ids(browser, css).await == expected).then_some(())
        })
        .await;
}

/// The text of the `group-count` inside the tree node of `group`.
async fn tree_count(browser: &Browser, group: i64) -> (String, Option<String>) {
    let node = browser
        .find_css(&format!(
            "[data-test=\"group-node\"][data-group-id=\"{group}\"] [data-test=\"group-count\"]"
        ))
        .await;
    (
        node.text().await.unwrap_or_default(),
        node.attr("data-count").await.ok().flatten(),
    )
}

both_backends! {
    async fn organise_group_tree_counts_and_the_floor_page_follows_live(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let hq = group(&app, &admin, json!({"name": "Head Office", "building": "HQ"})).await;
        let floor = group(&app, &admin, json!({"name": "Floor 3", "parent_id": hq, "building": "HQ", "floor": "3"})).await;
        let room = group(&app, &admin, json!({"name": "Room 301", "parent_id": floor, "building": "HQ", "floor": "3", "room": "301"})).await;
        let lobby = resource(&app, &admin, "Lobby Desk").await;
        let hot_desk = resource(&app, &admin, "Hot Desk").await;
        let projector = resource(&app, &admin, "Projector Table").await;
        let elsewhere = resource(&app, &admin, "Elsewhere").await;
        put_in(&app, &admin, hq, lobby).await;
        put_in(&app, &admin, floor, hot_desk).await;
        put_in(&app, &admin, room, projector).await;

        browser.sign_in("bob", PASSWORD).await;
        browser.navigate(&format!("/groups/{floor}")).await;

        // The tree: the building holds 3 (itself and below), the floor 2, the room 1.
        browser.find("group-tree").await;
        assert_eq!(tree_count(&browser, hq).await.1.as_deref(), Some("3"));
        assert_eq!(tree_count(&browser, floor).await.1.as_deref(), Some("2"));
        assert_eq!(tree_count(&browser, room).await.1.as_deref(), Some("1"));
        assert!(tree_count(&browser, hq).await.0.contains('3'), "the building's count is shown in words");
        let tree = browser.text("group-tree").await;
        let (at_hq, at_floor, at_room) = (tree.find("Head Office"), tree.find("Floor 3"), tree.find("Room 301"));
        assert!(at_hq < at_floor && at_floor < at_room && at_hq.is_some(), "building, floor, room in that order: {tree:?}");

        // The floor's page: its place, and the resources under it (the room's included).
        assert_eq!(browser.text("group-title").await, "Floor 3");
        let path = browser.text("group-path").await;
        assert!(path.contains("Head Office") && path.contains("Floor 3"), "the breadcrumb: {path:?}");
        let tiles = "[data-test=\"group-resource\"]";
        wait_for_resources(&browser, tiles, &[hot_desk, projector], "the floor's resources").await;
        assert!(!resource_ids(&browser, tiles).await.contains(&elsewhere));
        browser.find_css("[data-test=\"live-indicator\"][data-status=\"live\"]").await;
        browser.mark_document().await;

        // A booking of a resource two levels down (in the room) redraws the floor's page: the
        // tile drawn before carries a marker the redrawn one does not.
        let tile = format!("{tiles}[data-resource-id=\"{projector}\"]");
        browser
            .js("document.querySelector(arguments[0]).dataset.before = 'yes'; return null;", vec![json!(tile)])
            .await;
        let start = soon();
        let booked = app.book(&bob, projector, &rfc3339(start), &rfc3339(start + chrono::Duration::minutes(30))).await;
        assert_eq!(booked.status(), 201);
        browser
            .wait_until("the floor's page to redraw after the booking", || async {
                let before = browser
                    .js("const el = document.querySelector(arguments[0]); return el ? (el.dataset.before || 'no') : null;", vec![json!(tile)])
                    .await;
                (before == json!("no")).then_some(())
            })
            .await;
        assert!(browser.still_same_document().await, "redrawn without a reload");

        // Maintenance of the floor's own resource shows on its tile, still without a reload.
        let status = format!("{tiles}[data-resource-id=\"{hot_desk}\"] [data-test=\"resource-status\"]");
        assert_eq!(browser.find_css(&status).await.attr("data-status").await.ok().flatten().as_deref(), Some("available"));
        let response = app
            .put_json_as(&admin, &format!("/api/v1/resources/{hot_desk}/status/unavailable?auto_reset_hours=2"), &json!({}))
            .await;
        assert!(response.status().is_success(), "maintenance: {}", response.status());
        browser
            .wait_until("the hot desk's tile to say maintenance", || async {
                let shown = browser.find_css(&status).await.attr("data-status").await.ok().flatten();
                (shown.as_deref() == Some("maintenance")).then_some(())
            })
            .await;
        let badge = browser.find_css(&status).await.text().await.unwrap_or_default();
        assert!(!badge.trim().is_empty(), "the badge says it in words");
        assert!(browser.still_same_document().await, "redrawn without a reload");
    }

    async fn organise_label_chips_and_the_label_filter_narrow_with_and(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };
        let admin = app.admin().await;
        app.user("bob").await;
        let projector = label(&app, &admin, "equipment", "projector", "#1e6fd9").await;
        let wheelchair = label(&app, &admin, "accessibility", "wheelchair", "#ffd54f").await;
        let both = resource(&app, &admin, "Room Both").await;
        let beamer_only = resource(&app, &admin, "Room Projector").await;
        let plain = resource(&app, &admin, "Room Plain").await;
        set_labels(&app, &admin, both, &[projector, wheelchair]).await;
        set_labels(&app, &admin, beamer_only, &[projector]).await;

        browser.sign_in("bob", PASSWORD).await;
        browser.navigate("/resources").await;
        let cards = "[data-test=\"resource-card\"]";
        wait_for_resources(&browser, cards, &[both, beamer_only, plain], "every resource").await;

        // Chips: the labelled room shows both, in words; the plain room none.
        let chips = |id: i64| format!("{cards}[data-resource-id=\"{id}\"] [data-test=\"label-chip\"]");
        let mut shown = Vec::new();
        for chip in browser.all(&chips(both)).await {
            shown.push(chip.text().await.unwrap_or_default());
        }
        shown.sort();
        assert_eq!(shown.len(), 2, "two chips on Room Both: {shown:?}");
        assert!(shown[0].contains("accessibility") && shown[0].contains("wheelchair"), "{shown:?}");
        assert!(shown[1].contains("equipment") && shown[1].contains("projector"), "{shown:?}");
        assert!(browser.all(&chips(plain)).await.is_empty(), "no chips on the plain room");

        // One label: the two rooms with a projector; both labels: only the room with both.
        browser.click_element(&browser.find_css("[data-test=\"label-filter-chip\"][data-label=\"equipment:projector\"]").await, "the projector filter").await;
        wait_for_resources(&browser, cards, &[both, beamer_only], "the projector filter").await;
        browser.click_element(&browser.find_css("[data-test=\"label-filter-chip\"][data-label=\"accessibility:wheelchair\"]").await, "the wheelchair filter").await;
        wait_for_resources(&browser, cards, &[both], "both label filters").await;
        let pressed = browser
            .find_css("[data-test=\"label-filter-chip\"][data-label=\"accessibility:wheelchair\"]")
            .await
            .attr("aria-pressed")
            .await
            .ok()
            .flatten();
        assert_eq!(pressed.as_deref(), Some("true"), "the chosen filter says so");
    }

    async fn organise_search_free_between_with_a_label_then_book_the_result(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let projector = label(&app, &admin, "equipment", "projector", "#1e6fd9").await;
        let free = resource(&app, &admin, "Free Projector Room").await;
        let booked = resource(&app, &admin, "Booked Projector Room").await;
        let plain = resource(&app, &admin, "Free Plain Room").await;
        for id in [free, booked] {
            set_labels(&app, &admin, id, &[projector]).await;
        }
        let (from, until) = (tomorrow_at(10), tomorrow_at(12));
        let taken = app.book(&admin, booked, &rfc3339(tomorrow_at(11)), &rfc3339(tomorrow_at(13))).await;
        assert_eq!(taken.status(), 201);

        browser.sign_in("bob", PASSWORD).await;
        browser.navigate("/search").await;
        browser.find("search-form").await;
        let rows = "[data-test=\"search-result\"]";
        wait_for_resources(&browser, rows, &[free, booked, plain], "every resource before filtering").await;

        browser.set_value("search-free-from", &input_value(from)).await;
        browser.set_value("search-free-until", &input_value(until)).await;
        browser.click_element(&browser.find_css("[data-test=\"search-label-toggle\"][data-label=\"equipment:projector\"]").await, "the projector label").await;
        browser.click("search-submit").await;
        wait_for_resources(&browser, rows, &[free], "free with a projector, tomorrow 10:00-12:00").await;
        let count = browser.find("search-count").await.attr("data-count").await.ok().flatten();
        assert_eq!(count.as_deref(), Some("1"));

        // The result opens the resource with the booking form filled in for the window.
        browser.click("search-result-link").await;
        browser.find("book-prefilled").await;
        let browser = &browser;
        let value = |test: &'static str| async move { browser.find(test).await.prop("value").await.ok().flatten() };
        assert_eq!(value("book-start").await, Some(input_value(from)));
        assert_eq!(value("book-end").await, Some(input_value(until)));
        browser.click("book-submit").await;
        browser.find("booking-link").await;
        let mine = reservations_of(&app, &bob).await;
        assert_eq!(mine.len(), 1, "bob's booking is stored: {mine:?}");
        assert_eq!(mine[0]["resource_id"], json!(free));
    }

    async fn organise_saved_searches_are_saved_run_and_deleted(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let studio = resource(&app, &admin, "Studio North").await;
        let meeting = resource(&app, &admin, "Meeting Room").await;

        browser.sign_in("bob", PASSWORD).await;
        browser.navigate("/search").await;
        browser.find("saved-empty").await;
        let rows = "[data-test=\"search-result\"]";
        wait_for_resources(&browser, rows, &[studio, meeting], "every resource").await;

        browser.fill("search-query", "Studio").await;
        browser.fill("saved-name", "Studios").await;
        browser.click("saved-save").await;
        let saved = "[data-test=\"saved-search\"][data-name=\"Studios\"]";
        browser.find_css(saved).await;
        let stored: Value = browser_saved(&app, &bob).await;
        assert_eq!(stored.as_array().map(Vec::len), Some(1), "stored for bob: {stored}");
        assert_eq!(stored[0]["filters"]["query"], json!("Studio"));

        // Clear the form, then run the saved search: its filters come back with its results.
        browser.click("search-clear").await;
        wait_for_resources(&browser, rows, &[studio, meeting], "every resource after clearing").await;
        assert_eq!(browser.find("search-query").await.prop("value").await.ok().flatten().as_deref(), Some(""));
        let run = browser.find_css(&format!("{saved} [data-test=\"saved-run\"]")).await;
        browser.click_element(&run, "run Studios").await;
        wait_for_resources(&browser, rows, &[studio], "the saved search's results").await;
        browser.wait_for_text("search-results", "Studios").await;
        assert_eq!(browser.find("search-query").await.prop("value").await.ok().flatten().as_deref(), Some("Studio"));

        let delete = browser.find_css(&format!("{saved} [data-test=\"saved-delete\"]")).await;
        browser.click_element(&delete, "delete Studios").await;
        browser.find("saved-empty").await;
        assert!(browser.all(saved).await.is_empty());
        assert_eq!(browser_saved(&app, &bob).await.as_array().map(Vec::len), Some(0), "deleted for good");
    }

    async fn organise_admin_refuses_a_group_cycle_and_merges_labels_after_confirmation(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };
        let admin = app.admin().await;
        let east = group(&app, &admin, json!({"name": "East Wing"})).await;
        let annex = group(&app, &admin, json!({"name": "Annex"})).await;

        browser.sign_in("admin", PASSWORD).await;
        browser.navigate(&format!("/admin/groups?edit={east}")).await;
        browser.find_css(&format!("[data-test=\"group-edit-form\"][data-group-id=\"{east}\"]")).await;
        // Meanwhile someone moves the annex under the east wing; the editor still offers the
        // annex as the east wing's parent, and the server refuses the cycle in words.
        let moved = app.patch_json_as(&admin, &format!("/api/v1/resource-groups/{annex}"), &json!({"parent_id": east})).await;
        assert!(moved.status().is_success(), "moving the annex: {}", moved.status());
        browser.set_value("group-edit-parent", &annex.to_string()).await;
        browser.click("group-edit-submit").await;
        let said = browser.wait_for_text("group-admin-message", "inside itself").await;
        assert!(said.contains("Refused"), "the refusal in words: {said:?}");
        let east_now: Value = app.get_as(&admin, &format!("/api/v1/resource-groups/{east}")).await.json().await.expect("JSON");
        assert_eq!(east_now["parent_id"], Value::Null, "the east wing stays a root: {east_now}");

        // Label merge: beamer into projector moves both beamer rooms, only once confirmed.
        let projector = label(&app, &admin, "equipment", "projector", "#1e6fd9").await;
        let beamer = label(&app, &admin, "equipment", "beamer", "#6a1b9a").await;
        let first = resource(&app, &admin, "First Room").await;
        let second = resource(&app, &admin, "Second Room").await;
        let third = resource(&app, &admin, "Third Room").await;
        set_labels(&app, &admin, first, &[beamer]).await;
        set_labels(&app, &admin, second, &[projector]).await;
        set_labels(&app, &admin, third, &[beamer]).await;

        browser.navigate("/admin/labels").await;
        browser.find_css("[data-test=\"label-row\"][data-label=\"equipment:beamer\"]").await;
        browser.set_value("label-merge-target", &projector.to_string()).await;
        let source = browser.find_css("[data-test=\"label-merge-source\"][data-label=\"equipment:beamer\"]").await;
        browser.click_element(&source, "the beamer source").await;
        browser.click("label-merge-submit").await;
        let question = browser.find("confirm-yes").await;
        assert_eq!(labels_of(&app, &admin, first).await, ["equipment:beamer"], "nothing moves before the confirmation");
        browser.click_element(&question, "confirm the merge").await;
        browser.wait_for_text("label-admin-message", "equipment:projector").await;
        browser
            .wait_until("the beamer row to go", || async {
                browser.all("[data-test=\"label-row\"][data-label=\"equipment:beamer\"]").await.is_empty().then_some(())
            })
            .await;
        for room in [first, second, third] {
            assert_eq!(labels_of(&app, &admin, room).await, ["equipment:projector"], "room {room} carries the projector label");
        }
    }
}

/// `user`'s saved searches as the API lists them.
async fn browser_saved(app: &TestApp, user: &TestUser) -> Value {
    let body: Value = app
        .get_as(user, "/api/v1/search/saved")
        .await
        .json()
        .await
        .expect("JSON");
    body["saved_searches"].clone()
}

/// A building with a floor holding `resource`, and two labels on it: what the group, search and
/// editor pages show in the accessibility and translation checks.
pub async fn organised(app: &TestApp, admin: &TestUser, resource: i64) {
    let building = group(app, admin, json!({"name": "Main Building", "building": "Main"})).await;
    let floor = group(
        app,
        admin,
        json!({"name": "Ground Floor", "parent_id": building, "building": "Main", "floor": "0"}),
    )
    .await;
    put_in(app, admin, floor, resource).await;
    let projector = label(app, admin, "equipment", "projector", "#1e6fd9").await;
    let wheelchair = label(app, admin, "accessibility", "wheelchair", "#ffd54f").await;
    set_labels(app, admin, resource, &[projector, wheelchair]).await;
}
