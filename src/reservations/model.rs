//! The reservation as the API shows it (`ReservationOut`), its times in the zone the client chose
//! ([`OutputZone`]).

use chrono::{DateTime, Utc};
use reserver_actors::resource::{Booked, Booking, ReservationStatus};
use serde::Serialize;

use crate::resources::model::ResourceOut;
use crate::wire::time::OutputZone;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReservationOut {
    pub id: i64,
    pub user_id: i64,
    pub resource_id: i64,
    pub resource: ResourceOut,
    #[schema(format = DateTime)]
    pub start_time: String,
    #[schema(format = DateTime)]
    pub end_time: String,
    #[schema(schema_with = status_schema)]
    pub status: ReservationStatus,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(required, format = DateTime)]
    pub cancelled_at: Option<String>,
    #[schema(required)]
    pub cancellation_reason: Option<String>,
    #[schema(required)]
    pub recurrence_rule_id: Option<i64>,
    #[schema(required)]
    pub parent_reservation_id: Option<i64>,
    pub is_recurring_instance: bool,
}

/// The schema of a reservation's `status`: the statuses `reserver_actors` knows, as it spells
/// them (its crate derives no schemas).
fn status_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(ReservationStatus::ALL.map(ReservationStatus::as_str)))
        .build()
}

impl ReservationOut {
    /// A booking the actor holds (active, pending approval or held).
    pub fn from_booking(booking: &Booking, resource: ResourceOut, zone: OutputZone) -> ReservationOut {
        ReservationOut {
            id: booking.id,
            user_id: booking.user.id,
            resource_id: resource.id,
            resource,
            start_time: zone.format(booking.interval.start()),
            end_time: zone.format(booking.interval.end()),
            status: booking.status.into(),
            created_at: zone.format(booking.created_at),
            cancelled_at: None,
            cancellation_reason: None,
            recurrence_rule_id: booking.series.map(|s| s.rule_id),
            parent_reservation_id: booking.series.and_then(|s| s.parent),
            is_recurring_instance: booking.series.is_some_and(|s| s.parent.is_some()),
        }
    }
}

impl ReservationOut {
    /// What an actor booked, as the API shows it, with the resource's status at `now`.
    pub fn from_booked(booked: &Booked, zone: OutputZone, now: DateTime<Utc>) -> Vec<ReservationOut> {
        booked
            .bookings
            .iter()
            .map(|booking| {
                let in_use = booking.interval.contains(now);
                let status = crate::resources::model::live_status(&booked.resource, in_use, now);
                ReservationOut::from_booking(booking, ResourceOut::embedded(&booked.resource, status), zone)
            })
            .collect()
    }
}
