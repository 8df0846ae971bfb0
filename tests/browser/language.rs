//! Languages: switching to Spanish from the shell turns the navigation Spanish and survives a
//! reload (the `rr_lang` cookie); and every main page, visited in Spanish and in French, looks
//! up no word that is missing in that language (`window.__rrMissingTranslations` stays empty).

use serde_json::json;

use crate::both_backends;
use crate::harness::{self, Browser};
use crate::seed::{resource, rfc3339, tomorrow_at};
use crate::support::PASSWORD;

async fn nav_words(browser: &Browser) -> (String, String) {
    (browser.text("nav-resources").await, browser.text("nav-mine").await)
}

/// The pages whose words are checked (and, in `accessibility`, whose markup).
pub fn main_pages(resource: i64) -> Vec<String> {
    [
        "/",
        "/board",
        "/resources",
        &format!("/resources/{resource}"),
        "/mine",
        "/waitlist",
        "/admin",
        "/admin/resources",
        &format!("/admin/resources/{resource}"),
        "/groups",
        "/search",
        "/admin/groups",
        "/admin/labels",
        "/analytics",
        "/bulk",
        "/account",
        "/account/security",
    ]
    .map(String::from)
    .to_vec()
}

both_backends! {
    async fn switching_to_spanish_is_remembered(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };
        app.admin().await;
        app.user("bob").await;
        browser.sign_in("bob", PASSWORD).await;
        assert_eq!(nav_words(&browser).await, ("Resources".into(), "My bookings".into()));

        browser.set_value("lang-select", "es").await;
        browser
            .wait_until("the navigation in Spanish", || async {
                (nav_words(&browser).await == ("Recursos".into(), "Mis reservas".into())).then_some(())
            })
            .await;
        assert_eq!(browser.js("return document.documentElement.lang;", vec![]).await, json!("es"));

        browser.goto("/").await;
        assert_eq!(nav_words(&browser).await, ("Recursos".into(), "Mis reservas".into()), "still Spanish after a reload");
        assert_eq!(browser.js("return document.documentElement.lang;", vec![]).await, json!("es"));
        let selected = browser.find("lang-select").await.prop("value").await.ok().flatten();
        assert_eq!(selected.as_deref(), Some("es"));
        assert!(!browser.text("signout").await.trim().is_empty());
    }

    async fn no_word_is_missing_in_spanish_or_french(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };
        // Signed-out pages first (setup is done: the admin exists).
        let admin = app.admin().await;
        let room = resource(&app, &admin, "Sala").await;
        let booked = app.book(&admin, room, &rfc3339(tomorrow_at(9)), &rfc3339(tomorrow_at(10))).await;
        assert_eq!(booked.status(), 201);
        crate::organise::organised(&app, &admin, room).await;
        let mut missing = Vec::new();
        for lang in ["es", "fr"] {
            browser.goto("/signin").await;
            browser.set_value("lang-select", lang).await;
            for page in ["/signin", "/register", "/setup"] {
                browser.goto(page).await;
                browser.find_css("h1").await;
                missing.extend(browser.missing_translations().await.into_iter().map(|key| format!("{page}: {key}")));
            }
        }
        browser.goto("/signin").await;
        browser.set_value("lang-select", "en").await;
        browser.sign_in("admin", PASSWORD).await;
        for lang in ["es", "fr"] {
            browser.set_value("lang-select", lang).await;
            for page in main_pages(room) {
                browser.goto(&page).await;
                browser.find_css("h1").await;
                missing.extend(browser.missing_translations().await.into_iter().map(|key| format!("{page}: {key}")));
            }
        }
        missing.dedup();
        assert!(missing.is_empty(), "words missing (page: lang:key):\n{}", missing.join("\n"));
    }
}
