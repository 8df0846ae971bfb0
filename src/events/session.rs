//! One WebSocket session: registration with the notifier, replay of missed events, then live
//! events, subscriptions and pings until the client leaves or is dropped.
//!
//! Invariants:
//! - Messages go out in `seq` order with no duplicate: replay covers `(since, published]`
//!   (`published` as the notifier reported it at registration) and the queue holds only later
//!   events; anything at or below the last `seq` sent is skipped all the same. A `since` above
//!   `published` that the outbox did issue (the client comes from a process that had published
//!   further) starts the session there: the queue catches up and skips what the client has.
//! - Every wait on the socket also watches for dismissal, so a client that stopped reading is
//!   closed as soon as the notifier gives up on it, never waited for.
//! - Nothing a client sends can end the session except a close frame or a protocol violation;
//!   malformed messages get an `error` message.
//! - A session lives no longer than its sign-in: it closes ([`CLOSE_SIGNED_OUT`]) when the
//!   notifier reports the sign-in revoked, and when the token's expiry passes on the server's
//!   clock unless an `authenticate` message brought a fresh token of the same user. The token is
//!   verified again *after* registration (the seam with revocations: one revoked before it is
//!   seen by that check, one revoked after it reaches the registered session).

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_ws::{CloseCode, CloseReason, Message, MessageStream};
use chrono::{DateTime, Utc};
use futures::future::LocalBoxFuture;
use reserver_actors::clock::Sleep;
use reserver_actors::notifier::{
    ByteString, Connect, Connected, Disconnect, Dismissal, Event, Interests, Login, Reauthenticated, SessionId,
    Subscribe, SubscriptionChange, TooManySockets,
};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::Events;
use super::outbox;
use super::protocol::{self, CLOSE_SIGNED_OUT, CLOSE_TOO_MANY_SOCKETS, ClientMessage};
use crate::error::ApiError;

/// Largest frame a client may send.
const MAX_CLIENT_FRAME: usize = 16 * 1024;
/// Events read per replay query.
const REPLAY_BATCH: i64 = 500;
/// Why a token could not be verified when the database is away (the cause is logged only).
const CANNOT_CHECK: &str = "the sign-in cannot be checked now; try again";
/// How long a closing session waits for room to send its close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

enum Outgoing {
    /// Shared bytes: an event's frame is encoded once for every session (`notifier::Event`).
    Text(ByteString),
    Ping,
    Pong(actix_web::web::Bytes),
}

/// How a session ends.
enum End {
    /// Send a close frame with this reason.
    Close(CloseReason),
    /// The connection is gone; nothing can be sent.
    Vanished,
}

/// Who a socket serves, as far as the session goes: the route that opens it reads this off the
/// authenticated caller, so live updates know nothing of roles or tokens.
pub struct Caller {
    pub user_id: i64,
    /// The sign-in the token belongs to (`None` for a delegated OAuth2 token): signing out
    /// closes the sockets opened with it.
    pub login: Option<Login>,
    /// Why the caller may not subscribe to resources (they lack `resource:read`); `None` when
    /// they may.
    pub subscribe_denial: Option<String>,
}

/// Who a token authenticates, and until when.
pub struct Grant {
    pub caller: Caller,
    pub expires_at: DateTime<Utc>,
}

/// Authenticates a token presented for a socket: at its start, and in `authenticate` messages.
pub type Verify = Rc<dyn Fn(String) -> LocalBoxFuture<'static, Result<Grant, ApiError>>>;

fn close(code: CloseCode, description: &str) -> End {
    End::Close(CloseReason {
        code,
        description: Some(description.to_owned()),
    })
}

fn signed_out(description: &str) -> End {
    close(CloseCode::Other(CLOSE_SIGNED_OUT), description)
}

/// What a socket was opened with: the caller the route guard authenticated, the token it
/// presented, and how to verify tokens.
pub struct Credentials {
    pub caller: Caller,
    pub token: String,
    pub verify: Verify,
}

