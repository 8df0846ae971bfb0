//! The scheduling domain tested through its public API: the rules of recurring series with the
//! predecessor's examples, and their behaviour across DST in tricky zones.

mod recurrence_dst;
mod recurrence_rules;
mod support;
