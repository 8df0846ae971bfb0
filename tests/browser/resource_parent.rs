//! Issue 14's resource hierarchy on the admin resource page: a desk is put inside a room (the
//! server's words are shown, the room appears as its parent, here and on the public page); the
//! room cannot then be put inside the desk (the server's "Circular parent reference detected"
//! is shown and nothing changes); and the desk's parent is cleared again.

use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::{self, Browser};
use crate::seed::resource;
use crate::support::{PASSWORD, TestApp, TestUser};

/// The ids of `resource`'s children, as the API lists them.
async fn children(app: &TestApp, admin: &TestUser, resource: i64) -> Vec<i64> {
    let body: Value = app
        .get_as(admin, &format!("/api/v1/resource-groups/resources/{resource}/children"))
        .await
        .json()
        .await
        .expect("JSON");
    body.as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_i64())
        .collect()
}

/// `resource`'s parent, from the ungrouped resources' answer (these resources have no group).
async fn parent_of(app: &TestApp, admin: &TestUser, resource: i64) -> Option<i64> {
    let body: Value = app
        .get_as(admin, "/api/v1/resource-groups/ungrouped")
        .await
        .json()
        .await
        .expect("JSON");
    let entry = body
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["id"] == json!(resource))
        .cloned()
        .expect("the resource among the ungrouped ones");
    entry["parent_id"].as_i64()
}

async fn choose_parent(browser: &Browser, parent: &str) {
    browser.set_value("parent-select", parent).await;
    browser.click("parent-save").await;
}

both_backends! {
    async fn set_parent_refuses_a_cycle_in_words(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };
        let admin = app.admin().await;
        let room = resource(&app, &admin, "Room 301").await;
        let desk = resource(&app, &admin, "Desk 7").await;
        browser.sign_in("admin", PASSWORD).await;

        browser.goto(&format!("/admin/resources/{desk}")).await;
        browser.find("family-none").await;
        choose_parent(&browser, &room.to_string()).await;
        browser.wait_for_text("flash", "Resource 'Desk 7' parent set to 'Room 301'").await;
        assert_eq!(browser.text("family-parent").await, "Room 301");
        assert_eq!(children(&app, &admin, room).await, vec![desk]);

        // The room's page lists the desk; putting the room inside the desk is a cycle.
        browser.goto(&format!("/admin/resources/{room}")).await;
        assert_eq!(browser.text("family-child").await, "Desk 7");
        choose_parent(&browser, &desk.to_string()).await;
        browser.wait_for_text("flash", "Circular parent reference detected").await;
        assert_eq!(parent_of(&app, &admin, room).await, None, "the refused change changed nothing");
        browser
            .wait_until("the picker back on no parent", || async {
                let value = browser.find("parent-select").await.prop("value").await.ok().flatten();
                (value.as_deref() == Some("")).then_some(())
            })
            .await;
        assert_eq!(browser.text("family-child").await, "Desk 7", "the desk is still inside");

        // The public page says where the desk is.
        browser.goto(&format!("/resources/{desk}")).await;
        assert_eq!(browser.text("family-parent").await, "Room 301");

        // And the desk is taken out again.
        browser.goto(&format!("/admin/resources/{desk}")).await;
        browser.find("family-parent").await;
        choose_parent(&browser, "").await;
        browser.wait_for_text("flash", "Resource 'Desk 7' parent removed").await;
        browser.find("family-none").await;
        assert_eq!(parent_of(&app, &admin, desk).await, None);
        assert!(children(&app, &admin, room).await.is_empty());
    }
}
