//! The harness's own checks can fail: axe-core reports a broken page, and a word missing in a
//! language is recorded where the language flow looks for it. (Without these, a harness that
//! silently ran nothing would pass every page.)

use serde_json::json;

use crate::both_backends;
use crate::harness;

both_backends! {
    async fn axe_and_the_missing_words_record_catch_real_faults(app: TestApp) {
        let Some(browser) = harness::open(&app, module_path!(), "").await else { return };
        app.admin().await;
        browser.goto("/signin").await;
        browser.find("signin-username").await;
        assert!(browser.axe_violations("#/signin").await.is_empty(), "the sign-in page is clean to start with");
        browser
            .js(
                "const input = document.createElement('input'); input.type = 'text';
                 document.getElementById('view').append(input); return null;",
                vec![],
            )
            .await;
        let violations = browser.axe_violations("#/signin with an unlabelled input").await;
        let rules: Vec<&str> = violations.iter().filter_map(|v| v["id"].as_str()).collect();
        assert!(rules.contains(&"label"), "an input without a label is reported: {rules:?}");

        assert!(browser.missing_translations().await.is_empty());
        let looked_up = browser
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 import('/assets/js/i18n.js').then((m) => done(m.t('core.no_such_word_for_the_test'))).catch((e) => done(String(e)));",
                vec![],
            )
            .await
            .expect("importing i18n.js");
        assert_eq!(looked_up, json!("core.no_such_word_for_the_test"), "an unknown key falls back to itself");
        assert_eq!(browser.missing_translations().await, ["en:core.no_such_word_for_the_test"]);
    }
}
