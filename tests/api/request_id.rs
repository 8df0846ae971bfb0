//! `X-Request-Id`: a client's id is answered back as it was sent; a request without one, or with
//! one that could not be logged and echoed safely (too long, odd characters), gets a generated
//! id instead. (That the id follows the request into the logs: `tests/request_tracing.rs`.)

use crate::both_backends;
use crate::support::TestApp;

async fn request_id(app: &TestApp, sent: Option<&str>) -> String {
    let mut request = app.client.get(app.url("/health"));
    if let Some(id) = sent {
        request = request.header("X-Request-Id", id);
    }
    let response = request.send().await.unwrap();
    let id = response.headers().get("x-request-id").expect("an X-Request-Id answer");
    id.to_str().unwrap().to_owned()
}

fn is_generated(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok()
}

both_backends! {
    async fn a_client_request_id_is_answered_back(app: TestApp) {
        assert_eq!(request_id(&app, Some("abc")).await, "abc");
        assert_eq!(request_id(&app, Some("7f3a-01.retry_2:x")).await, "7f3a-01.retry_2:x");
        let longest = "a".repeat(64);
        assert_eq!(request_id(&app, Some(&longest)).await, longest);
    }

    async fn a_missing_or_unusable_request_id_is_replaced_by_a_generated_one(app: TestApp) {
        let generated = request_id(&app, None).await;
        assert!(is_generated(&generated), "{generated}");
        assert_ne!(request_id(&app, None).await, generated, "one id per request");
        for unusable in ["", "has space", "new\tline", "quote\"d", "<script>", &"a".repeat(65)] {
            let answered = request_id(&app, Some(unusable)).await;
            assert!(is_generated(&answered), "{unusable:?} was answered as {answered:?}");
        }
    }

    async fn errors_and_unknown_paths_carry_a_request_id_too(app: TestApp) {
        let response = app.client.get(app.url("/api/v1/no-such-thing")).header("X-Request-Id", "lost").send().await.unwrap();
        assert_eq!(response.status(), 404);
        assert_eq!(response.headers()["x-request-id"], "lost");
        let response = app.client.post(app.url("/api/v1/reservations")).json(&serde_json::json!({})).header("X-Request-Id", "anonymous").send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["x-request-id"], "anonymous");
    }
}
