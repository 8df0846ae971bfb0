//! An iCalendar (RFC 5545) writer: the only code that produces `.ics` text.
//!
//! It owns the three rules that are easy to get wrong when strings are glued together:
//! - every content line ends with CRLF (§3.1);
//! - a line longer than 75 octets is folded (CRLF followed by one space), and never inside a
//!   multi-byte UTF-8 character (§3.1);
//! - TEXT values escape `\`, `;`, `,` and line breaks (§3.3.11).
//!
//! Values are typed by the method that writes them, so user input can only ever be written as
//! escaped TEXT; the other methods take constants or times.

use chrono::{DateTime, Utc};

/// Longest physical line, in octets, without its CRLF (RFC 5545 §3.1).
pub const MAX_LINE_OCTETS: usize = 75;

/// An iCalendar object being written.
#[derive(Debug, Default)]
pub struct ICalendar {
    out: String,
}

impl ICalendar {
    pub fn new() -> ICalendar {
        ICalendar::default()
    }

    /// Writes `BEGIN:<name>`, the properties and sub-components `body` writes, and `END:<name>`,
    /// so components are always balanced.
    pub fn component(&mut self, name: &'static str, body: impl FnOnce(&mut ICalendar)) -> &mut ICalendar {
        self.line("BEGIN", name);
        body(self);
        self.line("END", name);
        self
    }

    /// A property whose value is a constant of the format (`VERSION`, `STATUS`, …).
    pub fn constant(&mut self, name: &'static str, value: &'static str) -> &mut ICalendar {
        self.line(name, value)
    }

    /// A TEXT property: `value` is escaped, whatever it contains.
    pub fn text(&mut self, name: &'static str, value: &str) -> &mut ICalendar {
        self.line(name, &escape_text(value))
    }

    /// A DATE-TIME property in UTC (`19980119T070000Z`, RFC 5545 §3.3.5 form 2); fractions of
    /// a second are dropped, the format has none.
    pub fn utc(&mut self, name: &'static str, time: DateTime<Utc>) -> &mut ICalendar {
        self.line(name, &time.format("%Y%m%dT%H%M%SZ").to_string())
    }

    /// The finished text.
    pub fn finish(self) -> String {
        self.out
    }

    fn line(&mut self, name: &str, value: &str) -> &mut ICalendar {
        fold_into(&mut self.out, &format!("{name}:{value}"));
        self
    }
}

/// Escapes a TEXT value (RFC 5545 §3.3.11). Line breaks of any kind become `\n`; other control
/// characters, which TEXT does not allow, are dropped (tabs are kept).
pub fn escape_text(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ';' => escaped.push_str("\\;"),
            ',' => escaped.push_str("\\,"),
            '\r' => {
                chars.next_if_eq(&'\n');
                escaped.push_str("\\n");
            }
            '\n' => escaped.push_str("\\n"),
            '\t' => escaped.push('\t'),
            c if c.is_control() => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// Appends `line` to `out` folded into physical lines of at most [`MAX_LINE_OCTETS`] octets,
/// each ending with CRLF. A continuation line starts with a space, which counts towards its
/// length; a character is never split.
fn fold_into(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn physical_lines(text: &str) -> Vec<&str> {
        assert!(text.ends_with("\r\n"));
        let lines: Vec<&str> = text[..text.len() - 2].split("\r\n").collect();
        for line in &lines {
            assert!(
                !line.contains('\n') && !line.contains('\r'),
                "bare line break in {line:?}"
            );
            assert!(line.len() <= MAX_LINE_OCTETS, "{} octets: {line:?}", line.len());
        }
        lines
    }

    fn unfold(text: &str) -> String {
        text.replace("\r\n ", "")
    }

    fn one_text_line(value: &str) -> String {
        let mut ical = ICalendar::new();
        ical.text("SUMMARY", value);
        ical.finish()
    }

    #[test]
    fn a_line_of_exactly_75_octets_is_not_folded_and_76_is() {
        let exact = "x".repeat(MAX_LINE_OCTETS - "SUMMARY:".len());
        assert_eq!(one_text_line(&exact), format!("SUMMARY:{exact}\r\n"));
        let text = one_text_line(&format!("{exact}y"));
        assert_eq!(text, format!("SUMMARY:{exact}\r\n y\r\n"));
        assert_eq!(physical_lines(&text).len(), 2);
    }

    #[test]
    fn folding_never_splits_a_multibyte_character() {
        // "SUMMARY:" is 8 octets; 33 two-octet characters reach 74, so the 4-octet emoji that
        // follows does not fit on the first line and moves whole to the next.
        let value = format!("{}😀{}", "é".repeat(33), "ü€😀".repeat(20));
        let text = one_text_line(&value);
        let lines = physical_lines(&text);
        assert_eq!(lines[0].len(), 74);
        assert!(lines[1].starts_with(" 😀"));
        assert!(lines.iter().skip(1).all(|l| l.starts_with(' ')));
        // A line is only folded when the next character (at most 4 octets) does not fit.
        assert!(lines[..lines.len() - 1].iter().all(|l| l.len() > MAX_LINE_OCTETS - 4));
        assert_eq!(unfold(&text), format!("SUMMARY:{value}\r\n"));
    }

    #[test]
    fn text_values_are_escaped() {
        assert_eq!(
            escape_text("a\\b;c,d\ne\r\nf\rg\th\u{7}i"),
            "a\\\\b\\;c\\,d\\ne\\nf\\ng\thi"
        );
        assert_eq!(
            one_text_line("Room 1, floor 2; \"east\""),
            "SUMMARY:Room 1\\, floor 2\\; \"east\"\r\n"
        );
    }

    #[test]
    fn components_are_balanced_and_lines_end_with_crlf() {
        let mut ical = ICalendar::new();
        ical.component("VCALENDAR", |cal| {
            cal.constant("VERSION", "2.0");
            cal.component("VEVENT", |event| {
                event.utc("DTSTART", Utc.with_ymd_and_hms(2030, 1, 7, 10, 0, 0).unwrap());
            });
        });
        assert_eq!(
            ical.finish(),
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART:20300107T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        );
    }
}
