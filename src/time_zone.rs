//! Time zones: a resource's stored zone name as a zone, and the zone the API shows times in
//! (`X-Timezone`). Low-level: the views (resources, reservations, hours) and the HTTP plumbing
//! use it.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;

/// A stored time zone name as a zone (names are validated on the way in; UTC otherwise).
pub fn zone_named(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

/// The zone reservation times are shown in: the IANA name in `X-Timezone`, UTC when the header
/// is missing or unknown.
#[derive(Debug, Clone, Copy)]
pub struct OutputZone(pub Tz);

impl FromRequest for OutputZone {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let zone = req
            .headers()
            .get("x-timezone")
            .and_then(|value| value.to_str().ok())
            .and_then(|name| name.trim().parse::<Tz>().ok())
            .unwrap_or(Tz::UTC);
        std::future::ready(Ok(OutputZone(zone)))
    }
}

impl OutputZone {
    /// RFC 3339 with an explicit offset (`Z` for UTC); fractional seconds only when non-zero.
    pub fn format(&self, time: DateTime<Utc>) -> String {
        if self.0 == Tz::UTC {
            return time.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        }
        time.with_timezone(&self.0)
            .to_rfc3339_opts(SecondsFormat::AutoSi, false)
    }
}
