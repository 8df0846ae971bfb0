//! `POST /api/v1/resources/upload`: resources from a CSV file, all or nothing.
//!
//! Columns (header row, case-insensitive): `name` (required), `tags` (comma-separated inside
//! the field), `available` (true/false/yes/no/1/0, default true), `description`, `timezone`
//! (IANA, default UTC); others are ignored. Blank lines and lines starting with `#` are skipped.
//! Every row is checked first; if any is bad, nothing is imported and each bad row is reported
//! with its line number. `?preview=true` reports what would be created and creates nothing.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::HttpResponse;
use chrono_tz::Tz;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;

use super::fields::{MAX_TAGS, ResourceName, clean_tags};
use super::{queries, record};
use crate::error::{ApiError, FieldError};
use reserver_actors::Clock;

use crate::events::EventWriter;
use crate::storage::Db;

const MAX_FILE_BYTES: usize = 1 << 20;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    #[serde(default)]
    preview: bool,
}

/// A row that passed every check.
#[derive(Debug, Clone, serde::Serialize)]
struct ImportRow {
    line: u64,
    name: String,
    description: Option<String>,
    tags: Vec<String>,
    available: bool,
    timezone: &'static str,
}

/// Imports (or previews) the CSV file of `multipart`; `writer` records the created resources' events.
pub async fn upload(
    db: &Db,
    clock: &dyn Clock,
    writer: &EventWriter,
    params: UploadParams,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    let text = read_csv_field(multipart, &UPLOAD_WORDING).await?;
    let (rows, mut problems) = parse(&text)?;
    for row in &rows {
        if queries::name_taken(db, &row.name).await? {
            problems.push((row.line, format!("Resource '{}' already exists.", row.name)));
        }
    }
    problems.sort();
    if params.preview {
        return Ok(HttpResponse::Ok().json(json!({
            "preview": true,
            "created_count": 0,
            "would_create": rows,
            "errors": problems.iter().map(|(line, why)| format!("Row {line}: {why}")).collect::<Vec<_>>(),
        })));
    }
    if !problems.is_empty() {
        return Err(ApiError::Validation(
            problems
                .into_iter()
                .map(|(line, why)| FieldError {
                    kind: "value_error".into(),
                    loc: vec![json!("body"), json!("file"), json!(line)],
                    msg: format!("Row {line}: {why}"),
                    input: serde_json::Value::Null,
                })
                .collect(),
        ));
    }
    let now = clock.now();
    let mut tx = db.begin().await?;
    let mut created = Vec::with_capacity(rows.len());
    for row in &rows {
        let new = record::NewResource {
            name: row.name.clone(),
            description: row.description.clone(),
            tags: row.tags.clone(),
            enabled: row.available,
            timezone: row.timezone.parse().unwrap_or(Tz::UTC),
            checkin_window_minutes: None,
        };
        let id = record::insert_in(&mut tx, writer, &new, now).await.map_err(|error| {
            if error.is_unique_violation_of("name") {
                ApiError::Conflict(format!("Row {}: Resource '{}' already exists.", row.line, row.name))
            } else {
                error.into()
            }
        })?;
        created.push(id);
    }
    tx.commit().await?;
    writer.committed();
    Ok(HttpResponse::Ok().json(json!({ "created_count": created.len(), "created": created, "errors": [] })))
}

/// How an upload's refusals are worded (each API area kept its original's words).
pub struct CsvWording {
    pub not_csv: &'static str,
    pub not_utf8: &'static str,
}

const UPLOAD_WORDING: CsvWording = CsvWording {
    not_csv: "File must be a CSV",
    not_utf8: "Failed to process CSV file: not UTF-8",
};

