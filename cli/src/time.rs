//! Times as people type them, and the zone they mean.
//!
//! Accepted date-times: RFC 3339 with an offset (`2030-05-01T10:00:00+02:00`, `…Z`), or without
//! one in the CLI's local formats — `YYYY-MM-DD HH:MM[:SS]` (also with a `T`),
//! `MM/DD/YYYY HH:MM` and `MM/DD/YY HH:MM`. A time without an offset is a wall-clock time in the
//! user's zone ([`Zone`]) and is converted to an explicit offset before it is sent, so the server
//! never guesses. Durations: `2h`, `30m`, `1h30m`, `1d` (units `d`, `h`, `m`, in that order).

use std::fmt;

use chrono::{DateTime, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;

/// Formats of a date-time without an offset, tried in order.
const NAIVE_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
];

/// Like [`NAIVE_FORMATS`] with a two-digit year (`MM/DD/YY HH:MM`).
const SHORT_YEAR_FORMATS: &[&str] = &["%m/%d/%y %H:%M", "%m/%d/%y %H:%M:%S"];

const ACCEPTED: &str = "expected YYYY-MM-DD HH:MM, MM/DD/YYYY HH:MM, MM/DD/YY HH:MM or RFC 3339 \
                        (2030-05-01T10:00:00+02:00)";

/// A date-time as typed: with an offset, or a wall-clock time to read in the user's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeInput {
    Exact(DateTime<FixedOffset>),
    Local(NaiveDateTime),
}

/// Parses a date-time in one of the accepted formats.
pub fn parse_time(raw: &str) -> Result<TimeInput, String> {
    let raw = raw.trim();
    if let Ok(exact) = DateTime::parse_from_rfc3339(raw) {
        return Ok(TimeInput::Exact(exact));
    }
    // A two-digit year only in the `MM/DD/YY` form: `%Y` would read "30" as the year 30.
    let short_year = raw
        .split_whitespace()
        .next()
        .and_then(|date| date.rsplit('/').next().filter(|_| date.contains('/')))
        .is_some_and(|year| year.len() == 2);
    let formats = if short_year { SHORT_YEAR_FORMATS } else { NAIVE_FORMATS };
    formats
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok())
        .map(TimeInput::Local)
        .ok_or_else(|| format!("invalid date-time {raw:?}: {ACCEPTED}"))
}

/// Parses a duration such as `2h`, `30m`, `1h30m` or `1d`; it must be positive.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let invalid = || format!("invalid duration {raw:?}: expected e.g. 2h, 30m, 1h30m or 1d");
    let text = raw.trim().to_ascii_lowercase();
    let mut total = Duration::zero();
    let mut number = String::new();
    let mut last_unit = 0; // units must come in the order d, h, m, each at most once
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let (rank, minutes) = match c {
            'd' => (1, 24 * 60),
            'h' => (2, 60),
            'm' => (3, 1),
            _ => return Err(invalid()),
        };
        if number.is_empty() || rank <= last_unit {
            return Err(invalid());
        }
        let value: i64 = number.parse().map_err(|_| invalid())?;
        total += Duration::try_minutes(value.checked_mul(minutes).ok_or_else(invalid)?).ok_or_else(invalid)?;
        number.clear();
        last_unit = rank;
    }
    if !number.is_empty() || last_unit == 0 {
        return Err(invalid());
    }
    if total <= Duration::zero() {
        return Err(format!("invalid duration {raw:?}: it must be longer than zero"));
    }
    Ok(total)
}

/// The end of a slot: a date-time, or a duration after the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndInput {
    At(TimeInput),
    After(Duration),
}

/// Parses END|DURATION: a duration when it looks like one, a date-time otherwise.
pub fn parse_end(raw: &str) -> Result<EndInput, String> {
    if let Ok(duration) = parse_duration(raw) {
        return Ok(EndInput::After(duration));
    }
    parse_time(raw)
        .map(EndInput::At)
        .map_err(|_| format!("invalid end {raw:?}: expected a date-time ({ACCEPTED}) or a duration (2h, 30m, 1h30m)"))
}

/// The end date of a series: a date (the whole day counts) or a date-time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UntilInput {
    Date(NaiveDate),
    Time(TimeInput),
}

