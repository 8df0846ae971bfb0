//! Latency samples and their summary (exact percentiles over every sample, failures included:
//! a slow refusal is as slow for the client as a slow success).

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone)]
pub struct Samples {
    micros: Vec<u64>,
    pub errors: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Answered requests (or delivered events), failures included.
    pub requests: u64,
    pub errors: u64,
    /// `requests` per second of the run.
    pub per_second: f64,
    /// Successful requests per second.
    pub ok_per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Samples {
    /// A success that took `latency`.
    pub fn record(&mut self, latency: Duration) {
        self.micros.push(latency.as_micros() as u64);
    }

    /// A failure that took `latency`.
    pub fn fail(&mut self, latency: Duration) {
        self.record(latency);
        self.errors += 1;
    }

    /// [`Samples::record`] or [`Samples::fail`].
    pub fn add(&mut self, ok: bool, latency: Duration) {
        if ok { self.record(latency) } else { self.fail(latency) }
    }

    pub fn merge(&mut self, other: Samples) {
        self.micros.extend(other.micros);
        self.errors += other.errors;
    }

    pub fn summarize(mut self, elapsed: Duration) -> Summary {
        self.micros.sort_unstable();
        let at = |q: f64| -> f64 {
            if self.micros.is_empty() {
                return 0.0;
            }
            let index = ((self.micros.len() as f64 - 1.0) * q).round() as usize;
            self.micros[index] as f64 / 1000.0
        };
        let requests = self.micros.len() as u64;
        let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
        Summary {
            requests,
            errors: self.errors,
            per_second: requests as f64 / seconds,
            ok_per_second: (requests - self.errors) as f64 / seconds,
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_read_from_sorted_samples() {
        let mut samples = Samples::default();
        for ms in (1..=100).rev() {
            samples.record(Duration::from_millis(ms));
        }
        let summary = samples.summarize(Duration::from_secs(1));
        assert_eq!(summary.requests, 100);
        assert_eq!((summary.p50_ms, summary.p99_ms, summary.max_ms), (51.0, 99.0, 100.0));
        assert_eq!(summary.per_second, 100.0);
    }

    #[test]
    fn failures_count_in_latency_but_not_in_successes() {
        let mut samples = Samples::default();
        samples.add(true, Duration::from_millis(1));
        samples.add(false, Duration::from_millis(3));
        let summary = samples.summarize(Duration::from_secs(2));
        assert_eq!((summary.requests, summary.errors), (2, 1));
        assert_eq!(
            (summary.per_second, summary.ok_per_second, summary.max_ms),
            (1.0, 0.5, 3.0)
        );
    }
}
