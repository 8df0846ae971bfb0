//! `POST /api/v1/reservations/recurring`: a booking repeated daily, weekly or monthly, in the
//! `/api/v1` wire format, expanded by the resource's actor in the resource's time zone.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use reserver_actors::domain::Frequency;
use reserver_actors::resource::store::SeriesRecord;
use reserver_actors::resource::{BookSeries, SeriesUntil};
use serde::Deserialize;
use serde_json::json;

use super::idempotency::key_of;
use super::reservations::{send_to_named_resource, slot};
use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::{Permission, Principal};
use crate::error::ApiError;
use crate::http::Json;
use crate::reservations::model::ReservationOut;
use crate::scheduling::user_ref;
use crate::state::AppState;
use crate::wire::bounded::Bounded;
use crate::wire::time::OutputZone;
use crate::wire::time::WireTime;

pub fn declare(table: &mut RouteTable) {
    let access = Access::Permission(Permission::ReservationCreate);
    table.route(
        Method::POST,
        "/api/v1/reservations/recurring",
        access,
        &[],
        create_series,
    );
}

#[derive(Deserialize, utoipa::ToSchema)]
struct NewSeries {
    resource_id: i64,
    start_time: WireTime,
    end_time: WireTime,
    recurrence: Recurrence,
    #[serde(default)]
    skip_conflicts: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum FrequencyName {
    Daily,
    Weekly,
    Monthly,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum EndType {
    Never,
    OnDate,
    AfterCount,
}

/// Weekday numbers, 0 (Monday) to 6 (an alias: the schema derive reads no const argument).
type Weekdays = Bounded<u8, 7>;

/// The recurrence object.
#[derive(Deserialize, utoipa::ToSchema)]
struct Recurrence {
    frequency: FrequencyName,
    #[serde(default = "one")]
    interval: u32,
    #[serde(default)]
    #[schema(inline)]
    days_of_week: Weekdays,
    #[serde(default = "after_count")]
    end_type: EndType,
    end_date: Option<String>,
    occurrence_count: Option<u32>,
}

fn one() -> u32 {
    1
}

fn after_count() -> EndType {
    EndType::AfterCount
}

/// Weekday numbers as the wire format has them: 0 is Monday, 6 is Sunday.
fn weekday(number: u8) -> Result<chrono::Weekday, ApiError> {
    chrono::Weekday::try_from(number).map_err(|_| {
        ApiError::invalid(
            &["body", "recurrence", "days_of_week"],
            "days_of_week must be between 0 (Mon) and 6 (Sun)",
            number,
        )
    })
}

/// The end of the series: a count (default 5), a date or date-time, or never.
fn series_until(recurrence: &Recurrence) -> Result<SeriesUntil, ApiError> {
    match recurrence.end_type {
        EndType::AfterCount => Ok(SeriesUntil::Count(recurrence.occurrence_count.unwrap_or(5))),
        EndType::Never => Ok(SeriesUntil::Never),
        EndType::OnDate => {
            let raw = recurrence.end_date.as_deref().ok_or_else(|| {
                ApiError::invalid(
                    &["body", "recurrence", "end_date"],
                    "end_date is required when end_type is on_date",
                    (),
                )
            })?;
            if let Ok(date) = chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
                return Ok(SeriesUntil::Date(date));
            }
            crate::wire::time::parse(raw).map(SeriesUntil::Instant).ok_or_else(|| {
                ApiError::invalid(
                    &["body", "recurrence", "end_date"],
                    "Input should be a valid date or datetime",
                    raw,
                )
            })
        }
    }
}

/// `POST /api/v1/reservations/recurring`: a series, all or nothing, or with `skip_conflicts` the
/// free occurrences and a report of the others.
async fn create_series(
    state: web::Data<AppState>,
    principal: Principal,
    zone: OutputZone,
    req: actix_web::HttpRequest,
    Json(new): Json<NewSeries>,
) -> Result<HttpResponse, ApiError> {
    let first = slot(new.start_time, new.end_time)?;
    let recurrence = &new.recurrence;
    let weekdays = recurrence
        .days_of_week
        .iter()
        .map(|n| weekday(*n))
        .collect::<Result<Vec<_>, _>>()?;
    let until = series_until(recurrence)?;
    let (frequency, frequency_name) = match recurrence.frequency {
        FrequencyName::Daily => (Frequency::Daily, "daily"),
        FrequencyName::Weekly => (Frequency::Weekly, "weekly"),
        FrequencyName::Monthly => (Frequency::Monthly, "monthly"),
    };
    let (end_type, end_date, occurrence_count) = match until {
        SeriesUntil::Count(count) => ("after_count", None, Some(count)),
        SeriesUntil::Date(date) => ("on_date", date.and_hms_opt(23, 59, 59).map(|t| t.and_utc()), None),
        SeriesUntil::Instant(instant) => ("on_date", Some(instant), None),
        SeriesUntil::Never => ("never", None, None),
    };
    let record = SeriesRecord {
        frequency: frequency_name.into(),
        interval: recurrence.interval,
        days_of_week: recurrence.days_of_week.iter().map(|d| u32::from(*d)).collect(),
        end_type: end_type.into(),
        end_date,
        occurrence_count,
    };
    let message = BookSeries {
        user: user_ref(&principal),
        first,
        frequency,
        interval: recurrence.interval,
        weekdays,
        until,
        record,
        skip_conflicts: new.skip_conflicts,
        idempotency_key: key_of(&req),
    };
    let series = send_to_named_resource(&state, new.resource_id, message).await?;
    let created = ReservationOut::from_booked(&series.booked, zone, state.clock.now());
    if !new.skip_conflicts {
        return Ok(HttpResponse::Created().json(created));
    }
    let skipped: Vec<_> = series
        .skipped
        .iter()
        .map(|refused| {
            json!({
                "start_time": zone.format(refused.interval.start()),
                "end_time": zone.format(refused.interval.end()),
                "reason": refused.reason.as_str(),
            })
        })
        .collect();
    Ok(HttpResponse::Created().json(json!({ "created": created, "skipped": skipped })))
}
