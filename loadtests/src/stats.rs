//! Latency samples and their summary (exact percentiles over every sample).

use std::time::Duration;

use serde::Serialize;

#[derive(Debug, Default, Clone)]
pub struct Samples {
    micros: Vec<u64>,
    pub errors: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub requests: u64,
    pub errors: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Samples {
    pub fn record(&mut self, latency: Duration) {
        self.micros.push(latency.as_micros() as u64);
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
        Summary {
            requests,
            errors: self.errors,
            per_second: requests as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
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
}
