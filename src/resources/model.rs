//! The resource as the API shows it (`ResourceOut`), and its live status.
//!
//! The live status (`available`, `in_use`, `unavailable`) is derived from the data at "now" on
//! every read and never stored, so it cannot go stale.

use chrono::{DateTime, Utc};
use reserver_actors::resource::{ResourceInfo, ScheduleSnapshot};
use serde::Serialize;

use crate::auth::booking_names::Viewer;
use crate::labels::LabelRef;

/// `available` when bookable now, `in_use` while a booking is in progress, `unavailable` under
/// maintenance. Derived from the data at `now`, never stored, so it is never stale.
pub fn live_status(resource: &ResourceInfo, in_use: bool, now: DateTime<Utc>) -> &'static str {
    if resource.maintenance_at(now).is_some() {
        "unavailable"
    } else if in_use {
        "in_use"
    } else {
        "available"
    }
}

/// The schema of a [`live_status`], for `#[schema(schema_with = …)]` on fields that hold one.
pub fn live_status_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["available", "in_use", "unavailable"]))
        .build()
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResourceOut {
    pub id: i64,
    pub name: String,
    #[schema(required)]
    pub description: Option<String>,
    pub available: bool,
    #[schema(required)]
    pub current_availability: Option<bool>,
    #[schema(schema_with = live_status_schema)]
    pub status: &'static str,
    #[schema(required)]
    pub current_user_name: Option<String>,
    pub tags: Vec<String>,
    pub timezone: &'static str,
    pub requires_approval: bool,
    #[schema(required)]
    pub checkin_window_minutes: Option<i64>,
    /// The resource's labels, in lists, searches and `GET /resources/{id}` (absent where the
    /// answer is made from the actor's data alone: create, update, embedded resources).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<LabelRef>>,
}

impl ResourceOut {
    /// As embedded in other objects and in create/update answers: `current_availability` and
    /// `current_user_name` are null.
    pub fn embedded(resource: &ResourceInfo, status: &'static str) -> ResourceOut {
        ResourceOut {
            id: resource.id,
            name: resource.name.clone(),
            description: resource.description.clone(),
            available: resource.enabled,
            current_availability: None,
            status,
            current_user_name: None,
            tags: resource.tags.clone(),
            timezone: resource.timezone.name(),
            requires_approval: resource.requires_approval,
            checkin_window_minutes: resource.checkin_window.map(|w| w.num_minutes()),
            labels: None,
        }
    }

    /// From an actor's snapshot, with the live status at `now`.
    pub fn from_snapshot(snapshot: &ScheduleSnapshot, now: DateTime<Utc>) -> ResourceOut {
        let status = live_status(&snapshot.resource, snapshot.current(now).is_some(), now);
        ResourceOut::embedded(&snapshot.resource, status)
    }

    /// As listed and searched: with `current_availability` (enabled, free and `open` now by its
    /// opening hours), and the current user while in use, if `viewer` may see that name.
    pub fn listed(
        resource: &ResourceInfo,
        current_user: Option<String>,
        open: bool,
        now: DateTime<Utc>,
        viewer: &Viewer,
    ) -> ResourceOut {
        let status = live_status(resource, current_user.is_some(), now);
        ResourceOut {
            current_availability: Some(resource.enabled && status == "available" && open),
            current_user_name: current_user.filter(|name| status == "in_use" && viewer.sees_named(name)),
            ..ResourceOut::embedded(resource, status)
        }
    }
}
