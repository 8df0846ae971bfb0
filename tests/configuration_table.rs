//! The manual's configuration table says what `resource-reserver serve --help` says: the same
//! variables, with the same defaults.
//!
//! The table is read from `docs/src/configuration.md` when the manual has it, else from the
//! README. Its rows look like
//!
//! ```text
//! | `VAR` | `default` | meaning |
//! | `VAR` (or `OLD_NAME`) | a sentence, or – | meaning |
//! | `VAR_A`, `VAR_B` | `a`, – | meaning |
//! ```
//!
//! Every table whose header starts with `| variable |` is read. A default written as one code span is a fixed value and must be the `[default: …]` of
//! `--help`; anything else (a sentence, `–`) says the setting has no fixed default, and `--help`
//! must show none either. A second name in the first cell is another variable read for the same
//! setting, and `--help` must mention it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// What the manual or `--help` says about one variable.
#[derive(Debug, Default, PartialEq, Eq)]
struct Documented {
    /// The fixed default, if the setting has one.
    default: Option<String>,
    /// Other variable names read for the same setting.
    aliases: Vec<String>,
}

#[test]
fn the_configuration_table_matches_serve_help() {
    let help = serve_help();
    let (table_path, table) = configuration_table();
    let mut problems = Vec::new();
    for (var, in_help) in &help.settings {
        match table.get(var) {
            None => problems.push(format!("{var} is in --help but not in the table")),
            Some(in_table) if in_table.default != in_help.default => problems.push(format!(
                "{var}: the table's default is {:?}, --help's is {:?}",
                in_table.default, in_help.default
            )),
            Some(_) => {}
        }
    }
    for (var, in_table) in &table {
        let Some(block) = help.blocks.get(var) else {
            problems.push(format!("{var} is in the table but not in --help"));
            continue;
        };
        for alias in &in_table.aliases {
            if !block.contains(alias.as_str()) {
                problems.push(format!("{var}: --help does not mention its other name {alias}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} and `serve --help` disagree:\n{}",
        table_path.display(),
        problems.join("\n")
    );
}

/// `serve --help` as read from the binary, with an empty environment.
struct Help {
    settings: BTreeMap<String, Documented>,
    /// Each variable's whole entry, for finding the names it mentions.
    blocks: BTreeMap<String, String>,
}

fn serve_help() -> Help {
    let output = Command::new(env!("CARGO_BIN_EXE_resource-reserver"))
        .env_clear()
        .args(["serve", "--help"])
        .output()
        .expect("running the server binary");
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).expect("help is UTF-8");
    let mut help = Help {
        settings: BTreeMap::new(),
        blocks: BTreeMap::new(),
    };
    // Each option's entry starts with a line `      --flag <VALUE>`.
    for block in entries(&text) {
        let Some(var) = bracketed(&block, "[env: ") else {
            continue;
        };
        let var = var.split('=').next().unwrap_or_default().to_owned();
        let documented = Documented {
            // clap quotes a default that has spaces in it.
            default: bracketed(&block, "[default: ").map(|value| value.trim_matches('"').to_owned()),
            aliases: Vec::new(),
        };
        help.settings.insert(var.clone(), documented);
        help.blocks.insert(var, block);
    }
    assert!(help.settings.len() > 40, "no settings found in --help:\n{text}");
    help
}

fn entries(help: &str) -> Vec<String> {
    let mut entries: Vec<String> = Vec::new();
    for line in help.lines() {
        if line.trim_start().starts_with("--") || entries.is_empty() {
            entries.push(String::new());
        }
        let entry = entries.last_mut().expect("pushed above");
        entry.push_str(line.trim());
        entry.push(' ');
    }
    entries
}

/// The text between `opening` and the next `]`.
fn bracketed<'a>(text: &'a str, opening: &str) -> Option<&'a str> {
    let start = text.find(opening)? + opening.len();
    let end = text[start..].find(']')? + start;
    Some(&text[start..end])
}

/// The configuration table: each variable with what the table says about it.
fn configuration_table() -> (std::path::PathBuf, BTreeMap<String, Documented>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manual = root.join("docs/src/configuration.md");
    let path = if manual.exists() {
        manual
    } else {
        root.join("README.md")
    };
    let text = std::fs::read_to_string(&path).expect("reading the manual");
    let mut table = BTreeMap::new();
    for line in settings_rows(&text) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let [names, defaults, ..] = cells[..] else { continue };
        let names = split_outside_code(names);
        let first_names: Vec<Vec<String>> = names.iter().map(|group| code_spans(group)).collect();
        if first_names
            .iter()
            .any(|spans| spans.is_empty() || !is_variable(&spans[0]))
        {
            continue; // the rule under the header
        }
        let defaults = if names.len() == 1 {
            vec![defaults.to_owned()]
        } else {
            split_outside_code(defaults)
        };
        assert_eq!(
            defaults.len(),
            names.len(),
            "{}: a row names {} variables but gives {} defaults: {line}",
            path.display(),
            names.len(),
            defaults.len()
        );
        for (mut spans, default) in first_names.into_iter().zip(defaults) {
            let var = spans.remove(0);
            let documented = Documented {
                default: fixed_value(&default),
                aliases: spans.into_iter().filter(|name| is_variable(name)).collect(),
            };
            assert!(
                table.insert(var.clone(), documented).is_none(),
                "{}: {var} has two rows",
                path.display()
            );
        }
    }
    assert!(table.len() > 40, "no configuration table found in {}", path.display());
    (path, table)
}

/// The rows of every table whose header starts with `| variable |`.
fn settings_rows(text: &str) -> Vec<&str> {
    let mut rows = Vec::new();
    let mut in_settings_table = false;
    for line in text.lines().map(str::trim) {
        if !line.starts_with('|') {
            in_settings_table = false;
        } else if in_settings_table {
            rows.push(line);
        } else {
            let first_cell = line.trim_start_matches('|').split('|').next().unwrap_or_default();
            in_settings_table = first_cell.trim().eq_ignore_ascii_case("variable");
        }
    }
    rows
}

/// `a`, `b, c`, d → [`a`, `b, c`, d]: commas inside code spans do not separate.
fn split_outside_code(cell: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut in_code = false;
    for c in cell.chars() {
        match c {
            '`' => in_code = !in_code,
            ',' if !in_code => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        parts.last_mut().expect("starts with one").push(c);
    }
    parts.iter().map(|part| part.trim().to_owned()).collect()
}

fn code_spans(text: &str) -> Vec<String> {
    text.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

fn is_variable(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// `` `8000` `` is the fixed value `8000`; a sentence or `–` is no fixed value.
fn fixed_value(default: &str) -> Option<String> {
    let inner = default.strip_prefix('`')?.strip_suffix('`')?;
    (!inner.contains('`')).then(|| inner.to_owned())
}
