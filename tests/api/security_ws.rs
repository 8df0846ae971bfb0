//! Attacks on ws, performed on SQLite and PostgreSQL (docs/src/security.md, "Live sockets"): a socket
//! must not outlive its sign-in (logout, disabled account, password reset, refresh-token reuse,
//! token expiry), on whichever server process it is held, and an account cannot open sockets
//! without bound.
//!
//! Every close is awaited as the close frame itself (bounded by `PATIENCE`), never slept for;
//! "the socket stays open" is an application ping answered with `pong`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::ws::{Ending, WsClient};
use crate::support::{Backend, PASSWORD, TestApp};

/// The close code of a socket whose sign-in ended (README "Live updates").
const SIGNED_OUT: u16 = 4401;
/// The close code of a socket over `WS_MAX_SOCKETS_PER_USER`.
const TOO_MANY_SOCKETS: u16 = 4429;

/// Waits for the socket's close frame: its code, and that its reason mentions `reason`.
async fn assert_closed_with(socket: &mut WsClient, code: u16, reason: &str) {
    match socket.ending().await {
        Ending::Closed(Some(frame)) => {
            assert_eq!(u16::from(frame.code), code, "{frame:?}");
            assert!(frame.reason.contains(reason), "{frame:?}");
        }
        other => panic!("expected a close frame {code}, got {other:?}"),
    }
}

/// The socket is open and served: an application ping is answered.
async fn assert_open(socket: &mut WsClient) {
    socket.send_json(json!({"type": "ping"})).await;
    socket.next_of("pong").await;
}

async fn authenticate(socket: &mut WsClient, token: &str) -> Value {
    socket.send_json(json!({"type": "authenticate", "token": token})).await;
    socket.next_json().await
}

both_backends! {
    async fn logout_closes_the_users_sockets_and_no_one_elses(app: TestApp) {
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        // Two sign-ins of bob's: logout ends every one of them.
        let bob_elsewhere = app.sign_in("bob", PASSWORD).await;
        let (mut first, mut second) = (app.ws(&bob).await, app.ws(&bob_elsewhere).await);
        let mut eves = app.ws(&eve).await;
        assert_eq!(app.post_json_as(&bob, "/api/v1/logout", &json!({})).await.status(), 200);
        assert_closed_with(&mut first, SIGNED_OUT, "sign-in revoked").await;
        assert_closed_with(&mut second, SIGNED_OUT, "sign-in revoked").await;
        assert_open(&mut eves).await;
        // The revoked token opens no new socket.
        assert_eq!(app.ws_refusal(&format!("token={}", bob.token)).await, 401);
    }

    async fn disabling_an_account_closes_its_sockets(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let mut socket = app.ws(&bob).await;
        let disable = format!("/api/v1/auth/admin/users/{}/disable", bob.id);
        assert_eq!(app.post_json_as(&admin, &disable, &json!({})).await.status(), 200);
        assert_closed_with(&mut socket, SIGNED_OUT, "sign-in revoked").await;
    }

    async fn an_admin_password_reset_closes_the_accounts_sockets(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let mut socket = app.ws(&bob).await;
        let reset = json!({"username": "bob", "new_password": "N3w-Passw0rd!x"});
        let response = app.post_json_as(&admin, "/api/v1/auth/admin/reset-password", &reset).await;
        assert_eq!(response.status(), 200);
        assert_closed_with(&mut socket, SIGNED_OUT, "sign-in revoked").await;
    }

    async fn a_stolen_refresh_token_replayed_closes_that_sign_ins_sockets_only(app: TestApp) {
        let bob = app.user("bob").await;
        let other_sign_in = app.sign_in("bob", PASSWORD).await;
        let (mut stolen, mut other) = (app.ws(&bob).await, app.ws(&other_sign_in).await);
        let refresh = |token: String| {
            let url = app.url("/api/v1/token/refresh");
            let client = app.client.clone();
            async move { client.post(url).json(&json!({"refresh_token": token})).send().await.unwrap().status() }
        };
        assert_eq!(refresh(bob.refresh_token.clone()).await, 200);
        // The rotated token presented again: reuse, the whole sign-in is revoked.
        assert_eq!(refresh(bob.refresh_token.clone()).await, 401);
        assert_closed_with(&mut stolen, SIGNED_OUT, "sign-in revoked").await;
        assert_open(&mut other).await;
    }

    async fn the_socket_over_the_per_account_cap_is_closed_and_the_others_stay(app: TestApp) {
        // The default cap is 20: the 21st socket of one account is refused.
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        let mut held = Vec::new();
        for _ in 0..20 {
            held.push(app.ws(&bob).await);
        }
        let mut over = app.ws(&bob).await;
        assert_closed_with(&mut over, TOO_MANY_SOCKETS, "too many sockets").await;
        for socket in &mut held {
            assert_open(socket).await;
        }
        // Other accounts are not affected, and a socket that ends frees its place.
        assert_open(&mut app.ws(&eve).await).await;
        held.pop().expect("a socket").close().await;
        assert_open(&mut app.ws(&bob).await).await;
    }
}

