//! What a run measured: one [`Row`] per workload (or per part of one), grouped by backend, saved
//! as JSON and printed as a table. Each workload states its budget (from `shared/design.md`) and
//! whether it held, so the report is read against the budgets without recomputing anything.

use std::path::Path;

use anyhow::{Context, Result};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::{Deserialize, Serialize};

use crate::process::Usage;
use crate::stats::Summary;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub workload: String,
    /// Answered requests (or delivered events), their rate, latency and failures.
    pub summary: Summary,
    /// Bookings accepted per second, for booking workloads.
    pub accepted_per_second: Option<f64>,
    pub overlaps: Option<u64>,
    pub events_lost: Option<u64>,
    /// The budget this row is measured against, and whether it held.
    pub budget: String,
    pub holds: bool,
    /// Anything else worth reading (rounds, winners, connections, counts).
    pub notes: Vec<String>,
    /// Every node of the server (summed over their processes).
    pub server: Option<Usage>,
    /// PostgreSQL's processes of the run's database (`rr-load run --database`), summed.
    #[serde(default)]
    pub database: Option<Usage>,
    pub generator: Option<Usage>,
    /// The machine's load averages (1, 5, 15 minutes) when the workload ended.
    #[serde(default)]
    pub load_average: Option<[f64; 3]>,
    /// Figures of this workload alone (e.g. the contention workload's 409 latency), in order.
    #[serde(default)]
    pub figures: Vec<Figure>,
}

/// A named figure of one workload; the name carries its unit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figure {
    pub name: String,
    pub value: f64,
}

impl Row {
    pub fn figure(&mut self, name: &str, value: f64) {
        self.figures.push(Figure {
            name: name.to_owned(),
            value,
        });
    }

    /// Server CPU milliseconds per answered request (or delivered event); per *accepted* one
    /// where the row counts acceptances (bookings), so refused requests do not make a booking
    /// look cheaper. Unlike a rate, it holds across machines of different speed and load. Every
    /// node's processes are in it; the database's (PostgreSQL) are not: see
    /// [`Row::database_cpu_ms_per_request`].
    pub fn cpu_ms_per_request(&self) -> Option<f64> {
        self.per_request(self.server.as_ref()?)
    }

    /// The same for PostgreSQL's processes of the run's database, when they were measured.
    pub fn database_cpu_ms_per_request(&self) -> Option<f64> {
        self.per_request(self.database.as_ref()?)
    }

    fn per_request(&self, usage: &Usage) -> Option<f64> {
        let counted = match self.accepted_per_second {
            Some(accepted) if self.summary.per_second > 0.0 => {
                self.summary.requests as f64 * accepted / self.summary.per_second
            }
            _ => self.summary.requests as f64,
        };
        (counted > 0.0 && usage.cpu_ms > 0.0).then(|| usage.cpu_ms / counted)
    }
}

/// One backend's run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackendRun {
    pub backend: String,
    pub url: String,
    pub started_at: String,
    pub rows: Vec<Row>,
}

/// A whole run of `loadtests/run`: the machine, the command and every backend.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub date: String,
    pub command: String,
    pub machine: Machine,
    pub backends: Vec<BackendRun>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    pub cpus: usize,
    pub memory_mb: u64,
    pub uname: String,
}

impl Machine {
    pub fn this() -> Machine {
        let memory_kib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|info| {
                let line = info.lines().find(|l| l.starts_with("MemTotal:"))?.to_owned();
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .unwrap_or(0);
        let uname = std::process::Command::new("uname")
            .arg("-a")
            .output()
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
            .unwrap_or_default();
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_mb: memory_kib / 1024,
            uname,
        }
    }
}

pub fn read_backend(path: &Path) -> Result<BackendRun> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The human table: one line per backend and workload.
pub fn table(report: &Report) -> Table {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_header([
        "backend",
        "workload",
        "req/s",
        "accepted/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "errors",
        "overlaps",
        "lost",
        "server RSS MB",
        "server CPU %",
        "server CPU ms/req",
        "rr-load CPU %",
        "load 1 min",
        "budget",
        "holds",
    ]);
    let optional = |value: Option<u64>| value.map_or_else(|| "–".to_owned(), |v| v.to_string());
    for run in &report.backends {
        for row in &run.rows {
            let s = &row.summary;
            table.add_row([
                run.backend.clone(),
                row.workload.clone(),
                format!("{:.0}", s.per_second),
                row.accepted_per_second
                    .map_or_else(|| "–".to_owned(), |a| format!("{a:.0}")),
                format!("{:.2}", s.p50_ms),
                format!("{:.2}", s.p90_ms),
                format!("{:.2}", s.p99_ms),
                s.errors.to_string(),
                optional(row.overlaps),
                optional(row.events_lost),
                row.server
                    .as_ref()
                    .map_or_else(|| "–".to_owned(), |u| format!("{:.0}", u.rss_mb)),
                row.server
                    .as_ref()
                    .map_or_else(|| "–".to_owned(), |u| format!("{:.0}", u.cpu_percent)),
                cpu_ms(row),
                row.generator
                    .as_ref()
                    .map_or_else(|| "–".to_owned(), |u| format!("{:.0}", u.cpu_percent)),
                load(row),
                row.budget.clone(),
                if row.holds { "yes" } else { "NO" }.to_owned(),
            ]);
        }
    }
    table
}

