//! HTTP API tests: the real server in process on port 0, on SQLite and on PostgreSQL.

#[path = "../support/mod.rs"]
mod support;

mod auth_access;
mod auth_login;
mod auth_mfa;
mod auth_refresh;
mod auth_registration;
mod auth_roles;
mod conventions;
mod health;
mod reservations;
mod resources;
mod storage;
mod ws;
mod ws_delivery;
