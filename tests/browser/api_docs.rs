//! A new user of the API on `/docs` (Swagger UI): authorise with a real user's bearer token
//! through the page's Authorize dialog, book a slot with `POST /api/v1/reservations` from the
//! page, and find the booking in the API. Then `/redoc` renders the same document. Both pages
//! load nothing from another origin.
//!
//! The selectors are Swagger UI 5's (the version `utoipa-swagger-ui` vendors): an operation is
//! `#operations-<tag>-<operationId>`, its request body editor `textarea.body-param__text`, the
//! answer of "Execute" the `tr.response` row of `.live-responses-table` (whose header row has
//! the same cell classes). The server opens operations in "Try it out" mode
//! (`tryItOutEnabled`), where the try-out button reads "Cancel" and would close the editor.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::{self, Browser};
use crate::seed::{reservations_of, resource, rfc3339, tomorrow_at};

/// The booking operation's block on `/docs`.
const OPERATION: &str = "#operations-reservations-post_api_v1_reservations";

/// How long ReDoc may take to render the document (see its wait below).
const REDOC_WAIT: Duration = Duration::from_secs(90);

both_backends! {
    async fn a_new_user_books_from_the_swagger_page(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };
        let admin = app.admin().await;
        let room = resource(&app, &admin, "Blue Room").await;
        // A real user and the token `POST /api/v1/token` gave them.
        let bob = app.user("bob").await;

        browser.client.goto(&format!("{}/docs", browser.base)).await.expect("opening /docs");
        // The operation, rendered from /openapi.json.
        browser.find_css(OPERATION).await;

        authorize_with_bearer(&browser, &bob.token).await;

        // Open the operation (its summary is a button).
        let summary = browser.find_css(&format!("{OPERATION} .opblock-summary-control")).await;
        browser.click_element(&summary, "POST /api/v1/reservations").await;
        let body = request_body_editor(&browser).await;

        // Replace the example Swagger UI filled in with a booking (that the page sent this body,
        // not its example, shows in the stored booking's times below).
        let (start, end) = (tomorrow_at(9), tomorrow_at(10));
        let booking = json!({"resource_id": room, "start_time": rfc3339(start), "end_time": rfc3339(end)}).to_string();
        paste(&browser, &body, &booking).await;

        let execute = browser.find_css(&format!("{OPERATION} button.execute")).await;
        browser.click_element(&execute, "Execute").await;
        let status = browser
            .wait_until("the answer's status on the page", || async {
                let text = browser
                    .js(
                        "const cell = document.querySelector(arguments[0]); return cell ? cell.innerText : null;",
                        vec![json!(format!("{OPERATION} .live-responses-table tr.response .response-col_status"))],
                    )
                    .await;
                text.as_str().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
            })
            .await;
        let answer = browser
            .js(
                "const block = document.querySelector(arguments[0]); return block ? block.innerText : '';",
                vec![json!(format!("{OPERATION} .live-responses-table"))],
            )
            .await;
        assert_eq!(status, "201", "the page shows the answer {answer}");

        // The page sent bob's token (the dialog's, since nothing else gave it one).
        let curl = browser.find_css(&format!("{OPERATION} .curl-command")).await.text().await.unwrap_or_default();
        assert!(
            curl.contains(&format!("Authorization: Bearer {}", bob.token)),
            "the request carried bob's bearer token: {curl}"
        );

        // The booking exists, and is bob's.
        let mine = reservations_of(&app, &bob).await;
        assert_eq!(mine.len(), 1, "{mine:?}");
        assert_eq!(mine[0]["resource_id"], room);
        assert_eq!(mine[0]["start_time"], rfc3339(start));
        assert_eq!(mine[0]["end_time"], rfc3339(end));
        assert_eq!(external_requests(&browser).await, json!([]), "/docs loaded nothing from elsewhere");

        // ReDoc renders the same document: the operation's summary ("Book a slot") is shown.
        // ReDoc renders every operation in one long task, which took over 20 s once when the
        // CI's two cores were shared with three other browsers; hence the longer limit. The
        // poll reads `textContent`, not `innerText`, which would lay out the whole page each
        // time (the page has no inline text of its own: the document is fetched by URL).
        browser.client.goto(&format!("{}/redoc", browser.base)).await.expect("opening /redoc");
        browser
            .wait_until_within(REDOC_WAIT, "ReDoc to render the booking operation", || async {
                let text = browser.js("return document.body.textContent;", vec![]).await;
                text.as_str().is_some_and(|t| t.contains("Book a slot")).then_some(())
            })
            .await;
        assert_eq!(external_requests(&browser).await, json!([]), "/redoc loaded nothing from elsewhere");
    }
}

