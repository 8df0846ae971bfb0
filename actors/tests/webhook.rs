//! The webhook dispatcher on an in-memory store and a scripted sender: its timers, its retry
//! schedule, its bound on concurrent requests, and that dispatchers sharing one store never send
//! a delivery twice.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, TimeZone, Utc};
use futures::future::BoxFuture;
use reserver_actors::webhook::{
    Attempt, Claimed, DeliveryStatus, DeliveryStore, DispatchConfig, Secret, Settlement, StoreFailure, StoreResult,
    WebhookDispatcher, WebhookSender,
};
use reserver_actors::{Clock, ManualClock};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 7, 8, 0, 0).unwrap()
}

#[derive(Debug, Clone)]
struct Row {
    id: i64,
    status: DeliveryStatus,
    due_at: Option<DateTime<Utc>>,
    claim: Option<String>,
    failures: u32,
}

#[derive(Clone, Default)]
struct MemoryStore {
    rows: Arc<Mutex<Vec<Row>>>,
    claims: Arc<AtomicUsize>,
}

impl MemoryStore {
    fn with_due(count: i64, at: DateTime<Utc>) -> MemoryStore {
        let store = MemoryStore::default();
        *store.rows.lock().unwrap() = (1..=count)
            .map(|id| Row {
                id,
                status: DeliveryStatus::Pending,
                due_at: Some(at),
                claim: None,
                failures: 0,
            })
            .collect();
        store
    }

    fn row(&self, id: i64) -> Row {
        self.rows.lock().unwrap().iter().find(|r| r.id == id).unwrap().clone()
    }
}

impl DeliveryStore for MemoryStore {
    fn claim_due(&self, now: DateTime<Utc>, limit: usize, until: DateTime<Utc>) -> StoreResult<Vec<Claimed>> {
        let claim = format!("claim-{}", self.claims.fetch_add(1, Ordering::SeqCst));
        let mut rows = self.rows.lock().unwrap();
        let claimed = rows
            .iter_mut()
            .filter(|r| r.status == DeliveryStatus::Pending && r.due_at.is_some_and(|at| at <= now))
            .take(limit)
            .map(|r| {
                r.claim = Some(claim.clone());
                r.due_at = Some(until);
                Claimed {
                    id: r.id,
                    claim: claim.clone(),
                    url: format!("http://receiver.test/{}", r.id),
                    secret: Secret("s".into()),
                    event: "reservation.created".into(),
                    body: "{}".into(),
                    failures: r.failures,
                }
            })
            .collect();
        Box::pin(futures::future::ready(Ok(claimed)))
    }

    fn next_due(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let rows = self.rows.lock().unwrap();
        let next = rows
            .iter()
            .filter(|r| r.status == DeliveryStatus::Pending)
            .filter_map(|r| r.due_at)
            .min();
        Box::pin(futures::future::ready(Ok(next)))
    }

    fn settle(&self, delivery: &Claimed, settlement: &Settlement) -> StoreResult<()> {
        let mut rows = self.rows.lock().unwrap();
        let result = match rows
            .iter_mut()
            .find(|r| r.id == delivery.id && r.claim.as_deref() == Some(&delivery.claim))
        {
            Some(row) => {
                row.status = settlement.status;
                row.failures = settlement.retry_count;
                row.due_at = settlement.next_retry_at;
                row.claim = None;
                Ok(())
            }
            None => Err(StoreFailure(format!("claim of {} lost", delivery.id))),
        };
        Box::pin(futures::future::ready(result))
    }
}

/// Answers every request with `status` after `delay`, counting requests per delivery and the
/// most in flight at once.
#[derive(Clone)]
struct ScriptedSender {
    status: u16,
    delay: Duration,
    sent: Arc<Mutex<Vec<i64>>>,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
}

impl ScriptedSender {
    fn new(status: u16, delay: Duration) -> ScriptedSender {
        ScriptedSender {
            status,
            delay,
            sent: Arc::default(),
            in_flight: Arc::default(),
            most_in_flight: Arc::default(),
        }
    }

    fn sent(&self) -> Vec<i64> {
        self.sent.lock().unwrap().clone()
    }
}

impl WebhookSender for ScriptedSender {
    fn send(&self, delivery: &Claimed) -> BoxFuture<'static, Attempt> {
        let this = self.clone();
        let id = delivery.id;
        Box::pin(async move {
            let now = this.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            this.most_in_flight.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(this.delay).await;
            this.in_flight.fetch_sub(1, Ordering::SeqCst);
            this.sent.lock().unwrap().push(id);
            if (200..300).contains(&this.status) {
                Attempt::Delivered {
                    status: this.status,
                    body: "ok".into(),
                }
            } else {
                Attempt::Failed {
                    status: Some(this.status),
                    body: None,
                    error: format!("HTTP {}", this.status),
                }
            }
        })
    }
}

fn dispatcher(
    store: &MemoryStore,
    sender: &ScriptedSender,
    clock: Arc<ManualClock>,
    concurrency: usize,
) -> Addr<WebhookDispatcher> {
    let config = DispatchConfig {
        concurrency,
        ..DispatchConfig::default()
    };
    WebhookDispatcher::new(
        Arc::new(store.clone()),
        Arc::new(sender.clone()),
        clock as Arc<dyn Clock>,
        config,
    )
    .start()
}

async fn eventually(what: &str, check: impl Fn() -> bool) {
    for _ in 0..500 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("timed out waiting for: {what}");
}

#[actix::test]
async fn a_failing_delivery_is_retried_when_the_clock_reaches_each_retry_then_given_up() {
    let clock = Arc::new(ManualClock::new(start()));
    let store = MemoryStore::with_due(1, start());
    let sender = ScriptedSender::new(500, Duration::ZERO);
    let _dispatcher = dispatcher(&store, &sender, clock.clone(), 4);
    eventually("the first attempt", || sender.sent().len() == 1).await;
    for (attempts, wait) in [(2, 60), (3, 300), (4, 900), (5, 3600)] {
        clock.advance(Duration::from_secs(wait - 1));
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(sender.sent().len(), attempts - 1, "not before its time");
        clock.advance(Duration::from_secs(1));
        eventually(&format!("attempt {attempts}"), || sender.sent().len() == attempts).await;
    }
    eventually("given up", || store.row(1).status == DeliveryStatus::Failed).await;
    assert_eq!((store.row(1).failures, store.row(1).due_at), (5, None));
    clock.advance(Duration::from_secs(86_400));
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(
        sender.sent().len(),
        5,
        "a failed delivery is never sent again by itself"
    );
}

#[actix::test]
async fn dispatchers_sharing_a_store_send_each_delivery_once_within_their_bound() {
    let clock = Arc::new(ManualClock::new(start()));
    let store = MemoryStore::with_due(40, start());
    let sender = ScriptedSender::new(204, Duration::from_millis(5));
    let _first = dispatcher(&store, &sender, clock.clone(), 3);
    let _second = dispatcher(&store, &sender, clock.clone(), 3);
    eventually("every delivery sent", || sender.sent().len() >= 40).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let mut sent = sender.sent();
    sent.sort_unstable();
    assert_eq!(sent, (1..=40).collect::<Vec<_>>(), "each exactly once");
    assert!(sender.most_in_flight.load(Ordering::SeqCst) <= 6);
    let rows = store.rows.lock().unwrap();
    assert!(
        rows.iter()
            .all(|r| r.status == DeliveryStatus::Delivered && r.due_at.is_none())
    );
}
