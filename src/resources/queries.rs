//! Reads of resources straight from the database: lists, searches, summaries, tags.
//! (The schedule of one resource is read from its actor's snapshot instead.)

use chrono::{DateTime, Utc};
use reserver_actors::domain::Interval;
use reserver_actors::resource::ResourceInfo;

use super::model::ResourceOut;
use super::record;
use crate::auth::booking_names::Viewer;
use crate::error::ApiError;
use crate::hours::closed::ClosedDuring;
use crate::pagination::{Page, Paged, SortKey, SortKind};
use crate::params;
use crate::resource_columns;
use crate::resources::blocking::blocking_sql;
use crate::storage::{Binder, Db, StorageError};

/// Live status as SQL, with "now" bound as `$1` (list queries bind it first, so sort keys can
/// use this text as is).
const STATUS_SQL: &str = "CASE WHEN r.status = 'unavailable' AND (r.maintenance_until IS NULL OR r.maintenance_until > $1) \
     THEN 'unavailable' WHEN EXISTS (SELECT 1 FROM reservations x WHERE x.resource_id = r.id AND x.status = 'active' \
     AND x.start_time <= $1 AND x.end_time > $1) THEN 'in_use' ELSE 'available' END";

/// Maintenance in force at `now` (a placeholder).
fn in_maintenance_sql(now: &str) -> String {
    format!("(r.status = 'unavailable' AND (r.maintenance_until IS NULL OR r.maintenance_until > {now}))")
}

/// Who holds the booking in progress, if any; "now" is `$1`.
pub const CURRENT_USER_SQL: &str = "(SELECT u.username FROM reservations x JOIN users u ON u.id = x.user_id \
     WHERE x.resource_id = r.id AND x.status = 'active' AND x.start_time <= $1 AND x.end_time > $1 LIMIT 1)";

pub const SORT_KEYS: &[SortKey] = &[
    SortKey {
        name: "id",
        sql: "r.id",
        kind: SortKind::Int,
    },
    SortKey {
        name: "name",
        sql: "LOWER(r.name)",
        kind: SortKind::Text,
    },
    SortKey {
        name: "status",
        sql: STATUS_SQL,
        kind: SortKind::Text,
    },
    SortKey {
        name: "created_at",
        sql: "r.created_at",
        kind: SortKind::Time,
    },
];

/// Which resources a list shows, by their state now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    /// Enabled and not under maintenance: bookable.
    Available,
    InUse,
    /// Disabled or under maintenance.
    Unavailable,
}

impl StatusFilter {
    pub fn parse(raw: &str) -> Result<StatusFilter, ApiError> {
        match raw {
            "all" => Ok(StatusFilter::All),
            "available" => Ok(StatusFilter::Available),
            "in_use" => Ok(StatusFilter::InUse),
            "unavailable" => Ok(StatusFilter::Unavailable),
            _ => Err(ApiError::BadRequest(
                "Invalid status. Must be one of: available, in_use, unavailable, all".into(),
            )),
        }
    }
}

/// What to look for.
#[derive(Debug, Clone)]
pub struct ResourceFilter {
    /// Case-insensitive substring of the name or of a tag.
    pub query: Option<String>,
    /// Every one of these tags (case-insensitive).
    pub tags: Vec<String>,
    pub status: StatusFilter,
    /// Free (no blocking booking, no maintenance) for this whole window.
    pub free_during: Option<Interval>,
    /// Every one of these labels (`category`, `value`; case-insensitive).
    pub labels: Vec<(String, String)>,
}

impl ResourceFilter {
    pub fn everything() -> ResourceFilter {
        ResourceFilter {
            query: None,
            tags: Vec::new(),
            status: StatusFilter::All,
            free_during: None,
            labels: Vec::new(),
        }
    }

    /// The opening hours and blackout dates the filter must respect, as a booking would: those
    /// of the window for `free_during`; else those of now for `available` (a search for a later
    /// window does not care whether the resource is open now). `closed_now` is read only when
    /// it is the one that counts.
    async fn closures(
        &self,
        db: &Db,
        closed_now: Option<&ClosedDuring>,
        now: DateTime<Utc>,
    ) -> Result<Option<ClosedDuring>, StorageError> {
        Ok(match (&self.free_during, self.status) {
            (Some(window), _) => Some(ClosedDuring::of(db, window).await?),
            (None, StatusFilter::Available) => Some(match closed_now {
                Some(closed) => closed.clone(),
                None => ClosedDuring::at(db, now).await?,
            }),
            (None, _) => None,
        })
    }

