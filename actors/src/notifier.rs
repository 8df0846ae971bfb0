//! The notifier: fans published events out to live sessions by topic.
//!
//! The server's outbox tailer publishes every committed event here, in sequence order, exactly
//! once per process. The notifier keeps an index of the connected sessions by topic — their
//! user, the resources they subscribed to, the resource groups they follow, all availability
//! changes — and puts each event in the queue of every session it is for, at most once per
//! session.
//!
//! A group subscription follows the hierarchy: an event carries the groups its resource sits in
//! (its group and every group above it) as the hierarchy stands when the event is published, so
//! a resource moved under a followed group later, or a subgroup re-parented into it, is followed
//! from then on, and one moved out is no longer delivered. The notifier has no I/O: the publisher
//! resolves those groups.
//!
//! Invariants:
//! - Each session's queue receives events in increasing `seq` order, and every event published
//!   after the session connected whose [`Audience`] its [`Interests`] admit.
//! - The notifier never waits for a session: queues are bounded and filled with `try_send`. A
//!   session whose queue is full is dropped at once (told [`Dismissal::SlowConsumer`]), so one
//!   client that does not read never delays the others.
//! - At most `max_sockets_per_user` sessions per user are registered (in this process): a
//!   [`Connect`] over the cap is refused ([`TooManySockets`]), never queued.
//! - A [`Revoke`] dismisses ([`Dismissal::Revoked`]) every session of the user (or of one of its
//!   sign-ins) at once, at the cost of that user's sessions only (they are indexed by user).
//! - After a [`Shutdown`], a session that connects is dismissed ([`Dismissal::Shutdown`]) at
//!   once: a handshake that slipped in while the server stops would otherwise keep its socket,
//!   and the server's stop, open until the shutdown timeout.
//! - No I/O and no SQL here: events arrive decoded, with their wire text ready to send.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use actix::prelude::*;
pub use bytestring::ByteString;
use tokio::sync::{mpsc, oneshot};

use crate::resource::{ResourceId, UserId};

pub type SessionId = u64;
/// A resource group's id.
pub type GroupId = i64;

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
    /// Resource groups: the events of every resource under each (subgroups included), as a
    /// subscriber of those resources receives them.
    pub groups: BTreeSet<GroupId>,
}

impl Interests {
    /// The one rule of who receives what, for live delivery and for replay alike; `groups` are
    /// the groups the event's resource sits in ([`Event::groups`]).
    pub fn admits(&self, audience: &Audience, groups: &[GroupId]) -> bool {
        audience.everyone
            || audience.user == Some(self.user)
            || audience.resource.is_some_and(|r| self.resources.contains(&r))
            || (audience.availability && self.availability)
            || groups.iter().any(|group| self.groups.contains(group))
    }
}

/// A committed event, ready to send.
#[derive(Debug, Clone)]
pub struct Event {
    /// The global sequence number (the outbox id).
    pub seq: i64,
    pub audience: Audience,
    /// The groups `audience.resource` sits in — its group and every group above it — when the
    /// event was published; empty for an ungrouped resource or an event about none.
    pub groups: Arc<[GroupId]>,
    /// The JSON text frame, encoded once and shared by every session that receives it: a
    /// `ByteString` is reference-counted `Bytes`, which the WebSocket writer takes as it is, so
    /// no session copies it.
    pub frame: ByteString,
    /// The frame for the sessions of `audience.user`, when it carries fields only that user may
    /// read (a rejection's reason); `None` when everyone gets `frame`.
    pub owner_frame: Option<ByteString>,
}

impl Event {
    /// The frame the session of `user` is sent.
    pub fn frame_for(&self, user: UserId) -> &ByteString {
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
    /// The sign-in it was opened with was revoked (logout, account disabled, password reset).
    Revoked,
}

/// The id of a sign-in (a login session), which a [`Revoke`] may name.
pub type Login = Arc<str>;

/// Registers a session. Events published after this message is handled go to `queue`.
#[derive(Message)]
#[rtype(result = "Result<Connected, TooManySockets>")]
pub struct Connect {
    pub interests: Interests,
    /// The sign-in the session was authenticated with, if any (an OAuth2 token has none).
    pub login: Option<Login>,
    pub queue: mpsc::Sender<Event>,
    pub dismiss: oneshot::Sender<Dismissal>,
}

/// A [`Connect`] refused: the user already has `limit` sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManySockets {
    pub limit: usize,
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
        groups: Vec<GroupId>,
    },
    Remove {
        resources: Vec<ResourceId>,
        availability: bool,
        groups: Vec<GroupId>,
    },
}

/// The session re-authenticated (same user): revocations of `login` now end it, and those of
/// its former sign-in no longer do.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Reauthenticated {
    pub id: SessionId,
    pub login: Option<Login>,
}

