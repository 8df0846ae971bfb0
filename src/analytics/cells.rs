//! Booked time inside open time, per local weekday-hour ("cell"), from the rollup: what
//! utilisation (summed) and the heatmap (per cell) are made of.
//!
//! The open time of a group of resources (one zone, one set of opening hours) is cut along the
//! UTC hours ([`OpenTime::cut`]): the whole hours are read from the rollup, grouped by each
//! run's UTC offset (a DST change is a new run): the whole UTC days inside a run from
//! `analytics_resource_days` (summed per weekday by the database, each hour column put in its
//! cell here), the hours left at a run's ends from `analytics_resource_hours` (grouped into
//! cells by the database); and the parts of hours (the window's ends, opening hours that do not
//! start on the hour) from the reservations that overlap them, found through
//! `(resource_id, start_time)` from the part's start minus the resource's longest booking. So the sum over the cells is
//! exactly the booked open time, whatever the hours; only in zones whose offset is not a whole
//! number of hours is a whole UTC hour put in the one cell its start falls in.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use reserver_actors::domain::Interval;

use super::rollup::HOUR_US;
use crate::storage::{Binder, Db, Row, StorageError};

/// Cells in a week: `weekday (Monday 0) × 24 + local hour`.
pub const CELLS: usize = 7 * 24;

/// Seconds per cell.
pub type Cells = [f64; CELLS];

/// The cell of an instant on `zone`'s clock.
fn cell_of(zone: Tz, time: DateTime<Utc>) -> usize {
    let local = time.with_timezone(&zone);
    local.weekday().num_days_from_monday() as usize * 24 + local.hour() as usize
}

/// How finely [`OpenTime::booked`] places booked time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Each second in the cell of its local weekday-hour (the heatmap).
    Cells,
    /// Only each resource's sum is wanted (utilisation): the whole days, most of a long window,
    /// are read as one total per resource (`booked_us`, not the 24 hour columns), which is put
    /// in [`TOTAL_CELL`]. Summed over the cells, the answer equals that of [`Detail::Cells`].
    Total,
}

/// Where [`Detail::Total`] puts the booked time of whole days.
pub const TOTAL_CELL: usize = 0;

/// Whole UTC hours `[first, end)` read on one UTC offset (seconds east).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Run {
    first: i64,
    end: i64,
    offset: i64,
}

/// The open time of a group of resources, cut for the rollup.
#[derive(Debug, Clone)]
pub struct OpenTime {
    runs: Vec<Run>,
    /// Parts of hours, each inside one UTC hour, with its cell.
    pieces: Vec<(Interval, usize)>,
    /// Open seconds per cell.
    pub open: Cells,
}

impl OpenTime {
    /// Cuts `parts` (disjoint, in order) of a resource in `zone`.
    pub fn cut(zone: Tz, parts: impl Iterator<Item = Interval>) -> OpenTime {
        let mut cut = OpenTime {
            runs: Vec::new(),
            pieces: Vec::new(),
            open: [0.0; CELLS],
        };
        for part in parts {
            // Whole microseconds, the rollup's unit: every step moves `micros` forward (an end
            // with nanoseconds, such as the current instant, is cut at its microsecond; stepping
            // by instants would then make a step of zero and never end).
            let (mut micros, end) = (part.start().timestamp_micros(), part.end().timestamp_micros());
            while micros < end {
                let next = ((micros.div_euclid(HOUR_US) + 1) * HOUR_US).min(end);
                let (Some(at), Some(to)) = (
                    DateTime::from_timestamp_micros(micros),
                    DateTime::from_timestamp_micros(next),
                ) else {
                    break;
                };
                let cell = cell_of(zone, at);
                cut.open[cell] += (next - micros) as f64 / 1e6;
                if micros.rem_euclid(HOUR_US) == 0 && next - micros == HOUR_US {
                    let offset = i64::from(zone.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc());
                    cut.whole_hour(micros / HOUR_US, offset);
                } else if let Ok(piece) = Interval::new(at, to) {
                    cut.pieces.push((piece, cell));
                }
                micros = next;
            }
        }
        cut
    }

    fn whole_hour(&mut self, hour: i64, offset: i64) {
        match self.runs.last_mut() {
            Some(run) if run.end == hour && run.offset == offset => run.end += 1,
            _ => self.runs.push(Run {
                first: hour,
                end: hour + 1,
                offset,
            }),
        }
    }

