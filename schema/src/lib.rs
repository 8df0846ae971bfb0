//! The database schema of Resource Reserver: one ordered list of SQL migrations per backend,
//! embedded into the binary at compile time.
//!
//! The server's migration runner (`resource_reserver::storage::migrate`) applies them at start-up
//! and records each applied version, its name and a checksum of its text in `schema_migrations`.
//!
//! Invariants:
//! - Versions start at 1 and increase; both backends carry the same versions with the same
//!   meaning, so a database can be described by one number whatever its backend.
//! - An applied migration is never edited: its checksum is checked at every start. Change the
//!   schema by adding a migration.
//! - Every table that both backends share has the same table and column names, so the server's
//!   queries can be written once.

/// One migration: a version, a short name and the SQL text to run in a single transaction.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migrations {
    ($dir:literal: $($version:literal => $name:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../", $dir, "/", stringify!($version), "_", $name, ".sql")),
        }),*]
    };
}

/// Migrations for PostgreSQL, in version order.
pub const POSTGRES: &[Migration] = migrations!("postgres":
    1 => "foundation",
    2 => "identity",
    3 => "booking",
    4 => "waitlist_holds_approvals",
    5 => "events",
    6 => "notifications",
    7 => "webhooks",
    8 => "calendar",
    9 => "quotas",
    10 => "business_hours",
    11 => "email",
    12 => "list_indexes",
    13 => "mfa_lockout",
    14 => "retention",
    15 => "tag_order_unicode_names",
    16 => "event_request_ids",
    17 => "resource_groups",
    18 => "labels",
    19 => "search",
    20 => "analytics_indexes",
    21 => "search_free_window",
    24 => "analytics_rollup",
    25 => "analytics_backfill",
    26 => "search_booked_set",
    27 => "analytics_days",
    28 => "analytics_days_backfill",
    34 => "shared_rate_limits",
    36 => "export_order_index",
    37 => "analytics_blocks",
    38 => "analytics_blocks_backfill",
    39 => "event_booking_copies",
    40 => "overlap_probe",
);

/// Migrations for SQLite, in version order.
pub const SQLITE: &[Migration] = migrations!("sqlite":
    1 => "foundation",
    2 => "identity",
    3 => "booking",
    4 => "waitlist_holds_approvals",
    5 => "events",
    6 => "notifications",
    7 => "webhooks",
    8 => "calendar",
    9 => "quotas",
    10 => "business_hours",
    11 => "email",
    12 => "list_indexes",
    13 => "mfa_lockout",
    14 => "retention",
    15 => "tag_order_unicode_names",
    16 => "event_request_ids",
    17 => "resource_groups",
    18 => "labels",
    19 => "search",
    20 => "analytics_indexes",
    21 => "search_free_window",
    24 => "analytics_rollup",
    25 => "analytics_backfill",
    26 => "search_booked_set",
    27 => "analytics_days",
    28 => "analytics_days_backfill",
    34 => "shared_rate_limits",
    36 => "export_order_index",
    37 => "analytics_blocks",
    38 => "analytics_blocks_backfill",
    39 => "event_booking_copies",
    40 => "overlap_probe",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_and_are_the_same_on_both_backends() {
        for list in [POSTGRES, SQLITE] {
            assert_eq!(list[0].version, 1);
            for pair in list.windows(2) {
                assert!(pair[0].version < pair[1].version, "{}", pair[1].name);
            }
        }
        let versions = |list: &[Migration]| list.iter().map(|m| m.version).collect::<Vec<_>>();
        assert_eq!(versions(POSTGRES), versions(SQLITE));
        let names = |list: &[Migration]| list.iter().map(|m| m.name).collect::<Vec<_>>();
        assert_eq!(names(POSTGRES), names(SQLITE));
    }
}
