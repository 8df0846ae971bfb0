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
//!   popularity and peak times; counts by creation (overview, user patterns, export) take every
//!   status.
//! - **Peak times are local**: the hour and weekday of a booking's start on its resource's clock.
//!
//! Guarantees: every query is bounded by the window and runs on an index (migration 20); nothing
//! loads every reservation. Sums and histograms are computed by the database (peak times are
//! grouped in SQL into 15-minute buckets per time zone, which Rust turns into local hours, since
//! SQLite has no time-zone database). The reservations export is capped at [`EXPORT_LIMIT`] rows.
//! Who may see what (user patterns and the export are per user unless the caller has
//! `reservation:read_any`) is decided by the routes, which pass the user to restrict to.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use reserver_actors::domain::{Interval, OpeningHours};
use serde::Serialize;

use crate::hours::store;
use crate::storage::{Binder, Db, StorageError};
use crate::time_zone::zone_named;

/// The longest window, in days.
pub const MAX_DAYS: i64 = 365;
/// The statuses of bookings that used their resource.
const USED: &str = "('active', 'expired')";
/// Most rows in one reservations export.
pub const EXPORT_LIMIT: i64 = 100_000;
/// The width of the peak-time buckets grouped in SQL: every UTC offset in use is a multiple.
const BUCKET_SECONDS: i64 = 900;

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

async fn resources(db: &Db, only: Option<i64>) -> Result<Vec<Resource>, StorageError> {
    let mut binder = Binder::new();
    let filter = only.map_or(String::new(), |id| format!("WHERE id = {}", binder.bind(id)));
    let sql = format!("SELECT id, name, timezone, available, status FROM resources {filter} ORDER BY id");
    db.query(&sql, binder.into_values())
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
        .collect()
}

/// The window of each time zone in use, as a SQL condition on `column` of a reservation joined
/// with its resource `s`: `column` in `[start in the resource's zone, now)`.
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

    fn condition(&self, binder: &mut Binder, column: &str) -> String {
        let Some(earliest) = self.starts.values().min().copied() else {
            return "1 = 0".into();
        };
        let per_zone: Vec<String> = self
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
        format!(
            "{column} >= {} AND {column} < {} AND ({})",
            binder.bind(earliest),
            binder.bind(self.now),
            per_zone.join(" OR ")
        )
    }
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
#[derive(Debug, Clone, Serialize)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// One row of `/utilization`.
#[derive(Debug, Clone, Serialize)]
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

