//! `Interval` against the set definition: on a grid of whole hours, two half-open intervals
//! overlap exactly when some hour lies in both (endpoints are whole hours, so no instant between
//! grid points can be shared without a grid point being shared too).

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use reserver_actors::domain::Interval;

use crate::support::utc;

fn hour(h: i64) -> DateTime<Utc> {
    utc(2030, 1, 1, 0, 0) + Duration::hours(h)
}

/// `[start, start + length)` on a 48-hour grid.
fn interval() -> impl Strategy<Value = Interval> {
    (0..40i64, 1..8i64).prop_map(|(start, length)| Interval::new(hour(start), hour(start + length)).unwrap())
}

proptest! {
    #[test]
    fn overlaps_is_symmetric_and_means_sharing_an_instant(a in interval(), b in interval()) {
        prop_assert_eq!(a.overlaps(&b), b.overlaps(&a));
        let shared = (0..48).map(hour).any(|h| a.contains(h) && b.contains(h));
        prop_assert_eq!(a.overlaps(&b), shared);
    }

    #[test]
    fn touching_intervals_never_overlap(start in 0..40i64, left in 1..8i64, right in 1..8i64) {
        let before = Interval::new(hour(start - left), hour(start)).unwrap();
        let after = Interval::new(hour(start), hour(start + right)).unwrap();
        prop_assert!(!before.overlaps(&after) && !after.overlaps(&before));
    }

    #[test]
    fn contains_is_half_open(a in interval(), h in 0..48i64) {
        prop_assert_eq!(a.contains(hour(h)), a.start() <= hour(h) && hour(h) < a.end());
        prop_assert!(a.overlaps(&a));
        prop_assert_eq!(a.duration(), a.end() - a.start());
    }
}
