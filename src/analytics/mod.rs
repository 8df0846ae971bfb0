//! Analytics: how the resources are used over the last `days` days (`/api/v1/analytics/*`).
//! The definitions are in the book (`docs/src/analytics.md`); in short:
//!
//! - **Windows are local.** Each resource's window ends now and starts at the same wall-clock
//!   reading `days` local days earlier in the resource's time zone, so a week that crosses a DST
//!   change lasts 167 or 169 hours ([`Period::start_in`]).
//! - **Utilisation is booked time ÷ open time.** Open time is what the resource actors enforce
//!   (`hours::store::in_force_between`, read on the resource's wall clock by
//!   `OpeningHours::open_parts`): opening hours and blackout dates, not 24 × 7. Booked time is the
//!   part of the `active` and `expired` reservations that falls inside that open time.
//! - **Counted bookings**: `active` and `expired` (a past active booking) for utilisation,
//!   popularity and peak times; counts by creation (overview, user patterns, cancellations,
//!   export) take every status.
//! - **Peak times are local**: the hour and weekday of a booking's start on its resource's clock.
//!
//! Guarantees: no read loads the reservations of its window. The figures are sums over the
//! rollups ([`rollup`], kept in step with every booking change in its transaction), over the
//! whole UTC hours that every resource's window covers; the few reservations at the window's
//! ends (less than an hour, plus the DST difference between zones) are read from
//! `reservations` through the indexes of migration 20, so the figures are exactly those of the
//! definitions. Booked open time is computed per local weekday-hour by [`cells`]. The
//! reservations export is the one read that lists rows: it is read a page at a time along
//! `reservations_created`, so it streams. Who may see what (user patterns and the export are per
//! user unless the caller has `reservation:read_any`) is decided by the routes, which pass the
//! user to restrict to. In zones whose offset is not a whole number of hours (Asia/Kolkata), a
//! booking's start and a heatmap cell are read at the UTC hour: the local hour may be off by
//! the fraction.

pub mod cells;
pub mod rollup;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use reserver_actors::domain::{Interval, OpeningHours};
use serde::Serialize;

use self::cells::{CELLS, Cells, Detail, OpenTime};
use self::rollup::{BLOCK_DAYS, HOUR_US, hour_of};
use crate::error::ApiError;
use crate::hours::store;
use crate::storage::{Binder, Db, Row, StorageError};
use crate::time_zone::zone_named;

/// The longest window, in days.
pub const MAX_DAYS: i64 = 365;
/// The statuses of bookings that used their resource.
const USED: &str = "('active', 'expired')";
/// Rows read per page of the reservations export.
pub const EXPORT_PAGE: i64 = 5_000;
/// The width of the peak-time buckets grouped in SQL: every UTC offset in use is a multiple.
const BUCKET_SECONDS: i64 = 900;

/// Why an analytics read failed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("Resource not found")]
    ResourceNotFound,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<AnalyticsError> for ApiError {
    fn from(error: AnalyticsError) -> ApiError {
        match error {
            AnalyticsError::ResourceNotFound => ApiError::NotFound(error.to_string()),
            AnalyticsError::Storage(storage) => storage.into(),
        }
    }
}

/// The last `days` days up to `now`.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub days: i64,
    pub now: DateTime<Utc>,
}

impl Period {
    /// When the window of a resource in `zone` starts: the wall-clock reading of now, `days`
    /// local days earlier (in a DST gap, the first instant after it; when repeated, the first).
    pub fn start_in(&self, zone: Tz) -> DateTime<Utc> {
        let local = self.now.with_timezone(&zone).naive_local() - Duration::days(self.days);
        resolve(zone, local).unwrap_or(self.now - Duration::days(self.days))
    }
}

fn resolve(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    // A gap lasts at most a few hours: step through it a minute at a time.
    (0..=24 * 60).find_map(
        |minute| match zone.from_local_datetime(&(local + Duration::minutes(minute))) {
            LocalResult::Single(time) | LocalResult::Ambiguous(time, _) => Some(time.with_timezone(&Utc)),
            LocalResult::None => None,
        },
    )
}

/// A resource as analytics sees it.
#[derive(Debug, Clone)]
struct Resource {
    id: i64,
    name: String,
    zone_name: String,
    zone: Tz,
    status: String,
}

