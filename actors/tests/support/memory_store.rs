//! An in-memory `ScheduleStore` for the actor tests. It deliberately does NOT refuse
//! overlapping bookings (unlike the real databases), and every batch takes a few milliseconds,
//! so any interleaving of two requests inside an actor would show up as a double booking.
//! It keeps one waitlist, which every resource loads, and can refuse every batch that offers a
//! slot (as the database refuses an offer another process made first).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use reserver_actors::domain::OpeningHours;
use reserver_actors::resource::store::{Applied, Change, LoadedResource, Outcome, StoreResult, StoredBooking};
use reserver_actors::resource::{
    Booking, BookingStatus, Offer, ReservationId, ResourceId, ResourceInfo, ScheduleStore, StoreError, WaitlistEntry,
};

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
    /// Batches in progress right now, and the most ever seen at once.
    pub in_flight: usize,
    pub max_in_flight: usize,
    /// Make the next batch panic inside the actor (a bug, from the actor's point of view).
    pub panic_next: bool,
    /// The opening hours every resource loads with.
    pub hours: OpeningHours,
    /// The active waitlist every resource loads with.
    pub waitlist: Vec<WaitlistEntry>,
    /// Refuse (store nothing of) every batch that offers a slot.
    pub refuse_offers: bool,
    /// Loads so far, and batches that offered a slot (refused ones included).
    pub loads: usize,
    pub offering_batches: usize,
    /// Reads of single bookings (`load_bookings`) so far.
    pub booking_reads: usize,
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
            approver: None,
            requires_approval: false,
            checkin_window: None,
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
}

/// Applies a batch's changes in order (each may refer to what the earlier ones made); a batch
/// that offers a slot while offers are refused stores nothing.
fn apply_all(
    d: &mut Data,
    resource: ResourceId,
    now: DateTime<Utc>,
    changes: &[Change],
) -> Result<Vec<Applied>, StoreError> {
    if changes.iter().any(|c| matches!(c, Change::Offer { .. })) {
        d.offering_batches += 1;
        if d.refuse_offers {
            return Err(StoreError::Other("the waitlist entry is not waiting".into()));
        }
    }
    let mut applied = Vec::with_capacity(changes.len());
    for change in changes {
        let result = apply_one(d, resource, now, change, &applied)?;
        applied.push(result);
    }
    Ok(applied)
}

fn apply_one(
    d: &mut Data,
    resource: ResourceId,
    now: DateTime<Utc>,
    change: &Change,
    earlier: &[Applied],
) -> Result<Applied, StoreError> {
    Ok(match change {
        Change::Book(new) => {
            let mut stored = Vec::new();
            for interval in &new.intervals {
                d.next_id += 1;
                let booking = Booking::active(d.next_id, new.user.clone(), *interval, now);
                d.rows.push(Row {
                    booking,
                    status: new.admission.status().as_str(),
                });
                stored.push(StoredBooking {
                    id: d.next_id,
                    created_at: now,
                    series: None,
                });
            }
            Applied::Booked(stored)
        }
        Change::Transition { reservation, to, .. } => {
            let status = match to {
                Outcome::Active => "active",
                other => other.as_str(),
            };
            for row in d.rows.iter_mut().filter(|r| r.booking.id == *reservation) {
                row.status = status;
            }
            Applied::Done
        }
        Change::UpdateResource(patch) => {
            let info = d
                .resources
                .iter_mut()
                .find(|r| r.id == resource)
                .ok_or(StoreError::Other("gone".into()))?;
            if let Some(enabled) = patch.enabled {
                info.enabled = enabled;
            }
            if let Some(maintenance) = &patch.maintenance {
                info.maintenance = maintenance.clone();
            }
            Applied::Resource(info.clone())
        }
        Change::DeleteResource => {
            d.resources.retain(|r| r.id != resource);
            Applied::Done
        }
        Change::Hold {
            user, interval, until, ..
        } => {
            d.next_id += 1;
            let booking = Booking {
                status: BookingStatus::Held,
                hold_expires_at: Some(*until),
                ..Booking::active(d.next_id, user.clone(), *interval, now)
            };
            d.rows.push(Row {
                booking,
                status: "held",
            });
            Applied::Reservation(d.next_id)
        }
        Change::Offer { entry, hold, until } => {
            let unresolved = || StoreError::Other("an offer refers to nothing in its batch".into());
            let (entry, hold) = (
                entry.resolve(earlier).ok_or_else(unresolved)?,
                hold.resolve(earlier).ok_or_else(unresolved)?,
            );
            let interval = d
                .rows
                .iter()
                .find(|r| r.booking.id == hold)
                .ok_or_else(unresolved)?
                .booking
                .interval;
            let waiting = d
                .waitlist
                .iter_mut()
                .find(|e| e.id == entry && e.offer.is_none())
                .ok_or_else(|| StoreError::Other("the waitlist entry is not waiting".into()))?;
            waiting.offer = Some(Offer {
                reservation: hold,
                interval,
                offered_at: now,
                expires_at: *until,
            });
            Applied::Done
        }
        _ => Applied::Done,
    })
}

impl ScheduleStore for MemoryStore {
    fn load(&self, resource: ResourceId) -> StoreResult<Option<LoadedResource>> {
        let data = self.data.clone();
        Box::pin(async move {
            let mut d = data.lock().unwrap();
            d.loads += 1;
            Ok(d.resources
                .iter()
                .find(|r| r.id == resource)
                .map(|info| LoadedResource {
                    info: info.clone(),
                    bookings: d
                        .rows
                        .iter()
                        .filter(|r| r.status == "active" || r.status == "held")
                        .map(|r| r.booking.clone())
                        .collect(),
                    waitlist: d.waitlist.clone(),
                    hours: d.hours.clone(),
                }))
        })
    }

    fn load_bookings(&self, _resource: ResourceId, reservations: Vec<ReservationId>) -> StoreResult<Vec<Booking>> {
        let data = self.data.clone();
        Box::pin(async move {
            let mut d = data.lock().unwrap();
            d.booking_reads += 1;
            Ok(d.rows
                .iter()
                .filter(|r| (r.status == "active" || r.status == "held") && reservations.contains(&r.booking.id))
                .map(|r| r.booking.clone())
                .collect())
        })
    }

    fn apply(&self, resource: ResourceId, now: DateTime<Utc>, changes: Vec<Change>) -> StoreResult<Vec<Applied>> {
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
            if std::mem::take(&mut d.panic_next) {
                drop(d);
                panic!("a bug in a store write");
            }
            apply_all(&mut d, resource, now, &changes)
        })
    }

    fn apply_many(&self, now: DateTime<Utc>, parts: Vec<(ResourceId, Vec<Change>)>) -> StoreResult<Vec<Vec<Applied>>> {
        let data = self.data.clone();
        Box::pin(async move {
            let mut d = data.lock().unwrap();
            parts
                .iter()
                .map(|(resource, changes)| apply_all(&mut d, *resource, now, changes))
                .collect()
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
