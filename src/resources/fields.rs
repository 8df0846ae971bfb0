//! Validated input fields of resources (parse, don't validate: a value of these types is valid).

use chrono_tz::Tz;
use serde::Deserialize;

use crate::wire::bounded::Bounded;

/// A resource name: trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ResourceName(String);

impl TryFrom<String> for ResourceName {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err("Resource name must be 1-200 characters".into());
        }
        Ok(ResourceName(name.to_owned()))
    }
}

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

/// A check-in window: 1 to 1440 minutes after a booking's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct CheckInWindow(pub i64);

impl TryFrom<i64> for CheckInWindow {
    type Error = String;

    fn try_from(minutes: i64) -> Result<Self, Self::Error> {
        if (1..=1440).contains(&minutes) {
            Ok(CheckInWindow(minutes))
        } else {
            Err("checkin_window_minutes must be between 1 and 1440".into())
        }
    }
}

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