/// Every resource, or only `only` (which must exist).
async fn resources(db: &Db, only: Option<i64>) -> Result<Vec<Resource>, AnalyticsError> {
    let mut binder = Binder::new();
    let filter = only.map_or(String::new(), |id| format!("WHERE id = {}", binder.bind(id)));
    let sql = format!("SELECT id, name, timezone, available, status FROM resources {filter} ORDER BY id");
    let found = db
        .query(&sql, binder.into_values())
        .await?
        .iter()
        .map(|row| {
            let zone_name: String = row.get("timezone")?;
            let available: bool = row.get("available")?;
            let status: String = row.get("status")?;
            Ok(Resource {
                id: row.get("id")?,
                name: row.get("name")?,
                zone: zone_named(&zone_name),
                zone_name,
                status: if available { status } else { "unavailable".into() },
            })
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    if only.is_some() && found.is_empty() {
        return Err(AnalyticsError::ResourceNotFound);
    }
    Ok(found)
}

/// `[first, end)` of rollup keys (hours or days).
type Span64 = (i64, i64);

/// The window of each time zone in use: a reservation is in its resource's window when a
/// column of it lies in `[start in the resource's zone, now)`.
struct ZoneWindows {
    starts: BTreeMap<String, DateTime<Utc>>,
    now: DateTime<Utc>,
}

impl ZoneWindows {
    async fn load(db: &Db, period: Period) -> Result<ZoneWindows, StorageError> {
        let mut starts = BTreeMap::new();
        for row in db.query("SELECT DISTINCT timezone FROM resources", vec![]).await? {
            let name: String = row.get("timezone")?;
            starts.insert(name.clone(), period.start_in(zone_named(&name)));
        }
        Ok(ZoneWindows {
            starts,
            now: period.now,
        })
    }

    /// The earliest start (now − `days` days when no resource exists).
    fn earliest(&self, period: Period) -> DateTime<Utc> {
        self.starts
            .values()
            .min()
            .copied()
            .unwrap_or(period.now - Duration::days(period.days))
    }

    fn span(&self, period: Period) -> Span {
        Span {
            start: self.earliest(period),
            end: self.now,
        }
    }

    /// The rollup hours `[first, end)` that lie whole inside every zone's window (empty when
    /// no resource exists).
    fn whole_hours(&self) -> (i64, i64) {
        let Some(latest) = self.starts.values().max() else {
            return (0, 0);
        };
        let first = (latest.timestamp_micros() + HOUR_US - 1).div_euclid(HOUR_US);
        let end = hour_of(self.now).max(first);
        (first, end)
    }

    /// The rollup condition on `hour` of alias `alias`: the whole hours.
    fn rollup(&self, binder: &mut Binder, alias: &str) -> String {
        let (first, end) = self.whole_hours();
        format!(
            "{alias}.hour >= {} AND {alias}.hour < {}",
            binder.bind(first),
            binder.bind(end)
        )
    }

    /// The whole hours split for the two levels of the resource rollup: the whole UTC days
    /// among them `[first, end)` (`None` when there is none), and the hours left before and
    /// after those days.
    fn days_and_hours(&self) -> (Option<Span64>, [Span64; 2]) {
        let (first, end) = self.whole_hours();
        let (first_day, end_day) = ((first + 23).div_euclid(24), end.div_euclid(24));
        if first_day >= end_day {
            return (None, [(first, end), (end, end)]);
        }
        (
            Some((first_day, end_day)),
            [(first, first_day * 24), (end_day * 24, end)],
        )
    }

    /// The condition on `analytics_resource_hours` of alias `alias`: the whole hours outside
    /// the whole days [`Self::resource_days`] answers for.
    fn resource_hours(&self, binder: &mut Binder, alias: &str) -> String {
        let (_, ranges) = self.days_and_hours();
        let ranges: Vec<String> = ranges
            .iter()
            .filter(|(first, end)| first < end)
            .map(|(first, end)| {
                format!(
                    "({alias}.hour >= {} AND {alias}.hour < {})",
                    binder.bind(*first),
                    binder.bind(*end)
                )
            })
            .collect();
        if ranges.is_empty() {
            return "1 = 0".into();
        }
        format!("({})", ranges.join(" OR "))
    }

    /// The condition on `analytics_resource_days` of alias `alias`: the whole days of the whole
    /// hours.
    fn resource_days(&self, binder: &mut Binder, alias: &str) -> String {
        match self.days_and_hours().0 {
            Some((first, end)) => format!(
                "{alias}.day >= {} AND {alias}.day < {}",
                binder.bind(first),
                binder.bind(end)
            ),
            None => "1 = 0".into(),
        }
    }

    /// The SQL condition on `column` of a reservation joined with its resource `s`: in the
    /// resource's window, but outside the whole hours the rollups answer for. Two index ranges
    /// (before and after the whole hours), each at most a few hours long.
    fn ends(&self, binder: &mut Binder, column: &str) -> String {
        let Some(earliest) = self.starts.values().min().copied() else {
            return "1 = 0".into();
        };
        let per_zone = self.per_zone(binder, column);
        let (first, end) = self.whole_hours();
        let hour = |h: i64| DateTime::from_timestamp_micros(h * HOUR_US).unwrap_or(self.now);
        let ranges = if first < end {
            format!(
                "(({column} >= {} AND {column} < {}) OR ({column} >= {} AND {column} < {}))",
                binder.bind(earliest),
                binder.bind(hour(first)),
                binder.bind(hour(end)),
                binder.bind(self.now)
            )
        } else {
            format!(
                "{column} >= {} AND {column} < {}",
                binder.bind(earliest),
                binder.bind(self.now)
            )
        };
        format!("{ranges} AND ({per_zone})")
    }

    /// Each zone's own start of the window: `column` is at or after it, on a resource of that zone.
    fn per_zone(&self, binder: &mut Binder, column: &str) -> String {
        let parts: Vec<String> = self
            .starts
            .iter()
            .map(|(zone, start)| {
                format!(
                    "(s.timezone = {} AND {column} >= {})",
                    binder.bind(zone.clone()),
                    binder.bind(*start)
                )
            })
            .collect();
        parts.join(" OR ")
    }
}

/// The whole days of a peak-times read split between the daily and the four-week level
/// (`rollup::BLOCK_DAYS`): the whole blocks among them, read from the four-week level except, for
/// each zone, the blocks in which its offset from UTC changes (there a UTC weekday and hour is
/// not one local weekday and hour throughout); those and the days outside the whole blocks are
/// read from the daily level.
struct Blocks {
    /// The whole days `[first, end)` (`None` when there is none).
    days: Option<Span64>,
    /// The whole blocks `[first, end)` among the days (empty when none).
    blocks: Span64,
    /// Per zone, the whole blocks in which its offset changes.
    changing: BTreeMap<String, Vec<i64>>,
}

impl Blocks {
    fn of(windows: &ZoneWindows) -> Blocks {
        let days = windows.days_and_hours().0;
        let (first_day, end_day) = days.unwrap_or((0, 0));
        let first = (first_day + BLOCK_DAYS - 1).div_euclid(BLOCK_DAYS);
        let end = end_day.div_euclid(BLOCK_DAYS).max(first);
        let changing = windows
            .starts
            .keys()
            .map(|name| {
                let zone = zone_named(name);
                let blocks: Vec<i64> = (first..end).filter(|block| !steady(zone, *block)).collect();
                (name.clone(), blocks)
            })
            .filter(|(_, blocks)| !blocks.is_empty())
            .collect();
        Blocks {
            days,
            blocks: (first, end),
            changing,
        }
    }

    /// The condition on `analytics_resource_days` of alias `alias` (joined with its resource
    /// `s`): the whole days the four-week level does not answer for.
    fn days(&self, windows: &ZoneWindows, binder: &mut Binder, alias: &str) -> String {
        let Some((first_day, end_day)) = self.days else {
            return "1 = 0".into();
        };
        let (first, end) = self.blocks;
        if first == end {
            return windows.resource_days(binder, alias);
        }
        let mut parts = Vec::new();
        for (from, to) in [(first_day, first * BLOCK_DAYS), (end * BLOCK_DAYS, end_day)] {
            if from < to {
                parts.push(format!(
                    "({alias}.day >= {} AND {alias}.day < {})",
                    binder.bind(from),
                    binder.bind(to)
                ));
            }
        }
        for (zone, blocks) in &self.changing {
            let zone = binder.bind(zone.clone());
            for block in blocks {
                parts.push(format!(
                    "(s.timezone = {zone} AND {alias}.day >= {} AND {alias}.day < {})",
                    binder.bind(block * BLOCK_DAYS),
                    binder.bind((block + 1) * BLOCK_DAYS)
                ));
            }
        }
        if parts.is_empty() {
            return "1 = 0".into();
        }
        format!("({})", parts.join(" OR "))
    }

    /// The condition on `analytics_resource_blocks` of alias `alias` (joined with its resource
    /// `s`): the whole blocks, but not those in which the resource's zone changes its offset.
    fn blocks(&self, binder: &mut Binder, alias: &str) -> String {
        let (first, end) = self.blocks;
        if first == end {
            return "1 = 0".into();
        }
        let mut condition = format!(
            "{alias}.block >= {} AND {alias}.block < {}",
            binder.bind(first),
            binder.bind(end)
        );
        for (zone, blocks) in &self.changing {
            let marks: Vec<String> = blocks.iter().map(|block| binder.bind(*block)).collect();
            condition.push_str(&format!(
                " AND NOT (s.timezone = {} AND {alias}.block IN ({}))",
                binder.bind(zone.clone()),
                marks.join(", ")
            ));
        }
        condition
    }
}

/// Whether `zone` keeps one offset from UTC throughout `block` (checked at each UTC midnight of
/// it and at its end: clocks change at most once a day).
fn steady(zone: Tz, block: i64) -> bool {
    let offset = |day: i64| {
        DateTime::from_timestamp(day * 86_400, 0).map(|at| zone.offset_from_utc_datetime(&at.naive_utc()).fix())
    };
    let first = offset(block * BLOCK_DAYS);
    (1..=BLOCK_DAYS).all(|k| offset(block * BLOCK_DAYS + k) == first)
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn rate(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        round2(part as f64 * 100.0 / whole as f64)
    }
}

/// The wire's period: the earliest window start of any resource, and now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// One row of `/utilization`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Utilisation {
    pub resource_id: i64,
    pub resource_name: String,
    /// Open time in the window, hours (2 decimals).
    pub total_hours_available: f64,
    /// Booked open time in the window, hours (2 decimals).
    pub booked_hours: f64,
    pub utilization_percent: f64,
    pub status: String,
}

/// Open and booked open seconds of a resource over its window, per local weekday-hour (with
/// [`Detail::Total`], only the sum of `booked` means anything).
struct Usage {
    resource: Resource,
    open: Cells,
    booked: Cells,
}

/// Resources that share their open time: a zone, and the resource when it has hours or
/// blackout dates of its own (`None`: the global ones apply).
type GroupKey = (String, Option<i64>);

/// The usage of every resource (or of `only`), in id order, and the period.
async fn usage(
    db: &Db,
    period: Period,
    only: Option<i64>,
    detail: Detail,
) -> Result<(Span, Vec<Usage>), AnalyticsError> {
    let resources = resources(db, only).await?;
    let span = ZoneWindows::load(db, period).await?.span(period);
    if resources.is_empty() {
        return Ok((span, Vec::new()));
    }
    let first = (span.start - Duration::days(1)).date_naive();
    let last = (period.now + Duration::days(1)).date_naive();
    let in_force = store::in_force_between(db, first, last).await?;
    let mut groups: HashMap<GroupKey, (OpenTime, Vec<i64>)> = HashMap::new();
    let mut group_of = HashMap::new();
    for resource in &resources {
        let own = in_force.own.get(&resource.id);
        let hours: &OpeningHours = own.unwrap_or(&in_force.global);
        let key = (resource.zone_name.clone(), own.map(|_| resource.id));
        let group = groups.entry(key.clone()).or_insert_with(|| {
            let parts: Vec<Interval> = Interval::new(period.start_in(resource.zone), period.now)
                .map(|window| hours.open_parts(resource.zone, &window).collect())
                .unwrap_or_default();
            (OpenTime::cut(resource.zone, parts.into_iter()), Vec::new())
        });
        group.1.push(resource.id);
        group_of.insert(resource.id, key);
    }
    // One group's reads do not wait for another's.
    let mut booked: HashMap<i64, Cells> = HashMap::new();
    let reads = groups.values().map(|(open, ids)| open.booked(db, ids, detail));
    for group in futures::future::try_join_all(reads).await? {
        booked.extend(group);
    }
    let usage = resources
        .into_iter()
        .map(|resource| {
            let open = group_of
                .get(&resource.id)
                .and_then(|key| groups.get(key))
                .map_or([0.0; CELLS], |(open, _)| open.open);
            let booked = booked.remove(&resource.id).unwrap_or([0.0; CELLS]);
            Usage { resource, open, booked }
        })
        .collect();
    Ok((span, usage))
}

/// Utilisation of every resource (or of `only`), highest first, and the period.
pub async fn utilisation(
    db: &Db,
    period: Period,
    only: Option<i64>,
) -> Result<(Span, Vec<Utilisation>), AnalyticsError> {
    // Only the sums are used: `Detail::Total` reads whole days as one total per resource.
    let (span, usage) = usage(db, period, only, Detail::Total).await?;
    let mut rows: Vec<Utilisation> = usage
        .into_iter()
        .map(|usage| {
            let open: f64 = usage.open.iter().sum();
            let used = usage.booked.iter().sum::<f64>().min(open);
            Utilisation {
                resource_id: usage.resource.id,
                resource_name: usage.resource.name,
                total_hours_available: round2(open / 3600.0),
                booked_hours: round2(used / 3600.0),
                utilization_percent: if open > 0.0 { round2(used * 100.0 / open) } else { 0.0 },
                status: usage.resource.status,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.utilization_percent
            .total_cmp(&a.utilization_percent)
            .then(a.resource_id.cmp(&b.resource_id))
    });
    Ok((span, rows))
}

/// One resource of `/heatmap`: `cells[weekday][hour]` (Monday first, local hours) is the
/// utilisation percentage of that weekday-hour over the period, `None` when never open then.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Heatmap {
    pub resource_id: i64,
    pub resource_name: String,
    pub timezone: String,
    pub cells: Vec<Vec<Option<f64>>>,
}

/// The heatmap of every resource (or of `only`), in id order, and the period.
pub async fn heatmap(db: &Db, period: Period, only: Option<i64>) -> Result<(Span, Vec<Heatmap>), AnalyticsError> {
    let (span, usage) = usage(db, period, only, Detail::Cells).await?;
    let maps = usage
        .into_iter()
        .map(|usage| Heatmap {
            resource_id: usage.resource.id,
            resource_name: usage.resource.name,
            timezone: usage.resource.zone_name,
            cells: (0..7)
                .map(|day| {
                    (0..24)
                        .map(|hour| {
                            let cell = day * 24 + hour;
                            let open = usage.open[cell];
                            (open > 0.0).then(|| round2((usage.booked[cell] * 100.0 / open).min(100.0)))
                        })
                        .collect()
                })
                .collect(),
        })
        .collect();
    Ok((span, maps))
}

/// One row of `/popular-resources`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Popular {
    pub resource_id: i64,
    pub resource_name: String,
    pub reservation_count: i64,
    pub rank: i64,
}

