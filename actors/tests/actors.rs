//! The resource actor and its supervisor, on an in-memory store that accepts anything: what is
//! proven here is the actor's own serialisation and timers, not a database constraint.

#[path = "support/memory_store.rs"]
mod memory_store;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use memory_store::MemoryStore;
use reserver_actors::domain::Interval;
use reserver_actors::resource::{
    ActorConfig, Book, Booking, Cancel, CancelScope, Followed, Ready, ResourceSupervisor, ScheduleError, UserRef,
    WaitlistEntry,
};
use reserver_actors::{Clock, ManualClock};

const RESOURCE: i64 = 1;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 7, 8, 0, 0).unwrap()
}

fn slot(from_hour: u32, to_hour: u32) -> Interval {
    let at = |h| Utc.with_ymd_and_hms(2030, 1, 7, h, 0, 0).unwrap();
    Interval::new(at(from_hour), at(to_hour)).unwrap()
}

fn user(id: i64) -> UserRef {
    UserRef {
        id,
        name: Arc::from(format!("user{id}").as_str()),
    }
}

/// `owner`'s booking of `interval`, with nothing else asked.
fn book(owner: i64, interval: Interval) -> Book {
    Book {
        user: user(owner),
        interval,
        message: None,
        idempotency_key: None,
    }
}

fn supervisor(store: &MemoryStore, clock: Arc<ManualClock>, idle: Duration) -> Arc<ResourceSupervisor> {
    let config = ActorConfig {
        idle_timeout: idle,
        ..ActorConfig::default()
    };
    ResourceSupervisor::start(Arc::new(store.clone()), clock as Arc<dyn Clock>, config)
}

#[actix::test]
async fn sixty_four_racing_bookings_of_one_slot_yield_exactly_one() {
    let store = MemoryStore::with_resource(RESOURCE, Duration::from_millis(5));
    let supervisor = supervisor(&store, Arc::new(ManualClock::new(start())), Duration::from_secs(600));
    let attempts = (0..64).map(|i| {
        let supervisor = supervisor.clone();
        async move {
            supervisor
                .send(
                    RESOURCE,
                    Book {
                        user: user(i),
                        interval: slot(10, 11),
                        message: None,
                        idempotency_key: None,
                    },
                )
                .await
        }
    });
    let results = futures::future::join_all(attempts).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    let lost = results
        .iter()
        .filter(|r| matches!(r, Err(ScheduleError::Conflict { .. })))
        .count();
    assert_eq!((won, lost), (1, 63));
    assert_eq!(store.active().len(), 1);
    assert_eq!(
        store.data.lock().unwrap().max_in_flight,
        1,
        "writes of one resource never overlap in time"
    );
    supervisor.shutdown();
}