/// `WS_MAX_SOCKETS_PER_USER` sets the cap.
#[actix_web::test]
async fn the_socket_cap_is_a_setting() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = TestApp::builder(backend)
            .settings(|args| args.ws_max_sockets_per_user = Some("2".into()))
            .spawn()
            .await
        else {
            continue;
        };
        let bob = app.user("bob").await;
        let (mut first, mut second) = (app.ws(&bob).await, app.ws(&bob).await);
        let mut third = app.ws(&bob).await;
        assert_closed_with(&mut third, TOO_MANY_SOCKETS, "2 open").await;
        assert_open(&mut first).await;
        assert_open(&mut second).await;
    }
}

/// Two server processes on one database: a logout through one closes the socket held by the
/// other (the revocation travels through the outbox).
#[actix_web::test]
async fn a_logout_on_one_process_closes_the_socket_held_by_another() {
    let Some(first) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let bob = first.user("bob").await;
    let second = first.sibling().await;
    let mut on_second = second.ws(&bob).await;
    assert_open(&mut on_second).await;
    assert_eq!(
        first.post_json_as(&bob, "/api/v1/logout", &json!({})).await.status(),
        200
    );
    assert_closed_with(&mut on_second, SIGNED_OUT, "sign-in revoked").await;
}

// Servers on a manual clock with day-long access tokens (starting 2030-01-01 09:00 UTC).
both_backends! {
    #[app(clock, long_tokens)]
    async fn a_socket_closes_when_its_token_expires(app: TestApp, clock: Arc<ManualClock>) {
        let bob = app.user("bob").await;
        let mut socket = app.ws(&bob).await;
        clock.advance(Duration::from_secs(23 * 3600));
        assert_open(&mut socket).await;
        clock.advance(Duration::from_secs(3600));
        assert_closed_with(&mut socket, SIGNED_OUT, "token expired").await;
    }

    #[app(clock, long_tokens)]
    async fn a_fresh_token_of_the_same_user_keeps_the_socket_open_and_a_strangers_is_refused(app: TestApp, clock: Arc<ManualClock>) {
        let bob = app.user("bob").await;
        let mut socket = app.ws(&bob).await;
        clock.advance(Duration::from_secs(20 * 3600));
        let eve = app.user("eve").await;
        let refused = authenticate(&mut socket, &eve.token).await;
        assert_eq!(refused["type"], "error", "{refused}");
        assert!(refused["detail"].as_str().unwrap().contains("another user's"), "{refused}");
        let refused = authenticate(&mut socket, "not.a.token").await;
        assert_eq!(refused["type"], "error", "{refused}");

        let fresh = app.login_again(&bob).await;
        let answer = authenticate(&mut socket, &fresh.token).await;
        // Signed in at 2030-01-02 05:00 with a day-long token.
        assert_eq!(answer["type"], "authenticated", "{answer}");
        assert_eq!(answer["expires_at"], "2030-01-03T05:00:00Z");
        // Past the first token's expiry (2030-01-02 09:00): still open.
        clock.advance(Duration::from_secs(10 * 3600));
        assert_open(&mut socket).await;
        // Past the fresh token's: closed.
        clock.advance(Duration::from_secs(14 * 3600));
        assert_closed_with(&mut socket, SIGNED_OUT, "token expired").await;
    }

    #[app(clock, long_tokens)]
    async fn a_stranger_cannot_extend_a_socket(app: TestApp, clock: Arc<ManualClock>) {
        let bob = app.user("bob").await;
        let mut socket = app.ws(&bob).await;
        clock.advance(Duration::from_secs(20 * 3600));
        let eve = app.user("eve").await;
        assert_eq!(authenticate(&mut socket, &eve.token).await["type"], "error");
        clock.advance(Duration::from_secs(4 * 3600));
        assert_closed_with(&mut socket, SIGNED_OUT, "token expired").await;
    }
}
