//! When a resource takes bookings: weekly opening hours and blackout dates, read on the wall
//! clock of the resource's IANA time zone.
//!
//! The rule: **a booking `[start, end)` is allowed iff at every instant of it the resource's
//! wall clock shows a time inside that day's opening hours, on a date that is not a blackout
//! date.** So a booking may run past midnight only when the first day is open until 24:00 and
//! the next opens at 00:00; a blackout date closes its whole local day.
//!
//! Reading the wall clock (rather than converting the hours to instants) is what makes the rule
//! right across DST: on the day Berlin springs forward, hours 02:30–05:00 open at 03:00 CEST,
//! the first wall-clock reading inside them; on the day it falls back, a 09:00–17:00 day lasts
//! nine hours of elapsed time if the hour repeats inside it.
//!
//! No hours at all means always open (blackout dates still apply), so resources without
//! configured hours keep booking as before. With hours, a day without hours is closed.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use super::Interval;
use super::recurrence::wall_clock;

const SECONDS_PER_DAY: u32 = 86_400;

/// A wall-clock time of day in whole seconds after midnight, from 00:00:00 to 24:00:00 (the end
/// of the day, only useful as a closing time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u32);

impl TimeOfDay {
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(SECONDS_PER_DAY);

    pub fn from_hms(hours: u32, minutes: u32, seconds: u32) -> Option<TimeOfDay> {
        let total = hours.checked_mul(3600)? + minutes * 60 + seconds;
        (minutes < 60 && seconds < 60 && total <= SECONDS_PER_DAY).then_some(TimeOfDay(total))
    }

    /// `HH:MM` or `HH:MM:SS` with two digits each (`9:00` is refused), up to `24:00:00`.
    pub fn parse(text: &str) -> Option<TimeOfDay> {
        let parts: Vec<&str> = text.split(':').collect();
        if !(2..=3).contains(&parts.len())
            || parts
                .iter()
                .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let number = |i: usize| parts.get(i).map_or(Some(0), |p| p.parse::<u32>().ok());
        TimeOfDay::from_hms(number(0)?, number(1)?, number(2)?)
    }

    pub fn seconds(self) -> u32 {
        self.0
    }

    /// The wall-clock reading of this time on `date` (24:00 is the next day's midnight).
    fn on(self, date: NaiveDate) -> NaiveDateTime {
        date.and_time(NaiveTime::MIN) + Duration::seconds(i64::from(self.0))
    }
}

/// `HH:MM:SS`, as the wire format has it.
impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}:{:02}", self.0 / 3600, self.0 / 60 % 60, self.0 % 60)
    }
}

/// One day of the week: closed, or open from `open` to `close` (`open < close`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayHours {
    Closed,
    Open { open: TimeOfDay, close: TimeOfDay },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Close time must be after open time")]
pub struct CloseBeforeOpen;

impl DayHours {
    pub fn open(open: TimeOfDay, close: TimeOfDay) -> Result<DayHours, CloseBeforeOpen> {
        if close <= open {
            return Err(CloseBeforeOpen);
        }
        Ok(DayHours::Open { open, close })
    }
}

/// Why a booking is refused by the opening hours. Messages are user-facing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotOpen {
    /// `at` is the first wall-clock reading of the booking outside the opening hours.
    #[error("Resource is closed at that time: {} ({zone}) is outside its opening hours", at.format("%Y-%m-%d %H:%M"))]
    Closed { at: NaiveDateTime, zone: Tz },
    #[error("Resource is not available on {date} ({})", match reason {
        Some(reason) => format!("blackout: {reason}"),
        None => "blackout date".to_owned(),
    })]
    Blackout { date: NaiveDate, reason: Option<String> },
}

/// The opening hours and blackout dates that apply to one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpeningHours {
    /// Monday first; `None` when no hours are configured: always open.
    week: Option<[DayHours; 7]>,
    /// Local dates on which the resource is closed all day, with the reason given.
    blackouts: BTreeMap<NaiveDate, Option<String>>,
}

impl OpeningHours {
    /// Always open, no blackout dates.
    pub fn always_open() -> OpeningHours {
        OpeningHours::default()
    }

    /// Weekly hours: the days listed (a later entry for the same day wins); days not listed are
    /// closed. No days at all means no hours configured: always open.
    pub fn weekly(days: impl IntoIterator<Item = (Weekday, DayHours)>) -> OpeningHours {
        let mut days = days.into_iter().peekable();
        if days.peek().is_none() {
            return OpeningHours::always_open();
        }
        let mut week = [DayHours::Closed; 7];
        for (day, hours) in days {
            week[day.num_days_from_monday() as usize] = hours;
        }
        OpeningHours {
            week: Some(week),
            blackouts: BTreeMap::new(),
        }
    }