    /// Booked seconds of the used bookings of `ids` inside this open time, per resource and cell.
    pub async fn booked(&self, db: &Db, ids: &[i64], detail: Detail) -> Result<HashMap<i64, Cells>, StorageError> {
        let mut booked: HashMap<i64, Cells> = HashMap::new();
        if ids.is_empty() {
            return Ok(booked);
        }
        let (whole, parts) = futures::try_join!(self.whole_hours(db, ids, detail), self.parts_of_hours(db, ids))?;
        for (resource, cell, seconds) in whole.into_iter().chain(parts) {
            booked.entry(resource).or_insert([0.0; CELLS])[cell] += seconds;
        }
        Ok(booked)
    }

    /// The whole hours of the runs, split into the whole UTC days inside a run (read from
    /// `analytics_resource_days`: a row per day, not 24) and the hours left at the runs' ends
    /// (read from `analytics_resource_hours`): `(hours, days)`, days as `(run, first, end)`.
    fn split(&self) -> (Vec<Run>, Vec<(usize, i64, i64)>) {
        let (mut hours, mut days) = (Vec::new(), Vec::new());
        for (k, run) in self.runs.iter().enumerate() {
            let (first_day, end_day) = ((run.first + 23).div_euclid(24), run.end.div_euclid(24));
            if first_day >= end_day {
                hours.push(*run);
                continue;
            }
            days.push((k, first_day, end_day));
            for (first, end) in [(run.first, first_day * 24), (end_day * 24, run.end)] {
                if first < end {
                    hours.push(Run { first, end, ..*run });
                }
            }
        }
        (hours, days)
    }

    async fn whole_hours(&self, db: &Db, ids: &[i64], detail: Detail) -> Result<Vec<(i64, usize, f64)>, StorageError> {
        let (hours, days) = self.split();
        let (mut booked, by_day) = match detail {
            Detail::Cells => futures::try_join!(Self::hour_rows(db, &hours, ids), self.day_rows(db, &days, ids))?,
            Detail::Total => futures::try_join!(Self::hour_rows(db, &hours, ids), Self::day_totals(db, &days, ids))?,
        };
        booked.extend(by_day);
        Ok(booked)
    }

    /// Booked seconds per resource over whole days of the runs, as one total each (in
    /// [`TOTAL_CELL`]).
    async fn day_totals(
        db: &Db,
        days: &[(usize, i64, i64)],
        ids: &[i64],
    ) -> Result<Vec<(i64, usize, f64)>, StorageError> {
        let select = "d.resource_id AS resource_id, CAST(SUM(d.booked_us) AS BIGINT) AS booked";
        day_query(db, days, ids, select, "d.resource_id")
            .await?
            .iter()
            .map(|row| {
                let micros: i64 = row.get("booked")?;
                Ok((row.get("resource_id")?, TOTAL_CELL, micros as f64 / 1e6))
            })
            .collect()
    }

    /// Booked seconds per resource and cell over whole days of the runs: the rows are summed
    /// by weekday (of the UTC day) within a run, and each of the 24 hour columns is put in its
    /// cell by the run's offset.
    async fn day_rows(
        &self,
        db: &Db,
        days: &[(usize, i64, i64)],
        ids: &[i64],
    ) -> Result<Vec<(i64, usize, f64)>, StorageError> {
        let sums: Vec<String> = (0..24)
            .map(|h| format!("CAST(SUM(d.b{h}) AS BIGINT) AS b{h}"))
            .collect();
        // The epoch's day 0 was a Thursday: (day + 3) % 7 is the weekday, Monday 0.
        let select = format!(
            "d.resource_id AS resource_id, w.k AS k, (d.day + 3) % 7 AS weekday, {}",
            sums.join(", ")
        );
        let mut booked = Vec::new();
        for row in day_query(db, days, ids, &select, "d.resource_id, w.k, (d.day + 3) % 7").await? {
            let resource: i64 = row.get("resource_id")?;
            let k: i64 = row.get("k")?;
            let weekday: i64 = row.get("weekday")?;
            let offset = self.runs.get(k as usize).map_or(0, |run| run.offset);
            // A day of that weekday, a week after the epoch so that no offset makes it negative.
            let day = (weekday + 4) % 7 + 7;
            for h in 0..24 {
                let micros: i64 = row.get(format!("b{h}").as_str())?;
                if micros != 0 {
                    let local = (day * 24 + h) * 3600 + offset;
                    let cell = (local.div_euclid(86_400) + 3) % 7 * 24 + local.rem_euclid(86_400) / 3600;
                    booked.push((resource, cell as usize % CELLS, micros as f64 / 1e6));
                }
            }
        }
        Ok(booked)
    }

