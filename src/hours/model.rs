//! The API's shapes for opening hours and blackout dates (`BusinessHoursOut` and `BlackoutOut`),
//! and the validation of what clients send, as one 422 list per request.

use chrono::{DateTime, NaiveDate, Utc};
use reserver_actors::domain::TimeOfDay;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};

use crate::error::{ApiError, FieldError};
use crate::wire::bounded::Bounded;
use crate::wire::time::utc;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BusinessHoursOut {
    pub id: i64,
    #[schema(required)]
    pub resource_id: Option<i64>,
    /// 0 = Monday.
    pub day_of_week: i64,
    /// `HH:MM:SS`.
    pub open_time: String,
    /// `HH:MM:SS`, or `24:00:00` for the end of the day.
    pub close_time: String,
    pub is_closed: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BlackoutOut {
    pub id: i64,
    #[schema(required)]
    pub resource_id: Option<i64>,
    /// `YYYY-MM-DD`, a local date of the resource.
    #[schema(format = Date)]
    pub date: String,
    #[schema(required)]
    pub reason: Option<String>,
    #[serde(serialize_with = "as_utc")]
    pub created_at: DateTime<Utc>,
}

fn as_utc<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&utc(*time))
}

/// `PUT …/business-hours`: `{"hours": [{day_of_week, open_time, close_time, is_closed}]}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct HoursInput {
    #[schema(inline)]
    hours: Week,
}

/// At most one entry per weekday (an alias: the schema derive reads no const argument).
type Week = Bounded<RawDay, 7>;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct RawDay {
    /// 0 (Monday) to 6 (Sunday).
    #[schema(minimum = 0, maximum = 6)]
    day_of_week: i64,
    #[schema(example = "09:00")]
    open_time: String,
    #[schema(example = "17:00")]
    close_time: String,
    #[serde(default)]
    is_closed: bool,
}

/// One valid day of a `PUT`.
#[derive(Debug, Clone)]
pub struct DayInput {
    pub day_of_week: i64,
    pub open: TimeOfDay,
    pub close: TimeOfDay,
    pub is_closed: bool,
}

/// The times accepted: two digits each (the wire format's pattern), plus `24:00` as a closing time.
const TIME_PATTERN: &str = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$ or 24:00[:00] (closing)";

fn loc(parts: &[Value]) -> Vec<Value> {
    [json!("body"), json!("hours")]
        .into_iter()
        .chain(parts.iter().cloned())
        .collect()
}

fn time(index: usize, field: &str, text: &str, closing: bool, errors: &mut Vec<FieldError>) -> Option<TimeOfDay> {
    let parsed = TimeOfDay::parse(text).filter(|t| closing || *t < TimeOfDay::END_OF_DAY);
    if parsed.is_none() {
        errors.push(FieldError {
            kind: "string_pattern_mismatch".into(),
            loc: loc(&[json!(index), json!(field)]),
            msg: format!("String should match pattern '{TIME_PATTERN}'"),
            input: json!(text),
        });
    }
    parsed
}

