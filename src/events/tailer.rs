//! The outbox tailer: the one path by which events reach the notifier, whichever process
//! committed them.
//!
//! It reads the outbox after its position, one `SELECT` per wake-up (in batches while there is
//! a backlog), and publishes the rows in id order. It wakes at once when this process commits
//! events (an in-process `Notify`), when another process on the same PostgreSQL database does
//! (its relay's `NOTIFY`, `events::relay`), and otherwise every `poll_interval`: the poll is
//! the safety net for a lost wake-up (a process killed between its commit and its `NOTIFY`, a
//! listening connection being re-opened). Sign-in revocations travel as `sign_in_revoked` rows,
//! so a logout on any process closes the sockets held by every process within the poll interval.
//!
//! **Gaps.** Ids are taken from a sequence when a row is inserted but become visible when its
//! transaction commits, so under concurrent writers id 11 can be visible while id 10 is not yet
//! — or never will be (rolled back). Reading `id > position` naively would skip 10 for ever.
//! The tailer therefore only advances over a contiguous prefix of ids. A missing id is waited
//! for until it is known to be dead:
//! - on SQLite, at once: writes are serialised, so ids become visible in commit order and a
//!   missing id was rolled back;
//! - on PostgreSQL, when a later snapshot's `xmin` reaches a *horizon* taken right after the
//!   read that first saw the gap (a fresh transaction id, [`outbox::horizon`]): the transaction
//!   that holds the id took its own id before the sequence value (see [`super::outbox`]), so
//!   before the gap was seen, so below the horizon; once every transaction below the horizon
//!   has ended and the id is still not visible, it was rolled back. Usually that is one short
//!   re-check later. The snapshot's own `xmax` will not do as the bound: it is one past the
//!   latest *completed* id, and a transaction that took its id before another one that has
//!   already committed — two group commits interleaved — runs at or above it, invisible to
//!   `xmin`; with it as the bound an event still in flight was once taken for dead and never
//!   delivered live (the rolling-restart test caught it).
//! - in any case after [`MAX_GAP_WAIT`], with a warning: only a writing transaction longer than
//!   that (far beyond the actors' write timeout) can hold a gap open so long; its events are
//!   then not delivered live (they stay in the outbox: only a replay from before them shows
//!   them).
//!
//! **Starting.** A process starts at the outbox's end, the highest id visible — but under
//! concurrent writers a lower id may still be in flight, and starting past it would skip it for
//! good: never published here, and missing from a replay read before it commits, so a client
//! resuming here with `since=` below it would never see it. So the start takes a horizon after
//! reading the end and waits until every transaction below it has ended (usually at once; at
//! most [`MAX_GAP_WAIT`]): from then on every id up to the end is visible or dead
//! ([`start_position`]). No socket is served before, since the process listens only afterwards.
//!
//! **Other processes.** Every event carries the `origin` of the process whose actor made it. Events
//! about a resource from another origin make the tailer ask the supervisor to bring that
//! resource's actor up to date: an event about one booking only ([`Event::changed_booking`]) hands
//! it that booking (as the outbox row carries it, for a booking or hold just made), or tells it
//! the booking ended, or else makes it read that booking again; any other change of the resource
//! makes it reload the resource, and a change that concerns all resources (the global opening
//! hours) reloads every live actor. So what
//! actors read from memory follows other processes within milliseconds (the tailer is woken by
//! `NOTIFY`); the database's overlap guard keeps a stale cache harmless for writes. A process starts
//! tailing at the outbox's end. After publishing a batch it runs the reactions registered for
//! this process's committed events (waking the webhook dispatcher and the mail sender). Another
//! process's events wake them only as a sweep, at most [`FOREIGN_SWEEP`] after the first such
//! event and once for all that came meanwhile: the process that made them wakes its own
//! senders, so waking every process's on every event only made each of them look for work
//! another had already claimed (a query per node per booking); the sweep is for the deliveries
//! of a process that died before it claimed them. Its loop also drives the pruner
//! ([`crate::retention`]), telling it how far events were read.
//!
//! **Groups.** Each event is published with the groups its resource is under, from the process's
//! [`LiveHierarchy`], which the tailer reads again before the events that follow a change of the
//! hierarchy (see [`super::hierarchy`]); a failed read is retried before the next batch.
//!
//! **Why the `NOTIFY` follows the commit.** A transaction that has issued `NOTIFY` takes a
//! database-wide lock when it commits and keeps it through its WAL flush, which would serialise
//! the commits of every booking of every process. So the change's transaction never notifies:
//! after commit, each process's relay raises the channel from a connection of its own, once per
//! burst of commits (at most one raise every 2 ms per process), without waiting for the WAL
//! (`synchronous_commit = off`: a raise need not be durable). The wake-up carries nothing: the
//! outbox, read in id order through the gap rule above, stays the only source of events, so a
//! wake-up lost, early or doubled changes when a row is read, never what is published.

