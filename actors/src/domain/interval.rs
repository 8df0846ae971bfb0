//! Half-open time intervals `[start, end)`: a booking from 10:00 to 11:00 and one from 11:00 to
//! 12:00 touch but do not overlap.

use std::fmt;

use chrono::{DateTime, Duration, SecondsFormat, Utc};

/// A non-empty half-open interval of UTC instants. The constructor guarantees `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Interval {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("End time must be after start time")]
pub struct EmptyInterval;

impl Interval {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Interval, EmptyInterval> {
        if end <= start {
            return Err(EmptyInterval);
        }
        Ok(Interval { start, end })
    }

    /// `[start, start + length)`; `length` must be positive.
    pub fn starting_at(start: DateTime<Utc>, length: Duration) -> Result<Interval, EmptyInterval> {
        Interval::new(start, start.checked_add_signed(length).ok_or(EmptyInterval)?)
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    /// True when the two intervals share at least one instant (touching is not overlapping).
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.start <= instant && instant < self.end
    }
}

/// "2026-03-28T08:00:00Z to 2026-03-28T09:00:00Z": RFC 3339 in UTC, because the text ends up in
/// user-facing error messages where an instant without its offset would be ambiguous.
impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} to {}",
            self.start.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            self.end.to_rfc3339_opts(SecondsFormat::AutoSi, true)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 1, hour, 0, 0).unwrap()
    }

    #[test]
    fn empty_and_reversed_intervals_do_not_exist() {
        assert_eq!(Interval::new(at(10), at(10)), Err(EmptyInterval));
        assert_eq!(Interval::new(at(11), at(10)), Err(EmptyInterval));
    }

    #[test]
    fn touching_intervals_do_not_overlap() {
        let morning = Interval::new(at(9), at(10)).unwrap();
        let next = Interval::new(at(10), at(11)).unwrap();
        assert!(!morning.overlaps(&next) && !next.overlaps(&morning));
        assert!(morning.overlaps(&Interval::new(at(8), at(12)).unwrap()));
        assert!(morning.contains(at(9)) && !morning.contains(at(10)));
    }

    #[test]
    fn display_is_rfc3339_utc() {
        let morning = Interval::new(at(9), at(10)).unwrap();
        assert_eq!(morning.to_string(), "2030-01-01T09:00:00Z to 2030-01-01T10:00:00Z");
    }
}