    /// The WHERE condition on `resources r` (binding the values it uses), with the opening
    /// hours and blackout dates it must respect read first: the one rule of "free" and
    /// "available" that lists, searches and the search API share (`crate::search`).
    pub async fn condition(&self, db: &Db, binder: &mut Binder, now: DateTime<Utc>) -> Result<String, StorageError> {
        let (closed, longest) = futures::try_join!(self.closures(db, None, now), self.longest_booking(db))?;
        Ok(self.clause(db, binder, now, closed.as_ref(), longest))
    }

    /// For a short `free_during` window on a database without range indexes (SQLite): an upper
    /// bound of the length of every reservation, which lets the window's bookings be read as
    /// one range of start times (see [`no_blocking_booking_sql`]). `None` otherwise, or when
    /// the bound is longer than such a window (the range would be long too).
    async fn longest_booking(&self, db: &Db) -> Result<Option<chrono::Duration>, StorageError> {
        let Some(window) = &self.free_during else {
            return Ok(None);
        };
        if window.end() - window.start() > BOOKED_SET_MAX_WINDOW || db.has_range_indexes() {
            return Ok(None);
        }
        // `analytics_longest` is kept by the analytics rollup in the transaction of every booking
        // change (`crate::analytics::rollup`): each resource's longest reservation ever counted.
        let longest: Option<i64> = db
            .query_one("SELECT MAX(longest_us) AS longest FROM analytics_longest", vec![])
            .await?
            .get("longest")?;
        let longest = chrono::Duration::microseconds(longest.unwrap_or(0));
        Ok((longest <= BOOKED_SET_MAX_WINDOW).then_some(longest))
    }

    /// The WHERE clause, binding the values it uses; `longest` as [`Self::longest_booking`].
    fn clause(
        &self,
        db: &Db,
        binder: &mut Binder,
        now: DateTime<Utc>,
        closed: Option<&ClosedDuring>,
        longest: Option<chrono::Duration>,
    ) -> String {
        let mut conditions = vec!["1 = 1".to_owned()];
        conditions.extend(closed.and_then(|closed| closed.open_sql(binder)));
        match self.status {
            StatusFilter::All => {}
            StatusFilter::Available => {
                let (enabled, now) = (binder.bind(true), binder.bind(now));
                conditions.push(format!("r.available = {enabled} AND NOT {}", in_maintenance_sql(&now)));
            }
            StatusFilter::InUse => {
                let now = binder.bind(now);
                conditions.push(format!("({}) = 'in_use'", STATUS_SQL.replace("$1", &now)));
            }
            StatusFilter::Unavailable => {
                let (enabled, now) = (binder.bind(false), binder.bind(now));
                conditions.push(format!("(r.available = {enabled} OR {})", in_maintenance_sql(&now)));
            }
        }
        if let Some(query) = &self.query {
            let pattern = binder.bind(format!("%{}%", escape_like(&query.to_lowercase())));
            conditions.push(format!(
                "(LOWER(r.name) LIKE {pattern} ESCAPE '\\' OR EXISTS (SELECT 1 FROM resource_tags t \
                 WHERE t.resource_id = r.id AND LOWER(t.tag) LIKE {pattern} ESCAPE '\\'))"
            ));
        }
        if !self.tags.is_empty() {
            conditions.push(every_tag_sql(&self.tags, binder));
        }
        if !self.labels.is_empty() {
            conditions.push(crate::labels::every_label_sql(&self.labels, binder));
        }
        if let Some(window) = &self.free_during {
            let (from, until, enabled) = (
                binder.bind(window.start()),
                binder.bind(window.end()),
                binder.bind(true),
            );
            let earliest = longest.map(|longest| binder.bind(window.start() - longest));
            conditions.push(format!(
                "r.available = {enabled} AND {} \
                 AND NOT (r.status = 'unavailable' AND (r.unavailable_since IS NULL OR r.unavailable_since < {until}) \
                     AND (r.maintenance_until IS NULL OR r.maintenance_until > {from}))",
                no_blocking_booking_sql(db, window, &from, &until, earliest)
            ));
        }
        conditions.join(" AND ")
    }
}

