//! axe-core (vendored, WCAG 2.0/2.1 A and AA) finds no violation on the main pages, in the
//! light and in the dark theme: sign-in and setup signed out, then home, board, resources, a
//! resource, mine, admin resources and one resource's admin page (with its parent picker),
//! groups, search, the group and label editors, analytics (with its charts), bulk booking,
//! account and account security as the administrator.

use crate::both_backends;
use crate::harness;
use crate::language::main_pages;
use crate::seed::{resource, rfc3339, tomorrow_at};
use crate::support::PASSWORD;

both_backends! {
    async fn main_pages_have_no_axe_violations_in_light_and_dark(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };
        // The setup page as a fresh install shows it, before any account exists.
        for theme in ["light", "dark"] {
            browser.goto("/setup").await;
            browser.choose_theme(theme).await;
            browser.goto("/setup").await;
            browser.find("setup-username").await;
            browser.assert_accessible(&format!("#/setup ({theme})")).await;
        }
        let admin = app.admin().await;
        let room = resource(&app, &admin, "Studio").await;
        let booked = app.book(&admin, room, &rfc3339(tomorrow_at(9)), &rfc3339(tomorrow_at(10))).await;
        assert_eq!(booked.status(), 201);
        crate::organise::organised(&app, &admin, room).await;
        for theme in ["light", "dark"] {
            browser.goto("/signin").await;
            browser.choose_theme(theme).await;
            browser.goto("/signin").await;
            browser.find("signin-username").await;
            browser.assert_accessible(&format!("#/signin ({theme})")).await;
        }
        browser.sign_in("admin", PASSWORD).await;
        for theme in ["light", "dark"] {
            browser.choose_theme(theme).await;
            for page in main_pages(room).into_iter().filter(|page| page != "/waitlist") {
                browser.goto(&page).await;
                browser.find_css("h1").await;
                browser.assert_accessible(&format!("#{page} ({theme})")).await;
            }
        }
    }
}