    /// Adds a blackout date. A date given twice (for the resource and globally) keeps the first
    /// reason given.
    pub fn with_blackout(mut self, date: NaiveDate, reason: Option<String>) -> OpeningHours {
        let entry = self.blackouts.entry(date).or_default();
        if entry.is_none() {
            *entry = reason;
        }
        self
    }

    /// The hours of `day`, or `None` when no hours are configured (always open).
    pub fn day(&self, day: Weekday) -> Option<DayHours> {
        self.week.map(|week| week[day.num_days_from_monday() as usize])
    }

    /// `Some(reason)` when `date` is a blackout date.
    pub fn blackout(&self, date: NaiveDate) -> Option<Option<&str>> {
        self.blackouts.get(&date).map(Option::as_deref)
    }

    /// The blackout dates from `first` to `last` (local dates, both included), in order, with
    /// their reasons.
    pub fn blackouts_between(
        &self,
        first: NaiveDate,
        last: NaiveDate,
    ) -> impl Iterator<Item = (NaiveDate, Option<&str>)> + '_ {
        let range = (first <= last).then_some(first..=last);
        range
            .into_iter()
            .flat_map(|range| self.blackouts.range(range))
            .map(|(date, reason)| (*date, reason.as_deref()))
    }

    /// Whether the resource is open during all of `interval`, read on `zone`'s wall clock; if
    /// not, why, for the first instant at which it is not.
    pub fn check(&self, zone: Tz, interval: &Interval) -> Result<(), NotOpen> {
        if *self == OpeningHours::always_open() {
            return Ok(());
        }
        for piece in pieces(zone, interval) {
            if let Some(reason) = self.blackouts.get(&piece.date) {
                return Err(NotOpen::Blackout {
                    date: piece.date,
                    reason: reason.clone(),
                });
            }
            let (open, close) = match self.day(piece.date.weekday()) {
                None => continue,
                Some(DayHours::Closed) => return Err(NotOpen::Closed { at: piece.from, zone }),
                Some(DayHours::Open { open, close }) => (open.on(piece.date), close.on(piece.date)),
            };
            if piece.from < open {
                return Err(NotOpen::Closed { at: piece.from, zone });
            }
            if piece.to > close {
                return Err(NotOpen::Closed {
                    at: close.max(piece.from),
                    zone,
                });
            }
        }
        Ok(())
    }

    /// The parts of `window` during which the resource is open, in order, adjacent parts merged
    /// (so a part runs across midnight when both days allow it). Lazy: a caller looking for the
    /// first suitable part of a long window reads only as far as it needs.
    pub fn open_parts<'a>(&'a self, zone: Tz, window: &Interval) -> impl Iterator<Item = Interval> + 'a {
        // Always open (the common case): the window itself, without cutting it into days.
        let whole = (*self == OpeningHours::always_open()).then_some(*window);
        let mut raw = whole
            .is_none()
            .then(|| pieces(zone, window))
            .into_iter()
            .flatten()
            .filter_map(move |piece| self.open_part_of(&piece))
            .peekable();
        let merged = std::iter::from_fn(move || {
            let mut part = raw.next()?;
            while let Some(next) = raw.next_if(|next| next.start() == part.end()) {
                part = Interval::new(part.start(), next.end()).unwrap_or(part);
            }
            Some(part)
        });
        whole.into_iter().chain(merged)
    }

    /// The open part of one piece, if any.
    fn open_part_of(&self, piece: &Piece) -> Option<Interval> {
        if self.blackouts.contains_key(&piece.date) {
            return None;
        }
        let (from, to) = match self.day(piece.date.weekday()) {
            None => (piece.from, piece.to),
            Some(DayHours::Closed) => return None,
            Some(DayHours::Open { open, close }) => {
                (piece.from.max(open.on(piece.date)), piece.to.min(close.on(piece.date)))
            }
        };
        Interval::new((from - piece.offset).and_utc(), (to - piece.offset).and_utc()).ok()
    }
}

/// The instants of the local date `date` in `zone`: from its first midnight to the next day's
/// (DST gaps at midnight resolved as in [`wall_clock`]); `None` at the edges of the calendar.
pub fn local_day(zone: Tz, date: NaiveDate) -> Option<Interval> {
    let start = wall_clock::instant(zone, date.and_time(NaiveTime::MIN))?;
    let end = wall_clock::instant(zone, date.succ_opt()?.and_time(NaiveTime::MIN))?;
    Interval::new(start, end).ok()
}

/// A stretch of an interval with one UTC offset, within one local date.
#[derive(Debug)]
struct Piece {
    date: NaiveDate,
    /// The wall-clock readings at the stretch's start and (exclusive) end; `to` may be the next
    /// day's midnight.
    from: NaiveDateTime,
    to: NaiveDateTime,
    /// Local minus UTC.
    offset: Duration,
}

