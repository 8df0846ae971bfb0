//! CSV downloads: the one writer of every CSV file the server sends (the audit and analytics
//! exports); a long document can be sent as it is written ([`CsvWriter::take`]).
//!
//! Invariant: **no text cell can be read as a formula by a spreadsheet.** A text cell that starts
//! with `=`, `+`, `-`, `@`, a tab or a carriage return is written with a leading `'` (OWASP's
//! "CSV injection" advice), so an attacker who gets text into an export — a user name tried at
//! sign-in, a resource name — cannot make the administrator's spreadsheet run it.
//!
//! What is neutralised is decided by the cell's type, not by its content: [`Cell::Text`] is
//! everything that may carry someone's input; numbers, booleans and instants are formatted by the
//! server, so a negative number stays a number (`-3`, not `'-3`). Quoting follows RFC 4180 (the
//! `csv` crate), lines end with CRLF.
//!
//! A row costs no allocation of its own (text is written from where it is, numbers and instants
//! are formatted into one reused buffer): the reservations export writes some 80,000 rows per
//! request.

use std::borrow::Cow;

use actix_web::http::header::{CONTENT_DISPOSITION, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::ApiError;
use crate::wire::time::push_utc;

/// One cell of a CSV row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// Text that may come from a user or client: neutralised.
    Text(Cow<'a, str>),
    /// A number the server formats itself.
    Number(serde_json::Number),
    Bool(bool),
    /// An instant, as the API writes UTC times ([`crate::wire::time::utc`]).
    Time(DateTime<Utc>),
    Empty,
}

impl<'a> From<&'a Value> for Cell<'a> {
    /// JSON strings are text, whatever they look like (an instant formatted by the server starts
    /// with a digit, so it is left as it is anyway); other JSON values (arrays, objects) are
    /// written as their JSON text and treated as text too.
    fn from(value: &'a Value) -> Cell<'a> {
        match value {
            Value::Null => Cell::Empty,
            Value::Bool(flag) => Cell::Bool(*flag),
            Value::Number(number) => Cell::Number(number.clone()),
            Value::String(text) => Cell::Text(Cow::Borrowed(text)),
            other => Cell::Text(Cow::Owned(other.to_string())),
        }
    }
}

/// The first characters that make a spreadsheet read a cell as a formula (OWASP).
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `text`, prefixed with `'` when a spreadsheet would take it for a formula.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_TRIGGERS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

impl Cell<'_> {
    /// The cell's text; what the server formats is written into `scratch` (cleared first).
    fn render<'s>(&'s self, scratch: &'s mut String) -> Cow<'s, str> {
        use std::fmt::Write as _;

        match self {
            Cell::Text(text) => neutralise(text),
            Cell::Number(number) => {
                scratch.clear();
                let _ = write!(scratch, "{number}");
                Cow::Borrowed(scratch)
            }
            Cell::Time(time) => {
                scratch.clear();
                push_utc(scratch, *time);
                Cow::Borrowed(scratch)
            }
            Cell::Bool(flag) => Cow::Borrowed(if *flag { "true" } else { "false" }),
            Cell::Empty => Cow::Borrowed(""),
        }
    }
}

/// A CSV document being written: a header row, then rows of [`Cell`]s.
pub struct CsvWriter {
    writer: csv::Writer<Vec<u8>>,
    /// Where numbers and instants are formatted, reused from cell to cell.
    scratch: String,
}

impl CsvWriter {
    /// A document whose first row names the columns (written as they are: they are ours).
    pub fn new(columns: &[&str]) -> Result<CsvWriter, ApiError> {
        let mut writer = writer(0);
        writer.write_record(columns).map_err(internal)?;
        Ok(CsvWriter {
            writer,
            scratch: String::with_capacity(32),
        })
    }

    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = Cell<'a>>) -> Result<(), ApiError> {
        for cell in cells {
            self.writer
                .write_field(cell.render(&mut self.scratch).as_bytes())
                .map_err(internal)?;
        }
        // No fields left: ends the record.
        self.writer.write_record(None::<&[u8]>).map_err(internal)
    }

    /// The finished document as an attachment named `filename`.
    pub fn into_response(self, filename: &str) -> Result<HttpResponse, ApiError> {
        let body = self.writer.into_inner().map_err(|e| internal(e.into_error()))?;
        Ok(attachment(filename)?.body(body))
    }

    /// The text written since the last call: the next chunk of a streamed document. The next
    /// chunk's memory is reserved at this one's size, so it is not copied as it grows.
    pub fn take(&mut self) -> Result<Bytes, ApiError> {
        let size = self.writer.get_ref().len();
        let written = std::mem::replace(&mut self.writer, writer(size));
        Ok(Bytes::from(written.into_inner().map_err(|e| internal(e.into_error()))?))
    }
}

/// The start of an answer carrying a CSV attachment named `filename`.
pub fn attachment(filename: &str) -> Result<HttpResponseBuilder, ApiError> {
    let disposition = HeaderValue::from_str(&format!("attachment; filename={filename}")).map_err(ApiError::internal)?;
    let mut answer = HttpResponse::Ok();
    answer
        .content_type("text/csv; charset=utf-8")
        .insert_header((CONTENT_DISPOSITION, disposition));
    Ok(answer)
}

/// A writer of RFC 4180 text with CRLF line ends, into memory (`capacity` bytes reserved).
fn writer(capacity: usize) -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(capacity))
}

fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ApiError {
    ApiError::internal_context("cannot write CSV", error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document(rows: &[Value]) -> String {
        let mut csv = CsvWriter::new(&["a", "b"]).unwrap();
        for row in rows {
            csv.row(row.as_array().unwrap().iter().map(Cell::from)).unwrap();
        }
        String::from_utf8(csv.writer.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn text_that_a_spreadsheet_would_evaluate_is_prefixed() {
        for formula in ["=1+2", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"] {
            assert_eq!(neutralise(formula), format!("'{formula}"));
        }
        for plain in ["plain", "1-2", "a=b", " =1", "", "2026-01-01T00:00:00Z"] {
            assert_eq!(neutralise(plain), plain);
        }
    }

    #[test]
    fn instants_are_written_as_the_api_writes_them_and_rows_share_the_buffer() {
        let at = chrono::DateTime::parse_from_rfc3339("2030-03-28T09:00:00.25Z")
            .unwrap()
            .to_utc();
        let mut csv = CsvWriter::new(&["a", "b", "c"]).unwrap();
        csv.row([Cell::Time(at), Cell::Number(12.into()), Cell::Text("-x".into())])
            .unwrap();
        csv.row([Cell::Number((-3).into()), Cell::Time(at), Cell::Empty])
            .unwrap();
        assert_eq!(
            String::from_utf8(csv.take().unwrap().to_vec()).unwrap(),
            "a,b,c\r\n2030-03-28T09:00:00.250Z,12,'-x\r\n-3,2030-03-28T09:00:00.250Z,\r\n"
        );
    }

    #[test]
    fn numbers_stay_numbers_and_quoting_is_rfc_4180() {
        assert_eq!(
            document(&[json!([-3, "-3"]), json!(["a,\"b\"", null]), json!([true, "=x"])]),
            "a,b\r\n-3,'-3\r\n\"a,\"\"b\"\"\",\r\ntrue,'=x\r\n"
        );
    }
}
