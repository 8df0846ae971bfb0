//! CPU time and memory of processes on this machine, read from `/proc` (Linux): the server under
//! test (every node of a multi-node run) when its pids are given, PostgreSQL's processes of the
//! run's database when it is named, and the load generator itself, so a report shows how the two
//! cores were shared.

use std::collections::HashMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// What a process used while a workload ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Usage {
    /// Resident memory at the end (`VmRSS`), MiB.
    pub rss_mb: f64,
    /// Highest resident memory since the process started (`VmHWM`), MiB.
    pub peak_rss_mb: f64,
    /// CPU time over wall time, in percent of one core (200 = both cores of a 2-core machine).
    pub cpu_percent: f64,
    /// CPU time used, in milliseconds (user + system; clock-tick resolution, 10 ms on Linux):
    /// divided by the requests answered, the CPU cost of one, which holds across machines
    /// better than a rate does. Absent in reports written before it was recorded.
    #[serde(default)]
    pub cpu_ms: f64,
}

/// Which processes a [`Group`] follows.
#[derive(Debug, Clone)]
pub enum Processes {
    /// These processes (this one, or the server nodes of a run); one that has exited since the
    /// mark counts no more (a node killed on purpose: its CPU is not part of that row).
    Pids(Vec<u32>),
    /// PostgreSQL's processes working for one database on this machine: the backends of that
    /// database (`postgres: … <database> …` in their command line; they come and go with the
    /// servers' connections: one started after the mark counts from its start, one that exited
    /// before the end is lost) and the cluster's WAL writer, background writer and
    /// checkpointer, which serve every database of the cluster (on a quiet machine, this run).
    Postgres { database: String },
}

impl Processes {
    /// This process.
    pub fn this() -> Processes {
        Processes::Pids(vec![std::process::id()])
    }

    /// The pids this describes, now.
    fn pids(&self) -> Vec<u32> {
        match self {
            Processes::Pids(pids) => pids.clone(),
            Processes::Postgres { database } => postgres_processes(database),
        }
    }
}

/// The CPU clocks of a group of processes at one instant; [`Group::usage`] sums what they used
/// since into one [`Usage`].
pub struct Group {
    processes: Processes,
    ticks: HashMap<u32, u64>,
    at: Instant,
}

impl Group {
    pub fn now(processes: Processes) -> Group {
        let ticks = processes
            .pids()
            .into_iter()
            .filter_map(|pid| Some((pid, cpu_ticks(pid)?)))
            .collect();
        Group {
            processes,
            ticks,
            at: Instant::now(),
        }
    }

    /// The group's use since the mark, summed over its processes (memory: their sum at the end);
    /// `None` when none of them can be read.
    pub fn usage(&self) -> Option<Usage> {
        // SAFETY: sysconf reads a constant of the C library; it has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        let mut ticks = 0;
        let (mut rss_kib, mut peak_kib, mut read) = (0.0, 0.0, false);
        for pid in self.processes.pids() {
            let (Some(now), Ok(status)) = (cpu_ticks(pid), std::fs::read_to_string(format!("/proc/{pid}/status")))
            else {
                continue;
            };
            read = true;
            ticks += now.saturating_sub(self.ticks.get(&pid).copied().unwrap_or(0));
            rss_kib += status_kib(&status, "VmRSS:").unwrap_or(0.0);
            peak_kib += status_kib(&status, "VmHWM:").unwrap_or(0.0);
        }
        read.then(|| Usage {
            rss_mb: rss_kib / 1024.0,
            peak_rss_mb: peak_kib / 1024.0,
            cpu_percent: 100.0 * ticks as f64 / per_second / self.at.elapsed().as_secs_f64().max(f64::EPSILON),
            cpu_ms: 1000.0 * ticks as f64 / per_second,
        })
    }
}

/// PostgreSQL's processes of `database` on this machine (see [`Processes::Postgres`]), found by
/// their command lines, which PostgreSQL rewrites to say what each process is.
fn postgres_processes(database: &str) -> Vec<u32> {
    const SHARED: [&str; 3] = ["walwriter", "background writer", "checkpointer"];
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(command) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let command = String::from_utf8_lossy(&command).replace('\0', " ");
            command.starts_with("postgres:")
                && (command.split_whitespace().any(|word| word == database)
                    || SHARED.iter().any(|shared| command.trim_end().ends_with(shared)))
        })
        .collect()
}

/// The machine's load averages over 1, 5 and 15 minutes (`/proc/loadavg`): on a shared machine,
/// how much else wanted the cores while a workload ran.
pub fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace().map(|field| field.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

/// utime + stime from `/proc/<pid>/stat` (fields 14 and 15, counted after the parenthesised
/// command name, which may itself contain spaces); `None` for a process that is gone, or dead
/// and not yet reaped (a zombie: state `Z`, such as a node killed on purpose).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    if fields.next()? == "Z" {
        return None;
    }
    let mut fields = fields.skip(10);
    Some(fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?)
}

fn status_kib(status: &str, key: &str) -> Option<f64> {
    let line = status.lines().find(|line| line.starts_with(key))?;
    line[key.len()..].trim().trim_end_matches("kB").trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_measured() {
        let mark = Group::now(Processes::this());
        let spin = Instant::now();
        // Busy until the kernel has charged this process CPU time (in clock ticks): on a loaded
        // machine that takes longer than any fixed wall time, so wait for it, not for a share.
        let usage = loop {
            for _ in 0..100_000 {
                std::hint::black_box(0u64);
            }
            let usage = mark.usage().expect("/proc is readable");
            if usage.cpu_percent > 0.0 || spin.elapsed().as_secs() > 30 {
                break usage;
            }
        };
        assert!(usage.rss_mb > 0.0 && usage.peak_rss_mb >= usage.rss_mb);
        assert!(usage.cpu_percent > 0.0, "a busy process is charged CPU time: {usage:?}");
        assert!(usage.cpu_ms > 0.0, "{usage:?}");
    }

    #[test]
    fn a_killed_process_counts_no_more() {
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .expect("sleep runs");
        let pid = child.id();
        assert!(
            Group::now(Processes::Pids(vec![pid])).usage().is_some(),
            "a live process is read"
        );
        child.kill().expect("SIGKILL");
        // Dead but not reaped (a zombie until `wait`), as a node killed by `handover` is.
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        while cpu_ticks(pid).is_some() {
            assert!(Instant::now() < deadline, "a killed process still counted");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(Group::now(Processes::Pids(vec![pid])).usage().is_none());
        child.wait().expect("reaped");
    }

    #[test]
    fn the_load_average_is_read() {
        let [one, five, fifteen] = load_average().expect("/proc/loadavg is readable");
        assert!(one >= 0.0 && five >= 0.0 && fifteen >= 0.0);
    }
}