/// Resources carrying every one of `tags` (distinct case-insensitively, as `clean_tags` leaves
/// them), as one set-valued predicate: one pass over the matching tag rows, grouped, whatever
/// the number of tags (one `EXISTS` per tag made a hostile request cost a subquery per tag).
fn every_tag_sql(tags: &[String], binder: &mut Binder) -> String {
    let wanted: Vec<String> = tags.iter().map(|tag| binder.bind(tag.to_lowercase())).collect();
    let count = binder.bind(tags.len() as i64);
    format!(
        "r.id IN (SELECT t.resource_id FROM resource_tags t WHERE LOWER(t.tag) IN ({}) \
         GROUP BY t.resource_id HAVING COUNT(DISTINCT LOWER(t.tag)) = {count})",
        wanted.join(", ")
    )
}

/// Windows up to this long are checked against the set of blocking bookings in them, read
/// from a range index where the database has one; longer ones resource by resource.
const BOOKED_SET_MAX_WINDOW: chrono::Duration = chrono::Duration::days(1);

/// A condition on `r`: no blocking reservation (active, pending approval, held) overlaps
/// `[from, until)` (`window`, bound as `from` and `until`). Every form answers from indexes and
/// never reads every reservation (issue 14):
/// - for a window of a day or less, on a database with range indexes (PostgreSQL), `r.id` is not
///   among the resources booked in the window, one set read from the GiST index
///   `reservations_blocking_during` and hashed once (`NOT IN` over a non-null column: PostgreSQL
///   keeps it a hashed subplan, evaluated once per statement). Its size grows with the bookings
///   in the window, hence the bound;
/// - for such a window elsewhere (SQLite), when `earliest` is bound (`from` minus the longest
///   reservation there is, [`ResourceFilter::longest_booking`]), the same set, read as the
///   blocking reservations that start in `[earliest, until)` (`reservations_start`) and end
///   after `from`: every reservation overlapping the window starts in that range. One range
///   read instead of a probe per candidate (which made most of the search's time on SQLite);
/// - otherwise one probe per candidate of `reservations_resource_blocking_start`: the latest
///   blocking reservation starting before `until` must end by `from`. That one row decides,
///   because blocking reservations of one resource never overlap (the database refuses it): if
///   any of them overlaps the window, the latest starting before `until` ends after `from`
///   (an earlier one that overlaps ends after `from`, and the latest starts after that end).
///   The probe reads one index entry, where "any that starts before `until` and ends after
///   `from`" read every earlier booking of the resource.
fn no_blocking_booking_sql(db: &Db, window: &Interval, from: &str, until: &str, earliest: Option<String>) -> String {
    let short = window.end() - window.start() <= BOOKED_SET_MAX_WINDOW;
    match (
        db.range_overlap_sql("x.start_time", "x.end_time", from, until),
        earliest,
    ) {
        (Some(overlap), _) if short => format!(
            "r.id NOT IN (SELECT x.resource_id FROM reservations x \
             WHERE {blocking} AND {overlap})",
            blocking = blocking_sql!("x")
        ),
        (None, Some(earliest)) if short => format!(
            "r.id NOT IN (SELECT x.resource_id FROM reservations x \
             WHERE {blocking} AND x.start_time >= {earliest} \
             AND x.start_time < {until} AND x.end_time > {from})",
            blocking = blocking_sql!("x")
        ),
        _ => format!(
            "COALESCE((SELECT x.end_time FROM reservations x WHERE x.resource_id = r.id \
             AND {blocking} AND x.start_time < {until} \
             ORDER BY x.start_time DESC LIMIT 1), {from}) <= {from}",
            blocking = blocking_sql!("x")
        ),
    }
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// One page of resources matching `filter`, as the paginated envelope.
pub async fn page(
    db: &Db,
    filter: &ResourceFilter,
    page: &Page,
    now: DateTime<Utc>,
    viewer: &Viewer,
) -> Result<serde_json::Value, ApiError> {
    let closed_now = ClosedDuring::at(db, now).await?;
    let (closed, longest) =
        futures::try_join!(filter.closures(db, Some(&closed_now), now), filter.longest_booking(db))?;
    let total = if page.include_total {
        let mut binder = Binder::new();
        let sql = format!(
            "SELECT COUNT(*) AS n FROM resources r WHERE {}",
            filter.clause(db, &mut binder, now, closed.as_ref(), longest)
        );
        Some(db.query_one(&sql, binder.into_values()).await?.get::<i64>("n")?)
    } else {
        None
    };
    let mut binder = Binder::new();
    binder.bind(now); // $1, used by the status and current-user expressions
    let filter_sql = filter.clause(db, &mut binder, now, closed.as_ref(), longest);
    let keyset = page.condition("r.id", &mut binder);
    let limit = binder.bind(page.fetch_limit());
    let sql = format!(
        "SELECT {columns}, {CURRENT_USER_SQL} AS current_user_name, {sort} AS sort_value
         FROM resources r WHERE {filter_sql} AND {keyset} ORDER BY {order} LIMIT {limit}",
        columns = resource_columns!(),
        sort = page.key.sql,
        order = page.order_by("r.id"),
    );
    let rows = db.query(&sql, binder.into_values()).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.get("id")).collect::<Result<_, _>>()?;
    let mut tags = record::tags_of_many(db, &ids).await?;
    let mut labels = crate::labels::refs_of_many(db, &ids).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: i64 = row.get("id")?;
        let info = record::decode(row, tags.remove(&id).unwrap_or_default())?;
        let open = !closed_now.closes(&info);
        let mut item = ResourceOut::listed(&info, row.get("current_user_name")?, open, now, viewer);
        item.labels = Some(labels.remove(&id).unwrap_or_default());
        items.push(Paged {
            item,
            sort_value: page.sort_value(row)?,
            id,
        });
    }
    Ok(page.envelope(items, total))
}