fn cpu_ms(row: &Row) -> String {
    row.cpu_ms_per_request()
        .map_or_else(|| "–".to_owned(), |ms| format!("{ms:.3}"))
}

fn load(row: &Row) -> String {
    row.load_average
        .map_or_else(|| "–".to_owned(), |[one, ..]| format!("{one:.2}"))
}

/// The budgets table: one line per workload, each backend's figure and whether the budget holds
/// or misses there, the server's CPU per request, and the machine's load when it was measured
/// (a miss on a busy machine says less than one on a quiet one).
pub fn budgets(report: &Report) -> Table {
    let mut header = vec!["workload".to_owned(), "budget".to_owned()];
    for run in &report.backends {
        for column in ["", " CPU ms/req", " load", " holds?"] {
            header.push(format!("{}{column}", run.backend));
        }
    }
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_header(header);
    let mut workloads: Vec<(&str, &str)> = Vec::new();
    for row in report.backends.iter().flat_map(|run| &run.rows) {
        if !workloads.iter().any(|(name, _)| *name == row.workload) {
            workloads.push((row.workload.as_str(), row.budget.as_str()));
        }
    }
    for (workload, budget) in workloads {
        let mut line = vec![workload.to_owned(), budget.to_owned()];
        for run in &report.backends {
            match run.rows.iter().find(|row| row.workload == workload) {
                Some(row) => line.extend([
                    figure(row),
                    cpu_ms(row),
                    load(row),
                    if row.holds { "holds" } else { "MISSES" }.to_owned(),
                ]),
                None => line.extend(["not run".to_owned(), "–".to_owned(), "–".to_owned(), "–".to_owned()]),
            }
        }
        table.add_row(line);
    }
    table
}

/// The row's headline: its rate (accepted bookings where there are) and p99, and what went
/// wrong if anything did.
fn figure(row: &Row) -> String {
    let s = &row.summary;
    let rate = row.accepted_per_second.unwrap_or(s.per_second);
    let mut text = format!("{rate:.0}/s, p99 {:.1} ms", s.p99_ms);
    if row.budget.contains("MB")
        && let Some(server) = &row.server
    {
        text.push_str(&format!(", RSS {:.0} MB", server.rss_mb));
    }
    if s.errors > 0 {
        text.push_str(&format!(", {} errors", s.errors));
    }
    if let Some(overlaps) = row.overlaps.filter(|&n| n > 0) {
        text.push_str(&format!(", {overlaps} overlaps"));
    }
    if let Some(lost) = row.events_lost.filter(|&n| n > 0) {
        text.push_str(&format!(", {lost} lost"));
    }
    text
}

/// The comparison of deployments of one server (`loadtests/multinode`: 1 node, then 3 on the
/// same database): one line per workload and measure, one column per deployment (each run's
/// `backend` label), so every figure of 3 nodes stands beside the same figure of 1.
pub fn nodes(report: &Report) -> Table {
    let mut header = vec!["workload".to_owned(), "measure".to_owned()];
    header.extend(report.backends.iter().map(|run| run.backend.clone()));
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_header(header);
    let mut workloads: Vec<&str> = Vec::new();
    for row in report.backends.iter().flat_map(|run| &run.rows) {
        if !workloads.contains(&row.workload.as_str()) {
            workloads.push(&row.workload);
        }
    }
    for workload in workloads {
        let per_run: Vec<Option<Vec<(String, String)>>> = report
            .backends
            .iter()
            .map(|run| run.rows.iter().find(|row| row.workload == workload).map(measures))
            .collect();
        let mut labels: Vec<&str> = Vec::new();
        for (label, _) in per_run.iter().flatten().flatten() {
            if !labels.contains(&label.as_str()) {
                labels.push(label.as_str());
            }
        }
        for (i, label) in labels.iter().enumerate() {
            let mut line = vec![
                if i == 0 { workload.to_owned() } else { String::new() },
                (*label).to_owned(),
            ];
            line.extend(per_run.iter().map(|measured| {
                match measured {
                    None => "not run".to_owned(),
                    Some(measured) => measured
                        .iter()
                        .find(|(l, _)| l.as_str() == *label)
                        .map_or_else(|| "–".to_owned(), |(_, value)| value.clone()),
                }
            }));
            table.add_row(line);
        }
    }
    table
}

