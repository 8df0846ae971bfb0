//! From a local wall-clock reading in a time zone to the instant it stands for.
//!
//! Most readings name exactly one instant. Around a DST change they do not:
//! - **Gap** (spring forward: in Europe/Berlin 02:00–03:00 on the last Sunday of March does not
//!   exist): the reading is read with the offset in force *before* the change, which lands the
//!   length of the gap later on the clock: 02:30 becomes 03:30 CEST. This is RFC 5545's rule for
//!   nonexistent times and what calendar applications do ("compatible" disambiguation in
//!   JavaScript's Temporal); it keeps the booking's duration and never moves it to another day
//!   except when the gap itself spans midnight.
//! - **Overlap** (fall back: 02:00–03:00 on the last Sunday of October happens twice): the earlier
//!   instant, i.e. the first offset (02:30 CEST, not 02:30 CET), as in RFC 5545.
//!
//! A gap of a whole day (Samoa skipped 30 December 2011) moves the reading onto the next day;
//! a daily series then collides with itself there, which `expand` reports.
//!
//! Both rules are monotonic: a later reading never gives an earlier instant, so a series
//! expanded through them is in order.

use chrono::{DateTime, Days, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// The instant at which the wall clock in `zone` shows `local`, by the rules above; `None` only
/// at the edges of the representable range.
pub(crate) fn instant(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(instant) => Some(instant.to_utc()),
        LocalResult::Ambiguous(one, other) => Some(one.to_utc().min(other.to_utc())),
        LocalResult::None => {
            // A day earlier is before the change (zones change offset at most once a day), so its
            // offset is the one in force before the gap.
            let before = local.checked_sub_days(Days::new(1))?;
            let offset = zone.offset_from_utc_datetime(&before).fix();
            Some(local.checked_sub_offset(offset)?.and_utc())
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveTime};

    use super::*;

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_time(NaiveTime::from_hms_opt(h, mi, 0).unwrap())
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        local(y, mo, d, h, mi).and_utc()
    }

    #[test]
    fn ordinary_readings_are_converted_with_their_offset() {
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(instant(berlin, local(2026, 1, 5, 9, 0)), Some(utc(2026, 1, 5, 8, 0)));
        assert_eq!(instant(berlin, local(2026, 7, 6, 9, 0)), Some(utc(2026, 7, 6, 7, 0)));
    }

    #[test]
    fn a_reading_in_the_gap_moves_forward_by_the_gap() {
        // 02:30 on 29 March 2026 does not exist in Berlin; read as CET it is 01:30Z = 03:30 CEST.
        assert_eq!(
            instant(chrono_tz::Europe::Berlin, local(2026, 3, 29, 2, 30)),
            Some(utc(2026, 3, 29, 1, 30))
        );
        // Lord Howe Island springs forward by only 30 minutes: 02:15 becomes 02:45 (+11:00).
        assert_eq!(
            instant(chrono_tz::Australia::Lord_Howe, local(2026, 10, 4, 2, 15)),
            Some(utc(2026, 10, 3, 15, 45))
        );
    }

    #[test]
    fn a_repeated_reading_is_the_earlier_instant() {
        // 02:30 on 25 October 2026 happens at 00:30Z (CEST) and again at 01:30Z (CET).
        assert_eq!(
            instant(chrono_tz::Europe::Berlin, local(2026, 10, 25, 2, 30)),
            Some(utc(2026, 10, 25, 0, 30))
        );
    }
}