fn offset_at(zone: Tz, instant: DateTime<Utc>) -> Duration {
    let offset = zone.offset_from_utc_datetime(&instant.naive_utc()).fix();
    Duration::seconds(i64::from(offset.local_minus_utc()))
}

/// `interval` cut at local midnights and at changes of the UTC offset. Within a piece the wall
/// clock runs evenly, so each piece is a plain range of readings on one date.
fn pieces(zone: Tz, interval: &Interval) -> impl Iterator<Item = Piece> + use<> {
    let end = interval.end();
    let mut cursor = interval.start();
    std::iter::from_fn(move || {
        if cursor >= end {
            return None;
        }
        let offset = offset_at(zone, cursor);
        let from = cursor.naive_utc().checked_add_signed(offset)?;
        let midnight = from.date().succ_opt()?.and_time(NaiveTime::MIN);
        let limit = end.min(midnight.checked_sub_signed(offset)?.and_utc());
        let until = next_offset_change(zone, cursor, limit, offset);
        let piece = Piece {
            date: from.date(),
            from,
            to: until.naive_utc() + offset,
            offset,
        };
        cursor = until;
        Some(piece)
    })
}

/// The first instant in `(cursor, limit)` at which the offset is no longer `offset`, else
/// `limit`. `[cursor, limit)` is at most a day long and zones change their offset at most once
/// a day, at whole seconds: compare the ends, then bisect over seconds.
fn next_offset_change(zone: Tz, cursor: DateTime<Utc>, limit: DateTime<Utc>, offset: Duration) -> DateTime<Utc> {
    let last = limit - Duration::nanoseconds(1);
    if offset_at(zone, last) == offset {
        return limit;
    }
    let second = |s: i64| DateTime::from_timestamp(s, 0).unwrap_or(limit);
    // Invariant: the offset at `low` is `offset`, at `high` it is not.
    let (mut low, mut high) = (cursor.timestamp(), last.timestamp());
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if offset_at(zone, second(middle)) == offset {
            low = middle;
        } else {
            high = middle;
        }
    }
    second(high)
}

#[cfg(test)]
mod tests {
    use chrono::Weekday::*;

    use super::*;

    fn time(text: &str) -> TimeOfDay {
        TimeOfDay::parse(text).unwrap()
    }

