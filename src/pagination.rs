//! Cursor pagination with the `/api/v1` envelope:
//! `{"data": [...], "next_cursor": str|null, "prev_cursor": null, "has_more": bool, "total_count": int|null}`.
//!
//! Pages are read with a keyset condition `(sort value, id) > (cursor value, cursor id)`, so a page
//! costs the same whatever its position. The cursor is the wire format's opaque URL-safe base64 of
//! `{"v": <sort value of the last row>, "id": <id of the last row>}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::storage::{Binder, Row, StorageError, Value};

/// The query parameters every paginated list accepts.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    pub cursor: Option<String>,
    #[serde(default = "default_limit")]
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: i64,
    pub sort_by: Option<String>,
    #[param(schema_with = sort_orders)]
    pub sort_order: Option<String>,
    #[serde(default)]
    pub include_total: bool,
}

fn default_limit() -> i64 {
    20
}

/// The spellings [`Page::parse`] accepts for `sort_order`.
fn sort_orders() -> utoipa::openapi::Object {
    crate::http::extract::one_of(&["asc", "desc"])
}

/// How a sort value is typed, to bind the cursor's value back as the right SQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKind {
    Int,
    Text,
    Time,
}

/// A column a list can be sorted by: its API name and its SQL expression.
#[derive(Debug, Clone, Copy)]
pub struct SortKey {
    pub name: &'static str,
    pub sql: &'static str,
    pub kind: SortKind,
}

/// A validated page request.
#[derive(Debug, Clone)]
pub struct Page {
    pub key: SortKey,
    pub descending: bool,
    pub limit: i64,
    pub after: Option<(Value, i64)>,
    pub include_total: bool,
}

#[derive(Serialize, Deserialize)]
struct CursorBody {
    v: serde_json::Value,
    id: i64,
}

impl Page {
    /// Validates `params` against the sortable `keys` (the first default one is `default_key`).
    pub fn parse(
        params: &PageParams,
        keys: &[SortKey],
        default_key: &str,
        default_descending: bool,
    ) -> Result<Page, ApiError> {
        if !(1..=100).contains(&params.limit) {
            return Err(ApiError::invalid(
                &["query", "limit"],
                "limit must be between 1 and 100",
                params.limit,
            ));
        }
        let wanted = params.sort_by.as_deref().unwrap_or(default_key);
        let key = *keys.iter().find(|k| k.name == wanted).ok_or_else(|| {
            let names: Vec<&str> = keys.iter().map(|k| k.name).collect();
            ApiError::BadRequest(format!("Invalid sort_by. Must be one of: {}.", names.join(", ")))
        })?;
        let descending = match params.sort_order.as_deref() {
            None => default_descending,
            Some("asc") => false,
            Some("desc") => true,
            Some(_) => {
                return Err(ApiError::BadRequest(
                    "Invalid sort_order. Must be 'asc' or 'desc'.".into(),
                ));
            }
        };
        let after = params
            .cursor
            .as_deref()
            .map(|cursor| decode_cursor(cursor, key.kind))
            .transpose()?;
        Ok(Page {
            key,
            descending,
            limit: params.limit,
            after,
            include_total: params.include_total,
        })
    }

    /// The keyset condition for rows after the cursor (`1 = 1` on the first page).
    /// `id_sql` is the row id expression.
    pub fn condition(&self, id_sql: &str, binder: &mut Binder) -> String {
        let Some((value, id)) = &self.after else {
            return "1 = 1".into();
        };
        let (v, i) = (binder.bind(value.clone()), binder.bind(*id));
        let op = if self.descending { "<" } else { ">" };
        format!(
            "({sql} {op} {v} OR ({sql} = {v} AND {id_sql} {op} {i}))",
            sql = self.key.sql
        )
    }

    /// `ORDER BY` for the page, with the id as tie-breaker in the same direction.
    pub fn order_by(&self, id_sql: &str) -> String {
        let direction = if self.descending { "DESC" } else { "ASC" };
        format!("{} {direction}, {id_sql} {direction}", self.key.sql)
    }

    /// One more than the page size: the extra row only says whether there is a next page.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }

    /// The cursor value of a row selected with `<sort expression> AS sort_value`.
    pub fn sort_value(&self, row: &Row) -> Result<serde_json::Value, StorageError> {
        Ok(match self.key.kind {
            SortKind::Int => serde_json::json!(row.get::<i64>("sort_value")?),
            SortKind::Text => serde_json::json!(row.get::<String>("sort_value")?),
            SortKind::Time => time_cursor(row.get("sort_value")?),
        })
    }

    /// Builds the envelope from rows fetched with [`Page::fetch_limit`].
    pub fn envelope<T: Serialize>(&self, mut rows: Vec<Paged<T>>, total: Option<i64>) -> serde_json::Value {
        let has_more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = rows
            .last()
            .filter(|_| has_more)
            .map(|last| encode_cursor(last.sort_value.clone(), last.id));
        let data: Vec<T> = rows.into_iter().map(|row| row.item).collect();
        serde_json::json!({
            "data": data,
            "next_cursor": next_cursor,
            "prev_cursor": null,
            "has_more": has_more,
            "total_count": total,
        })
    }
}

/// An item of a page with what its cursor is made of.
pub struct Paged<T> {
    pub item: T,
    pub sort_value: serde_json::Value,
    pub id: i64,
}

fn encode_cursor(v: serde_json::Value, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&CursorBody { v, id }).unwrap_or_default())
}

fn decode_cursor(cursor: &str, kind: SortKind) -> Result<(Value, i64), ApiError> {
    let invalid = || ApiError::BadRequest("Invalid cursor".into());
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim_end_matches('='))
        .map_err(|_| invalid())?;
    let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let value = match (kind, &body.v) {
        (SortKind::Int, serde_json::Value::Number(n)) => Value::Int(n.as_i64().ok_or_else(invalid)?),
        (SortKind::Text, serde_json::Value::String(s)) => Value::Text(s.clone()),
        (SortKind::Time, serde_json::Value::String(s)) => Value::Time(
            DateTime::parse_from_rfc3339(s)
                .map_err(|_| invalid())?
                .with_timezone(&Utc),
        ),
        _ => return Err(invalid()),
    };
    Ok((value, body.id))
}

/// The cursor value of a time: RFC 3339 with microseconds, as decoded above.
pub fn time_cursor(time: DateTime<Utc>) -> serde_json::Value {
    serde_json::Value::String(time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_400() {
        let cursor = encode_cursor(serde_json::json!("room a"), 7);
        let (value, id) = decode_cursor(&cursor, SortKind::Text).unwrap();
        assert_eq!((value, id), (Value::Text("room a".into()), 7));
        assert!(decode_cursor("not base64!", SortKind::Text).is_err());
        assert!(
            decode_cursor(&cursor, SortKind::Int).is_err(),
            "a text cursor on an integer sort"
        );
    }
}
