//! Attacks on retention, performed on SQLite and PostgreSQL (docs/security.md).
