//! A new user of the API on `/docs` (Swagger UI): authorise with a token from the page's own
//! sign-in operation, book a slot with `POST /api/v1/reservations` from the page, and see the
//! booking in the API. Then `/redoc` renders the same document. Everything loads from the server.

use serde_json::{Value, json};

use crate::both_backends;
use crate::harness;
use crate::support::booking::at;

both_backends! {
    async fn a_new_user_books_from_the_swagger_page(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };
        let admin = app.admin().await;
        let room = app.resource(&admin, "Blue Room").await;
        let bob = app.user("bob").await;

        browser.client.goto(&format!("{}/docs", browser.base)).await.expect("opening /docs");
        // The operation of the booking, rendered from /openapi.json.
        let operation = browser.find_css("#operations-reservations-post_api_v1_reservations").await;

        // Authorise with bob's token (what POST /api/v1/token gave him).
        let authorize = browser.find_css("button.authorize").await;
        browser.click_element(&authorize, "Authorize").await;
        let input = browser.find_css("input[aria-label='auth-bearer-value']").await;
        input.send_keys(&bob.token).await.expect("typing the token");
        let submit = browser.find_css(".auth-container .auth-btn-wrapper button.authorize").await;
        browser.click_element(&submit, "Authorize (bearer)").await;
        let close = browser.find_css("button.btn-done").await;
        browser.click_element(&close, "Close").await;

        // Open the operation, try it out with a body, execute.
        let summary = operation.find(fantoccini::Locator::Css(".opblock-summary")).await.expect("the summary");
        browser.click_element(&summary, "POST /api/v1/reservations").await;
        let try_out = browser.find_css("#operations-reservations-post_api_v1_reservations .try-out__btn").await;
        browser.click_element(&try_out, "Try it out").await;
        let body = browser.find_css("#operations-reservations-post_api_v1_reservations textarea.body-param__text").await;
        body.clear().await.expect("clearing the body");
        let booking = json!({"resource_id": room, "start_time": at(9, 0), "end_time": at(10, 0)}).to_string();
        body.send_keys(&booking).await.expect("typing the body");
        let execute = browser.find_css("#operations-reservations-post_api_v1_reservations button.execute").await;
        browser.click_element(&execute, "Execute").await;

        let status = browser
            .wait_until("the answer's status on the page", || async {
                let text = browser
                    .js(
                        "const cell = document.querySelector('#operations-reservations-post_api_v1_reservations \
                         .live-responses-table .response-col_status'); return cell ? cell.innerText : null;",
                        vec![],
                    )
                    .await;
                text.as_str().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
            })
            .await;
        assert!(status.starts_with("201"), "the page shows {status}");

        // The booking exists, and is bob's.
        let mine: Value = app.get_as(&bob, "/api/v1/reservations/my").await.json().await.unwrap();
        let mine = mine.get("data").unwrap_or(&mine).as_array().expect("a list").clone();
        assert_eq!(mine.len(), 1, "{mine:?}");
        assert_eq!(mine[0]["resource_id"], room);

        // ReDoc renders the same document.
        browser.client.goto(&format!("{}/redoc", browser.base)).await.expect("opening /redoc");
        browser
            .wait_until("ReDoc to render the booking operation", || async {
                let text = browser.js("return document.body.innerText;", vec![]).await;
                text.as_str().is_some_and(|t| t.contains("/api/v1/reservations")).then_some(())
            })
            .await;
        let external = browser
            .js(
                "return performance.getEntriesByType('resource').map(e => e.name)
                     .filter(n => !n.startsWith(location.origin) && !n.startsWith('data:'));",
                vec![],
            )
            .await;
        assert_eq!(external, json!([]), "ReDoc loaded nothing from elsewhere");
    }
}
