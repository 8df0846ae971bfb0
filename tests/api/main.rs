//! HTTP API tests: the real server in process on port 0, on SQLite and on PostgreSQL.

#[path = "../support/mod.rs"]
mod support;

mod analytics;
mod auth_access;
mod auth_admin;
mod auth_audit;
mod auth_inputs;
mod auth_login;
mod auth_mfa;
mod auth_oauth;
mod auth_refresh;
mod auth_registration;
mod auth_roles;
mod auth_setup;
mod availability;
mod business_hours;
mod calendar;
mod conventions;
mod email;
mod event_json;
mod health;
mod holds_checkin_approvals;
mod idempotency;
mod notifications;
mod quotas;
mod rate_limit;
mod request_id;
mod reservation_status;
mod reservations;
mod resources;
mod security_auth;
mod security_leaks;
mod security_queries;
mod security_retention;
mod security_scheduling;
mod security_ws;
mod series;
mod storage;
mod waitlist;
mod web_assets;
mod web_session;
mod webhooks;
mod ws;
mod ws_delivery;
mod ws_timers;