/// Parses `--until`: `YYYY-MM-DD`, `MM/DD/YYYY`, or any accepted date-time.
pub fn parse_until(raw: &str) -> Result<UntilInput, String> {
    let trimmed = raw.trim();
    for format in ["%Y-%m-%d", "%m/%d/%Y"] {
        if let Ok(date) = NaiveDate::parse_from_str(trimmed, format) {
            return Ok(UntilInput::Date(date));
        }
    }
    parse_time(trimmed)
        .map(UntilInput::Time)
        .map_err(|_| format!("invalid date {raw:?}: expected YYYY-MM-DD, MM/DD/YYYY or a date-time"))
}

/// Parses weekdays for weekly series: numbers (`0,2,4`; 0 is Monday, 6 Sunday, as the API) or
/// names (`mon,wed,fri`). The result is sorted and without repeats.
pub fn parse_weekdays(raw: &str) -> Result<Vec<u8>, String> {
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let mut days = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let lower = part.to_ascii_lowercase();
        let day = match lower.parse::<u8>() {
            Ok(n) if n <= 6 => n,
            Ok(_) => {
                return Err(format!(
                    "invalid day {part:?}: numbers go from 0 (Monday) to 6 (Sunday)"
                ));
            }
            Err(_) => NAMES
                .iter()
                .position(|name| lower.get(..3) == Some(&name[..]) && is_day_name(&lower))
                .map(|i| i as u8)
                .ok_or_else(|| format!("invalid day {part:?}: use 0-6 (0 is Monday) or mon, tue, …, sun"))?,
        };
        days.push(day);
    }
    if days.is_empty() {
        return Err("no days given: use e.g. 0,2,4 or mon,wed,fri".into());
    }
    days.sort_unstable();
    days.dedup();
    Ok(days)
}

fn is_day_name(lower: &str) -> bool {
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .any(|full| full.starts_with(lower))
}

/// The user's time zone: where times without an offset are read and tables are shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    /// `--utc`, or a machine whose zone is UTC.
    Utc,
    /// An IANA zone (from `TZ` or `/etc/localtime`); sent to the server as `X-Timezone`.
    Named(Tz),
    /// The system's local time, whose IANA name is unknown.
    System,
}

impl Zone {
    /// The zone to use: UTC with `--utc`, else the one named by `TZ` or `/etc/localtime`, else
    /// the system's local time.
    pub fn detect(utc: bool) -> Zone {
        if utc {
            return Zone::Utc;
        }
        let from_env = std::env::var("TZ").ok().filter(|tz| !tz.is_empty());
        let name = match from_env {
            Some(tz) => Some(tz),
            None => std::fs::read_link("/etc/localtime")
                .ok()
                .and_then(|target| zone_name_from_path(&target.to_string_lossy())),
        };
        match name {
            Some(name) => Zone::named(&name),
            None => Zone::System,
        }
    }

    /// The zone of an IANA name (`:` prefix allowed, as in `TZ`); unknown names fall back to
    /// the system's local time.
    pub fn named(name: &str) -> Zone {
        match name.trim_start_matches(':').parse::<Tz>() {
            Ok(Tz::UTC | Tz::Etc__UTC | Tz::UCT | Tz::Etc__UCT | Tz::Zulu | Tz::Etc__Zulu) => Zone::Utc,
            Ok(tz) => Zone::Named(tz),
            Err(_) => Zone::System,
        }
    }

    /// The IANA name to send as `X-Timezone`, so the server answers in this zone.
    pub fn header(&self) -> Option<&'static str> {
        match self {
            Zone::Utc => Some("UTC"),
            Zone::Named(tz) => Some(tz.name()),
            Zone::System => None,
        }
    }

    /// A wall-clock time in this zone as an instant with its offset. A time repeated when
    /// clocks go back is the earlier one; a time skipped when they go forward is an error.
    pub fn resolve(&self, naive: NaiveDateTime) -> Result<DateTime<FixedOffset>, String> {
        fn pick<Z: TimeZone>(
            result: LocalResult<DateTime<Z>>,
            naive: NaiveDateTime,
        ) -> Result<DateTime<FixedOffset>, String> {
            match result {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Ok(t.fixed_offset()),
                LocalResult::None => Err(format!(
                    "{} does not exist in your time zone (the clocks skip it); pick another time or give an offset",
                    naive.format("%Y-%m-%d %H:%M")
                )),
            }
        }
        match self {
            Zone::Utc => Ok(naive.and_utc().fixed_offset()),
            Zone::Named(tz) => pick(tz.from_local_datetime(&naive), naive),
            Zone::System => pick(chrono::Local.from_local_datetime(&naive), naive),
        }
    }

    /// The instant a typed time means.
    pub fn instant(&self, input: TimeInput) -> Result<DateTime<FixedOffset>, String> {
        match input {
            TimeInput::Exact(exact) => Ok(exact),
            TimeInput::Local(naive) => self.resolve(naive),
        }
    }

    /// How tables show an instant: `2030-05-01 10:00 CEST`.
    pub fn display(&self, time: DateTime<Utc>) -> String {
        match self {
            Zone::Utc => time.format("%Y-%m-%d %H:%M UTC").to_string(),
            Zone::Named(tz) => time.with_timezone(tz).format("%Y-%m-%d %H:%M %Z").to_string(),
            Zone::System => time
                .with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M %:z")
                .to_string(),
        }
    }

    /// A time as the API wrote it (RFC 3339), shown in this zone; other text is left as it is.
    pub fn display_text(&self, text: &str) -> String {
        match DateTime::parse_from_rfc3339(text) {
            Ok(time) => self.display(time.with_timezone(&Utc)),
            Err(_) => text.to_owned(),
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Utc => f.write_str("UTC"),
            Zone::Named(tz) => f.write_str(tz.name()),
            Zone::System => f.write_str("local time"),
        }
    }
}