use std::time::{Duration, Instant};

use super::hierarchy::changes_hierarchy;
use super::outbox::{self, Snapshot, StoredEvent, Tail};
use super::{Event, EventWriter, ForeignChanges, LiveConfig, LiveHierarchy, Stale};
use crate::retention::Pruner;
use crate::storage::{Db, StorageError};
use actix::Addr;
use reserver_actors::notifier::{Notifier, Publish};
use reserver_actors::resource::Followed;

/// Rows read per `SELECT`.
const BATCH: i64 = 1000;
/// How soon a pending gap is looked at again.
const GAP_RECHECK: Duration = Duration::from_millis(2);
/// Longest wait for a missing id before it is skipped.
pub const MAX_GAP_WAIT: Duration = Duration::from_secs(10);
/// Pause after a failed read (the database is away).
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Longest time from another process's event to this process's senders looking for the work
/// it gave (see the module doc).
pub const FOREIGN_SWEEP: Duration = Duration::from_secs(1);

/// A run of missing ids, with the horizon taken after the read that first saw it (`None` until
/// the tailer has taken it: the gap is held meanwhile).
#[derive(Debug, Clone, Copy)]
struct Gap {
    from: i64,
    to: i64,
    horizon: Option<i64>,
    since: Instant,
}

/// The tailer's position in the outbox, with the gap it waits on.
#[derive(Debug)]
struct Cursor {
    /// Every id up to here has been published or is known dead.
    position: i64,
    gap: Option<Gap>,
}

impl Cursor {
    /// The contiguous prefix of `tail` after the position (gaps known dead are stepped over);
    /// advances the position past it.
    fn take_ready(&mut self, tail: Tail) -> Vec<StoredEvent> {
        let mut ready = Vec::with_capacity(tail.events.len());
        for event in tail.events {
            let missing_from = self.position + 1;
            if event.id > missing_from && !self.gap_is_dead(missing_from, event.id, tail.snapshot) {
                break;
            }
            self.position = event.id;
            if self.gap.is_some_and(|gap| event.id >= gap.to) {
                self.gap = None;
            }
            ready.push(event);
        }
        ready
    }

    /// Whether the gap waits for its horizon (see [`Gap`]).
    fn needs_horizon(&self) -> bool {
        self.gap.is_some_and(|gap| gap.horizon.is_none())
    }

    /// Whether the ids `from..to` (missing, with `to` visible) will never appear.
    fn gap_is_dead(&mut self, from: i64, to: i64, snapshot: Option<Snapshot>) -> bool {
        let Some(snapshot) = snapshot else {
            return true;
        };
        let gap = match self.gap {
            Some(gap) if gap.from <= from && from < gap.to => gap,
            _ => {
                let gap = Gap {
                    from,
                    to,
                    horizon: None,
                    since: Instant::now(),
                };
                self.gap = Some(gap);
                gap
            }
        };
        if gap.horizon.is_some_and(|horizon| snapshot.xmin >= horizon) {
            return true;
        }
        if gap.since.elapsed() >= MAX_GAP_WAIT {
            tracing::warn!(
                from,
                to,
                "outbox ids still missing after {MAX_GAP_WAIT:?}; skipping them (a writing transaction is \
                 running for too long)"
            );
            return true;
        }
        false
    }
}