/// The text of the `file` field (a `.csv` name, UTF-8, at most 1 MiB).
pub async fn read_csv_field(mut multipart: Multipart, wording: &CsvWording) -> Result<String, ApiError> {
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| ApiError::BadRequest(format!("Invalid multipart body: {e}")))?;
        if field.name() != Some("file") {
            continue;
        }
        let filename = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .unwrap_or_default();
        if !filename.to_ascii_lowercase().ends_with(".csv") {
            return Err(ApiError::BadRequest(wording.not_csv.into()));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("Failed to process CSV file: {e}")))?;
            if bytes.len() + chunk.len() > MAX_FILE_BYTES {
                return Err(ApiError::PayloadTooLarge("File size exceeds 1MB limit".into()));
            }
            bytes.extend_from_slice(&chunk);
        }
        return String::from_utf8(bytes).map_err(|_| ApiError::BadRequest(wording.not_utf8.into()));
    }
    Err(ApiError::Validation(vec![FieldError {
        kind: "missing".into(),
        loc: vec![json!("body"), json!("file")],
        msg: "Field required".into(),
        input: serde_json::Value::Null,
    }]))
}

/// A bad row: its line number and what is wrong with it.
type Problem = (u64, String);

/// Parses and checks every row; returns the good rows and the problems of the bad ones.
fn parse(text: &str) -> Result<(Vec<ImportRow>, Vec<Problem>), ApiError> {
    // Comments are skipped by hand below: the csv crate's own comment support miscounts lines.
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ApiError::BadRequest(format!("Failed to process CSV file: {e}")))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let Some(name_col) = column("name") else {
        return Err(ApiError::BadRequest(
            "Failed to process CSV file: the header has no 'name' column".into(),
        ));
    };
    let (tags_col, available_col, description_col, timezone_col) = (
        column("tags"),
        column("available"),
        column("description"),
        column("timezone"),
    );

    let (mut rows, mut problems) = (Vec::new(), Vec::new());
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                problems.push((line, format!("Malformed CSV: {error}")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let is_comment = record.get(0).is_some_and(|first| first.trim_start().starts_with('#'));
        if is_comment || record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        let field = |col: Option<usize>| col.and_then(|c| record.get(c)).map(str::trim).filter(|v| !v.is_empty());
        let Some(raw_name) = field(Some(name_col)) else {
            problems.push((line, "Missing resource name".into()));
            continue;
        };
        let name = match ResourceName::try_from(raw_name.to_owned()) {
            Ok(name) => name.into_inner(),
            Err(why) => {
                problems.push((line, why));
                continue;
            }
        };
        if let Some(first) = seen.insert(name.clone(), line) {
            problems.push((line, format!("Duplicate name '{name}' (also on row {first})")));
            continue;
        }
        let available = match field(available_col).map(str::to_ascii_lowercase).as_deref() {
            None | Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(other) => {
                problems.push((line, format!("available must be true or false, not '{other}'")));
                continue;
            }
        };
        let timezone = match field(timezone_col) {
            None => Tz::UTC,
            Some(zone) => match zone.parse::<Tz>() {
                Ok(tz) => tz,
                Err(_) => {
                    problems.push((line, format!("Unknown time zone '{zone}'")));
                    continue;
                }
            },
        };
        let tags = clean_tags(
            field(tags_col)
                .into_iter()
                .flat_map(|t| t.split(','))
                .map(str::to_owned),
        );
        if tags.len() > MAX_TAGS {
            problems.push((line, format!("A resource may carry at most {MAX_TAGS} tags")));
            continue;
        }
        rows.push(ImportRow {
            line,
            name,
            description: field(description_col).map(str::to_owned),
            tags,
            available,
            timezone: timezone.name(),
        });
    }
    Ok((rows, problems))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn rows_are_checked_and_numbered_by_line() {
        let csv = "name,tags,available,timezone\n# a comment\nRoom A,\"big,quiet\",yes,Europe/Berlin\n,x,true,\nRoom B,,maybe,\nRoom A,,,\nRoom C,,,Mars/Olympus\n\nRoom D,,0,\n";
        let (rows, problems) = parse(csv).unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["Room A", "Room D"]);
        assert_eq!(rows[0].tags, ["big", "quiet"]);
        assert_eq!(rows[0].timezone, "Europe/Berlin");
        assert!(!rows[1].available);
        let lines: Vec<u64> = problems.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [4, 5, 6, 7]);
        assert!(problems[0].1.contains("Missing resource name"));
        assert_eq!(problems[2].1, "Duplicate name 'Room A' (also on row 3)");
    }
}