/// `Europe/Paris` from `/usr/share/zoneinfo/Europe/Paris`.
fn zone_name_from_path(path: &str) -> Option<String> {
    path.split_once("zoneinfo/").map(|(_, name)| name.to_owned())
}

/// A slot with both ends resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
}

impl Slot {
    /// Resolves START and END|DURATION in `zone`; the end must be after the start.
    pub fn resolve(start: TimeInput, end: EndInput, zone: &Zone) -> Result<Slot, String> {
        let start = zone.instant(start)?;
        let end = match end {
            EndInput::At(end) => zone.instant(end)?,
            EndInput::After(duration) => start + duration,
        };
        if end <= start {
            return Err("the end must be after the start".into());
        }
        Ok(Slot { start, end })
    }
}

/// An instant as the API takes it: RFC 3339 with an explicit offset.
pub fn wire(time: DateTime<FixedOffset>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    #[test]
    fn the_original_formats_are_wall_clock_times() {
        let ten = TimeInput::Local(naive(2030, 5, 1, 10, 0));
        for raw in [
            "2030-05-01 10:00",
            "2030-05-01 10:00:00",
            "2030-05-01T10:00",
            "05/01/2030 10:00",
            "05/01/30 10:00",
            "  2030-05-01 10:00 ",
        ] {
            assert_eq!(parse_time(raw), Ok(ten), "{raw}");
        }
        assert_eq!(
            parse_time("12/31/99 23:59"),
            Ok(TimeInput::Local(naive(1999, 12, 31, 23, 59)))
        );
    }

    #[test]
    fn rfc3339_keeps_its_offset() {
        let TimeInput::Exact(t) = parse_time("2030-05-01T10:00:00+02:00").unwrap() else {
            panic!("an offset makes an exact time")
        };
        assert_eq!(
            t.with_timezone(&Utc),
            Utc.with_ymd_and_hms(2030, 5, 1, 8, 0, 0).unwrap()
        );
        assert!(matches!(parse_time("2030-05-01T10:00:00Z"), Ok(TimeInput::Exact(_))));
    }

    #[test]
    fn bad_times_are_refused_with_the_accepted_formats() {
        for raw in [
            "tomorrow",
            "2030-02-30 10:00",
            "2030-05-01",
            "10:00",
            "13/01/2030 10:00",
            "",
        ] {
            let error = parse_time(raw).unwrap_err();
            assert!(error.contains("YYYY-MM-DD HH:MM"), "{raw}: {error}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2h"), Ok(Duration::hours(2)));
        assert_eq!(parse_duration("30m"), Ok(Duration::minutes(30)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::minutes(90)));
        assert_eq!(parse_duration("1H30M"), Ok(Duration::minutes(90)));
        assert_eq!(parse_duration("1d2h"), Ok(Duration::hours(26)));
        assert_eq!(parse_duration("90m"), Ok(Duration::minutes(90)));
        for bad in [
            "",
            "2",
            "h",
            "30m1h",
            "1h1h",
            "0m",
            "1.5h",
            "2 h x",
            "-1h",
            "99999999999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn end_is_a_duration_or_a_time() {
        assert_eq!(parse_end("1h30m"), Ok(EndInput::After(Duration::minutes(90))));
        assert_eq!(
            parse_end("2030-05-01 11:00"),
            Ok(EndInput::At(TimeInput::Local(naive(2030, 5, 1, 11, 0))))
        );
        assert!(parse_end("soon").unwrap_err().contains("duration"));
    }

    #[test]
    fn naive_times_take_the_offset_of_the_zone_on_that_date() {
        let paris = Zone::named("Europe/Paris");
        let summer = paris.resolve(naive(2030, 7, 1, 10, 0)).unwrap();
        assert_eq!(wire(summer), "2030-07-01T10:00:00+02:00");
        let winter = paris.resolve(naive(2030, 1, 1, 10, 0)).unwrap();
        assert_eq!(wire(winter), "2030-01-01T10:00:00+01:00");
        assert_eq!(
            wire(Zone::Utc.resolve(naive(2030, 1, 1, 10, 0)).unwrap()),
            "2030-01-01T10:00:00Z"
        );
    }

    #[test]
    fn daylight_saving_gaps_are_refused_and_repeats_take_the_earlier_instant() {
        let paris = Zone::named("Europe/Paris");
        // 2030-03-31 02:30 does not exist in Paris; 2030-10-27 02:30 happens twice.
        assert!(
            paris
                .resolve(naive(2030, 3, 31, 2, 30))
                .unwrap_err()
                .contains("does not exist")
        );
        assert_eq!(
            wire(paris.resolve(naive(2030, 10, 27, 2, 30)).unwrap()),
            "2030-10-27T02:30:00+02:00"
        );
    }

    #[test]
    fn zones_by_name() {
        assert_eq!(Zone::named("UTC"), Zone::Utc);
        assert_eq!(Zone::named(":Etc/UTC"), Zone::Utc);
        assert_eq!(Zone::named("America/New_York").header(), Some("America/New_York"));
        assert_eq!(Zone::named("CET-1CEST"), Zone::System);
        assert_eq!(Zone::System.header(), None);
        assert_eq!(
            zone_name_from_path("/usr/share/zoneinfo/Europe/Paris").as_deref(),
            Some("Europe/Paris")
        );
        assert_eq!(zone_name_from_path("/etc/foo"), None);
    }

    #[test]
    fn display_in_the_zone() {
        let t = Utc.with_ymd_and_hms(2030, 7, 1, 8, 0, 0).unwrap();
        assert_eq!(Zone::named("Europe/Paris").display(t), "2030-07-01 10:00 CEST");
        assert_eq!(Zone::Utc.display(t), "2030-07-01 08:00 UTC");
        assert_eq!(
            Zone::named("Asia/Tokyo").display_text("2030-07-01T08:00:00Z"),
            "2030-07-01 17:00 JST"
        );
        assert_eq!(Zone::Utc.display_text("not a time"), "not a time");
    }

    #[test]
    fn slots_from_an_end_or_a_duration() {
        let zone = Zone::named("Europe/Paris");
        let start = parse_time("2030-07-01 10:00").unwrap();
        let slot = Slot::resolve(start, parse_end("1h30m").unwrap(), &zone).unwrap();
        assert_eq!(
            (wire(slot.start), wire(slot.end)),
            ("2030-07-01T10:00:00+02:00".into(), "2030-07-01T11:30:00+02:00".into())
        );
        let slot = Slot::resolve(start, parse_end("2030-07-01T10:00:00Z").unwrap(), &zone).unwrap();
        assert_eq!(wire(slot.end), "2030-07-01T10:00:00Z");
        assert!(Slot::resolve(start, parse_end("2030-07-01 09:00").unwrap(), &zone).is_err());
    }

    #[test]
    fn until_is_a_date_or_a_time() {
        let date = NaiveDate::from_ymd_opt(2030, 6, 30).unwrap();
        assert_eq!(parse_until("2030-06-30"), Ok(UntilInput::Date(date)));
        assert_eq!(parse_until("06/30/2030"), Ok(UntilInput::Date(date)));
        assert!(matches!(parse_until("2030-06-30 18:00"), Ok(UntilInput::Time(_))));
        assert!(parse_until("June").is_err());
    }

    #[test]
    fn weekdays_by_number_or_name() {
        assert_eq!(parse_weekdays("0,2,4"), Ok(vec![0, 2, 4]));
        assert_eq!(parse_weekdays("fri, mon,Wednesday"), Ok(vec![0, 2, 4]));
        assert_eq!(parse_weekdays("6,6,0"), Ok(vec![0, 6]));
        assert!(parse_weekdays("7").is_err());
        assert!(parse_weekdays("funday").is_err());
        assert!(parse_weekdays("mo").is_err());
        assert!(parse_weekdays("").is_err());
    }
}
