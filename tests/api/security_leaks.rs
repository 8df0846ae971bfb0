//! Attacks on leaks, performed on SQLite and PostgreSQL (docs/security.md).
