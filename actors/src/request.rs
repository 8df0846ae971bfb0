//! Which client request a piece of work belongs to, so that one request can be followed through
//! the logs from the HTTP handler through an actor to the database commit and the event it wrote.
//!
//! The server sets the [`RequestId`] of each request for the request's task
//! ([`RequestId::scope`]); [`Traced`] carries it, with the sender's tracing span, across an
//! actor's mailbox. The id is opaque here: this crate neither makes nor checks it.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use actix::prelude::*;

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The id of the client request being served (opaque, cheap to clone).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(Arc<str>);

impl RequestId {
    pub fn new(id: impl Into<Arc<str>>) -> RequestId {
        RequestId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of the request the current task works for, if any.
    pub fn current() -> Option<RequestId> {
        CURRENT.try_with(RequestId::clone).ok()
    }

    /// Runs `future` as work for request `id` (for no request when `None`).
    pub async fn scope<F: Future>(id: Option<RequestId>, future: F) -> F::Output {
        match id {
            Some(id) => CURRENT.scope(id, future).await,
            None => future.await,
        }
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A message with the context of whoever sent it: their tracing span (so the actor's logs nest
/// under the request's) and their request id (so the actor's writes record it).
pub struct Traced<M> {
    pub message: M,
    pub span: tracing::Span,
    pub request_id: Option<RequestId>,
}

impl<M> Traced<M> {
    /// `message` in the sender's current context.
    pub fn here(message: M) -> Traced<M> {
        Traced {
            message,
            span: tracing::Span::current(),
            request_id: RequestId::current(),
        }
    }
}

impl<M: Message> Message for Traced<M> {
    type Result = M::Result;
}