/// The resources with the most used bookings starting in their window, at most `limit`.
pub async fn popular(db: &Db, period: Period, limit: i64) -> Result<(Span, Vec<Popular>), StorageError> {
    let windows = ZoneWindows::load(db, period).await?;
    let mut binder = Binder::new();
    let days = windows.resource_days(&mut binder, "d");
    let hours = windows.resource_hours(&mut binder, "h");
    let ends = windows.ends(&mut binder, "r.start_time");
    let sql = format!(
        "SELECT s.id AS resource_id, s.name AS resource_name, CAST(SUM(x.n) AS BIGINT) AS n FROM (
             SELECT d.resource_id AS resource_id, d.started AS n FROM analytics_resource_days d
             WHERE {days} AND d.started > 0
             UNION ALL
             SELECT h.resource_id, h.started FROM analytics_resource_hours h
             WHERE {hours} AND h.started > 0
             UNION ALL
             SELECT r.resource_id, 1 FROM reservations r JOIN resources s ON s.id = r.resource_id
             WHERE r.status IN {USED} AND {ends}
         ) x JOIN resources s ON s.id = x.resource_id
         GROUP BY s.id, s.name ORDER BY n DESC, s.id LIMIT {}",
        binder.bind(limit)
    );
    let rows = db.query(&sql, binder.into_values()).await?;
    let popular = rows
        .iter()
        .zip(1..)
        .map(|(row, rank)| {
            Ok(Popular {
                resource_id: row.get("resource_id")?,
                resource_name: row.get("resource_name")?,
                reservation_count: row.get("n")?,
                rank,
            })
        })
        .collect::<Result<_, StorageError>>()?;
    Ok((windows.span(period), popular))
}