/// Where a process starts tailing: the outbox's end, once every id up to it is decided (see
/// "Starting" above).
pub async fn start_position(db: &Db) -> Result<i64, StorageError> {
    let end = outbox::latest(db).await?;
    let Some(horizon) = outbox::horizon(db).await? else {
        // SQLite: ids become visible in order.
        return Ok(end);
    };
    let since = Instant::now();
    while outbox::oldest_running(db).await? < horizon {
        if since.elapsed() >= MAX_GAP_WAIT {
            tracing::warn!(
                end,
                "a transaction that may hold an outbox id below the start is still running after \
                 {MAX_GAP_WAIT:?}; starting anyway (its events are not delivered live here)"
            );
            break;
        }
        tokio::time::sleep(GAP_RECHECK).await;
    }
    Ok(end)
}

/// What the tailer keeps current besides the sockets.
pub struct Followers {
    /// What to do with the resources other processes changed.
    pub foreign: ForeignChanges,
    /// The hierarchy events are routed by.
    pub hierarchy: LiveHierarchy,
}

pub struct Tailer {
    db: Db,
    notifier: Addr<Notifier>,
    /// Wakes the tailer when this process commits; names this process; its projection is told
    /// of every batch committed.
    writer: EventWriter,
    followers: Followers,
    /// The last read of the hierarchy failed: read it again before publishing.
    hierarchy_stale: bool,
    config: LiveConfig,
    cursor: Cursor,
    /// Prunes every table on a schedule (old events once read, among others).
    pruner: Pruner,
    /// When the first of other processes' events not yet swept for was read.
    sweep_owed: Option<Instant>,
}

impl Tailer {
    pub fn new(
        db: Db,
        notifier: Addr<Notifier>,
        writer: EventWriter,
        followers: Followers,
        config: LiveConfig,
        position: i64,
        pruner: Pruner,
    ) -> Tailer {
        Tailer {
            db,
            notifier,
            writer,
            followers,
            hierarchy_stale: false,
            config,
            cursor: Cursor { position, gap: None },
            pruner,
            sweep_owed: None,
        }
    }

