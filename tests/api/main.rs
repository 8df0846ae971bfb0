//! HTTP API tests: the real server in process on port 0, on SQLite and on PostgreSQL.

#[path = "../support/mod.rs"]
mod support;

mod conventions;
mod health;
mod storage;