/// `/peak-times`: used bookings by local hour and weekday of their start.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PeakTimes {
    pub period: Span,
    pub total_reservations: i64,
    pub hourly_distribution: Vec<HourCount>,
    pub daily_distribution: Vec<DayCount>,
    pub peak_hour: u32,
    pub peak_hour_count: i64,
    pub peak_day: &'static str,
    pub peak_day_count: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HourCount {
    pub hour: u32,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayCount {
    pub day: &'static str,
    pub day_number: u32,
    pub count: i64,
}

const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The first maximum of `counts` (index 0 when all are zero).
fn first_peak(counts: &[i64]) -> (usize, i64) {
    counts
        .iter()
        .enumerate()
        .fold((0, 0), |best, (i, &n)| if n > best.1 { (i, n) } else { best })
}

pub async fn peak_times(db: &Db, period: Period) -> Result<PeakTimes, StorageError> {
    let windows = ZoneWindows::load(db, period).await?;
    let mut binder = Binder::new();
    let hours = windows.resource_hours(&mut binder, "h");
    let ends = windows.ends(&mut binder, "r.start_time");
    let bucket = db.epoch_bucket_sql("r.start_time", BUCKET_SECONDS);
    // Starts by zone and instant (seconds since the epoch): whole hours from the rollup,
    // 15-minute buckets at the window's ends.
    let sql = format!(
        "SELECT s.timezone AS tz, h.hour * 3600 AS at, CAST(SUM(h.started) AS BIGINT) AS n
         FROM analytics_resource_hours h JOIN resources s ON s.id = h.resource_id
         WHERE {hours} AND h.started > 0
         GROUP BY s.timezone, h.hour
         UNION ALL
         SELECT s.timezone AS tz, {bucket} * {BUCKET_SECONDS} AS at, COUNT(*) AS n
         FROM reservations r JOIN resources s ON s.id = r.resource_id
         WHERE r.status IN {USED} AND {ends}
         GROUP BY s.timezone, {bucket}"
    );
    // The whole days: the four-week blocks among them in which a zone keeps one offset, by
    // zone, block and UTC weekday; the other days by zone and UTC day; each hour in a column.
    let blocks = Blocks::of(&windows);
    let sums: Vec<String> = (0..24)
        .map(|h| format!("CAST(SUM(d.s{h}) AS BIGINT) AS s{h}"))
        .collect();
    let sums = sums.join(", ");
    let mut day_binder = Binder::new();
    let day_rows = blocks.days(&windows, &mut day_binder, "d");
    let day_sql = format!(
        "SELECT s.timezone AS tz, d.day AS day, {sums}
         FROM analytics_resource_days d JOIN resources s ON s.id = d.resource_id
         WHERE {day_rows} AND d.started > 0
         GROUP BY s.timezone, d.day"
    );
    let mut block_binder = Binder::new();
    let block_rows = blocks.blocks(&mut block_binder, "d");
    // A block's days of one weekday are read as its first such day, `block * 28 + weekday`:
    // with one offset throughout, the four are on the same local weekday and hours.
    let block_sql = format!(
        "SELECT s.timezone AS tz, d.block * {BLOCK_DAYS} + d.weekday AS day, {sums}
         FROM analytics_resource_blocks d JOIN resources s ON s.id = d.resource_id
         WHERE {block_rows}
         GROUP BY s.timezone, d.block, d.weekday"
    );
    let (by_instant, by_day, by_block) = futures::try_join!(
        db.query(&sql, binder.into_values()),
        db.query(&day_sql, day_binder.into_values()),
        db.query(&block_sql, block_binder.into_values())
    )?;
    let mut starts: Vec<(String, i64, i64)> = Vec::new();
    for row in &by_instant {
        starts.push((row.get("tz")?, row.get("at")?, row.get("n")?));
    }
    for row in by_day.iter().chain(&by_block) {
        let (zone, day): (String, i64) = (row.get("tz")?, row.get("day")?);
        for h in 0..24 {
            let n: i64 = row.get(format!("s{h}").as_str())?;
            if n != 0 {
                starts.push((zone.clone(), (day * 24 + h) * 3600, n));
            }
        }
    }
    let mut hours = [0i64; 24];
    let mut days = [0i64; 7];
    let mut zones: HashMap<String, Tz> = HashMap::new();
    for (name, at, n) in starts {
        let zone = *zones.entry(name).or_insert_with_key(|name| zone_named(name));
        let Some(start) = DateTime::from_timestamp(at, 0) else {
            continue;
        };
        let local = start.with_timezone(&zone);
        hours[local.hour() as usize] += n;
        days[local.weekday().num_days_from_monday() as usize] += n;
    }
    let (peak_hour, peak_hour_count) = first_peak(&hours);
    let (peak_day, peak_day_count) = first_peak(&days);
    Ok(PeakTimes {
        period: windows.span(period),
        total_reservations: hours.iter().sum(),
        hourly_distribution: (0..24)
            .map(|hour| HourCount {
                hour,
                count: hours[hour as usize],
            })
            .collect(),
        daily_distribution: (0..7)
            .map(|day| DayCount {
                day: DAY_NAMES[day as usize],
                day_number: day,
                count: days[day as usize],
            })
            .collect(),
        peak_hour: peak_hour as u32,
        peak_hour_count,
        peak_day: DAY_NAMES[peak_day],
        peak_day_count,
    })
}

/// One row of `/user-patterns`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserPattern {
    pub user_id: i64,
    pub username: String,
    pub total_reservations: i64,
    pub cancelled_count: i64,
    pub cancellation_rate: f64,
}

