//! An in-memory `ScheduleStore` for the actor tests. It deliberately does NOT refuse
//! overlapping bookings (unlike the real databases), and every write takes a few milliseconds,
//! so any interleaving of two requests inside an actor would show up as a double booking.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use reserver_actors::domain::Interval;
use reserver_actors::resource::store::{
    Cancellation, LoadedResource, NewBookings, ResourcePatch, StoreResult, StoredBooking,
};
use reserver_actors::resource::{Booking, ReservationId, ResourceId, ResourceInfo, ScheduleStore, StoreError, UserId};

#[derive(Debug, Clone)]
pub struct Row {
    pub booking: Booking,
    pub status: &'static str,
}

#[derive(Default)]
pub struct Data {
    pub resources: Vec<ResourceInfo>,
    pub rows: Vec<Row>,
    pub next_id: i64,
    /// Writes in progress right now, and the most ever seen at once.
    pub in_flight: usize,
    pub max_in_flight: usize,
}

#[derive(Clone, Default)]
pub struct MemoryStore {
    pub data: Arc<Mutex<Data>>,
    pub write_delay: Duration,
}

impl MemoryStore {
    pub fn with_resource(id: ResourceId, write_delay: Duration) -> MemoryStore {
        let store = MemoryStore {
            data: Arc::default(),
            write_delay,
        };
        store.data.lock().unwrap().resources.push(ResourceInfo {
            id,
            name: format!("Resource {id}"),
            description: None,
            tags: Vec::new(),
            enabled: true,
            maintenance: None,
            timezone: Tz::UTC,
            created_at: DateTime::UNIX_EPOCH,
        });
        store
    }

    pub fn active(&self) -> Vec<Booking> {
        self.data
            .lock()
            .unwrap()
            .rows
            .iter()
            .filter(|r| r.status == "active")
            .map(|r| r.booking.clone())
            .collect()
    }

    pub fn status_of(&self, id: ReservationId) -> Option<&'static str> {
        self.data
            .lock()
            .unwrap()
            .rows
            .iter()
            .find(|r| r.booking.id == id)
            .map(|r| r.status)
    }

    /// Runs `change` as a slow write, tracking how many writes overlap in time.
    fn write<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut Data) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreResult<T> {
        let (data, delay) = (self.data.clone(), self.write_delay);
        Box::pin(async move {
            {
                let mut d = data.lock().unwrap();
                d.in_flight += 1;
                d.max_in_flight = d.max_in_flight.max(d.in_flight);
            }
            tokio::time::sleep(delay).await;
            let mut d = data.lock().unwrap();
            d.in_flight -= 1;
            change(&mut d)
        })
    }

    fn set_status(&self, ids: Vec<ReservationId>, status: &'static str) -> StoreResult<()> {
        self.write(move |d| {
            for row in d.rows.iter_mut().filter(|r| ids.contains(&r.booking.id)) {
                row.status = status;
            }
            Ok(())
        })
    }
}

impl ScheduleStore for MemoryStore {
    fn load(&self, resource: ResourceId) -> StoreResult<Option<LoadedResource>> {
        let data = self.data.clone();
        Box::pin(async move {
            let d = data.lock().unwrap();
            Ok(d.resources
                .iter()
                .find(|r| r.id == resource)
                .map(|info| LoadedResource {
                    info: info.clone(),
                    bookings: d
                        .rows
                        .iter()
                        .filter(|r| r.status == "active")
                        .map(|r| r.booking.clone())
                        .collect(),
                }))
        })
    }

    fn insert_bookings(&self, new: NewBookings) -> StoreResult<Vec<StoredBooking>> {
        self.write(move |d| {
            let mut stored = Vec::new();
            for interval in new.intervals {
                d.next_id += 1;
                let booking = Booking {
                    id: d.next_id,
                    user: new.user.clone(),
                    interval,
                    created_at: new.now,
                    series: None,
                };
                d.rows.push(Row {
                    booking,
                    status: "active",
                });
                stored.push(StoredBooking {
                    id: d.next_id,
                    created_at: new.now,
                    series: None,
                });
            }
            Ok(stored)
        })
    }

    fn cancel_bookings(&self, cancellation: Cancellation) -> StoreResult<()> {
        self.set_status(cancellation.reservations, "cancelled")
    }

    fn reschedule(
        &self,
        reservation: ReservationId,
        _by: UserId,
        to: Interval,
        _now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(move |d| {
            for row in d.rows.iter_mut().filter(|r| r.booking.id == reservation) {
                row.booking.interval = to;
            }
            Ok(())
        })
    }

    fn expire_bookings(
        &self,
        _resource: ResourceId,
        reservations: Vec<ReservationId>,
        _now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.set_status(reservations, "expired")
    }

    fn update_resource(
        &self,
        resource: ResourceId,
        patch: ResourcePatch,
        _now: DateTime<Utc>,
    ) -> StoreResult<ResourceInfo> {
        self.write(move |d| {
            let info = d
                .resources
                .iter_mut()
                .find(|r| r.id == resource)
                .ok_or(StoreError::Other("gone".into()))?;
            if let Some(enabled) = patch.enabled {
                info.enabled = enabled;
            }
            if let Some(maintenance) = patch.maintenance {
                info.maintenance = maintenance;
            }
            Ok(info.clone())
        })
    }

    fn delete_resource(&self, cancellation: Cancellation) -> StoreResult<()> {
        let resource = cancellation.resource;
        self.write(move |d| {
            d.resources.retain(|r| r.id != resource);
            Ok(())
        })
    }

    fn pending_deadlines(&self) -> StoreResult<Vec<(ResourceId, DateTime<Utc>)>> {
        let data = self.data.clone();
        Box::pin(async move {
            let d = data.lock().unwrap();
            let mut deadlines: Vec<(ResourceId, DateTime<Utc>)> = Vec::new();
            for resource in &d.resources {
                let next = d
                    .rows
                    .iter()
                    .filter(|r| r.status == "active")
                    .map(|r| r.booking.interval.end())
                    .min();
                deadlines.extend(next.map(|at| (resource.id, at)));
            }
            Ok(deadlines)
        })
    }
}
