//! Times as clients send them: ISO 8601 with an offset, or without one (then UTC, which is what
//! `/api/v1` clients mean by it), with a `T` or a space, with or without seconds.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct WireTime(pub DateTime<Utc>);

impl TryFrom<String> for WireTime {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        parse(&raw)
            .map(WireTime)
            .ok_or_else(|| format!("Input should be a valid datetime, got {raw:?}"))
    }
}

/// Parses the formats `/api/v1` clients send.
pub fn parse(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(raw) {
        return Some(with_offset.with_timezone(&Utc));
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok())
    .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn offsets_are_honoured_and_naive_times_are_utc() {
        let ten = Utc.with_ymd_and_hms(2030, 5, 1, 10, 0, 0).unwrap();
        assert_eq!(parse("2030-05-01T10:00:00Z"), Some(ten));
        assert_eq!(parse("2030-05-01T12:00:00+02:00"), Some(ten));
        assert_eq!(parse("2030-05-01T10:00:00"), Some(ten));
        assert_eq!(parse("2030-05-01 10:00"), Some(ten));
        assert_eq!(parse("2030-05-01T10:00:00.000"), Some(ten));
        assert_eq!(parse("tomorrow"), None);
        assert_eq!(parse("2030-02-30T10:00:00"), None);
    }
}
