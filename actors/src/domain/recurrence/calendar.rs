//! The local dates a rule lands on, before any time of day or time zone is involved.
//!
//! Every sequence starts with the first occurrence's date, is strictly increasing, and jumps from
//! one candidate to the next in O(1) (never day by day), so a rule stepping a million weeks costs
//! no more than one stepping one week. A sequence ends where dates stop being representable.

use std::iter;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

use super::{Frequency, RecurrenceRule};

/// The dates of `rule`'s occurrences, starting with `first` (the first occurrence's local date).
pub(super) fn dates(rule: &RecurrenceRule, first: NaiveDate) -> Box<dyn Iterator<Item = NaiveDate>> {
    let step = rule.interval().get();
    match rule.frequency() {
        Frequency::Daily => Box::new(iter::successors(Some(first), move |date| {
            date.checked_add_days(Days::new(u64::from(step)))
        })),
        Frequency::Weekly => weekly(first, step, weekday_mask(rule, first)),
        Frequency::Monthly => Box::new(monthly(first, step)),
    }
}

/// Bit `n` set = the rule runs on the weekday `n` days after Monday.
fn weekday_mask(rule: &RecurrenceRule, first: NaiveDate) -> u8 {
    let days = rule.weekdays();
    if days.is_empty() {
        return 1 << first.weekday().num_days_from_monday();
    }
    days.iter().fold(0, |mask, day| mask | 1 << day.num_days_from_monday())
}

/// The first date, then the rule's weekdays after it: in the first date's Monday-based week and
/// every `step` weeks after. The first date itself always comes first even when its weekday is
/// not listed, as in RFC 5545 where DTSTART is always the first instance (the predecessor dropped
/// it and started on the next listed weekday instead).
fn weekly(first: NaiveDate, step: u32, mask: u8) -> Box<dyn Iterator<Item = NaiveDate>> {
    // `None` only for the first week of the representable calendar: then the series ends there.
    let monday = first.week(Weekday::Mon).checked_first_day();
    let weeks = iter::successors(monday, move |monday| {
        monday.checked_add_days(Days::new(7 * u64::from(step)))
    });
    let later = weeks
        .flat_map(move |monday| {
            (0..7u8)
                .filter(move |offset| mask & (1 << offset) != 0)
                .filter_map(move |offset| monday.checked_add_days(Days::new(u64::from(offset))))
        })
        .filter(move |date| *date > first);
    Box::new(iter::once(first).chain(later))
}

/// The first date's day of month, every `step` months; months without that day use their last
/// day. Each date is computed from the first (not from the previous occurrence), so Jan 31 gives
/// Feb 28, then Mar 31 — not Mar 28 as the predecessor's chained clamping did.
fn monthly(first: NaiveDate, step: u32) -> impl Iterator<Item = NaiveDate> {
    iter::successors(Some(0u32), move |months| months.checked_add(step))
        // `checked_add_months` clamps to the month's last day.
        .map_while(move |months| first.checked_add_months(Months::new(months)))
}

#[cfg(test)]
mod tests {
    use chrono::Weekday::*;

    use super::super::SeriesEnd;
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn first_dates(frequency: Frequency, step: u32, days: &[Weekday], from: NaiveDate, n: usize) -> Vec<NaiveDate> {
        let rule = RecurrenceRule::new(frequency, step, days.to_vec(), SeriesEnd::Never).unwrap();
        dates(&rule, from).take(n).collect()
    }

    #[test]
    fn daily_steps_by_the_interval() {
        let got = first_dates(Frequency::Daily, 3, &[], date(2026, 2, 26), 3);
        assert_eq!(got, [date(2026, 2, 26), date(2026, 3, 1), date(2026, 3, 4)]);
    }

    #[test]
    fn weekly_lists_weekdays_within_anchored_weeks() {
        // From a Wednesday, Mon/Thu every 2 weeks: Thursday of this week, then Mon/Thu two weeks on.
        let got = first_dates(Frequency::Weekly, 2, &[Thu, Mon], date(2026, 1, 7), 4);
        assert_eq!(
            got,
            [date(2026, 1, 7), date(2026, 1, 8), date(2026, 1, 19), date(2026, 1, 22)]
        );
    }

    #[test]
    fn weekly_without_weekdays_uses_the_first_weekday() {
        let got = first_dates(Frequency::Weekly, 1, &[], date(2026, 1, 7), 3);
        assert_eq!(got, [date(2026, 1, 7), date(2026, 1, 14), date(2026, 1, 21)]);
    }

    #[test]
    fn weekly_from_a_sunday_moves_to_the_next_anchored_week() {
        // Sunday is the last day of its Monday-based week; Monday of the same week is skipped.
        let got = first_dates(Frequency::Weekly, 1, &[Mon, Sun], date(2026, 1, 11), 3);
        assert_eq!(got, [date(2026, 1, 11), date(2026, 1, 12), date(2026, 1, 18)]);
    }

    #[test]
    fn monthly_clamps_from_the_original_day() {
        let got = first_dates(Frequency::Monthly, 1, &[], date(2027, 1, 31), 4);
        assert_eq!(
            got,
            [
                date(2027, 1, 31),
                date(2027, 2, 28),
                date(2027, 3, 31),
                date(2027, 4, 30)
            ]
        );
    }

    #[test]
    fn sequences_end_at_the_last_representable_date() {
        let rule = RecurrenceRule::new(Frequency::Daily, u32::MAX, vec![], SeriesEnd::Never).unwrap();
        assert_eq!(dates(&rule, NaiveDate::MAX).count(), 1);
        let rule = RecurrenceRule::new(Frequency::Monthly, u32::MAX, vec![], SeriesEnd::Never).unwrap();
        assert_eq!(dates(&rule, date(2026, 1, 1)).count(), 1);
        let rule = RecurrenceRule::new(Frequency::Weekly, u32::MAX, vec![Mon, Fri], SeriesEnd::Never).unwrap();
        assert_eq!(dates(&rule, NaiveDate::MAX).count(), 1);
    }
}
