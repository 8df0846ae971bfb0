//! The values that cross the storage boundary: query parameters and row cells.
//!
//! Both backends speak these types, so a query is written once for both. Times are UTC instants
//! (`TIMESTAMPTZ` in PostgreSQL, microseconds since the epoch in SQLite); booleans are `BOOLEAN`
//! in PostgreSQL and 0/1 in SQLite; JSON is `JSONB` or text. Decoding accepts either encoding, so
//! callers never see which backend produced a row.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};

use super::StorageError;

/// A query parameter or a cell of a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    Time(DateTime<Utc>),
    Json(serde_json::Value),
}

impl Value {
    /// Microseconds since the Unix epoch: the SQLite encoding of a [`Value::Time`].
    pub fn micros(time: &DateTime<Utc>) -> i64 {
        time.timestamp_micros()
    }

    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Bool(_) => "boolean",
            Value::Text(_) => "text",
            Value::Time(_) => "timestamp",
            Value::Json(_) => "json",
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident $(as $cast:ty)?),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self { Value::$variant(v $(as $cast)?) }
        }
    )*};
}

value_from!(i64 => Int, i32 => Int as i64, u32 => Int as i64, f64 => Float, bool => Bool,
    String => Text, DateTime<Utc> => Time, serde_json::Value => Json);

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Builds a `Vec<Value>` of query parameters: `params![id, name, now]`.
#[macro_export]
macro_rules! params {
    () => { ::std::vec::Vec::<$crate::storage::Value>::new() };
    ($($p:expr),+ $(,)?) => { vec![$($crate::storage::Value::from($p)),+] };
}

/// Appends the placeholder `$n` to `sql`, without `fmt`: statements with many values (an
/// analytics upsert has dozens) write many of them.
pub fn push_placeholder(sql: &mut String, n: usize) {
    sql.push('$');
    sql.push_str(itoa::Buffer::new().format(n));
}

/// Collects parameters while a statement is assembled: `bind` returns the placeholder (`$n`)
/// of the value it adds, so fragments only number the parameters they really use.
#[derive(Debug, Default, Clone)]
pub struct Binder {
    values: Vec<Value>,
}

impl Binder {
    pub fn new() -> Binder {
        Binder::default()
    }

    pub fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        let mut placeholder = String::with_capacity(4);
        push_placeholder(&mut placeholder, self.values.len());
        placeholder
    }

    pub fn into_values(self) -> Vec<Value> {
        self.values
    }
}

/// One row of a result: cells by position, with the column names shared by all rows.
#[derive(Debug, Clone)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    pub(crate) fn new(columns: Arc<[String]>, values: Vec<Value>) -> Self {
        Row { columns, values }
    }

    /// The cell of column `name`, decoded as `T`.
    pub fn get<T: FromValue>(&self, name: &str) -> Result<T, StorageError> {
        let value = self.value(name)?;
        T::from_value(value).map_err(|expected| mismatch(name, expected, value))
    }

    /// The text cell of column `name`, borrowed (a long read need not copy every string).
    pub fn text(&self, name: &str) -> Result<&str, StorageError> {
        match self.value(name)? {
            Value::Text(text) => Ok(text),
            other => Err(mismatch(name, "text", other)),
        }
    }

    fn value(&self, name: &str) -> Result<&Value, StorageError> {
        let index = self
            .columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| StorageError::Decode(format!("no column `{name}` in the result")))?;
        Ok(&self.values[index])
    }
}

fn mismatch(name: &str, expected: &str, found: &Value) -> StorageError {
    StorageError::Decode(format!("column `{name}`: expected {expected}, found {}", found.kind()))
}

/// Decoding of a cell into a Rust type. The error is the name of the expected type.
pub trait FromValue: Sized {
    fn from_value(value: &Value) -> Result<Self, &'static str>;
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Int(v) => Ok(*v),
            _ => Err("integer"),
        }
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Float(v) => Ok(*v),
            Value::Int(v) => Ok(*v as f64),
            _ => Err("float"),
        }
    }
}

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Bool(v) => Ok(*v),
            Value::Int(v) => Ok(*v != 0),
            _ => Err("boolean"),
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Text(v) => Ok(v.clone()),
            _ => Err("text"),
        }
    }
}

impl FromValue for DateTime<Utc> {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Time(v) => Ok(*v),
            Value::Int(micros) => Utc.timestamp_micros(*micros).single().ok_or("timestamp"),
            _ => Err("timestamp"),
        }
    }
}

impl FromValue for serde_json::Value {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Json(v) => Ok(v.clone()),
            Value::Text(text) => serde_json::from_str(text).map_err(|_| "json"),
            _ => Err("json"),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: Vec<Value>) -> Row {
        let columns: Arc<[String]> = (0..values.len()).map(|i| format!("c{i}")).collect();
        Row::new(columns, values)
    }

    #[test]
    fn sqlite_encodings_decode_like_postgres_ones() {
        let now = Utc.timestamp_micros(1_764_000_000_123_456).unwrap();
        let r = row(vec![
            Value::Int(Value::micros(&now)),
            Value::Int(1),
            Value::Text("[1,2]".into()),
        ]);
        assert_eq!(r.get::<DateTime<Utc>>("c0").unwrap(), now);
        assert!(r.get::<bool>("c1").unwrap());
        assert_eq!(r.get::<serde_json::Value>("c2").unwrap(), serde_json::json!([1, 2]));
    }

    #[test]
    fn a_wrong_type_or_column_is_a_decode_error_not_a_panic() {
        let r = row(vec![Value::Text("x".into()), Value::Null]);
        assert!(matches!(r.get::<i64>("c0"), Err(StorageError::Decode(_))));
        assert!(matches!(r.get::<i64>("missing"), Err(StorageError::Decode(_))));
        assert_eq!(r.get::<Option<i64>>("c1").unwrap(), None);
        assert_eq!(r.text("c0").unwrap(), "x");
        assert!(matches!(r.text("c1"), Err(StorageError::Decode(_))));
        assert!(matches!(r.text("missing"), Err(StorageError::Decode(_))));
    }
}
