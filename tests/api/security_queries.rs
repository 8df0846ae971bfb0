//! Attacks on queries, performed on SQLite and PostgreSQL (docs/security.md).