/// Enters `token` as the `bearer` scheme's value in the Authorize dialog and closes it.
async fn authorize_with_bearer(browser: &Browser, token: &str) {
    let open = browser.find_css(".auth-wrapper button.authorize").await;
    browser.click_element(&open, "Authorize").await;
    let input = browser.find_css("#auth-bearer-value").await;
    input.send_keys(token).await.expect("typing the token");
    // The form of the non-OAuth2 schemes; its submit button applies what was typed.
    let submit = browser
        .find_css(".auth-container form:has(#auth-bearer-value) button.authorize[type=submit]")
        .await;
    browser.click_element(&submit, "Authorize (bearer)").await;
    // Authorised, the scheme shows its value masked instead of the input.
    browser
        .wait_until("the bearer scheme to be authorised", || async {
            let done = browser
                .js(
                    "return !document.getElementById('auth-bearer-value')
                        && [...document.querySelectorAll('.auth-container h6')].some(h => h.innerText.includes('Authorized'));",
                    vec![],
                )
                .await;
            (done == json!(true)).then_some(())
        })
        .await;
    let close = browser.find_css(".auth-container button.btn-done").await;
    browser.click_element(&close, "Close").await;
    browser
        .wait_until("the Authorize dialog to close", || async {
            browser.all(".dialog-ux .modal-ux").await.is_empty().then_some(())
        })
        .await;
}

/// The open operation's request body editor, pressing "Try it out" first unless the operation
/// already opened in that mode.
async fn request_body_editor(browser: &Browser) -> fantoccini::elements::Element {
    let editor = format!("{OPERATION} textarea.body-param__text");
    let try_out = format!("{OPERATION} button.try-out__btn:not(.cancel)");
    let pressed = browser
        .wait_until("the operation to open (its editor or its \"Try it out\")", || async {
            for (css, press) in [(&editor, false), (&try_out, true)] {
                for element in browser.all(css).await {
                    if element.is_displayed().await.unwrap_or(false) {
                        return Some(press.then_some(element));
                    }
                }
            }
            None
        })
        .await;
    if let Some(button) = pressed {
        browser.click_element(&button, "Try it out").await;
    }
    browser.find_css(&editor).await
}

/// Replaces the text of `textarea` with `text` as a paste does: one `input` event. Typing it
/// key by key works too, but Swagger UI renders the whole document again on every key, which
/// takes seconds per line on a busy machine. The value is set through the prototype's setter,
/// since React ignores an `input` whose value went through its own tracking setter.
async fn paste(browser: &Browser, textarea: &fantoccini::elements::Element, text: &str) {
    let element = serde_json::to_value(textarea).expect("an element reference");
    browser
        .js(
            "const [el, text] = arguments;
             Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set.call(el, text);
             el.dispatchEvent(new Event('input', {bubbles: true}));
             return null;",
            vec![element, json!(text)],
        )
        .await;
}

/// What the current page loaded from an origin other than the server's.
async fn external_requests(browser: &Browser) -> Value {
    browser
        .js(
            "return performance.getEntriesByType('resource').map(e => e.name)
                 .filter(n => !n.startsWith(location.origin + '/') && !n.startsWith('data:') && !n.startsWith('blob:'));",
            vec![],
        )
        .await
}
