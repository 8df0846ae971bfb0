//! Validated input fields of resources (parse, don't validate: a value of these types is valid).

use chrono_tz::Tz;
use serde::Deserialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use crate::wire::bounded::Bounded;

/// Longest resource name, in characters.
const MAX_NAME_CHARS: usize = 200;

/// A resource name: trimmed, 1 to [`MAX_NAME_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ResourceName(String);

impl TryFrom<String> for ResourceName {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err("Resource name must be 1-200 characters".into());
        }
        Ok(ResourceName(name.to_owned()))
    }
}

/// The schemas of these fields state their limits from the constants the parsers use.
impl utoipa::PartialSchema for ResourceName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_NAME_CHARS))
            .into()
    }
}

impl utoipa::ToSchema for ResourceName {}

impl ResourceName {
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An IANA time zone name, such as `Europe/Berlin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct TimeZone(pub Tz);

impl TryFrom<String> for TimeZone {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        raw.trim()
            .parse::<Tz>()
            .map(TimeZone)
            .map_err(|_| format!("Unknown time zone {raw:?}; use an IANA name such as Europe/Berlin"))
    }
}

impl utoipa::PartialSchema for TimeZone {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("An IANA time zone name, such as `Europe/Berlin`."))
            .into()
    }
}

impl utoipa::ToSchema for TimeZone {}

/// Longest check-in window, in minutes (a day).
const MAX_CHECK_IN_MINUTES: i64 = 1440;

/// A check-in window: 1 to [`MAX_CHECK_IN_MINUTES`] minutes after a booking's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct CheckInWindow(pub i64);

impl TryFrom<i64> for CheckInWindow {
    type Error = String;

    fn try_from(minutes: i64) -> Result<Self, Self::Error> {
        if (1..=MAX_CHECK_IN_MINUTES).contains(&minutes) {
            Ok(CheckInWindow(minutes))
        } else {
            Err("checkin_window_minutes must be between 1 and 1440".into())
        }
    }
}

impl utoipa::PartialSchema for CheckInWindow {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int64,
            )))
            .minimum(Some(1))
            .maximum(Some(MAX_CHECK_IN_MINUTES))
            .into()
    }
}

impl utoipa::ToSchema for CheckInWindow {}

impl CheckInWindow {
    pub fn duration(self) -> chrono::Duration {
        chrono::Duration::minutes(self.0)
    }
}

/// Most tags a resource may carry, and a search may filter by (a filter of more tags than a
/// resource can carry would match nothing anyway).
pub const MAX_TAGS: usize = 50;

/// A list of tags as a client sends it (bounded; see [`crate::wire::bounded`]).
pub type TagList = Bounded<String, MAX_TAGS>;

/// Tags: each trimmed, empty ones dropped, duplicates removed (case-insensitively, first
/// spelling kept), in the order given.
pub fn clean_tags(tags: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    tags.into_iter()
        .map(|tag| tag.trim().to_owned())
        .filter(|tag| !tag.is_empty() && seen.insert(tag.to_lowercase()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            ResourceName::try_from("  Room A ".to_owned()).unwrap().into_inner(),
            "Room A"
        );
        assert!(ResourceName::try_from("   ".to_owned()).is_err());
        assert!(ResourceName::try_from("x".repeat(201)).is_err());
    }

    #[test]
    fn tags_are_cleaned() {
        let tags: TagList = serde_json::from_str(r#"[" b ", "", "a", "B", "Ñandú", "ñANDÚ"]"#).unwrap();
        assert_eq!(clean_tags(tags.into_inner()), ["b", "a", "Ñandú"]);
    }
}
