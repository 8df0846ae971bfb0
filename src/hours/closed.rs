//! Which resources are closed during a window, for the reads answered by SQL over many
//! resources (search with a window or `available`, the availability summary). The same rule the
//! actors enforce (`OpeningHours::check` on the resource's wall clock, over `store::in_force`),
//! evaluated once per resource with hours or blackout dates of its own and once per time zone
//! for the rest, in a fixed number of queries whatever the number of resources; the answer is a
//! SQL condition on `r`.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use reserver_actors::domain::Interval;
use reserver_actors::resource::ResourceInfo;

use super::{availability, store};
use crate::storage::{Binder, Db, StorageError};
use crate::time_zone::zone_named as zone_of;

/// The resources closed at some instant of a window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClosedDuring {
    /// Resources with hours or blackout dates of their own that are closed.
    ids: HashSet<i64>,
    /// Every resource with hours or blackout dates of its own (closed or not).
    own: HashSet<i64>,
    /// Time zones (as stored) in which the global hours and blackout dates close; they apply to
    /// resources without hours of their own.
    zones: Vec<String>,
}

impl ClosedDuring {
    /// The resources closed at `now` (during its second, as `availability::open_now` reads it).
    pub async fn at(db: &Db, now: DateTime<Utc>) -> Result<ClosedDuring, StorageError> {
        match availability::the_second_of(now) {
            Some(second) => ClosedDuring::of(db, &second).await,
            None => Ok(ClosedDuring::default()),
        }
    }

    /// The resources closed during `window`.
    pub async fn of(db: &Db, window: &Interval) -> Result<ClosedDuring, StorageError> {
        // A local date is at most 14 hours away from the UTC date.
        let first = (window.start() - Duration::days(1)).date_naive();
        let last = (window.end() + Duration::days(1)).date_naive();
        let in_force = store::in_force_between(db, first, last).await?;
        let mut closed = ClosedDuring {
            own: in_force.own.keys().copied().collect(),
            ..ClosedDuring::default()
        };
        if !in_force.own.is_empty() {
            let mut binder = Binder::new();
            let ids: Vec<String> = in_force.own.keys().map(|id| binder.bind(*id)).collect();
            let sql = format!("SELECT id, timezone FROM resources WHERE id IN ({})", ids.join(", "));
            for row in db.query(&sql, binder.into_values()).await? {
                let id: i64 = row.get("id")?;
                let zone: String = row.get("timezone")?;
                if in_force
                    .own
                    .get(&id)
                    .is_some_and(|hours| hours.check(zone_of(&zone), window).is_err())
                {
                    closed.ids.insert(id);
                }
            }
        }
        if in_force.global != Default::default() {
            for row in db.query("SELECT DISTINCT timezone FROM resources", vec![]).await? {
                let zone: String = row.get("timezone")?;
                if in_force.global.check(zone_of(&zone), window).is_err() {
                    closed.zones.push(zone);
                }
            }
        }
        Ok(closed)
    }

    /// Whether `resource` is closed at some instant of the window.
    pub fn closes(&self, resource: &ResourceInfo) -> bool {
        if self.own.contains(&resource.id) {
            self.ids.contains(&resource.id)
        } else {
            self.zones.iter().any(|zone| zone_of(zone) == resource.timezone)
        }
    }

    /// A condition on the resource `r`: open during the whole window. `None` when all are.
    pub fn open_sql(&self, binder: &mut Binder) -> Option<String> {
        let mut conditions = Vec::new();
        if !self.ids.is_empty() {
            let ids: Vec<String> = self.ids.iter().map(|id| binder.bind(*id)).collect();
            conditions.push(format!("r.id NOT IN ({})", ids.join(", ")));
        }
        if !self.zones.is_empty() {
            let zones: Vec<String> = self.zones.iter().map(|zone| binder.bind(zone.clone())).collect();
            // The global hours do not apply to a resource with hours of its own.
            conditions.push(format!(
                "(EXISTS (SELECT 1 FROM business_hours h WHERE h.resource_id = r.id) OR r.timezone NOT IN ({}))",
                zones.join(", ")
            ));
        }
        (!conditions.is_empty()).then(|| format!("({})", conditions.join(" AND ")))
    }
}
