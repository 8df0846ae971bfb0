//! The scheduling domain tested through its public API: the rules of recurring series with the
//! predecessor's examples, their behaviour across DST in tricky zones, and property tests of
//! `Interval`, `Schedule` (against a brute-force model), `expand` (against a day-by-day model) and
//! `OpeningHours` (against a minute-by-minute model).

mod expand_properties;
mod interval_properties;
mod opening_hours_model;
mod recurrence_dst;
mod recurrence_rules;
mod schedule_model;
mod support;
