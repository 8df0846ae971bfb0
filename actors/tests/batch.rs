//! Batches over resources (`resource::batch`), on an in-memory store that accepts overlapping
//! bookings: what is proven here is the actors' own exclusion — a prepared actor holds still until
//! the decision — not a database constraint.

#[path = "support/memory_store.rs"]
#[allow(dead_code)] // shared with the other actor tests, which use the rest of it
mod memory_store;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use memory_store::MemoryStore;
use reserver_actors::domain::Interval;
use reserver_actors::resource::vote::{Decision, Ticket, Vote};
use reserver_actors::resource::{
    ActorConfig, BatchError, BatchItem, Book, BookPart, ResourceSupervisor, ScheduleError, UserRef,
};
use reserver_actors::{Clock, ManualClock};
use tokio::sync::oneshot;

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

fn supervisor(store: &MemoryStore) -> Arc<ResourceSupervisor> {
    let clock = Arc::new(ManualClock::new(start()));
    ResourceSupervisor::start(Arc::new(store.clone()), clock as Arc<dyn Clock>, ActorConfig::default())
}

fn book(id: i64, interval: Interval) -> Book {
    Book {
        user: user(id),
        interval,
        message: None,
        idempotency_key: None,
    }
}

/// Sends a part with a vote and waits until the actor is prepared; returns the decision channel
/// and the actor's final answer.
async fn prepared(
    supervisor: &Arc<ResourceSupervisor>,
    items: Vec<(usize, Interval)>,
    ticket: Arc<Ticket>,
    pause: Duration,
) -> (
    oneshot::Sender<Decision>,
    tokio::task::JoinHandle<Result<reserver_actors::resource::PartChecked, ScheduleError>>,
) {
    let (prepared_tx, prepared_rx) = oneshot::channel();
    let (decision_tx, decision_rx) = oneshot::channel();
    let vote = Vote::new(prepared_tx, decision_rx, ticket, pause);
    let message = BookPart {
        user: user(100),
        items,
        now: start(),
        vote: Some(vote),
    };
    let sender = supervisor.clone();
    let answer = tokio::spawn(async move { sender.send(RESOURCE, message).await });
    let (checked, changes) = prepared_rx.await.expect("a vote").expect("prepared");
    assert!(checked.refused.is_empty() && !changes.is_empty());
    (decision_tx, answer)
}

#[actix::test]
async fn a_prepared_actor_handles_nothing_until_the_batch_is_decided() {
    let store = MemoryStore::with_resource(RESOURCE, Duration::ZERO);
    let supervisor = supervisor(&store);
    let ticket = Arc::new(Ticket::default());
    let (decide, answer) = prepared(&supervisor, vec![(0, slot(10, 11))], ticket, Duration::from_secs(30)).await;
    let racer = supervisor.clone();
    let single = tokio::spawn(async move { racer.send(RESOURCE, book(1, slot(10, 11))).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !single.is_finished(),
        "the single booking waits behind the prepared part"
    );

    // Aborted: nothing changed, and the single booking goes through.
    decide.send(Decision::Abort).unwrap();
    assert!(matches!(answer.await.unwrap(), Err(ScheduleError::Unavailable(_))));
    assert!(single.await.unwrap().is_ok());
    assert_eq!(store.active().len(), 1);
    supervisor.shutdown();
}

#[actix::test]
async fn a_prepared_actor_gives_up_on_a_batch_that_is_not_decided_in_time() {
    let store = MemoryStore::with_resource(RESOURCE, Duration::ZERO);
    let supervisor = supervisor(&store);
    let ticket = Arc::new(Ticket::default());
    let (_decide, answer) = prepared(
        &supervisor,
        vec![(0, slot(10, 11))],
        ticket.clone(),
        Duration::from_millis(50),
    )
    .await;
    let answer = answer.await.unwrap();
    assert_eq!(
        answer.unwrap_err(),
        ScheduleError::Unavailable("the batch was abandoned".into())
    );
    assert!(
        !ticket.commit(),
        "a batch an actor gave up on can no longer be committed"
    );
    assert!(
        supervisor.send(RESOURCE, book(1, slot(10, 11))).await.is_ok(),
        "the actor is free again"
    );
    supervisor.shutdown();
}

#[actix::test]
async fn a_batch_racing_single_bookings_of_its_slots_wins_or_loses_whole() {
    let store = MemoryStore::with_resource(RESOURCE, Duration::from_millis(2));
    let supervisor = supervisor(&store);
    let items = vec![
        BatchItem {
            resource: RESOURCE,
            interval: slot(10, 11),
        },
        BatchItem {
            resource: RESOURCE,
            interval: slot(12, 13),
        },
    ];
    let batch = supervisor.book_batch(user(100), items);
    let singles = (0..16).map(|i| {
        let supervisor = supervisor.clone();
        let interval = if i % 2 == 0 { slot(10, 11) } else { slot(12, 13) };
        async move { supervisor.send(RESOURCE, book(i, interval)).await }
    });
    let (batch, singles) = futures::join!(batch, futures::future::join_all(singles));
    let single_wins = singles.iter().filter(|r| r.is_ok()).count();
    match batch {
        Ok(planned) => {
            assert_eq!(planned.len(), 2);
            assert_eq!(single_wins, 0, "no single booking beside the batch's");
        }
        Err(BatchError::Refused(_)) => assert!(single_wins >= 1, "the batch lost to a single booking"),
        Err(other) => panic!("unexpected {other:?}"),
    }
    let active = store.active();
    for interval in [slot(10, 11), slot(12, 13)] {
        let holders = active.iter().filter(|b| b.interval == interval).count();
        assert!(holders <= 1, "{interval:?} is booked {holders} times");
    }
    supervisor.shutdown();
}

#[actix::test]
async fn a_batch_refuses_items_overlapping_each_other() {
    let store = MemoryStore::with_resource(RESOURCE, Duration::ZERO);
    let supervisor = supervisor(&store);
    let items = vec![
        BatchItem {
            resource: RESOURCE,
            interval: slot(10, 12),
        },
        BatchItem {
            resource: RESOURCE,
            interval: slot(11, 13),
        },
    ];
    let refused = supervisor.book_batch(user(100), items).await;
    assert_eq!(
        refused.unwrap_err(),
        BatchError::Refused(vec![(1, ScheduleError::BatchConflict)])
    );
    assert!(store.active().is_empty());
    supervisor.shutdown();
}
