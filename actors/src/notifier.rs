//! The notifier: fans published events out to live sessions by topic.
//!
//! The server's outbox tailer publishes every committed event here, in sequence order, exactly
//! once per process. The notifier keeps an index of the connected sessions by topic — their
//! user, the resources they subscribed to, all availability changes — and puts each event in
//! the queue of every session it is for, at most once per session.
//!
//! Invariants:
//! - Each session's queue receives events in increasing `seq` order, and every event published
//!   after the session connected whose [`Audience`] its [`Interests`] admit.
//! - The notifier never waits for a session: queues are bounded and filled with `try_send`. A
//!   session whose queue is full is dropped at once (told [`Dismissal::SlowConsumer`]), so one
//!   client that does not read never delays the others.
//! - No I/O and no SQL here: events arrive decoded, with their wire text ready to send.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use actix::prelude::*;
use tokio::sync::{mpsc, oneshot};

use crate::resource::{ResourceId, UserId};

pub type SessionId = u64;

/// Who an event is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Audience {
    /// The user it concerns (a reservation's owner): all of that user's sessions receive it.
    pub user: Option<UserId>,
    /// The resource it concerns: sessions subscribed to that resource receive it.
    pub resource: Option<ResourceId>,
    /// Every session receives it.
    pub everyone: bool,
    /// It changes availability: sessions subscribed to all availability changes receive it.
    pub availability: bool,
}

/// What one session listens to: always its user's events and broadcasts, plus its
/// subscriptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interests {
    pub user: UserId,
    pub resources: BTreeSet<ResourceId>,
    pub availability: bool,
}

impl Interests {
    /// The one rule of who receives what, for live delivery and for replay alike.
    pub fn admits(&self, audience: &Audience) -> bool {
        audience.everyone
            || audience.user == Some(self.user)
            || audience.resource.is_some_and(|r| self.resources.contains(&r))
            || (audience.availability && self.availability)
    }
}

/// A committed event, ready to send.
#[derive(Debug, Clone)]
pub struct Event {
    /// The global sequence number (the outbox id).
    pub seq: i64,
    pub audience: Audience,
    /// The JSON text frame, shared by every session that receives it.
    pub frame: Arc<str>,
    /// The frame for the sessions of `audience.user`, when it carries fields only that user may
    /// read (a rejection's reason); `None` when everyone gets `frame`.
    pub owner_frame: Option<Arc<str>>,
}

impl Event {
    /// The frame the session of `user` is sent.
    pub fn frame_for(&self, user: UserId) -> &Arc<str> {
        match &self.owner_frame {
            Some(frame) if self.audience.user == Some(user) => frame,
            _ => &self.frame,
        }
    }
}

/// Why the notifier let go of a session; the session closes its socket with this reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dismissal {
    /// Its queue was full: the client does not read fast enough.
    SlowConsumer,
    /// The server is stopping.
    Shutdown,
}

/// Registers a session. Events published after this message is handled go to `queue`.
#[derive(Message)]
#[rtype(result = "Connected")]
pub struct Connect {
    pub interests: Interests,
    pub queue: mpsc::Sender<Event>,
    pub dismiss: oneshot::Sender<Dismissal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connected {
    pub id: SessionId,
    /// The last sequence number published before the session was registered: older events
    /// must be replayed from the outbox, newer ones arrive in the queue.
    pub published: i64,
}

/// Changes a session's subscriptions; answers the subscriptions in force afterwards.
#[derive(Message)]
#[rtype(result = "Option<Interests>")]
pub struct Subscribe {
    pub id: SessionId,
    pub change: SubscriptionChange,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionChange {
    Add {
        resources: Vec<ResourceId>,
        availability: bool,
    },
    Remove {
        resources: Vec<ResourceId>,
        availability: bool,
    },
}

/// The session has ended.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnect {
    pub id: SessionId,
}

/// Committed events, in increasing `seq` order.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Publish(pub Vec<Event>);

/// Dismisses every session (the server is stopping).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Shutdown;

struct Session {
    interests: Interests,
    queue: mpsc::Sender<Event>,
    dismiss: Option<oneshot::Sender<Dismissal>>,
}

/// The notifier actor. Create it with the last sequence number already in the outbox when the
/// process started, so that replays know where live delivery begins.
pub struct Notifier {
    published: i64,
    next_id: SessionId,
    sessions: HashMap<SessionId, Session>,
    by_user: HashMap<UserId, HashSet<SessionId>>,
    by_resource: HashMap<ResourceId, HashSet<SessionId>>,
    availability: HashSet<SessionId>,
    /// Most resources one session may subscribe to, to bound the index.
    max_subscriptions: usize,
}

impl Notifier {
    pub fn new(published: i64, max_subscriptions: usize) -> Notifier {
        Notifier {
            published,
            next_id: 0,
            sessions: HashMap::new(),
            by_user: HashMap::new(),
            by_resource: HashMap::new(),
            availability: HashSet::new(),
            max_subscriptions,
        }
    }

