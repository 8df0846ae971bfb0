//! A cache of resource list pages (`GET /api/v1/resources`), so that the catalogue, read far
//! more often than it changes, is served without the database.
//!
//! A cached page is the answer's bytes, with the change count it was read at
//! (`EventWriter::generation`) and the time span over which its contents stay right.
//!
//! Invariants (a stale page is a bug):
//! - **Changes.** A page is served only while the change count is the one loaded *before* its
//!   queries ran. The count moves after every commit this process announces (every resource
//!   actor's batch, resources created, groups, opening hours, tags), after every write request
//!   of the route table (so labels, user renames and any other write too), before its answer is
//!   sent, and after every batch of events the tailer reads (changes of other server
//!   processes, seen as soon as the tailer reads them). So a client that changed something reads
//!   the change in its next list read; a page read before a change and stored after it is never
//!   served.
//! - **Time.** What a page says depends on "now" (a booking in progress makes its resource
//!   `in_use`, maintenance starts and ends, opening hours and blackout dates close it), so a page
//!   is served only within `[read at, valid until)`: until the next start or end of an active
//!   booking, the next start or end of a maintenance window ([`next_change`]), and at most to
//!   the end of the current second, the resolution of opening hours (wall-clock seconds) and of
//!   "open now" (the second from now).
//! - **Bounded.** At most [`MAX_PAGES`] pages are kept; a full cache starts again empty.
//! - Who booked is shown as [`Viewer::names_key`] allows, which is part of the key.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::auth::booking_names::{NamesKey, Viewer};
use crate::pagination::PageParams;
use crate::params;
use crate::storage::{Db, StorageError};

/// Most pages kept at once (keys are cursors and page sizes, which clients choose).
pub const MAX_PAGES: usize = 1024;

/// What one list answer depends on besides the data and the time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    cursor: Option<String>,
    limit: i64,
    sort_by: Option<String>,
    sort_order: Option<String>,
    include_total: bool,
    names: NamesKey,
}

impl PageKey {
    pub fn new(params: &PageParams, viewer: &Viewer) -> PageKey {
        PageKey {
            cursor: params.cursor.clone(),
            limit: params.limit,
            sort_by: params.sort_by.clone(),
            sort_order: params.sort_order.clone(),
            include_total: params.include_total,
            names: viewer.names_key(),
        }
    }
}

struct Cached {
    generation: u64,
    read_at: DateTime<Utc>,
    valid_until: DateTime<Utc>,
    body: Bytes,
}

/// The cached pages (one per server process).
#[derive(Default)]
pub struct PageCache {
    pages: Mutex<HashMap<PageKey, Cached>>,
}

impl PageCache {
    /// The page for `key`, if one read at change count `generation` is still right at `now`.
    pub fn get(&self, key: &PageKey, generation: u64, now: DateTime<Utc>) -> Option<Bytes> {
        let pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        pages
            .get(key)
            .filter(|page| page.generation == generation && page.read_at <= now && now < page.valid_until)
            .map(|page| page.body.clone())
    }

    /// Keeps `body`, read at `now` after loading the change count `generation`, until
    /// `valid_until`.
    pub fn put(&self, key: PageKey, generation: u64, now: DateTime<Utc>, valid_until: DateTime<Utc>, body: Bytes) {
        if valid_until <= now {
            return;
        }
        let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        if pages.len() >= MAX_PAGES && !pages.contains_key(&key) {
            pages.clear();
        }
        pages.insert(
            key,
            Cached {
                generation,
                read_at: now,
                valid_until,
                body,
            },
        );
    }
}

/// Until when a list read at `now` stays right as far as time goes: the end of the current
/// second (or `now` itself on a whole second, where "open during the second from now" may
/// change the next instant), or the next start or end of an active booking or of maintenance
/// if that comes first. Reads two index ranges of reservations and the resources' maintenance
/// columns.
pub async fn valid_until(db: &Db, now: DateTime<Utc>) -> Result<DateTime<Utc>, StorageError> {
    let second = now.duration_trunc(Duration::seconds(1)).unwrap_or(now);
    let end_of_second = if second == now {
        now
    } else {
        second + Duration::seconds(1)
    };
    Ok(match next_change(db, now).await? {
        Some(next) => next.min(end_of_second),
        None => end_of_second,
    })
}

/// The first instant after `now` at which an active booking starts or ends, or maintenance
/// starts or ends.
async fn next_change(db: &Db, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StorageError> {
    let row = db
        .query_one(
            "SELECT (SELECT MIN(start_time) FROM reservations WHERE status = 'active' AND start_time > $1) AS starts,
                    (SELECT MIN(end_time) FROM reservations WHERE status = 'active' AND end_time > $1) AS ends,
                    (SELECT MIN(unavailable_since) FROM resources WHERE unavailable_since > $1) AS down,
                    (SELECT MIN(maintenance_until) FROM resources WHERE maintenance_until > $1) AS up",
            params![now],
        )
        .await?;
    let mut next: Option<DateTime<Utc>> = None;
    for column in ["starts", "ends", "down", "up"] {
        if let Some(at) = row.get::<Option<DateTime<Utc>>>(column)? {
            next = Some(next.map_or(at, |n| n.min(at)));
        }
    }
    Ok(next)
}