/// Registers a session with the notifier (before the handshake answer, so that the client
/// receives every event committed after it is connected) and starts serving it. A user over the
/// socket cap gets the handshake and at once a close frame ([`CLOSE_TOO_MANY_SOCKETS`]).
pub async fn start(
    events: Arc<Events>,
    credentials: Credentials,
    interests: Interests,
    since: Option<i64>,
    ws: actix_ws::Session,
    stream: MessageStream,
) -> Result<(), ApiError> {
    let (queue, queue_rx) = mpsc::channel(events.config.send_queue);
    let (dismiss, dismissed) = oneshot::channel();
    let connected = events
        .notifier
        .send(Connect {
            interests: interests.clone(),
            login: credentials.caller.login.clone(),
            queue,
            dismiss,
        })
        .await
        .map_err(|_| ApiError::Unavailable("live updates are stopping".into()))?;
    let Connected { id, published } = match connected {
        Ok(connected) => connected,
        Err(TooManySockets { limit }) => {
            let reason = format!("too many sockets: this account already has {limit} open (WS_MAX_SOCKETS_PER_USER)");
            actix_web::rt::spawn(refuse(
                ws,
                stream,
                close(CloseCode::Other(CLOSE_TOO_MANY_SOCKETS), &reason),
            ));
            return Ok(());
        }
    };
    // Counted from registration, so the count is right as soon as the handshake is answered.
    events.metrics.active.inc();
    events.metrics.opened.inc();
    let session = Session {
        id,
        last_seq: published,
        last_heard: Instant::now(),
        events,
        caller: credentials.caller,
        verify: credentials.verify,
        // Set by the verification that starts `run`.
        expiry: Box::pin(std::future::pending()),
        interests,
        ws,
        dismissed,
    };
    let stream = stream.max_frame_size(MAX_CLIENT_FRAME);
    actix_web::rt::spawn(session.run(stream, queue_rx, credentials.token, since, published));
    Ok(())
}

/// Closes a socket that was never registered.
async fn refuse(ws: actix_ws::Session, _stream: MessageStream, end: End) {
    if let End::Close(reason) = end {
        let _ = tokio::time::timeout(CLOSE_WAIT, ws.close(Some(reason))).await;
    }
}

struct Session {
    id: SessionId,
    events: Arc<Events>,
    caller: Caller,
    verify: Verify,
    /// Fires when the token the session lives on expires (by the server's clock).
    expiry: Sleep,
    interests: Interests,
    ws: actix_ws::Session,
    dismissed: oneshot::Receiver<Dismissal>,
    /// The `seq` of the last event sent (or skipped as already known to the client).
    last_seq: i64,
    last_heard: Instant,
}

impl Session {
    async fn run(
        mut self,
        mut stream: MessageStream,
        queue: mpsc::Receiver<Event>,
        token: String,
        since: Option<i64>,
        published: i64,
    ) {
        let metrics = self.events.metrics.clone();
        let end = match self.verify_registered(token).await {
            Err(end) => end,
            Ok(()) => match since {
                Some(since) => match self.replay(since, published).await {
                    Ok(()) => self.serve(&mut stream, queue).await,
                    Err(end) => end,
                },
                None => self.serve(&mut stream, queue).await,
            },
        };
        self.events.notifier.do_send(Disconnect { id: self.id });
        metrics.active.dec();
        if let End::Close(reason) = end {
            // A client that does not read may leave no room for the close frame.
            let _ = tokio::time::timeout(CLOSE_WAIT, self.ws.close(Some(reason))).await;
        }
    }

    /// Verifies the token again now that the session is registered, and starts its expiry.
    async fn verify_registered(&mut self, token: String) -> Result<(), End> {
        match (self.verify)(token).await {
            Ok(grant) => {
                self.adopt(grant);
                Ok(())
            }
            Err(ApiError::Unauthorized(_)) => Err(signed_out("sign-in revoked")),
            Err(error) => {
                tracing::warn!(%error, "cannot verify a WebSocket's token");
                Err(close(CloseCode::Error, CANNOT_CHECK))
            }
        }
    }

    /// Lives on `grant` from now on: its caller and its expiry.
    fn adopt(&mut self, grant: Grant) {
        self.expiry = self.events.clock.sleep_until(grant.expires_at);
        self.caller = grant.caller;
    }

    /// `authenticate`: a fresh token of the same user replaces the session's.
    async fn reauthenticate(&mut self, token: String) -> Result<(), End> {
        let grant = match (self.verify)(token).await {
            Ok(grant) if grant.caller.user_id == self.caller.user_id => grant,
            Ok(_) => {
                let refusal = "the token is another user's: a socket belongs to the user who opened it";
                return self.send(protocol::error(self.last_seq, refusal)).await;
            }
            Err(ApiError::Unauthorized(detail)) => {
                let refusal = format!("the token was refused: {detail}");
                return self.send(protocol::error(self.last_seq, &refusal)).await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot verify a WebSocket's token");
                return self.send(protocol::error(self.last_seq, CANNOT_CHECK)).await;
            }
        };
        let expires_at = grant.expires_at;
        self.adopt(grant);
        self.events.notifier.do_send(Reauthenticated {
            id: self.id,
            login: self.caller.login.clone(),
        });
        self.send(protocol::authenticated(self.last_seq, expires_at)).await
    }