/// The bookings created in their resource's window (of `user` only, when given), as a SQL
/// subquery of `(user_id, hour, created, active, cancelled)` rows: the rollup's whole hours,
/// then the reservations at the window's ends (`hour` from their creation).
fn created(db: &Db, windows: &ZoneWindows, binder: &mut Binder, user: Option<i64>) -> String {
    let hours = windows.rollup(binder, "g");
    let mine = user.map_or(String::new(), |id| format!("AND g.user_id = {}", binder.bind(id)));
    let ends = windows.ends(binder, "r.created_at");
    let theirs = user.map_or(String::new(), |id| format!("AND r.user_id = {}", binder.bind(id)));
    let hour = db.epoch_bucket_sql("r.created_at", 3600);
    format!(
        "(SELECT g.user_id AS user_id, g.hour AS hour, g.created AS created, g.active AS active,
                 g.cancelled AS cancelled
          FROM analytics_user_hours g WHERE {hours} {mine} AND g.created <> 0
          UNION ALL
          SELECT r.user_id, {hour}, 1, CASE WHEN r.status = 'active' THEN 1 ELSE 0 END,
                 CASE WHEN r.status = 'cancelled' THEN 1 ELSE 0 END
          FROM reservations r JOIN resources s ON s.id = r.resource_id WHERE {ends} {theirs})"
    )
}

