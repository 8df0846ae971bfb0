//! Times on the wire, both ways.
//!
//! - Written: RFC 3339 with an explicit offset (`Z` for UTC), fractional seconds only when
//!   non-zero ([`utc`]); reservation times in the zone a client asks for with the `X-Timezone`
//!   header ([`OutputZone`]).
//! - Read: times as clients send them ([`WireTime`], [`parse`]): ISO 8601 with an offset, or
//!   without one (then UTC, which is what `/api/v1` clients mean by it), with a `T` or a space,
//!   with or without seconds.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use chrono::{DateTime, Datelike, NaiveDateTime, SecondsFormat, SubsecRound, Timelike, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

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

/// UTC times in the API's format: exactly what [`OutputZone::format`] writes for UTC.
///
/// Written digit by digit rather than through chrono's formatter: an availability answer holds
/// some ninety times, and the formatter's machinery was a good share of the read's CPU. Times
/// the fast path does not cover (a leap second, a year outside 0–9999) go through chrono.
pub fn utc(time: DateTime<Utc>) -> String {
    let mut text = String::with_capacity(30);
    push_utc(&mut text, time);
    text
}

/// Appends [`utc`]'s text of `time` to `text`: a long document (the CSV exports, three times a
/// row) writes its times into one buffer instead of a `String` each. The text is laid out in a
/// fixed array and appended once (the reservations export writes 240,000 times a request: a
/// `push` per character and a division by a power of ten per digit were 8 % of it).
pub fn push_utc(text: &mut String, time: DateTime<Utc>) {
    // The stored UTC reading: `date_naive`/`time` would add the (zero) offset first.
    let naive = time.naive_utc();
    let (date, clock) = (naive.date(), naive.time());
    let nanos = clock.nanosecond();
    let year = date.year();
    if nanos >= 1_000_000_000 || !(0..=9999).contains(&year) {
        text.push_str(&OutputZone(Tz::UTC).format(time));
        return;
    }
    let mut out = *b"0000-00-00T00:00:00.000000000Z";
    put_digits(&mut out[0..4], year as u32);
    put_digits(&mut out[5..7], date.month());
    put_digits(&mut out[8..10], date.day());
    put_digits(&mut out[11..13], clock.hour());
    put_digits(&mut out[14..16], clock.minute());
    put_digits(&mut out[17..19], clock.second());
    // AutoSi: no fraction when zero, else milli-, micro- or nanoseconds, the shortest exact.
    let width = match nanos {
        0 => 0,
        n if n % 1_000_000 == 0 => 3,
        n if n % 1_000 == 0 => 6,
        _ => 9,
    };
    let end = if width == 0 {
        19
    } else {
        put_digits(&mut out[20..20 + width], nanos / 10_u32.pow(9 - width as u32));
        20 + width
    };
    out[end] = b'Z';
    match std::str::from_utf8(&out[..=end]) {
        Ok(written) => text.push_str(written),
        // Digits and ASCII separators only: cannot happen, and chrono would say the same.
        Err(_) => text.push_str(&OutputZone(Tz::UTC).format(time)),
    }
}

/// `value`'s last `out.len()` decimal digits into `out`, zero-padded.
fn put_digits(out: &mut [u8], mut value: u32) {
    for digit in out.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// A time as a client sends it (see [`parse`]).
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

/// Documented as an RFC 3339 instant, the form every client can send; the naive forms [`parse`]
/// also reads are the original's leniency, not advertised.
impl utoipa::PartialSchema for WireTime {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("An instant (RFC 3339); without an offset it is read as UTC."))
            .into()
    }
}

impl utoipa::ToSchema for WireTime {}

/// Parses the formats `/api/v1` clients send, to the microsecond: what PostgreSQL stores (and
/// the original's Python kept), so that an instant held in memory is the one stored. Finer
/// digits are dropped.
pub fn parse(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    let parsed = match DateTime::parse_from_rfc3339(raw) {
        Ok(with_offset) => Some(with_offset.with_timezone(&Utc)),
        Err(_) => [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
        ]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok())
        .map(|naive| naive.and_utc()),
    };
    parsed.map(|time| time.trunc_subsecs(6))
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
        let micros = ten + chrono::Duration::microseconds(123_456);
        assert_eq!(
            parse("2030-05-01T10:00:00.123456789Z"),
            Some(micros),
            "to the microsecond"
        );
        assert_eq!(parse("2030-05-01T10:00:00.123456789"), Some(micros));
        assert_eq!(parse("2030-02-30T10:00:00"), None);
    }

    #[test]
    fn utc_writes_what_chrono_writes() {
        let base = Utc.with_ymd_and_hms(2030, 5, 1, 10, 0, 0).unwrap();
        let mut times = vec![
            base,
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap(),
            DateTime::from_timestamp(1_699_999_979, 1_999_999_999).unwrap(), // a leap second
        ];
        // Steps of whole nano-, micro- and milliseconds and seconds (each fraction width), and
        // odd ones that walk through every digit; at most some 200 days from `base`.
        let steps = [
            7_919_i64,
            7_919_000,
            7_919_000_000,
            1_000,
            123_456_789,
            999_999_999,
            86_399_123_456_789,
        ];
        for step in steps {
            for i in 0..200 {
                times.push(base + chrono::Duration::nanoseconds(step * i));
            }
        }
        for time in times {
            assert_eq!(utc(time), time.to_rfc3339_opts(SecondsFormat::AutoSi, true), "{time:?}");
        }
        let mut text = String::from("at ");
        push_utc(&mut text, base);
        assert_eq!(text, "at 2030-05-01T10:00:00Z");
    }
}
