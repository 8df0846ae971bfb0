//! Admin CSV import on `#/admin/resources`: a file with a bad line is previewed with that
//! line's number in the error and imports nothing; the corrected file is previewed row by row
//! and imported.

use serde_json::Value;

use crate::both_backends;
use crate::harness::{self, Browser};
use crate::support::{PASSWORD, TestApp};

const BAD: &str = "name,tags,available\nDesk 1,\"a,b\",true\n,x,true\nDesk 2,,true\n";
const GOOD: &str = "name,tags,available\nDesk 1,\"a,b\",true\nDesk 3,x,true\nDesk 2,,true\n";

async fn resource_names(app: &TestApp) -> Vec<String> {
    let body: Value = app.get("/api/v1/resources?limit=100").await.json().await.expect("JSON");
    let mut names: Vec<String> = body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str().map(String::from))
        .collect();
    names.sort();
    names
}

both_backends! {
    async fn csv_import_shows_the_bad_line_then_imports(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };
        app.admin().await;
        browser.sign_in("admin", PASSWORD).await;
        browser.navigate("/admin/resources").await;

        browser.set_value("csv-text", BAD).await;
        browser.click("csv-preview").await;
        let error = browser.wait_for_text("csv-error", "3").await;
        assert!(error.to_lowercase().contains("name"), "the error says what is wrong on line 3: {error:?}");
        assert!(!browser.shows("csv-import").await || resource_names(&app).await.is_empty());
        assert!(resource_names(&app).await.is_empty(), "a refused file imports nothing");

        browser.set_value("csv-text", GOOD).await;
        browser.click("csv-preview").await;
        let rows = browser
            .wait_until("three preview rows", || async {
                let rows = browser.all(&Browser::sel("csv-preview-row")).await;
                (rows.len() == 3).then_some(rows)
            })
            .await;
        assert!(rows[0].text().await.unwrap_or_default().contains("Desk 1"));
        assert!(browser.all(&Browser::sel("csv-error")).await.is_empty() || !browser.shows("csv-error").await, "no errors left");
        assert!(resource_names(&app).await.is_empty(), "a preview imports nothing");

        browser.click("csv-import").await;
        browser
            .wait_until("the three desks to be created", || async {
                (resource_names(&app).await == ["Desk 1", "Desk 2", "Desk 3"]).then_some(())
            })
            .await;
        browser.goto("/resources").await;
        browser.wait_for_text_anywhere("Desk 3").await;
    }
}