    async fn hour_rows(db: &Db, runs: &[Run], ids: &[i64]) -> Result<Vec<(i64, usize, f64)>, StorageError> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let mut binder = Binder::new();
        let runs: Vec<String> = runs
            .iter()
            .map(|run| {
                format!(
                    "(CAST({} AS BIGINT), CAST({} AS BIGINT), CAST({} AS BIGINT))",
                    binder.bind(run.first),
                    binder.bind(run.end),
                    binder.bind(run.offset)
                )
            })
            .collect();
        let ids: Vec<String> = ids.iter().map(|id| binder.bind(*id)).collect();
        // Local seconds since the epoch of the hour's start, then weekday (the epoch was a
        // Thursday) and hour.
        let local = "(h.hour * 3600 + w.off)";
        let sql = format!(
            "WITH w (a, b, off) AS (VALUES {runs})
             SELECT h.resource_id AS resource_id,
                    (({local} / 86400 + 3) % 7) * 24 + ({local} % 86400) / 3600 AS cell,
                    CAST(SUM(h.booked_us) AS BIGINT) AS booked
             FROM w JOIN analytics_resource_hours h ON h.hour >= w.a AND h.hour < w.b
             WHERE h.resource_id IN ({ids}) AND h.booked_us > 0
             GROUP BY h.resource_id, cell",
            runs = runs.join(", "),
            ids = ids.join(", "),
        );
        db.query(&sql, binder.into_values())
            .await?
            .iter()
            .map(|row| {
                let cell: i64 = row.get("cell")?;
                let micros: i64 = row.get("booked")?;
                Ok((row.get("resource_id")?, (cell as usize) % CELLS, micros as f64 / 1e6))
            })
            .collect()
    }

    async fn parts_of_hours(&self, db: &Db, ids: &[i64]) -> Result<Vec<(i64, usize, f64)>, StorageError> {
        if self.pieces.is_empty() {
            return Ok(Vec::new());
        }
        let mut binder = Binder::new();
        let marks: Vec<String> = ids.iter().map(|id| binder.bind(*id)).collect();
        let longest = db
            .query_one(
                &format!(
                    "SELECT MAX(longest_us) AS longest FROM analytics_longest WHERE resource_id IN ({})",
                    marks.join(", ")
                ),
                binder.into_values(),
            )
            .await?
            .get::<Option<i64>>("longest")?;
        let Some(longest) = longest else {
            return Ok(Vec::new());
        };
        let mut binder = Binder::new();
        let pieces: Vec<String> = self
            .pieces
            .iter()
            .enumerate()
            .map(|(k, (piece, _))| {
                format!(
                    "(CAST({} AS BIGINT), CAST({} AS TIMESTAMPTZ), CAST({} AS TIMESTAMPTZ), CAST({} AS TIMESTAMPTZ))",
                    binder.bind(k as i64),
                    binder.bind(piece.start() - Duration::microseconds(longest)),
                    binder.bind(piece.start()),
                    binder.bind(piece.end())
                )
            })
            .collect();
        let ids: Vec<String> = ids.iter().map(|id| binder.bind(*id)).collect();
        let sql = format!(
            "WITH p (k, lo, ps, pe) AS (VALUES {pieces})
             SELECT x.resource_id AS resource_id, x.k AS k, SUM({end} - {start}) AS booked FROM (
                 SELECT r.resource_id, p.k,
                        CASE WHEN r.start_time > p.ps THEN r.start_time ELSE p.ps END AS s,
                        CASE WHEN r.end_time < p.pe THEN r.end_time ELSE p.pe END AS e
                 FROM p JOIN reservations r ON r.resource_id IN ({ids}) AND r.start_time >= p.lo
                      AND r.start_time < p.pe AND r.end_time > p.ps
                 WHERE r.status IN ('active', 'expired')
             ) x GROUP BY x.resource_id, x.k",
            pieces = pieces.join(", "),
            ids = ids.join(", "),
            end = db.epoch_seconds_sql("x.e"),
            start = db.epoch_seconds_sql("x.s"),
        );
        db.query(&sql, binder.into_values())
            .await?
            .iter()
            .map(|row| {
                let k: i64 = row.get("k")?;
                let cell = self.pieces.get(k as usize).map_or(0, |(_, cell)| *cell);
                Ok((
                    row.get("resource_id")?,
                    cell,
                    row.get::<Option<f64>>("booked")?.unwrap_or(0.0),
                ))
            })
            .collect()
    }
}