    fn index(&mut self, id: SessionId, interests: &Interests) {
        for resource in &interests.resources {
            self.by_resource.entry(*resource).or_default().insert(id);
        }
        if interests.availability {
            self.availability.insert(id);
        }
    }

    fn unindex(&mut self, id: SessionId, interests: &Interests) {
        for resource in &interests.resources {
            remove_from(&mut self.by_resource, *resource, id);
        }
        self.availability.remove(&id);
    }

    fn remove(&mut self, id: SessionId, dismissal: Option<Dismissal>) {
        let Some(mut session) = self.sessions.remove(&id) else {
            return;
        };
        self.unindex(id, &session.interests);
        remove_from(&mut self.by_user, session.interests.user, id);
        if let (Some(dismissal), Some(dismiss)) = (dismissal, session.dismiss.take()) {
            // The session may already be gone; then there is no one left to tell.
            let _ = dismiss.send(dismissal);
        }
    }

    /// The sessions an event is for, each once.
    fn recipients(&self, audience: &Audience) -> Vec<SessionId> {
        if audience.everyone {
            return self.sessions.keys().copied().collect();
        }
        let mut ids: Vec<SessionId> = audience
            .user
            .and_then(|user| self.by_user.get(&user))
            .into_iter()
            .chain(audience.resource.and_then(|r| self.by_resource.get(&r)))
            .chain(audience.availability.then_some(&self.availability))
            .flatten()
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    fn deliver(&mut self, event: &Event) {
        let mut dropped = Vec::new();
        for id in self.recipients(&event.audience) {
            let Some(session) = self.sessions.get(&id) else {
                continue;
            };
            match session.queue.try_send(event.clone()) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => dropped.push((id, Some(Dismissal::SlowConsumer))),
                Err(mpsc::error::TrySendError::Closed(_)) => dropped.push((id, None)),
            }
        }
        for (id, dismissal) in dropped {
            self.remove(id, dismissal);
        }
    }
}

fn remove_from<K: std::hash::Hash + Eq>(index: &mut HashMap<K, HashSet<SessionId>>, key: K, id: SessionId) {
    if let Some(ids) = index.get_mut(&key) {
        ids.remove(&id);
        if ids.is_empty() {
            index.remove(&key);
        }
    }
}

impl Actor for Notifier {
    type Context = Context<Self>;
}

impl Handler<Connect> for Notifier {
    type Result = MessageResult<Connect>;

    fn handle(&mut self, msg: Connect, _: &mut Context<Self>) -> Self::Result {
        self.next_id += 1;
        let id = self.next_id;
        self.by_user.entry(msg.interests.user).or_default().insert(id);
        self.index(id, &msg.interests);
        self.sessions.insert(
            id,
            Session {
                interests: msg.interests,
                queue: msg.queue,
                dismiss: Some(msg.dismiss),
            },
        );
        MessageResult(Connected {
            id,
            published: self.published,
        })
    }
}

impl Handler<Subscribe> for Notifier {
    type Result = Option<Interests>;

    fn handle(&mut self, msg: Subscribe, _: &mut Context<Self>) -> Self::Result {
        let before = self.sessions.get(&msg.id)?.interests.clone();
        let mut after = before.clone();
        match msg.change {
            SubscriptionChange::Add {
                resources,
                availability,
            } => {
                let room = self.max_subscriptions.saturating_sub(after.resources.len());
                after.resources.extend(resources.into_iter().take(room));
                after.availability |= availability;
            }
            SubscriptionChange::Remove {
                resources,
                availability,
            } => {
                for resource in resources {
                    after.resources.remove(&resource);
                }
                after.availability &= !availability;
            }
        }
        self.unindex(msg.id, &before);
        self.index(msg.id, &after);
        if let Some(session) = self.sessions.get_mut(&msg.id) {
            session.interests = after.clone();
        }
        Some(after)
    }
}

impl Handler<Disconnect> for Notifier {
    type Result = ();

    fn handle(&mut self, msg: Disconnect, _: &mut Context<Self>) {
        self.remove(msg.id, None);
    }
}

impl Handler<Publish> for Notifier {
    type Result = ();

    fn handle(&mut self, msg: Publish, _: &mut Context<Self>) {
        for event in &msg.0 {
            if event.seq <= self.published {
                // Already delivered (a tailer restarted behind its own position).
                continue;
            }
            self.deliver(event);
            self.published = event.seq;
        }
    }
}

impl Handler<Shutdown> for Notifier {
    type Result = ();

    fn handle(&mut self, _: Shutdown, _: &mut Context<Self>) {
        let ids: Vec<SessionId> = self.sessions.keys().copied().collect();
        for id in ids {
            self.remove(id, Some(Dismissal::Shutdown));
        }
    }
}
