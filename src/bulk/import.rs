//! `POST /api/v1/bulk/reservations/import`: a batch from a CSV file.
//!
//! Columns (header row): `resource_id` or `resource_name` (the exact name), `start_time`,
//! `end_time`, in the formats of the JSON API (RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` with a space
//! or a `T`, read as UTC). Rows are numbered from 1, the first line after the header; blank lines
//! are skipped. A row that cannot be read (a missing column, an unknown resource name, a time in
//! no known format) is reported as `{row, error}`; it makes the batch book nothing, but the other
//! rows are still checked and reported.

use std::collections::HashMap;

use actix_multipart::Multipart;

use super::{Batch, Requested};
use crate::error::ApiError;
use crate::params;
use crate::resources::import::{CsvWording, read_csv_field};
use crate::storage::{Db, StorageError};
use crate::wire::time::parse;

/// The most rows a file may have (the file is at most 1 MiB as well).
pub const MAX_ROWS: usize = 1000;

const WORDING: CsvWording = CsvWording {
    not_csv: "File must be a CSV file",
    not_utf8: "File must be UTF-8 encoded",
};

/// The batch of the uploaded file.
pub async fn read(db: &Db, multipart: Multipart) -> Result<Batch, ApiError> {
    let text = read_csv_field(multipart, &WORDING).await?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ApiError::BadRequest(format!("Invalid CSV: {e}")))?
        .iter()
        .map(str::to_ascii_lowercase)
        .collect();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (id_col, name_col) = (column("resource_id"), column("resource_name"));
    let (Some(start_col), Some(end_col)) = (column("start_time"), column("end_time")) else {
        return Err(ApiError::BadRequest(
            "CSV must have the columns start_time and end_time".into(),
        ));
    };
    if id_col.is_none() && name_col.is_none() {
        return Err(ApiError::BadRequest(
            "CSV must have a resource_id or a resource_name column".into(),
        ));
    }
    let (mut items, mut unreadable) = (Vec::new(), Vec::new());
    let mut names = ResourceNames::default();
    for (number, record) in reader.records().enumerate() {
        let row = number as u64 + 1;
        if number >= MAX_ROWS {
            return Err(ApiError::BadRequest(format!("CSV has more than {MAX_ROWS} rows")));
        }
        let record = match record {
            Ok(record) if record.iter().all(str::is_empty) => continue,
            Ok(record) => record,
            Err(error) => {
                unreadable.push((row, format!("Malformed CSV row: {error}")));
                continue;
            }
        };
        let cell = |col: Option<usize>| col.and_then(|c| record.get(c)).filter(|v| !v.is_empty());
        let resource = match (cell(id_col), cell(name_col)) {
            (Some(id), _) => id.parse::<i64>().map_err(|_| format!("Invalid resource_id '{id}'")),
            (None, Some(name)) => names.id_of(db, name).await?,
            (None, None) => Err("Missing resource_id or resource_name".to_owned()),
        };
        let time = |col: usize, name: &str| match cell(Some(col)) {
            Some(raw) => parse(raw).ok_or_else(|| format!("Invalid {name} '{raw}'")),
            None => Err(format!("Missing {name}")),
        };
        match (resource, time(start_col, "start_time"), time(end_col, "end_time")) {
            (Ok(resource), Ok(start), Ok(end)) => items.push(Requested {
                resource,
                start,
                end,
                row: Some(row),
            }),
            (Err(why), _, _) | (_, Err(why), _) | (_, _, Err(why)) => unreadable.push((row, why)),
        }
    }
    Ok(Batch::new(items, unreadable))
}

/// Resource names looked up once per file.
#[derive(Default)]
struct ResourceNames(HashMap<String, Option<i64>>);

impl ResourceNames {
    /// The id of the resource named exactly `name`, or the row's error.
    async fn id_of(&mut self, db: &Db, name: &str) -> Result<Result<i64, String>, StorageError> {
        let id = match self.0.get(name) {
            Some(id) => *id,
            None => {
                let row = db
                    .query_opt("SELECT id FROM resources WHERE name = $1", params![name])
                    .await?;
                let id = row.map(|row| row.get::<i64>("id")).transpose()?;
                self.0.insert(name.to_owned(), id);
                id
            }
        };
        Ok(id.ok_or_else(|| format!("Resource '{name}' not found")))
    }
}
