//! API quotas: the tiers, their per-minute and daily limits, the endpoint limits, and what is
//! stored per user (a tier or custom limits set by an administrator, the requests counted).
//!
//! [`crate::rate_limit`] enforces these limits and `/api/v1/quotas/*` reports them; both read
//! them from here, so a report always describes what is enforced.
//!
//! - [`store`]: the `api_quotas` and `api_usage` tables.
//! - [`stats`]: the usage statistics of `/api/v1/quotas/stats`.
//!
//! Invariant: a user's limits are [`StoredQuota::effective`]: the stored tier, else `admin` for
//! holders of the admin role and `authenticated` for everyone else; a custom per-minute limit or
//! daily quota overrides the tier's.

pub mod stats;
pub mod store;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::storage::{Row, StorageError};

/// A rate-limit tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Anonymous,
    Authenticated,
    Premium,
    Admin,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Anonymous, Tier::Authenticated, Tier::Premium, Tier::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Anonymous => "anonymous",
            Tier::Authenticated => "authenticated",
            Tier::Premium => "premium",
            Tier::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|tier| tier.as_str() == raw)
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The 400 for an unknown tier.
    pub fn invalid() -> String {
        let names = Tier::ALL.map(|tier| format!("'{}'", tier.as_str())).join(", ");
        format!("Invalid tier. Must be one of: [{names}]")
    }
}

/// A limit on some routes, counted per caller and separately from the caller's general limit:
/// the route whose canonical pattern is `endpoint`, or every route under it when it ends in `/`.
#[derive(Debug)]
pub struct EndpointLimit {
    pub endpoint: &'static str,
    normal: u32,
    testing: u32,
}

impl EndpointLimit {
    pub fn covers(&self, pattern: &str) -> bool {
        if self.endpoint.ends_with('/') {
            pattern.starts_with(self.endpoint)
        } else {
            pattern == self.endpoint
        }
    }
}

/// The endpoint limits (requests per minute; with RATE_LIMIT_TESTING_MODE the second).
pub const ENDPOINT_LIMITS: [EndpointLimit; 6] = [
    EndpointLimit {
        endpoint: "/api/v1/token",
        normal: 30,
        testing: 500,
    },
    EndpointLimit {
        endpoint: "/api/v1/register",
        normal: 20,
        testing: 500,
    },
    EndpointLimit {
        endpoint: "/api/v1/resources/upload",
        normal: 20,
        testing: 200,
    },
    EndpointLimit {
        endpoint: "/api/v1/bulk/",
        normal: 10,
        testing: 100,
    },
    EndpointLimit {
        endpoint: "/api/v1/analytics/export/",
        normal: 20,
        testing: 200,
    },
    EndpointLimit {
        endpoint: "/api/v1/audit/export/",
        normal: 20,
        testing: 200,
    },
];

/// The limits in force: the normal tables, or the larger testing ones.
#[derive(Debug)]
pub struct Limits {
    per_minute: [u32; 4],
    daily: [Option<u64>; 4],
    testing: bool,
}

const NORMAL: Limits = Limits {
    per_minute: [60, 200, 500, 1000],
    daily: [Some(500), Some(5_000), Some(50_000), None],
    testing: false,
};

const TESTING: Limits = Limits {
    per_minute: [1000, 2000, 5000, 10_000],
    daily: NORMAL.daily,
    testing: true,
};

impl Limits {
    /// The tables for `RATE_LIMIT_TESTING_MODE` off or on.
    pub fn of(testing_mode: bool) -> &'static Limits {
        if testing_mode { &TESTING } else { &NORMAL }
    }

    pub fn per_minute(&self, tier: Tier) -> u32 {
        self.per_minute[tier.index()]
    }

    /// Requests per UTC day; `None` is unlimited.
    pub fn daily(&self, tier: Tier) -> Option<u64> {
        self.daily[tier.index()]
    }

    /// Requests per minute of endpoint limit `index` (into [`ENDPOINT_LIMITS`]).
    pub fn endpoint(&self, index: usize) -> u32 {
        ENDPOINT_LIMITS
            .get(index)
            .map_or(0, |limit| if self.testing { limit.testing } else { limit.normal })
    }
}

/// What `api_quotas` holds for a user (all defaults when there is no row).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredQuota {
    pub tier: Option<Tier>,
    pub custom_rate_limit: Option<u32>,
    pub custom_daily_quota: Option<u64>,
    daily_count: u64,
    /// The UTC day `daily_count` counts.
    day: Option<NaiveDate>,
    pub total_requests: u64,
}