/// Utilisation of every resource (or of `only`), highest first, and the period.
pub async fn utilisation(db: &Db, period: Period, only: Option<i64>) -> Result<(Span, Vec<Utilisation>), StorageError> {
    let resources = resources(db, only).await?;
    let windows = ZoneWindows::load(db, period).await?;
    let span = Span {
        start: windows.earliest(period),
        end: period.now,
    };
    if resources.is_empty() {
        return Ok((span, Vec::new()));
    }
    let first = (span.start - Duration::days(1)).date_naive();
    let last = (period.now + Duration::days(1)).date_naive();
    let in_force = store::in_force_between(db, first, last).await?;
    // Resources sharing a zone and the global hours share their open parts: one query each.
    let mut groups: HashMap<GroupKey, (Vec<Interval>, Vec<i64>)> = HashMap::new();
    let mut open_seconds: HashMap<i64, i64> = HashMap::new();
    for resource in &resources {
        let own = in_force.own.get(&resource.id);
        let hours: &OpeningHours = own.unwrap_or(&in_force.global);
        let key = (resource.zone_name.clone(), own.map(|_| resource.id));
        let group = groups.entry(key).or_insert_with(|| {
            let parts = Interval::new(period.start_in(resource.zone), period.now)
                .map(|window| hours.open_parts(resource.zone, &window).collect())
                .unwrap_or_default();
            (parts, Vec::new())
        });
        group.1.push(resource.id);
        open_seconds.insert(resource.id, group.0.iter().map(|p| p.duration().num_seconds()).sum());
    }
    let mut booked: HashMap<i64, f64> = HashMap::new();
    for (parts, ids) in groups.values() {
        if !parts.is_empty() {
            booked.extend(booked_seconds(db, parts, ids).await?);
        }
    }
    let mut rows: Vec<Utilisation> = resources
        .into_iter()
        .map(|resource| {
            let open = open_seconds.get(&resource.id).copied().unwrap_or(0) as f64;
            let used = booked.get(&resource.id).copied().unwrap_or(0.0).min(open);
            Utilisation {
                resource_id: resource.id,
                resource_name: resource.name,
                total_hours_available: round2(open / 3600.0),
                booked_hours: round2(used / 3600.0),
                utilization_percent: if open > 0.0 { round2(used * 100.0 / open) } else { 0.0 },
                status: resource.status,
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

/// Resources that share their open parts: a zone, and the resource when it has hours or
/// blackout dates of its own (`None`: the global ones apply).
type GroupKey = (String, Option<i64>);

/// Seconds of the used bookings of `ids` inside `parts` (disjoint, in order), by resource.
async fn booked_seconds(db: &Db, parts: &[Interval], ids: &[i64]) -> Result<Vec<(i64, f64)>, StorageError> {
    let mut binder = Binder::new();
    let values: Vec<String> = parts
        .iter()
        .map(|part| {
            format!(
                "(CAST({} AS TIMESTAMPTZ), CAST({} AS TIMESTAMPTZ))",
                binder.bind(part.start()),
                binder.bind(part.end())
            )
        })
        .collect();
    let ids: Vec<String> = ids.iter().map(|id| binder.bind(*id)).collect();
    let (first, last) = (parts[0].start(), parts[parts.len() - 1].end());
    let sql = format!(
        "WITH parts (ps, pe) AS (VALUES {values})
         SELECT x.resource_id AS resource_id, SUM({end} - {start}) AS booked FROM (
             SELECT r.resource_id,
                    CASE WHEN r.start_time > p.ps THEN r.start_time ELSE p.ps END AS s,
                    CASE WHEN r.end_time < p.pe THEN r.end_time ELSE p.pe END AS e
             FROM reservations r JOIN parts p ON r.start_time < p.pe AND r.end_time > p.ps
             WHERE r.resource_id IN ({ids}) AND r.status IN {USED}
               AND r.end_time > {first} AND r.start_time < {last}
         ) x GROUP BY x.resource_id",
        values = values.join(", "),
        end = db.epoch_seconds_sql("x.e"),
        start = db.epoch_seconds_sql("x.s"),
        ids = ids.join(", "),
        first = binder.bind(first),
        last = binder.bind(last),
    );
    db.query(&sql, binder.into_values())
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.get("resource_id")?,
                row.get::<Option<f64>>("booked")?.unwrap_or(0.0),
            ))
        })
        .collect()
}

/// One row of `/popular-resources`.
#[derive(Debug, Clone, Serialize)]
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
    let window = windows.condition(&mut binder, "r.start_time");
    let sql = format!(
        "SELECT s.id AS resource_id, s.name AS resource_name, COUNT(*) AS n
         FROM reservations r JOIN resources s ON s.id = r.resource_id
         WHERE r.status IN {USED} AND {window}
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
    Ok((
        Span {
            start: windows.earliest(period),
            end: period.now,
        },
        popular,
    ))
}

/// `/peak-times`: used bookings by local hour and weekday of their start.
#[derive(Debug, Clone, Serialize)]
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

