//! Attacks on ws, performed on SQLite and PostgreSQL (docs/security.md).