    /// Live events, client messages and pings, until the session ends.
    async fn serve(&mut self, stream: &mut MessageStream, mut queue: mpsc::Receiver<Event>) -> End {
        let interval = self.events.config.ping_interval;
        let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        loop {
            let step = tokio::select! {
                biased;
                dismissal = &mut self.dismissed => Err(self.dismissal(dismissal)),
                () = &mut self.expiry => Err(signed_out("token expired: send a fresh token in an authenticate message before it expires, or reconnect")),
                event = queue.recv() => match event {
                    Some(event) => self.deliver_queued(event, &mut queue).await,
                    None => Err(End::Vanished),
                },
                message = stream.recv() => self.on_client(message).await,
                _ = pings.tick() => self.on_tick(interval).await,
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    fn dismissal(&self, dismissal: Result<Dismissal, oneshot::error::RecvError>) -> End {
        match dismissal {
            Ok(Dismissal::SlowConsumer) => {
                self.events.metrics.slow_dropped.inc();
                close(CloseCode::Policy, "slow consumer: messages were not read in time")
            }
            Ok(Dismissal::Revoked) => signed_out("sign-in revoked"),
            Ok(Dismissal::Shutdown) | Err(_) => close(CloseCode::Away, "server shutting down"),
        }
    }

    /// Sends a frame, unless the session is dismissed meanwhile.
    async fn send_frame(&mut self, frame: Outgoing) -> Result<(), End> {
        let sent = tokio::select! {
            biased;
            dismissal = &mut self.dismissed => return Err(self.dismissal(dismissal)),
            sent = async {
                match frame {
                    Outgoing::Text(text) => self.ws.text(text).await,
                    Outgoing::Ping => self.ws.ping(b"").await,
                    Outgoing::Pong(bytes) => self.ws.pong(&bytes).await,
                }
            } => sent,
        };
        sent.map_err(|_| End::Vanished)
    }

    /// Sends a text message and counts it.
    async fn send(&mut self, text: impl Into<ByteString>) -> Result<(), End> {
        self.send_frame(Outgoing::Text(text.into())).await?;
        self.events.metrics.sent.inc();
        Ok(())
    }

    /// Delivers `first` and whatever else is queued already, without a turn of the select
    /// loop between them: the socket's writer takes them as one batch (one write). The queue
    /// stays bounded: this only empties it.
    async fn deliver_queued(&mut self, first: Event, queue: &mut mpsc::Receiver<Event>) -> Result<(), End> {
        self.deliver(first).await?;
        while let Ok(next) = queue.try_recv() {
            self.deliver(next).await?;
        }
        Ok(())
    }

    async fn deliver(&mut self, event: Event) -> Result<(), End> {
        if event.seq <= self.last_seq {
            return Ok(());
        }
        self.last_seq = event.seq;
        let frame = event.frame_for(self.interests.user).clone();
        self.send(frame).await
    }

    /// Sends what the client missed after `since`, up to where live delivery took over.
    async fn replay(&mut self, since: i64, published: i64) -> Result<(), End> {
        if since == published {
            return Ok(());
        }
        if since > published {
            // Ahead of this process but issued: the client resumes here from another process
            // that had published further (this one just started, or its tailer is a moment
            // behind). What the queue brings up to `since` is skipped, as already sent.
            return match outbox::latest(&self.events.db).await {
                Ok(end) if since <= end => {
                    self.last_seq = since;
                    Ok(())
                }
                Ok(_) => self.resync(published, "since is ahead of the server's events").await,
                Err(error) => {
                    tracing::warn!(%error, "cannot read the event outbox for a replay");
                    self.resync(published, "the missed events cannot be read now").await
                }
            };
        }
        if published - since > self.events.config.replay_limit {
            return self.resync(published, "too many events were missed").await;
        }
        match outbox::oldest(&self.events.db).await {
            Ok(oldest) if since + 1 >= oldest.unwrap_or(published + 1) => {}
            Ok(_) => return self.resync(published, "the missed events are no longer kept").await,
            Err(error) => {
                tracing::warn!(%error, "cannot read the event outbox for a replay");
                return self.resync(published, "the missed events cannot be read now").await;
            }
        }
        let mut after = since;
        while after < published {
            let batch = match outbox::range(&self.events.db, after, published, REPLAY_BATCH).await {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::warn!(%error, "cannot read the event outbox for a replay");
                    return self.resync(published, "the missed events cannot be read now").await;
                }
            };
            let Some(last) = batch.last().map(|event| event.id) else {
                break;
            };
            let tree = self.events.hierarchy.tree();
            let frames: Vec<String> = batch
                .iter()
                .filter(|event| {
                    let groups = tree.groups_above(event.audience.resource);
                    self.interests.admits(&event.audience, &groups)
                })
                .map(|event| event.frame_for(self.interests.user))
                .collect();
            for frame in frames {
                self.send(frame).await?;
            }
            after = last;
        }
        self.last_seq = published;
        Ok(())
    }

    async fn resync(&mut self, published: i64, reason: &str) -> Result<(), End> {
        self.last_seq = published;
        self.send(protocol::resync_required(published, reason)).await
    }

    async fn on_client(&mut self, message: Option<Result<Message, actix_ws::ProtocolError>>) -> Result<(), End> {
        self.last_heard = Instant::now();
        match message {
            None => Err(End::Vanished),
            Some(Err(error)) => Err(close(CloseCode::Protocol, &error.to_string())),
            Some(Ok(Message::Close(_))) => Err(close(CloseCode::Normal, "bye")),
            Some(Ok(Message::Ping(bytes))) => self.send_frame(Outgoing::Pong(bytes)).await,
            Some(Ok(Message::Text(text))) => self.on_text(&text).await,
            Some(Ok(Message::Binary(_))) => {
                self.send(protocol::error(
                    self.last_seq,
                    "binary frames are not understood; send JSON text",
                ))
                .await
            }
            Some(Ok(Message::Pong(_) | Message::Continuation(_) | Message::Nop)) => Ok(()),
        }
    }

    async fn on_text(&mut self, text: &str) -> Result<(), End> {
        self.events.metrics.received.inc();
        let message = match ClientMessage::parse(text) {
            Ok(message) => message,
            Err(detail) => return self.send(protocol::error(self.last_seq, &detail)).await,
        };
        let (kind, change) = match message {
            ClientMessage::Ping => return self.send(protocol::control("pong", self.last_seq, json!({}))).await,
            ClientMessage::Authenticate { token } => return self.reauthenticate(token).await,
            ClientMessage::Subscribe {
                resources,
                availability,
                groups,
            } => (
                "subscribed",
                SubscriptionChange::Add {
                    resources,
                    availability,
                    groups,
                },
            ),
            ClientMessage::Unsubscribe {
                resources,
                availability,
                groups,
            } => (
                "unsubscribed",
                SubscriptionChange::Remove {
                    resources,
                    availability,
                    groups,
                },
            ),
        };
        if let Some(denial) = &self.caller.subscribe_denial {
            return self.send(protocol::error(self.last_seq, denial)).await;
        }
        if let SubscriptionChange::Add { groups, .. } = &change
            && let Some(refusal) = self.unknown_group(groups).await
        {
            return self.send(protocol::error(self.last_seq, &refusal)).await;
        }
        let subscribe = Subscribe { id: self.id, change };
        match self.events.notifier.send(subscribe).await {
            Ok(Some(interests)) => self.interests = interests,
            // The notifier let go of this session (dismissed) or is stopping: the next turn of
            // the loop sees why.
            Ok(None) | Err(_) => return Ok(()),
        }
        let answer = protocol::subscriptions(kind, self.last_seq, &self.interests);
        self.send(answer).await
    }

    /// Why following `groups` is refused: one of them does not exist, or cannot be checked now.
    async fn unknown_group(&self, groups: &[i64]) -> Option<String> {
        for &group in groups {
            match self.events.hierarchy.group_exists(group).await {
                Ok(true) => {}
                Ok(false) => return Some(format!("Resource group not found: {group}")),
                Err(error) => {
                    tracing::warn!(%error, "cannot check a resource group for a WebSocket subscription");
                    return Some("the resource group cannot be checked now; try again".into());
                }
            }
        }
        None
    }

    /// Pings the client, or drops it when it has not been heard from for two intervals.
    async fn on_tick(&mut self, interval: Duration) -> Result<(), End> {
        if self.last_heard.elapsed() >= interval * 2 {
            return Err(close(CloseCode::Policy, "no answer to pings"));
        }
        self.send_frame(Outgoing::Ping).await
    }
}