    fn open(from: &str, to: &str) -> DayHours {
        DayHours::open(time(from), time(to)).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn span(from: DateTime<Utc>, to: DateTime<Utc>) -> Interval {
        Interval::new(from, to).unwrap()
    }

    fn weekdays_nine_to_five() -> OpeningHours {
        OpeningHours::weekly([Mon, Tue, Wed, Thu, Fri].map(|d| (d, open("09:00", "17:00"))))
    }

    #[test]
    fn times_need_two_digits_and_stay_within_the_day() {
        assert_eq!(time("09:30"), TimeOfDay::from_hms(9, 30, 0).unwrap());
        assert_eq!(time("09:30:15").to_string(), "09:30:15");
        assert_eq!(time("24:00").to_string(), "24:00:00");
        for bad in [
            "9:00",
            "09:60",
            "25:00",
            "24:00:01",
            "09",
            "09:00:00:00",
            "0a:00",
            "+9:00",
            "",
        ] {
            assert_eq!(TimeOfDay::parse(bad), None, "{bad}");
        }
        assert_eq!(DayHours::open(time("10:00"), time("10:00")), Err(CloseBeforeOpen));
    }

    #[test]
    fn without_hours_everything_is_open_except_blackout_dates() {
        let any = span(utc(2030, 1, 5, 22, 0), utc(2030, 1, 6, 3, 0));
        assert_eq!(OpeningHours::always_open().check(Tz::UTC, &any), Ok(()));
        let hours = OpeningHours::always_open().with_blackout(date(2030, 1, 6), Some("Inventory".into()));
        assert_eq!(
            hours.check(Tz::UTC, &any),
            Err(NotOpen::Blackout {
                date: date(2030, 1, 6),
                reason: Some("Inventory".into())
            })
        );
        assert_eq!(
            hours.check(Tz::UTC, &any).unwrap_err().to_string(),
            "Resource is not available on 2030-01-06 (blackout: Inventory)"
        );
    }

    #[test]
    fn a_booking_must_lie_within_one_days_hours() {
        let hours = weekdays_nine_to_five();
        // 2030-01-07 is a Monday.
        assert_eq!(
            hours.check(Tz::UTC, &span(utc(2030, 1, 7, 9, 0), utc(2030, 1, 7, 17, 0))),
            Ok(())
        );
        assert_eq!(
            hours.check(Tz::UTC, &span(utc(2030, 1, 7, 16, 0), utc(2030, 1, 7, 18, 0))),
            Err(NotOpen::Closed {
                at: date(2030, 1, 7).and_hms_opt(17, 0, 0).unwrap(),
                zone: Tz::UTC
            })
        );
        let saturday = hours.check(Tz::UTC, &span(utc(2030, 1, 12, 10, 0), utc(2030, 1, 12, 11, 0)));
        assert_eq!(
            saturday.unwrap_err().to_string(),
            "Resource is closed at that time: 2030-01-12 10:00 (UTC) is outside its opening hours"
        );
    }

    #[test]
    fn a_booking_runs_past_midnight_only_into_a_day_open_from_midnight() {
        let night = OpeningHours::weekly([(Mon, open("20:00", "24:00")), (Tue, open("00:00", "06:00"))]);
        let overnight = span(utc(2030, 1, 7, 22, 0), utc(2030, 1, 8, 2, 0));
        assert_eq!(night.check(Tz::UTC, &overnight), Ok(()));
        assert_eq!(
            night.open_parts(Tz::UTC, &overnight).collect::<Vec<_>>(),
            vec![overnight]
        );
        let gap = OpeningHours::weekly([(Mon, open("20:00", "23:59")), (Tue, open("00:00", "06:00"))]);
        assert!(matches!(gap.check(Tz::UTC, &overnight), Err(NotOpen::Closed { .. })));
        assert_eq!(gap.open_parts(Tz::UTC, &overnight).count(), 2);
    }

    #[test]
    fn hours_are_read_on_the_resources_wall_clock() {
        let berlin = chrono_tz::Europe::Berlin;
        let hours = weekdays_nine_to_five();
        // 09:00–17:00 in Berlin is 08:00–16:00 UTC in winter and 07:00–15:00 in summer.
        assert_eq!(
            hours.check(berlin, &span(utc(2030, 1, 7, 8, 0), utc(2030, 1, 7, 16, 0))),
            Ok(())
        );
        assert!(
            hours
                .check(berlin, &span(utc(2030, 1, 7, 15, 0), utc(2030, 1, 7, 17, 0)))
                .is_err()
        );
        assert_eq!(
            hours.check(berlin, &span(utc(2030, 7, 1, 7, 0), utc(2030, 7, 1, 15, 0))),
            Ok(())
        );
        assert!(
            hours
                .check(berlin, &span(utc(2030, 7, 1, 15, 0), utc(2030, 7, 1, 15, 30)))
                .is_err()
        );
        // A blackout date is the whole local day: 23:30 UTC on the 6th is the 7th in Berlin.
        let blackout = OpeningHours::always_open().with_blackout(date(2030, 1, 7), None);
        assert!(
            blackout
                .check(berlin, &span(utc(2030, 1, 6, 23, 30), utc(2030, 1, 7, 0, 0)))
                .is_err()
        );
        assert_eq!(
            blackout.check(Tz::UTC, &span(utc(2030, 1, 6, 23, 30), utc(2030, 1, 7, 0, 0))),
            Ok(())
        );
    }

    #[test]
    fn on_dst_days_the_wall_clock_decides() {
        let berlin = chrono_tz::Europe::Berlin;
        // Sunday 2030-03-31: clocks jump from 02:00 CET to 03:00 CEST (01:00 UTC).
        let spring = OpeningHours::weekly([(Sun, open("02:30", "05:00"))]);
        assert_eq!(
            spring
                .open_parts(berlin, &local_day(berlin, date(2030, 3, 31)).unwrap())
                .collect::<Vec<_>>(),
            vec![span(utc(2030, 3, 31, 1, 0), utc(2030, 3, 31, 3, 0))]
        );
        // Sunday 2030-10-27: 02:00–03:00 happens twice; 01:00–04:00 lasts four hours.
        let autumn = OpeningHours::weekly([(Sun, open("01:00", "04:00"))]);
        let parts: Vec<_> = autumn
            .open_parts(berlin, &local_day(berlin, date(2030, 10, 27)).unwrap())
            .collect();
        assert_eq!(parts, vec![span(utc(2030, 10, 26, 23, 0), utc(2030, 10, 27, 3, 0))]);
        assert_eq!(autumn.check(berlin, &parts[0]), Ok(()));
    }

    #[test]
    fn local_days_follow_dst() {
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            local_day(berlin, date(2030, 3, 31)).unwrap().duration(),
            Duration::hours(23)
        );
        assert_eq!(
            local_day(berlin, date(2030, 10, 27)).unwrap().duration(),
            Duration::hours(25)
        );
    }
}
