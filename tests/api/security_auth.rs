//! Attacks on auth, performed on SQLite and PostgreSQL (docs/security.md).