/// Bookings created in their resource's window, by user (only `user` when given), most first.
pub async fn user_patterns(
    db: &Db,
    period: Period,
    user: Option<i64>,
    limit: i64,
) -> Result<(Span, Vec<UserPattern>), StorageError> {
    let windows = ZoneWindows::load(db, period).await?;
    let mut binder = Binder::new();
    let created = created(db, &windows, &mut binder, user);
    let sql = format!(
        "SELECT u.id AS user_id, u.username AS username, CAST(SUM(x.created) AS BIGINT) AS total,
                CAST(SUM(x.cancelled) AS BIGINT) AS cancelled
         FROM {created} x JOIN users u ON u.id = x.user_id
         GROUP BY u.id, u.username HAVING SUM(x.created) > 0 ORDER BY total DESC, u.id LIMIT {}",
        binder.bind(limit)
    );
    let users = db
        .query(&sql, binder.into_values())
        .await?
        .iter()
        .map(|row| {
            let total: i64 = row.get("total")?;
            let cancelled: i64 = row.get("cancelled")?;
            Ok(UserPattern {
                user_id: row.get("user_id")?,
                username: row.get("username")?,
                total_reservations: total,
                cancelled_count: cancelled,
                cancellation_rate: rate(cancelled, total),
            })
        })
        .collect::<Result<_, StorageError>>()?;
    Ok((windows.span(period), users))
}

/// One day of `/cancellations`: the bookings created that UTC day (in their resource's window),
/// and how many of them are cancelled now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedDay {
    pub date: NaiveDate,
    pub created: i64,
    pub cancelled: i64,
}

/// Every UTC date of the period, oldest first, with the bookings created on it.
pub async fn cancellations(db: &Db, period: Period) -> Result<(Span, Vec<CreatedDay>), StorageError> {
    let windows = ZoneWindows::load(db, period).await?;
    let span = windows.span(period);
    let mut binder = Binder::new();
    let created = created(db, &windows, &mut binder, None);
    let sql = format!(
        "SELECT x.hour AS hour, CAST(SUM(x.created) AS BIGINT) AS created,
                CAST(SUM(x.cancelled) AS BIGINT) AS cancelled
         FROM {created} x GROUP BY x.hour"
    );
    let mut days: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
    let mut date = span.start.date_naive();
    while date <= span.end.date_naive() {
        days.insert(date, (0, 0));
        date += Duration::days(1);
    }
    for row in db.query(&sql, binder.into_values()).await? {
        let hour: i64 = row.get("hour")?;
        let Some(at) = DateTime::from_timestamp(hour * 3600, 0) else {
            continue;
        };
        let day = days.entry(at.date_naive()).or_default();
        day.0 += row.get::<i64>("created")?;
        day.1 += row.get::<i64>("cancelled")?;
    }
    let days = days
        .into_iter()
        .map(|(date, (created, cancelled))| CreatedDay {
            date,
            created,
            cancelled,
        })
        .collect();
    Ok((span, days))
}

