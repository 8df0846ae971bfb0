//! Lists with a maximum length, for every list a client can send (query strings and bodies).
//!
//! Invariant: no request carries an unbounded list into the server's work. A list longer than
//! its limit is refused while it is being read — the items past the limit are counted, never
//! kept or processed — with Pydantic's 422 `too_long` entry, whose message names the limit:
//! `List should have at most 50 items after validation, not 500`. The extractors
//! (`http::extract`) give it its `loc` (`["query", "tags"]`, `["body", "events"]`).

use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::{Serialize, Serializer};

/// The start of the message of a list over its limit (the extractors recognise it).
pub const TOO_LONG: &str = "List should have at most";

/// At most `MAX` items of `T`, in the order sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounded<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> Bounded<T, MAX> {
    /// `items`, unless there are more than `MAX`.
    pub fn new(items: Vec<T>) -> Option<Self> {
        (items.len() <= MAX).then_some(Bounded(items))
    }

    pub fn into_inner(self) -> Vec<T> {
        self.0
    }
}

impl<T, const MAX: usize> std::ops::Deref for Bounded<T, MAX> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: Serialize, const MAX: usize> Serialize for Bounded<T, MAX> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<T, const MAX: usize> Default for Bounded<T, MAX> {
    fn default() -> Self {
        Bounded(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for Bounded<T, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(BoundedVisitor::<T, MAX>(PhantomData))
    }
}

/// An array of `T` with `maxItems` of `MAX`. A field of this type is documented `inline` (through
/// a type alias, since the schema derive cannot read a const argument): the list is not a named
/// schema of its own, its items' named schemas are.
impl<T: utoipa::ToSchema, const MAX: usize> utoipa::PartialSchema for Bounded<T, MAX> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(T::schema())
            .max_items(Some(MAX))
            .into()
    }
}

impl<T: utoipa::ToSchema, const MAX: usize> utoipa::ToSchema for Bounded<T, MAX> {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        T::schemas(schemas);
    }
}

struct BoundedVisitor<T, const MAX: usize>(PhantomData<T>);

impl<'de, T: Deserialize<'de>, const MAX: usize> Visitor<'de> for BoundedVisitor<T, MAX> {
    type Value = Bounded<T, MAX>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(formatter, "a list of at most {MAX} items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX));
        while let Some(item) = seq.next_element()? {
            if items.len() == MAX {
                let mut count = MAX + 1;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    count += 1;
                }
                return Err(serde::de::Error::custom(format!(
                    "{TOO_LONG} {MAX} items after validation, not {count}"
                )));
            }
            items.push(item);
        }
        Ok(Bounded(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_up_to_the_limit_are_kept_in_order() {
        let list: Bounded<String, 2> = serde_json::from_str(r#"["b", "a"]"#).unwrap();
        assert_eq!(list.into_inner(), ["b", "a"]);
    }

    #[test]
    fn a_longer_list_names_the_limit_and_the_count() {
        let error = serde_json::from_str::<Bounded<String, 2>>(r#"["a", "b", "c", "d"]"#).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("List should have at most 2 items after validation, not 4"),
            "{error}"
        );
    }
}
