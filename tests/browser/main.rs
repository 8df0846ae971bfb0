//! Browser tests: the embedded dashboard driven in headless Chromium through chromedriver,
//! against the real server on port 0, on SQLite and on PostgreSQL (`both_backends!`). Each
//! flow asserts what a person sees and leaves a screenshot in `target/browser-artifacts/`.
//!
//! Without Chromium and chromedriver these tests skip loudly; `.ci/run` installs both and sets
//! `RR_REQUIRE_BROWSER=1`, which turns the skip into a failure. See `harness.rs`.

#[path = "../support/mod.rs"]
mod support;

mod harness;
mod seed;

mod accessibility;
mod analytics_charts;
mod api_docs;
mod board_live;
mod bulk_booking;
mod csv_import;
mod harness_checks;
mod language;
mod mfa_sign_in;
mod organise;
mod resource_parent;
mod screenshots;
mod setup_sign_in_book;
mod waitlist_offer;