#[actix::test]
async fn a_cancelled_slot_can_be_booked_again_and_touching_slots_coexist() {
    let store = MemoryStore::with_resource(RESOURCE, Duration::from_millis(1));
    let supervisor = supervisor(&store, Arc::new(ManualClock::new(start())), Duration::from_secs(600));
    let first = supervisor
        .send(
            RESOURCE,
            Book {
                user: user(1),
                interval: slot(10, 11),
                message: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    supervisor
        .send(
            RESOURCE,
            Book {
                user: user(2),
                interval: slot(11, 12),
                message: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    let id = first.bookings[0].id;
    supervisor
        .send(
            RESOURCE,
            Cancel {
                reservation: id,
                by: 1,
                reason: None,
                scope: CancelScope::One,
                only_if: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(store.status_of(id), Some("cancelled"));
    supervisor
        .send(
            RESOURCE,
            Book {
                user: user(3),
                interval: slot(10, 11),
                message: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    let snapshot = supervisor.snapshot(RESOURCE).await.unwrap();
    let owners: Vec<i64> = snapshot.bookings.iter().map(|b| b.user.id).collect();
    assert_eq!(owners, [3, 2]);
    supervisor.shutdown();
}

#[actix::test]
async fn bookings_expire_when_the_clock_passes_their_end() {
    let store = MemoryStore::with_resource(RESOURCE, Duration::from_millis(1));
    let clock = Arc::new(ManualClock::new(start()));
    let supervisor = supervisor(&store, clock.clone(), Duration::from_secs(600));
    let booked = supervisor
        .send(
            RESOURCE,
            Book {
                user: user(1),
                interval: slot(10, 11),
                message: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    let id = booked.bookings[0].id;
    clock.advance(Duration::from_secs(3 * 3600)); // 11:00 has passed
    for _ in 0..100 {
        if store.status_of(id) == Some("expired") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(store.status_of(id), Some("expired"));
    assert!(supervisor.snapshot(RESOURCE).await.unwrap().bookings.is_empty());
    supervisor.shutdown();
}

#[actix::test]
async fn an_idle_actor_stops_and_is_woken_for_its_next_deadline() {
    let store = MemoryStore::with_resource(RESOURCE, Duration::from_millis(1));
    let clock = Arc::new(ManualClock::new(start()));
    let supervisor = supervisor(&store, clock.clone(), Duration::from_millis(100));
    let booked = supervisor
        .send(
            RESOURCE,
            Book {
                user: user(1),
                interval: slot(10, 11),
                message: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(supervisor.live_actors(), 0, "the idle actor stopped");
    clock.advance(Duration::from_secs(3 * 3600));
    let id = booked.bookings[0].id;
    for _ in 0..100 {
        if store.status_of(id) == Some("expired") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        store.status_of(id),
        Some("expired"),
        "the supervisor woke the actor for its deadline"
    );
    supervisor.shutdown();
}

#[actix::test]
async fn a_missing_resource_is_reported_as_such() {
    let store = MemoryStore::with_resource(RESOURCE, Duration::from_millis(1));
    let supervisor = supervisor(&store, Arc::new(ManualClock::new(start())), Duration::from_secs(600));
    assert_eq!(supervisor.send(99, Ready).await, Err(ScheduleError::ResourceNotFound));
    supervisor.shutdown();
}

#[actix::test]
async fn a_crashed_actor_is_replaced_by_one_loaded_from_the_store() {
    let store = MemoryStore::with_resource(RESOURCE, Duration::from_millis(1));
    let supervisor = supervisor(&store, Arc::new(ManualClock::new(start())), Duration::from_secs(600));
    let book = |user_id, from, to| Book {
        user: user(user_id),
        interval: slot(from, to),
        message: None,
        idempotency_key: None,
    };
    supervisor.send(RESOURCE, book(1, 10, 11)).await.unwrap();
    store.data.lock().unwrap().panic_next = true;
    // The actor dies while handling this message; the supervisor starts a fresh one, loaded from
    // the store, and delivers the message again: it re-checks everything, so a retry is safe.
    let retried = supervisor.send(RESOURCE, book(2, 12, 13)).await;
    assert!(retried.is_ok(), "{retried:?}");
    let stats = supervisor.stats();
    assert_eq!(
        (stats.live, stats.started, stats.replaced),
        (1, 2, 1),
        "one crash, one replacement"
    );
    // The replacement knows the booking made before the crash.
    let clash = supervisor.send(RESOURCE, book(3, 10, 11)).await;
    assert!(matches!(clash, Err(ScheduleError::Conflict { .. })), "{clash:?}");
    assert_eq!(store.active().len(), 2);
    supervisor.shutdown();
}

#[actix::test]
async fn opening_hours_are_enforced_from_memory_and_refreshed_hours_apply_to_the_next_booking() {
    use chrono::Weekday;
    use reserver_actors::domain::{DayHours, NotOpen, OpeningHours, TimeOfDay};

    let store = MemoryStore::with_resource(RESOURCE, Duration::from_millis(1));
    let nine_to_five = |from: u32| {
        let (open, close) = (TimeOfDay::from_hms(from, 0, 0), TimeOfDay::from_hms(17, 0, 0));
        OpeningHours::weekly([(Weekday::Mon, DayHours::open(open.unwrap(), close.unwrap()).unwrap())])
    };
    store.data.lock().unwrap().hours = nine_to_five(9);
    let the_day_before = start() - chrono::Duration::days(1);
    let supervisor = supervisor(
        &store,
        Arc::new(ManualClock::new(the_day_before)),
        Duration::from_secs(600),
    );
    let book = |interval: Interval| Book {
        user: user(1),
        interval,
        message: None,
        idempotency_key: None,
    };
    // 2030-01-07 is a Monday; the resource's zone is UTC.
    let early = supervisor.send(RESOURCE, book(slot(8, 10))).await;
    assert!(
        matches!(early, Err(ScheduleError::NotOpen(NotOpen::Closed { .. }))),
        "{early:?}"
    );
    assert!(store.active().is_empty(), "a refused booking stores nothing");
    assert!(supervisor.send(RESOURCE, book(slot(9, 10))).await.is_ok());

    // The store changes behind the actor's back: only a refresh makes the actor see it, and
    // the very next message already does.
    store.data.lock().unwrap().hours = nine_to_five(8);
    supervisor.refresh(&[RESOURCE]);
    assert!(supervisor.send(RESOURCE, book(slot(8, 9))).await.is_ok());
    store.data.lock().unwrap().hours = nine_to_five(10);
    supervisor.refreshed(None).await;
    let snapshot = supervisor.snapshot(RESOURCE).await.unwrap();
    assert_eq!(
        snapshot.hours,
        nine_to_five(10),
        "the snapshot is current once refreshed"
    );
    supervisor.shutdown();
}

#[actix::test]
async fn bookings_changed_by_another_process_are_followed_without_reloading_the_resource() {
    use reserver_actors::domain::{DayHours, OpeningHours, TimeOfDay};

    let store = MemoryStore::with_resource(RESOURCE, Duration::from_millis(1));
    let supervisor = supervisor(&store, Arc::new(ManualClock::new(start())), Duration::from_secs(600));
    let first = supervisor.send(RESOURCE, book(1, slot(10, 11))).await.unwrap().bookings[0].id;
    supervisor.send(RESOURCE, book(2, slot(11, 12))).await.unwrap();
    let hours_before = supervisor.snapshot(RESOURCE).await.unwrap().hours.clone();

    // Another process cancels the first booking and books 12–13; the hours change too, which
    // only a whole reload would read.
    let other = {
        let mut data = store.data.lock().unwrap();
        let row = data.rows.iter_mut().find(|r| r.booking.id == first).unwrap();
        row.status = "cancelled";
        data.next_id += 1;
        let id = data.next_id;
        data.rows.push(memory_store::Row {
            booking: Booking::active(id, user(3), slot(12, 13), start()),
            status: "active",
        });
        let (open, close) = (TimeOfDay::from_hms(12, 0, 0), TimeOfDay::from_hms(13, 0, 0));
        data.hours = OpeningHours::weekly([(
            chrono::Weekday::Mon,
            DayHours::open(open.unwrap(), close.unwrap()).unwrap(),
        )]);
        id
    };
    supervisor.follow_bookings(&[
        (RESOURCE, Followed::Changed(first)),
        (RESOURCE, Followed::Changed(other)),
    ]);
    supervisor.send(RESOURCE, Ready).await.unwrap();

    let snapshot = supervisor.snapshot(RESOURCE).await.unwrap();
    let owners: Vec<i64> = snapshot.bookings.iter().map(|b| b.user.id).collect();
    assert_eq!(owners, [2, 3], "the cancelled booking left, the new one came");
    assert_eq!(snapshot.hours, hours_before, "only the bookings were read again");
    assert_eq!(store.data.lock().unwrap().booking_reads, 1, "both in one read");
    assert!(
        matches!(
            supervisor.send(RESOURCE, book(4, slot(12, 13))).await,
            Err(ScheduleError::Conflict { .. })
        ),
        "the followed booking is refused from memory"
    );
    supervisor.shutdown();
}

#[actix::test]
async fn bookings_whose_events_say_all_are_followed_without_reading_the_store() {
    let store = MemoryStore::with_resource(RESOURCE, Duration::from_millis(1));
    let supervisor = supervisor(&store, Arc::new(ManualClock::new(start())), Duration::from_secs(600));
    let first = supervisor.send(RESOURCE, book(1, slot(10, 11))).await.unwrap().bookings[0].id;
    let loads = store.data.lock().unwrap().loads;

    // Another process ended the first booking and made one at 12–13; their events say so, and
    // carry the new booking. The store is left as it was, so a read would find neither change.
    let made = Booking::active(first + 1, user(3), slot(12, 13), start());
    supervisor.follow_bookings(&[
        (RESOURCE, Followed::Ended(first)),
        (RESOURCE, Followed::Now(made.clone())),
    ]);
    supervisor.send(RESOURCE, Ready).await.unwrap();

    let snapshot = supervisor.snapshot(RESOURCE).await.unwrap();
    assert_eq!(
        snapshot.bookings,
        [made],
        "the ended booking left, the carried one came"
    );
    let reads = {
        let data = store.data.lock().unwrap();
        (data.booking_reads, data.loads)
    };
    assert_eq!(reads, (0, loads), "nothing was read");

    // A carried booking that overlaps one the state holds means the state missed a change:
    // the actor reloads (and so holds what the store holds).
    let clash = Booking::active(first + 2, user(4), slot(12, 13), start());
    supervisor.follow_bookings(&[(RESOURCE, Followed::Now(clash))]);
    supervisor.send(RESOURCE, Ready).await.unwrap();
    assert_eq!(store.data.lock().unwrap().loads, loads + 1, "it reloaded");
    let owners: Vec<i64> = supervisor
        .snapshot(RESOURCE)
        .await
        .unwrap()
        .bookings
        .iter()
        .map(|b| b.user.id)
        .collect();
    assert_eq!(
        owners,
        [1],
        "the store's state: the first booking, which it still holds"
    );
    supervisor.shutdown();
}

/// An entry waiting for `desired` since the start of the test.
fn waiting(id: i64, user_id: i64, desired: Interval) -> WaitlistEntry {
    WaitlistEntry {
        id,
        user: user(user_id),
        desired,
        flexible: false,
        created_at: start(),
        offer: None,
    }
}

/// The store's load and offering-batch counts.
fn loads_and_offers(store: &MemoryStore) -> (usize, usize) {
    let data = store.data.lock().unwrap();
    (data.loads, data.offering_batches)
}

/// A slot that is free when the actor loads is offered to the entry waiting for it, before the
/// first message is answered: a cancellation the actor never saw (another process's) does not
/// leave the entry waiting. A reload with nothing waiting writes nothing.
#[actix::test]
async fn loading_offers_a_free_slot_to_the_entry_waiting_for_it() {
    let store = MemoryStore::with_resource(RESOURCE, Duration::from_millis(2));
    store.data.lock().unwrap().waitlist.push(waiting(1, 7, slot(10, 11)));
    let supervisor = supervisor(&store, Arc::new(ManualClock::new(start())), Duration::from_secs(600));

    let snapshot = supervisor.snapshot(RESOURCE).await.unwrap();
    let offer = snapshot.waitlist[0].offer.expect("offered on load");
    assert_eq!(
        (offer.interval, offer.expires_at),
        (slot(10, 11), start() + chrono::Duration::minutes(30))
    );
    assert_eq!(store.data.lock().unwrap().waitlist[0].offer, Some(offer), "stored");
    assert!(
        snapshot.bookings.iter().any(|b| b.id == offer.reservation),
        "the held slot is in the schedule"
    );
    assert_eq!(loads_and_offers(&store), (1, 1));

    supervisor.refreshed(Some(&[RESOURCE])).await;
    assert_eq!(loads_and_offers(&store), (2, 1), "nothing waits any more");
    supervisor.shutdown();
}

/// When the store refuses the offers made on load (another process made them first), the actor
/// reloads once without offering: no loop. The next reload (on that process's event) offers again.
#[actix::test]
async fn offers_refused_on_load_are_not_retried_in_a_loop() {
    let store = MemoryStore::with_resource(RESOURCE, Duration::from_millis(2));
    {
        let mut data = store.data.lock().unwrap();
        data.waitlist.push(waiting(1, 7, slot(10, 11)));
        data.refuse_offers = true;
    }
    let supervisor = supervisor(&store, Arc::new(ManualClock::new(start())), Duration::from_secs(600));

    // A loop of refused offers and reloads would never answer.
    let snapshot = tokio::time::timeout(Duration::from_secs(5), supervisor.snapshot(RESOURCE))
        .await
        .expect("the actor answers: refused offers do not loop")
        .unwrap();
    assert_eq!(snapshot.waitlist[0].offer, None);
    assert_eq!(loads_and_offers(&store), (2, 1), "one refused offer, one plain reload");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(loads_and_offers(&store), (2, 1), "and nothing more");

    supervisor.refreshed(Some(&[RESOURCE])).await;
    assert_eq!(loads_and_offers(&store), (4, 2), "a refresh tries once more");
    store.data.lock().unwrap().refuse_offers = false;
    supervisor.refreshed(Some(&[RESOURCE])).await;
    assert_eq!(loads_and_offers(&store), (5, 3));
    let snapshot = supervisor.snapshot(RESOURCE).await.unwrap();
    assert_eq!(snapshot.waitlist[0].offer.map(|o| o.interval), Some(slot(10, 11)));
    supervisor.shutdown();
}