/// The `overview` of `/dashboard`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub total_resources: i64,
    pub total_users: i64,
    pub total_reservations: i64,
    pub active_reservations: i64,
    pub cancelled_reservations: i64,
    pub cancellation_rate: f64,
    pub average_utilization: f64,
}

/// `/dashboard`: the overview, the five most popular resources and the peaks.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    pub period: Span,
    pub overview: Overview,
    pub top_resources: Vec<Popular>,
    pub peak_times: Peaks,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Peaks {
    pub peak_hour: u32,
    pub peak_day: &'static str,
}

/// The dashboard's counts: reservations created in the window by state, resources and users.
struct OverviewCounts {
    windows: ZoneWindows,
    total: i64,
    active: i64,
    cancelled: i64,
    total_resources: i64,
    total_users: i64,
}

async fn overview_counts(db: &Db, period: Period) -> Result<OverviewCounts, AnalyticsError> {
    let windows = ZoneWindows::load(db, period).await?;
    let mut binder = Binder::new();
    let created = created(db, &windows, &mut binder, None);
    let sql = format!(
        "SELECT CAST(SUM(x.created) AS BIGINT) AS total, CAST(SUM(x.active) AS BIGINT) AS active,
                CAST(SUM(x.cancelled) AS BIGINT) AS cancelled
         FROM {created} x"
    );
    let counts = db.query_one(&sql, binder.into_values()).await?;
    let count = |sql: &'static str| async move { db.query_one(sql, vec![]).await?.get::<i64>("n") };
    Ok(OverviewCounts {
        total: counts.get::<Option<i64>>("total")?.unwrap_or(0),
        active: counts.get::<Option<i64>>("active")?.unwrap_or(0),
        cancelled: counts.get::<Option<i64>>("cancelled")?.unwrap_or(0),
        total_resources: count("SELECT COUNT(*) AS n FROM resources").await?,
        total_users: count("SELECT COUNT(*) AS n FROM users").await?,
        windows,
    })
}

/// The dashboard: the overview counts, the average utilisation, the five most booked resources
/// and the peak hour and weekday.
pub async fn dashboard(db: &Db, period: Period) -> Result<Dashboard, AnalyticsError> {
    // The four parts are independent reads: they run at once, so the answer takes as long as the
    // slowest of them rather than their sum.
    let popular = async { popular(db, period, 5).await.map_err(AnalyticsError::from) };
    let peaks = async { peak_times(db, period).await.map_err(AnalyticsError::from) };
    let (counts, (_, utilisation), (_, top), peaks) = futures::try_join!(
        overview_counts(db, period),
        utilisation(db, period, None),
        popular,
        peaks
    )?;
    let OverviewCounts {
        windows,
        total,
        active,
        cancelled,
        total_resources,
        total_users,
    } = counts;
    let average = if utilisation.is_empty() {
        0.0
    } else {
        round2(utilisation.iter().map(|u| u.utilization_percent).sum::<f64>() / utilisation.len() as f64)
    };
    Ok(Dashboard {
        period: windows.span(period),
        overview: Overview {
            total_resources,
            total_users,
            total_reservations: total,
            active_reservations: active,
            cancelled_reservations: cancelled,
            cancellation_rate: rate(cancelled, total),
            average_utilization: average,
        },
        top_resources: top,
        peak_times: Peaks {
            peak_hour: peaks.peak_hour,
            peak_day: peaks.peak_day,
        },
    })
}

/// One row of the reservations export, borrowed from its page and the export.
#[derive(Debug, Clone, Copy)]
pub struct ExportedReservation<'a> {
    pub id: i64,
    pub resource_name: &'a str,
    pub username: &'a str,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub status: &'a str,
    pub created_at: DateTime<Utc>,
}

/// Where a page of the export starts: after this `(created_at, id)`.
pub type ExportCursor = (DateTime<Utc>, i64);

/// The reservations export, read a page at a time: the bookings created in their resource's
/// window (of `user` only, when given), oldest first.
pub struct Export {
    windows: ZoneWindows,
    user: Option<i64>,
    /// Every resource's name and time zone, read once.
    resources: HashMap<i64, (String, String)>,
}

/// One page of the export as read ([`Export::rows`] gives its rows), and where the next page
/// starts unless this was the last.
pub struct ExportPage {
    read: Vec<Row>,
    usernames: HashMap<i64, String>,
    pub next: Option<ExportCursor>,
}

impl Export {
    pub async fn start(db: &Db, period: Period, user: Option<i64>) -> Result<Export, StorageError> {
        let mut resources = HashMap::new();
        for row in db.query("SELECT id, name, timezone FROM resources", vec![]).await? {
            resources.insert(row.get("id")?, (row.get("name")?, row.get("timezone")?));
        }
        Ok(Export {
            windows: ZoneWindows::load(db, period).await?,
            user,
            resources,
        })
    }

