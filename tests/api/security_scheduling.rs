//! Attacks on scheduling, performed on SQLite and PostgreSQL (docs/security.md).