impl HoursInput {
    /// The days, or every problem found: a day outside 0..6, a time not `HH:MM[:SS]` (so `9:00`
    /// is refused), an open day closing before it opens, a day given twice.
    pub fn validate(self) -> Result<Vec<DayInput>, ApiError> {
        let mut errors = Vec::new();
        let mut days = Vec::new();
        for (index, raw) in self.hours.into_inner().into_iter().enumerate() {
            if !(0..=6).contains(&raw.day_of_week) {
                let at = loc(&[json!(index), json!("day_of_week")]);
                errors.push(FieldError::out_of_range(
                    at,
                    raw.day_of_week,
                    0,
                    6,
                    json!(raw.day_of_week),
                ));
            }
            let open = time(index, "open_time", &raw.open_time, false, &mut errors);
            let close = time(index, "close_time", &raw.close_time, true, &mut errors);
            let (Some(open), Some(close)) = (open, close) else {
                continue;
            };
            if !raw.is_closed && close <= open {
                errors.push(FieldError {
                    loc: loc(&[json!(index)]),
                    ..FieldError::value_error(
                        &[],
                        "Close time must be after open time",
                        json!({
                            "open_time": raw.open_time, "close_time": raw.close_time,
                        }),
                    )
                });
                continue;
            }
            days.push(DayInput {
                day_of_week: raw.day_of_week,
                open,
                close,
                is_closed: raw.is_closed,
            });
        }
        let mut seen = [false; 7];
        let duplicate = days.iter().any(|d| {
            let index = d.day_of_week.clamp(0, 6) as usize;
            std::mem::replace(&mut seen[index], true)
        });
        if errors.is_empty() && duplicate {
            let days: Vec<i64> = days.iter().map(|d| d.day_of_week).collect();
            errors.push(FieldError {
                loc: loc(&[]),
                ..FieldError::value_error(&[], "Duplicate days of week not allowed", days)
            });
        }
        if errors.is_empty() {
            Ok(days)
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// `POST …/blackout-dates`: `{"date": "YYYY-MM-DD", "reason": "…"}` (other fields ignored).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BlackoutInput {
    #[schema(format = Date)]
    date: String,
    reason: Option<String>,
}

/// Longest reason accepted (the column's size).
const MAX_REASON: usize = 255;

/// A valid new blackout date.
#[derive(Debug, Clone)]
pub struct NewBlackout {
    pub date: NaiveDate,
    pub reason: Option<String>,
}

impl BlackoutInput {
    /// The date (not before `today`, the owner's local date) and reason, or every problem found.
    pub fn validate(self, today: NaiveDate) -> Result<NewBlackout, ApiError> {
        let mut errors = Vec::new();
        let date = NaiveDate::parse_from_str(self.date.trim(), "%Y-%m-%d").ok();
        match date {
            None => errors.push(FieldError {
                kind: "date_parsing".into(),
                loc: vec![json!("body"), json!("date")],
                msg: "Input should be a valid date in the format YYYY-MM-DD".into(),
                input: json!(self.date),
            }),
            Some(date) if date < today => errors.push(FieldError::value_error(
                &["body", "date"],
                "Blackout date must be today or in the future",
                &self.date,
            )),
            Some(_) => {}
        }
        if let Some(reason) = &self.reason
            && reason.chars().count() > MAX_REASON
        {
            errors.push(FieldError {
                kind: "string_too_long".into(),
                loc: vec![json!("body"), json!("reason")],
                msg: format!("String should have at most {MAX_REASON} characters"),
                input: json!(reason),
            });
        }
        match date {
            Some(date) if errors.is_empty() => Ok(NewBlackout {
                date,
                reason: self.reason,
            }),
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(day: i64, open: &str, close: &str, closed: bool) -> RawDay {
        RawDay {
            day_of_week: day,
            open_time: open.into(),
            close_time: close.into(),
            is_closed: closed,
        }
    }

    fn problems(hours: Vec<RawDay>) -> Vec<(Vec<Value>, String)> {
        match (HoursInput {
            hours: Bounded::new(hours).unwrap(),
        })
        .validate()
        {
            Err(ApiError::Validation(errors)) => errors.into_iter().map(|e| (e.loc, e.kind)).collect(),
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn valid_weeks_pass() {
        let days = (HoursInput {
            hours: Bounded::new(vec![
                day(0, "09:00", "17:30:00", false),
                day(6, "00:00", "00:00", true),
                day(5, "20:00", "24:00", false),
            ])
            .unwrap(),
        })
        .validate()
        .unwrap();
        assert_eq!(days.len(), 3);
        assert_eq!(days[2].close.to_string(), "24:00:00");
    }

    #[test]
    fn every_problem_is_listed_with_its_place() {
        let found = problems(vec![
            day(7, "9:00", "17:00", false),
            day(1, "10:00", "09:00", false),
            day(2, "24:00", "24:00", false),
        ]);
        assert_eq!(
            found,
            vec![
                (loc(&[json!(0), json!("day_of_week")]), "less_than_equal".into()),
                (loc(&[json!(0), json!("open_time")]), "string_pattern_mismatch".into()),
                (loc(&[json!(1)]), "value_error".into()),
                (loc(&[json!(2), json!("open_time")]), "string_pattern_mismatch".into()),
            ]
        );
        assert_eq!(
            problems(vec![day(1, "09:00", "10:00", false), day(1, "11:00", "12:00", false)]),
            vec![(loc(&[]), "value_error".into())]
        );
    }

    #[test]
    fn blackout_dates_are_today_or_later() {
        let today = NaiveDate::from_ymd_opt(2030, 1, 7).unwrap();
        let input = |date: &str| BlackoutInput {
            date: date.into(),
            reason: None,
        };
        assert!(input("2030-01-07").validate(today).is_ok());
        assert!(input("2030-01-06").validate(today).is_err());
        assert!(input("07.01.2030").validate(today).is_err());
    }
}
