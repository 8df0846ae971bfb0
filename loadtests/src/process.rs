//! CPU time and memory of a process on this machine, read from `/proc` (Linux): the server under
//! test when its pid is given, and the load generator itself, so a report shows how the two
//! cores were shared.

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

/// A process's CPU clock at one instant; [`Mark::usage`] turns two of them into a [`Usage`].
pub struct Mark {
    pid: String,
    ticks: u64,
    at: Instant,
}

impl Mark {
    /// `pid` of `None` means this process.
    pub fn now(pid: Option<u32>) -> Option<Mark> {
        let pid = pid.map_or_else(|| "self".to_owned(), |pid| pid.to_string());
        Some(Mark {
            ticks: cpu_ticks(&pid)?,
            pid,
            at: Instant::now(),
        })
    }

    pub fn usage(&self) -> Option<Usage> {
        let ticks = cpu_ticks(&self.pid)?.saturating_sub(self.ticks);
        // SAFETY: sysconf reads a constant of the C library; it has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        Some(Usage {
            rss_mb: status_kib(&status, "VmRSS:")? / 1024.0,
            peak_rss_mb: status_kib(&status, "VmHWM:")? / 1024.0,
            cpu_percent: 100.0 * ticks as f64 / per_second / self.at.elapsed().as_secs_f64().max(f64::EPSILON),
            cpu_ms: 1000.0 * ticks as f64 / per_second,
        })
    }
}

/// The machine's load averages over 1, 5 and 15 minutes (`/proc/loadavg`): on a shared machine,
/// how much else wanted the cores while a workload ran.
pub fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace().map(|field| field.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

/// utime + stime from `/proc/<pid>/stat` (fields 14 and 15, counted after the parenthesised
/// command name, which may itself contain spaces).
fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace().skip(11);
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
        let mark = Mark::now(None).expect("/proc is readable");
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
    fn the_load_average_is_read() {
        let [one, five, fifteen] = load_average().expect("/proc/loadavg is readable");
        assert!(one >= 0.0 && five >= 0.0 && fifteen >= 0.0);
    }
}