    /// The next [`EXPORT_PAGE`] rows after `after` (from the first when `None`), along the
    /// index on `created_at`. The page statement reads `reservations` alone, with one range of
    /// `created_at` from the earliest zone's start, so that its plan is the index read in order
    /// and stopped at the page's end, also as the generic plan PostgreSQL caches for a prepared
    /// statement (with joins, or the per-zone condition's `OR`, that plan read and sorted the
    /// rest of the window for every page). Each resource's own start (its zone's), its name and
    /// the usernames are applied by [`Export::rows`].
    pub async fn page(&self, db: &Db, after: Option<ExportCursor>) -> Result<ExportPage, StorageError> {
        let Some(earliest) = self.windows.starts.values().min().copied() else {
            return Ok(ExportPage {
                read: Vec::new(),
                usernames: HashMap::new(),
                next: None,
            });
        };
        let mut binder = Binder::new();
        let range = format!(
            "r.created_at >= {} AND r.created_at < {}",
            binder.bind(earliest),
            binder.bind(self.windows.now)
        );
        let only = self
            .user
            .map_or(String::new(), |id| format!("AND r.user_id = {}", binder.bind(id)));
        let from = after.map_or(String::new(), |(at, id)| {
            // The first condition alone is the index range: the page starts where the last ended.
            let (at, id) = (binder.bind(at), binder.bind(id));
            format!("AND r.created_at >= {at} AND (r.created_at > {at} OR r.id > {id})")
        });
        let sql = format!(
            "SELECT r.id AS id, r.resource_id AS resource_id, r.user_id AS user_id, r.start_time AS start_time,
                    r.end_time AS end_time, r.status AS status, r.created_at AS created_at
             FROM reservations r WHERE {range} {only} {from} ORDER BY r.created_at, r.id LIMIT {EXPORT_PAGE}"
        );
        let read = db.query(&sql, binder.into_values()).await?;
        let next = match read.last() {
            Some(last) if read.len() as i64 == EXPORT_PAGE => Some((last.get("created_at")?, last.get("id")?)),
            _ => None,
        };
        let usernames = usernames(db, &read).await?;
        Ok(ExportPage { read, usernames, next })
    }

    /// The rows of `page` that are in their resource's window, with the resource's name and
    /// the user's, borrowed rather than copied (the export writes some 80,000 a request).
    pub fn rows<'a>(
        &'a self,
        page: &'a ExportPage,
    ) -> impl Iterator<Item = Result<ExportedReservation<'a>, StorageError>> + 'a {
        page.read.iter().filter_map(move |row| {
            let row = || -> Result<Option<ExportedReservation<'a>>, StorageError> {
                let (resource, user): (i64, i64) = (row.get("resource_id")?, row.get("user_id")?);
                let (Some((name, zone)), Some(username)) = (self.resources.get(&resource), page.usernames.get(&user))
                else {
                    return Ok(None);
                };
                let created_at: DateTime<Utc> = row.get("created_at")?;
                if self.windows.starts.get(zone).is_some_and(|start| created_at < *start) {
                    return Ok(None);
                }
                Ok(Some(ExportedReservation {
                    id: row.get("id")?,
                    resource_name: name,
                    username,
                    start_time: row.get("start_time")?,
                    end_time: row.get("end_time")?,
                    status: row.text("status")?,
                    created_at,
                }))
            };
            row().transpose()
        })
    }
}

/// The usernames of the users of `rows`.
async fn usernames(db: &Db, rows: &[Row]) -> Result<HashMap<i64, String>, StorageError> {
    let ids: BTreeSet<i64> = rows.iter().map(|row| row.get("user_id")).collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut binder = Binder::new();
    let marks: Vec<String> = ids.iter().map(|id| binder.bind(*id)).collect();
    let sql = format!("SELECT id, username FROM users WHERE id IN ({})", marks.join(", "));
    db.query(&sql, binder.into_values())
        .await?
        .iter()
        .map(|row| Ok((row.get("id")?, row.get("username")?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_week_across_a_dst_change_is_167_or_169_hours() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 2030-03-31: Berlin springs forward; 2030-10-27: it falls back.
        let spring = Period {
            days: 7,
            now: at("2030-04-03T10:00:00Z"),
        };
        assert_eq!((spring.now - spring.start_in(berlin)).num_hours(), 167);
        let autumn = Period {
            days: 7,
            now: at("2030-10-30T10:00:00Z"),
        };
        assert_eq!((autumn.now - autumn.start_in(berlin)).num_hours(), 169);
        assert_eq!((autumn.now - autumn.start_in(Tz::UTC)).num_hours(), 168);
    }

    #[test]
    fn the_first_peak_wins_and_an_empty_histogram_peaks_at_zero() {
        assert_eq!(first_peak(&[0, 0, 0]), (0, 0));
        assert_eq!(first_peak(&[1, 3, 3]), (1, 3));
    }

    #[test]
    fn a_start_in_a_gap_moves_past_it() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let gap = NaiveDateTime::parse_from_str("2030-03-31T02:30:00", "%Y-%m-%dT%H:%M:%S").unwrap();
        assert_eq!(resolve(berlin, gap), Some(at("2030-03-31T01:00:00Z")));
    }
}