#[derive(Debug, Clone, Serialize)]
pub struct HourCount {
    pub hour: u32,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize)]
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
    let window = windows.condition(&mut binder, "r.start_time");
    let bucket = db.epoch_bucket_sql("r.start_time", BUCKET_SECONDS);
    let sql = format!(
        "SELECT s.timezone AS tz, {bucket} AS bucket, COUNT(*) AS n
         FROM reservations r JOIN resources s ON s.id = r.resource_id
         WHERE r.status IN {USED} AND {window}
         GROUP BY s.timezone, {bucket}"
    );
    let mut hours = [0i64; 24];
    let mut days = [0i64; 7];
    for row in db.query(&sql, binder.into_values()).await? {
        let zone = zone_named(&row.get::<String>("tz")?);
        let bucket: i64 = row.get("bucket")?;
        let n: i64 = row.get("n")?;
        let Some(start) = DateTime::from_timestamp(bucket * BUCKET_SECONDS, 0) else {
            continue;
        };
        let local = start.with_timezone(&zone);
        hours[local.hour() as usize] += n;
        days[local.weekday().num_days_from_monday() as usize] += n;
    }
    let (peak_hour, peak_hour_count) = first_peak(&hours);
    let (peak_day, peak_day_count) = first_peak(&days);
    Ok(PeakTimes {
        period: Span {
            start: windows.earliest(period),
            end: period.now,
        },
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
#[derive(Debug, Clone, Serialize)]
pub struct UserPattern {
    pub user_id: i64,
    pub username: String,
    pub total_reservations: i64,
    pub cancelled_count: i64,
    pub cancellation_rate: f64,
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
    let window = windows.condition(&mut binder, "r.created_at");
    let only = user.map_or(String::new(), |id| format!("AND r.user_id = {}", binder.bind(id)));
    let sql = format!(
        "SELECT u.id AS user_id, u.username AS username, COUNT(*) AS total,
                SUM(CASE WHEN r.status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled
         FROM reservations r JOIN resources s ON s.id = r.resource_id JOIN users u ON u.id = r.user_id
         WHERE {window} {only}
         GROUP BY u.id, u.username ORDER BY total DESC, u.id LIMIT {}",
        binder.bind(limit)
    );
    let users = db
        .query(&sql, binder.into_values())
        .await?
        .iter()
        .map(|row| {
            let total: i64 = row.get("total")?;
            let cancelled = row.get::<Option<i64>>("cancelled")?.unwrap_or(0);
            Ok(UserPattern {
                user_id: row.get("user_id")?,
                username: row.get("username")?,
                total_reservations: total,
                cancelled_count: cancelled,
                cancellation_rate: rate(cancelled, total),
            })
        })
        .collect::<Result<_, StorageError>>()?;
    Ok((
        Span {
            start: windows.earliest(period),
            end: period.now,
        },
        users,
    ))
}

/// The `overview` of `/dashboard`.
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub period: Span,
    pub overview: Overview,
    pub top_resources: Vec<Popular>,
    pub peak_times: Peaks,
}

#[derive(Debug, Clone, Serialize)]
pub struct Peaks {
    pub peak_hour: u32,
    pub peak_day: &'static str,
}

pub async fn dashboard(db: &Db, period: Period) -> Result<Dashboard, StorageError> {
    let windows = ZoneWindows::load(db, period).await?;
    let mut binder = Binder::new();
    let window = windows.condition(&mut binder, "r.created_at");
    let sql = format!(
        "SELECT COUNT(*) AS total,
                SUM(CASE WHEN r.status = 'active' THEN 1 ELSE 0 END) AS active,
                SUM(CASE WHEN r.status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled
         FROM reservations r JOIN resources s ON s.id = r.resource_id WHERE {window}"
    );
    let counts = db.query_one(&sql, binder.into_values()).await?;
    let total: i64 = counts.get("total")?;
    let active = counts.get::<Option<i64>>("active")?.unwrap_or(0);
    let cancelled = counts.get::<Option<i64>>("cancelled")?.unwrap_or(0);
    let total_resources: i64 = db
        .query_one("SELECT COUNT(*) AS n FROM resources", vec![])
        .await?
        .get("n")?;
    let total_users: i64 = db
        .query_one("SELECT COUNT(*) AS n FROM users", vec![])
        .await?
        .get("n")?;
    let (_, utilisation) = utilisation(db, period, None).await?;
    let average = if utilisation.is_empty() {
        0.0
    } else {
        round2(utilisation.iter().map(|u| u.utilization_percent).sum::<f64>() / utilisation.len() as f64)
    };
    let (_, top) = popular(db, period, 5).await?;
    let peaks = peak_times(db, period).await?;
    Ok(Dashboard {
        period: Span {
            start: windows.earliest(period),
            end: period.now,
        },
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

/// One row of the reservations export.
#[derive(Debug, Clone)]
pub struct ExportedReservation {
    pub id: i64,
    pub resource_name: String,
    pub username: String,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// The bookings created in their resource's window (of `user` only, when given), oldest first,
/// at most [`EXPORT_LIMIT`].
pub async fn reservations_created(
    db: &Db,
    period: Period,
    user: Option<i64>,
) -> Result<Vec<ExportedReservation>, StorageError> {
    let windows = ZoneWindows::load(db, period).await?;
    let mut binder = Binder::new();
    let window = windows.condition(&mut binder, "r.created_at");
    let only = user.map_or(String::new(), |id| format!("AND r.user_id = {}", binder.bind(id)));
    let sql = format!(
        "SELECT r.id AS id, s.name AS resource_name, u.username AS username, r.start_time AS start_time,
                r.end_time AS end_time, r.status AS status, r.created_at AS created_at
         FROM reservations r JOIN resources s ON s.id = r.resource_id JOIN users u ON u.id = r.user_id
         WHERE {window} {only} ORDER BY r.created_at, r.id LIMIT {EXPORT_LIMIT}"
    );
    db.query(&sql, binder.into_values())
        .await?
        .iter()
        .map(|row| {
            Ok(ExportedReservation {
                id: row.get("id")?,
                resource_name: row.get("resource_name")?,
                username: row.get("username")?,
                start_time: row.get("start_time")?,
                end_time: row.get("end_time")?,
                status: row.get("status")?,
                created_at: row.get("created_at")?,
            })
        })
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
