//! Output for people (tables, `[OK]`/`[WARN]` lines, times in the user's zone) or for scripts:
//! `--output json` prints the API's own objects, pretty-printed, and nothing else on stdout;
//! `--output csv` prints the table a person would see as RFC 4180 CSV (a header line, then a line
//! per row; times as the API wrote them, RFC 3339), and nothing else on stdout.
//!
//! Every command shows its answer through [`Output::emit`] and the table builders below, so a
//! listing gets all three formats without code of its own.

use std::fmt::Display;
use std::io::IsTerminal;

use clap::ValueEnum;
use comfy_table::{ContentArrangement, Table, presets};
use serde_json::Value;

use crate::time::Zone;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables and messages, for people
    Table,
    /// The API's JSON objects only, for scripts
    Json,
    /// The table's columns as CSV (header line first), for spreadsheets and scripts
    Csv,
}

/// How a cell shows a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// An RFC 3339 time, shown in the user's zone.
    Time,
    /// A boolean as yes/no.
    Flag,
    /// A list, comma-separated.
    List,
}

/// A column of a table (or a row of a record): its title, where its value is (a dotted path
/// such as `resource.name`), and how it is shown.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub title: &'static str,
    pub path: &'static str,
    pub kind: Kind,
}

pub const fn text(title: &'static str, path: &'static str) -> Column {
    Column {
        title,
        path,
        kind: Kind::Text,
    }
}

pub const fn time(title: &'static str, path: &'static str) -> Column {
    Column {
        title,
        path,
        kind: Kind::Time,
    }
}

pub const fn flag(title: &'static str, path: &'static str) -> Column {
    Column {
        title,
        path,
        kind: Kind::Flag,
    }
}

pub const fn list(title: &'static str, path: &'static str) -> Column {
    Column {
        title,
        path,
        kind: Kind::List,
    }
}

/// Where everything a command shows goes.
pub struct Output {
    format: Format,
    zone: Zone,
}

impl Output {
    pub fn new(format: Format, zone: Zone) -> Output {
        Output { format, zone }
    }

    pub fn is_json(&self) -> bool {
        self.format == Format::Json
    }

    /// Whether the output is for people: messages, hints and progress bars are shown only then.
    pub fn is_human(&self) -> bool {
        self.format == Format::Table
    }

    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// Shows an API object: as JSON, or by `table` (which prints a table, or CSV).
    pub fn emit(&self, value: &Value, table: impl FnOnce(&Output)) {
        if self.is_json() {
            self.print_json(value);
        } else {
            table(self);
        }
    }