/// A single resource as listed, or `None`.
pub async fn one(db: &Db, id: i64, now: DateTime<Utc>, viewer: &Viewer) -> Result<Option<ResourceOut>, StorageError> {
    let Some(info) = record::fetch(db, id).await? else {
        return Ok(None);
    };
    let sql = format!("SELECT {CURRENT_USER_SQL} AS current_user_name FROM resources r WHERE r.id = $2");
    let current = db.query_one(&sql, params![now, id]).await?.get("current_user_name")?;
    let open = !ClosedDuring::at(db, now).await?.closes(&info);
    let mut resource = ResourceOut::listed(&info, current, open, now, viewer);
    resource.labels = Some(
        crate::labels::refs_of_many(db, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default(),
    );
    Ok(Some(resource))
}

/// The availability summary; `available_now` also needs the resource open now
/// (opening hours, blackout dates).
pub async fn summary(db: &Db, now: DateTime<Utc>) -> Result<serde_json::Value, StorageError> {
    let closed = ClosedDuring::at(db, now).await?;
    let mut binder = Binder::new();
    let (now_sql, enabled) = (binder.bind(now), binder.bind(true));
    let open = closed.open_sql(&mut binder).unwrap_or_else(|| "1 = 1".to_owned());
    let sql = format!(
        "SELECT COUNT(*) AS total,
                COALESCE(SUM(CASE WHEN r.available = {enabled} AND NOT {} AND {open} THEN 1 ELSE 0 END), 0) AS available,
                (SELECT COUNT(*) FROM reservations x WHERE x.status = 'active' AND x.start_time <= {now_sql} AND x.end_time > {now_sql}) AS in_use
         FROM resources r",
        in_maintenance_sql(&now_sql)
    );
    let row = db.query_one(&sql, binder.into_values()).await?;
    let (total, available): (i64, i64) = (row.get("total")?, row.get("available")?);
    Ok(serde_json::json!({
        "total_resources": total,
        "available_now": available,
        "unavailable_now": total - available,
        "currently_in_use": row.get::<i64>("in_use")?,
        "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    }))
}

/// Distinct tags with how many resources carry each, by name.
pub async fn tag_counts(db: &Db) -> Result<Vec<(String, i64)>, StorageError> {
    let rows = db
        .query(
            "SELECT tag, COUNT(*) AS n FROM resource_tags GROUP BY tag ORDER BY tag",
            vec![],
        )
        .await?;
    rows.iter().map(|row| Ok((row.get("tag")?, row.get("n")?))).collect()
}

/// Resources carrying `tag` (case-insensitive).
pub async fn with_tag(db: &Db, tag: &str) -> Result<Vec<i64>, StorageError> {
    let rows = db
        .query(
            "SELECT DISTINCT resource_id FROM resource_tags WHERE LOWER(tag) = $1",
            params![tag.to_lowercase()],
        )
        .await?;
    rows.iter().map(|row| row.get("resource_id")).collect()
}

/// Whether some resource already has this name (exactly).
pub async fn name_taken(db: &Db, name: &str) -> Result<bool, StorageError> {
    Ok(db
        .query_opt("SELECT id FROM resources WHERE name = $1", params![name])
        .await?
        .is_some())
}

/// Info of one resource by id (for handlers that need the row, not the live view).
pub async fn info(db: &Db, id: i64) -> Result<Option<ResourceInfo>, StorageError> {
    record::fetch(db, id).await
}