/// The bound values of `days` (`(run, first day, end day)`) as the rows of `VALUES` for
/// `w (k, a, b)`, and of `ids` as an `IN` list.
/// `SELECT {select}` over the daily rows of `ids` with booked time in the runs' whole `days`
/// (`w.k` is a row's run), grouped by `group_by`; no statement when there are no such days.
async fn day_query(
    db: &Db,
    days: &[(usize, i64, i64)],
    ids: &[i64],
    select: &str,
    group_by: &str,
) -> Result<Vec<Row>, StorageError> {
    if days.is_empty() {
        return Ok(Vec::new());
    }
    let (binder, ranges, ids) = day_ranges(days, ids);
    let sql = format!(
        "WITH w (k, a, b) AS (VALUES {ranges})
         SELECT {select}
         FROM w JOIN analytics_resource_days d ON d.day >= w.a AND d.day < w.b
         WHERE d.resource_id IN ({ids}) AND d.booked_us > 0
         GROUP BY {group_by}"
    );
    db.query(&sql, binder.into_values()).await
}

fn day_ranges(days: &[(usize, i64, i64)], ids: &[i64]) -> (Binder, String, String) {
    let mut binder = Binder::new();
    let ranges: Vec<String> = days
        .iter()
        .map(|(k, first, end)| {
            format!(
                "(CAST({} AS BIGINT), CAST({} AS BIGINT), CAST({} AS BIGINT))",
                binder.bind(*k as i64),
                binder.bind(*first),
                binder.bind(*end)
            )
        })
        .collect();
    let ids: Vec<String> = ids.iter().map(|id| binder.bind(*id)).collect();
    (binder, ranges.join(", "), ids.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn open_time_is_cut_into_whole_hours_per_offset_and_parts_of_hours() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // Saturday 2030-03-30 23:30 UTC to Sunday 01:20 UTC: Berlin springs forward at 01:00 UTC.
        let part = Interval::new(at("2030-03-30T23:30:00Z"), at("2030-03-31T02:20:00Z")).unwrap();
        let cut = OpenTime::cut(berlin, std::iter::once(part));
        let hour = at("2030-03-31T00:00:00Z").timestamp() / 3600;
        assert_eq!(
            cut.runs,
            vec![
                Run {
                    first: hour,
                    end: hour + 1,
                    offset: 3600
                },
                Run {
                    first: hour + 1,
                    end: hour + 2,
                    offset: 7200
                },
            ]
        );
        assert_eq!(cut.pieces.len(), 2);
        // The first piece is Sunday 00:30–01:00 CET.
        assert_eq!(cut.pieces[0].1, 6 * 24);
        assert_eq!(cut.open.iter().sum::<f64>(), 2.0 * 3600.0 + 50.0 * 60.0);
        // Sunday 01:00 CET, then 03:00 CEST (02:00 never happened), then 04:00 CEST.
        assert_eq!(cut.open[6 * 24 + 1], 3600.0);
        assert_eq!(cut.open[6 * 24 + 3], 3600.0);
        assert_eq!(cut.open[6 * 24 + 4], 20.0 * 60.0);
    }

    /// The open time up to *now* ends at an instant with nanoseconds: the cut ends (it once
    /// looped for ever on its last microsecond, so the analytics over the current day hung).
    #[test]
    fn an_end_with_nanoseconds_is_cut_at_its_microsecond() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let end = at("2030-04-03T10:20:00Z") + Duration::nanoseconds(1_500);
        let part = Interval::new(at("2030-04-03T08:00:00Z"), end).unwrap();
        let cut = OpenTime::cut(paris, std::iter::once(part));
        let open: f64 = cut.open.iter().sum();
        assert!((open - (2.0 * 3600.0 + 20.0 * 60.0 + 0.000_001)).abs() < 1e-7, "{open}");
        assert_eq!(cut.runs.len(), 1);
        assert_eq!(cut.pieces.len(), 1);
    }
}