/// What [`nodes`] shows of one row, as (measure, value).
fn measures(row: &Row) -> Vec<(String, String)> {
    let s = &row.summary;
    let mut out = Vec::new();
    let mut add = |label: &str, value: String| out.push((label.to_owned(), value));
    match row.accepted_per_second {
        Some(accepted) => add("accepted bookings/s", format!("{accepted:.0}")),
        None => add("requests (or events)/s", format!("{:.0}", s.per_second)),
    }
    add("latency p50 / p99 ms", format!("{:.2} / {:.2}", s.p50_ms, s.p99_ms));
    add("errors (not 201/409)", s.errors.to_string());
    if let Some(overlaps) = row.overlaps {
        add("overlapping pairs", overlaps.to_string());
    }
    if let Some(lost) = row.events_lost {
        add("events lost", lost.to_string());
    }
    for figure in &row.figures {
        let value = if figure.value.fract() == 0.0 {
            format!("{:.0}", figure.value)
        } else {
            format!("{:.2}", figure.value)
        };
        add(&figure.name, value);
    }
    let ms = |value: Option<f64>| value.map_or_else(|| "–".to_owned(), |ms| format!("{ms:.3}"));
    let percent = |usage: &Option<Usage>| {
        usage
            .as_ref()
            .map_or_else(|| "–".to_owned(), |u| format!("{:.0}", u.cpu_percent))
    };
    add("server CPU ms/req (all nodes)", ms(row.cpu_ms_per_request()));
    add("PostgreSQL CPU ms/req", ms(row.database_cpu_ms_per_request()));
    let both = row.cpu_ms_per_request().zip(row.database_cpu_ms_per_request());
    add("server + PostgreSQL CPU ms/req", ms(both.map(|(a, b)| a + b)));
    add("server CPU % (all nodes)", percent(&row.server));
    add("PostgreSQL CPU %", percent(&row.database));
    add("rr-load CPU %", percent(&row.generator));
    add("load 1 min at end", load(row));
    add(
        "budget",
        format!("{}: {}", row.budget, if row.holds { "holds" } else { "MISSES" }),
    );
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::stats::Samples;

    fn run(backend: &str, rows: Vec<Row>) -> BackendRun {
        BackendRun {
            backend: backend.to_owned(),
            url: String::new(),
            started_at: String::new(),
            rows,
        }
    }

    fn row(workload: &str, figures: &[(&str, f64)]) -> Row {
        let summary = Samples::default().summarize(Duration::from_secs(1));
        let mut row = crate::workloads::row(workload, summary, "b", true);
        for (name, value) in figures {
            row.figure(name, *value);
        }
        row
    }

    /// Each configuration's figure stands in its own column on the figure's line; a workload a
    /// configuration did not run says so, and a figure it did not take is a dash.
    #[test]
    fn the_nodes_table_lines_up_each_figure_across_configurations() {
        let report = Report {
            date: String::new(),
            command: String::new(),
            machine: Machine::this(),
            backends: vec![
                run("1 node", vec![row("W2", &[("409s", 620.0)])]),
                run(
                    "3 nodes",
                    vec![
                        row("W2", &[("409s", 610.0), ("refused by the database", 35.0)]),
                        row("hand-over", &[("late ms", 10.5)]),
                    ],
                ),
            ],
        };
        let text = nodes(&report).to_string();
        let cells = |label: &str| -> Vec<String> {
            let line = text
                .lines()
                .find(|l| l.contains(label))
                .unwrap_or_else(|| panic!("{label} in\n{text}"));
            line.split('┆')
                .map(|cell| cell.trim_matches(|c: char| c.is_whitespace() || c == '│').to_owned())
                .collect()
        };
        assert_eq!(cells("409s")[2..], ["620", "610"]);
        assert_eq!(cells("refused by the database")[2..], ["–", "35"]);
        assert_eq!(cells("late ms")[2..], ["not run", "10.50"]);
    }
}
