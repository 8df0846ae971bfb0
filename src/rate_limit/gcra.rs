//! The generic cell rate algorithm (GCRA): "`limit` requests per minute, in bursts of up to
//! `limit`", with one instant of state per bucket.
//!
//! A bucket is its theoretical arrival time (TAT): the instant at which it would be full
//! again. Each admitted request pushes it `PERIOD / limit` further; a request is admitted while
//! that leaves the TAT at most one `PERIOD` ahead of now. So a full bucket admits `limit`
//! requests at once, then one every `PERIOD / limit`; after a whole `PERIOD` without requests it
//! is full again. A bucket whose TAT has passed is the same as no bucket, which is what makes
//! eviction free of consequences.

/// The window the limits are expressed in: one minute, in microseconds.
pub const PERIOD_US: i64 = 60_000_000;

/// An admitted request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    /// The bucket's new TAT.
    pub tat_us: i64,
    /// Requests that could still be made right now.
    pub remaining: u32,
}

/// A refused request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// The bucket's TAT (unchanged by the refusal).
    pub tat_us: i64,
    /// The first instant at which a request would be admitted.
    pub retry_at_us: i64,
}

/// How far one request moves a bucket of `limit` requests per [`PERIOD_US`].
pub fn interval(limit: u32) -> i64 {
    PERIOD_US / i64::from(limit.max(1))
}

/// Decides one request at `now_us` against a bucket (`tat_us`, `None` for a full one) allowing
/// `limit` requests per [`PERIOD_US`]. A refused request leaves the bucket unchanged.
pub fn check(tat_us: Option<i64>, now_us: i64, limit: u32) -> Result<Admitted, Refused> {
    let start = tat_us.map_or(now_us, |tat| tat.max(now_us));
    let tat_us = start + interval(limit);
    if tat_us - now_us > PERIOD_US {
        return Err(Refused {
            tat_us: start,
            retry_at_us: tat_us - PERIOD_US,
        });
    }
    Ok(admitted(tat_us, now_us, limit))
}

/// An admitted request that left the bucket at `tat_us` (decided here, or by a shared store
/// running the same rule).
pub fn admitted(tat_us: i64, now_us: i64, limit: u32) -> Admitted {
    let ahead = tat_us - now_us;
    let remaining = ((PERIOD_US - ahead) / interval(limit)).clamp(0, i64::from(u32::MAX)) as u32;
    Admitted { tat_us, remaining }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn burst(limit: u32, now: i64, mut tat: Option<i64>, requests: u32) -> (Option<i64>, Vec<u32>) {
        let mut remaining = Vec::new();
        for _ in 0..requests {
            match check(tat, now, limit) {
                Ok(admitted) => {
                    tat = Some(admitted.tat_us);
                    remaining.push(admitted.remaining);
                }
                Err(_) => break,
            }
        }
        (tat, remaining)
    }

    #[test]
    fn a_full_bucket_admits_limit_requests_at_once_counting_down() {
        for limit in [1, 3, 7, 60, 1000, 10_000] {
            let (tat, remaining) = burst(limit, 0, None, limit + 5);
            assert_eq!(remaining.len(), limit as usize, "limit {limit}");
            assert_eq!(remaining.first().copied(), Some(limit - 1));
            assert_eq!(remaining.last().copied(), Some(0));
            let refused = check(tat, 0, limit).unwrap_err();
            assert!(refused.retry_at_us > 0 && refused.retry_at_us <= PERIOD_US / i64::from(limit) + 1);
        }
    }

    #[test]
    fn it_refills_one_request_per_interval_and_fully_after_a_period() {
        let (tat, _) = burst(3, 0, None, 3);
        assert!(check(tat, 19_999_999, 3).is_err());
        let one = check(tat, 20_000_000, 3).unwrap();
        assert_eq!(one.remaining, 0);
        let (after_period, remaining) = burst(3, PERIOD_US, tat, 10);
        assert_eq!(remaining, vec![2, 1, 0]);
        assert!(after_period.is_some());
    }

    #[test]
    fn a_refusal_does_not_consume() {
        let (tat, _) = burst(2, 0, None, 2);
        let refused = check(tat, 1, 2).unwrap_err();
        assert_eq!(check(tat, 1, 2).unwrap_err(), refused);
        assert!(check(tat, refused.retry_at_us, 2).is_ok());
    }
}