/// The `api_quotas` columns a [`StoredQuota`] is read from, for queries that
/// `LEFT JOIN api_quotas q` (the authentication queries read them with the user, so the rate
/// limiter learns a caller's limits without another round trip).
macro_rules! stored_quota_columns {
    () => {
        "q.tier AS quota_tier, q.custom_rate_limit, q.custom_daily_quota, \
         q.daily_request_count, q.last_request_date, q.total_requests"
    };
}
pub(crate) use stored_quota_columns;

/// The limits that apply to one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effective {
    pub tier: Tier,
    pub per_minute: u32,
    /// Requests per UTC day; `None` is unlimited.
    pub daily: Option<u64>,
}

impl StoredQuota {
    /// Reads the [`stored_quota_columns`] of a row (NULLs, as from a missing row, are defaults).
    pub fn from_row(row: &Row) -> Result<StoredQuota, StorageError> {
        let count = |name: &str| -> Result<u64, StorageError> {
            Ok(row.get::<Option<i64>>(name)?.map_or(0, |n| n.max(0) as u64))
        };
        Ok(StoredQuota {
            tier: row
                .get::<Option<String>>("quota_tier")?
                .as_deref()
                .and_then(Tier::parse),
            custom_rate_limit: row
                .get::<Option<i64>>("custom_rate_limit")?
                .and_then(|n| u32::try_from(n).ok()),
            custom_daily_quota: row
                .get::<Option<i64>>("custom_daily_quota")?
                .and_then(|n| u64::try_from(n).ok()),
            daily_count: count("daily_request_count")?,
            day: row
                .get::<Option<DateTime<Utc>>>("last_request_date")?
                .map(|start| start.date_naive()),
            total_requests: count("total_requests")?,
        })
    }

    /// The limits in force for this user (see the module's invariant).
    pub fn effective(&self, is_admin: bool, limits: &Limits) -> Effective {
        let tier = self
            .tier
            .unwrap_or(if is_admin { Tier::Admin } else { Tier::Authenticated });
        Effective {
            tier,
            per_minute: self.custom_rate_limit.unwrap_or_else(|| limits.per_minute(tier)),
            daily: self.custom_daily_quota.or_else(|| limits.daily(tier)),
        }
    }

    /// Requests stored for `day`: a count of an earlier day is stale, so 0.
    pub fn used_on(&self, day: NaiveDate) -> u64 {
        if self.day == Some(day) { self.daily_count } else { 0 }
    }

    /// The UTC day of the stored count.
    pub fn last_request_date(&self) -> Option<NaiveDate> {
        self.day
    }
}

/// The UTC day of an instant.
pub fn day_of(instant: DateTime<Utc>) -> NaiveDate {
    instant.date_naive()
}

/// Midnight UTC starting `day` (how days are stored).
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// The next midnight UTC after `instant` (when daily quotas reset).
pub fn next_midnight(instant: DateTime<Utc>) -> DateTime<Utc> {
    start_of(day_of(instant) + chrono::Days::new(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_settings_override_the_role_tier() {
        let limits = Limits::of(false);
        let none = StoredQuota::default();
        assert_eq!(none.effective(false, limits).per_minute, 200);
        assert_eq!(none.effective(false, limits).daily, Some(5000));
        assert_eq!(
            none.effective(true, limits),
            Effective {
                tier: Tier::Admin,
                per_minute: 1000,
                daily: None
            }
        );
        let premium = StoredQuota {
            tier: Some(Tier::Premium),
            ..StoredQuota::default()
        };
        assert_eq!(premium.effective(true, limits).per_minute, 500);
        let custom = StoredQuota {
            custom_rate_limit: Some(3),
            custom_daily_quota: Some(7),
            ..StoredQuota::default()
        };
        assert_eq!(
            custom.effective(true, limits),
            Effective {
                tier: Tier::Admin,
                per_minute: 3,
                daily: Some(7)
            }
        );
        assert_eq!(Limits::of(true).per_minute(Tier::Anonymous), 1000);
        assert_eq!(Limits::of(true).endpoint(0), 500);
    }

    #[test]
    fn endpoint_limits_match_patterns_exactly_or_under_a_prefix() {
        assert!(ENDPOINT_LIMITS[0].covers("/api/v1/token"));
        assert!(!ENDPOINT_LIMITS[0].covers("/api/v1/token/refresh"));
        assert!(ENDPOINT_LIMITS[5].covers("/api/v1/audit/export/csv"));
        assert!(!ENDPOINT_LIMITS[5].covers("/api/v1/audit/logs"));
    }

    #[test]
    fn an_unknown_tier_is_refused_with_the_originals_message() {
        assert_eq!(Tier::parse("premium"), Some(Tier::Premium));
        assert_eq!(Tier::parse("gold"), None);
        assert_eq!(
            Tier::invalid(),
            "Invalid tier. Must be one of: ['anonymous', 'authenticated', 'premium', 'admin']"
        );
    }
}