    /// Runs until the task is dropped (the server stops).
    pub async fn run(mut self) {
        loop {
            let wait = match self.cursor.gap {
                Some(_) => GAP_RECHECK,
                None => self.config.poll_interval,
            };
            tokio::select! {
                () = self.writer.notify.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
            if let Err(error) = self.catch_up().await {
                tracing::warn!(%error, "cannot read the event outbox; retrying");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
            self.sweep_if_due();
            self.pruner.prune_if_due(self.cursor.position).await;
        }
    }

    /// Tells the projection that other processes committed events, once [`FOREIGN_SWEEP`] has
    /// passed since the first of them.
    fn sweep_if_due(&mut self) {
        if self.sweep_owed.is_some_and(|since| since.elapsed() >= FOREIGN_SWEEP) {
            self.sweep_owed = None;
            self.writer.projection.committed_elsewhere();
        }
    }

    /// Publishes everything that is ready.
    async fn catch_up(&mut self) -> Result<(), StorageError> {
        loop {
            let tail = outbox::tail(&self.db, self.cursor.position, BATCH).await?;
            let full = tail.events.len() as i64 == BATCH;
            let ready = self.cursor.take_ready(tail);
            if self.cursor.needs_horizon()
                && let Some(gap) = self.cursor.gap.as_mut()
            {
                gap.horizon = outbox::horizon(&self.db).await?;
            }
            self.reload_foreign(&ready);
            if !ready.is_empty() {
                // Other processes' changes too: cached reads made before them are stale now.
                self.writer.changed();
                let origin = self.writer.origin();
                let (own, foreign): (Vec<_>, Vec<_>) = ready
                    .iter()
                    .partition(|e| e.origin.as_deref().is_none_or(|made_by| made_by == origin));
                let committed: Vec<_> = own.iter().filter_map(|e| e.event.as_ref()).collect();
                if !committed.is_empty() {
                    self.writer.projection.committed(&committed);
                }
                if !foreign.is_empty() {
                    self.sweep_owed.get_or_insert_with(Instant::now);
                }
            }
            let advanced = !ready.is_empty();
            if !self.publish(ready).await {
                // The notifier has stopped: the server is shutting down.
                return Ok(());
            }
            if !full || !advanced {
                return Ok(());
            }
        }
    }

    /// Reads the hierarchy again; on failure keeps the last read and retries before the next
    /// batch.
    async fn refresh_hierarchy(&mut self) {
        self.hierarchy_stale = match self.followers.hierarchy.refresh().await {
            Ok(()) => false,
            Err(error) => {
                tracing::warn!(%error, "cannot read the resource groups; group followers may miss events until it is read");
                true
            }
        };
    }

    /// Publishes `events` in order, each with the groups its resource is under (the hierarchy
    /// is read again before the first event after a change of it: everything in the batch has
    /// committed, so one read covers the batch); a revocation among them is handed over right
    /// after the events before it, so that a socket receives what was committed before its
    /// sign-in was revoked and nothing after. False when the notifier has stopped.
    async fn publish(&mut self, events: Vec<StoredEvent>) -> bool {
        if self.hierarchy_stale {
            self.refresh_hierarchy().await;
        }
        let mut tree = self.followers.hierarchy.tree();
        let mut refreshed = false;
        let mut batch = Vec::with_capacity(events.len());
        for event in events {
            tracing::debug!(seq = event.id, kind = %event.kind, request_id = event.request_id.as_deref(), "publishing an event to the sockets");
            let revoke = event.event.as_ref().and_then(|e| e.revocation());
            let groups = tree.groups_above(event.audience.resource);
            if !refreshed && event.event.as_ref().is_some_and(changes_hierarchy) {
                refreshed = true;
                self.refresh_hierarchy().await;
                tree = self.followers.hierarchy.tree();
            }
            batch.push(event.into_event(groups));
            if let Some(revoke) = revoke {
                if self.notifier.send(Publish(std::mem::take(&mut batch))).await.is_err() {
                    return false;
                }
                self.notifier.do_send(revoke);
            }
        }
        batch.is_empty() || self.notifier.send(Publish(batch)).await.is_ok()
    }

    /// Changes made by another server process: the actors here that cache those resources
    /// read the changed bookings again, or reload the resource when more than bookings changed
    /// (all of them after a change of the global opening hours), so their schedules and rules
    /// (and what readers see) stay current.
    fn reload_foreign(&self, events: &[StoredEvent]) {
        for stale in foreign_changes(events, self.writer.origin()) {
            (self.followers.foreign)(&stale);
        }
    }
}

/// What the events of other origins than `origin` leave stale here: every resource after a
/// change that concerns them all; otherwise the resources to reload, then the bookings to read
/// again (of the other resources: a reload reads its bookings anyway).
fn foreign_changes(events: &[StoredEvent], origin: &str) -> Vec<Stale> {
    let foreign = || events.iter().filter(|e| e.origin.as_deref() != Some(origin));
    if foreign().any(|e| e.event.as_ref().is_some_and(Event::concerns_every_resource)) {
        return vec![Stale::Every];
    }
    let (mut resources, mut bookings) = (Vec::new(), Vec::new());
    for stored in foreign() {
        let event = stored.event.as_ref();
        match (stored.audience.resource, event.and_then(Event::changed_booking)) {
            (Some(resource), Some(followed)) => {
                // The booking the change made, when the row carries it: nothing to read again.
                let followed = match followed {
                    Followed::Changed(id) => match stored.booking() {
                        Some(booking) if booking.id == id => Followed::Now(booking),
                        _ => Followed::Changed(id),
                    },
                    followed => followed,
                };
                bookings.push((resource, followed));
            }
            (resource, _) => resources.extend(resource.or_else(|| event.and_then(Event::unannounced_change_of))),
        }
    }
    resources.sort_unstable();
    resources.dedup();
    bookings.retain(|(resource, _)| resources.binary_search(resource).is_err());
    let mut stale = Vec::new();
    if !resources.is_empty() {
        stale.push(Stale::Resources(resources));
    }
    if !bookings.is_empty() {
        stale.push(Stale::Bookings(bookings));
    }
    stale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail(ids: &[i64], xmin: Option<i64>) -> Tail {
        Tail {
            events: ids
                .iter()
                .map(|&id| StoredEvent {
                    id,
                    kind: "tag_deleted".into(),
                    audience: Default::default(),
                    payload: serde_json::json!({}),
                    created_at: chrono::DateTime::UNIX_EPOCH,
                    origin: None,
                    request_id: None,
                    event: None,
                    booking_copy: None,
                })
                .collect(),
            snapshot: xmin.map(|xmin| Snapshot { xmin }),
        }
    }

    /// An event of `origin` about `resource` (when given).
    fn stored(origin: &str, resource: Option<i64>, event: Event) -> StoredEvent {
        StoredEvent {
            audience: reserver_actors::notifier::Audience {
                resource,
                ..Default::default()
            },
            origin: Some(origin.into()),
            event: Some(event),
            ..tail(&[1], None).events.remove(0)
        }
    }

    fn created(resource: i64, reservation: i64) -> Event {
        use super::super::event::{ReservationCreated, Slot};
        Event::ReservationCreated(ReservationCreated {
            slot: Slot {
                reservation_id: reservation,
                resource_id: resource,
                start_time: "2030-01-07T10:00:00Z".into(),
                end_time: "2030-01-07T11:00:00Z".into(),
            },
            status: None,
        })
    }

    #[test]
    fn another_nodes_booking_changes_are_followed_booking_by_booking_and_other_changes_reload() {
        use super::super::event::{BusinessHoursUpdated, ReservationCancelled, Slot, WaitlistChanged};
        let waitlist = |resource| Event::WaitlistChanged(WaitlistChanged { resource_id: resource });
        let cancelled = Event::ReservationCancelled(ReservationCancelled {
            slot: Slot {
                reservation_id: 12,
                resource_id: 1,
                start_time: "2030-01-07T12:00:00Z".into(),
                end_time: "2030-01-07T13:00:00Z".into(),
            },
            status: "cancelled".into(),
            cancelled_at: "2030-01-06T09:00:00Z".into(),
        });
        let made = reserver_actors::resource::Booking::active(
            11,
            reserver_actors::resource::UserRef {
                id: 5,
                name: "ana".into(),
            },
            reserver_actors::domain::Interval::new(
                chrono::DateTime::parse_from_rfc3339("2030-01-07T11:00:00Z")
                    .unwrap()
                    .into(),
                chrono::DateTime::parse_from_rfc3339("2030-01-07T12:00:00Z")
                    .unwrap()
                    .into(),
            )
            .unwrap(),
            chrono::DateTime::UNIX_EPOCH,
        );
        let events = [
            stored("other", Some(1), created(1, 10)),
            stored("here", Some(3), created(3, 30)),
            stored("other", Some(2), created(2, 20)),
            stored("other", None, waitlist(2)),
            StoredEvent {
                booking_copy: Some(
                    serde_json::to_string(&reserver_actors::resource::BookingCopy::from(&made)).unwrap(),
                ),
                ..stored("other", Some(1), created(1, 11))
            },
            stored("other", Some(1), cancelled),
        ];
        assert_eq!(
            foreign_changes(&events, "here"),
            [
                Stale::Resources(vec![2]),
                Stale::Bookings(vec![
                    (1, Followed::Changed(10)),
                    (1, Followed::Now(made)),
                    (1, Followed::Ended(12))
                ])
            ],
            "resource 2 reloads (its waitlist changed), so its booking is not read again; this node's own event is \
             ignored; a carried booking is taken as it is, an ended one needs no read"
        );
        assert!(foreign_changes(&events[1..2], "here").is_empty());
        let hours = Event::BusinessHoursUpdated(BusinessHoursUpdated { resource_id: None });
        assert_eq!(
            foreign_changes(
                &[stored("other", Some(1), created(1, 10)), stored("other", None, hours)],
                "here"
            ),
            [Stale::Every]
        );
    }

    fn ids(events: Vec<StoredEvent>) -> Vec<i64> {
        events.into_iter().map(|e| e.id).collect()
    }

    /// What the tailer does after a read that found a new gap: takes the horizon.
    fn take_horizon(cursor: &mut Cursor, horizon: i64) {
        assert!(cursor.needs_horizon(), "a new gap waits for its horizon");
        if let Some(gap) = cursor.gap.as_mut() {
            gap.horizon = Some(horizon);
        }
        assert!(!cursor.needs_horizon());
    }

    #[test]
    fn on_postgres_a_gap_holds_later_events_until_it_fills() {
        let mut cursor = Cursor { position: 9, gap: None };
        // 11 is visible, 10 is not (its transaction, xid 100, is still running).
        assert_eq!(ids(cursor.take_ready(tail(&[11], Some(100)))), Vec::<i64>::new());
        assert_eq!(cursor.position, 9);
        take_horizon(&mut cursor, 105);
        // Still running in a later snapshot: still held.
        assert!(ids(cursor.take_ready(tail(&[11, 12], Some(100)))).is_empty());
        // 10 committed: both go, in order.
        assert_eq!(ids(cursor.take_ready(tail(&[10, 11, 12], Some(106)))), [10, 11, 12]);
        assert_eq!(cursor.position, 12);
        assert!(cursor.gap.is_none());
    }

    #[test]
    fn on_postgres_a_gap_is_stepped_over_once_every_transaction_below_its_horizon_ended() {
        let mut cursor = Cursor { position: 9, gap: None };
        assert!(ids(cursor.take_ready(tail(&[11], Some(100)))).is_empty());
        take_horizon(&mut cursor, 105);
        // xmin passed the horizon and 10 is still not visible: it was rolled back.
        assert_eq!(ids(cursor.take_ready(tail(&[11], Some(105)))), [11]);
        assert_eq!(cursor.position, 11);
    }

    #[test]
    fn on_postgres_a_gap_is_held_until_its_horizon_is_taken() {
        // Two group commits interleaved: B took xid 100, A xid 101; A took outbox id 10, B id 11
        // and committed. The read sees 11 but not 10, in a snapshot whose xmin is 101 (B's
        // completion makes its xmax 101 too, and A, at 101, is in neither's view). Judged by
        // that snapshot alone, 10 would look dead while A is still running.
        let mut cursor = Cursor { position: 9, gap: None };
        assert!(ids(cursor.take_ready(tail(&[11], Some(101)))).is_empty());
        assert!(
            ids(cursor.take_ready(tail(&[11], Some(101)))).is_empty(),
            "no horizon yet: held"
        );
        // The horizon (a fresh xid, 102) is above A's; while A runs, xmin stays at 101.
        take_horizon(&mut cursor, 102);
        assert!(ids(cursor.take_ready(tail(&[11], Some(101)))).is_empty());
        // A committed: 10 is visible.
        assert_eq!(ids(cursor.take_ready(tail(&[10, 11], Some(103)))), [10, 11]);
    }

    #[test]
    fn on_postgres_the_first_sighting_of_a_gap_decides_how_long_to_wait() {
        let mut cursor = Cursor { position: 9, gap: None };
        assert!(ids(cursor.take_ready(tail(&[13], Some(100)))).is_empty());
        take_horizon(&mut cursor, 105);
        // 10 arrived, 11 and 12 are still missing: they were taken before the first sighting,
        // so its horizon (105) still bounds their transactions.
        assert_eq!(ids(cursor.take_ready(tail(&[10, 13], Some(104)))), [10]);
        assert!(!cursor.needs_horizon(), "the same gap, still bounded by its horizon");
        assert_eq!(ids(cursor.take_ready(tail(&[13], Some(105)))), [13]);
    }

    #[test]
    fn on_sqlite_ids_become_visible_in_order_so_a_gap_is_a_rollback() {
        let mut cursor = Cursor { position: 9, gap: None };
        assert_eq!(ids(cursor.take_ready(tail(&[11, 12], None))), [11, 12]);
        assert_eq!(cursor.position, 12);
    }
}