    pub fn print_json(&self, value: &Value) {
        line(serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
    }

    /// `[OK] …` for people; nothing for scripts.
    pub fn ok(&self, message: impl Display) {
        if self.is_human() {
            line(format!("[OK] {message}"));
        }
    }

    /// `[INFO] …` for people; nothing for scripts.
    pub fn info(&self, message: impl Display) {
        if self.is_human() {
            line(format!("[INFO] {message}"));
        }
    }

    /// An indented hint line for people; nothing for scripts.
    pub fn hint(&self, message: impl Display) {
        if self.is_human() {
            line(format!("  {message}"));
        }
    }

    /// `[WARN] …` on stderr, whatever the format.
    pub fn warn(&self, message: impl Display) {
        eprintln!("[WARN] {message}");
    }

    /// A table of `rows`, or an info line when there are none (CSV: the header line alone).
    pub fn rows(&self, rows: &[Value], columns: &[Column], empty: &str) {
        if self.format == Format::Csv {
            line(render_csv(
                columns.iter().map(|c| c.title.to_owned()),
                rows.iter()
                    .map(|row| columns.iter().map(|c| csv_cell(lookup(row, c.path))).collect()),
            ));
        } else if rows.is_empty() {
            self.info(empty);
        } else {
            line(self.render_rows(rows, columns));
        }
    }

    /// One object as a two-column table (CSV: a header line and one row).
    pub fn record(&self, value: &Value, fields: &[Column]) {
        if self.format == Format::Csv {
            self.rows(std::slice::from_ref(value), fields, "");
        } else {
            line(self.render_record(value, fields));
        }
    }

    /// A list of objects whose columns are not known in advance: every scalar field of the
    /// first one.
    pub fn auto_rows(&self, items: &[Value], empty: &str) {
        let keys = scalar_keys(items.first().unwrap_or(&Value::Null));
        if self.format == Format::Csv {
            line(render_csv(
                keys.iter().cloned(),
                items
                    .iter()
                    .map(|item| keys.iter().map(|k| csv_cell(item.get(k))).collect()),
            ));
        } else if items.is_empty() {
            self.info(empty);
        } else {
            let rows = items
                .iter()
                .map(|item| keys.iter().map(|k| self.auto_cell(&item[k])).collect())
                .collect();
            line(table(keys.iter().map(String::as_str), rows));
        }
    }

    /// Any object or list, for answers without a dedicated view: scalar fields only, times in
    /// the user's zone.
    pub fn auto(&self, value: &Value) {
        match value {
            Value::Array(items) if items.iter().all(Value::is_object) => self.auto_rows(items, "Nothing to show."),
            Value::Object(_) if self.format == Format::Csv => self.auto_rows(std::slice::from_ref(value), ""),
            Value::Object(map) => {
                let rows = map
                    .iter()
                    .filter(|(_, v)| is_scalar_field(v))
                    .map(|(k, v)| vec![k.clone(), self.auto_cell(v)])
                    .collect();
                line(table(["field", "value"], rows));
            }
            other => line(self.auto_cell(other)),
        }
    }

    pub fn render_rows(&self, rows: &[Value], columns: &[Column]) -> String {
        let cells = rows
            .iter()
            .map(|row| columns.iter().map(|c| self.cell(row, c)).collect())
            .collect();
        table(columns.iter().map(|c| c.title), cells).to_string()
    }

    pub fn render_record(&self, value: &Value, fields: &[Column]) -> String {
        let cells = fields
            .iter()
            .map(|f| vec![f.title.to_owned(), self.cell(value, f)])
            .collect();
        table(["field", "value"], cells).to_string()
    }

    /// The text of one cell.
    pub fn cell(&self, row: &Value, column: &Column) -> String {
        let value = lookup(row, column.path);
        match (column.kind, value) {
            (_, None | Some(Value::Null)) => "-".into(),
            (Kind::Time, Some(Value::String(text))) => self.zone.display_text(text),
            (Kind::Flag, Some(Value::Bool(b))) => if *b { "yes" } else { "no" }.into(),
            (Kind::List, Some(Value::Array(items))) if items.is_empty() => "-".into(),
            (_, Some(value)) => plain(value),
        }
    }

    fn auto_cell(&self, value: &Value) -> String {
        match value {
            Value::Null => "-".into(),
            Value::String(text) => self.zone.display_text(text),
            Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
            other => plain(other),
        }
    }
}

/// Prints a line on stdout. When the reader has gone (`| head`), the command stops quietly
/// instead of panicking.
pub fn line(text: impl Display) {
    use std::io::Write;
    if let Err(error) = writeln!(std::io::stdout().lock(), "{text}") {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("[ERROR] writing to stdout: {error}");
        std::process::exit(1);
    }
}

/// CSV text (RFC 4180): a header line, then a line per row, without a final line break.
fn render_csv(header: impl Iterator<Item = String>, rows: impl Iterator<Item = Vec<String>>) -> String {
    std::iter::once(header.collect::<Vec<_>>())
        .chain(rows)
        .map(|fields| fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One row as a CSV line (for output that comes a row at a time, after a header printed by
/// [`Output::rows`] with no rows).
pub fn csv_row(row: &Value, columns: &[Column]) -> String {
    render_csv(
        std::iter::empty(),
        std::iter::once(columns.iter().map(|c| csv_cell(lookup(row, c.path))).collect()),
    )
    .trim_start_matches('\n')
    .to_owned()
}

/// A field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// A value as a CSV cell: as the API wrote it (times in RFC 3339, booleans as true/false),
/// lists joined with `;`, nothing for null.
fn csv_cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(items)) => items.iter().map(|v| csv_cell(Some(v))).collect::<Vec<_>>().join(";"),
        Some(other) => other.to_string(),
    }
}

/// `noun` ("resources", "entries") for `count` items: singular for one.
pub fn count_of(count: usize, noun: &str) -> String {
    let noun = match (count, noun.strip_suffix("ies"), noun.strip_suffix('s')) {
        (1, Some(stem), _) => format!("{stem}y"),
        (1, None, Some(stem)) => stem.to_owned(),
        _ => noun.to_owned(),
    };
    format!("{count} {noun}")
}

/// A value by dotted path (`resource.name`, `data.reservations.0.id`).
pub fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |value, key| match value {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// A value as text: strings without quotes, lists comma-separated.
pub fn plain(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Whether a field fits in a cell: not an object, nor a list of objects.
fn is_scalar_field(value: &Value) -> bool {
    match value {
        Value::Object(_) => false,
        Value::Array(items) => !items.iter().any(Value::is_object),
        _ => true,
    }
}

/// The keys of an object's scalar fields (see [`is_scalar_field`]), in order.
fn scalar_keys(value: &Value) -> Vec<String> {
    value
        .as_object()
        .map(|map| {
            map.iter()
                .filter(|(_, v)| is_scalar_field(v))
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn table<'a>(header: impl IntoIterator<Item = &'a str>, rows: Vec<Vec<String>>) -> Table {
    let mut table = Table::new();
    table.load_style(presets::ASCII_FULL_CONDENSED);
    if std::io::stdout().is_terminal() {
        table.set_content_arrangement(ContentArrangement::Dynamic);
    }
    table.set_header(header);
    for row in rows {
        table.add_row(row);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paris() -> Output {
        Output::new(Format::Table, Zone::named("Europe/Paris"))
    }

    #[test]
    fn cells_by_kind() {
        let out = paris();
        let row = json!({
            "id": 7, "start_time": "2030-07-01T08:00:00Z", "available": false, "tags": ["a", "b"],
            "none": [], "resource": {"name": "Desk"}, "note": null,
        });
        assert_eq!(out.cell(&row, &text("id", "id")), "7");
        assert_eq!(out.cell(&row, &time("start", "start_time")), "2030-07-01 10:00 CEST");
        assert_eq!(out.cell(&row, &flag("on", "available")), "no");
        assert_eq!(out.cell(&row, &list("tags", "tags")), "a, b");
        assert_eq!(out.cell(&row, &list("none", "none")), "-");
        assert_eq!(out.cell(&row, &text("resource", "resource.name")), "Desk");
        assert_eq!(out.cell(&row, &text("note", "note")), "-");
        assert_eq!(out.cell(&row, &text("missing", "no.such.path")), "-");
    }

    #[test]
    fn tables_have_a_header_and_a_line_per_row() {
        let out = paris();
        let rows = [json!({"id": 1, "name": "Desk"}), json!({"id": 2, "name": "Room"})];
        let rendered = out.render_rows(&rows, &[text("ID", "id"), text("Name", "name")]);
        let lines: Vec<&str> = rendered.lines().filter(|l| l.contains('|')).collect();
        assert_eq!(lines.len(), 3, "{rendered}");
        assert!(lines[0].contains("ID") && lines[0].contains("Name"));
        assert!(lines[2].contains('2') && lines[2].contains("Room"));
    }

    #[test]
    fn records_have_a_line_per_field() {
        let out = Output::new(Format::Table, Zone::Utc);
        let rendered = out.render_record(
            &json!({"id": 3, "end": "2030-01-01T00:00:00Z"}),
            &[text("ID", "id"), time("Ends", "end")],
        );
        assert!(
            rendered.contains("Ends") && rendered.contains("2030-01-01 00:00 UTC"),
            "{rendered}"
        );
    }

    #[test]
    fn lookup_follows_objects_and_arrays() {
        let value = json!({"data": {"items": [{"id": 5}]}});
        assert_eq!(lookup(&value, "data.items.0.id"), Some(&json!(5)));
        assert_eq!(lookup(&value, "data.items.1.id"), None);
        assert_eq!(plain(&json!(["x", 1, null])), "x, 1, -");
    }

    #[test]
    fn csv_has_a_header_and_quotes_where_needed() {
        let out = Output::new(Format::Csv, Zone::Utc);
        assert!(!out.is_human());
        let rows = [
            json!({"id": 1, "name": "Desk, big", "tags": ["a", "b"], "at": "2030-01-01T00:00:00Z"}),
            json!({"id": 2, "name": "Say \"hi\"", "tags": [], "at": null}),
        ];
        let columns = [
            text("ID", "id"),
            text("Name", "name"),
            list("Tags", "tags"),
            time("At", "at"),
        ];
        let csv = render_csv(
            columns.iter().map(|c| c.title.to_owned()),
            rows.iter()
                .map(|row| columns.iter().map(|c| csv_cell(lookup(row, c.path))).collect()),
        );
        assert_eq!(
            csv,
            "ID,Name,Tags,At\n1,\"Desk, big\",a;b,2030-01-01T00:00:00Z\n2,\"Say \"\"hi\"\"\",,"
        );
    }

    #[test]
    fn counts() {
        assert_eq!(count_of(1, "resources"), "1 resource");
        assert_eq!(count_of(2, "resources"), "2 resources");
        assert_eq!(count_of(1, "waitlist entries"), "1 waitlist entry");
        assert_eq!(count_of(0, "waitlist entries"), "0 waitlist entries");
    }
}
