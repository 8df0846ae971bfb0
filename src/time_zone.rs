//! Time zones: a resource's stored zone name as a zone. Low-level: the views (resources,
//! reservations, hours) use it. (The zone the API shows times in is `crate::wire::time::OutputZone`.)

use chrono_tz::Tz;

/// A stored time zone name as a zone (names are validated on the way in; UTC otherwise).
pub fn zone_named(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}