/// Sign-ins were revoked: every session of `user` is dismissed, or only those opened with
/// `login` when it is given.
#[derive(Message, Debug, Clone, PartialEq, Eq)]
#[rtype(result = "()")]
pub struct Revoke {
    pub user: UserId,
    pub login: Option<Login>,
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
    login: Option<Login>,
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
    by_group: HashMap<GroupId, HashSet<SessionId>>,
    availability: HashSet<SessionId>,
    /// Most resources (and, apart, most groups) one session may subscribe to, to bound the
    /// index.
    max_subscriptions: usize,
    /// Most sessions one user may hold.
    max_sockets_per_user: usize,
    /// A [`Shutdown`] was handled: sessions connecting from now on are dismissed at once.
    stopping: bool,
}

impl Notifier {
    pub fn new(published: i64, max_subscriptions: usize, max_sockets_per_user: usize) -> Notifier {
        Notifier {
            published,
            next_id: 0,
            sessions: HashMap::new(),
            by_user: HashMap::new(),
            by_resource: HashMap::new(),
            by_group: HashMap::new(),
            availability: HashSet::new(),
            max_subscriptions,
            max_sockets_per_user,
            stopping: false,
        }
    }

    fn index(&mut self, id: SessionId, interests: &Interests) {
        for resource in &interests.resources {
            self.by_resource.entry(*resource).or_default().insert(id);
        }
        for group in &interests.groups {
            self.by_group.entry(*group).or_default().insert(id);
        }
        if interests.availability {
            self.availability.insert(id);
        }
    }

    fn unindex(&mut self, id: SessionId, interests: &Interests) {
        for resource in &interests.resources {
            remove_from(&mut self.by_resource, *resource, id);
        }
        for group in &interests.groups {
            remove_from(&mut self.by_group, *group, id);
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
    fn recipients(&self, event: &Event) -> Vec<SessionId> {
        let audience = &event.audience;
        if audience.everyone {
            return self.sessions.keys().copied().collect();
        }
        let mut ids: Vec<SessionId> = audience
            .user
            .and_then(|user| self.by_user.get(&user))
            .into_iter()
            .chain(audience.resource.and_then(|r| self.by_resource.get(&r)))
            .chain(audience.availability.then_some(&self.availability))
            .chain(event.groups.iter().filter_map(|group| self.by_group.get(group)))
            .flatten()
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    fn deliver(&mut self, event: &Event) {
        let mut dropped = Vec::new();
        for id in self.recipients(event) {
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
    type Result = Result<Connected, TooManySockets>;

    fn handle(&mut self, msg: Connect, _: &mut Context<Self>) -> Self::Result {
        let held = self.by_user.get(&msg.interests.user).map_or(0, HashSet::len);
        if held >= self.max_sockets_per_user {
            return Err(TooManySockets {
                limit: self.max_sockets_per_user,
            });
        }
        self.next_id += 1;
        let id = self.next_id;
        self.by_user.entry(msg.interests.user).or_default().insert(id);
        self.index(id, &msg.interests);
        self.sessions.insert(
            id,
            Session {
                interests: msg.interests,
                login: msg.login,
                queue: msg.queue,
                dismiss: Some(msg.dismiss),
            },
        );
        if self.stopping {
            self.remove(id, Some(Dismissal::Shutdown));
        }
        Ok(Connected {
            id,
            published: self.published,
        })
    }
}

impl Handler<Reauthenticated> for Notifier {
    type Result = ();

    fn handle(&mut self, msg: Reauthenticated, _: &mut Context<Self>) {
        if let Some(session) = self.sessions.get_mut(&msg.id) {
            session.login = msg.login;
        }
    }
}

impl Handler<Revoke> for Notifier {
    type Result = ();

    fn handle(&mut self, msg: Revoke, _: &mut Context<Self>) {
        let Some(ids) = self.by_user.get(&msg.user) else {
            return;
        };
        let revoked: Vec<SessionId> = ids
            .iter()
            .copied()
            .filter(|id| msg.login.is_none() || self.sessions.get(id).is_some_and(|session| session.login == msg.login))
            .collect();
        for id in revoked {
            self.remove(id, Some(Dismissal::Revoked));
        }
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
                groups,
            } => {
                let room = self.max_subscriptions.saturating_sub(after.resources.len());
                after.resources.extend(resources.into_iter().take(room));
                let room = self.max_subscriptions.saturating_sub(after.groups.len());
                after.groups.extend(groups.into_iter().take(room));
                after.availability |= availability;
            }
            SubscriptionChange::Remove {
                resources,
                availability,
                groups,
            } => {
                for resource in resources {
                    after.resources.remove(&resource);
                }
                for group in groups {
                    after.groups.remove(&group);
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
        self.stopping = true;
        let ids: Vec<SessionId> = self.sessions.keys().copied().collect();
        for id in ids {
            self.remove(id, Some(Dismissal::Shutdown));
        }
    }
}
